"""Recolor benchmark: does a hint change the object it was put on, and only that? (issue 14)

`python bench/bench_recolor.py` prints, over the cases of bench/recolor_cases.json:

* taken: the share of the object whose guided a*b* lies within ΔE 10 of the hint's color
  (target ≥ 80 %); ΔE on a*b* alone, since a hint sets chroma and the photo keeps its lightness;
* outside: the mean |Δa*b*| between the photo with and without the hint, outside the object
  (target < 2): what the hint did to everything else.

Why another benchmark: bench_hints.py gives hints the photo's *true* colors, so a hint that
spreads over the whole photo is rewarded there. A person uses a hint to *change* a color, which
this measures. Each case is a real BSDS500 photo (held out from training) with an object
polygon drawn by hand (`objects`: measured with a band of `BAND` around the outline left out,
since a hand-drawn outline is approximate), or that object cut out by its polygon and pasted
onto another BSDS500 photo (`composites`: the mask is exact, the band is one grid pixel).
Photos are read from ../shared at run time; the repository holds only polygons and recipes.

The hint is one click (the default radius) at the object's interior point farthest from its
outline, colored with the one of eight hues (chroma 45) farthest from the model's mean a*b* in
the object, so it always asks for a real change. Measured on the guidance grid the engine
returns (ColorizeResult.ab), before recombination clips out-of-gamut colors.

`hint update ms` is the median time of the guidance step (gates + solve; ColorizeResult.timings
"guide") per case: what one hint edit costs on top of the model, on a photo of preview size
(BSDS500: 481×321). Time it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, print_table  # noqa: E402

CASES = Path(__file__).resolve().parent / "recolor_cases.json"
SHARED = REPO.parent / "shared"
BAND = 0.02  # of the long side, each side of a hand-drawn outline
TAKEN_DE = 10.0
HUES = 8
HINT_CHROMA = 45.0


@dataclass
class Case:
    name: str
    rgb: np.ndarray  # (h, w, 3) uint8
    polygon: list[tuple[float, float]]  # relative to this photo
    exact: bool  # composite: the polygon is the mask exactly


def polygon_mask(polygon: list[tuple[float, float]], height: int, width: int) -> np.ndarray:
    img = Image.new("L", (width, height), 0)
    ImageDraw.Draw(img).polygon([(x * width, y * height) for x, y in polygon], fill=255)
    return np.asarray(img) > 127


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(mask.astype(np.float32))[None, None]
    return F.max_pool2d(t, 2 * r + 1, stride=1, padding=r)[0, 0].numpy() > 0.5


def interior_point(mask: np.ndarray) -> tuple[int, int]:
    """(row, col) of the mask pixel farthest from its outline (a chessboard-distance peel)."""
    inside, last = mask.copy(), mask.copy()
    while inside.any():
        last = inside
        inside = ~_dilate(~inside, 1) & inside
    ys, xs = np.nonzero(last)
    i = len(ys) // 2
    return int(ys[i]), int(xs[i])


def load_cases(spec: dict, seed: int = 0) -> list[Case]:
    """The hand-drawn objects, then each object pasted onto two backgrounds (seeded draw)."""
    folder = SHARED / spec["photos"]
    objects = spec["objects"]
    cases, cutouts = [], []
    for obj in objects:
        rgb = np.asarray(Image.open(folder / obj["photo"]).convert("RGB"))
        poly = [tuple(p) for p in obj["polygon"]]
        cases.append(Case(obj["id"], rgb, poly, exact=False))
        h, w = rgb.shape[:2]
        xs, ys = [p[0] * w for p in poly], [p[1] * h for p in poly]
        box = (int(min(xs)), int(min(ys)), int(math.ceil(max(xs))), int(math.ceil(max(ys))))
        crop = rgb[box[1]:box[3], box[0]:box[2]]
        local = [((x - box[0]) / crop.shape[1], (y - box[1]) / crop.shape[0]) for x, y in zip(xs, ys)]
        cutouts.append((obj["id"], crop, local))
    used = {o["photo"] for o in objects}
    backgrounds = sorted(p for p in folder.glob("*.jpg") if p.name not in used)
    rng = np.random.default_rng(seed)
    for name, crop, local in cutouts:
        for bg_path in rng.choice(backgrounds, size=2, replace=False):
            bg = np.asarray(Image.open(bg_path).convert("RGB")).copy()
            bh, bw = bg.shape[:2]
            s = spec.get("composite_size", 0.45) * max(bh, bw) / max(crop.shape[:2])
            ch, cw = min(bh, max(8, round(crop.shape[0] * s))), min(bw, max(8, round(crop.shape[1] * s)))
            obj = np.asarray(Image.fromarray(crop).resize((cw, ch), Image.Resampling.BICUBIC))
            mask = polygon_mask(local, ch, cw)
            y0, x0 = int(rng.integers(0, bh - ch + 1)), int(rng.integers(0, bw - cw + 1))
            bg[y0:y0 + ch, x0:x0 + cw][mask] = obj[mask]
            poly = [((x0 + x * cw) / bw, (y0 + y * ch) / bh) for x, y in local]
            cases.append(Case(f"{name}@{bg_path.stem}", bg, poly, exact=True))
    return cases


def split_of(cases: list[Case], spec: dict, split: str) -> list[Case]:
    """Settings are chosen on one half of the objects (`tune`: every other hand-drawn object, in
    file order, with its composites) and reported on the other (`report`), never on the cases
    they were chosen with; `all` is both."""
    ids = [o["id"] for o in spec["objects"]]
    half = set(ids[0::2]) if split == "tune" else set(ids[1::2]) if split == "report" else set(ids)
    return [c for c in cases if c.name.split("@")[0] in half]


def measure(colorizer, case: Case, band: float) -> dict:
    """One case -> taken share, outside |Δab|, and the hint used."""
    import torch

    from ml_core.evaluation.metrics import gray_image
    from ml_core.guidance.hints import Hint
    from ml_core.inference.engine import ColorizeOptions

    gray = gray_image(case.rgb)
    base = colorizer.colorize(gray, ColorizeOptions())
    # the guided ab lives on the guidance grid; get the model's ab there by guiding with no effect
    plain = colorizer.guide(gray, torch.from_numpy(base.ab), None if base.confidence is None
                            else torch.from_numpy(base.confidence), ColorizeOptions())
    grid_h, grid_w = plain.shape[-2:]
    mask = polygon_mask(case.polygon, grid_h, grid_w)
    r = 1 if case.exact else max(1, round(band * max(grid_h, grid_w)))
    core = mask & ~_dilate(~mask, r)
    outside = ~_dilate(mask, r)
    row, col = interior_point(mask)
    model_mean = plain.numpy()[:, core].mean(axis=1)
    angles = [2 * math.pi * i / HUES for i in range(HUES)]
    colors = [(HINT_CHROMA * math.cos(a), HINT_CHROMA * math.sin(a)) for a in angles]
    ab = max(colors, key=lambda c: math.hypot(c[0] - model_mean[0], c[1] - model_mean[1]))
    hint = Hint.at((col + 0.5) / grid_w, (row + 0.5) / grid_h, ab)
    result = colorizer.colorize(gray, ColorizeOptions(hints=(hint,)))
    guided = result.ab
    err = np.hypot(guided[0] - ab[0], guided[1] - ab[1])
    change = np.hypot(*(guided - plain.numpy()))
    return {"taken": float((err[core] < TAKEN_DE).mean()), "outside": float(change[outside].mean()),
            "outside_p95": float(np.percentile(change[outside], 95)), "hint": [round(ab[0], 1), round(ab[1], 1)],
            "at": [round((col + 0.5) / grid_w, 3), round((row + 0.5) / grid_h, 3)],
            "guide_s": float(result.timings.get("guide", 0.0))}


def overlay(cases: list[Case], path: Path) -> None:
    """A contact sheet of every case with its outline, to check the polygons by eye."""
    tiles = []
    for case in cases:
        img = Image.fromarray(case.rgb).convert("RGB")
        d = ImageDraw.Draw(img)
        w, h = img.size
        d.polygon([(x * w, y * h) for x, y in case.polygon], outline=(255, 0, 255), width=3)
        d.text((4, 4), case.name, fill=(255, 255, 0))
        img.thumbnail((240, 240))
        tiles.append(img)
    cols = 6
    sheet = Image.new("RGB", (cols * 240, math.ceil(len(tiles) / cols) * 240), "white")
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % cols) * 240, (i // cols) * 240))
    sheet.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=Path, default=CASES)
    ap.add_argument("--model", default="default")
    ap.add_argument("--seed", type=int, default=0, help="draw of the composites' backgrounds and spots")
    ap.add_argument("--propagation", choices=("regions", "legacy"), default="regions",
                    help="legacy: hints spread wherever affinities lead (before issue 14)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (1 on a busy machine)")
    ap.add_argument("--split", choices=("tune", "report", "all"), default="all",
                    help="tune: the half settings were chosen on; report: the other half")
    ap.add_argument("--overlay", type=Path, default=None, help="write a contact sheet of the cases and stop")
    ap.add_argument("--per-case", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    spec = json.loads(args.cases.read_text())
    cases = split_of(load_cases(spec, args.seed), spec, args.split)
    if args.overlay:
        overlay(cases, args.overlay)
        return
    from ml_core.guidance import propagation
    from ml_core.inference.engine import Colorizer
    from ml_core.modelfiles.store import ModelStore

    if args.propagation == "legacy":
        propagation.DEFAULT_SETTINGS = propagation.LEGACY_SETTINGS
    colorizer = Colorizer(ModelStore().load(args.model), threads=args.threads)
    start = time.perf_counter()
    results = []
    for case in cases:
        m = measure(colorizer, case, BAND)
        m["case"] = case.name
        m["kind"] = "composite" if case.exact else "drawn"
        results.append(m)
        if args.per_case:
            print(f"{case.name:28s} taken {100 * m['taken']:5.1f} %  outside {m['outside']:5.2f}  hint {m['hint']}")
    rows = []
    for kind in ("drawn", "composite", "all"):
        part = [r for r in results if kind in ("all", r["kind"])]
        rows.append({"kind": kind, "n": len(part),
                     "taken": f"{100 * np.mean([r['taken'] for r in part]):.1f}",
                     "taken80": f"{sum(r['taken'] >= 0.8 for r in part)}/{len(part)}",
                     "outside": f"{np.mean([r['outside'] for r in part]):.2f}",
                     "outside_med": f"{np.median([r['outside'] for r in part]):.2f}",
                     "guide_ms": f"{1000 * np.median([r['guide_s'] for r in part]):.0f}"})
    print(f"\n{len(cases)} cases ({args.split}), model {args.model}, propagation {args.propagation}, "
          f"{time.perf_counter() - start:.0f} s")
    print_table(rows, [("kind", "cases"), ("n", "n"), ("taken", "object taken %"), ("taken80", "cases ≥ 80 %"),
                       ("outside", "outside |Δab| mean"), ("outside_med", "median"),
                       ("guide_ms", "hint update ms (median)")])
    if args.json:
        record = {"propagation": args.propagation, "split": args.split, "rows": rows, "cases": results}
        args.json.write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
