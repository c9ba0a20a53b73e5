"""Color hints as a simulated user gives them: `python bench/bench_hints.py` prints PSNR/AuC per hint count.

On held-out validation photos (BSDS500 by default; never trained on), each photo is turned gray and
colorized with k = 0, 1, 2, 5, 10 hints taken from the real photo's colors at random spots (the
protocol of Zhang et al. 2017, Fig. 6). The hint sets are nested, so the k = 5 set holds the
k = 2 set. Two rows per k: the model with hints propagated over its prediction (what Chroma
does), and hints propagated over plain gray (Levin-style colorization without the model), which
shows what the model contributes. Quality must rise with k.

For a hint-conditioned model (`--model` naming one, e.g. a `chroma train --hint-input` result),
the "model" rows are the hint net + propagation (the net sees the hints, then propagation pins
them at full resolution), and extra "hint net alone" rows (ColorizeOptions.propagate = False)
show what the network does with the hints by itself. `ms/photo` is the whole colorize call
(model, propagation, recombination) per photo at that k.

A last row measures reference-photo transfer on the same photos: the reference is the photo
itself mirrored and cropped to its central 70 % (a stand-in for "another color photo of the same
scene", since BSDS500 has no such pairs), at strength 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, print_table  # noqa: E402

DEFAULT_PHOTOS = REPO.parent / "shared" / "photos" / "train" / "bsds500"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS, help="folder of color validation photos")
    ap.add_argument("--count", type=int, default=100, help="photos to use (a seeded sample)")
    ap.add_argument("--model", default="default")
    ap.add_argument("--ks", default="0,1,2,5,10", help="hint counts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-gray-prior", action="store_true", help="skip the hints-over-gray rows")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference-photo row")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (1 on a busy machine)")
    ap.add_argument("--propagation", choices=("regions", "legacy"), default="regions",
                    help="legacy: hints spread wherever affinities lead (before issue 14)")
    args = ap.parse_args()

    import numpy as np
    import torch

    from ml_core.evaluation.metrics import MetricAccumulator, gray_image
    from ml_core.guidance import propagation
    from ml_core.guidance.hints import simulate_hints
    from ml_core.guidance.propagation import propagate_hints
    from ml_core.guidance.reference import ReferencePalette
    from ml_core.inference.engine import ColorizeOptions, Colorizer, guidance_grid, lightness_grid, recombine
    from ml_core.io.imageio import collect_images, read_image
    from ml_core.modelfiles.store import ModelStore

    if args.propagation == "legacy":
        propagation.DEFAULT_SETTINGS = propagation.LEGACY_SETTINGS
    ks = [int(k) for k in args.ks.split(",")]
    paths, _ = collect_images([args.photos])
    rng = np.random.default_rng(args.seed)
    paths = sorted(rng.choice(paths, size=min(args.count, len(paths)), replace=False).tolist())
    colorizer = Colorizer(ModelStore().load(args.model), threads=args.threads)
    hint_net = colorizer.model.accepts_hints
    variants = ["model"] + (["alone"] if hint_net else []) + ([] if args.no_gray_prior else ["gray"])
    labels = {"model": "hint net + propagation" if hint_net else "model", "alone": "hint net alone",
              "gray": "gray (no model)"}
    seconds = {(v, k): 0.0 for v in variants for k in ks}
    acc = {(v, k): MetricAccumulator(with_ssim=False, with_gray=False) for v in variants for k in ks}
    ref_acc = MetricAccumulator(with_ssim=False, with_gray=False)
    ref_seconds = 0.0
    guide_seconds = {k: 0.0 for k in ks}
    start = time.perf_counter()
    for i, path in enumerate(paths):
        truth = read_image(Path(path)).pixels
        if truth.ndim != 3:
            continue
        truth = truth[..., :3] if truth.dtype == np.uint8 else (truth[..., :3] // 257).astype(np.uint8)
        gray = gray_image(truth)
        all_hints = simulate_hints(truth, max(ks), np.random.default_rng(args.seed * 100_003 + i))
        for k in ks:
            hints = all_hints[:k]
            t = time.perf_counter()
            result = colorizer.colorize(gray, ColorizeOptions(hints=hints))
            seconds[("model", k)] += time.perf_counter() - t
            guide_seconds[k] += result.timings.get("guide", 0.0)
            acc[("model", k)].add(result.rgb, truth)
            if "alone" in variants:
                t = time.perf_counter()
                result = colorizer.colorize(gray, ColorizeOptions(hints=hints, propagate=False))
                seconds[("alone", k)] += time.perf_counter() - t
                acc[("alone", k)].add(result.rgb, truth)
            if "gray" in variants:
                grid = guidance_grid(*gray.shape)
                t = time.perf_counter()
                ab = propagate_hints(lightness_grid(gray, grid), torch.zeros(2, *grid), hints)
                rgb = recombine(gray, ab)
                seconds[("gray", k)] += time.perf_counter() - t
                acc[("gray", k)].add(rgb, truth)
        if not args.no_reference:
            h, w = truth.shape[:2]
            crop = truth[int(0.15 * h):int(0.85 * h), int(0.15 * w):int(0.85 * w)][:, ::-1]
            t = time.perf_counter()
            palette = ReferencePalette.from_pixels(np.ascontiguousarray(crop), source=str(path))
            result = colorizer.colorize(gray, ColorizeOptions(reference=palette))
            ref_seconds += time.perf_counter() - t
            ref_acc.add(result.rgb, truth)
        if (i + 1) % 20 == 0:
            print(f"  {i + 1}/{len(paths)} photos, {time.perf_counter() - start:.0f} s", file=sys.stderr)

    rows = []
    for v in variants:
        for k in ks:
            s = acc[(v, k)].summary()
            rows.append({
                "prior": labels[v],
                "k": k,
                "psnr": f"{s['psnr']:.2f}",
                "auc": f"{s['auc']:.4f}",
                "auc_rb": f"{s['auc_rebalanced']:.4f}",
                "ab_mse": f"{s['ab_mse']:.1f}",
                "guide_ms": f"{1000 * guide_seconds[k] / max(len(paths), 1):.0f}" if v == "model" else "",
                "ms": f"{1000 * seconds[(v, k)] / max(len(paths), 1):.0f}",
            })
    if not args.no_reference:
        s = ref_acc.summary()
        rows.append({"prior": "reference (same scene)", "k": 0, "psnr": f"{s['psnr']:.2f}", "auc": f"{s['auc']:.4f}",
                     "auc_rb": f"{s['auc_rebalanced']:.4f}", "ab_mse": f"{s['ab_mse']:.1f}",
                     "guide_ms": "", "ms": f"{1000 * ref_seconds / max(len(paths), 1):.0f}"})
    print(f"\n{len(paths)} photos from {args.photos}, model {args.model}, seed {args.seed}, "
          f"propagation {args.propagation}")
    print_table(rows, [("prior", "prior"), ("k", "hints"), ("psnr", "PSNR dB"), ("auc", "AuC"),
                       ("auc_rb", "AuC rebal."), ("ab_mse", "ab MSE"), ("guide_ms", "guide ms/photo"),
                       ("ms", "ms/photo")])
    if args.json:
        args.json.write_text(json.dumps({"photos": len(paths), "model": args.model, "seed": args.seed,
                                         "propagation": args.propagation, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
