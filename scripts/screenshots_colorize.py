"""Screenshots of the Colorize window for the README:
`xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/screenshots_colorize.py`.

Uses the bundled `default` model when resources/models has one; otherwise an untrained tiny U-Net
written to a throw-away user store (its colors are random, which is fine for showing the layout).
Nothing is written outside a temporary folder except the PNGs in docs/screenshots/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from _screenshot_env import ensure_a_model, isolated_user_dirs, open_window, settle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--size", default="1360x840", help="window size WxH")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument("--compare-only", action="store_true", help="only compare.png (the Compare view)")
    parser.add_argument("--repair-only", action="store_true", help="only repair.png and repair_mask.png")
    args = parser.parse_args()
    tmp = isolated_user_dirs("chroma-shots-", args.theme)

    from PIL import Image

    from ml_core.io.paths import resources_dir

    ensure_a_model()

    photos = tmp / "photos"
    photos.mkdir()
    for src in sorted((resources_dir() / "samples").glob("*.jpg")):
        (photos / src.name).write_bytes(src.read_bytes())
    fixtures = REPO.parent / "shared" / "photos" / "fixtures"
    for src in sorted(fixtures.glob("*.jpg")):
        Image.open(src).convert("L").save(photos / src.name, quality=92)


    from desktop_app.colorize.compare_view import ViewMode
    from desktop_app.colorize.export_dialog import SCOPE_DONE, ExportDialog
    from desktop_app.colorize.photo_queue import ItemState
    from desktop_app.self_test import wait_until

    app, window, tab = open_window(args.size, args.out)  # app kept alive for the whole run
    window.start_session()  # as `chroma` does: what is open is saved on close (restored.png)

    settle()
    if args.compare_only:
        tab.add_paths([photos / COMPARE_PHOTO])
        shoot_compare(window, tab, args.out)
        window.close()
        print(args.out / "compare.png", args.out / "model_selector.png", sep="\n")
        return 0
    if args.repair_only:
        shoot_repair(window, tab, photos, args.out)
        window.close()
        print(args.out / "repair.png", args.out / "repair_mask.png", sep="\n")
        return 0
    window.grab().save(str(args.out / "empty.png"))

    tab.add_paths(sorted(photos.iterdir()))
    wait_until(lambda: all(i.state in (ItemState.DONE, ItemState.FAILED) for i in tab.items()), 300, "the batch")
    pick = next((i for i in tab.items() if i.path.name.startswith("mountains")), tab.items()[0])
    tab.select_item(pick.id)
    wait_until(lambda: pick.state == ItemState.DONE and tab.view.has_images, 120, "the selected preview")
    settle()
    window.grab().save(str(args.out / "side_by_side.png"))

    tab.commands["confidence"].setChecked(True)
    settle()
    window.grab().save(str(args.out / "uncertainty.png"))
    tab.commands["confidence"].setChecked(False)

    tab.set_mode(ViewMode.SPLIT)
    tab.view.set_split_fraction(0.42)
    settle()
    window.grab().save(str(args.out / "split.png"))
    tab.set_mode(ViewMode.SIDE_BY_SIDE)
    tab.select_item(next((i.id for i in tab.items() if i.path.name == COMPARE_PHOTO), pick.id))
    shoot_compare(window, tab, args.out)
    tab.set_mode(ViewMode.SIDE_BY_SIDE)
    shoot_repair(window, tab, photos, args.out)
    tab.select_item(pick.id)

    from desktop_app.preferences import PreferencesDialog

    prefs = PreferencesDialog(window.settings, window)
    prefs.show()
    settle()
    _over_window(window.grab(), prefs.grab()).save(str(args.out / "preferences.png"))
    prefs.close()

    dialog = ExportDialog(window, window.settings, selected=pick.path, done_count=len(tab.done_items()),
                          default_dir=str(Path.home() / "Pictures" / "Chroma"), model_name=tab.export_flow.model_name(),
                          scope=SCOPE_DONE)
    dialog.folder_edit.setText("/home/you/Pictures/Chroma")  # not the build machine's home folder
    dialog.show()
    settle()
    _over_window(window.grab(), dialog.grab()).save(str(args.out / "export_dialog.png"))
    dialog.close()
    tab.hint_editor.add(pick, _a_hint())  # so the restored session has hints to show
    window.close()  # saves the session
    app.processEvents()

    from desktop_app.main_window import MainWindow

    again = MainWindow()  # the next start: the session comes back, with the banner
    again.resize(window.size())
    again.show()
    restored: list[int] = []
    again.session.restored.connect(restored.append)
    again.start_session()
    again.colorize_tab.refresh_models()
    wait_until(lambda: bool(restored) and again.colorize_tab.pipeline.colorizer is not None, 120, "the session")
    wait_until(lambda: again.colorize_tab.selected_item() is not None
               and again.colorize_tab.selected_item().state == ItemState.DONE, 120, "the restored preview")
    settle()
    again.grab().save(str(args.out / "restored.png"))
    again.close()
    app.processEvents()
    for name in ("empty", "side_by_side", "uncertainty", "split", "compare", "repair", "repair_mask",
                 "export_dialog", "preferences", "restored"):
        print(args.out / f"{name}.png")
    return 0


COMPARE_PHOTO = "cat_chelsea.jpg"
REPAIR_PHOTO = "astronaut.jpg"  # a fixture photo, aged here: no old photo of unknown license is shown


def old_print(source: Path, dest: Path) -> Path:
    """`source` made to look like a damaged old print: ml_core.training.degrade's heavy scratches, dust,
    grain and fading (the damage the colorization training and the repair benchmark use), on the
    fixture enlarged 4× (the fixtures are 256 px tall; damage on that would be out of scale)."""
    import numpy as np
    import torch
    from PIL import Image

    from ml_core.repair import lightness_from_pixels, pixels_from_lightness
    from ml_core.training.degrade import graded_damage

    gray = Image.open(source).convert("L")
    gray = gray.resize((gray.width * 4, gray.height * 4), Image.Resampling.BICUBIC)  # print-sized damage
    lum = lightness_from_pixels(np.asarray(gray))
    damaged, _ = graded_damage(torch.from_numpy(lum)[None, None], torch.Generator().manual_seed(7), "heavy")
    Image.fromarray(pixels_from_lightness(damaged[0, 0].numpy(), np.uint8), "L").save(dest)
    return dest


def shoot_repair(window, tab, photos: Path, out: Path) -> None:
    """The Repair panel open with all three tools on, over an aged fixture photo: the damaged
    original beside the repaired colorized one (repair.png), then the repaired gray with Show
    mask on (repair_mask.png)."""
    from desktop_app.colorize.photo_queue import ItemState
    from desktop_app.self_test import wait_until

    path = old_print(photos / REPAIR_PHOTO, photos.parent / "old_print.png")
    item = tab.add_paths([path])[0]
    tab.select_item(item.id)
    panel = tab.repair_panel
    panel.set_open(True)
    for switch in panel.switches.values():
        switch.setChecked(True)
    panel.rows["scratches"].slider.setValue(60)

    def fresh() -> bool:
        return item.state == ItemState.DONE and item.preview is not None \
            and item.preview.key == tab.pipeline.render_key(item) and tab.view.has_images

    wait_until(fresh, 120, "the repaired preview")
    panel.original_check.setChecked(True)  # the damaged print beside the repaired one, in color
    settle()
    window.grab().save(str(out / "repair.png"))
    panel.original_check.setChecked(False)
    panel.mask_check.setChecked(True)  # what scratches & dust filled, over the repaired gray
    settle()
    window.grab().save(str(out / "repair_mask.png"))
    panel.mask_check.setChecked(False)
    for switch in panel.switches.values():
        switch.setChecked(False)
    panel.set_open(False)


def shoot_compare(window, tab, out: Path) -> None:
    """The Compare view: the selected photo through every installed model, once all tiles are in."""
    from desktop_app.self_test import wait_until

    wait_until(lambda: tab.selected_item() is not None, 60, "a photo")
    tab.set_comparing(True)
    wait_until(lambda: not tab.comparison.running, 300, "the comparison")
    settle(500)
    window.grab().save(str(out / "compare.png"))
    shoot_selector(window, tab, out)


def shoot_selector(window, tab, out: Path) -> None:
    """The model selector open: built-in models, then yours, each with its plain one-line summary."""
    from PySide6.QtGui import QPainter

    combo = tab.model_panel.combo
    combo.showPopup()
    settle(500)
    popup = combo.view().window()
    canvas = window.grab()
    painter = QPainter(canvas)
    painter.drawPixmap(popup.mapToGlobal(popup.rect().topLeft()) - window.mapToGlobal(window.rect().topLeft()),
                       popup.grab())
    painter.end()
    canvas.save(str(out / "model_selector.png"))
    combo.hidePopup()


def _a_hint():
    from ml_core.guidance.hints import Hint

    return Hint.from_rgb([(0.88, 0.08)], (90, 140, 210))  # the sky, top right


def _over_window(base, top):
    """The dialog centred over the dimmed window, as a person sees it (Xvfb has no window manager)."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QColor, QPainter, QPixmap

    canvas = QPixmap(base.size())
    painter = QPainter(canvas)
    painter.drawPixmap(0, 0, base)
    painter.fillRect(canvas.rect(), QColor(0, 0, 0, 80))
    x, y = (base.width() - top.width()) // 2, (base.height() - top.height()) // 3
    for i in range(8, 0, -1):  # soft shadow
        painter.fillRect(QRect(x - i, y - i + 4, top.width() + 2 * i, top.height() + 2 * i), QColor(0, 0, 0, 10))
    painter.drawPixmap(x, y, top)
    painter.setPen(QColor(0, 0, 0, 110))
    painter.drawRect(QRect(x - 1, y - 1, top.width() + 1, top.height() + 1))
    painter.end()
    return canvas


if __name__ == "__main__":
    sys.exit(main())
