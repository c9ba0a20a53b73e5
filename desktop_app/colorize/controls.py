"""The side panel: which model colorizes, and how (saturation, render size, vividness).

The panels only hold choices and say when they change; the tab decides what to re-render.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ml_core.limits import clamp_work_size

from .. import resources
from ..widgets.labels import dim
from ..widgets.slider_row import SliderRow
from .jobs import ModelChoice

NameRole = Qt.ItemDataRole.UserRole + 1
SummaryRole = Qt.ItemDataRole.UserRole + 2


class _ModelItemDelegate(QStyledItemDelegate):
    """Popup rows: the model's name in bold, then its one-line description, dimmed."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        if index.data(NameRole) is None:  # a group heading: small, dimmed, not a choice
            self._paint_heading(painter, option, str(index.data(Qt.ItemDataRole.DisplayRole) or ""))
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        pal = opt.palette
        rect = opt.rect.adjusted(8, 0, -8, 0)
        bold = QFont(opt.font)
        bold.setBold(True)
        name = str(index.data(NameRole) or "")
        painter.save()
        painter.setFont(bold)
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text))
        name_w = QFontMetrics(bold).horizontalAdvance(name)
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), name)
        summary = str(index.data(SummaryRole) or "")
        rest = rect.adjusted(name_w + 12, 0, 0, 0)
        painter.setFont(opt.font)
        if not selected:
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        text = QFontMetrics(opt.font).elidedText(summary, Qt.TextElideMode.ElideRight, max(0, rest.width()))
        painter.drawText(rest, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)
        painter.restore()

    @staticmethod
    def _paint_heading(painter: QPainter, option: QStyleOptionViewItem, text: str) -> None:
        font = QFont(option.font)
        font.setBold(True)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        painter.save()
        painter.setFont(font)
        painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(option.rect.adjusted(6, 4, -6, 0),
                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text.upper())
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        metrics = QFontMetrics(option.font)
        if index.data(NameRole) is None:
            return QSize(metrics.horizontalAdvance(str(index.data(Qt.ItemDataRole.DisplayRole) or "")) + 24,
                         metrics.height() + 8)
        text = f"{index.data(NameRole)}    {index.data(SummaryRole)}"
        return QSize(min(640, metrics.horizontalAdvance(text) + 40), metrics.height() + 12)


GROUP_HEADINGS = {"built-in": "Built-in models", "yours": "Your models (trained or imported)",
                  "temporary": "Temporary (not saved)"}


def grouped(choices: list[ModelChoice]) -> list[tuple[str, list[ModelChoice]]]:
    """The selector's groups, built-in first, each in the store's order; empty groups left out.

    Why groups: with the seed systems shipped beside `default` and `fast`, a person's own
    fine-tuned models would otherwise be lost in a list of ten names."""
    return [(heading, members) for kind, heading in GROUP_HEADINGS.items()
            if (members := [c for c in choices if c.kind_label == kind])]


class ModelPanel(QGroupBox):
    """Model selector with a one-line description; the full card and metrics on demand."""

    model_selected = Signal(str)
    import_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self._choices: dict[str, ModelChoice] = {}
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.combo.setAccessibleName("Model")
        self.combo.setItemDelegate(_ModelItemDelegate(self.combo))
        self.combo.currentIndexChanged.connect(self._on_index)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        dim(self.summary)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setIcon(resources.icon("info"))
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the model's card and metrics")
        self.details_button.toggled.connect(self._toggle_details)
        self.import_button = QToolButton()
        self.import_button.setText("Import…")
        self.import_button.setIcon(resources.icon("import"))
        self.import_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.import_button.setToolTip("Add a model file (.safetensors) someone shared with you")
        self.import_button.clicked.connect(self.import_requested)
        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(160)
        self.details.setAccessibleName("Model details")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.details_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.combo)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(self.details)
        self.set_choices([], None)

    # ------------------------------------------------------------------ content

    def set_choices(self, choices: list[ModelChoice], select: str | None) -> None:
        """Refill without emitting for the programmatic selection; the tab emits what it needs."""
        groups = grouped(choices)
        self._choices = {c.name: c for _, members in groups for c in members}
        self.combo.blockSignals(True)
        self.combo.clear()
        for heading, members in groups:
            self._add_heading(heading)
            for choice in members:
                self.combo.addItem(choice.name)
                index = self.combo.count() - 1
                self.combo.setItemData(index, choice.name, NameRole)
                self.combo.setItemData(index, choice.summary(), SummaryRole)
                self.combo.setItemData(index, choice.tooltip_html(), Qt.ItemDataRole.ToolTipRole)
        if choices:  # the popup is as wide as its longest "name  description" row (within reason)
            delegate, option = self.combo.itemDelegate(), QStyleOptionViewItem()
            option.font = self.combo.font()
            widest = max(delegate.sizeHint(option, self.combo.model().index(i, 0)).width()
                         for i in range(self.combo.count()))
            self.combo.view().setMinimumWidth(min(560, widest))
        if not choices:
            self.combo.setPlaceholderText("No model installed")
            self.combo.setCurrentIndex(-1)
        else:
            first = next(iter(self._choices))
            self.combo.setCurrentIndex(self._index_of(select if select in self._choices else first))
        self.combo.setEnabled(bool(choices))
        self.details_button.setEnabled(bool(choices))
        self.combo.blockSignals(False)
        self._show_current()

    def current_name(self) -> str | None:
        data = self.combo.currentData(NameRole)
        return str(data) if data is not None else None

    def current_choice(self) -> ModelChoice | None:
        name = self.current_name()
        return self._choices.get(name) if name else None

    def choice(self, name: str) -> ModelChoice | None:
        return self._choices.get(name)

    def names(self) -> list[str]:
        return list(self._choices)

    def select(self, name: str) -> bool:
        """Select `name` as if the person had (emits model_selected when it changes)."""
        if name not in self._choices:
            return False
        self.combo.setCurrentIndex(self._index_of(name))
        return True

    def set_status(self, text: str) -> None:
        """A transient line under the selector ('Loading model…', or why it failed)."""
        choice = self.current_choice()
        base = self._summary_text(choice) if choice else self.summary.text()
        self.summary.setText(f"{base}\n{text}" if text and choice else (text or base))

    # ------------------------------------------------------------------ internals

    def _index_of(self, name: str) -> int:
        return self.combo.findData(name, NameRole)

    def _add_heading(self, text: str) -> None:
        """A row that names the group below it; it cannot be chosen or reached with the keys."""
        self.combo.addItem(text)
        item = self.combo.model().item(self.combo.count() - 1)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        item.setData(text, Qt.ItemDataRole.AccessibleTextRole)

    def _summary_text(self, choice: ModelChoice) -> str:
        return f"{choice.summary()} ({choice.kind_label})"

    def _show_current(self) -> None:
        choice = self.current_choice()
        if choice is None:
            self.summary.setText("No colorization model is installed yet. Import a model file "
                                 "(.safetensors) to start colorizing.")
            self.combo.setToolTip("")
            self.details.clear()
            return
        self.summary.setText(self._summary_text(choice))
        self.combo.setToolTip(choice.tooltip_html())
        self.details.setMarkdown(choice.details_markdown())

    def _on_index(self, index: int) -> None:
        self._show_current()
        name = self.current_name()
        if name:
            self.model_selected.emit(name)

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)


class AdjustPanel(QGroupBox):
    """Saturation, render size and (classification models only) vividness."""

    changed = Signal()

    SIZE_MIN, SIZE_MAX, SIZE_STEP = 128, 1024, 32

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Adjust", parent)
        self._model_work_size = 256
        self._size_touched = False
        self._default_vividness = 50  # replaced by the model's default temperature once one is chosen
        self._vivid_touched = False
        self.saturation_row = SliderRow("Saturation", 0, 200, 100, lambda v: f"{v} %", "Muted", "Intense", step=5)
        self.size_row = SliderRow("Render size", self.SIZE_MIN, self.SIZE_MAX, 256, self._size_text,
                                   "Faster", "More detail", step=self.SIZE_STEP)
        self.size_row.slider.setToolTip("The resolution the model looks at. Larger finds more detail but takes longer; "
                                        "the photo itself always keeps its full resolution.")
        # Slider value v is 100 × (1 − T): right = lower annealed-mean temperature = more vivid.
        # People see a plain scale; the temperature itself is in the tooltip and the model details.
        self.vivid_row = SliderRow("Vividness", 0, 95, self._default_vividness, self._vivid_text,
                                    "Natural", "Vivid", step=1)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the model's defaults")
        self.reset_button.clicked.connect(self.reset)
        self.saturation_row.slider.valueChanged.connect(self.changed)
        self.size_row.slider.valueChanged.connect(self._on_size)
        self.vivid_row.slider.valueChanged.connect(self._on_vivid)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.saturation_row)
        layout.addWidget(self.size_row)
        layout.addWidget(self.vivid_row)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.reset_button)
        layout.addLayout(row)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_classification(True)

    # ------------------------------------------------------------------ values

    def saturation(self) -> float:
        return self.saturation_row.slider.value() / 100.0

    def work_size(self) -> int | None:
        """None means "the model's own render size" (follows a model change)."""
        return self.size_row.slider.value() if self._size_touched else None

    def temperature(self) -> float:
        return (100 - self.vivid_row.slider.value()) / 100.0

    def changed_temperature(self) -> float | None:
        """The vividness as a temperature if the person moved it, else None (the model's own)."""
        return self.temperature() if self._vivid_touched else None

    def restore(self, saturation: float, work_size: int | None, temperature: float | None) -> None:
        """Put back saved adjustments (a restored session); emits `changed` once."""
        sliders = [self.saturation_row.slider, self.size_row.slider, self.vivid_row.slider]
        for s in sliders:
            s.blockSignals(True)
        self.saturation_row.slider.setValue(round(saturation * 100))
        if work_size is not None:
            self.size_row.slider.setValue(work_size)
            self._size_touched = True  # saved only when chosen: it no longer follows the model
        if temperature is not None:
            self.vivid_row.slider.setValue(round((1 - temperature) * 100))
            self._vivid_touched = True
        for s in sliders:
            s.blockSignals(False)
        for row in (self.saturation_row, self.size_row, self.vivid_row):
            row.refresh_label()
        self.changed.emit()

    def set_model_defaults(self, work_size: int, classification: bool, temperature: float | None = None) -> None:
        self._model_work_size = clamp_work_size(work_size)  # as the engine does: never past the limit
        slider = self.size_row.slider
        slider.blockSignals(True)  # the range always includes the model's own size
        slider.setRange(min(self.SIZE_MIN, self._model_work_size), max(self.SIZE_MAX, self._model_work_size))
        slider.blockSignals(False)
        if not self._size_touched:
            self._set_size_quietly(self._model_work_size)
        self.size_row.refresh_label()
        if temperature is not None:
            self._default_vividness = round((1 - temperature) * 100)
            if not self._vivid_touched:
                self.vivid_row.slider.blockSignals(True)
                self.vivid_row.slider.setValue(self._default_vividness)
                self.vivid_row.slider.blockSignals(False)
            self.vivid_row.refresh_label()  # the words are relative to the model's setting
        self.set_classification(classification)

    def set_classification(self, classification: bool) -> None:
        self.vivid_row.setEnabled(classification)
        self.vivid_row.setToolTip("" if classification else
                                  "This model predicts color directly, so it has no vividness setting.")

    def reset(self) -> None:
        blockers = [self.saturation_row.slider, self.size_row.slider, self.vivid_row.slider]
        for s in blockers:
            s.blockSignals(True)
        self.saturation_row.slider.setValue(100)
        self._size_touched = False
        self.size_row.slider.setValue(self._model_work_size)
        self._vivid_touched = False
        self.vivid_row.slider.setValue(self._default_vividness)
        for s in blockers:
            s.blockSignals(False)
        for row in (self.saturation_row, self.size_row, self.vivid_row):
            row.refresh_label()
        self.changed.emit()

    # ------------------------------------------------------------------ internals

    def _vivid_text(self, value: int) -> str:
        """A word for where the slider sits, relative to the model's own calibrated setting; the
        temperature it stands for goes in the tooltip."""
        row = getattr(self, "vivid_row", None)  # None while the row itself is being built
        if row is not None:
            row.slider.setToolTip(
                "Natural keeps colors safe and believable; Vivid dares stronger colors, which can be wrong.\n"
                f"Technically: annealed-mean temperature T = {(100 - value) / 100:.2f} (this model's calibrated "
                f"setting is T = {(100 - self._default_vividness) / 100:.2f}; lower is more vivid).")
        step = value - self._default_vividness
        if abs(step) <= 2:
            return "Model's choice"
        if step > 0:
            return "More vivid" if step <= 20 else "Much more vivid"
        return "More natural" if step >= -20 else "Much more natural"

    def _size_text(self, value: int) -> str:
        return f"{value} px" + (" (model default)" if value == self._model_work_size else "")

    def _set_size_quietly(self, value: int) -> None:
        self.size_row.slider.blockSignals(True)
        self.size_row.slider.setValue(value)
        self.size_row.slider.blockSignals(False)
        self.size_row.refresh_label()

    def _on_vivid(self, value: int) -> None:
        self._vivid_touched = value != self._default_vividness
        self.changed.emit()

    def _on_size(self, value: int) -> None:
        snapped = round(value / self.SIZE_STEP) * self.SIZE_STEP
        if snapped != value and value != self._model_work_size:
            self.size_row.slider.setValue(snapped)  # re-enters with the snapped value
            return
        self._size_touched = value != self._model_work_size
        self.changed.emit()
