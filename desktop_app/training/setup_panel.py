"""The left side of the Training tab: which photos, which model to start from, and the settings.

Every setting has a sensible default and a one-line explanation under it; the ones most people
never need are in a collapsed "Advanced" section. The panel only holds choices: the tab runs the
folder scan and the training, and tells the panel what the scan found.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ml_core.training.config import DEFAULT_EPOCHS, TrainConfig

from .. import resources
from ..colorize.photo_queue import make_horizontal_strip
from ..widgets.collapsible import Collapsible
from ..widgets.labels import dim
from .jobs import ScanSummary, TrainRequest

WARNING = QColor(201, 120, 20)
DEFAULT_MINUTES = 10
DEFAULT_BATCH = TrainConfig.batch_size
DEFAULT_SIZE = TrainConfig.size
DEFAULT_VAL_PERCENT = 10
LR_CHOICES = ("Automatic", "0.00005", "0.0001", "0.0002", "0.0005", "0.001", "0.002")


def hint(text: str) -> QLabel:
    """A short explanation under a setting: smaller, dimmer, wrapped."""
    label = QLabel(text)
    label.setWordWrap(True)
    font = QFont(label.font())
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
    label.setFont(font)
    label.setContentsMargins(0, 0, 0, 4)
    return dim(label)


class FolderList(QListWidget):
    """The chosen folders; says what to do while it is empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAccessibleName("Training folders")
        self.setFixedHeight(92)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def add_path(self, path: str) -> None:
        item = QListWidgetItem(resources.icon("open" if Path(path).is_dir() else "photo"), path)
        item.setData(Qt.ItemDataRole.UserRole, path)
        item.setToolTip(path)
        self.addItem(item)
        self._elide(item)

    def _elide(self, item: QListWidgetItem) -> None:
        """Long paths lose their middle, so the folder's own name stays readable."""
        width = self.viewport().width() - self.iconSize().width() - 16
        full = str(item.data(Qt.ItemDataRole.UserRole))
        item.setText(self.fontMetrics().elidedText(full, Qt.TextElideMode.ElideMiddle, max(40, width)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        for row in range(self.count()):
            self._elide(self.item(row))

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.count() == 0:
            p = QPainter(self.viewport())
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.viewport().rect().adjusted(12, 0, -12, 0),
                       int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                       "Drop folders of your color photos here, or use Add Folder…")
            p.end()


class ThumbStrip(QListWidget):
    """A row of thumbnails of the usable photos (a sample of them, spread over every folder)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        make_horizontal_strip(self)
        self.setIconSize(QSize(84, 58))
        self.setSpacing(3)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setFixedHeight(58 + 6 * 2 + self.horizontalScrollBar().sizeHint().height() + 2 * self.frameWidth())
        self.setAccessibleName("Sample of the usable photos")

    def set_images(self, images: Sequence[tuple[str, Any]]) -> None:
        self.clear()
        for name, image in images:
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(2.0)
            item = QListWidgetItem(QIcon(pixmap), "")
            item.setToolTip(name)
            item.setSizeHint(QSize(88, 62))
            self.addItem(item)
        self.setVisible(bool(images))


class SetupPanel(QWidget):
    folders_changed = Signal()  # add/remove: the tab rescans
    scan_settings_changed = Signal()  # image size: what counts as too small changes -> rescan
    split_changed = Signal()  # validation fraction -> new train/validation counts
    changed = Signal()  # anything that may change whether training can start
    add_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._folders: list[str] = []
        self._auto_name = ""  # the name last filled in automatically (replaced when the base changes)
        self._models: list[Any] = []
        self._locked = False
        self._auto_scratch = False  # "from scratch" was picked only because no model was installed
        self.summary: ScanSummary | None = None
        self._build()
        self._update_mode()

    # ================================================================== construction

    def _build(self) -> None:
        # --- photos
        photos = QGroupBox("Your color photos")
        self.folder_list = FolderList()
        self.add_button = QPushButton(resources.icon("folder"), "Add Folder…")
        self.add_button.setToolTip("Add a folder of color photos (searched with its subfolders)")
        self.add_button.clicked.connect(self.add_folder_requested)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected folders from the list (nothing is deleted)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.folder_list.itemSelectionChanged.connect(self._update_buttons)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        self.scan_progress = QProgressBar()
        self.scan_progress.setTextVisible(True)
        self.scan_progress.setFormat("Checking photos… %v of %m")
        self.scan_progress.hide()
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.skipped_label = hint("")
        self.skipped_label.setTextFormat(Qt.TextFormat.PlainText)
        self.blocker_label = QLabel()
        self.blocker_label.setWordWrap(True)
        pal = self.blocker_label.palette()
        pal.setColor(QPalette.ColorRole.WindowText, WARNING)
        self.blocker_label.setPalette(pal)
        self.blocker_label.hide()
        self.thumbs = ThumbStrip()
        self.thumbs.hide()
        box = QVBoxLayout(photos)
        box.addWidget(self.folder_list)
        box.addLayout(buttons)
        box.addWidget(self.scan_progress)
        box.addWidget(self.summary_label)
        box.addWidget(self.skipped_label)
        box.addWidget(self.blocker_label)
        box.addWidget(self.thumbs)

        # --- start from
        start = QGroupBox("Start from")
        self.fine_tune_radio = QRadioButton("Fine-tune a model")
        self.scratch_radio = QRadioButton("Train a new model from scratch")
        self.mode_group = QButtonGroup(self)
        self.mode_group.addButton(self.fine_tune_radio)
        self.mode_group.addButton(self.scratch_radio)
        self.fine_tune_radio.setChecked(True)
        self.base_combo = QComboBox()
        self.base_combo.setAccessibleName("Base model")
        self.base_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.base_combo.setMinimumContentsLength(14)
        self.base_hint = hint("")
        self.arch_combo = QComboBox()
        self.arch_combo.setAccessibleName("Architecture")
        self.arch_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.arch_combo.setMinimumContentsLength(14)
        self.arch_hint = hint("Needs many photos and hours of training. Fine-tuning learns your colors far faster.")
        box = QVBoxLayout(start)
        box.addWidget(self.fine_tune_radio)
        box.addWidget(self._indented(self.base_combo))
        box.addWidget(self._indented(self.base_hint))
        box.addWidget(self.scratch_radio)
        box.addWidget(self._indented(self.arch_combo))
        box.addWidget(self._indented(self.arch_hint))
        self.fine_tune_radio.toggled.connect(self._update_mode)
        self.scratch_radio.clicked.connect(lambda: setattr(self, "_auto_scratch", False))
        self.base_combo.currentIndexChanged.connect(self._update_mode)
        self.arch_combo.currentIndexChanged.connect(self._update_mode)

        # --- training length and name
        settings = QGroupBox("Training")
        self.epochs_radio = QRadioButton("Epochs")
        self.minutes_radio = QRadioButton("About")
        self.length_group = QButtonGroup(self)
        self.length_group.addButton(self.epochs_radio)
        self.length_group.addButton(self.minutes_radio)
        self.epochs_radio.setChecked(True)
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setValue(DEFAULT_EPOCHS)
        self.epochs_spin.setAccessibleName("Epochs")
        self.minutes_spin = QSpinBox()
        self.minutes_spin.setRange(1, 24 * 60)
        self.minutes_spin.setValue(DEFAULT_MINUTES)
        self.minutes_spin.setSuffix(" minutes")
        self.minutes_spin.setAccessibleName("Time budget in minutes")
        length = QHBoxLayout()
        length.setContentsMargins(0, 0, 0, 0)
        length.addWidget(self.epochs_radio)
        length.addWidget(self.epochs_spin)
        length.addSpacing(12)
        length.addWidget(self.minutes_radio)
        length.addWidget(self.minutes_spin)
        length.addStretch(1)
        self.epochs_spin.valueChanged.connect(lambda _: self.epochs_radio.setChecked(True))
        self.minutes_spin.valueChanged.connect(lambda _: self.minutes_radio.setChecked(True))
        self.epochs_spin.valueChanged.connect(lambda _: self.changed.emit())
        self.minutes_spin.valueChanged.connect(lambda _: self.changed.emit())
        self.epochs_radio.toggled.connect(lambda _: self.changed.emit())
        self.length_hint = hint("An epoch is one pass over your training photos. Or give a time: Chroma times a "
                                "few steps first and works out how many fit.")
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Name of the new model")
        self.name_edit.setMaxLength(64)
        self.name_edit.textChanged.connect(lambda _: self.changed.emit())
        form = QFormLayout(settings)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(length)
        form.addRow(self.length_hint)
        form.addRow("New model", self.name_edit)
        form.addRow(hint("Its name in the model list. If the name is taken, “-2” is added: "
                         "no model is ever replaced, and the base model is never changed."))

        # --- advanced
        advanced = QWidget()
        adv = QFormLayout(advanced)
        adv.setContentsMargins(0, 0, 0, 0)
        adv.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(2, 256)
        self.batch_spin.setValue(DEFAULT_BATCH)
        self.batch_spin.setAccessibleName("Batch size")
        self.lr_combo = QComboBox()
        self.lr_combo.setEditable(True)
        self.lr_combo.addItems(LR_CHOICES)
        self.lr_combo.setAccessibleName("Learning rate")
        self.lr_combo.currentTextChanged.connect(lambda _: self.changed.emit())
        self.size_spin = QSpinBox()
        self.size_spin.setRange(32, 512)
        self.size_spin.setSingleStep(32)
        self.size_spin.setValue(DEFAULT_SIZE)
        self.size_spin.setSuffix(" px")
        self.size_spin.setAccessibleName("Image size")
        self.size_spin.valueChanged.connect(lambda _: self.scan_settings_changed.emit())
        self.val_spin = QSpinBox()
        self.val_spin.setRange(0, 50)
        self.val_spin.setValue(DEFAULT_VAL_PERCENT)
        self.val_spin.setSuffix(" %")
        self.val_spin.setAccessibleName("Validation fraction")
        self.val_spin.valueChanged.connect(lambda _: self.split_changed.emit())
        self.freeze_check = QCheckBox("Freeze the encoder")
        adv.addRow("Batch size", self.batch_spin)
        adv.addRow(hint("Photos per step. Larger steps are steadier but each takes longer."))
        adv.addRow("Learning rate", self.lr_combo)
        adv.addRow(hint("How far each step moves the model. Automatic: 0.0002 when fine-tuning, 0.001 from "
                        "scratch. Lower it if the loss jumps around."))
        adv.addRow("Image size", self.size_spin)
        adv.addRow(hint("Training crops are this many pixels square. Larger sees more of each photo but "
                        "trains more slowly."))
        adv.addRow("Validation", self.val_spin)
        adv.addRow(hint("Photos set aside to measure progress honestly; the model never trains on them."))
        adv.addRow(self.freeze_check)
        adv.addRow(hint("Only the decoder learns: faster, and gentler with few photos."))
        self.advanced = Collapsible("Advanced settings", advanced)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(photos)
        layout.addWidget(start)
        layout.addWidget(settings)
        layout.addWidget(self.advanced)
        layout.addStretch(1)
        self._update_buttons()

    @staticmethod
    def _indented(widget: QWidget) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(22, 0, 0, 0)
        row.addWidget(widget)
        return holder

    # ================================================================== folders

    def folders(self) -> list[str]:
        return list(self._folders)

    def add_folders(self, paths: Iterable[Path | str]) -> bool:
        """Add folders (or single photos); True if the list changed."""
        added = False
        for path in paths:
            text = str(Path(path))
            if text not in self._folders:
                self._folders.append(text)
                self.folder_list.add_path(text)
                added = True
        if added:
            self._update_buttons()
            self.folders_changed.emit()
        return added

    def remove_selected(self) -> None:
        rows = sorted((self.folder_list.row(i) for i in self.folder_list.selectedItems()), reverse=True)
        for row in rows:
            self.folder_list.takeItem(row)
            del self._folders[row]
        if rows:
            self._update_buttons()
            self.folders_changed.emit()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.folder_list.selectedItems()) and not self._locked)

    # ================================================================== scan results

    def set_scanning(self, done: int, total: int) -> None:
        self.scan_progress.setRange(0, max(1, total))
        self.scan_progress.setValue(done)
        self.scan_progress.show()
        if not self.summary_label.text().startswith("Checking"):
            self.summary_label.setText("Checking which photos can teach color…")

    def set_summary(self, summary: ScanSummary | None, error: str = "") -> None:
        self.summary = summary
        self.scan_progress.hide()
        if summary is None:
            self.summary_label.setText(error)
            self.skipped_label.setText("")
            self.skipped_label.setToolTip("")
            self.thumbs.set_images([])
            self._show_blocker("")
            self.changed.emit()
            return
        self.thumbs.set_images(summary.thumbnails)
        self._show_split()
        if summary.skipped:
            parts = ", ".join(f"{n} {label}" for label, n in summary.skipped)
            self.skipped_label.setText(f"Skipped {summary.skipped_total}: {parts}")
            lines = [f"{Path(p).name} — {why}" for p, why in summary.skipped_examples[:25]]
            more = summary.skipped_total - len(lines)
            self.skipped_label.setToolTip("\n".join(lines) + (f"\n… and {more} more" if more > 0 else ""))
        else:
            self.skipped_label.setText("Nothing skipped: every file is a usable color photo." if summary.usable else "")
            self.skipped_label.setToolTip("")
        problems = "; ".join(summary.problems)
        self._show_blocker(summary.blocker() + (f" ({problems})" if problems else ""))
        self.changed.emit()

    def set_split(self, train: int, val: int) -> None:
        if self.summary is not None:
            self.summary.train, self.summary.val = train, val
            self._show_split()
            self._show_blocker(self.summary.blocker())
            self.changed.emit()

    def _show_split(self) -> None:
        s = self.summary
        assert s is not None
        photos = f"{s.usable} usable photo{'s' if s.usable != 1 else ''}"
        if s.usable:
            self.summary_label.setText(f"<b>{photos}</b> · {s.train} to train on, {s.val} to check progress "
                                       f"(validation)")
        else:
            self.summary_label.setText(f"<b>{photos}</b>")

    def _show_blocker(self, text: str) -> None:
        self.blocker_label.setText(text)
        self.blocker_label.setVisible(bool(text))

    # ================================================================== models

    def set_models(self, choices: Sequence[Any]) -> None:
        """Models in the store (the Colorize tab's list; in-memory stand-ins cannot be fine-tuned)."""
        current = self.base_combo.currentData()
        self._models = [c for c in choices if getattr(c, "in_memory", None) is None]
        self.base_combo.blockSignals(True)
        self.base_combo.clear()
        for choice in self._models:
            self.base_combo.addItem(choice.name, choice.name)
            self.base_combo.setItemData(self.base_combo.count() - 1, choice.summary(), Qt.ItemDataRole.ToolTipRole)
        names = [c.name for c in self._models]
        if current in names:
            self.base_combo.setCurrentIndex(names.index(current))
        self.base_combo.blockSignals(False)
        has_models = bool(self._models)
        self.fine_tune_radio.setEnabled(has_models and not self._locked)
        if not has_models and self.fine_tune_radio.isChecked():
            self.scratch_radio.setChecked(True)
            self._auto_scratch = True
        elif has_models and self._auto_scratch:
            self.fine_tune_radio.setChecked(True)
            self._auto_scratch = False
        self._update_mode()

    def set_architectures(self, archs: Sequence[tuple[str, str]]) -> None:
        current = self.arch_combo.currentData()
        self.arch_combo.blockSignals(True)
        self.arch_combo.clear()
        for name, description in archs:
            self.arch_combo.addItem(name, name)
            self.arch_combo.setItemData(self.arch_combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        names = [a for a, _ in archs]
        pick = current if current in names else ("unet" if "unet" in names else (names[0] if names else None))
        if pick is not None:
            self.arch_combo.setCurrentIndex(names.index(pick))
        self.arch_combo.blockSignals(False)
        self._update_mode()

    def select_base(self, name: str) -> bool:
        index = self.base_combo.findData(name)
        if index < 0:
            return False
        self.fine_tune_radio.setChecked(True)
        self.base_combo.setCurrentIndex(index)
        return True

    def base_name(self) -> str | None:
        data = self.base_combo.currentData()
        return str(data) if data else None

    def _update_mode(self, *args) -> None:
        fine_tune = self.fine_tune_radio.isChecked()
        self.base_combo.setEnabled(fine_tune and bool(self._models) and not self._locked)
        self.arch_combo.setEnabled(not fine_tune and not self._locked)
        self.freeze_check.setEnabled(fine_tune and not self._locked)
        if not self._models:
            self.base_hint.setText("No model is installed yet: import one in the Colorize tab, or train from scratch.")
        else:
            choice = next((c for c in self._models if c.name == self.base_name()), None)
            self.base_hint.setText(choice.summary() if choice else "")
        default = self._default_name()
        if self.name_edit.text().strip() in ("", self._auto_name):  # never overwrite a name the person chose
            self.name_edit.setText(default)
        self._auto_name = default
        self.changed.emit()

    def _default_name(self) -> str:
        if self.fine_tune_radio.isChecked():
            base = self.base_name()
            return f"{base}-tuned" if base else "my-model"
        arch = self.arch_combo.currentData()
        return f"{arch}-trained" if arch else "my-model"

    # ================================================================== the request

    def learning_rate(self) -> float | None:
        """None for automatic; NaN when the text is not a positive number."""
        text = self.lr_combo.currentText().strip().lower()
        if text in ("", "auto", "automatic"):
            return None
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            return math.nan
        return value if value > 0 and math.isfinite(value) else math.nan

    def settings_problem(self) -> str:
        """A setting that cannot work ('' when all is well)."""
        if self.fine_tune_radio.isChecked() and not self.base_name():
            return "Choose a model to fine-tune, or train from scratch."
        if self.scratch_radio.isChecked() and not self.arch_combo.currentData():
            return "Choose an architecture."
        if not self.name_edit.text().strip():
            return "Give the new model a name."
        if math.isnan(self.learning_rate() or 0.0):
            return "The learning rate must be a positive number, or Automatic."
        return ""

    def request(self) -> TrainRequest:
        fine_tune = self.fine_tune_radio.isChecked()
        s = self.summary
        return TrainRequest(
            folders=self.folders(),
            base=self.base_name() if fine_tune else None,
            arch=None if fine_tune else str(self.arch_combo.currentData()),
            epochs=self.epochs_spin.value() if self.epochs_radio.isChecked() else None,
            minutes=float(self.minutes_spin.value()) if self.minutes_radio.isChecked() else None,
            batch_size=self.batch_spin.value(),
            lr=self.learning_rate(),
            size=self.size_spin.value(),
            val_fraction=self.val_fraction(),
            freeze_encoder=fine_tune and self.freeze_check.isChecked(),
            name=self.name_edit.text().strip(),
            train_images=s.train if s else 0,
            val_images=s.val if s else 0,
        )

    def val_fraction(self) -> float:
        return self.val_spin.value() / 100.0

    def set_locked(self, locked: bool) -> None:
        """While training runs, the settings it was started with stay on screen, unchangeable."""
        if locked == self._locked:
            return
        self._locked = locked
        for widget in (self.folder_list, self.add_button, self.fine_tune_radio, self.scratch_radio,
                       self.base_combo, self.arch_combo, self.epochs_radio, self.minutes_radio, self.epochs_spin,
                       self.minutes_spin, self.name_edit, self.batch_spin, self.lr_combo, self.size_spin,
                       self.val_spin, self.freeze_check):
            widget.setEnabled(not locked)
        self.remove_button.setEnabled(not locked and bool(self.folder_list.selectedItems()))
        if not locked:
            self.fine_tune_radio.setEnabled(bool(self._models))
        self._update_mode()
