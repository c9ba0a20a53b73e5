"""Label helpers: secondary (dimmer) text, and a title with its value at the row's two ends."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget


def dim(label: QLabel) -> QLabel:
    """Secondary text in the palette's placeholder color, so it follows light and dark themes."""
    pal = label.palette()
    pal.setColor(QPalette.ColorRole.WindowText, pal.color(QPalette.ColorRole.PlaceholderText))
    label.setPalette(pal)
    return label


def small(text: str) -> QLabel:
    """A dim label in a slightly smaller font, for the ends of a slider ("Muted" … "Vivid")."""
    label = dim(QLabel(text))
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.85)
    label.setFont(font)
    return label


def edge_row(left: QWidget, right: QWidget) -> QHBoxLayout:
    """Two widgets pushed to the row's two ends: a title and its value, or a pair of buttons."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(left)
    row.addStretch(1)
    row.addWidget(right)
    return row
