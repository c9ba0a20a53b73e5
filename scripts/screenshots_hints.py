"""Screenshots of color hints and a reference photo:
`xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots_hints.py`.

Writes docs/screenshots/hints_before.png (a photo as the model colors it), hints_after.png (after
four hints placed through the same code path a click uses, with the palette popup open) and
reference.png (a color photo's palette lent to the gray one). Uses the bundled `default` model
(falls back to an untrained tiny U-Net when it is missing, as screenshots_colorize.py does), and
prints the hint-to-preview latency it sees. Nothing is written outside a temporary folder except
the PNGs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from _screenshot_env import ensure_a_model, isolated_user_dirs, open_window, settle

# (x, y) relative to the photo, and the color a person might remember there (8-bit sRGB)
HINTS = {
    # coffee in the cup, a red saucer, a white cup, and the wooden table on both sides
    "coffee": [((0.52, 0.42), (120, 70, 35)), ((0.5, 0.8), (170, 30, 40)), ((0.3, 0.25), (235, 235, 225)),
               ((0.12, 0.45), (150, 105, 60)), ((0.88, 0.2), (150, 105, 60))],
}
DEFAULT_HINTS = [((0.3, 0.35), (200, 40, 40)), ((0.7, 0.35), (40, 90, 190)), ((0.5, 0.75), (60, 150, 70)),
                 ((0.2, 0.8), (230, 180, 40))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1360x840", help="window size WxH")
    parser.add_argument("--photo", default="coffee", help="stem of a photo in resources/samples or the fixtures")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    args = parser.parse_args()
    tmp = isolated_user_dirs("chroma-hint-shots-", args.theme)

    from PIL import Image

    from ml_core.io.paths import resources_dir

    ensure_a_model()

    fixtures = REPO.parent / "shared" / "photos" / "fixtures"
    samples = (sorted((resources_dir() / "samples").glob(f"{args.photo}*.jpg"))
               + sorted(fixtures.glob(f"{args.photo}*.jpg")))
    if not samples:
        raise SystemExit(f"no photo named {args.photo}* in resources/samples or {fixtures}")
    photo = tmp / f"{args.photo}.jpg"
    Image.open(samples[0]).convert("L").save(photo, quality=95)
    reference = next((p for p in sorted(fixtures.glob("*.jpg")) if p.stem != args.photo and "cat" in p.stem),
                     next(iter(sorted(fixtures.glob("*.jpg"))), None))


    from desktop_app.colorize.photo_queue import ItemState
    from desktop_app.self_test import wait_until
    from ml_core.guidance.hints import rgb_to_ab

    app, window, tab = open_window(args.size, args.out)  # app kept alive for the whole run

    def fresh() -> bool:
        return (item.preview is not None and item.preview.key[-1] == item.guidance_key()
                and not tab.pipeline.is_rendering(item.id))

    tab.add_paths([photo])
    item = tab.items()[0]
    wait_until(lambda: item.state == ItemState.DONE and tab.view.has_images, 120, "the first preview")
    tab.commands["hints"].setChecked(True)
    settle()
    window.grab().save(str(args.out / "hints_before.png"))

    latencies = []
    for (x, y), rgb in HINTS.get(args.photo, DEFAULT_HINTS):
        tab.hint_tool.palette.hide()
        start = time.perf_counter()
        tab.view.hint_add_requested.emit(((x, y),))  # exactly what a click on the photo sends
        wait_until(lambda: not tab.hint_tool.busy(), 30, "the hint's suggestions")
        tab.hint_tool.recolor_selected(rgb_to_ab(rgb))  # what choosing a color does
        wait_until(fresh, 60, "the hinted preview")
        latencies.append(time.perf_counter() - start)
    settle()
    # the palette of the last hint, as a person sees it after clicking its marker
    last = len(item.hints) - 1
    tab.hint_tool.open_palette(last)
    wait_until(lambda: bool(tab.hint_tool.palette.suggestions()), 30, "the palette")
    settle()
    shot = window.grab()
    _paint_popup(shot, tab.hint_tool.palette, window)
    shot.save(str(args.out / "hints_after.png"))
    tab.hint_tool.palette.hide()

    if reference is not None:
        tab.hint_tool.clear()
        tab.commands["hints"].setChecked(False)
        tab.references.set_reference(item, reference)
        wait_until(lambda: item.reference is not None, 60, "the reference")
        wait_until(fresh, 60, "the preview with the reference")
        wait_until(lambda: tab.reference_panel.drop_area.pixmap() is not None
                   and not tab.reference_panel.drop_area.pixmap().isNull(), 30, "the reference thumbnail")
        settle()
        window.grab().save(str(args.out / "reference.png"))

    window.close()
    app.processEvents()
    print("hint -> preview (s):", ", ".join(f"{t:.2f}" for t in latencies))
    for name in ("hints_before", "hints_after", "reference"):
        print(args.out / f"{name}.png")
    return 0


def _paint_popup(shot, popup, window) -> None:
    """Xvfb has no compositor: window.grab() misses top-level popups, so paint it where it is."""
    from PySide6.QtGui import QPainter

    pos = window.mapFromGlobal(popup.pos())
    painter = QPainter(shot)
    painter.drawPixmap(pos, popup.grab())
    painter.end()


if __name__ == "__main__":
    sys.exit(main())
