"""What the window shows before any photo is added: one big, obvious place to drop photos.

A first-time user should not have to find a menu. The dashed target says what to do, the buttons
do the same as the menu, and if no model is installed it says so here, where they will look.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from .. import resources
from ..widgets.labels import dim


class EmptyState(QWidget):
    open_photos = Signal()
    open_folder = Signal()
    import_model = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._highlight = False
        icon = QLabel()
        icon.setPixmap(resources.app_icon().pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Drop black-and-white photos here")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel("Photos or whole folders, anywhere on the window. You can also paste an image (Ctrl+V).")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        dim(hint)
        open_button = QPushButton(resources.icon("open"), "Open photos…")
        folder_button = QPushButton(resources.icon("folder"), "Open folder…")
        open_button.clicked.connect(self.open_photos)
        folder_button.clicked.connect(self.open_folder)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(open_button)
        buttons.addWidget(folder_button)
        buttons.addStretch(1)
        self.no_model = QLabel("No colorization model is installed yet. Import a model file (.safetensors), "
                               "or drop one on the window.")
        self.no_model.setWordWrap(True)
        self.no_model.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pal = self.no_model.palette()
        pal.setColor(QPalette.ColorRole.WindowText, QColor(201, 120, 20))
        self.no_model.setPalette(pal)
        self.import_button = QPushButton(resources.icon("import"), "Import model…")
        self.import_button.clicked.connect(self.import_model)
        import_row = QHBoxLayout()
        import_row.addStretch(1)
        import_row.addWidget(self.import_button)
        import_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 40, 60, 40)
        layout.addStretch(2)
        layout.addWidget(icon)
        layout.addSpacing(10)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addSpacing(14)
        layout.addLayout(buttons)
        layout.addSpacing(18)
        layout.addWidget(self.no_model)
        layout.addLayout(import_row)
        layout.addStretch(3)
        self.set_model_missing(False)

    def set_model_missing(self, missing: bool) -> None:
        self.no_model.setVisible(missing)
        self.import_button.setVisible(missing)

    def set_highlight(self, on: bool) -> None:
        """Drawn brighter while something is dragged over the window."""
        if on != self._highlight:
            self._highlight = on
            self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        accent = pal.color(QPalette.ColorRole.Highlight)
        border = accent if self._highlight else pal.color(QPalette.ColorRole.PlaceholderText)
        fill = QColor(accent)
        fill.setAlpha(40 if self._highlight else 12)
        rect = QRectF(self.rect()).adjusted(20, 20, -20, -20)
        p.setBrush(fill)
        p.setPen(QPen(border, 2, Qt.PenStyle.DashLine))
        p.drawRoundedRect(rect, 16, 16)
