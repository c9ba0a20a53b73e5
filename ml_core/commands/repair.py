"""`chroma repair`: scratches, dust, grain and fading of old prints repaired; the photo stays gray.

Torch-free until run: `chroma` parses its arguments before loading torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..limits import QUALITY_RANGE
from ..repair.settings import TOOLS, RepairSettings
from .batch_report import progress_printer

EXPORT_FORMATS = ("jpg", "png", "tiff", "webp")
ALL_TOOLS = ",".join(TOOLS)
SAME_FORMAT_HELP = ("output format (default: each photo's own: JPEG stays JPEG at the --quality, "
                    "PNG stays PNG, TIFF stays TIFF, WebP stays WebP, HEIC becomes JPEG, others PNG)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("repair", help="repair scratches, dust, grain and fading of old photos (kept gray)")
    p.add_argument("inputs", nargs="+", metavar="PHOTO", help="photo files or folders (searched recursively)")
    p.add_argument("-o", "--out", type=Path, default=Path("repaired"), help="output folder (default: ./repaired)")
    add_repair_options(p, "--tools", default=ALL_TOOLS)
    p.add_argument("--keep-tint", action="store_true",
                   help="keep the print's own tone (sepia stays sepia); default: neutral gray")
    p.add_argument("--format", dest="fmt", choices=sorted(EXPORT_FORMATS), default=None, help=SAME_FORMAT_HELP)
    p.add_argument("--quality", type=int, default=None,
                   help=f"JPEG/WebP quality {QUALITY_RANGE[0]}..{QUALITY_RANGE[1]} (default 92)")
    p.add_argument("--pattern", default="{name}_repaired", help="output file name (not a path) pattern: {name}, {ext}")
    p.add_argument("--overwrite", action="store_true",
                   help="replace earlier outputs of the same name (never an original or any input of the run)")
    p.add_argument("--json", action="store_true", help="print one JSON record per file on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def add_repair_options(p: argparse.ArgumentParser, flag: str, default: str | None) -> None:
    """The tool list and strength options `chroma repair` and `chroma colorize --repair` share."""
    if default is None:  # colorize: --repair alone means every tool
        p.add_argument(flag, nargs="?", const=ALL_TOOLS, default=None, metavar="TOOLS",
                       help=f"repair the photo before colorizing it: comma-separated tools from {ALL_TOOLS} "
                            "(alone: all three)")
    else:
        p.add_argument(flag, default=default, metavar="TOOLS", help=f"comma-separated tools from {ALL_TOOLS} "
                                                                     f"(default: {default})")
    p.add_argument("--repair-strength", type=float, default=None, metavar="S",
                   help="strength 0..1 of every repair tool switched on (default 0.5)")


def repair_settings(tools: str, strength: float | None, keep_tint: bool = False) -> RepairSettings:
    """Settings from the command line; ValueError names the option at fault."""
    try:
        settings = RepairSettings.only(tools, strength)
    except ValueError as exc:
        option = "--repair-strength" if "strength" in str(exc) else "tools"
        raise ValueError(f"{option}: {exc}") from None
    return RepairSettings(**{**settings.as_dict(), "remove_tint": not keep_tint})


def run(args: argparse.Namespace) -> int:
    try:
        repair = repair_settings(args.tools, args.repair_strength, args.keep_tint)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lo, hi = QUALITY_RANGE
    if args.quality is not None and args.fmt not in ("png", "tiff") and not lo <= args.quality <= hi:
        shown = (args.fmt or "JPEG/WebP").upper()
        print(f"error: --quality: {shown} quality must be {lo}..{hi}, got {args.quality}", file=sys.stderr)
        return 2
    from tqdm import tqdm

    from ..inference.batch import ExportSettings
    from ..io.imageio import collect_images
    from ..repair.files import repair_files

    quality = 92 if args.quality is None or args.fmt in ("png", "tiff") else args.quality
    try:
        settings = ExportSettings(args.out, args.fmt, quality, args.pattern, args.overwrite)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths, problems = collect_images(args.inputs)
    for path, reason in problems:
        print(f"error: {path}: {reason}", file=sys.stderr)
        if args.json:
            print(json.dumps({"source": str(path), "output": None, "ok": False, "error": reason}), flush=True)
    if not paths:
        print("no photos to repair", file=sys.stderr)
        return 2
    bar = tqdm(total=len(paths), unit="photo", disable=args.quiet, file=sys.stderr)

    progress = progress_printer(bar, args.json)

    outcomes = repair_files(paths, settings, repair, progress)
    bar.close()
    failed = sum(not o.ok for o in outcomes) + len(problems)
    if not args.quiet:
        print(f"{sum(o.ok for o in outcomes)} repaired into {args.out}, {failed} failed", file=sys.stderr)
    return 1 if failed else 0
