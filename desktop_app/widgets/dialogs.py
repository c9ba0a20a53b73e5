"""The yes/no question and the warning both tabs show; tabs keep them behind replaceable
attributes (`confirm`, `warn`) so tests and the self-test can answer without a modal dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask(parent: QWidget, title: str, text: str) -> bool:
    """A modal yes/no question; No is the default, so Enter never does the destructive thing."""
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def warn(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)
