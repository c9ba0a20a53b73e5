"""The photo queue: one item per dropped photo, shown as a filmstrip with a state badge each.

The model holds everything the tab knows about a photo (state, error reason, thumbnail, last
preview), so the filmstrip, the preview and the export all read the same truth.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from .. import resources

if TYPE_CHECKING:
    from ml_core.guidance.hints import Hint
    from ml_core.guidance.reference import ReferencePalette

ItemRole = Qt.ItemDataRole.UserRole + 1
_ids = itertools.count(1)


class ItemState(enum.Enum):
    WAITING = "waiting"
    WORKING = "working"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return {"waiting": "Waiting", "working": "Colorizing…", "done": "Done", "failed": "Failed"}[self.value]


@dataclass(eq=False)
class Preview:
    """The last finished render of an item, as pixmaps (GUI thread only)."""

    color: QPixmap
    gray: QPixmap
    overlay: QPixmap | None
    original_size: tuple[int, int]
    key: tuple  # the render settings it was made with
    seconds: float = 0.0
    overlay_range: tuple[float, float] | None = None  # for the overlay's legend
    original_gray: QPixmap | None = None  # repair on: the photo as it was (`gray` is the repaired one)
    mask: QPixmap | None = None  # repair on: what scratches & dust filled, a red see-through layer
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, "repair" among them


@dataclass(eq=False)
class QueueItem:
    path: Path
    state: ItemState = ItemState.WAITING
    error: str | None = None
    thumb: QPixmap | None = None
    preview: Preview | None = None
    id: int = field(default_factory=lambda: next(_ids))
    # How the person steers this photo's colors; changed only through hints.HintEditor (undoable)
    # and the reference panel. Kept per photo so the export renders exactly what was steered.
    hints: tuple["Hint", ...] = ()
    reference_path: Path | None = None
    reference: "ReferencePalette | None" = None
    reference_strength: float = 1.0

    @property
    def colorized(self) -> bool:
        """Has a colorized preview: done, or being re-rendered after a settings change (it can
        still be exported, which always renders afresh at full resolution)."""
        return self.state == ItemState.DONE or (self.state == ItemState.WORKING and self.preview is not None)

    @property
    def guided(self) -> bool:
        """Hints or a reference photo: the filmstrip marks such photos."""
        return bool(self.hints) or self.reference is not None

    def guidance_key(self) -> tuple:
        """What of the steering a preview depends on (part of the render key)."""
        ref = (str(self.reference_path), round(self.reference_strength, 3)) if self.reference is not None else None
        return (self.hints, ref)

    @property
    def name(self) -> str:
        return self.path.name

    def tooltip(self) -> str:
        text = f"{self.path}\n{self.state.label}"
        if self.preview is not None:
            w, h = self.preview.original_size
            text += f" · {w}×{h}"
        if self.hints:
            text += f"\n{len(self.hints)} color hint{'s' if len(self.hints) != 1 else ''}"
        if self.reference_path is not None and self.reference is not None:
            text += f"\nReference: {self.reference_path.name} ({self.reference_strength:.0%})"
        if self.error:
            text += f"\n{self.error}"
        return text


class QueueModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[QueueItem] = []
        self._by_id: dict[int, QueueItem] = {}  # lookups stay O(1) for folders of thousands
        self._by_path: dict[Path, QueueItem] = {}

    # Qt model API -------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.tooltip()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{item.name}: {item.state.label}" + (f": {item.error}" if item.error else "")
        if role == ItemRole:
            return item
        return None

    # Queue API ------------------------------------------------------------------------------
    @property
    def items(self) -> list[QueueItem]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, items: list[QueueItem]) -> None:
        if not items:
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(items) - 1)
        self._items.extend(items)
        for item in items:
            self._by_id[item.id] = item
            self._by_path[item.path] = item
        self.endInsertRows()

    def remove(self, item_ids: set[int]) -> None:
        for row in reversed(range(len(self._items))):
            item = self._items[row]
            if item.id in item_ids:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._items[row]
                self._by_id.pop(item.id, None)
                self._by_path.pop(item.path, None)
                self.endRemoveRows()

    def find(self, item_id: int) -> QueueItem | None:
        return self._by_id.get(item_id)

    def find_path(self, path: Path) -> QueueItem | None:
        return self._by_path.get(path)

    def row_of(self, item_id: int) -> int:
        return next((r for r, i in enumerate(self._items) if i.id == item_id), -1)

    def changed(self, item: QueueItem) -> None:
        row = self.row_of(item.id)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index)

    def counts(self) -> dict[ItemState, int]:
        out = {s: 0 for s in ItemState}
        for item in self._items:
            out[item.state] += 1
        return out


_CELL = QSize(136, 132)
_THUMB = QSize(120, 90)
_STATE_COLORS = {
    ItemState.WAITING: QColor(128, 128, 136),
    ItemState.WORKING: QColor(52, 132, 228),
    ItemState.DONE: QColor(46, 164, 79),
    ItemState.FAILED: QColor(214, 57, 57),
}


class FilmstripDelegate(QStyledItemDelegate):
    """Thumbnail, name and a state badge; failed items get a red frame (reason in the tooltip)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.spin_phase = 0  # advanced by the view's timer while something is working

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return _CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        item: QueueItem | None = index.data(ItemRole)
        if item is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = option.palette
        cell = QRectF(option.rect).adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(pal.color(QPalette.ColorRole.Highlight).lighter(100))
            painter.drawRoundedRect(cell, 8, 8)
        thumb_rect = QRectF(cell.center().x() - _THUMB.width() / 2, cell.top() + 6, _THUMB.width(), _THUMB.height())
        self._paint_thumb(painter, item, thumb_rect, pal)
        if item.state == ItemState.FAILED:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(_STATE_COLORS[ItemState.FAILED], 2))
            painter.drawRoundedRect(thumb_rect.adjusted(1, 1, -1, -1), 4, 4)
        self._paint_badge(painter, item.state, QRectF(thumb_rect.right() - 24, thumb_rect.top() + 4, 20, 20))
        if item.guided:
            self._paint_guided(painter, QRectF(thumb_rect.left() + 4, thumb_rect.bottom() - 20, 16, 16))
        text_rect = QRect(int(cell.left()) + 4, int(thumb_rect.bottom()) + 4, int(cell.width()) - 8, 20)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(pal.color(role))
        metrics = QFontMetrics(option.font)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(item.name, Qt.TextElideMode.ElideMiddle, text_rect.width()))
        painter.restore()

    def _paint_thumb(self, painter: QPainter, item: QueueItem, rect: QRectF, pal: QPalette) -> None:
        path = QPainterPath()
        path.addRoundedRect(rect, 4, 4)
        painter.fillPath(path, pal.color(QPalette.ColorRole.Base).darker(108))
        if item.thumb is not None and not item.thumb.isNull():
            pix = item.thumb
            dpr = pix.devicePixelRatio() or 1.0
            size = QSize(int(pix.width() / dpr), int(pix.height() / dpr)).scaled(
                rect.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF(0, 0, size.width(), size.height())
            target.moveCenter(rect.center())
            painter.save()
            painter.setClipPath(path)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(target, pix, QRectF(pix.rect()))
            painter.restore()
        else:
            icon = resources.file_icon(failed=item.state == ItemState.FAILED)
            side = 36
            icon.paint(painter, QRect(int(rect.center().x() - side / 2), int(rect.center().y() - side / 2), side, side))

    def _paint_guided(self, painter: QPainter, rect: QRectF) -> None:
        """A small three-color dot: this photo has hints or a reference photo of its own."""
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
        painter.setBrush(QColor(30, 30, 34, 200))
        painter.drawEllipse(rect)
        inner = rect.adjusted(3.5, 3.5, -3.5, -3.5)
        for i, color in enumerate((QColor(226, 74, 60), QColor(60, 170, 90), QColor(60, 120, 226))):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawPie(inner, int((90 + i * 120) * 16), 120 * 16)

    def _paint_badge(self, painter: QPainter, state: ItemState, rect: QRectF) -> None:
        color = _STATE_COLORS[state]
        painter.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
        painter.setBrush(color)
        painter.drawEllipse(rect)
        pen = QPen(QColor("white"), 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        c = rect.center()
        if state == ItemState.DONE:
            path = QPainterPath()
            path.moveTo(c.x() - 4.5, c.y() + 0.5)
            path.lineTo(c.x() - 1.5, c.y() + 3.5)
            path.lineTo(c.x() + 4.5, c.y() - 3.5)
            painter.drawPath(path)
        elif state == ItemState.FAILED:
            painter.drawLine(QPointF(c.x(), c.y() - 5), QPointF(c.x(), c.y() + 1))
            painter.drawPoint(QPointF(c.x(), c.y() + 4.5))
        elif state == ItemState.WORKING:
            arc = rect.adjusted(5, 5, -5, -5)
            painter.drawArc(arc, int(-self.spin_phase * 16 * 30), 270 * 16)
        else:  # waiting: a small clock
            painter.drawLine(c, QPointF(c.x(), c.y() - 4.5))
            painter.drawLine(c, QPointF(c.x() + 3.5, c.y()))


def make_horizontal_strip(view: QListView) -> None:
    """One row of fixed icons scrolling sideways: the filmstrip here and the Training tab's thumbnails."""
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setFlow(QListView.Flow.LeftToRight)
    view.setWrapping(False)
    view.setMovement(QListView.Movement.Static)


class Filmstrip(QListView):
    """Horizontal strip of queue items; single selection drives the preview."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_horizontal_strip(self)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSpacing(2)
        self.setMouseTracking(True)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.delegate = FilmstripDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setFixedHeight(_CELL.height() + 22)  # room for the horizontal scroll bar
        self.setAccessibleName("Photo queue")
        self._spinner = QTimer(self)
        self._spinner.setInterval(90)
        self._spinner.timeout.connect(self._spin)

    def set_busy(self, busy: bool) -> None:
        """Animate the 'working' badge only while something is being colorized."""
        if busy and not self._spinner.isActive():
            self._spinner.start()
        elif not busy:
            self._spinner.stop()

    def _spin(self) -> None:
        self.delegate.spin_phase = (self.delegate.spin_phase + 1) % 12
        self.viewport().update()

    def wheelEvent(self, event) -> None:
        """A vertical wheel scrolls the horizontal strip, as people expect of a filmstrip."""
        delta = event.angleDelta()
        if delta.x() == 0 and delta.y() != 0:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta.y())
            event.accept()
            return
        super().wheelEvent(event)
