"""`chroma colorize`: photos and folders in, full-resolution color photos out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # `chroma` parses its arguments, and runs the ONNX path, without torch
    from ..guidance.hints import Hint, HintFile
    from ..guidance.reference import ReferencePalette
    from ..inference.engine import Colorizer
    from ..inference.fast_path import GraphColorizer
    from ..inference.options import ColorizeOptions
    from ..modelfiles.modelfile import LoadedModel

    Guidance = tuple["tuple[Hint, ...] | HintFile", "ReferencePalette | None"]


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
    """Colorize every input; plain runs take the torch-free ONNX path when the model's graph is
    cached (ml_core.inference.fast_path), and a torch run caches it for next time."""
    from tqdm import tqdm

    from ..inference.batch import ExportSettings, colorize_files
    from ..inference.options import ColorizeOptions
    from ..io.imageio import collect_images

    if problem := option_problem(args):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.quality is not None and args.fmt in ("png", "tiff"):
        print(f"note: --quality has no effect on {args.fmt.upper()} (lossless)", file=sys.stderr)
    # Guidance is checked before any photo is touched: a typo in hints.json must not cost a batch.
    guidance = _guidance(args)
    if guidance is None:
        return 2
    hints, reference = guidance
    paths, problems = collect_images(args.inputs)
    for path, reason in problems:
        _report_error(args, path, f"{path}: {reason}")
    if not paths:
        print("no photos to colorize", file=sys.stderr)
        return 2
    settings = ExportSettings(args.out, args.fmt, _quality(args), args.pattern, args.overwrite)
    options = ColorizeOptions(work_size=args.size, saturation=args.saturation, temperature=args.temperature,
                              hints=hints, reference=reference, reference_strength=args.reference_strength)
    repair = None if args.repair is None else repair_settings(args.repair, args.repair_strength)
    colorizer = _graph_colorizer(args, options) if repair is None else None
    torch_model = None
    if colorizer is None:
        torch_model = _torch_colorizer(args)
        if torch_model is None:
            return 2
        colorizer = torch_model[0]
    bar = tqdm(total=len(paths), unit="photo", disable=args.quiet, file=sys.stderr)

    progress = progress_printer(bar, args.json)

    outcomes = colorize_files(colorizer, paths, settings, options, progress, repair=repair)
    bar.close()
    failed = sum(not o.ok for o in outcomes) + len(problems)
    if not args.quiet:
        print(f"{len(outcomes) - failed + len(problems)} colorized into {args.out}, {failed} failed", file=sys.stderr)
    if torch_model is not None:
        _remember_graph(args, *torch_model)
    return 1 if failed else 0


def _guidance(args: argparse.Namespace) -> "Guidance | None":
    """(hints, reference palette) from --hints and --reference, or None after saying what is wrong.
    Imported only when asked for: the reference palette needs torch."""
    hints: "tuple[Hint, ...] | HintFile" = ()
    reference: "ReferencePalette | None" = None
    if args.hints is not None:
        from ..guidance.hints import HintError, load_hint_file

        try:
            hints = load_hint_file(args.hints)
        except HintError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return None
    if args.reference is not None:
        from ..guidance.reference import ReferencePalette
        from ..io.imageio import ImageReadError

        try:
            reference = ReferencePalette.from_file(args.reference)
        except (ImageReadError, ValueError) as exc:
            print(f"error: reference photo: {exc}", file=sys.stderr)
            return None
    return hints, reference


def _graph_colorizer(args: argparse.Namespace, options: "ColorizeOptions") -> "GraphColorizer | None":
    """The torch-free colorizer for --model when its ONNX graph is cached and the options are
    plain, else None (the torch path then loads the model and says what is wrong with it)."""
    from ..inference.fast_path import open_graph
    from ..modelfiles.store import ModelStore

    model_file = ModelStore().locate(args.model)
    return open_graph(model_file, options) if model_file is not None else None


def _torch_colorizer(args: argparse.Namespace) -> "tuple[Colorizer, LoadedModel, Path, str] | None":
    """(engine.Colorizer, the loaded model, its file, the file's digest taken before it was read)
    for --model, or None after naming the problem."""
    from ..inference.engine import Colorizer
    from ..inference.onnx_engine import model_digest
    from ..modelfiles.modelfile import ModelFileError
    from ..modelfiles.store import ModelStore

    store = ModelStore()
    try:
        entry = store.find(args.model or store.default_name())
        digest = model_digest(entry.path)  # before reading: see onnx_engine.write_graph
        loaded = store.load(entry.path)
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None
    except OSError as exc:  # the file went away or became unreadable after it was found
        print(f"error: model file {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return None
    return Colorizer(loaded), loaded, entry.path, digest


def _remember_graph(args: argparse.Namespace, colorizer: "Colorizer", loaded: "LoadedModel",
                    model_file: Path, digest: str) -> None:
    """After a torch run, cache the model's ONNX graph (once, a few seconds) so the next run
    starts without torch; a failure is a note, never an error."""
    from ..inference.fast_path import needs_graph, remember_graph

    if not needs_graph(loaded, model_file, digest):
        return
    if not args.quiet:
        print(f"preparing model {loaded.info.name!r} to start faster next time (once)…", file=sys.stderr)
    problem = remember_graph(loaded, model_file, colorizer.default_temperature, digest)
    if problem and not args.quiet:
        print(f"note: model {loaded.info.name!r} will keep starting with torch: {problem}", file=sys.stderr)


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
