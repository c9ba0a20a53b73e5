"""`chroma eval DIR... --model M [--size S] [--limit N] [--json]`: how well does a model colorize?

Each color photo is turned into the gray print of its own lightness, colorized by the engine,
and compared with the photo: PSNR, SSIM, AuC of ab error (plain and class-rebalanced), ab MSE,
colorfulness ratio, each next to the gray baseline (a = b = 0) that any model must beat.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..evaluation.metric_table import METRICS

# The table's rows: (label, key, gray baseline's key, format), from ml_core.evaluation.metric_table (torch-free),
# which the model card and the report scripts read too.
ROWS = tuple((m.label, m.name, m.gray, m.fmt) for m in (METRICS[key] for key in (
    "psnr", "ssim", "auc", "auc_rebalanced", "ab_mse", "colorfulness", "colorfulness_ratio")))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="measure a model's colorization quality on color photos")
    p.add_argument("inputs", nargs="+", metavar="DIR", help="color photos or folders of them (searched recursively)")
    p.add_argument("--model", default=None, help="model name or .safetensors file (default: the default model)")
    p.add_argument("--size", type=int, default=None,
                   help="render size: long side the model sees (default: the model's)")
    p.add_argument("--limit", type=int, default=None, help="only the first N photos in sorted order")
    p.add_argument("--temperature", type=float, default=None,
                   help="annealed-mean temperature for classification models")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--per-image", action="store_true", help="with --json: include every photo's metrics")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def format_table(summary: dict[str, Any]) -> str:
    lines = [f"{'metric':<22}{'model':>10}{'gray':>10}"]
    truth = summary.get("colorfulness_truth")
    for label, key, gray_key, _ in ROWS:
        m = METRICS[key]
        gray = m.format(summary.get(gray_key)) if gray_key else "-"
        lines.append(f"{label:<22}{m.format(summary.get(key)):>10}{gray:>10}")
    lines.append(f"{'(truth colorfulness)':<22}{METRICS['colorfulness'].format(truth):>10}")
    return "\n".join(lines)


def _json_safe(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def run(args: argparse.Namespace) -> int:
    from ..evaluation.metrics import evaluate_files
    from ..inference.engine import Colorizer
    from ..io.imageio import collect_images
    from ..modelfiles.modelfile import ModelFileError
    from ..modelfiles.store import ModelStore

    paths, problems = collect_images(args.inputs)
    for path, reason in problems:
        print(f"warning: {path}: {reason}", file=sys.stderr)
    paths = sorted(paths, key=lambda p: str(p))
    if args.limit is not None:
        if args.limit < 1:
            print("error: --limit must be at least 1", file=sys.stderr)
            return 2
        paths = paths[: args.limit]
    if not paths:
        print("error: no photos to evaluate", file=sys.stderr)
        return 2
    store = ModelStore()
    try:
        ref = args.model or store.default_name()
        loaded = store.load(ref)
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    colorizer = Colorizer(loaded)
    size = args.size or colorizer.default_work_size
    bar = tqdm(total=len(paths), unit="photo", disable=args.quiet, file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        bar.n = done
        bar.refresh()

    summary, records, skipped = evaluate_files(colorizer, paths, work_size=size, temperature=args.temperature,
                                               progress=progress)
    bar.close()
    for path, reason in skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if not summary["images"]:
        print("error: none of the photos could be evaluated", file=sys.stderr)
        return 1
    name = loaded.info.name or (Path(loaded.path).stem if loaded.path else str(ref))
    if args.json:
        out = _json_safe(dict(summary))
        out.update(model=name, model_path=str(loaded.path) if loaded.path else None, arch=loaded.info.arch,
                   size=size, skipped=len(skipped) + len(problems))
        if args.per_image:
            out["per_image"] = [_json_safe(r) for r in records]
        print(json.dumps(out))
    else:
        print(f"model {name} ({loaded.info.arch}), {summary['images']} photos, render size {size}"
              + (f", {len(skipped)} skipped" if skipped else ""))
        print(format_table(summary))
    return 0
