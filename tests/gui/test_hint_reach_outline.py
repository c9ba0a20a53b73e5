"""Issue 14 in the window: a reach per hint (small / object / wide), and the outline of the region a
hovered or dragged hint will color, computed by ml_core off the GUI thread."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QApplication

from ml_core.guidance.hints import Hint
from ml_core.io.imageio import read_image

from gui_helpers import gray_fixture_photo, wait_all_settled

RED_AB = (60.0, 50.0)
BLUE_AB = (10.0, -50.0)


def photo(tmp_path: Path, name: str, source: str = "coffee.jpg", size: tuple[int, int] = (480, 320)) -> Path:
    return gray_fixture_photo(tmp_path, name, size, source)


def wait_fresh(qtbot, tab, item) -> None:
    """Until the preview on screen was rendered with the item's current hints."""
    qtbot.waitUntil(lambda: item.preview is not None and item.preview.key[-1] == item.guidance_key()
                    and not tab.pipeline.is_rendering(item.id), timeout=30_000)


@pytest.fixture
def hinted(ready_window, qtbot, tmp_path):
    """Two photos in the queue, the first selected with two hints, and the hint tool on."""
    tab = ready_window.colorize_tab
    paths = [photo(tmp_path, "a.jpg"), photo(tmp_path, "b.jpg", "astronaut.jpg")]
    tab.add_paths(paths)
    wait_all_settled(qtbot, tab)
    item = tab.queue.find_path(paths[0])
    tab.select_item(item.id)
    qtbot.waitUntil(lambda: tab.view.has_images and item.preview is not None, timeout=30_000)
    tab.commands["hints"].setChecked(True)
    tab.hint_editor.replace(item, (Hint.at(0.3, 0.4, RED_AB), Hint.at(0.7, 0.6, BLUE_AB)), "Test Hints")
    wait_fresh(qtbot, tab, item)
    return tab, item, paths


def expected_region(tab, item, hint: Hint):
    """What ml_core says this hint colors on the preview, computed here without the window."""
    options = tab.pipeline.colorize_options(preview=True, item=item)
    return tab.pipeline.colorizer.guidance_inputs(read_image(item.path), options).region(hint)


def filled(path, height: int, width: int) -> np.ndarray:
    """The view's outline path (unit square) filled on a (height, width) grid, as a boolean mask."""
    image = QImage(width, height, QImage.Format.Format_Grayscale8)
    image.fill(0)
    p = QPainter(image)
    p.setTransform(QTransform.fromScale(width, height))
    p.fillPath(path, QColor(255, 255, 255))
    p.end()
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(height, image.bytesPerLine())
    return arr[:, :width] > 127


def hover(qtbot, tab, index: int) -> None:
    hint = tab.selected_item().hints[index]
    spot = tab.view.to_widget(hint.x, hint.y).toPoint()
    # two moves, both on the marker: QTest sends no event for a move to where its last move went
    qtbot.mouseMove(tab.view, spot + QPoint(3, 2))
    qtbot.mouseMove(tab.view, spot)
    qtbot.waitUntil(lambda: tab.view.hint_outline()[0] == index and not tab.hint_tool.outline.busy(), timeout=30_000)


# ---------------------------------------------------------------------------- reach

def test_the_reach_choice_changes_the_selected_hint_rerenders_and_is_saved(hinted, qtbot, tmp_path) -> None:
    tab, item, _ = hinted
    panel = tab.hint_tool.panel
    assert panel.isVisible()
    tab.view.select_hint(0)
    assert panel.reach.reach() == "object" and "selected hint" in panel.caption.text()
    before = item.preview.key
    qtbot.mouseClick(panel.reach.buttons["wide"], Qt.MouseButton.LeftButton)
    assert item.hints[0].reach == "wide" and item.hints[1].reach == "object"
    assert tab.hint_tool.palette.reach.reach() == "wide"
    wait_fresh(qtbot, tab, item)  # re-rendered through the scheduler, with the new reach in its key
    assert item.preview.key != before and item.preview.key[-1][0][0].reach == "wide"
    # undoable like any hint edit
    tab.commands["undo"].trigger()
    assert item.hints[0].reach == "object" and panel.reach.reach() == "object"
    tab.commands["redo"].trigger()
    assert item.hints[0].reach == "wide"
    # saved to (and read back from) the hint file the command line reads
    path = tmp_path / "reach.hints.json"
    assert tab.hint_tool.save_hints(path)
    entries = json.loads(path.read_text())["hints"]
    assert entries[0]["reach"] == "wide" and "reach" not in entries[1]  # "object" is the default
    tab.commands["clear_hints"].trigger()
    assert tab.hint_tool.load_hints(path)
    assert [h.reach for h in item.hints] == ["wide", "object"]


def test_with_no_hint_selected_the_reach_is_the_one_new_hints_get(hinted, qtbot) -> None:
    tab, item, _ = hinted
    panel = tab.hint_tool.panel
    tab.view.select_hint(-1)
    assert "new hints" in panel.caption.text().lower()
    qtbot.mouseClick(panel.reach.buttons["small"], Qt.MouseButton.LeftButton)
    assert [h.reach for h in item.hints] == ["object", "object"]  # no existing hint changed
    qtbot.mouseClick(tab.view, Qt.MouseButton.LeftButton, pos=tab.view.to_widget(0.5, 0.2).toPoint())
    qtbot.waitUntil(lambda: len(item.hints) == 3 and not tab.hint_tool.busy(), timeout=30_000)
    tab.hint_tool.palette.hide()
    assert item.hints[-1].reach == "small"
    assert panel.reach.reach() == "small" and "selected hint" in panel.caption.text()  # the new hint is selected


# ---------------------------------------------------------------------------- outline

def test_hovering_a_hint_outlines_the_region_ml_core_computes_for_it(hinted, qtbot) -> None:
    tab, item, _ = hinted
    view = tab.view
    plain = view.grab().toImage()
    assert view.hint_outline() == (-1, None)
    hover(qtbot, tab, 0)
    shown = tab.hint_tool.outline.region
    expected = expected_region(tab, item, item.hints[0])
    assert np.array_equal(shown.mask, expected.mask)
    assert 0.0 < expected.share < 1.0  # a region, not nothing and not the whole photo
    # the outline the view draws encloses exactly that region
    h, w = expected.mask.shape
    drawn = filled(view.hint_outline()[1], h, w)
    assert (drawn & expected.mask).sum() / (drawn | expected.mask).sum() > 0.95
    # and it is on screen: along the outline the preview turned light (the line is white)
    outlined = view.grab().toImage()
    dpr = view.devicePixelRatioF()
    line = expected.outline[int(np.argmax([len(c) for c in expected.outline]))]
    changed = 0
    for x, y in line[:: max(1, len(line) // 40)]:
        pos = view.to_widget(float(x), float(y)) * dpr
        before, after = plain.pixelColor(pos.toPoint()), outlined.pixelColor(pos.toPoint())
        changed += after.lightness() > max(before.lightness() + 25, 150)
    assert changed >= 0.6 * len(line[:: max(1, len(line) // 40)])
    # leaving the marker takes the outline away
    qtbot.mouseMove(view, view.to_widget(0.95, 0.05).toPoint())
    qtbot.waitUntil(lambda: view.hint_outline() == (-1, None), timeout=15_000)


def test_the_palettes_reach_choice_redraws_the_outline_while_it_is_open(hinted, qtbot) -> None:
    tab, item, _ = hinted
    outline = tab.hint_tool.outline
    hover(qtbot, tab, 0)
    object_share = outline.region.share
    qtbot.mouseClick(tab.view, Qt.MouseButton.LeftButton, pos=tab.view.to_widget(item.hints[0].x, item.hints[0].y)
                     .toPoint())  # a click on the marker opens its palette
    palette = tab.hint_tool.palette
    qtbot.waitUntil(palette.isVisible, timeout=15_000)
    # on a desktop the popup takes the mouse, so the view sees it leave; the outline stays
    QApplication.sendEvent(tab.view, QEvent(QEvent.Type.Leave))
    assert tab.view.hovered_hint() == -1
    assert tab.view.hint_outline()[0] == 0
    qtbot.mouseClick(palette.reach.buttons["wide"], Qt.MouseButton.LeftButton)
    assert item.hints[0].reach == "wide"
    qtbot.waitUntil(lambda: outline.region is not None and outline.region.share == 1.0 and not outline.busy(),
                    timeout=30_000)
    assert object_share < 1.0 and tab.view.hint_outline()[0] == 0
    palette.hide()  # closed, with no hint hovered: the outline goes
    assert tab.view.hint_outline() == (-1, None)


def test_dragging_a_hint_outlines_where_it_would_go_and_another_photo_drops_it(hinted, qtbot) -> None:
    tab, item, paths = hinted
    view = tab.view
    hint = item.hints[1]
    start = view.to_widget(hint.x, hint.y)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start.toPoint())
    target = view.to_widget(0.2, 0.75)
    for t in np.linspace(0.1, 1.0, 8):
        qtbot.mouseMove(view, (start + (target - start) * float(t)).toPoint())
    dragged = view._hint_drag  # where the marker is drawn now, before release
    outline = tab.hint_tool.outline
    qtbot.waitUntil(lambda: not outline.busy() and outline.region is not None, timeout=30_000)
    expected = expected_region(tab, item, hint.moved_to(dragged[1], dragged[2]))
    assert np.array_equal(tab.hint_tool.outline.region.mask, expected.mask)
    assert item.hints[1] == hint  # nothing is edited before the release
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=target.toPoint())
    assert item.hints[1].x == pytest.approx(dragged[1]) and item.hints[1].y == pytest.approx(dragged[2])

    # hover again, and switch photos while the request may still run: nothing of it may appear
    hover(qtbot, tab, 0)
    qtbot.mouseMove(view, view.to_widget(0.5, 0.5).toPoint())  # off the marker: the outline goes
    assert view.hint_outline() == (-1, None)
    hint0 = item.hints[0]
    qtbot.mouseMove(view, view.to_widget(hint0.x, hint0.y).toPoint())  # asks again
    assert tab.hint_tool.outline.busy()
    other = tab.queue.find_path(paths[1])
    tab.select_item(other.id)
    qtbot.waitUntil(lambda: tab.runner.current("hint-region") is None and not tab.hint_tool.outline.busy(),
                    timeout=30_000)
    qtbot.wait(100)  # any answer still queued is delivered now
    assert view.hint_outline() == (-1, None) and tab.hint_tool.outline.region is None


def test_the_outline_follows_a_new_preview_of_other_settings(hinted, qtbot) -> None:
    tab, item, _ = hinted
    outline = tab.hint_tool.outline
    hover(qtbot, tab, 0)
    before = outline.region
    tab.adjust_panel.saturation_row.slider.setValue(180)  # as a drag of the Saturation slider ends
    qtbot.waitUntil(lambda: item.preview is not None and item.preview.key[2] == 1.8
                    and not tab.pipeline.is_rendering(item.id), timeout=30_000)
    qtbot.waitUntil(lambda: outline.region is not before and not outline.busy(), timeout=30_000)
    assert tab.view.hint_outline()[0] == 0
    expected = expected_region(tab, item, item.hints[0])  # with the new saturation
    assert np.array_equal(outline.region.mask, expected.mask)


def test_the_first_outline_on_a_photo_finds_the_model_run_already_done(hinted, qtbot, monkeypatch) -> None:
    tab, item, _ = hinted
    # the hint tool is on and the preview is on screen: the model run for outlines is prepared
    qtbot.waitUntil(lambda: tab.runner.current("hint-region-prepare") is None, timeout=30_000)
    colorizer = tab.pipeline.colorizer
    runs = []
    real = colorizer.guidance_inputs
    monkeypatch.setattr(colorizer, "guidance_inputs", lambda *a, **k: runs.append(1) or real(*a, **k))
    hover(qtbot, tab, 1)
    assert runs == [] and tab.hint_tool.outline.region.mask.any()
