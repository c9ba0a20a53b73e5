"""`chroma colorize`: photos and folders in, full-resolution color photos out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..limits import (  # torch-free: `chroma` parses its arguments before loading torch
    DEFAULT_TEMPERATURE,
    EXPORT_FORMATS,
    MAX_SATURATION,
    MAX_TEMPERATURE,
    MAX_WORK_SIZE,
    MIN_TEMPERATURE,
    MIN_WORK_SIZE,
    QUALITY_RANGE,
    saturation_problem,
    temperature_problem,
    work_size_problem,
)
from .batch_report import progress_printer
from .repair import SAME_FORMAT_HELP, add_repair_options, repair_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("colorize", help="colorize photos or folders of photos")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="photo files or folders (searched recursively)")
    p.add_argument("-o", "--out", type=Path, default=Path("colorized"), help="output folder (default: ./colorized)")
    p.add_argument("--model", default=None, help="model name from `chroma models list`, or a .safetensors file")
    p.add_argument("--size", type=int, default=None,
                   help=f"render size: long side the model sees, {MIN_WORK_SIZE}..{MAX_WORK_SIZE} "
                        "(default: the model's)")
    p.add_argument("--saturation", type=float, default=1.0,
                   help=f"chroma gain 0..{MAX_SATURATION:g} (1.0 = as predicted)")
    p.add_argument("--temperature", type=float, default=None,
                   help=f"annealed-mean temperature for classification models, "
                        f"{MIN_TEMPERATURE:g}..{MAX_TEMPERATURE:g}: lower is more vivid "
                        f"(default: the model's own, else {DEFAULT_TEMPERATURE})")
    p.add_argument("--hints", type=Path, default=None, metavar="HINTS.json",
                   help='color hints for every input: {"hints": [{"x": 0.4, "y": 0.6, "color": "#b0302a"}, ...]} '
                        '(x, y relative 0..1, or "units": "pixels"; colors as "color", "rgb" or "ab")')
    p.add_argument("--reference", type=Path, default=None, metavar="PHOTO",
                   help="a color photo whose palette to transfer (matched by lightness and texture)")
    p.add_argument("--reference-strength", type=float, default=1.0, metavar="S",
                   help="0 = the model's colors, 1 = the reference's (default 1)")
    p.add_argument("--format", dest="fmt", choices=sorted(EXPORT_FORMATS), default=None,
                   help=SAME_FORMAT_HELP)
    p.add_argument("--quality", type=int, default=None,
                   help=f"JPEG/WebP quality {QUALITY_RANGE[0]}..{QUALITY_RANGE[1]} "
                        "(default 92; PNG and TIFF are lossless)")
    p.add_argument("--pattern", default="{name}_color",
                   help="output file name (not a path) pattern: {name}, {ext}, {model}")
    p.add_argument("--overwrite", action="store_true",
                   help="replace earlier exports of the same name (never an original or any input of the run)")
    p.add_argument("--json", action="store_true", help="print one JSON record per file on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_repair_options(p, "--repair", default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..guidance.hints import HintError, load_hint_file
    from ..guidance.reference import ReferencePalette
    from ..inference.batch import ExportSettings, colorize_files
    from ..inference.engine import ColorizeOptions, Colorizer
    from ..io.imageio import ImageReadError, collect_images
    from ..modelfiles.modelfile import ModelFileError
    from ..modelfiles.store import ModelStore

    if problem := option_problem(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.quality is not None and args.fmt in ("png", "tiff"):
        print(f"note: --quality has no effect on {args.fmt.upper()} (lossless)", file=sys.stderr)
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
    settings = ExportSettings(args.out, args.fmt, _quality(args), args.pattern, args.overwrite)
    options = ColorizeOptions(work_size=args.size, saturation=args.saturation, temperature=args.temperature,
                              hints=hints, reference=reference, reference_strength=args.reference_strength)
    bar = tqdm(total=len(paths), unit="photo", disable=args.quiet, file=sys.stderr)

    progress = progress_printer(bar, args.json)

    repair = None if args.repair is None else repair_settings(args.repair, args.repair_strength)
    outcomes = colorize_files(colorizer, paths, settings, options, progress, repair=repair)
    bar.close()
    failed = sum(not o.ok for o in outcomes) + len(problems)
    if not args.quiet:
        print(f"{len(outcomes) - failed + len(problems)} colorized into {args.out}, {failed} failed", file=sys.stderr)
    return 1 if failed else 0


def option_problem(args: argparse.Namespace) -> str | None:
    """The first option that would spoil every photo, named as typed; checked before any work.

    Torch-free and cheap, so `--size 100000` or `--quality 500` costs a message, not a batch.
    """
    from ..io.imageio import check_pattern

    checks = [
        ("--size", None if args.size is None else work_size_problem(args.size)),
        ("--saturation", saturation_problem(args.saturation)),
        ("--temperature", None if args.temperature is None else temperature_problem(args.temperature)),
        ("--reference-strength", None if 0.0 <= args.reference_strength <= 1.0
         else f"must be between 0 and 1, got {args.reference_strength}"),
        ("--quality", _quality_problem(args)),
    ]
    for option, problem in checks:
        if problem:
            return f"{option}: {problem}"
    if args.repair is not None or args.repair_strength is not None:
        try:
            repair_settings(args.repair or "", args.repair_strength)
        except ValueError as exc:
            return f"--repair: {str(exc).removeprefix('tools: ')}" if str(exc).startswith("tools") else str(exc)
    try:
        check_pattern(args.pattern)
    except ValueError as exc:
        return f"--pattern: {exc}"
    blocker = next((p for p in (args.out, *args.out.parents) if p.exists() and not p.is_dir()), None)
    if blocker == args.out:
        return f"output folder {args.out} is a file, not a folder"
    if blocker is not None:
        return f"output folder {args.out} cannot be created: {blocker} is a file"
    return None


def _quality_problem(args: argparse.Namespace) -> str | None:
    lo, hi = QUALITY_RANGE
    if args.quality is None or args.fmt in ("png", "tiff") or lo <= args.quality <= hi:
        return None
    return f"{(args.fmt or 'JPEG/WebP').upper()} quality must be {lo}..{hi}, got {args.quality}"


def _quality(args: argparse.Namespace) -> int:
    return 92 if args.quality is None or args.fmt in ("png", "tiff") else args.quality


def _report_error(args: argparse.Namespace, path: Path, message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    if args.json:
        print(json.dumps({"source": str(path), "output": None, "ok": False, "error": message}), flush=True)
