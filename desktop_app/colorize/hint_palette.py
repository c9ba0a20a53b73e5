"""The small palette that pops up next to a hint: the model's likely colors for that spot.

The suggestions come from `Colorizer.suggest_colors` (run by the tab in a worker); the first is
the color the preview shows now, the rest are other peaks of the model's distribution ("the car
was red, or blue"). "More colors…" asks the tab for a full color picker. A Qt popup: Esc or a
click elsewhere closes it, as people expect of a menu-like panel. Below the swatches, how far
this hint reaches (hint_reach.ReachSelector); the tab makes the edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..widgets.labels import edge_row
from .hint_overlay import hint_color
from .hint_reach import ReachSelector

if TYPE_CHECKING:
    from ml_core.guidance.palette import ColorSuggestion

_SWATCH = 30


def _swatch_icon(color: QColor, chosen: bool) -> QIcon:
    pix = QPixmap(_SWATCH * 2, _SWATCH * 2)
    pix.setDevicePixelRatio(2.0)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(color)
    p.setPen(QPen(QColor(0, 0, 0, 90), 1))
    p.drawRoundedRect(2, 2, _SWATCH - 4, _SWATCH - 4, 5, 5)
    if chosen:  # a check mark in whichever of black/white reads on the swatch
        ink = QColor(0, 0, 0) if color.lightness() > 150 else QColor(255, 255, 255)
        p.setPen(QPen(ink, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        p.drawPolyline([QPoint(9, 15), QPoint(13, 19), QPoint(21, 11)])
    p.end()
    return QIcon(pix)


class HintPalette(QFrame):
    """Swatches for one hint; emits the chosen a*b* and leaves the edit to the tab."""

    color_chosen = Signal(object)  # (a, b)
    more_requested = Signal()
    delete_requested = Signal()
    closed = Signal()  # hidden, by a choice, Esc or a click elsewhere

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Hint colors")
        self.title = QLabel("Likely colors here")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.row = QHBoxLayout()
        self.row.setSpacing(4)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.more_button = QPushButton("More colors…")
        self.more_button.setToolTip("Pick any color")
        self.more_button.clicked.connect(self.more_requested)
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Remove this hint (Delete)")
        self.delete_button.clicked.connect(self.delete_requested)
        buttons = edge_row(self.more_button, self.delete_button)
        self.reach = ReachSelector()
        reach_row = QHBoxLayout()
        reach_row.setContentsMargins(0, 0, 0, 0)
        reach_row.addWidget(QLabel("Reach"))
        reach_row.addWidget(self.reach, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addLayout(self.row)
        layout.addWidget(self.status)
        layout.addLayout(reach_row)
        layout.addLayout(buttons)
        self.swatches: list[QToolButton] = []
        self._suggestions: list["ColorSuggestion"] = []
        self._current: tuple[float, float] | None = None

    def set_suggestions(self, suggestions: Sequence["ColorSuggestion"] | None,
                        current: tuple[float, float] | None) -> None:
        """None: still asking the model. `current` is the hint's own color, marked when it is one of them."""
        for button in self.swatches:
            self.row.removeWidget(button)
            button.deleteLater()
        self.swatches = []
        self._suggestions = list(suggestions or [])
        self._current = current
        if suggestions is None:
            self.status.setText("Asking the model…")
        elif not suggestions:
            self.status.setText("No suggestions for this spot.")
        else:
            self.status.setText("")
        self.status.setVisible(bool(self.status.text()))
        for i, suggestion in enumerate(self._suggestions):
            button = QToolButton()
            button.setAutoRaise(True)
            button.setIconSize(QSize(_SWATCH, _SWATCH))
            button.setIcon(_swatch_icon(QColor(*suggestion.rgb), self._is_current(suggestion.ab)))
            label = "shown now" if suggestion.label == "current" else suggestion.label
            button.setToolTip(f"{label} · a* {suggestion.ab[0]:.0f}, b* {suggestion.ab[1]:.0f}")
            button.setAccessibleName(f"Suggested color {i + 1}: {label}")
            button.clicked.connect(lambda _=False, ab=suggestion.ab: self.color_chosen.emit(tuple(ab)))
            self.row.addWidget(button)
            self.swatches.append(button)
        if current is not None and not any(self._is_current(s.ab) for s in self._suggestions):
            # the hint's own color (picked earlier) leads the row, so the person sees what it is
            button = QToolButton()
            button.setAutoRaise(True)
            button.setIconSize(QSize(_SWATCH, _SWATCH))
            button.setIcon(_swatch_icon(hint_color(current), True))
            button.setToolTip("this hint's color")
            self.row.insertWidget(0, button)
            self.swatches.insert(0, button)
        self.adjustSize()

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.adjustSize()

    def suggestions(self) -> list["ColorSuggestion"]:
        return list(self._suggestions)

    def _is_current(self, ab: Sequence[float]) -> bool:
        return self._current is not None and abs(ab[0] - self._current[0]) < 0.5 and abs(ab[1] - self._current[1]) < 0.5

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.closed.emit()

    def show_near(self, anchor: QPoint) -> None:
        """Beside the marker (right and below), kept on the screen."""
        self.adjustSize()
        size = self.sizeHint()
        pos = anchor + QPoint(18, 12)
        screen = QGuiApplication.screenAt(anchor) or QGuiApplication.primaryScreen()
        if screen is not None:
            area: QRect = screen.availableGeometry()
            if pos.x() + size.width() > area.right():
                pos.setX(anchor.x() - 18 - size.width())
            if pos.y() + size.height() > area.bottom():
                pos.setY(anchor.y() - 12 - size.height())
            pos.setX(max(area.left(), pos.x()))
            pos.setY(max(area.top(), pos.y()))
        self.move(pos)
        self.show()
