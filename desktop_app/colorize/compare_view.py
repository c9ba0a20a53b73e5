"""Before/after preview: gray original and colorized result, side by side or split by a slider.

One zoom factor and one pan centre are shared by both halves, so they always show the same part
of the photo. Painting stays cheap for large photos: only the visible part of a pixmap is drawn,
and when zoomed out a pixmap pre-scaled to the current zoom is cached (rebuilt with smooth
filtering shortly after zooming stops) instead of filtering the whole preview on every frame.

With the hint tool on, the left button places and edits color hints instead of panning (presses
outside the photo, the split handle and the middle button still pan, zoom and split); the view
only reports what the person did, in relative photo coordinates, and the tab turns that into
undoable edits. With the tool off it behaves exactly as without hints. While a marker is hovered
or dragged the view says so (`hint_hovered`), and draws the outline of that hint's region once
someone hands it one (`set_hint_outline`; computed elsewhere, off the GUI thread).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import imaging
from . import hint_overlay

if TYPE_CHECKING:
    from ml_core.guidance.hints import Hint

_GAP = 8.0  # between the two panes in side-by-side mode
_PAD = 12.0  # free border around a fitted photo, so it never touches the window edge
_SPLIT_GRAB = 10.0  # how close (px) to the split line a press grabs it
_SMOOTH_DELAY_MS = 140
_ZOOM_STEP = 1.25
_CLICK_SLOP = 4.0  # px a press may wander and still count as a click
_STROKE_SPACING = 4.0  # px between recorded points of a painted stroke
_STROKE_MAX_POINTS = 64  # "a short stroke": longer drags keep their first 64 points


class ViewMode(enum.Enum):
    SIDE_BY_SIDE = "side_by_side"
    SPLIT = "split"


class CompareView(QWidget):
    zoom_changed = Signal(float)  # percent of the photo's own pixels (100 = one photo pixel per screen pixel)
    mode_changed = Signal(object)
    # A click (not a drag) on the photo, as fractions (0..1) of its width and height.
    photo_clicked = Signal(float, float)
    # Hint tool (relative photo coordinates throughout):
    hint_add_requested = Signal(object)  # tuple of (x, y) points: one for a click, more for a stroke
    hint_selection_changed = Signal(int)  # index, -1 for none
    hint_clicked = Signal(int)  # a marker clicked without moving it: offer its colors
    hint_moved = Signal(int, float, float)  # index, new x, y of its first point
    hint_delete_requested = Signal(int)
    hint_menu_requested = Signal(int, QPoint)  # index, global position
    hint_hovered = Signal(int, float, float)  # index (-1: none) and where its first point is (dragged: would be)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Before and after preview")
        self._pix: dict[str, QPixmap] = {}  # "gray", "color", "overlay"
        self._cache: dict[str, tuple[float, QPixmap]] = {}
        self._image_size = QSize()
        self._original_size = QSize()
        self._scale = 1.0
        self._center = QPointF()
        self._fit = True
        self._mode = ViewMode.SIDE_BY_SIDE
        self._split = 0.5
        self._show_overlay = False
        self._show_mask = False  # the Repair panel's "Show mask"
        self._show_original = False  # the Repair panel's "Compare with the original"
        self._overlay_range: tuple[float, float] | None = None
        self._message = ""
        self._busy_text = ""
        self._drag: str | None = None  # "pan" or "split"
        self._last_pos = QPointF()
        self._press_pos = QPointF()
        self._hint_tool = False
        self._hints: tuple["Hint", ...] = ()
        self._selected_hint = -1
        self._hint_drag: tuple[int, float, float] | None = None  # index, x, y while a marker is dragged
        self._stroke: list[tuple[float, float]] = []  # relative points of a stroke being painted
        self._pending: tuple[float, float] | None = None  # a placed hint waiting for its color
        self._hovered = -1  # the marker under the mouse
        self._outline: tuple[int, QPainterPath | None] = (-1, None)  # hint index, its region's outline (0..1 units)
        self._smooth_timer = QTimer(self)
        self._smooth_timer.setSingleShot(True)
        self._smooth_timer.setInterval(_SMOOTH_DELAY_MS)
        self._smooth_timer.timeout.connect(self._rebuild_cache)

    # ------------------------------------------------------------------ content

    def set_images(self, gray: QPixmap, color: QPixmap, overlay: QPixmap | None,
                   original_size: tuple[int, int], keep_view: bool = False,
                   overlay_range: tuple[float, float] | None = None) -> None:
        """Show a new before/after pair; `keep_view` keeps zoom and pan (same photo re-rendered).
        `overlay_range` is the confidence at no tint and at full tint (for the legend)."""
        self._overlay_range = overlay_range
        same_shape = keep_view and gray.size() == self._image_size and not self._image_size.isEmpty()
        self._pix = {"gray": gray, "color": color}
        if overlay is not None:
            self._pix["overlay"] = overlay
        self._cache.clear()
        old_percent = self.zoom_percent()
        self._image_size = gray.size()
        self._original_size = QSize(*original_size)
        self._message = ""
        if not same_shape:
            if keep_view and not self._fit and old_percent > 0:
                self._set_percent(old_percent, keep_center=False)
            else:
                self.zoom_fit()
        self._smooth_timer.start()
        self.update()

    def set_repair_layers(self, original: QPixmap | None, mask: QPixmap | None) -> None:
        """After set_images, when the photo was repaired: `original` is the gray before repair (the
        gray side then shows the repaired one), `mask` what scratches & dust filled."""
        for which, pix in (("original", original), ("mask", mask)):
            if pix is not None and pix.size() == self._image_size:
                self._pix[which] = pix
            else:
                self._pix.pop(which, None)
        self._cache.pop("original", None)
        self._cache.pop("mask", None)
        self._smooth_timer.start()
        self.update()

    def set_repair_view(self, show_mask: bool, show_original: bool) -> None:
        self._show_mask = show_mask
        self._show_original = show_original
        self.update()

    def mask_visible(self) -> bool:
        return self._show_mask and "mask" in self._pix

    def gray_label(self) -> str:
        """What the gray side shows: the repaired photo, unless repair is off or the person asked
        to compare with the original."""
        return "Repaired" if "original" in self._pix and not self._show_original else "Original"

    def _gray_layer(self) -> str:
        return "original" if self._show_original and "original" in self._pix else "gray"

    def clear(self, message: str = "") -> None:
        self._pix.clear()
        self._cache.clear()
        self._image_size = QSize()
        self._message = message
        self._busy_text = ""
        self.update()
        self.zoom_changed.emit(0.0)

    def set_message(self, message: str) -> None:
        """Text shown instead of a picture (no preview yet, or why there is none)."""
        self._message = message
        self.update()

    def set_busy(self, text: str) -> None:
        """A small pill over a stale preview while a newer one is being computed."""
        if text != self._busy_text:
            self._busy_text = text
            self.update()

    @property
    def has_images(self) -> bool:
        return bool(self._pix)

    @property
    def message(self) -> str:
        return self._message

    def pixmap(self, which: str) -> QPixmap | None:
        return self._pix.get(which)

    # ------------------------------------------------------------------ modes

    def mode(self) -> ViewMode:
        return self._mode

    def set_mode(self, mode: ViewMode) -> None:
        if mode == self._mode:
            return
        self._mode = mode
        if self._fit:
            self._apply_fit()
        else:
            self._clamp_center()
        self._cache.clear()
        self._smooth_timer.start()
        self.update()
        self.mode_changed.emit(mode)

    def split_fraction(self) -> float:
        return self._split

    def set_split_fraction(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, fraction))
        self.update()

    def set_overlay_visible(self, visible: bool) -> None:
        self._show_overlay = visible
        self.update()

    def overlay_visible(self) -> bool:
        return self._show_overlay and "overlay" in self._pix

    # ------------------------------------------------------------------ hints

    def set_hint_tool(self, on: bool) -> None:
        """Hint tool on: left clicks place and edit hints, and the markers are shown."""
        if on == self._hint_tool:
            return
        self._hint_tool = on
        self._drag = None
        self._hint_drag = None
        self._hovered = -1
        self._stroke = []
        self.unsetCursor()
        self.update()

    def hint_tool(self) -> bool:
        return self._hint_tool

    def set_hints(self, hints: Sequence["Hint"], selected: int = -1) -> None:
        self._hints = tuple(hints)
        self._selected_hint = selected if 0 <= selected < len(self._hints) else -1
        self._hint_drag = None
        self._hovered = -1  # the next mouse move says again which marker is under it
        self.update()

    def set_hint_outline(self, index: int, outline: Sequence) -> None:
        """The outline of hint `index`'s region: closed (n, 2) polylines in relative photo
        coordinates (ml_core.guidance.hint_outline); index -1 or no lines: none."""
        path = hint_overlay.outline_path(outline) if index >= 0 and len(outline) else None
        self._outline = (index if path is not None else -1, path)
        self.update()

    def hint_outline(self) -> tuple[int, QPainterPath | None]:
        return self._outline

    def hovered_hint(self) -> int:
        """The marker under the mouse, -1 for none."""
        return self._hovered

    def hints(self) -> tuple["Hint", ...]:
        return self._hints

    def selected_hint(self) -> int:
        return self._selected_hint

    def select_hint(self, index: int) -> None:
        index = index if 0 <= index < len(self._hints) else -1
        if index != self._selected_hint:
            self._selected_hint = index
            self.update()
            self.hint_selection_changed.emit(index)

    def set_pending_hint(self, point: tuple[float, float] | None) -> None:
        self._pending = point
        self.update()

    def to_relative(self, pos: QPointF) -> tuple[float, float] | None:
        """Widget point -> (x, y) as fractions of the photo's width and height, or None off the photo.

        Either pane of side-by-side mode maps to the same photo spot; split mode has one pane."""
        if not self._pix:
            return None
        rect = self._image_rect(self._pane_at(pos))
        if not rect.contains(pos):
            return None
        return (pos.x() - rect.left()) / rect.width(), (pos.y() - rect.top()) / rect.height()

    def to_widget(self, x: float, y: float, pane: int = -1) -> QPointF:
        """Relative photo point -> widget point in a pane (default: the colorized one, the last)."""
        rect = self._image_rect(self.panes()[pane])
        return QPointF(rect.left() + x * rect.width(), rect.top() + y * rect.height())

    def _clamped_relative(self, pos: QPointF) -> tuple[float, float]:
        rect = self._image_rect(self._pane_at(pos))
        x = (pos.x() - rect.left()) / max(rect.width(), 1e-9)
        y = (pos.y() - rect.top()) / max(rect.height(), 1e-9)
        return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)

    def _hint_under(self, pos: QPointF) -> int:
        pane = next((i for i, p in enumerate(self.panes()) if p.contains(pos)), 0)
        return hint_overlay.hint_at(self._hints, lambda x, y: self.to_widget(x, y, pane), pos)

    # ------------------------------------------------------------------ zoom and pan

    def zoom_percent(self) -> float:
        if self._image_size.isEmpty() or self._original_size.isEmpty():
            return 0.0
        ratio = self._image_size.width() / self._original_size.width()
        return self._scale * self.devicePixelRatioF() * ratio * 100.0

    def is_fit(self) -> bool:
        return self._fit

    def zoom_fit(self) -> None:
        self._fit = True
        self._apply_fit()
        self.update()

    def zoom_actual(self) -> None:
        """100 %: one pixel of the photo per device pixel (the preview is upscaled past its size)."""
        self._set_percent(100.0, keep_center=True)

    def zoom_in(self) -> None:
        self._zoom_by(_ZOOM_STEP, None)

    def zoom_out(self) -> None:
        self._zoom_by(1 / _ZOOM_STEP, None)

    def center(self) -> QPointF:
        return QPointF(self._center)

    def scale(self) -> float:
        return self._scale

    def _set_percent(self, percent: float, keep_center: bool) -> None:
        if self._image_size.isEmpty():
            return
        ratio = self._image_size.width() / self._original_size.width()
        target = percent / 100.0 / (self.devicePixelRatioF() * ratio)
        self._zoom_by(target / self._scale, None, keep_center=keep_center)

    def _fit_scale(self) -> float:
        if self._image_size.isEmpty():
            return 1.0
        pane = self._pane_size()
        w, h = max(1.0, pane.width() - 2 * _PAD), max(1.0, pane.height() - 2 * _PAD)
        return max(1e-4, min(w / self._image_size.width(), h / self._image_size.height()))

    def _scale_limits(self) -> tuple[float, float]:
        fit = self._fit_scale()
        ratio = self._image_size.width() / max(1, self._original_size.width())
        actual = 1.0 / (self.devicePixelRatioF() * ratio)
        return min(fit, actual) * 0.5, max(actual * 8.0, fit * 2.0)

    def _apply_fit(self) -> None:
        if self._image_size.isEmpty():
            return
        self._scale = self._fit_scale()
        self._center = QPointF(self._image_size.width() / 2, self._image_size.height() / 2)
        self._smooth_timer.start()
        self.zoom_changed.emit(self.zoom_percent())

    def _zoom_by(self, factor: float, anchor: QPointF | None, keep_center: bool = True) -> None:
        """Zoom keeping the photo point under `anchor` (widget coordinates) where it is."""
        if self._image_size.isEmpty():
            return
        lo, hi = self._scale_limits()
        new_scale = min(hi, max(lo, self._scale * factor))
        if anchor is not None:
            pane = self._pane_at(anchor)
            offset = anchor - pane.center()
            point = self._center + offset / self._scale
            self._center = point - offset / new_scale
        elif not keep_center:
            self._center = QPointF(self._image_size.width() / 2, self._image_size.height() / 2)
        self._scale = new_scale
        self._fit = False
        self._clamp_center()
        self._smooth_timer.start()
        self.update()
        self.zoom_changed.emit(self.zoom_percent())

    def _clamp_center(self) -> None:
        """Keep the photo on screen; axes where it fits entirely stay centred."""
        if self._image_size.isEmpty():
            return
        pane = self._pane_size()
        w, h = self._image_size.width(), self._image_size.height()
        x, y = self._center.x(), self._center.y()
        half_w, half_h = pane.width() / 2 / self._scale, pane.height() / 2 / self._scale
        x = w / 2 if w * self._scale <= pane.width() else min(max(x, half_w), w - half_w)
        y = h / 2 if h * self._scale <= pane.height() else min(max(y, half_h), h - half_h)
        self._center = QPointF(x, y)

    # ------------------------------------------------------------------ geometry

    def _pane_size(self) -> QSizeF:
        r = QRectF(self.rect())
        if self._mode == ViewMode.SIDE_BY_SIDE:
            return QSizeF(max(1.0, (r.width() - _GAP) / 2), max(1.0, r.height()))
        return QSizeF(max(1.0, r.width()), max(1.0, r.height()))

    def panes(self) -> list[QRectF]:
        r = QRectF(self.rect())
        if self._mode == ViewMode.SIDE_BY_SIDE:
            w = (r.width() - _GAP) / 2
            return [QRectF(r.left(), r.top(), w, r.height()), QRectF(r.left() + w + _GAP, r.top(), w, r.height())]
        return [r]

    def _pane_at(self, pos: QPointF) -> QRectF:
        panes = self.panes()
        return next((p for p in panes if p.contains(pos)), panes[0])

    def _image_rect(self, pane: QRectF) -> QRectF:
        size = QSizeF(self._image_size) * self._scale
        top_left = pane.center() - self._center * self._scale
        return QRectF(top_left, size)

    def _visible_image(self, pane: QRectF) -> QRectF:
        return pane.intersected(self._image_rect(pane))

    def split_x(self) -> float:
        """The divider sits at a fraction of the visible photo, so it is always on the photo."""
        visible = self._visible_image(self.panes()[0])
        return visible.left() + self._split * visible.width()

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self._background())
        if not self._pix:
            self._paint_message(p)
            return
        if self._mode == ViewMode.SIDE_BY_SIDE:
            left, right = self.panes()
            self._paint_gray(p, left, self._image_rect(left))
            self._paint_color(p, right, self._image_rect(right))
            self._paint_hint_layer(p)
            self._paint_label(p, self.gray_label(), self._visible_image(left), Qt.AlignmentFlag.AlignLeft)
            self._paint_label(p, "Colorized", self._visible_image(right), Qt.AlignmentFlag.AlignLeft)
        else:
            pane = self.panes()[0]
            image_rect = self._image_rect(pane)
            x = self.split_x()
            self._paint_gray(p, QRectF(pane.left(), pane.top(), x - pane.left(), pane.height()), image_rect)
            self._paint_color(p, QRectF(x, pane.top(), pane.right() - x, pane.height()), image_rect)
            visible = self._visible_image(pane)
            self._paint_hint_layer(p)
            self._paint_split_handle(p, x, visible)
            self._paint_label(p, self.gray_label(), visible, Qt.AlignmentFlag.AlignLeft)
            self._paint_label(p, "Colorized", visible, Qt.AlignmentFlag.AlignRight)
        if self.overlay_visible():
            self._paint_legend(p)
        if self._busy_text:
            self._paint_pill(p, self._busy_text)

    def legend_text(self) -> str:
        """What the overlay's legend says under its color ramp (also read by tests)."""
        if self._overlay_range is None:
            return "Tinted where the model hesitates over the color"
        sure, unsure = self._overlay_range
        return f"Scaled to this photo: clear at {sure:.0%} sure and above, full tint at {unsure:.0%} and below"

    def _paint_legend(self, p: QPainter) -> None:
        """Bottom left of the colorized pane: the ramp from sure to hesitant, and how it is scaled."""
        pane = self.panes()[-1]
        visible = self._visible_image(pane)
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.85))
        metrics = QFontMetrics(font)
        note = metrics.elidedText(self.legend_text(), Qt.TextElideMode.ElideRight,
                                  int(max(120.0, visible.width() - 44)))
        line = metrics.height()
        box = QRectF(visible.left() + 8, visible.bottom() - 8 - (line * 2 + 24),
                     max(metrics.horizontalAdvance(note) + 28, 200), line * 2 + 24)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 170))
        p.drawRoundedRect(box, 8, 8)
        p.setFont(font)
        inner = box.adjusted(12, 6, -12, -6)
        p.setPen(QColor(255, 255, 255))
        p.drawText(QRectF(inner.left(), inner.top(), 60, line), Qt.AlignmentFlag.AlignLeft, "Sure")
        p.drawText(QRectF(inner.right() - 80, inner.top(), 80, line), Qt.AlignmentFlag.AlignRight, "Hesitant")
        label_w = metrics.horizontalAdvance("Sure") + 10
        bar = QRectF(inner.left() + label_w, inner.top() + line / 2 - 4,
                     inner.width() - label_w - metrics.horizontalAdvance("Hesitant") - 10, 8)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        ramp = imaging.overlay_colors()
        base = QColor(128, 128, 128)  # the ramp over a mid gray, as it looks over a photo
        for stop in range(9):
            t = stop / 8
            tint = QColor.fromRgba(ramp[round(t * 255)])
            a = tint.alphaF()
            gradient.setColorAt(t, QColor(round(base.red() * (1 - a) + tint.red() * a),
                                          round(base.green() * (1 - a) + tint.green() * a),
                                          round(base.blue() * (1 - a) + tint.blue() * a)))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(gradient)
        p.drawRoundedRect(bar, 3, 3)
        p.setPen(QColor(225, 225, 230))
        p.drawText(QRectF(inner.left(), inner.top() + line + 6, inner.width(), line), Qt.AlignmentFlag.AlignLeft, note)
        p.restore()

    def _paint_hint_layer(self, p: QPainter) -> None:
        """Markers on every pane (both halves of side-by-side), only while the hint tool is on."""
        if not self._hint_tool:
            return
        for index, pane in enumerate(self.panes()):
            def to_widget(x: float, y: float, i: int = index) -> QPointF:
                return self.to_widget(x, y, i)
            clip = self._visible_image(pane)
            if self._outline[1] is not None:
                hint_overlay.paint_outline(p, clip, self._outline[1], self._image_rect(pane))
            hint_overlay.paint_hints(p, clip, self._hints, to_widget, self._selected_hint, self._hint_drag)
            if self._stroke:
                hint_overlay.paint_stroke_preview(p, clip, [to_widget(x, y) for x, y in self._stroke])
            if self._pending is not None:
                hint_overlay.paint_pending(p, clip, to_widget(*self._pending))

    def _background(self) -> QColor:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        return QColor(30, 31, 34) if dark else QColor(226, 227, 230)

    def _paint_gray(self, p: QPainter, clip: QRectF, image_rect: QRectF) -> None:
        self._paint_layer(p, self._gray_layer(), clip, image_rect)
        if self.mask_visible():
            self._paint_layer(p, "mask", clip, image_rect)

    def _paint_color(self, p: QPainter, clip: QRectF, image_rect: QRectF) -> None:
        self._paint_layer(p, "color", clip, image_rect)
        if self.overlay_visible():
            self._paint_layer(p, "overlay", clip, image_rect)

    def _paint_layer(self, p: QPainter, which: str, clip: QRectF, image_rect: QRectF) -> None:
        """Draw only the visible part of `which`, from the pre-scaled cache when there is one."""
        visible = clip.intersected(image_rect)
        if visible.isEmpty():
            return
        source = QRectF((visible.topLeft() - image_rect.topLeft()) / self._scale, visible.size() / self._scale)
        pix, factor = self._source_pixmap(which)
        if factor != 1.0:
            source = QRectF(source.topLeft() * factor, source.size() * factor)
        device_scale = self._scale * self.devicePixelRatioF() / factor
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, device_scale < 3.0)
        p.drawPixmap(visible, pix, source)

    def _source_pixmap(self, which: str) -> tuple[QPixmap, float]:
        """The pixmap to draw from and its size relative to the preview image."""
        full = self._pix[which]
        target = self._scale * self.devicePixelRatioF()
        if target >= 1.0:
            return full, 1.0
        cached = self._cache.get(which)
        if cached is not None and abs(cached[0] - target) < 1e-6:
            return cached[1], target
        if not self._smooth_timer.isActive():
            self._smooth_timer.start()
        return full, 1.0

    def _rebuild_cache(self) -> None:
        target = self._scale * self.devicePixelRatioF()
        self._cache.clear()
        if target < 1.0 and not self._image_size.isEmpty():
            size = QSize(max(1, round(self._image_size.width() * target)),
                         max(1, round(self._image_size.height() * target)))
            for which, pix in self._pix.items():
                self._cache[which] = (target, pix.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                          Qt.TransformationMode.SmoothTransformation))
        self.update()

    def _paint_split_handle(self, p: QPainter, x: float, pane: QRectF) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(QColor(0, 0, 0, 90), 4))
        p.drawLine(QPointF(x, pane.top()), QPointF(x, pane.bottom()))
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(x, pane.top()), QPointF(x, pane.bottom()))
        c = QPointF(x, pane.center().y())
        p.setBrush(QColor(255, 255, 255))
        p.setPen(QPen(QColor(0, 0, 0, 110), 1))
        p.drawEllipse(c, 15, 15)
        arrows = QPainterPath()
        for sign in (-1, 1):
            arrows.moveTo(c.x() + sign * 4, c.y() - 5)
            arrows.lineTo(c.x() + sign * 9, c.y())
            arrows.lineTo(c.x() + sign * 4, c.y() + 5)
            arrows.closeSubpath()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(40, 40, 44))
        p.drawPath(arrows)

    def _paint_label(self, p: QPainter, text: str, pane: QRectF, align: Qt.AlignmentFlag) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF() * 0.92))
        font.setBold(True)
        metrics = QFontMetrics(font)
        w, h = metrics.horizontalAdvance(text) + 16, metrics.height() + 6
        x = pane.left() + 8 if align == Qt.AlignmentFlag.AlignLeft else pane.right() - 8 - w
        rect = QRectF(x, pane.top() + 8, w, h)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(0, 0, 0, 140))
        p.drawRoundedRect(rect, h / 2, h / 2)
        p.setFont(font)
        p.setPen(QColor(255, 255, 255))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_pill(self, p: QPainter, text: str) -> None:
        metrics = QFontMetrics(self.font())
        w, h = metrics.horizontalAdvance(text) + 24, metrics.height() + 10
        rect = QRectF((self.width() - w) / 2, self.height() - h - 14, w, h)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 20, 24, 190))
        p.drawRoundedRect(rect, h / 2, h / 2)
        p.setPen(QColor(255, 255, 255))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_message(self, p: QPainter) -> None:
        if not self._message:
            return
        p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        rect = QRectF(self.rect()).adjusted(40, 40, -40, -40)
        p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self._message)

    # ------------------------------------------------------------------ interaction

    def resizeEvent(self, event) -> None:
        if self._fit:
            self._apply_fit()
        else:
            self._clamp_center()
        super().resizeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self._pix:
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self._zoom_by(_ZOOM_STEP ** steps, event.position())
        event.accept()

    def _near_split(self, pos: QPointF) -> bool:
        return self._mode == ViewMode.SPLIT and bool(self._pix) and abs(pos.x() - self.split_x()) <= _SPLIT_GRAB

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._pix:  # pan, whatever the tool
            self._drag = "pan"
            self._last_pos = self._press_pos = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton or not self._pix:
            return super().mousePressEvent(event)
        if self._hint_tool and not self._near_split(event.position()) and self._hint_press(event.position()):
            event.accept()
            return
        self._drag = "split" if self._near_split(event.position()) else "pan"
        self._last_pos = event.position()
        self._press_pos = event.position()
        if self._drag == "split":
            self._move_split(event.position())
        else:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._drag in ("hint", "stroke"):
            self._hint_move(pos)
        elif self._hint_tool and self._drag is None and self._pix and not self._near_split(pos):
            self._hint_hover(pos)
        elif self._drag == "split":
            self._move_split(pos)
        elif self._drag == "pan":
            delta = pos - self._last_pos
            self._last_pos = pos
            before = QPointF(self._center)
            self._center = self._center - delta / self._scale
            self._clamp_center()
            if self._center != before:  # a drag on a fitted photo moves nothing: it stays "fit"
                self._fit = False
            self.update()
        elif self._near_split(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self._pix:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag in ("hint", "stroke"):
            self._hint_release(event.position())
            event.accept()
            return
        if self._drag is not None:
            if self._drag == "pan" and (event.position() - self._press_pos).manhattanLength() < 4:
                self._emit_click(event.position())
            self._drag = None
            self.setCursor(Qt.CursorShape.SplitHCursor if self._near_split(event.position())
                           else Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-click toggles between fitting the window and 100 % at the clicked point."""
        if not self._pix or self._near_split(event.position()):
            return
        if self._hint_tool:  # a quick second click is another click, not a zoom
            return self.mousePressEvent(event)
        if self._fit:
            pane = self._pane_at(event.position())
            point = (event.position() - self._image_rect(pane).topLeft()) / self._scale
            self._set_percent(100.0, keep_center=True)
            self._center = point
            self._clamp_center()
            self.update()
        else:
            self.zoom_fit()

    # ------------------------------------------------------------------ hint tool

    def _hint_press(self, pos: QPointF) -> bool:
        """Grab a marker, or start a hint on the photo; False leaves the press to panning."""
        index = self._hint_under(pos)
        self._press_pos = self._last_pos = pos
        if index >= 0:
            self.select_hint(index)
            hint = self._hints[index]
            self._hint_drag = (index, hint.x, hint.y)
            self._drag = "hint"
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return True
        point = self.to_relative(pos)
        if point is None:
            return False
        self.select_hint(-1)
        self._stroke = [point]
        self._drag = "stroke"
        return True

    def _hint_move(self, pos: QPointF) -> None:
        if self._drag == "hint" and self._hint_drag is not None:
            index, _, _ = self._hint_drag
            hint = self._hints[index]
            dx, dy = self._delta_relative(pos)
            self._hint_drag = (index, min(max(hint.x + dx, 0.0), 1.0), min(max(hint.y + dy, 0.0), 1.0))
            self.hint_hovered.emit(*self._hint_drag)
        elif self._drag == "stroke" and len(self._stroke) < _STROKE_MAX_POINTS:
            if (pos - self._last_pos).manhattanLength() >= _STROKE_SPACING:
                self._stroke.append(self._clamped_relative(pos))
                self._last_pos = pos
        self.update()

    def _delta_relative(self, pos: QPointF) -> tuple[float, float]:
        rect = self._image_rect(self._pane_at(self._press_pos))
        d = pos - self._press_pos
        return d.x() / max(rect.width(), 1e-9), d.y() / max(rect.height(), 1e-9)

    def _hint_release(self, pos: QPointF) -> None:
        moved = (pos - self._press_pos).manhattanLength() >= _CLICK_SLOP
        if self._drag == "hint" and self._hint_drag is not None:
            index, x, y = self._hint_drag
            if moved:
                self.hint_moved.emit(index, x, y)  # the tab's edit replaces the hints; the drag ends there
            else:
                self._hint_drag = None
                self.hint_clicked.emit(index)
        elif self._drag == "stroke":
            stroke = self._stroke if moved and len(self._stroke) > 1 else self._stroke[:1]
            self._stroke = []
            if stroke:
                self.hint_add_requested.emit(tuple(stroke))
        self._drag = None
        self._hint_drag = None
        self._hint_hover(pos)
        self.update()

    def _hint_hover(self, pos: QPointF) -> None:
        index = self._hint_under(pos)
        self._set_hovered(index)
        if index >= 0:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        elif self.to_relative(pos) is not None:
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor)

    def _set_hovered(self, index: int) -> None:
        if index != self._hovered:
            self._hovered = index
            hint = self._hints[index] if index >= 0 else None
            self.hint_hovered.emit(index, hint.x if hint else 0.0, hint.y if hint else 0.0)

    def leaveEvent(self, event: QEvent) -> None:
        if self._drag is None:
            self._set_hovered(-1)
        super().leaveEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self._hint_tool and self._pix:
            index = self._hint_under(QPointF(event.pos()))
            if index >= 0:
                self.select_hint(index)
                self.hint_menu_requested.emit(index, event.globalPos())
                event.accept()
                return
        super().contextMenuEvent(event)

    def _deletes_hint(self, event: QKeyEvent) -> bool:
        return (self._hint_tool and self._selected_hint >= 0
                and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
                and event.modifiers() == Qt.KeyboardModifier.NoModifier)

    def event(self, event: QEvent) -> bool:
        # Delete is also "remove photo from the queue": with a hint selected it means the hint.
        if event.type() == QEvent.Type.ShortcutOverride and self._deletes_hint(event):  # type: ignore[arg-type]
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._deletes_hint(event):
            self.hint_delete_requested.emit(self._selected_hint)
            event.accept()
            return
        super().keyPressEvent(event)

    def _emit_click(self, pos: QPointF) -> None:
        rect = self._image_rect(self._pane_at(pos))
        if rect.contains(pos):
            self.photo_clicked.emit((pos.x() - rect.left()) / rect.width(), (pos.y() - rect.top()) / rect.height())

    def _move_split(self, pos: QPointF) -> None:
        visible = self._visible_image(self.panes()[0])
        self.set_split_fraction((pos.x() - visible.left()) / max(1.0, visible.width()))

    def sizeHint(self) -> QSize:
        return QSize(900, 600)
