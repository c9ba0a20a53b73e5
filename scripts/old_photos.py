"""Real old prints: how many results are a monotone wash, and a contact sheet to look at.

    python scripts/old_photos.py default default-v2 [--photos ../shared/photos/old_bw]
                                 [--out docs/eval/old_bw] [--thumb 150]

No ground truth exists for old prints, so this measures what can be measured without it: the
*hue spread* of each result (the square root of the smaller eigenvalue of the covariance of its
a*b* values — the same measure the corpus build used to drop sepia and single-tint photos). A
result with spread below 1.5 is one color family over the whole photo: the brown or pink wash
people complain of. The contact sheet (input | each model) is what to look at; it is written at
thumbnail size only (the prints' licenses keep the files themselves out of the repository).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml_core.evaluation.contact_sheet import compose_sheet, sheet_pixels  # noqa: E402
from ml_core.evaluation.old_prints import (  # noqa: E402
    MONOTONE_SPREAD,
    NEAR_MONOTONE_SPREAD,
    hue_spread,
    mean_chroma,
    wash_summary,
)
from ml_core.inference.engine import Colorizer  # noqa: E402
from ml_core.inference.model_input import to_uint8  # noqa: E402
from ml_core.io.imageio import export_image, read_image  # noqa: E402
from ml_core.modelfiles.store import ModelStore  # noqa: E402


def thumb(rgb: np.ndarray, side: int) -> np.ndarray:
    """A square thumbnail, the photo centered on white, so every column of the sheet lines up."""
    img = Image.fromarray(rgb)
    img.thumbnail((side, side))
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
    return np.asarray(canvas)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--photos", type=Path, default=REPO.parent / "shared" / "photos" / "old_bw")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "eval" / "old_bw")
    ap.add_argument("--thumb", type=int, default=150)
    args = ap.parse_args()
    files = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    store = ModelStore()
    colorizers = {m: Colorizer(store.load(m)) for m in args.models}
    rows: list[list[np.ndarray]] = []
    report: dict[str, dict] = {m: {"photos": {}} for m in args.models}
    for f in files:
        image = read_image(f)
        gray = np.asarray(Image.fromarray(to_uint8(image.pixels)).convert("RGB"))
        row = [thumb(gray, args.thumb)]
        for m, c in colorizers.items():
            rgb = c.colorize(image).rgb
            rgb8 = to_uint8(rgb)
            report[m]["photos"][f.name] = {"hue_spread": round(hue_spread(rgb8), 3),
                                           "mean_chroma": round(mean_chroma(rgb8), 2)}
            row.append(thumb(rgb8, args.thumb))
        rows.append(row)
        print(f.name, {m: report[m]["photos"][f.name]["hue_spread"] for m in args.models}, flush=True)
    for m in args.models:
        photos = report[m]["photos"].values()
        report[m].update(wash_summary([v["hue_spread"] for v in photos], [v["mean_chroma"] for v in photos]))
        print(f"{m}: {report[m]['monotone']}/{report[m]['results']} monotone (hue spread < {MONOTONE_SPREAD}), "
              f"{report[m]['near_monotone']} below {NEAR_MONOTONE_SPREAD}, "
              f"median spread {report[m]['median_hue_spread']}, median chroma {report[m]['median_chroma']}")
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"models": args.models, "threshold": MONOTONE_SPREAD, "near_threshold": NEAR_MONOTONE_SPREAD, **report}
    (args.out / "old_bw.json").write_text(json.dumps(summary, indent=1) + "\n")
    write_sheet(rows, ["input", *(Path(m).stem for m in args.models)], args.thumb, args.out / "contact_sheet.jpg")
    return 0


def write_sheet(rows: list[list[np.ndarray]], labels: list[str], side: int, path: Path) -> None:
    """Rows of (input | model...) thumbnails, two photos per line, with a header of labels."""
    per_line = 2
    lines = [sum(rows[i:i + per_line], []) for i in range(0, len(rows), per_line)]
    sheet = compose_sheet(lines, titles=labels * per_line, tile_height=side, gap=4, font_size=12)
    export_image(sheet_pixels(sheet), path, "jpg", quality=72, overwrite=True)


if __name__ == "__main__":
    raise SystemExit(main())
