"""A model's metadata in a photographer's words: what it is good at, how fast, what its numbers mean.

Model files describe themselves for engineers ("U-Net classifying 261 ab bins with class
rebalancing"). The window and `chroma models list` also need one plain line and labelled
metrics, and they must come from the file's own metadata (metrics, training notes, size), so a
model someone trains or shares gets an honest line too, without anyone writing it by hand.

The thresholds are stated here once; they are about wording, not about how a model computes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..evaluation.metric_table import METRICS

# Work per photo, in millions of weights × (render size / 256)²: the built-in `fast` is ~1.8,
# `default` ~7.2 (0.6 s and 0.8 s for a 12 MP photo end to end on a 2-core laptop CPU, most of
# it spent outside the network). Bounds are upper limits, checked in order.
_SPEED = ((3.0, "fastest: instant previews"), (12.0, "about a second per photo"), (40.0, "a few seconds per photo"),
          (math.inf, "slow: several seconds per photo"))
# Colorfulness of its results over that of the real photos (1.0: as colorful as reality).
_COLOR = ((0.6, "muted, cautious color"), (0.85, "moderate color"), (math.inf, "lively color"))
_TOO_LITTLE_TRAINING = (200, 50)  # steps, training photos: below either it is a test, say so

# The metrics a person reads in the model details, in this order (labels, units and which way is
# better: ml_core.evaluation.metric_table). Names not listed are not shown as numbers.
SHOWN_METRICS = ("psnr", "auc_rebalanced", "auc", "colorfulness_ratio", "ssim", "ab_mse", "images")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def work_units(parameters: int | None, work_size: int) -> float | None:
    """Millions of weights × (render size / 256)²: how much the network computes per photo."""
    if not parameters or parameters <= 0:
        return None
    return parameters / 1e6 * (max(int(work_size), 1) / 256.0) ** 2


def speed_phrase(parameters: int | None, work_size: int) -> str:
    units = work_units(parameters, work_size)
    if units is None:
        return ""
    return next(text for bound, text in _SPEED if units <= bound)


def plain_summary(info: Any, parameters: int | None = None) -> str:
    """One line: colors, speed, and what else the training notes say it copes with.

    `info` is a `ModelInfo` (or anything with the same fields); `parameters` is used when the
    training notes do not count them (models packed by hand)."""
    training: Mapping[str, Any] = info.training if isinstance(info.training, Mapping) else {}
    metrics: Mapping[str, Any] = info.metrics if isinstance(info.metrics, Mapping) else {}
    settings = training.get("settings") if isinstance(training.get("settings"), Mapping) else {}
    data = training.get("data") if isinstance(training.get("data"), Mapping) else {}
    parts: list[str] = []
    steps, photos = _number(training.get("steps_completed")), _number(data.get("train"))
    if (steps is not None and steps < _TOO_LITTLE_TRAINING[0]) or \
            (photos is not None and photos < _TOO_LITTLE_TRAINING[1]):
        what = f"{photos:,.0f} photos" if photos is not None else f"{steps:,.0f} steps"
        parts.append(f"a quick test, trained on only {what}: expect weak color")
    ratio = _number(metrics.get("colorfulness_ratio"))
    if ratio is not None and not parts:
        parts.append(next(text for bound, text in _COLOR if ratio < bound))
    if info.output_kind == "ab" and not parts:
        parts.append("safe, muted color")
    counted = _number(training.get("parameters"))
    speed = speed_phrase(int(counted) if counted else parameters, info.work_size)
    if speed:
        parts.append(speed)
    base = training.get("base")
    if isinstance(base, str) and base and not training.get("from_scratch", True):
        parts.append(f"tuned from {base}" + (f" on {photos:,.0f} of your photos" if photos else ""))
    if settings.get("damage"):
        parts.append("copes with faded, damaged prints")
    elif isinstance(info.config, Mapping) and info.config.get("input_levels"):
        parts.append("copes with faded prints")
    if not parts:
        return ""
    text = " · ".join(parts)
    return text[0].upper() + text[1:]


def metric_lines(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value with unit and direction) for the metrics a person can read, in a fixed order;
    raw names without a label are left out rather than shown bare."""
    out = []
    for key in SHOWN_METRICS:
        m = METRICS[key]
        label, unit, note = m.plain or m.label, m.unit, m.note
        value = _number(metrics.get(key))
        if value is None:
            continue
        if unit == "%":
            text = f"{value * 100:.1f} %"
        elif key == "images":
            text = f"{value:,.0f}"
        elif key == "ssim":
            text = f"{value:.3f}"
        else:
            text = f"{value:.1f} {unit}"
        out.append((label, f"{text} ({note})" if note else text))
    return out
