"""The Repair panel: scratches & dust, grain and fading, each on/off with a strength, and two view
switches (show the damage mask; compare against the untouched original).

Only settings live here: the repair itself is ml_core.repair, run by the preview job on a worker
and again by the export at full resolution. The panel hands out one `RepairSettings` (None when
every tool is off), so a preview key, an export and a saved session all hold the same value.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from ml_core.repair.settings import TOOLS, RepairSettings

from ..widgets.collapsible import Collapsible
from ..widgets.slider_row import SliderRow

_TITLES = {"scratches": "Scratches && dust", "grain": "Grain", "fading": "Fading"}
_TIPS = {
    "scratches": "Finds thin bright or dark lines and specks that are not part of the picture and fills them "
                 "from their surroundings. Stronger finds fainter damage (and may touch fine texture).",
    "grain": "Smooths film grain and noise while keeping edges and faces; stronger smooths further.",
    "fading": "Restores the black and white points and a little local contrast of a faded print.",
}


class RepairPanel(Collapsible):
    """`changed`: a setting that changes the render (a tool or a strength); `view_changed`: only
    what the view shows (mask, original). Closed by default, and every tool starts off: a photo
    is repaired only when the person asks for it."""

    changed = Signal()
    view_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        body = QWidget()
        super().__init__("Repair", body, parent)
        self.toggle.setToolTip("Repair scratches, dust, grain and fading before colorizing")
        self.switches: dict[str, QCheckBox] = {}
        self.rows: dict[str, SliderRow] = {}
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 2, 4, 6)
        layout.setSpacing(6)
        self.mask_check = QCheckBox("Show mask")
        self.original_check = QCheckBox("Compare with the original")
        for tool in TOOLS:
            switch = QCheckBox(_TITLES[tool])
            switch.setToolTip(_TIPS[tool])
            row = SliderRow("Strength", 0, 100, 50, lambda v: f"{v} %", "Gentle", "Strong", step=5)
            row.slider.setAccessibleName(f"{_TITLES[tool].replace('&&', 'and')} strength")
            row.setEnabled(False)
            switch.toggled.connect(row.setEnabled)
            switch.toggled.connect(self._sync_view_switches)
            switch.toggled.connect(self.changed)
            row.slider.valueChanged.connect(self._on_strength)
            self.switches[tool], self.rows[tool] = switch, row
            layout.addWidget(switch)
            indented = QHBoxLayout()  # the strength reads as belonging to the switch above it
            indented.setContentsMargins(22, 0, 0, 4)
            indented.addWidget(row)
            layout.addLayout(indented)
        self.mask_check.setToolTip("Tint in red what scratches && dust repair fills, on the gray side")
        self.original_check.setToolTip("The gray side shows the photo as it was, not the repaired one")
        for check in (self.mask_check, self.original_check):
            check.setEnabled(False)
            check.toggled.connect(self.view_changed)
            layout.addWidget(check)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    # ------------------------------------------------------------------ values

    def settings(self) -> RepairSettings | None:
        """What the preview and the export apply; None when every tool is off (nothing to do)."""
        settings = self.all_settings()
        return settings if settings.any_enabled else None

    def all_settings(self) -> RepairSettings:
        """Every switch and strength as they are (for the session: strengths of tools switched off
        are kept too, so turning one back on next time finds its strength)."""
        values: dict[str, object] = {}
        for tool in TOOLS:
            values[tool] = self.switches[tool].isChecked()
            values[f"{tool}_strength"] = self.rows[tool].slider.value() / 100.0
        return RepairSettings(**values)  # type: ignore[arg-type]

    def restore(self, settings: RepairSettings) -> None:
        """Put back saved settings (a restored session); emits `changed` once."""
        widgets = [*self.switches.values(), *(r.slider for r in self.rows.values())]
        for w in widgets:
            w.blockSignals(True)
        for tool in TOOLS:
            on = bool(getattr(settings, tool))
            self.switches[tool].setChecked(on)
            self.rows[tool].setEnabled(on)
            self.rows[tool].slider.setValue(round(getattr(settings, f"{tool}_strength") * 100))
            self.rows[tool].refresh_label()
        for w in widgets:
            w.blockSignals(False)
        if settings.any_enabled:
            self.set_open(True)
        self._sync_view_switches()
        self.changed.emit()

    def show_mask(self) -> bool:
        return self.mask_check.isChecked() and self.mask_check.isEnabled()

    def show_original(self) -> bool:
        return self.original_check.isChecked() and self.original_check.isEnabled()

    # ------------------------------------------------------------------ internals

    def _on_strength(self, _value: int) -> None:
        self.changed.emit()

    def _sync_view_switches(self, *_args) -> None:
        """The view switches only mean something while a tool is on (the mask: scratches)."""
        before = (self.show_mask(), self.show_original())
        self.mask_check.setEnabled(self.switches["scratches"].isChecked())
        self.original_check.setEnabled(any(s.isChecked() for s in self.switches.values()))
        if (self.show_mask(), self.show_original()) != before:
            self.view_changed.emit()
