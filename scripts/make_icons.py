"""Render the app icon for every platform from `resources/icons/chroma.svg` (the one source).

    python scripts/make_icons.py          # rewrites resources/icons/chroma.{png,ico,icns}

* chroma.png  — 256×256, the Linux icon (`scripts/chroma.desktop`) and the window icon fallback
* chroma.ico  — Windows exe icon: 16, 24, 32, 48, 64, 128 and 256 px in one file
* chroma.icns — macOS .app icon: 16 … 1024 px (written by Pillow, so no macOS tools are needed)

The SVG is rasterised by Qt's own renderer (QSvgRenderer, offscreen), at each size separately
rather than downscaled from one big bitmap, so small sizes stay sharp. Run it again after changing
the SVG and commit the results; the bundle build only reads them.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ICONS = REPO / "resources" / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render(svg: Path, side: int):
    """The SVG as a side×side RGBA Pillow image."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg} is not a valid SVG")
    image = QImage(side, side, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return Image.open(io.BytesIO(bytes(buf.data()))).convert("RGBA")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=ICONS / "chroma.svg")
    parser.add_argument("--out", type=Path, default=ICONS)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts, image plugins)
    args.out.mkdir(parents=True, exist_ok=True)

    images = {side: render(args.svg, side) for side in sorted(set(ICO_SIZES) | set(ICNS_SIZES))}
    png = args.out / "chroma.png"
    images[256].save(png, optimize=True)
    ico = args.out / "chroma.ico"
    # Pillow's ICO writer takes the largest image and one entry per requested size; give it the
    # separately rendered bitmaps so each size is Qt's own rendering, not a resample.
    images[256].save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES],
                     append_images=[images[s] for s in ICO_SIZES if s != 256])
    icns = args.out / "chroma.icns"
    images[1024].save(icns, format="ICNS", append_images=[images[s] for s in ICNS_SIZES if s != 1024])
    for path in (png, ico, icns):
        print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
