"""The export dialog: what to export, where, as which format, under which names.

It only gathers an ml_core.inference.batch.ExportSettings; the file names it previews come from the same
ml_core function the export uses, so what the person sees is what gets written.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.widgets.folder_field import FolderField
from ml_core.io.imageio import default_export_name, export_format_for

from ..settings import SAME_FORMAT, AppSettings
from ..widgets.labels import dim

FORMATS = [(SAME_FORMAT, "Same as each photo (JPEG stays JPEG)"), ("png", "PNG (lossless)"), ("jpg", "JPEG"),
           ("webp", "WebP"), ("tiff", "TIFF (lossless)")]
SCOPE_SELECTED = "selected"
SCOPE_DONE = "done"


class ExportDialog(QDialog):
    def __init__(self, parent: QWidget | None, settings: AppSettings, *, selected: Path | None,
                 done_count: int, default_dir: str, model_name: str = "", scope: str = SCOPE_SELECTED) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export colorized photos")
        self._settings = settings
        self._sample = selected or Path("photo.jpg")
        self._model_name = model_name

        self.selected_radio = QRadioButton(f"Selected photo ({selected.name})" if selected else "Selected photo")
        self.done_radio = QRadioButton(f"All colorized photos ({done_count})")
        self.selected_radio.setEnabled(selected is not None)
        self.done_radio.setEnabled(done_count > 0)
        group = QButtonGroup(self)
        group.addButton(self.selected_radio)
        group.addButton(self.done_radio)
        use_done = scope == SCOPE_DONE and done_count > 0 or selected is None
        (self.done_radio if use_done else self.selected_radio).setChecked(True)

        folder_row = FolderField(settings.export_default_dir or settings.last_export_dir or default_dir,
                                 "Export folder", "Export to folder")
        self.folder_edit = folder_row.edit

        self.format_combo = QComboBox()
        for key, label in FORMATS:
            self.format_combo.addItem(label, key)
        index = max(0, self.format_combo.findData(settings.export_default_format or settings.export_format))
        self.format_combo.setCurrentIndex(index)
        self.quality_spin = QSpinBox()
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(settings.export_quality)
        self.quality_spin.setSuffix("  quality")
        format_row = QHBoxLayout()
        format_row.addWidget(self.format_combo, 1)
        format_row.addWidget(self.quality_spin)

        self.pattern_edit = QLineEdit(settings.export_pattern)
        self.pattern_edit.setAccessibleName("File name pattern")
        self.pattern_edit.setToolTip("{name}: the original file name without extension\n"
                                     "{ext}: its extension\n{model}: the model's name")
        self.preview_label = QLabel()
        self.preview_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hint = QLabel("Placeholders: {name}, {ext}, {model}.\n"
                      "Originals are never changed; EXIF data and color profiles are kept.")
        dim(hint)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        scope_box = QVBoxLayout()
        scope_box.addWidget(self.selected_radio)
        scope_box.addWidget(self.done_radio)
        form.addRow("Export:", scope_box)
        form.addRow("To folder:", folder_row)
        form.addRow("Format:", format_row)
        form.addRow("File names:", self.pattern_edit)
        form.addRow("", self.preview_label)
        form.addRow("", hint)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setIcon(QIcon())  # match the Export button
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        heading = QLabel("Export colorized photos in full resolution")
        font = heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        heading.setFont(font)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(self.buttons)

        self.format_combo.currentIndexChanged.connect(self._update)
        self.pattern_edit.textChanged.connect(self._update)
        self.folder_edit.textChanged.connect(self._update)
        self.setMinimumWidth(560)
        self._update()

    # ------------------------------------------------------------------ results

    def scope(self) -> str:
        return SCOPE_DONE if self.done_radio.isChecked() else SCOPE_SELECTED

    def fmt(self) -> str:
        """The chosen key: a format, or SAME_FORMAT (each photo keeps its own)."""
        return str(self.format_combo.currentData())

    def export_settings(self):
        from ml_core.inference.batch import ExportSettings  # torch-heavy module: import on use

        fmt = None if self.fmt() == SAME_FORMAT else self.fmt()  # None: ml_core matches each photo
        return ExportSettings(out_dir=Path(self.folder_edit.text().strip()).expanduser(), fmt=fmt,
                              quality=self.quality_spin.value(), pattern=self.pattern_edit.text().strip())

    def _sample_format(self) -> str:
        """The sample photo's output format, for the file name preview."""
        return export_format_for(self._sample) if self.fmt() == SAME_FORMAT else self.fmt()

    def problem(self) -> str | None:
        if not self.folder_edit.text().strip():
            return "Choose a folder to export to."
        folder = Path(self.folder_edit.text().strip()).expanduser()
        if folder.exists() and not folder.is_dir():
            return f"{folder} is a file, not a folder."
        try:
            default_export_name(self._sample, self.pattern_edit.text().strip() or "{name}", self._sample_format(),
                                model=self._model_name)
        except ValueError as exc:
            return str(exc)
        if not self.pattern_edit.text().strip():
            return "Enter a file name pattern, e.g. {name}_color."
        return None

    # ------------------------------------------------------------------ internals

    def _update(self) -> None:
        self.quality_spin.setEnabled(self.fmt() in ("jpg", "webp", SAME_FORMAT))  # same: JPEG/WebP photos use it
        problem = self.problem()
        self.export_button.setEnabled(problem is None)
        if problem:
            self.preview_label.setText(f"<span style='color:#d43d3d'>{html.escape(problem)}</span>")
        else:
            name = default_export_name(self._sample, self.pattern_edit.text().strip(), self._sample_format(),
                                       model=self._model_name)
            self.preview_label.setText(f"{html.escape(self._sample.name)}  →  <b>{html.escape(name)}</b>")

    def _accept(self) -> None:
        if self.problem() is not None:
            return
        self._settings.last_export_dir = str(Path(self.folder_edit.text().strip()).expanduser())
        self._settings.export_format = self.fmt()
        self._settings.export_quality = self.quality_spin.value()
        self._settings.export_pattern = self.pattern_edit.text().strip()
        self.accept()
