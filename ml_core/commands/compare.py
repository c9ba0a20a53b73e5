"""`chroma compare`: one photo through several models, side by side on one labelled sheet.

The command-line twin of the window's Compare view: the gray photo first, then each model's
result with its name and render time. A model that cannot be loaded or fails on the photo gets
an empty tile saying why; the others still render (exit status 1 says something failed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

MAX_MODELS = 6  # as many as the Compare view shows; more tiles stop being comparable at a glance
TILE_RANGE = (64, 1024)
_SHEET_SUFFIXES = {".jpg": "jpg", ".jpeg": "jpg", ".png": "png"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="one photo through several models, side by side on one sheet")
    p.add_argument("photo", type=Path, metavar="PHOTO", help="the photo to colorize (color photos are seen in gray)")
    p.add_argument("--models", required=True, metavar="A,B,...",
                   help=f"comma-separated model names from `chroma models list` or .safetensors files, "
                        f"1 to {MAX_MODELS}")
    p.add_argument("-o", "--out", type=Path, default=None,
                   help="sheet file, .jpg or .png (default: PHOTO-NAME_compare.jpg here)")
    p.add_argument("--tile", type=int, default=384,
                   help=f"height of each photo on the sheet in pixels, {TILE_RANGE[0]}..{TILE_RANGE[1]} (default 384)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing sheet (never the photo itself)")
    p.set_defaults(func=run)


def model_list(text: str) -> list[str]:
    """The --models value as a list; ValueError says what is wrong with it."""
    names = [n.strip() for n in text.split(",")]
    if any(not n for n in names):
        raise ValueError(f"--models: empty name in {text!r} (use a,b,c)")
    if len(names) > MAX_MODELS:
        raise ValueError(f"--models: at most {MAX_MODELS} models, got {len(names)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"--models: {', '.join(repeated)} given twice")
    return names


def sheet_path(photo: Path, out: Path | None) -> Path:
    """Where the sheet goes; ValueError when -o names a format a sheet cannot be."""
    if out is None:
        return Path.cwd() / f"{photo.stem}_compare.jpg"
    if out.suffix.lower() not in _SHEET_SUFFIXES:
        raise ValueError(f"-o {out}: a sheet is .jpg or .png, not {out.suffix or 'a name without extension'}")
    return out


def run(args: argparse.Namespace) -> int:
    try:
        names = model_list(args.models)
        dest = sheet_path(args.photo, args.out)
        if not TILE_RANGE[0] <= args.tile <= TILE_RANGE[1]:
            raise ValueError(f"--tile must be {TILE_RANGE[0]}..{TILE_RANGE[1]}, got {args.tile}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..evaluation.contact_sheet import SheetTile, compose_sheet, sheet_pixels
    from ..inference.engine import ColorizeOptions, Colorizer
    from ..inference.model_input import to_uint8
    from ..io.imageio import ExportError, ImageReadError, check_destination, export_image, read_image
    from ..modelfiles.modelfile import ModelFileError
    from ..modelfiles.store import ModelStore
    from ..repair.convert import lightness_from_pixels, pixels_from_lightness

    try:
        check_destination(dest, args.photo, args.overwrite)
        image = read_image(args.photo)
    except (ImageReadError, ExportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    gray = pixels_from_lightness(lightness_from_pixels(image.pixels))
    tiles = [SheetTile(gray, "gray (input)", f"{image.size[0]} x {image.size[1]}")]
    # Rendered no larger than the sheet shows it (a 3:1 panorama included): a 12 MP photo stays quick.
    options = ColorizeOptions(output_max_side=3 * args.tile)
    store, failed = ModelStore(), 0
    for name in names:
        start = time.perf_counter()
        try:
            result = Colorizer(store.load(name)).colorize(image, options)
        except (ModelFileError, ValueError, RuntimeError, MemoryError) as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            tiles.append(SheetTile(None, name, f"failed: {exc}"))
            continue
        seconds = time.perf_counter() - start
        tiles.append(SheetTile(to_uint8(result.rgb), name, f"{seconds:.2f} s"))
    sheet = compose_sheet([tiles], tile_height=args.tile)
    fmt = _SHEET_SUFFIXES[dest.suffix.lower()]
    try:
        written = export_image(sheet_pixels(sheet), dest, fmt, quality=90, source=args.photo, overwrite=args.overwrite)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {written} ({len(names) - failed} of {len(names)} models)", file=sys.stderr)
    return 1 if failed else 0

