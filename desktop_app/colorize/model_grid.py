"""The Compare view's grid: the gray original and each model's result side by side, one zoom and
one pan shared by every tile (like the before/after view), the model's name, its plain
description and the time it took under each picture.

The grid only shows tiles and reports clicks (`tile_clicked`, with the model's name); the
comparison controller (model_comparison.py) fills the tiles from workers.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from .comparison_sheet import Tile, wrap_lines

_MARGIN = 12.0
_GAP = 12.0
_ZOOM_STEP = 1.25
_MAX_ZOOM = 32.0  # times the fitted size
_CLICK_SLOP = 4.0


class ModelGrid(QWidget):
    """Public API: set_tiles, update_tile, tiles, set_current, set_original_size, zoom_fit,
    zoom_in, zoom_out, zoom_actual, zoom_factor, zoom_percent, tile_at, focused. Keyboard: arrows
    move between tiles, Enter or Space picks."""

    tile_clicked = Signal(str)  # the model's name
    zoom_changed = Signal(float)  # percent of the photo's own pixels (0: nothing shown)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tiles: list[Tile] = []
        self._pixmaps: list[QPixmap | None] = []
        self._current: str | None = None
        self._original_size: tuple[int, int] | None = None
        self._zoom = 1.0  # 1 = every tile shows the whole photo
        self._center = QPointF(0.5, 0.5)  # the shown part's centre, in relative photo coordinates
        self._press: QPointF | None = None
        self._press_center = QPointF(0.5, 0.5)
        self._dragged = False
        self._hover = -1
        self._focus = -1  # the tile the keyboard is on (arrows move it, Enter or Space picks it)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setAccessibleName("Model comparison")

    # ------------------------------------------------------------------ content

    def set_tiles(self, tiles: list[Tile], keep_view: bool = False) -> None:
        self._tiles = list(tiles)
        self._focus = min(self._focus, len(tiles) - 1)
        self._pixmaps = [QPixmap.fromImage(t.image) if t.image is not None else None for t in tiles]
        if not keep_view:
            self._zoom = 1.0
            self._center = QPointF(0.5, 0.5)
        self._emit_zoom()
        self.update()

    def update_tile(self, index: int, tile: Tile) -> None:
        if not 0 <= index < len(self._tiles):
            return
        self._tiles[index] = tile
        self._pixmaps[index] = QPixmap.fromImage(tile.image) if tile.image is not None else None
        self._emit_zoom()
        self.update()

    def tiles(self) -> list[Tile]:
        return list(self._tiles)

    def focused(self) -> int:
        """The index of the tile the keyboard is on (-1: none yet)."""
        return self._focus

    def set_current(self, model: str | None) -> None:
        """The model the photos are colorized with now: its tile is outlined and marked."""
        self._current = model
        self.update()

    def set_original_size(self, size: tuple[int, int] | None) -> None:
        """The photo's own size, for the zoom percentage (tiles are previews, smaller than the photo)."""
        self._original_size = size
        self._emit_zoom()

    def sizeHint(self) -> QSize:
        return QSize(900, 640)

    # ------------------------------------------------------------------ geometry

    def _aspect(self) -> float:
        if self._original_size and self._original_size[1] > 0:
            return self._original_size[0] / self._original_size[1]
        pix = next((p for p in self._pixmaps if p is not None and not p.isNull()), None)
        return pix.width() / pix.height() if pix is not None and pix.height() else 4 / 3

    def _caption_height(self) -> float:
        title, text = self._fonts()
        return QFontMetricsF(title).height() + 2 * QFontMetricsF(text).height() + 10

    def _fonts(self) -> tuple[QFont, QFont]:
        title = QFont(self.font())
        title.setBold(True)
        text = QFont(self.font())
        text.setPointSizeF(max(7.5, text.pointSizeF() * 0.9))
        return title, text

    def _columns(self, count: int, width: float, height: float) -> int:
        """The column count that gives each photo the most room."""
        aspect, caption = self._aspect(), self._caption_height()
        best, best_scale = 1, -1.0
        for cols in range(1, count + 1):
            rows = math.ceil(count / cols)
            cell_w = (width - (cols - 1) * _GAP) / cols
            cell_h = (height - (rows - 1) * _GAP) / rows - caption
            if cell_w <= 0 or cell_h <= 0:
                continue
            scale = min(cell_w, cell_h * aspect)
            if scale > best_scale + 0.5:
                best, best_scale = cols, scale
        return best

    def cells(self) -> list[tuple[QRectF, QRectF]]:
        """For each tile: its whole cell and the rectangle its picture fills (fitted, centred)."""
        count = len(self._tiles)
        if not count:
            return []
        width, height = self.width() - 2 * _MARGIN, self.height() - 2 * _MARGIN
        cols = self._columns(count, width, height)
        rows = math.ceil(count / cols)
        cell_w = (width - (cols - 1) * _GAP) / cols
        cell_h = (height - (rows - 1) * _GAP) / rows
        caption, aspect = self._caption_height(), self._aspect()
        out = []
        for i in range(count):
            row, col = divmod(i, cols)
            cell = QRectF(_MARGIN + col * (cell_w + _GAP), _MARGIN + row * (cell_h + _GAP), cell_w, cell_h)
            area_h = max(1.0, cell_h - caption)
            w = min(cell_w, area_h * aspect)
            h = w / aspect
            picture = QRectF(cell.left() + (cell_w - w) / 2, cell.top() + (area_h - h) / 2, w, h)
            out.append((cell, picture))
        return out

    def tile_at(self, pos: QPointF) -> int:
        for i, (cell, _) in enumerate(self.cells()):
            if cell.contains(pos):
                return i
        return -1

    def _visible(self) -> QRectF:
        """The shown part of the photo, in relative coordinates (the same in every tile)."""
        span = 1.0 / self._zoom
        cx = min(max(self._center.x(), span / 2), 1 - span / 2)
        cy = min(max(self._center.y(), span / 2), 1 - span / 2)
        return QRectF(cx - span / 2, cy - span / 2, span, span)

    # ------------------------------------------------------------------ zoom and pan

    def zoom_factor(self) -> float:
        return self._zoom

    def zoom_fit(self) -> None:
        self._set_zoom(1.0)

    def zoom_in(self) -> None:
        self._set_zoom(self._zoom * _ZOOM_STEP)

    def zoom_out(self) -> None:
        self._set_zoom(self._zoom / _ZOOM_STEP)

    def zoom_actual(self) -> None:
        """One photo pixel per screen pixel (of the preview the tiles were made from)."""
        cells = self.cells()
        pix = next((p for p in self._pixmaps if p is not None and not p.isNull()), None)
        if not cells or pix is None:
            return
        shown = cells[0][1].width() * self.devicePixelRatioF()
        self._set_zoom(pix.width() / max(1.0, shown))

    def _set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        zoom = min(max(zoom, 1.0), _MAX_ZOOM)
        if anchor is not None:
            self._center = anchor
        if zoom == 1.0:
            self._center = QPointF(0.5, 0.5)
        self._zoom = zoom
        self._center = self._visible().center()
        self._emit_zoom()
        self.update()

    def zoom_percent(self) -> float:
        """Screen pixels per photo pixel, in percent (0 while nothing is shown)."""
        cells = self.cells()
        if not cells or not self._original_size or not any(p is not None for p in self._pixmaps):
            return 0.0
        return 100.0 * cells[0][1].width() * self.devicePixelRatioF() * self._zoom / self._original_size[0]

    def _emit_zoom(self) -> None:
        self.zoom_changed.emit(self.zoom_percent())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._emit_zoom()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps or not self._tiles:
            return
        pos = event.position()
        zoom = min(max(self._zoom * _ZOOM_STEP ** steps, 1.0), _MAX_ZOOM)
        index = self.tile_at(pos)
        if index >= 0:  # keep the photo point under the cursor where it is
            picture = self.cells()[index][1]
            visible = self._visible()
            fx = (pos.x() - picture.left()) / picture.width()
            fy = (pos.y() - picture.top()) / picture.height()
            px, py = visible.left() + fx * visible.width(), visible.top() + fy * visible.height()
            span = 1.0 / zoom
            self._zoom = zoom
            self._center = QPointF(px - fx * span + span / 2, py - fy * span + span / 2)
            self._set_zoom(zoom)
        else:
            self._set_zoom(zoom)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position()
            self._press_center = QPointF(self._visible().center())
            self._dragged = False
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._press is not None:
            delta = pos - self._press
            if abs(delta.x()) + abs(delta.y()) > _CLICK_SLOP:
                self._dragged = True
            if self._dragged and self._zoom > 1.0:
                cells = self.cells()
                picture = cells[0][1] if cells else QRectF(0, 0, 1, 1)
                self._center = QPointF(self._press_center.x() - delta.x() / (picture.width() * self._zoom),
                                       self._press_center.y() - delta.y() / (picture.height() * self._zoom))
                self._center = self._visible().center()
                self.update()
        hover = self.tile_at(pos)
        if hover != self._hover:
            self._hover = hover
            tile = self._tiles[hover] if hover >= 0 else None
            choosable = tile is not None and tile.model is not None and tile.done
            self.setCursor(Qt.CursorShape.PointingHandCursor if choosable else Qt.CursorShape.ArrowCursor)
            self.setToolTip(f"Click to colorize with “{tile.model}”" if choosable else "")
            self.update()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._press is not None:
            clicked = not self._dragged
            self._press = None
            if clicked:
                index = self.tile_at(event.position())
                tile = self._tiles[index] if index >= 0 else None
                if tile is not None and tile.model is not None and tile.done:
                    self.tile_clicked.emit(tile.model)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Arrows move between tiles, Enter or Space picks the model of the tile the focus is on."""
        count = len(self._tiles)
        key = event.key()
        cells = self.cells()
        cols = sum(1 for cell, _ in cells if abs(cell.top() - cells[0][0].top()) < 1) if cells else 1
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -cols, Qt.Key.Key_Down: cols}
        if count and key in steps:
            start = self._focus if self._focus >= 0 else 0
            self._focus = min(max(start + steps[key], 0), count - 1) if self._focus >= 0 else 0
            self.update()
            event.accept()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space) and 0 <= self._focus < count:
            tile = self._tiles[self._focus]
            if tile.model is not None and tile.done:
                self.tile_clicked.emit(tile.model)
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event) -> None:
        self.update()
        super().focusOutEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.zoom_fit()

    def leaveEvent(self, event) -> None:
        self._hover = -1
        self.update()
        super().leaveEvent(event)

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Window))
        title_font, text_font = self._fonts()
        title_m, text_m = QFontMetricsF(title_font), QFontMetricsF(text_font)
        visible = self._visible()
        dim = pal.color(QPalette.ColorRole.PlaceholderText)
        accent = pal.color(QPalette.ColorRole.Highlight)
        for i, (cell, picture) in enumerate(self.cells()):
            tile, pix = self._tiles[i], self._pixmaps[i]
            if pix is not None and not pix.isNull():
                source = QRectF(visible.left() * pix.width(), visible.top() * pix.height(),
                                visible.width() * pix.width(), visible.height() * pix.height())
                p.drawPixmap(picture, pix, source)
            else:
                p.fillRect(picture, pal.color(QPalette.ColorRole.AlternateBase))
                p.setPen(QColor(200, 70, 60) if tile.failed else dim)
                p.setFont(text_font)
                p.drawText(picture.adjusted(12, 12, -12, -12),
                           Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, tile.status or "Waiting…")
            current = tile.model is not None and tile.model == self._current
            if current or (i == self._hover and tile.model is not None and tile.done):
                outline = QColor(accent)
                if not current:
                    outline.setAlpha(110)
                p.setPen(QPen(outline, 3.0 if current else 2.0))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(picture.adjusted(-2, -2, 2, 2))
            if current:
                self._badge(p, picture, "In use", accent, text_font)
            if i == self._focus and self.hasFocus():
                p.setPen(QPen(pal.color(QPalette.ColorRole.WindowText), 1.0, Qt.PenStyle.DashLine))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(cell.adjusted(-4, -4, 4, 4))
            # caption: name (and time) on the first line, the plain description under it
            top = picture.bottom() + 5
            p.setFont(title_font)
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(QRectF(picture.left(), top, picture.width(), title_m.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       title_m.elidedText(tile.title, Qt.TextElideMode.ElideRight, picture.width() * 0.65))
            p.setFont(text_font)
            if tile.image is not None and tile.status:
                p.setPen(QColor(200, 70, 60) if tile.failed else dim)
                p.drawText(QRectF(picture.left(), top, picture.width(), title_m.height()),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, tile.status)
            p.setPen(dim)
            for j, line in enumerate(wrap_lines(text_m, tile.subtitle, picture.width(), 2)):
                p.drawText(QRectF(picture.left(), top + title_m.height() + j * text_m.height(),
                                  picture.width(), text_m.height()),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, line)
        p.end()

    @staticmethod
    def _badge(p: QPainter, picture: QRectF, text: str, color: QColor, font: QFont) -> None:
        metrics = QFontMetricsF(font)
        box = QRectF(picture.left() + 8, picture.top() + 8, metrics.horizontalAdvance(text) + 16,
                     metrics.height() + 6)
        path = QPainterPath()
        path.addRoundedRect(box, box.height() / 2, box.height() / 2)
        p.fillPath(path, color)
        p.setPen(QColor(255, 255, 255))
        p.setFont(font)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
