"""The window's preview-size repair (issue 19 budget: <= 150 ms), timed on the path the preview
job takes: desktop_app.colorize.jobs (shrink a 12 MP photo to the preview's long side, then
ml_core.repair with the worker's cancel checks).

Prints one table: per preview long side, the median and min of shrink + repair and of the repair
alone (jobs._repaired_preview, no cache), and of a grain or fading strength change through the
window's two-stage cache (jobs.RepairedCache: scratches filled once, grain and fading redone);
scratches + grain + fading on at strength 0.5, heavy synthetic damage. Then how far the preview is
from the export: the 12-MP repair (what export writes) shrunk to the preview's size against the
preview's own repair, in gray levels, and how many mask pixels the two share.

    /work/runs/quiet.sh python bench/bench_repair_preview.py --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import make_photo, print_table  # noqa: E402


def damaged_photo(cache: Path) -> np.ndarray:
    """A 12 MP gray photo with the colorization training's heavy damage (scratches, dust, grain, fading)."""
    from ml_core.repair import lightness_from_pixels, pixels_from_lightness
    from ml_core.training.degrade import graded_damage

    big = np.asarray(Image.open(make_photo(cache / "repair_12mp.jpg", 4000, 3000, gray=True)))
    lum = lightness_from_pixels(big)
    g = torch.Generator().manual_seed(0)
    damaged = graded_damage(torch.from_numpy(lum)[None, None], g, "heavy")[0][0, 0].numpy()
    return pixels_from_lightness(damaged, np.uint8)


def cache_dir() -> Path:
    return Path(__file__).resolve().parent / ".cache"


def cache_dir_photo(folder: Path, pixels: np.ndarray) -> Path:
    """A file for RepairedCache's key (it keys by path, size and modification time)."""
    path = folder / "repair_preview_damaged.png"
    if not path.exists():
        Image.fromarray(pixels).save(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--sides", type=int, nargs="+", default=[1600, 1280, 1024])
    args = ap.parse_args()
    torch.set_num_threads(2)
    from dataclasses import replace

    from desktop_app.colorize.jobs import RepairedCache, _repaired_preview
    from ml_core.cancel import CancelToken
    from ml_core.io.imageio import LoadedImage
    from ml_core.repair import RepairSettings

    pixels = damaged_photo(cache_dir())
    image = LoadedImage(pixels=pixels, alpha=None, bit_depth=8, exif=None, icc_profile=None,
                        source_format="JPEG", path=None)
    settings = RepairSettings()  # all three on, strength 0.5
    rows = []
    for side in args.sides:
        _repaired_preview(image, settings, side, CancelToken())  # warm-up
        total, repair = [], []
        for _ in range(args.repeats):
            t = time.perf_counter()
            small, (_before, _mask, seconds) = _repaired_preview(image, settings, side, CancelToken())
            total.append(time.perf_counter() - t)
            repair.append(seconds)
        cache, photo, drag = RepairedCache(), cache_dir_photo(cache_dir(), pixels), []
        cache.get(photo, image, settings, side, CancelToken())  # scratches filled once
        for n in range(args.repeats):
            moved = replace(settings, grain_strength=0.3 + 0.05 * n)  # a new value each time: no final hit
            t = time.perf_counter()
            cache.get(photo, image, moved, side, CancelToken())
            drag.append(time.perf_counter() - t)
        w, h = small.size
        rows.append({"size": f"{w}×{h} ({w * h / 1e6:.1f} MP)",
                     "total": f"{1000 * statistics.median(total):.0f} ms (min {1000 * min(total):.0f})",
                     "repair": f"{1000 * statistics.median(repair):.0f} ms (min {1000 * min(repair):.0f})",
                     "drag": f"{1000 * statistics.median(drag):.0f} ms (min {1000 * min(drag):.0f})",
                     "budget": "150 ms"})
    print(f"Preview repair from a 12 MP photo, scratches + grain + fading at 0.5, {args.repeats} runs, medians")
    print_table(rows, [("size", "preview"), ("total", "shrink + repair"), ("repair", "repair alone"),
                       ("drag", "grain/fading change (cached fill)"), ("budget", "budget")])
    print()
    print_table(preview_vs_export(image, settings, args.sides),
                [("size", "preview"), ("mean", "mean |diff|"), ("p99", "99th pct"), ("max", "max"),
                 ("changed", "pixels > 2 levels"), ("mask", "mask agreement (IoU)")])


def preview_vs_export(image, settings, sides: list[int]) -> list[dict]:
    """The export's repair (full resolution) shrunk to each preview size, against the preview's repair,
    in 8-bit gray levels; and the overlap of the two masks (the export's shrunk by nearest neighbour)."""
    import cv2

    from desktop_app.colorize.jobs import _repaired_preview
    from ml_core.cancel import CancelToken
    from ml_core.repair import repair_pixels

    export, full = repair_pixels(image.pixels, settings)
    rows = []
    for side in sides:
        small, (_before, mask, _s) = _repaired_preview(image, settings, side, CancelToken())
        h, w = small.pixels.shape[:2]
        shrunk = cv2.resize(export, (w, h), interpolation=cv2.INTER_AREA)
        diff = np.abs(shrunk.astype(np.int16) - small.pixels.astype(np.int16))
        export_mask = cv2.resize(full.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        union = (mask | export_mask).sum()
        rows.append({"size": f"{w}×{h}", "mean": f"{diff.mean():.2f}", "p99": f"{np.percentile(diff, 99):.0f}",
                     "max": f"{diff.max()}", "changed": f"{100 * (diff > 2).mean():.2f} %",
                     "mask": f"{(mask & export_mask).sum() / union:.2f}" if union else "-"})
    print("Preview vs export (gray levels, 0-255), same photo and settings:")
    return rows


if __name__ == "__main__":
    main()
