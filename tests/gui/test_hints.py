"""Color hints and reference photos in the Colorize tab: placing, editing, undo, preview, export."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from desktop_app.colorize.compare_view import ViewMode
from ml_core.guidance.hints import Hint, rgb_to_ab
from ml_core.inference.batch import ExportSettings

from gui_helpers import Heartbeat, gray_fixture_photo, wait_all_settled

RED_AB = (60.0, 50.0)


# ---------------------------------------------------------------------------- helpers

def image_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    arr = arr.reshape(image.height(), image.bytesPerLine())
    return arr[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def ab_at(rgb: np.ndarray, x: float, y: float, r: int = 1) -> np.ndarray:
    """Mean a*b* of the (2r+1)² patch around relative (x, y) of an RGB array."""
    h, w = rgb.shape[:2]
    col, row = int(x * w), int(y * h)
    patch = rgb[max(row - r, 0):row + r + 1, max(col - r, 0):col + r + 1].reshape(-1, 3)
    return np.mean([rgb_to_ab(tuple(int(v) for v in px)) for px in patch], axis=0)


def preview_ab(item, x: float, y: float) -> np.ndarray:
    return ab_at(image_array(item.preview.color.toImage()), x, y)


def photo(tmp_path: Path, size: tuple[int, int], name: str = "photo.jpg", source: str = "coffee.jpg") -> Path:
    return gray_fixture_photo(tmp_path, name, size, source)


def open_photo(qtbot, window, path: Path):
    tab = window.colorize_tab
    tab.add_paths([path])
    wait_all_settled(qtbot, tab)
    item = tab.queue.find_path(path)
    tab.select_item(item.id)
    qtbot.waitUntil(lambda: tab.view.has_images and item.preview is not None, timeout=30_000)
    return tab, item


def wait_preview_with_hints(qtbot, tab, item, timeout: int = 30_000) -> None:
    """Until the preview on screen was rendered with the item's current hints and reference."""
    qtbot.waitUntil(lambda: item.preview is not None and item.preview.key[-1] == item.guidance_key()
                    and not tab.pipeline.is_rendering(item.id), timeout=timeout)


def click_hint(qtbot, tab, pos: QPointF) -> Hint:
    """A left click with the hint tool on; waits for the model's suggested color to pin it."""
    item = tab.selected_item()
    before = len(item.hints)
    qtbot.mouseClick(tab.view, Qt.MouseButton.LeftButton, pos=pos.toPoint())
    qtbot.waitUntil(lambda: len(item.hints) == before + 1 and not tab.hint_tool.busy(), timeout=10_000)
    tab.hint_tool.palette.hide()  # a popup swallows the next click elsewhere, as it should
    return item.hints[-1]


def photo_box(view) -> tuple[int, int, int, int]:
    """Bounding box (left, top, right, bottom) of the colorized photo as painted, from a screenshot."""
    grab = image_array(view.grab().toImage())
    dpr = view.devicePixelRatioF()
    background = grab[2, 2].astype(int)
    half = grab[:, grab.shape[1] // 2 + 8:] if view.mode() == ViewMode.SIDE_BY_SIDE else grab
    offset = grab.shape[1] - half.shape[1]
    differs = np.abs(half.astype(int) - background).sum(axis=2) > 6
    cols = np.flatnonzero(differs.any(axis=0))
    rows = np.flatnonzero(differs.any(axis=1))
    return (int((cols[0] + offset) / dpr), int(rows[0] / dpr), int((cols[-1] + offset + 1) / dpr),
            int((rows[-1] + 1) / dpr))


@pytest.fixture
def hint_window(ready_window, qtbot, tmp_path):
    """A window with one 480×320 photo selected and the hint tool on."""
    tab, item = open_photo(qtbot, ready_window, photo(tmp_path, (480, 320)))
    tab.commands["hints"].setChecked(True)
    assert tab.view.hint_tool()
    return tab, item


# ---------------------------------------------------------------------------- (a) placing

@pytest.mark.parametrize("mode", [ViewMode.SIDE_BY_SIDE, ViewMode.SPLIT])
def test_click_adds_a_hint_at_the_clicked_photo_spot(hint_window, qtbot, mode) -> None:
    tab, _ = hint_window
    tab.set_mode(mode)
    tab.view.set_split_fraction(0.2)  # the split handle away from where we click
    qtbot.wait(50)
    left, top, right, bottom = photo_box(tab.view)
    # where the painted photo is, measured from the screen: 70 % across, 40 % down
    pos = QPointF(left + 0.7 * (right - left), top + 0.4 * (bottom - top))
    hint = click_hint(qtbot, tab, pos)
    assert len(hint.points) == 1
    assert hint.x == pytest.approx(0.7, abs=0.006) and hint.y == pytest.approx(0.4, abs=0.006)
    # the model's current color there is what it starts with
    assert hint.ab == pytest.approx(tab.hint_tool.palette.suggestions()[0].ab)


@pytest.mark.parametrize("mode", [ViewMode.SIDE_BY_SIDE, ViewMode.SPLIT])
def test_click_maps_correctly_when_zoomed_in(hint_window, qtbot, mode) -> None:
    tab, _ = hint_window
    tab.set_mode(mode)
    tab.view.set_split_fraction(0.05)
    tab.view.zoom_in()
    tab.view.zoom_in()  # about the centre: the pane's centre still shows the photo's centre
    pane = tab.view.panes()[-1]
    width = tab.view.pixmap("color").width()
    height = tab.view.pixmap("color").height()
    offset = QPointF(40, -30)
    hint = click_hint(qtbot, tab, pane.center() + offset)
    scale = tab.view.scale()
    assert hint.x == pytest.approx(0.5 + offset.x() / (scale * width), abs=0.004)
    assert hint.y == pytest.approx(0.5 + offset.y() / (scale * height), abs=0.004)


def test_dragging_on_the_photo_paints_a_stroke_and_the_tool_off_pans(hint_window, qtbot) -> None:
    tab, item = hint_window
    view = tab.view
    start, end = view.to_widget(0.3, 0.5), view.to_widget(0.6, 0.55)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start.toPoint())
    for t in np.linspace(0, 1, 12)[1:]:
        qtbot.mouseMove(view, (start + (end - start) * float(t)).toPoint())
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end.toPoint())
    qtbot.waitUntil(lambda: len(item.hints) == 1 and not tab.hint_tool.busy(), timeout=10_000)
    tab.hint_tool.palette.hide()
    stroke = item.hints[0]
    assert len(stroke.points) > 3
    assert stroke.points[0] == pytest.approx((0.3, 0.5), abs=0.01)
    assert stroke.points[-1] == pytest.approx((0.6, 0.55), abs=0.02)
    # tool off: the same gesture neither adds nor edits hints (it pans, as before)
    tab.commands["hints"].setChecked(False)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start.toPoint())
    qtbot.mouseMove(view, end.toPoint())
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=end.toPoint())
    qtbot.wait(200)
    assert item.hints == (stroke,)


# ---------------------------------------------------------------------------- (b) undo / redo

def test_undo_redo_restores_exact_hints_for_add_move_recolor_delete(hint_window, qtbot) -> None:
    tab, item = hint_window
    view = tab.view
    undo, redo = tab.commands["undo"], tab.commands["redo"]
    first = click_hint(qtbot, tab, view.to_widget(0.25, 0.3))
    second = click_hint(qtbot, tab, view.to_widget(0.75, 0.6))
    states = [(), (first,), (first, second)]
    # move the first marker by dragging it
    a, b = view.to_widget(first.x, first.y), view.to_widget(0.4, 0.45)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=a.toPoint())
    qtbot.mouseMove(view, ((a + b) / 2).toPoint())
    qtbot.mouseMove(view, b.toPoint())
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=b.toPoint())
    moved = item.hints[0]
    assert moved.ab == first.ab and moved.x == pytest.approx(0.4, abs=0.01) and item.hints[1] == second
    states.append(item.hints)
    # recolor it through the palette (what clicking a swatch does)
    view.select_hint(0)
    tab.hint_tool.recolor_selected(RED_AB)
    assert item.hints[0] == moved.with_ab(RED_AB)
    states.append(item.hints)
    # delete the second with the Delete key (not "remove photo": the photo stays)
    view.select_hint(1)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert item.hints == (moved.with_ab(RED_AB),) and tab.queue.find(item.id) is item
    states.append(item.hints)
    # clear all
    tab.commands["clear_hints"].trigger()
    assert item.hints == ()
    states.append(())

    for expected in reversed(states[:-1]):
        undo.trigger()
        assert item.hints == expected
    assert not undo.isEnabled()
    for expected in states[1:]:
        redo.trigger()
        assert item.hints == expected
    # Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y reach the same actions
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert item.hints == states[-2]
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert item.hints == states[-1]
    undo.trigger()
    qtbot.keyClick(view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert item.hints == states[-1]
    # the view shows what the model holds
    undo.trigger()
    assert view.hints() == item.hints


def test_the_undo_stack_follows_the_selected_photo(ready_window, qtbot, tmp_path) -> None:
    tab, one = open_photo(qtbot, ready_window, photo(tmp_path, (320, 240), "one.jpg"))
    _, two = open_photo(qtbot, ready_window, photo(tmp_path, (300, 200), "two.jpg", "rocket.jpg"))
    tab.commands["hints"].setChecked(True)
    tab.select_item(one.id)
    qtbot.waitUntil(lambda: tab.view.has_images, timeout=10_000)
    h1 = click_hint(qtbot, tab, tab.view.to_widget(0.5, 0.5))
    tab.select_item(two.id)
    qtbot.waitUntil(lambda: tab.view.has_images, timeout=10_000)
    assert tab.view.hints() == ()
    h2 = click_hint(qtbot, tab, tab.view.to_widget(0.2, 0.2))
    h3 = click_hint(qtbot, tab, tab.view.to_widget(0.8, 0.8))
    assert "Add Hint" in tab.commands["undo"].text()
    tab.select_item(one.id)
    tab.commands["undo"].trigger()  # undoes photo one's only hint, not photo two's last
    assert one.hints == () and two.hints == (h2, h3)
    assert not tab.commands["undo"].isEnabled()
    tab.select_item(two.id)
    assert tab.commands["undo"].isEnabled()
    tab.commands["undo"].trigger()
    assert two.hints == (h2,) and one.hints == ()
    tab.select_item(one.id)
    tab.commands["redo"].trigger()
    assert one.hints == (h1,) and two.hints == (h2,)
    # removing a photo takes its history with it
    tab.remove_selected()
    assert tab.selected_item() is two and two.hints == (h2,)
    tab.commands["undo"].trigger()
    assert two.hints == ()


# ---------------------------------------------------------------------------- (c) preview

def test_a_hint_pulls_the_preview_toward_its_color(hint_window, qtbot) -> None:
    tab, item = hint_window
    x, y = 0.35, 0.55
    before = preview_ab(item, x, y)
    shown: list[int] = []
    tab.preview_shown.connect(shown.append)
    click_hint(qtbot, tab, tab.view.to_widget(x, y))
    tab.view.select_hint(0)
    tab.hint_tool.recolor_selected(RED_AB)
    wait_preview_with_hints(qtbot, tab, item)
    assert shown and shown[-1] == item.id
    after = preview_ab(item, x, y)
    target = np.array(RED_AB)
    assert np.linalg.norm(after - target) < np.linalg.norm(before - target) - 20, (before, after)
    assert after[0] > 20 and after[1] > 15  # reddish, whatever the model thought
    far = preview_ab(item, 0.95, 0.05)  # the hint is local: it does not repaint the whole photo
    assert np.linalg.norm(far - target) > 25
    # undo puts the model's colors back
    tab.commands["undo"].trigger()
    tab.commands["undo"].trigger()
    wait_preview_with_hints(qtbot, tab, item)
    assert np.linalg.norm(preview_ab(item, x, y) - before) < 3


# ---------------------------------------------------------------------------- (d) export

def test_hints_survive_export_at_full_resolution(ready_window, qtbot, tmp_path) -> None:
    source = photo(tmp_path, (2400, 1600), "big.jpg")
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(source.read_bytes())
    tab, item = open_photo(qtbot, ready_window, source)
    _, other = open_photo(qtbot, ready_window, plain)
    tab.select_item(item.id)
    x, y = 0.62, 0.4
    hint = Hint.at(x, y, RED_AB, radius=0.01)
    tab.hint_tool.add_hint(hint.points, hint.ab)  # what a click does once the color is known
    assert item.hints == (Hint.at(x, y, RED_AB),) and other.hints == ()
    wait_preview_with_hints(qtbot, tab, item)
    assert max(item.preview.original_size) > tab.pipeline.preview_max_side  # export is bigger than preview
    out = tmp_path / "out"
    with qtbot.waitSignal(tab.export_finished, timeout=120_000) as finished:
        assert tab.start_export(ExportSettings(out_dir=out, fmt="png"), [item, other])
    report = finished.args[0]
    assert not report.failed, report.summary()
    with Image.open(out / "big_color.png") as img:
        hinted = np.asarray(img.convert("RGB"))
    with Image.open(out / "plain_color.png") as img:
        unhinted = np.asarray(img.convert("RGB"))
    assert hinted.shape[:2] == (1600, 2400) == unhinted.shape[:2]
    target = np.array(RED_AB)
    with_hint, without = ab_at(hinted, x, y, r=2), ab_at(unhinted, x, y, r=2)
    assert np.linalg.norm(with_hint - target) < 25, with_hint
    assert np.linalg.norm(without - target) > np.linalg.norm(with_hint - target) + 20, (with_hint, without)
    # elsewhere both exports agree: the hint is the only difference
    assert np.linalg.norm(ab_at(hinted, 0.05, 0.95, r=2) - ab_at(unhinted, 0.05, 0.95, r=2)) < 8


# ---------------------------------------------------------------------------- (e) reference

def drop_on(widget, path: Path) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    center = widget.rect().center()
    enter = QDragEnterEvent(center, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(center), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop


def test_a_reference_photo_rerenders_and_a_gray_one_is_refused(hint_window, qtbot, tmp_path) -> None:
    tab, item = hint_window
    panel = tab.reference_panel
    colors = tmp_path / "reference.png"
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[..., 0] = np.linspace(40, 250, 160)[None, :]  # a strongly colored reference: reds to yellows
    rgb[..., 1] = np.linspace(20, 200, 120)[:, None]
    rgb[..., 2] = 30
    Image.fromarray(rgb).save(colors)
    gray = tmp_path / "gray_reference.jpg"
    Image.open(photo(tmp_path, (200, 150), "g.jpg")).save(gray)
    before = image_array(item.preview.color.toImage()).astype(int)
    queued = len(tab.queue)

    drop_on(panel.drop_area, colors)
    qtbot.waitUntil(lambda: item.reference is not None, timeout=20_000)
    assert item.reference_path == colors and len(tab.queue) == queued  # a reference, not a new photo
    wait_preview_with_hints(qtbot, tab, item)
    after = image_array(item.preview.color.toImage()).astype(int)
    assert np.abs(after - before).mean() > 3
    assert panel.name_label.text() == "reference.png" and panel.remove_button.isEnabled()
    qtbot.waitUntil(lambda: panel.drop_area.pixmap() is not None and not panel.drop_area.pixmap().isNull(),
                    timeout=10_000)

    panel.strength_row.slider.setValue(30)
    assert item.reference_strength == pytest.approx(0.3)
    wait_preview_with_hints(qtbot, tab, item)
    assert item.preview.key[-1][1][1] == pytest.approx(0.3)

    tab.references.choose_file = lambda: gray  # "Choose…" without the dialog
    panel.choose_button.click()
    qtbot.waitUntil(lambda: bool(panel.error()), timeout=20_000)
    assert "gray_reference.jpg" in panel.error() and "color" in panel.error()
    assert item.reference_path == colors  # the previous reference stays

    unreadable = tmp_path / "broken.jpg"
    unreadable.write_bytes(b"not a photo")
    drop_on(panel.drop_area, unreadable)
    qtbot.waitUntil(lambda: "broken.jpg" in panel.error(), timeout=20_000)

    panel.remove_button.click()
    assert item.reference is None and not panel.remove_button.isEnabled()
    wait_preview_with_hints(qtbot, tab, item)
    assert np.abs(image_array(item.preview.color.toImage()).astype(int) - before).mean() < 1


# ---------------------------------------------------------------------------- (f) responsiveness

def test_the_window_stays_responsive_while_a_hint_rerenders(ready_window, qtbot, tmp_path) -> None:
    tab, item = open_photo(qtbot, ready_window, photo(tmp_path, (3000, 2000), "large.jpg"))
    tab.commands["hints"].setChecked(True)
    beat = Heartbeat()
    start = time.perf_counter()
    for i, (x, y) in enumerate([(0.3, 0.3), (0.6, 0.5), (0.4, 0.7)]):
        click_hint(qtbot, tab, tab.view.to_widget(x, y))
    wait_preview_with_hints(qtbot, tab, item)
    elapsed = time.perf_counter() - start
    gaps = beat.stop()
    assert len(item.hints) == 3
    assert len(beat.ticks) > elapsed / 0.01 * 0.3, f"only {len(beat.ticks)} ticks in {elapsed:.2f} s"
    assert gaps.max() < 0.5, f"the GUI thread froze for {gaps.max():.2f} s"


# ---------------------------------------------------------------------------- palette and menu

def test_the_palette_offers_the_models_colors_and_a_full_picker(hint_window, qtbot) -> None:
    from PySide6.QtGui import QColor

    tab, item = hint_window
    view, palette = tab.view, tab.hint_tool.palette
    pos = view.to_widget(0.5, 0.5).toPoint()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: len(item.hints) == 1 and palette.isVisible() and bool(palette.swatches), timeout=10_000)
    suggestions = palette.suggestions()
    assert suggestions[0].label == "current" and item.hints[0].ab == pytest.approx(suggestions[0].ab)
    assert len(palette.swatches) == len(suggestions) >= 2
    assert "shown now" in palette.swatches[0].toolTip()
    palette.swatches[1].click()  # another likely color
    assert item.hints[0].ab == pytest.approx(suggestions[1].ab)
    assert tab.commands["undo"].text().endswith("Recolor Hint")
    qtbot.keyClick(palette, Qt.Key.Key_Escape)
    assert not palette.isVisible()
    # "More colors…" opens a full picker (stubbed here); its RGB becomes a*b* through ml_core
    tab.hint_tool.choose_color = lambda parent, initial: QColor(30, 60, 200)
    tab.hint_tool.open_palette(0)
    qtbot.waitUntil(lambda: palette.isVisible(), timeout=5_000)
    palette.more_button.click()
    assert item.hints[0].ab == pytest.approx(rgb_to_ab((30, 60, 200)))
    assert not palette.isVisible()
    # the filmstrip marks the photo and names its hints
    assert item.guided and "1 color hint" in item.tooltip()


def test_right_click_on_a_marker_offers_recolor_and_delete(hint_window, qtbot) -> None:
    from PySide6.QtGui import QContextMenuEvent

    tab, item = hint_window
    view = tab.view
    tab.hint_tool.add_hint(((0.3, 0.3),), (10.0, 20.0))
    tab.hint_tool.add_hint(((0.7, 0.7),), (-20.0, 5.0))
    tab.hint_tool.palette.hide()
    pos = view.to_widget(0.3, 0.3).toPoint()
    QApplication.sendEvent(view, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.mapToGlobal(pos)))
    menu = tab.hint_tool._menu
    assert view.selected_hint() == 0
    actions = {a.text(): a for a in menu.actions()}
    assert set(actions) == {"Recolor…", "Delete"}
    actions["Delete"].trigger()
    assert [h.ab for h in item.hints] == [(-20.0, 5.0)]
    # right-click elsewhere on the photo is no marker: no menu, nothing deleted
    tab.hint_tool._menu = None
    pos = view.to_widget(0.1, 0.9).toPoint()
    QApplication.sendEvent(view, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.mapToGlobal(pos)))
    assert tab.hint_tool._menu is None and len(item.hints) == 1


def test_hints_save_to_a_file_the_cli_reads_and_load_back_undoably(hint_window, qtbot, tmp_path) -> None:
    tab, item = hint_window
    hints = (Hint.at(0.25, 0.3, RED_AB), Hint(((0.6, 0.6), (0.7, 0.65)), (-20.0, -30.0)))
    tab.hint_editor.replace(item, hints, "Test Hints")
    path = tmp_path / "saved.hints.json"
    assert tab.hint_tool.save_hints(path)
    tab.commands["clear_hints"].trigger()
    assert item.hints == ()
    assert tab.hint_tool.load_hints(path)
    assert all(np.allclose(a.points, b.points) and a.ab == pytest.approx(b.ab, abs=1e-3)
               for a, b in zip(item.hints, hints))
    assert len(item.hints) == 2
    tab.commands["undo"].trigger()  # loading is one undoable step
    assert item.hints == ()
    # the same file drives the command line
    from ml_core.guidance.hints import load_hint_file, resolve_hints

    assert len(resolve_hints(load_hint_file(path), 640, 480)) == 2


def test_a_bad_hint_file_is_refused_by_name_and_changes_nothing(hint_window, tmp_path) -> None:
    tab, item = hint_window
    tab.hint_editor.replace(item, (Hint.at(0.5, 0.5, RED_AB),))
    before = item.hints
    warnings = []
    tab.warn = lambda title, text: warnings.append(text)
    bad = tmp_path / "bad.json"
    bad.write_text('{"hints": [{"x": 0.5, "y": 0.5, "color": "red"}]}')
    assert not tab.hint_tool.load_hints(bad)
    assert item.hints == before and warnings and "bad.json" in warnings[0]
