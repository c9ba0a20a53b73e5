"""Edit > Preferences: theme, where and how exports start, how many CPU threads colorizing uses.

Choices are stored in AppSettings (QSettings, the same INI file as the rest) only when OK is
pressed, and only once every field is valid: the OK button stays disabled, with the reason
under the form, while the export folder is not a usable folder. The thread count is bounded by
the spin box to 0 (automatic) .. this machine's logical cores, and AppSettings refuses anything else.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.widgets.folder_field import FolderField

from .colorize.export_dialog import FORMATS
from .settings import AppSettings, max_threads

THEME_CHOICES = (("system", "Same as the system"), ("light", "Light"), ("dark", "Dark"))


def folder_problem(text: str) -> str:
    """Why `text` cannot be the default export folder ('' when it can, or when it is empty)."""
    text = text.strip()
    if not text:
        return ""
    path = Path(text).expanduser()
    if not path.is_absolute():
        return "The export folder must be a full path (for example /home/you/Pictures/Chroma)."
    if path.exists() and not path.is_dir():
        return f"{path} is a file, not a folder."
    parent = next((p for p in (path, *path.parents) if p.exists()), None)
    if parent is None or not parent.is_dir():
        return f"{path} cannot be created."
    return ""


class PreferencesDialog(QDialog):
    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        self.theme_combo = QComboBox()
        for key, label in THEME_CHOICES:
            self.theme_combo.addItem(label, key)
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(settings.theme)))

        folder_row = FolderField(settings.export_default_dir, "Default export folder", "Default export folder",
                                 start=settings.last_export_dir or str(Path.home()))
        self.folder_edit = folder_row.edit
        self.folder_edit.setPlaceholderText("The folder used last time")
        self.folder_edit.textChanged.connect(self._validate)

        self.format_combo = QComboBox()
        self.format_combo.addItem("The format used last time", "")
        for key, label in FORMATS:
            self.format_combo.addItem(label, key)
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(settings.export_default_format)))

        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(0, max_threads())
        self.threads_spin.setSpecialValueText("Automatic")
        self.threads_spin.setValue(settings.threads)
        self.threads_spin.setToolTip(f"0 = automatic. Fewer threads leave the computer more responsive for other "
                                     f"work while Chroma colorizes; at most {max_threads()} on this computer.")

        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #d9534f")
        form = QFormLayout()
        form.addRow("Theme", self.theme_combo)
        form.addRow("Default export folder", folder_row)
        form.addRow("Default export format", self.format_combo)
        form.addRow("CPU threads", self.threads_spin)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)
        self._validate()

    def _validate(self) -> None:
        problem = folder_problem(self.folder_edit.text())
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def accept(self) -> None:
        if folder_problem(self.folder_edit.text()):
            return
        text = self.folder_edit.text().strip()
        self._settings.theme = str(self.theme_combo.currentData())
        self._settings.export_default_dir = str(Path(text).expanduser()) if text else ""
        self._settings.export_default_format = str(self.format_combo.currentData() or "")
        self._settings.threads = self.threads_spin.value()
        self._settings.sync()
        super().accept()
