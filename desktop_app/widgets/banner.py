"""A tinted strip over a view: a message, buttons, and a close button.

One class for both tabs: the Colorize tab's session banner uses the single action button
(`show_message(kind, text, "Undo", callback)`); the Training tab adds its own buttons to
`buttons` and may hide the close button (`closable=False`).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

from .. import resources

INFO, SUCCESS, ERROR = "info", "success", "error"
_TINTS = {INFO: QColor(64, 144, 235), SUCCESS: QColor(40, 160, 80), ERROR: QColor(214, 80, 60)}


class Banner(QFrame):
    """Public API: show_message(kind, text, button, action, closable), label, button, buttons, close_button."""

    def __init__(self, parent: QWidget | None = None, selectable: bool = False) -> None:
        super().__init__(parent)
        self.kind = INFO
        self._action: Callable[[], None] | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        if selectable:  # results and errors: people copy them into a search or a bug report
            self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.button = QPushButton()
        self.button.clicked.connect(self._clicked)
        self.button.hide()
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons.addWidget(self.button)
        self.close_button = QToolButton()
        self.close_button.setIcon(resources.icon("remove"))
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 6, 6, 6)
        row.addWidget(self.label, 1)
        row.addLayout(self.buttons)
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, kind: str, text: str, button: str = "", action: Callable[[], None] | None = None,
                     closable: bool = True) -> None:
        """Show `text` tinted by `kind`; `button` (when given) runs `action` when clicked."""
        self.kind = kind
        self.label.setText(text)
        self.button.setText(button)
        self.button.setVisible(bool(button))
        self._action = action
        self.close_button.setVisible(closable)
        self.show()
        self.update()

    def _clicked(self) -> None:
        action = self._action
        if action is not None:
            action()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        tint = QColor(_TINTS.get(self.kind, _TINTS[INFO]))
        tint.setAlpha(34)
        p.fillRect(self.rect(), tint)
        tint.setAlpha(255)
        p.fillRect(0, 0, 4, self.height(), tint)
        p.end()
