"""The Repair panel (issue 19): the preview repairs the gray before colorizing it, the mask can be
shown, export repairs again at full resolution without touching the original, and the settings
come back with the session. Real core (ml_core.repair, a tiny model), real window, offscreen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage, QPixmap

from desktop_app.colorize.photo_queue import ItemState
from desktop_app.colorize.session import SessionError, parse_session
from ml_core.inference.batch import ExportSettings
from ml_core.repair import RepairSettings

from gui_helpers import FIXTURES, Heartbeat, digest, drop_files

SCRATCH_X, SCRATCH_Y = 200, (40, 320)  # a one-pixel bright vertical scratch, 280 px long


@pytest.fixture
def scratched(tmp_path: Path) -> Path:
    """A fixture photo, gray, 480×360, with one thin bright scratch drawn on it (lossless PNG,
    so the scratch is exactly where it was drawn)."""
    source = FIXTURES / "coffee.jpg"
    if source.is_file():
        gray = np.asarray(Image.open(source).convert("L").resize((480, 360))).copy()
    else:
        y, x = np.mgrid[0:360, 0:480]
        gray = (60 + 0.25 * x + 0.2 * y).astype(np.uint8)
    gray[SCRATCH_Y[0]:SCRATCH_Y[1], SCRATCH_X] = np.clip(gray[SCRATCH_Y[0]:SCRATCH_Y[1], SCRATCH_X].astype(int) + 70,
                                                         0, 255)
    folder = tmp_path / "old"
    folder.mkdir()
    path = folder / "scratched.png"
    Image.fromarray(gray, "L").save(path)
    return path


def gray_array(pix: QPixmap) -> np.ndarray:
    image = pix.toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width()].astype(int)


def rgba_array(pix: QPixmap) -> np.ndarray:
    image = pix.toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 4].reshape(image.height(), image.width(), 4)


def open_photo(qtbot, window, path: Path):
    tab = window.colorize_tab
    drop_files(window, [path])
    qtbot.waitUntil(lambda: len(tab.queue) == 1)
    item = tab.queue.items[0]
    tab.select_item(item.id)
    wait_fresh(qtbot, tab, item)
    return tab, item


def wait_fresh(qtbot, tab, item) -> None:
    """Until the item's preview was made with the settings the panels show now."""
    qtbot.waitUntil(lambda: item.state == ItemState.DONE and item.preview is not None
                    and item.preview.key == tab.pipeline.render_key(item), timeout=60_000)


def scratches_only(tab, on: bool = True) -> None:
    panel = tab.repair_panel
    for tool, switch in panel.switches.items():
        switch.setChecked(on and tool == "scratches")


def test_repair_changes_the_gray_where_the_scratch_is_and_hardly_elsewhere(ready_window, qtbot, scratched) -> None:
    tab, item = open_photo(qtbot, ready_window, scratched)
    before = gray_array(item.preview.gray)
    assert item.preview.original_gray is None and item.preview.mask is None  # repair is off by default
    assert tab.view.gray_label() == "Original"

    scratches_only(tab)
    wait_fresh(qtbot, tab, item)
    preview = item.preview
    after = gray_array(preview.gray)
    assert after.shape == before.shape == (360, 480)  # repair never changes the size
    change = np.abs(after - before)
    band = np.zeros(change.shape, bool)
    band[SCRATCH_Y[0] - 2:SCRATCH_Y[1] + 2, SCRATCH_X - 2:SCRATCH_X + 3] = True
    assert change[SCRATCH_Y[0]:SCRATCH_Y[1], SCRATCH_X].mean() > 30  # the +70 scratch is mostly gone
    assert change[~band].mean() < 1.0  # the rest of the photo is left (nearly) as it was
    assert (change[~band] > 8).mean() < 0.02
    # The gray side now shows the repaired photo; the original is kept for "Compare with the original".
    assert np.array_equal(gray_array(preview.original_gray), before)
    assert tab.view.gray_label() == "Repaired"
    tab.repair_panel.original_check.setChecked(True)
    assert tab.view.gray_label() == "Original"
    assert "repair" in preview.timings

    scratches_only(tab, on=False)  # off again: back to the photo as it is
    wait_fresh(qtbot, tab, item)
    assert np.array_equal(gray_array(item.preview.gray), before)
    assert tab.view.gray_label() == "Original"


def test_show_mask_overlays_the_scratch_on_the_gray_side(ready_window, qtbot, scratched) -> None:
    tab, item = open_photo(qtbot, ready_window, scratched)
    panel = tab.repair_panel
    assert not panel.mask_check.isEnabled()  # nothing to show while scratches & dust is off
    scratches_only(tab)
    wait_fresh(qtbot, tab, item)
    mask = rgba_array(item.preview.mask)
    assert mask.shape[:2] == (360, 480)
    assert mask[SCRATCH_Y[0]:SCRATCH_Y[1], SCRATCH_X, 3].mean() > 100  # the scratch is tinted
    assert (mask[..., 3] > 0).mean() < 0.1  # and not the whole photo
    assert panel.mask_check.isEnabled() and not tab.view.mask_visible()

    def scratch_pixel() -> tuple[int, int, int]:
        """The view's pixel on the scratch, on the gray side (side by side: the left pane)."""
        shot = tab.view.grab().toImage()
        left = tab.view.panes()[0]
        rect = tab.view._image_rect(left)
        x = rect.left() + (SCRATCH_X + 0.5) * rect.width() / 480
        y = rect.top() + 0.5 * rect.height()
        color = shot.pixelColor(round(x * shot.devicePixelRatio()), round(y * shot.devicePixelRatio()))
        return color.red(), color.green(), color.blue()

    tab.view.zoom_actual()  # one image pixel per screen pixel: the thin mask is not shrunk away
    qtbot.wait(50)
    r, g, b = scratch_pixel()
    assert abs(r - g) < 8  # gray without the mask
    panel.mask_check.setChecked(True)
    assert tab.view.mask_visible()
    r, g, b = scratch_pixel()
    assert r > g + 40 and r > b + 40  # red where the mask is


def test_export_with_repair_differs_and_the_original_is_untouched(ready_window, qtbot, scratched, tmp_path) -> None:
    tab, item = open_photo(qtbot, ready_window, scratched)
    original = digest([scratched])

    def export(folder: str) -> np.ndarray:
        out = tmp_path / folder
        with qtbot.waitSignal(tab.export_finished, timeout=60_000) as finished:
            assert tab.start_export(ExportSettings(out_dir=out, fmt="png"), [item])
        report = finished.args[0]
        assert not report.failed and len(report.written) == 1, report.details()
        with Image.open(report.written[0]) as img:
            assert img.size == (480, 360)  # full resolution
            return np.asarray(img.convert("L")).astype(int)

    plain = export("plain")
    scratches_only(tab)
    wait_fresh(qtbot, tab, item)
    messages: list[str] = []
    tab.status_message.connect(lambda text, _ms: messages.append(text))
    repaired = export("repaired")
    assert any("with repair (scratches & dust)" in m for m in messages)  # said, not silent
    change = np.abs(repaired - plain)
    assert change[SCRATCH_Y[0]:SCRATCH_Y[1], SCRATCH_X].mean() > 30  # the export's lightness is repaired too
    assert digest([scratched]) == original  # the original file is byte-identical


def test_repair_settings_come_back_with_the_session(qtbot, tiny_model, scratched) -> None:
    from test_session import launch

    first = launch(qtbot)
    tab = first.colorize_tab
    drop_files(first, [scratched])
    qtbot.waitUntil(lambda: len(tab.queue) == 1)
    panel = tab.repair_panel
    panel.switches["scratches"].setChecked(True)
    panel.switches["fading"].setChecked(True)
    panel.rows["scratches"].slider.setValue(80)
    panel.rows["grain"].slider.setValue(25)  # kept even though grain is off
    first.close()
    saved = json.loads(first.session.path.read_text())["repair"]
    assert saved["scratches"] is True and saved["grain"] is False and saved["scratches_strength"] == 0.8

    second = launch(qtbot)
    panel2 = second.colorize_tab.repair_panel
    assert panel2.settings() == RepairSettings(scratches=True, scratches_strength=0.8, grain=False,
                                               grain_strength=0.25, fading=True, fading_strength=0.5)
    assert panel2.is_open and panel2.mask_check.isEnabled()
    item = second.colorize_tab.queue.items[0]
    wait_fresh(qtbot, second.colorize_tab, item)
    assert item.preview.original_gray is not None  # the restored repair is applied to the preview


@pytest.mark.parametrize("repair, words", [
    ({"scratches": "yes"}, "scratches"),
    ({"grain_strength": 1.5}, "grain_strength"),
    ({"grain_strength": float("nan")}, "grain_strength"),
    ({"sharpen": True}, "sharpen"),
    ([1, 2], "repair must be an object"),
])
def test_a_bad_repair_entry_in_a_session_is_refused_by_name(repair, words) -> None:
    data = {"format": "chroma-session", "version": 1, "photos": [], "repair": repair}
    with pytest.raises(SessionError) as caught:
        parse_session(data, "session.json")
    assert "session.json" in str(caught.value) and words in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_dragging_a_repair_strength_never_freezes_the_window(ready_window, qtbot, scratched) -> None:
    tab, item = open_photo(qtbot, ready_window, scratched)
    for switch in tab.repair_panel.switches.values():
        switch.setChecked(True)
    beat = Heartbeat()
    slider = tab.repair_panel.rows["grain"].slider
    for value in range(10, 100, 10):  # a drag: each step supersedes the render before it
        slider.setValue(value)
        qtbot.wait(30)
    wait_fresh(qtbot, tab, item)
    gaps = beat.stop()
    assert gaps.max() < 0.5, f"the GUI thread froze for {gaps.max():.2f} s"
    assert tab.pipeline.repair_settings().grain_strength == pytest.approx(0.9)
    assert item.preview.key == tab.pipeline.render_key(item)  # the last value is the one rendered


def test_a_saturation_change_reuses_the_repaired_preview(ready_window, qtbot, scratched) -> None:
    tab, item = open_photo(qtbot, ready_window, scratched)
    scratches_only(tab)
    wait_fresh(qtbot, tab, item)
    repaired = gray_array(item.preview.gray)
    assert item.preview.timings["repair"] > 0  # repaired for this render
    tab.adjust_panel.saturation_row.slider.setValue(150)
    wait_fresh(qtbot, tab, item)
    assert item.preview.timings["repair"] == 0  # not repaired again: only the color changed
    assert np.array_equal(gray_array(item.preview.gray), repaired)
    tab.repair_panel.rows["scratches"].slider.setValue(90)  # a repair setting: repaired again
    wait_fresh(qtbot, tab, item)
    assert item.preview.timings["repair"] > 0


def test_the_compare_view_colorizes_the_repaired_photo(ready_window, qtbot, scratched, tiny_model) -> None:
    tab, item = open_photo(qtbot, ready_window, scratched)
    tab.comparison.set_left_out({c.name for c in tab.models.choices() if c.name != tiny_model})
    scratches_only(tab)
    wait_fresh(qtbot, tab, item)
    tab.set_comparing(True)
    qtbot.waitUntil(lambda: not tab.comparison.running and tab.comparison.tiles()[1].done, timeout=60_000)
    tiles = tab.comparison.tiles()
    assert tiles[0].title == "Repaired"
    first = gray_array(QPixmap.fromImage(tiles[0].image))
    assert np.array_equal(first, gray_array(item.preview.gray))  # the repaired gray, not the original
    assert np.abs(first - gray_array(item.preview.original_gray))[SCRATCH_Y[0]:SCRATCH_Y[1], SCRATCH_X].mean() > 30
    scratches_only(tab, on=False)  # repair off: the comparison starts over on the photo as it is
    qtbot.waitUntil(lambda: tab.comparison.tiles()[0].title == "Original" and not tab.comparison.running
                    and tab.comparison.tiles()[1].done, timeout=60_000)


def test_the_two_stage_preview_cache_matches_one_repair(scratched) -> None:
    """Grain and fading redone on the cached fill give what one full repair gives (grain's noise is
    measured after the fill: a few pixels move by up to 3 levels), and a grain change reuses the fill."""
    from dataclasses import replace

    from desktop_app.colorize.jobs import RepairedCache, _repaired_preview
    from ml_core.cancel import CancelToken
    from ml_core.io.imageio import read_image

    image = read_image(scratched)
    cache = RepairedCache()
    for settings in (RepairSettings(), RepairSettings(grain_strength=0.9, fading_strength=0.2),
                     RepairSettings.only("grain,fading"), RepairSettings.only("scratches")):
        staged, (before, mask, _) = cache.get(scratched, image, settings, 1600, CancelToken())
        whole, (before2, mask2, _) = _repaired_preview(image, settings, 1600, CancelToken())
        assert staged.pixels.shape == whole.pixels.shape == image.pixels.shape
        change = np.abs(staged.pixels.astype(int) - whole.pixels.astype(int))
        assert change.max() <= 3 and change.mean() < 0.25, settings
        assert np.array_equal(before, before2)
        assert (mask is None) == (not settings.scratches)
        assert mask is None or np.array_equal(mask, mask2)
    fills = len(cache._filled)
    cache.get(scratched, image, replace(RepairSettings.only("scratches"), grain=True, grain_strength=0.7), 1600,
              CancelToken())
    assert len(cache._filled) == fills  # the scratches fill was found, not made again
