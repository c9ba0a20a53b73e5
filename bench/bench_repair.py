"""Repair before color (issue 19): quality on held-out photos with synthetic damage, and speed.

    python bench/bench_repair.py                 # quality table (report half) + timing table
    python bench/bench_repair.py --half tune     # the half the parameters were tuned on
    python bench/bench_repair.py --variants      # + the methods not chosen (fill, grain)
    /work/runs/quiet.sh python bench/bench_repair.py --timing-only   # time it on a quiet machine

Photos: BSDS500 under ../shared/photos/train/bsds500 (never trained on by this project's repair,
and held out from colorization training). Even-numbered files are the tuning half (every
threshold in ml_core.repair was set looking at them), odd-numbered ones the report half.
Damage: ml_core.training.degrade.graded_damage, the training damage generator's own scratch, dust, grain
and fade shapes at three pinned severities; scratches+dust, grain, fading, and all three at once.
Every photo gets every condition with the same seed (its index), so columns compare like with like.

Columns: PSNR and SSIM of the repaired lightness against the clean lightness (L*, peak 100) for
no repair, a plain 3×3 median filter, only the tool meant for that damage ("its tool"; clean and
all three: all tools), and the repair with all tools on at default strength; mask
recall (share of damaged pixels the scratch & dust mask covers) and false positives (share of
undamaged pixels it covers). Timing: median of repeated runs of repair_lightness, all tools on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import make_photo, print_table  # noqa: E402
from ml_core.repair import RepairSettings, lightness_from_pixels, repair_lightness  # noqa: E402
from ml_core.repair.fading import restore_fading  # noqa: E402
from ml_core.repair.fill import fill  # noqa: E402
from ml_core.repair.grain import reduce_grain  # noqa: E402
from ml_core.repair.noise import estimate_noise  # noqa: E402
from ml_core.repair.scratches import detect_damage  # noqa: E402
from ml_core.training.degrade import SEVERITIES, graded_damage  # noqa: E402

BSDS = Path(__file__).resolve().parents[2] / "shared" / "photos" / "train" / "bsds500"
CONDITIONS = [("clean", None, ())] + [
    (f"{label} {sev}", sev, kinds)
    for label, kinds in (("scratches+dust", ("scratches",)), ("grain", ("grain",)), ("fading", ("fading",)),
                         ("all three", ("scratches", "grain", "fading")))
    for sev in SEVERITIES]


def photos(half: str, limit: int) -> list[Path]:
    files = sorted(BSDS.glob("*.jpg"))
    if not files:
        raise SystemExit(f"no BSDS500 photos under {BSDS}")
    chosen = [p for p in files if int(p.stem) % 2 == (0 if half == "tune" else 1)]
    return chosen[:limit] if limit else chosen


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(100.0 ** 2 / mse)


def variant(name: str, damaged: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """A repair built from the modules with one method swapped (the ones not chosen)."""
    noise = estimate_noise(damaged)
    mask = detect_damage(damaged, 0.5, noise)
    out = fill(damaged, mask, "telea" if name == "fill telea" else "average")
    grain = {"grain guided": "guided", "grain nlm": "nlm"}.get(name, "bilateral")
    out = reduce_grain(out, 0.5, noise, grain)
    return np.clip(restore_fading(out, 0.5), 0, 100), mask  # strength 0.5 everywhere, as RepairSettings()


def quality(paths: list[Path], variants: list[str]) -> list[dict]:
    methods = ["none", "median 3×3", "its tool", "repair", *variants]
    sums: dict[tuple[str, str], list[float]] = {}
    masks: dict[str, list[float]] = {}
    settings = RepairSettings()
    for i, path in enumerate(paths):
        clean = lightness_from_pixels(np.asarray(Image.open(path).convert("RGB")))
        for cname, sev, kinds in CONDITIONS:
            if sev is None:
                damaged, truth = clean.copy(), np.zeros(clean.shape, bool)
            else:
                g = torch.Generator().manual_seed(int(path.stem))
                d, m = graded_damage(torch.from_numpy(clean)[None, None], g, sev, kinds)
                damaged, truth = d[0, 0].numpy(), m[0, 0].numpy()
            for method in methods:
                mask = None
                if method == "none":
                    out = damaged
                elif method == "median 3×3":
                    out = cv2.medianBlur(damaged, 3)
                elif method == "its tool":  # only the tool meant for this damage (all three: all)
                    tools = {"scratches": "scratches", "grain": "grain", "fading": "fading"}
                    on = [tools[k] for k in kinds] or ["scratches", "grain", "fading"]
                    out = repair_lightness(damaged, RepairSettings.only(on)).lightness
                elif method == "repair":
                    r = repair_lightness(damaged, settings)
                    out, mask = r.lightness, r.mask
                else:
                    out, mask = variant(method, damaged)
                acc = sums.setdefault((cname, method), [0.0, 0.0])
                acc[0] += psnr(out, clean)
                acc[1] += structural_similarity(out, clean, data_range=100.0)
                if method == "repair" and ("scratches" in kinds or sev is None):
                    m = masks.setdefault(cname, [0.0, 0.0])
                    m[0] += float((mask & truth).sum() / truth.sum()) if truth.any() else 0.0
                    m[1] += float((mask & ~truth).sum() / (~truth).sum())
        print(f"\r{i + 1}/{len(paths)} photos", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    n = len(paths)
    rows = []
    for cname, sev, kinds in CONDITIONS:
        row = {"condition": cname}
        for method in methods:
            p, s = sums[(cname, method)]
            row[method] = f"{p / n:.2f} / {s / n:.3f}"
        if cname in masks:
            rec, fp = masks[cname]
            row["recall"] = "-" if sev is None else f"{100 * rec / n:.1f} %"
            row["fp"] = f"{100 * fp / n:.2f} %"
        rows.append(row)
    print_table(rows, [("condition", "damage"), *[(m, f"{m} PSNR/SSIM") for m in methods],
                       ("recall", "mask recall"), ("fp", "mask on clean px")])
    return rows


def timing(repeats: int) -> list[dict]:
    """repair_lightness with all tools on: 12 MP and preview size (1 MP), heavy damage, medians."""
    cache = Path(tempfile.gettempdir()) / "chroma-bench"  # made once, outside the repository
    big = np.asarray(Image.open(make_photo(cache / "repair_12mp_gray.jpg", 4000, 3000, gray=True)))
    rows = []
    for label, (w, h) in (("12 MP (4000×3000)", (4000, 3000)), ("preview (1155×866, 1 MP)", (1155, 866))):
        pixels = big if (w, h) == (4000, 3000) else cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
        lum = lightness_from_pixels(pixels)
        g = torch.Generator().manual_seed(0)
        damaged = graded_damage(torch.from_numpy(lum)[None, None], g, "heavy")[0][0, 0].numpy()
        repair_lightness(damaged, RepairSettings())  # warm-up: kernels, caches
        runs, steps = [], []
        for _ in range(repeats):
            t = time.perf_counter()
            r = repair_lightness(damaged, RepairSettings())
            runs.append(time.perf_counter() - t)
            steps.append(r.timings)
        med = {k: statistics.median(s[k] for s in steps) for k in steps[0]}
        rows.append({"size": label, "median": f"{1000 * statistics.median(runs):.0f} ms",
                     "min": f"{1000 * min(runs):.0f} ms",
                     "steps": ", ".join(f"{k} {1000 * v:.0f}" for k, v in med.items()),
                     "budget": "1500 ms" if w == 4000 else "150 ms"})
    print_table(rows, [("size", "repair, all three on"), ("median", "median"), ("min", "min"),
                       ("budget", "budget"), ("steps", "median per step (ms)")])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--half", choices=("report", "tune"), default="report")
    ap.add_argument("--photos", type=int, default=60, help="photos of the half to use (0 = all)")
    ap.add_argument("--variants", action="store_true", help="also the fill and grain methods not chosen")
    ap.add_argument("--timing-only", action="store_true")
    ap.add_argument("--quality-only", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None, help="write the tables here")
    args = ap.parse_args()
    torch.set_num_threads(2)
    out: dict = {}
    if not args.timing_only:
        paths = photos(args.half, args.photos)
        print(f"Quality: {len(paths)} BSDS500 photos of the {args.half} half "
              f"({'odd' if args.half == 'report' else 'even'}-numbered; parameters were tuned on the even half). "
              "PSNR dB / SSIM of L* vs the clean photo, mean over photos.")
        variants = ["fill telea", "grain guided", "grain nlm"] if args.variants else []
        out["quality"] = quality(paths, variants)
        print()
    if not args.quality_only:
        print(f"Timing: repair_lightness, scratches + grain + fading on, heavy damage, {args.repeats} runs, "
              f"{cv2.getNumThreads()} OpenCV threads.")
        out["timing"] = timing(args.repeats)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
