"""The Compare view: one photo through every installed model (the real built-ins and the user's own),
tile by tile on workers; a click picks the model; the comparison saves as one image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt

from desktop_app.colorize.comparison_sheet import compose_sheet

from gui_helpers import FIXTURES, Heartbeat, synthetic_photo, write_model


@pytest.fixture
def small_photo(tmp_path: Path) -> Path:
    """A small gray version of a fixture photo (a synthetic one when the fixtures are missing)."""
    source = FIXTURES / "cat_chelsea.jpg"
    img = Image.open(source).convert("L").resize((240, 160)) if source.is_file() else synthetic_photo((240, 160), 2)
    path = tmp_path / "cat.jpg"
    img.save(path, quality=92)
    return path


@pytest.fixture
def comparing(builtin_models, window, tiny_model, small_photo, qtbot):
    """The window with the built-in models plus the user's tiny one, the photo added, Compare on."""
    tab = window.colorize_tab
    tab.refresh_models()
    qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None, timeout=60_000)
    tab.add_paths([small_photo])
    tab.commands["compare"].trigger()
    return tab


def picture_center(grid, index: int) -> QPoint:
    _, picture = grid.cells()[index]
    return picture.center().toPoint()


def test_every_installed_model_gets_a_tile_and_a_click_picks_it(comparing, qtbot, tiny_model) -> None:
    tab = comparing
    names = [c.name for c in tab.models.choices()]
    builtins = [c.name for c in tab.models.choices() if c.builtin]
    assert len(builtins) >= 2 and tiny_model in names  # the real built-ins and the user's model
    assert tab.stack.currentWidget() is tab.compare_panel
    assert tab.commands["compare"].isChecked() and not tab.commands["side"].isChecked()
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)

    tiles = tab.comparison.tiles()
    assert tiles[0].model is None and tiles[0].title == "Original"  # the gray original first
    original = tiles[0].image.convertToFormat(tiles[0].image.Format.Format_RGB888)
    gray = np.frombuffer(original.constBits(), np.uint8).reshape(original.height(), original.bytesPerLine())
    rgb = gray[:, :original.width() * 3].reshape(original.height(), original.width(), 3).astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 1]).max() <= 2 and np.abs(rgb[..., 1] - rgb[..., 2]).max() <= 2
    assert [t.model for t in tiles[1:]] == names
    for tile in tiles[1:]:
        assert tile.done, tile.status
        assert tile.seconds is not None and tile.seconds > 0 and tile.status == f"{tile.seconds:.2f} s"
        assert tile.subtitle == tab.models.choice(tile.model).summary()  # the plain description
    digests = {bytes(t.image.constBits()) for t in tiles[1:]}
    assert len(digests) == len(names)  # each model painted its own colors

    other = next(t.model for t in tiles[1:] if t.model != tab.current_model())
    index = [t.model for t in tiles].index(other)
    qtbot.mouseClick(tab.compare_panel.grid, Qt.MouseButton.LeftButton, pos=picture_center(tab.compare_panel.grid,
                                                                                           index))
    qtbot.waitUntil(lambda: tab.current_model() == other and tab.pipeline.colorizer is not None, timeout=60_000)
    assert tab.settings.model == other and tab.model_panel.current_name() == other
    assert tab.export_flow.model_name() == tab.models.colorizer.info.name  # export follows the pick

    qtbot.mouseClick(tab.compare_panel.grid, Qt.MouseButton.LeftButton, pos=picture_center(tab.compare_panel.grid, 0))
    assert tab.current_model() == other  # the original is not a model
    assert not tab.comparison.running  # picking a model does not start the comparison over


def test_zoom_is_shared_and_the_toolbar_zooms_the_grid(comparing, qtbot) -> None:
    tab = comparing
    grid = tab.compare_panel.grid
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    view_zoom = tab.view.zoom_percent()
    tab.commands["zoom_in"].trigger()
    tab.commands["zoom_in"].trigger()
    assert grid.zoom_factor() == pytest.approx(1.25 ** 2)
    assert tab.view.zoom_percent() == view_zoom  # the before/after view kept its own
    assert tab.zoom_label.text() == f"{grid.zoom_percent():.0f} %"
    tab.commands["fit"].trigger()
    assert grid.zoom_factor() == 1.0
    tab.commands["side"].trigger()  # back to before/after
    assert tab.stack.currentWidget() is tab.view and not tab.commands["compare"].isChecked()


def test_cancel_then_closing_while_rendering_is_clean(comparing, qtbot, qtlog) -> None:
    tab = comparing
    assert tab.comparison.running
    tab.compare_panel.cancel_button.click()
    assert not tab.comparison.running
    tiles = tab.comparison.tiles()
    assert all(t.done or t.status == "Cancelled" for t in tiles[1:])
    assert any(t.status == "Cancelled" for t in tiles[1:])

    tab.set_comparing(False)
    tab.set_comparing(True)  # shown again after a cancel: starts over
    assert tab.comparison.running
    tab.window().close()  # with a tile in flight
    assert tab.runner.closed and tab.runner._pool.activeThreadCount() == 0
    qtbot.wait(50)  # late queued signals must be harmless
    assert not [r for r in qtlog.records if "QThread" in r.message or "destroyed" in r.message]


def test_the_comparison_saves_as_one_image(comparing, qtbot, tmp_path) -> None:
    tab = comparing
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    out = tmp_path / "sheets"
    out.mkdir()
    written: list[Path] = []
    tab.comparison.save(out / "cat-models.png", on_done=written.append)
    qtbot.waitUntil(lambda: bool(written), timeout=30_000)
    sheet = Image.open(written[0])
    expected = compose_sheet(tab.comparison.tiles(), "cat.jpg")
    assert sheet.size == (expected.width(), expected.height())
    assert [p.name for p in out.iterdir()] == ["cat-models.png"]  # no temporary file left

    messages: list[str] = []
    tab.status_message.connect(lambda text, _ms: messages.append(text))
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file, not a folder")
    tab.comparison.save(not_a_folder / "sheet.jpg")  # a clear message, never a traceback
    qtbot.waitUntil(lambda: any("Could not save the comparison" in m for m in messages), timeout=30_000)
    assert not_a_folder.read_text() == "a file, not a folder"


def test_the_window_stays_responsive_while_tiles_fill_in(builtin_models, window, tiny_model, small_photo,
                                                        qtbot) -> None:
    tab = window.colorize_tab
    tab.refresh_models()
    qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None, timeout=60_000)
    tab.add_paths([small_photo])
    beat = Heartbeat()
    tab.set_comparing(True)
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    gaps = beat.stop()
    assert all(t.done for t in tab.comparison.tiles()[1:])
    assert gaps.max() < 0.5, f"the GUI thread froze for {gaps.max():.2f} s"  # same bound as the batch test


def test_a_model_that_cannot_load_gets_a_failed_tile_and_the_others_still_render(window, small_photo,
                                                                                 qtbot) -> None:
    tab = window.colorize_tab
    write_model("good", seed=0)
    broken = write_model("broken", seed=1)
    tab.refresh_models(select="good")
    qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None and tab.current_model() == "good", timeout=60_000)
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # cut short after the model list was read
    tab.add_paths([small_photo])
    tab.set_comparing(True)
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=120_000)
    tiles = {t.model: t for t in tab.comparison.tiles()}
    assert tiles["good"].done
    assert tiles["broken"].failed and tiles["broken"].image is None
    assert tiles["broken"].status.startswith("Could not colorize: ") and "Traceback" not in tiles["broken"].status
    grid = tab.compare_panel.grid
    index = [t.model for t in grid.tiles()].index("broken")
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=picture_center(grid, index))
    assert tab.current_model() == "good"  # a failed tile cannot be picked


def test_another_photo_or_saturation_starts_the_comparison_over(comparing, qtbot, tmp_path) -> None:
    tab = comparing
    second = tmp_path / "second.jpg"
    synthetic_photo((200, 150), 5).save(second, quality=92)
    first_item = tab.selected_item()
    tab.add_paths([second])  # selects the new photo while the first one's tiles may still be rendering
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    tiles = tab.comparison.tiles()
    assert tab.selected_item().path == second
    assert all(t.done for t in tiles[1:])
    assert all((t.image.width(), t.image.height()) == (200, 150) for t in tiles)  # the second photo's

    tab.select_item(first_item.id)
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    assert all((t.image.width(), t.image.height()) == (240, 160) for t in tab.comparison.tiles())
    before = {t.model: bytes(t.image.constBits()) for t in tab.comparison.tiles()[1:]}
    tab.adjust_panel.saturation_row.slider.setValue(0)  # gray: every model's tile is redone

    def redone() -> bool:
        tiles = tab.comparison.tiles()[1:]
        return (not tab.comparison.running and all(t.done for t in tiles)
                and all(bytes(t.image.constBits()) != before[t.model] for t in tiles))

    qtbot.waitUntil(redone, timeout=180_000)


def test_the_keyboard_moves_between_tiles_and_picks_one(comparing, qtbot) -> None:
    tab = comparing
    grid = tab.compare_panel.grid
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    models = [t.model for t in grid.tiles()]
    target = next(i for i, m in enumerate(models) if m is not None and m != tab.current_model())
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_Right)  # the first arrow lands on the first tile
    assert grid.focused() == 0
    qtbot.keyClick(grid, Qt.Key.Key_Return)  # the original: nothing to pick
    assert tab.current_model() != models[target]
    for _ in range(target):
        qtbot.keyClick(grid, Qt.Key.Key_Right)
    assert grid.focused() == target
    qtbot.keyClick(grid, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: tab.current_model() == models[target], timeout=30_000)


def test_models_left_out_in_the_menu_get_no_tile(comparing, qtbot, tiny_model) -> None:
    tab = comparing
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    menu = tab.compare_panel.models_menu
    menu.aboutToShow.emit()  # what opening the menu does
    names = [c.name for c in tab.models.choices()]
    assert [a.isChecked() for a in menu.actions()] == [True] * len(names)
    menu.actions()[names.index(tiny_model)].setChecked(False)  # untick the user's tiny model
    qtbot.waitUntil(lambda: not tab.comparison.running, timeout=180_000)
    assert [t.model for t in tab.comparison.tiles()] == [None] + [n for n in names if n != tiny_model]
    assert all(t.done for t in tab.comparison.tiles()[1:])
    menu.aboutToShow.emit()
    assert [a.isChecked() for a in menu.actions()] == [n != tiny_model for n in names]
