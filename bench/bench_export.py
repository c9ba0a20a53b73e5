"""Export speed and size: `python bench/bench_export.py` prints one row per format and setting.

The picture is what Chroma writes: a 12 MP mosaic of real photos at their own scale (film
grain and all; see _common.make_mosaic) recombined from its own lightness and a
64-pixel a*b* map (ml_core.inference.recombine), 8-bit, and the same at 16 bits with noise in the low
byte (what a scanner's 16 bits carry; it is what makes 16-bit files large). Each row encodes it to
memory (median seconds of --repeat runs), then through `export_image` as users get it (atomic
write beside the destination, fsync, rename), and gives the file size. The PNG and TIFF rows
sweep the settings Chroma chooses from, so the chosen defaults are a measurement, not a guess.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import make_mosaic, print_table  # noqa: E402
from bench_recombine import chroma_grid  # noqa: E402


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--photo", type=Path, default=None, help="default: a generated 12 MP JPEG")
    parser.add_argument("--sweep", action="store_true", help="every PNG level and TIFF codec, not just the defaults")
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    from ml_core.inference.recombine import recombine_array
    from ml_core.io import imageio

    photo = args.photo or make_mosaic(Path(tempfile.gettempdir()) / "chroma-bench" / "12mp-mosaic.jpg")
    color = np.asarray(Image.open(photo).convert("RGB"))
    rgb8 = recombine_array(np.asarray(Image.open(photo).convert("L")), chroma_grid(color))
    rgb16 = rgb8.astype(np.uint16) * 257 + np.random.default_rng(0).integers(0, 257, rgb8.shape, dtype=np.uint16)

    default_level = imageio.LOSSLESS_LEVEL
    levels = (0, 1, 2, 3, 4, 6, 9) if args.sweep else (default_level,)
    # (pixels, format, zlib level for PNG / 16-bit TIFF, Pillow TIFF codec for the 8-bit comparison)
    cases: list[tuple[str, str, int | None, str | None]] = [
        ("8-bit", "jpg", None, None), ("8-bit", "webp", None, None)]
    cases += [("8-bit", "png", lvl, None) for lvl in levels]
    cases += [("8-bit", "tiff", None, None)]
    if args.sweep:  # what compressing 8-bit TIFF would cost (Pillow's libtiff; no EXIF sub-IFDs there)
        cases += [("8-bit", "tiff", None, codec) for codec in ("tiff_lzw", "tiff_adobe_deflate")]
    deep_levels = (1, default_level, 6) if args.sweep else (default_level,)
    cases += [("16-bit", fmt, lvl, None) for fmt in ("png", "tiff") for lvl in sorted(set(deep_levels))]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (depth, fmt, level, codec) in enumerate(cases):
            pixels = rgb8 if depth == "8-bit" else rgb16
            imageio.LOSSLESS_LEVEL = default_level if level is None else level
            if codec:
                img = Image.fromarray(pixels)

                def write(f, img=img, codec=codec) -> None:
                    img.save(f, format="TIFF", compression=codec)
            else:
                write = imageio._encoder(fmt, pixels, None, 92, None, None)
            size = 0

            def to_memory(write=write) -> None:
                nonlocal size
                buf = io.BytesIO()
                write(buf)
                size = buf.tell()

            encode = median_time(to_memory, args.repeat)
            export = ""
            if not codec:
                paths = iter(Path(tmp) / f"out{i}_{k}" for k in range(args.repeat))
                export = f"{median_time(lambda: imageio.export_image(pixels, next(paths), fmt), args.repeat):.2f}"
            setting = codec or ("" if level is None else f"zlib level {level}")
            if fmt == "tiff" and depth == "8-bit" and not codec:
                setting = "uncompressed"
            if level == default_level or (level is None and not codec):
                setting = (setting + " (default)").strip()
            rows.append({"pixels": depth, "format": fmt, "setting": setting, "encode": f"{encode:.2f}",
                         "export": export, "mb": f"{size / 1e6:.1f}"})
        imageio.LOSSLESS_LEVEL = default_level
    print(f"photo: {photo} ({rgb8.shape[1]}×{rgb8.shape[0]}), median of {args.repeat}")
    print_table(rows, [("pixels", "pixels"), ("format", "format"), ("setting", "setting"),
                       ("encode", "encode s"), ("export", "export_image s"), ("mb", "MB")])


if __name__ == "__main__":
    main()
