"""Current metrics on the validation photos, next to the starting point's and the best epoch's.

Fine-tuning: the starting point is the base model itself (ml_core validates it as epoch 0, on the
same photos). From scratch: the gray photo (what you get with no color at all), which ml_core
reports with every validation as gray_psnr.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from ml_core.evaluation.metric_table import METRICS, is_better

from ..widgets.labels import dim

BETTER = QColor(40, 160, 80)
WORSE = QColor(214, 80, 60)

ROWS = ("psnr", "colorfulness_ratio", "val_loss")  # labels, tooltips, formats: ml_core.evaluation.metric_table
COLUMNS = ("base", "best", "latest")


def _fmt(key: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    m = METRICS[key]
    return f"{m.format(value)} {m.unit}" if m.unit == "dB" else m.format(value)


def summary_values(summary: Any) -> dict[str, float | None]:
    """The panel's numbers from an ml_core EpochSummary."""
    m = summary.metrics or {}
    return {"psnr": m.get("psnr"), "colorfulness_ratio": m.get("colorfulness_ratio"), "val_loss": summary.val_loss}


def gray_values(summary: Any) -> dict[str, float | None]:
    """The gray photo as the baseline: no color at all."""
    m = summary.metrics or {}
    return {"psnr": m.get("gray_psnr"), "colorfulness_ratio": 0.0, "val_loss": None}


class MetricsPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Validation metrics", parent)
        self.values: dict[str, dict[str, float | None]] = {c: {} for c in COLUMNS}
        self.cells: dict[tuple[str, str], QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(6)
        self.headers: dict[str, QLabel] = {}
        for c, title in enumerate(("Base model", "Best", "Latest"), start=1):
            label = QLabel(title)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)
            dim(label)
            grid.addWidget(label, 0, c)
            self.headers[COLUMNS[c - 1]] = label
        for r, key in enumerate(ROWS, start=1):
            m = METRICS[key]
            title, tip = m.label.split(" (")[0], m.tip  # the unit is in the cells
            name = QLabel(title[:1].upper() + title[1:])
            name.setToolTip(tip)
            grid.addWidget(name, r, 0)
            for c, column in enumerate(COLUMNS, start=1):
                cell = QLabel("—")
                cell.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                cell.setToolTip(tip)
                cell.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                if column == "latest":
                    font = QFont(cell.font())
                    font.setBold(True)
                    cell.setFont(font)
                grid.addWidget(cell, r, c)
                self.cells[(key, column)] = cell
        grid.setColumnStretch(0, 1)
        self.note = QLabel()
        self.note.setWordWrap(True)
        dim(self.note)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.reset(fine_tune=True)

    def reset(self, fine_tune: bool) -> None:
        self.fine_tune = fine_tune
        self.values = {c: {} for c in COLUMNS}
        self.headers["best"].setText("Best")
        self.headers["best"].setToolTip("The epoch kept as the new model: the best validation loss so far "
                                        "(training loss when no photos are set aside)")
        self.headers["base"].setText("Base model" if fine_tune else "Gray photo")
        self.headers["base"].setToolTip("The model you started from, on the same validation photos" if fine_tune
                                        else "The photo left gray: what no color at all scores")
        self.note.setText("Measured on the validation photos, which the model never trains on. "
                          + ("Green: better than the base model." if fine_tune
                             else "Green: better than leaving it gray."))
        self._refresh()

    def set_base(self, values: dict[str, float | None]) -> None:
        self.values["base"] = dict(values)
        self._refresh()

    def set_best(self, values: dict[str, float | None], epoch: int | None = None) -> None:
        self.values["best"] = dict(values)
        self.headers["best"].setText(f"Best\nepoch {epoch}" if epoch else "Best")
        self._refresh()

    def set_latest(self, values: dict[str, float | None]) -> None:
        self.values["latest"] = dict(values)
        self._refresh()

    def text(self, key: str, column: str) -> str:
        return self.cells[(key, column)].text()

    def _refresh(self) -> None:
        base = self.values["base"]
        for key in ROWS:
            for column in COLUMNS:
                value = self.values[column].get(key)
                cell = self.cells[(key, column)]
                cell.setText(_fmt(key, value))
                verdict = is_better(key, value, base.get(key)) if column != "base" else None
                pal = self.palette()
                if verdict is True:
                    pal.setColor(QPalette.ColorRole.WindowText, BETTER)
                elif verdict is False:
                    pal.setColor(QPalette.ColorRole.WindowText, WORSE)
                cell.setPalette(pal)
