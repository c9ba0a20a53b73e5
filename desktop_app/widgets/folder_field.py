"""A folder path with a Browse… button: the export dialog and Preferences both ask for one."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget


class FolderField(QWidget):
    """Line edit + Browse…; `start` gives the folder the picker opens in when the field is empty."""

    def __init__(self, text: str, accessible_name: str, title: str, start: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title, self._start = title, start
        self.edit = QLineEdit(text)
        self.edit.setAccessibleName(accessible_name)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(browse)

    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self._title, self.edit.text().strip() or self._start)
        if folder:
            self.edit.setText(folder)
