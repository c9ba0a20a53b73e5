"""A slider with its title and formatted value on one line above it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from .labels import edge_row, small


class SliderRow(QWidget):
    """Title and value on one line, the slider under them (and optional hints at its two ends)."""

    def __init__(self, title: str, lo: int, hi: int, value: int, fmt: Callable[[int], str],
                 left_hint: str = "", right_hint: str = "", step: int = 1) -> None:
        super().__init__()
        self._fmt = fmt
        self.title = QLabel(title)
        self.value_label = QLabel()
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(lo, hi)
        self.slider.setSingleStep(step)
        self.slider.setPageStep(step * 4)
        self.slider.setValue(value)
        self.slider.setAccessibleName(title)
        self.slider.valueChanged.connect(self._update_label)
        top = edge_row(self.title, self.value_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.slider)
        if left_hint or right_hint:
            hints = QHBoxLayout()
            hints.setContentsMargins(0, 0, 0, 0)
            hints.addWidget(small(left_hint))
            hints.addStretch(1)
            hints.addWidget(small(right_hint))
            layout.addLayout(hints)
        self._update_label(value)

    def refresh_label(self) -> None:
        self._update_label(self.slider.value())

    def _update_label(self, value: int) -> None:
        self.value_label.setText(self._fmt(value))
