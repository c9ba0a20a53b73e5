"""Choosing how far a hint reaches: small, object or wide (issue 14).

A hint normally colors the thing it was put on and stops at its edges ("object"). "Small" stops
sooner, for a spot on a larger surface; "wide" spreads over the photo wherever edges let it, for
the rare hint meant to tint a whole scene. The choices and their validation are ml_core's
(`ml_core.guidance.hints.REACHES`, checked by `Hint`); this module only offers them.

Two places show the same selector: the palette that pops up on a hint (that hint's reach) and
the "Hints" section of the side panel, which applies to the selected hint, or with none selected
to the hints placed next, and says which.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ml_core.guidance.hints import DEFAULT_REACH, REACHES

LABELS = {"small": "Small", "object": "Object", "wide": "Wide"}
TIPS = {
    "small": "Colors only near the hint: about half as far as Object",
    "object": "Colors the thing the hint is on, up to its edges",
    "wide": "Spreads over the whole photo wherever edges let it, to tint a scene",
}


class ReachSelector(QWidget):
    """Three exclusive buttons; `reach_chosen` only for a person's click, never for `set_reach`."""

    reach_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for reach in REACHES:
            button = QToolButton()
            button.setText(LABELS.get(reach, reach.capitalize()))
            button.setToolTip(TIPS.get(reach, ""))
            button.setAccessibleName(f"Hint reach: {LABELS.get(reach, reach)}")
            button.setCheckable(True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # one segmented bar
            button.setStyleSheet("QToolButton:checked { font-weight: bold; }")
            button.clicked.connect(lambda _=False, r=reach: self.reach_chosen.emit(r))
            self.group.addButton(button)
            row.addWidget(button, 1)
            self.buttons[reach] = button
        self.set_reach(DEFAULT_REACH)

    def set_reach(self, reach: str) -> None:
        button = self.buttons.get(reach)
        if button is not None:
            button.setChecked(True)

    def reach(self) -> str:
        return next((r for r, b in self.buttons.items() if b.isChecked()), DEFAULT_REACH)


class HintPanel(QGroupBox):
    """The side panel's "Hints" section, shown while the hint tool is on."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Hints", parent)
        self.reach = ReachSelector()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        font = self.caption.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.caption.setFont(font)
        self.note = QLabel("Hover over a hint to see the area it colors.")
        self.note.setWordWrap(True)
        self.note.setFont(font)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Reach"))
        layout.addWidget(self.reach)
        layout.addWidget(self.caption)
        layout.addWidget(self.note)
        self.show_for(DEFAULT_REACH, selected=False)

    def show_for(self, reach: str, selected: bool) -> None:
        """The selected hint's reach, or the one new hints get; the caption says which."""
        self.reach.set_reach(reach)
        self.caption.setText("Applies to the selected hint." if selected
                             else "For new hints. Select a hint to change its own.")
