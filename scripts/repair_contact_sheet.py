"""Before/after contact sheet of the repair step on real old prints (issue 19).

    python scripts/repair_contact_sheet.py [--out docs/eval/repair/contact_sheet.jpg]

Rows: photos from ../shared/photos/old_bw (never trained on; kept out of the repository, only
these thumbnails are committed). Columns: the print as the colorizer sees it (gray) | what the
scratch & dust mask touched (red) | repaired (all three tools, default strength) | repaired and
colorized with the `default` model. Every photo is repaired at its full stored size, then
thumbnailed. Also prints, for all photos, the share masked, the grain measured and the time taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml_core.inference.engine import Colorizer  # noqa: E402
from ml_core.io.imageio import read_image  # noqa: E402
from ml_core.modelfiles.store import ModelStore  # noqa: E402
from ml_core.repair import RepairSettings, lightness_from_pixels, pixels_from_lightness, repair_pixels  # noqa: E402

OLD_BW = Path(__file__).resolve().parents[2] / "shared" / "photos" / "old_bw"
SHEET = ("RomeroRodriguezD-Repairing-Old-Photos-with-OpenCV-from-scratch__base.jpg",
         "cszn-BSRGAN__oldphoto6.jpg", "wangqinghuan-old-photos__1bz3f1s.jpg",
         "wangqinghuan-old-photos__1nx02it.jpg", "kidpixo-piedimonte-matese-old-photos__Piazza_Mercato_fine_1800.jpg",
         "kidpixo-piedimonte-matese-old-photos__ViaAntonioGaetani_1910.jpg",
         "Courage-1984-ai-image-colorization-results__2.jpg", "sczhou-CodeFormer__Einstein01.jpg")
THUMB_H = 150


def thumb(pixels: np.ndarray) -> Image.Image:
    img = Image.fromarray(pixels).convert("RGB")
    return img.resize((max(1, round(img.width * THUMB_H / img.height)), THUMB_H), Image.Resampling.LANCZOS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("docs/eval/repair/contact_sheet.jpg"))
    args = ap.parse_args()
    settings = RepairSettings()
    colorizer = Colorizer(ModelStore().load("default"))
    rows = []
    print(f"{'photo':70s} {'size':>10s} {'masked':>7s} {'grain':>6s} {'L* 1-99 % before -> after':>26s} {'time':>7s}")
    for path in sorted(OLD_BW.glob("*.jpg")):
        image = read_image(path)
        t = time.perf_counter()
        repaired, result = repair_pixels(image.pixels, settings)
        seconds = time.perf_counter() - t
        before = np.percentile(lightness_from_pixels(image.pixels), [1, 99])
        after = np.percentile(result.lightness, [1, 99])
        print(f"{path.name[:70]:70s} {image.width:>4d}×{image.height:<5d} {100 * result.masked_share:6.2f}% "
              f"{result.noise:6.2f} {before[0]:5.1f}-{before[1]:5.1f} -> {after[0]:5.1f}-{after[1]:5.1f} "
              f"{1000 * seconds:5.0f} ms")
        if path.name not in SHEET:
            continue
        gray = pixels_from_lightness(lightness_from_pixels(image.pixels), image.pixels.dtype)
        overlay = np.stack([gray] * 3, -1).astype(np.uint8)
        overlay[result.mask] = (255, 0, 0)
        color = colorizer.colorize(repaired).rgb
        rows.append([thumb(gray), thumb(overlay), thumb(repaired), thumb(color)])
    titles = ("gray (as the colorizer sees it)", "mask (red)", "repaired", "repaired + colorized (default)")
    widths = [max(r[i].width for r in rows) for i in range(4)]
    sheet = Image.new("RGB", (sum(widths) + 5 * 6, len(rows) * (THUMB_H + 6) + 26), "white")
    draw = ImageDraw.Draw(sheet)
    x = 6
    for i, title in enumerate(titles):
        draw.text((x, 6), title, fill="black")
        x += widths[i] + 6
    for j, row in enumerate(rows):
        x = 6
        for i, tile in enumerate(row):
            sheet.paste(tile, (x, 26 + j * (THUMB_H + 6)))
            x += widths[i] + 6
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=78, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
