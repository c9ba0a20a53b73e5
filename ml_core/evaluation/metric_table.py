"""Every quality metric Chroma reports, defined once: name, label, format, which way is better.

The model card, `chroma eval`, the Training tab's metrics panel, the model details in the window
(`model_plain`), the trainer's choice of best epoch and the report scripts all read this table,
so a metric is labelled and rounded the same everywhere and adding one is one row. Torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Metric:
    name: str  # the key in metric dicts (ml_core.evaluation.metrics summaries, training history, model metadata)
    label: str  # short, for tables: "PSNR (dB)"
    fmt: str  # how a value is printed in tables: "{:.2f}"
    better: str  # "higher" | "lower" | "one" (closer to 1 is better) | "" (a count, not a quality)
    gray: str | None = None  # the key of the same measure for the gray photo (a = b = 0), if reported
    plain: str | None = None  # the label a person reads in the window; None: not shown there
    unit: str = ""
    note: str = ""  # how to read it, for people: "higher is better"
    tip: str = ""  # one sentence for a tooltip
    selectable: bool = False  # can pick the best epoch (`chroma train --select`)

    @property
    def mode(self) -> str:
        """'max' or 'min': how the trainer compares two values."""
        return "max" if self.better == "higher" else "min"

    def format(self, value: Any) -> str:
        """The table text for a value ('-' for a missing or non-finite one)."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return "-"
        return self.fmt.format(value)


_ROWS = (
    Metric("val_loss", "validation loss", "{:.4f}", "lower",
           tip="The training objective on photos the model does not train on (lower is better)", selectable=True),
    Metric("psnr", "PSNR (dB)", "{:.2f}", "higher", gray="gray_psnr", plain="Closeness to the real colors (PSNR)",
           unit="dB", note="higher is better", tip="How close the colors are to the originals' (dB, higher is better)",
           selectable=True),
    Metric("ssim", "SSIM", "{:.4f}", "higher", gray="gray_ssim",
           plain="Structural similarity to the real photos (SSIM)", note="1 is identical"),
    Metric("auc", "AuC (ab error 0-150)", "{:.4f}", "higher", gray="gray_auc",
           plain="Colors within reach of the truth (AuC)", unit="%", note="higher is better", selectable=True),
    Metric("auc_rebalanced", "AuC, rebalanced", "{:.4f}", "higher", gray="gray_auc_rebalanced",
           plain="Colors within reach of the truth, rare colors weighted up (AuC)", unit="%", note="higher is better",
           selectable=True),
    Metric("ab_mse", "ab MSE", "{:.1f}", "lower", gray="gray_ab_mse",
           plain="Average color error (mean squared a*b* distance)", unit="CIELAB units²", note="lower is better",
           selectable=True),
    Metric("colorfulness", "colorfulness", "{:.2f}", "", gray="gray_colorfulness"),
    Metric("colorfulness_ratio", "colorfulness ratio", "{:.3f}", "one",
           plain="Colorfulness compared with the real photos", unit="%", note="100 % is as colorful as reality",
           tip="How colorful the results are compared with the originals: 1.00 = just as colorful. "
               "Models that are unsure play safe with grayish colors (well below 1)."),
    # Hint models only: the same validation photos with a fixed, seeded set of simulated hints.
    Metric("hint_val_loss", "validation loss with hints", "{:.4f}", "lower", selectable=True),
    Metric("hint_psnr", "PSNR with hints (dB)", "{:.2f}", "higher", selectable=True),
    Metric("hint_auc_rebalanced", "AuC, rebalanced, with hints", "{:.4f}", "higher", selectable=True),
    Metric("images", "photos measured", "{:,.0f}", "", plain="Validation photos measured"),
)
METRICS: dict[str, Metric] = {m.name: m for m in _ROWS}

# The comparison tables of card, `chroma eval` and the report scripts: these rows, in this order.
QUALITY = ("psnr", "ssim", "auc", "auc_rebalanced", "ab_mse", "colorfulness_ratio")
# What can pick the best epoch, and whether higher ("max") or lower ("min") wins.
SELECT_METRICS: dict[str, str] = {m.name: m.mode for m in _ROWS if m.selectable}


def is_better(name: str, new: float | None, old: float | None) -> bool | None:
    """Whether `new` beats `old` on metric `name` (None: equal, missing, or not a quality)."""
    better = METRICS[name].better
    if new is None or old is None or not (math.isfinite(new) and math.isfinite(old)) or new == old or not better:
        return None
    if better == "higher":
        return new > old
    if better == "lower":
        return new < old
    return abs(new - 1.0) < abs(old - 1.0)


def comparison_table(results: Mapping[str, Mapping[str, Any]], names: Mapping[str, str] | None = None,
                     keys: Iterable[str] = QUALITY) -> str:
    """A markdown table of `chroma eval --json` results, one row per model below the gray baseline
    (measured with the first result's photos), for READMEs and reports."""
    cols = [METRICS[k] for k in keys]
    first = next(iter(results.values()))
    gray = {m.name: first.get(m.gray) if m.gray else None for m in cols}
    if "colorfulness_ratio" in gray:
        gray["colorfulness_ratio"] = 0.0  # a gray photo has no color at all
    lines = ["| model | " + " | ".join(m.label for m in cols) + " |", "|" + "---|" * (len(cols) + 1)]
    rows = [("gray baseline (a = b = 0)", gray)] + [((names or {}).get(k, k), v) for k, v in results.items()]
    for label, r in rows:
        lines.append(f"| {label} | " + " | ".join(m.format(r.get(m.name)) for m in cols) + " |")
    return "\n".join(lines)
