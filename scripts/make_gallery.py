"""Regenerate the README gallery: gray | model... | real for a dozen held-out validation photos.

    python scripts/make_gallery.py [--models default fast] [--out docs/gallery]

The photos come from BSDS500 in ../shared/photos/train/bsds500, the source folder held out from
training the built-in models, picked by hand for variety (landscape, city, portraits, animals,
food, an interior, an object).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml_core.evaluation.metrics import gray_image  # noqa: E402
from ml_core.inference.engine import Colorizer  # noqa: E402
from ml_core.io.imageio import read_image  # noqa: E402
from ml_core.modelfiles.store import ModelStore  # noqa: E402

VALIDATION = REPO.parent / "shared" / "photos" / "train" / "bsds500"
PHOTOS = {
    "00253": "landscape",
    "00186": "waterfront town",
    "00179": "city skyline",
    "00133": "portrait",
    "00266": "portraits",
    "00018": "tiger",
    "00075": "cardinal",
    "00210": "horses",
    "00055": "fruit market",
    "00225": "wooden clogs",
    "00031": "museum interior",
    "00130": "red car",
}
TILE = (240, 180)  # every cell letterboxed to one size so the columns line up


def tile(pixels: np.ndarray) -> Image.Image:
    img = Image.fromarray(pixels)
    img.thumbnail(TILE, Image.Resampling.LANCZOS)
    cell = Image.new("RGB", TILE, "white")
    cell.paste(img, ((TILE[0] - img.width) // 2, (TILE[1] - img.height) // 2))
    return cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="+", default=["default", "fast"])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "gallery")
    args = parser.parse_args()
    store = ModelStore()
    colorizers = {name: Colorizer(store.load(name)) for name in args.models}
    args.out.mkdir(parents=True, exist_ok=True)
    columns = ["gray", *args.models, "real"]
    rows = []
    for stem, subject in PHOTOS.items():
        image = read_image(VALIDATION / f"{stem}.jpg")
        gray = gray_image(image.pixels)  # what a black-and-white photo of the scene looks like
        cells = [tile(np.repeat(gray[..., None], 3, axis=2))]
        cells += [tile(c.colorize(gray).rgb) for c in colorizers.values()]
        cells.append(tile(image.pixels))
        row = Image.new("RGB", (sum(c.width for c in cells) + 4 * (len(cells) - 1), TILE[1]), "white")
        x = 0
        for c in cells:
            row.paste(c, (x, 0))
            x += c.width + 4
        row.save(args.out / f"{stem}_{subject.replace(' ', '_')}.jpg", quality=90)
        rows.append(row)
    width = max(r.width for r in rows)
    header = 28
    sheet = Image.new("RGB", (width, header + sum(r.height + 6 for r in rows)), "white")
    draw = ImageDraw.Draw(sheet)
    col_w = TILE[0] + 4
    for i, name in enumerate(columns):
        draw.text((i * col_w + 8, 8), name, fill="black")
    y = header
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + 6
    sheet.save(args.out / "gallery.jpg", quality=88)
    print(f"wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
