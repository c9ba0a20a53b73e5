"""`chroma colorize`: photos and folders in, full-resolution color photos out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXPORT_FORMATS = ("jpg", "png", "tiff", "webp")  # kept torch-free: `chroma` parses args before loading torch
DEFAULT_TEMPERATURE = 0.38  # ml_core.quantize.DEFAULT_TEMPERATURE (a test keeps them equal)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("colorize", help="colorize photos or folders of photos")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="photo files or folders (searched recursively)")
    p.add_argument("-o", "--out", type=Path, default=Path("colorized"), help="output folder (default: ./colorized)")
    p.add_argument("--model", default=None, help="model name from `chroma models list`, or a .safetensors file")
    p.add_argument("--size", type=int, default=None, help="render size: long side the model sees (default: the model's)")
    p.add_argument("--saturation", type=float, default=1.0, help="chroma gain (1.0 = as predicted)")
    p.add_argument("--temperature", type=float, default=None, help=f"annealed-mean temperature for classification models: lower is more vivid (default: the model's own, else {DEFAULT_TEMPERATURE})")
    p.add_argument("--hints", type=Path, default=None, metavar="HINTS.json",
                   help='color hints for every input: {"hints": [{"x": 0.4, "y": 0.6, "color": "#b0302a"}, ...]} '
                        '(x, y relative 0..1, or "units": "pixels"; colors as "color", "rgb" or "ab")')
    p.add_argument("--reference", type=Path, default=None, metavar="PHOTO",
                   help="a color photo whose palette to transfer (matched by lightness and texture)")
    p.add_argument("--reference-strength", type=float, default=1.0, metavar="S",
                   help="0 = the model's colors, 1 = the reference's (default 1)")
    p.add_argument("--format", dest="fmt", choices=sorted(EXPORT_FORMATS), default="png")
    p.add_argument("--quality", type=int, default=92, help="JPEG/WebP quality")
    p.add_argument("--pattern", default="{name}_color", help="output file name pattern: {name}, {ext}, {model}")
    p.add_argument("--overwrite", action="store_true", help="replace earlier exports of the same name (never originals)")
    p.add_argument("--json", action="store_true", help="print one JSON record per file on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..batch import ExportSettings, colorize_files
    from ..engine import ColorizeOptions, Colorizer
    from ..hints import HintError, load_hint_file
    from ..imageio import ImageReadError, collect_images
    from ..modelfile import ModelFileError
    from ..reference import ReferencePalette
    from ..store import ModelStore

    if not 0.0 <= args.reference_strength <= 1.0:
        print(f"error: --reference-strength must be between 0 and 1, got {args.reference_strength}", file=sys.stderr)
        return 2
    # Guidance is checked before any photo is touched: a typo in hints.json must not cost a batch.
    try:
        hints = load_hint_file(args.hints) if args.hints is not None else ()
    except HintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        reference = ReferencePalette.from_file(args.reference) if args.reference is not None else None
    except (ImageReadError, ValueError) as exc:
        print(f"error: reference photo: {exc}", file=sys.stderr)
        return 2
    paths, problems = collect_images(args.inputs)
    for path, reason in problems:
        _report_error(args, path, f"{path}: {reason}")
    if not paths:
        print("no photos to colorize", file=sys.stderr)
        return 2
    store = ModelStore()
    try:
        loaded = store.load(args.model or store.default_name())
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    colorizer = Colorizer(loaded)
    settings = ExportSettings(args.out, args.fmt, args.quality, args.pattern, args.overwrite)
    options = ColorizeOptions(work_size=args.size, saturation=args.saturation, temperature=args.temperature,
                              hints=hints, reference=reference, reference_strength=args.reference_strength)
    bar = tqdm(total=len(paths), unit="photo", disable=args.quiet, file=sys.stderr)

    def progress(done: int, total: int, outcome) -> None:
        bar.update(1)
        if args.json:
            print(json.dumps(outcome.as_record()), flush=True)
        if not outcome.ok:
            bar.write(f"error: {outcome.error}", file=sys.stderr)

    outcomes = colorize_files(colorizer, paths, settings, options, progress)
    bar.close()
    failed = sum(not o.ok for o in outcomes) + len(problems)
    if not args.quiet:
        print(f"{len(outcomes) - failed + len(problems)} colorized into {args.out}, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def _report_error(args: argparse.Namespace, path: Path, message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"source": str(path), "output": None, "ok": False, "error": message}), flush=True)
