"""The "Reference photo" group: lend a color photo's palette to the selected gray photo.

The panel only shows the selected photo's reference (thumbnail, strength) and says what the
person asked for; the tab reads the reference in a worker, stores it on the photo and re-renders.
Dropping a photo here sets the reference; dropping anywhere else in the window still adds
photos to the queue (the innermost widget that accepts a drop gets it).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..widgets.labels import edge_row
from ..widgets.slider_row import SliderRow

THUMB = QSize(220, 120)


class _DropArea(QLabel):
    """Thumbnail of the reference, or an invitation to drop one."""

    dropped = Signal(Path)

    def __init__(self) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumHeight(THUMB.height() // 2 + 20)
        self.setWordWrap(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Sunken)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Reference photo")
        self._highlight(False)

    def _highlight(self, on: bool) -> None:
        self.setAutoFillBackground(on)
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, pal.color(QPalette.ColorRole.Highlight).lighter(170) if on
                     else pal.color(QPalette.ColorRole.Base))
        self.setPalette(pal)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._path(event) is not None and self.isEnabled():
            event.acceptProposedAction()
            self._highlight(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._highlight(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._highlight(False)
        path = self._path(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(path)

    @staticmethod
    def _path(event: QDragEnterEvent | QDropEvent) -> Path | None:
        mime = event.mimeData()
        if not mime.hasUrls():
            return None
        local = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        return next((p for p in local if p.is_file()), None)


class ReferencePanel(QGroupBox):
    """Choose / drop, thumbnail, strength, remove; errors in red under the picture."""

    choose_requested = Signal()
    reference_dropped = Signal(Path)
    remove_requested = Signal()
    strength_changed = Signal(float)  # 0..1

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Reference photo", parent)
        self.drop_area = _DropArea()
        self.drop_area.dropped.connect(self.reference_dropped)
        self.name_label = QLabel()
        self.name_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.hide()
        self.strength_row = SliderRow("Strength", 0, 100, 100, lambda v: f"{v} %", "Model's colors",
                                       "Reference's", step=5)
        self.strength_row.slider.setToolTip("How much of the reference photo's palette replaces the model's colors")
        self.strength_row.slider.valueChanged.connect(lambda v: self.strength_changed.emit(v / 100.0))
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setToolTip("Use a color photo's palette for the selected photo")
        self.choose_button.clicked.connect(self.choose_requested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Back to the model's own colors")
        self.remove_button.clicked.connect(self.remove_requested)
        buttons = edge_row(self.choose_button, self.remove_button)
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        layout.addWidget(self.drop_area)
        layout.addWidget(self.name_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        layout.addWidget(self.strength_row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.show_reference(None, None, 1.0)

    def show_reference(self, path: Path | None, thumb: QPixmap | None, strength: float) -> None:
        """The selected photo's reference (None: it has none)."""
        has = path is not None
        if thumb is not None and not thumb.isNull():
            self.drop_area.setPixmap(thumb.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                                  Qt.TransformationMode.SmoothTransformation))
        else:
            self.drop_area.setPixmap(QPixmap())
            self.drop_area.setText("Loading…" if has else "Drop a color photo here to use its colors")
        self.name_label.setText(path.name if has else "")
        self.name_label.setVisible(has)
        self.remove_button.setEnabled(has)
        self.strength_row.setEnabled(has)
        slider = self.strength_row.slider
        slider.blockSignals(True)
        slider.setValue(round(strength * 100))
        slider.blockSignals(False)
        self.strength_row.refresh_label()

    def set_loading(self, name: str) -> None:
        self.set_error("")
        self.drop_area.setPixmap(QPixmap())
        self.drop_area.setText(f"Reading {name}…")

    def set_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def error(self) -> str:
        return self.error_label.text()

    def strength(self) -> float:
        return self.strength_row.slider.value() / 100.0
