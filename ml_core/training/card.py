"""Model cards: the NAME.md written beside every trained model file.

A person choosing a model (or sharing one) should see what it was trained on, how, for how
long, and how it compares with doing nothing (the gray baseline), without opening the file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..evaluation.metric_table import METRICS, QUALITY
from ..io.atomic import atomic_write_text
from .config import REASON_LABELS, REASONS


def _fmt(value: Any, pattern: str = "{:.4g}") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return pattern.format(value)
    return str(value)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min" if h else (f"{m} min {s:02d} s" if m else f"{s} s")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def shown_folder(folder: str, start: Path | None = None) -> str:
    """A data folder as the card shows it: relative to where training ran when it lies there or one
    level up (`../shared/photos/train/x`), under `~` when in the home folder, else as recorded.

    Why: a card is read on other machines (and committed beside built-in models); an absolute
    path names one machine's layout and its user, a relative one says what was used.
    """
    path = Path(folder)
    if not path.is_absolute():
        return folder
    start = (start or Path.cwd()).resolve()
    for base, prefix in ((start, ""), (start.parent, "../")):
        try:
            return prefix + path.relative_to(base).as_posix()
        except ValueError:
            continue
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except (ValueError, RuntimeError):
        return folder


def metrics_table(metrics: dict[str, Any]) -> list[str]:
    lines = ["| metric | this model | gray baseline (a = b = 0) |", "|---|---:|---:|"]
    for key in QUALITY:
        if key not in metrics:
            continue
        m = METRICS[key]
        gray = metrics.get(m.gray) if m.gray else None
        label = f"{m.label}, {m.note}" if m.note.endswith("is better") else m.label
        lines.append(f"| {label} | {_fmt(metrics.get(key), m.fmt)} | {_fmt(gray, m.fmt) if m.gray else '–'} |")
    return lines


def render_card(
    name: str, arch: str, config: dict[str, Any], training: dict[str, Any], metrics: dict[str, Any],
    description: str = "",
) -> str:
    data = training.get("data", {})
    settings = training.get("settings", {})
    out = [f"# {name}", ""]
    if description:
        out += [description, ""]
    base = training.get("base")
    if base:
        out.append(f"Fine-tuned from **{base}** (architecture `{arch}`).")
    elif training.get("init_from"):
        out.append(f"Architecture `{arch}`, started from the weights of `{training['init_from']}` (a warm start).")
    else:
        out.append(f"Trained from scratch: architecture `{arch}`.")
    out += ["", f"Architecture config: `{json.dumps(config, sort_keys=True)}`", ""]
    if training.get("parameters"):
        out += [f"Parameters: {training['parameters']:,} ({training.get('trainable_parameters', 0):,} trained)", ""]

    out += ["## Data", ""]
    for folder in data.get("folders", []):
        out.append(f"- `{shown_folder(folder)}`")
    out += [
        "",
        f"{data.get('usable', 0)} usable photos: {data.get('train', 0)} for training, "
        f"{data.get('val', 0)} for validation (split by {data.get('split', 'file')}, seed {settings.get('seed', 0)}).",
        "",
    ]
    skipped = data.get("skipped", {})
    if any(skipped.values()):
        out += ["| skipped because | files |", "|---|---:|"]
        for reason in REASONS:
            if skipped.get(reason):
                out.append(f"| {REASON_LABELS[reason]} | {skipped[reason]} |")
        out.append("")
    else:
        out += ["No files were skipped.", ""]

    out += ["## Settings", "", "| setting | value |", "|---|---|"]
    for key in ("epochs", "steps", "batch_size", "world_size", "image_size", "optimizer", "lr", "weight_decay",
                "schedule", "warmup_steps", "grad_clip", "loss", "rebalance_lambda", "freeze_encoder", "crop",
                "lightness_jitter", "damage", "source_balance", "bf16", "device", "seed"):
        if key in settings and settings[key] is not None:
            out.append(f"| {key.replace('_', ' ')} | {_fmt(settings[key])} |")
    out.append("")
    seconds = training.get("seconds")
    if seconds is not None:
        out.append(
            f"Trained for {training.get('steps_completed', 0)} steps "
            f"({_plural(training.get('epochs_completed', 0), 'epoch')}) "
            f"in {_duration(seconds)}; finished {training.get('finished', '')}."
        )
        out.append("")

    out += ["## Results", ""]
    best = training.get("best") or {}
    if best:
        out += [f"Best epoch {best.get('epoch')} by {best.get('metric')} = {_fmt(best.get('value'))}, "
                f"on {metrics.get('images', data.get('val', 0))} validation crops at "
                f"{settings.get('image_size')}²:", ""]
    if metrics:
        out += metrics_table(metrics) + [""]
    history = training.get("history") or []
    if history:
        out += ["| epoch | train loss | val loss | PSNR | AuC | AuC rebal. |", "|---:|---:|---:|---:|---:|---:|"]
        for row in history:
            out.append(
                f"| {row.get('epoch')} | {_fmt(row.get('train_loss'))} | {_fmt(row.get('val_loss'))} | "
                f"{_fmt(row.get('psnr'), '{:.2f}')} | {_fmt(row.get('auc'), '{:.4f}')} | "
                f"{_fmt(row.get('auc_rebalanced'), '{:.4f}')} |"
            )
        out.append("")
    out += ["Metrics: PSNR/ab MSE on 8-bit RGB and CIELAB; AuC as Zhang et al. (2016); colorfulness as "
            "Hasler & Süsstrunk (2003). Epoch 0 is the starting model, before any training.", ""]
    return "\n".join(out)


def write_card(path: Path, text: str) -> Path:
    atomic_write_text(Path(path), text)
    return Path(path)
