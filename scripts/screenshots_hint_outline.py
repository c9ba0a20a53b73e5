"""Screenshot of a hint's region outline and the reach control (issue 14):
`xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots_hint_outline.py`.

Places hints on a gray photo through the same code path a click uses, moves the mouse onto one
marker as a person would (a real mouse-move event), waits for the region ml_core computes in a
worker, and grabs the window: the outline on both panes and the side panel's Hints section with
the Small / Object / Wide choice. A second shot shows the palette of that hint, whose reach row
is the same control. PNGs larger than --max-kb are reduced to 256 colors, which keeps a
screenshot legible. Nothing is written outside a temporary folder except the images.
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

# (x, y) relative to the photo and an sRGB color; the first is the one hovered
HINTS = {
    "astronaut": [((0.47, 0.30), (225, 170, 140)), ((0.30, 0.78), (235, 120, 40))],
    "coffee": [((0.5, 0.8), (170, 30, 40)), ((0.52, 0.42), (120, 70, 35))],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1360x840", help="window size WxH")
    parser.add_argument("--photo", default="astronaut", choices=sorted(HINTS))
    parser.add_argument("--reach", default="object", choices=["small", "object", "wide"], help="of the hovered hint")
    parser.add_argument("--name", default="hints_region_outline")
    parser.add_argument("--max-kb", type=int, default=400)
    args = parser.parse_args()
    tmp = isolated_user_dirs("chroma-outline-shots-", "light")

    from PIL import Image

    ensure_a_model()
    source = REPO.parent / "shared" / "photos" / "fixtures" / f"{args.photo}.jpg"
    photo = tmp / f"{args.photo}.jpg"
    Image.open(source).convert("L").save(photo, quality=95)

    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    from desktop_app.colorize.photo_queue import ItemState
    from desktop_app.self_test import wait_until
    from ml_core.guidance.hints import rgb_to_ab

    app, window, tab = open_window(args.size, args.out)  # app kept alive for the whole run
    tab.add_paths([photo])
    item = tab.items()[0]
    wait_until(lambda: item.state == ItemState.DONE and tab.view.has_images, 120, "the first preview")
    tab.commands["hints"].setChecked(True)

    def fresh() -> bool:
        return (item.preview is not None and item.preview.key[-1] == item.guidance_key()
                and not tab.pipeline.is_rendering(item.id))

    for (x, y), rgb in HINTS[args.photo]:
        tab.hint_tool.palette.hide()
        tab.view.hint_add_requested.emit(((x, y),))  # exactly what a click on the photo sends
        wait_until(lambda: not tab.hint_tool.busy(), 30, "the hint's suggestions")
        tab.hint_tool.recolor_selected(rgb_to_ab(rgb))
    tab.hint_tool.palette.hide()
    tab.view.select_hint(0)
    tab.hint_tool.set_reach(args.reach)
    wait_until(fresh, 120, "the hinted preview")

    wait_until(lambda: tab.runner.current("hint-region-prepare") is None, 60, "the outline's model run")
    hint = item.hints[0]
    start = time.perf_counter()
    spot = tab.view.to_widget(hint.x, hint.y).toPoint()
    QTest.mouseMove(tab.view, spot + QPoint(4, 3))  # QTest skips a move to where its last one went
    QTest.mouseMove(tab.view, spot)
    outline = tab.hint_tool.outline
    wait_until(lambda: tab.view.hint_outline()[0] == 0 and not outline.busy(), 60, "the region outline")
    seconds = time.perf_counter() - start
    settle()
    print(f"region of hint 1: {outline.region.share:.1%} of the photo, {len(outline.region.outline)} outline(s); "
          f"hover -> outline {seconds:.2f} s")
    written = [_save(window.grab(), args.out / f"{args.name}.png", args.max_kb)]

    tab.hint_tool.open_palette(0)  # as a click on the marker does; the outline stays while hovered
    wait_until(lambda: bool(tab.hint_tool.palette.suggestions()), 30, "the palette")
    settle()
    shot = window.grab()
    _paint_popup(shot, tab.hint_tool.palette, window)
    written.append(_save(shot, args.out / f"{args.name}_palette.png", args.max_kb))
    tab.hint_tool.palette.hide()
    window.close()
    app.processEvents()
    for path in written:
        print(path, f"{path.stat().st_size / 1024:.0f} KB")
    return 0


def _save(pixmap, path: Path, max_kb: int) -> Path:
    """A PNG; over `max_kb`, the same image in 256 colors (median cut), still a PNG."""
    from PIL import Image

    pixmap.save(str(path))
    if path.stat().st_size > max_kb * 1024:
        Image.open(path).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def _paint_popup(shot, popup, window) -> None:
    """Xvfb has no compositor: window.grab() misses top-level popups, so paint it where it is."""
    from PySide6.QtGui import QPainter

    painter = QPainter(shot)
    painter.drawPixmap(window.mapFromGlobal(popup.pos()), popup.grab())
    painter.end()


if __name__ == "__main__":
    sys.exit(main())
