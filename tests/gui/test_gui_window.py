"""The Colorize window with real files: drop, preview, errors, models, responsiveness, closing."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt

from desktop_app.colorize.photo_queue import ItemState

from gui_helpers import TINY, TINY_AB, Heartbeat, drop_files, wait_all_settled


def color_pixels(pixmap) -> np.ndarray:
    image = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    ptr = image.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=image.sizeInBytes()).reshape(image.height(), image.bytesPerLine())
    return arr[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def test_empty_store_shows_a_friendly_empty_state(window, qtbot, gray_photos) -> None:
    tab = window.colorize_tab
    with qtbot.waitSignal(tab.models_refreshed, timeout=20_000):
        tab.refresh_models()
    assert tab.stack.currentWidget() is tab.empty
    assert tab.empty.no_model.isVisibleTo(tab.empty)
    assert not tab.model_panel.combo.isEnabled() and not tab.adjust_panel.isEnabled()
    assert "No colorization model" in tab.model_panel.summary.text()
    tab.add_paths(gray_photos[:1])  # photos can still be queued; they wait for a model
    assert tab.stack.currentWidget() is tab.view
    assert tab.items()[0].state == ItemState.WAITING
    assert "No model is installed" in tab.view.message
    assert not tab.commands["export"].isEnabled()


def test_dropping_files_fills_the_queue_and_shows_a_colorized_preview(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    with qtbot.waitSignal(tab.preview_shown, timeout=20_000) as shown:
        event = drop_files(ready_window, gray_photos)
        assert event.isAccepted()
        assert [i.path for i in tab.items()] == gray_photos
    first = tab.items()[0]
    assert shown.args == [first.id] and tab.selected_item() is first
    assert tab.view.has_images
    color = color_pixels(tab.view.pixmap("color"))
    assert color.shape[:2] == (240, 320)  # small photos preview at their own size
    assert np.abs(color[..., 0].astype(int) - color[..., 2]).max() > 10, "the preview is not in color"
    assert tab.view.pixmap("gray").size() == tab.view.pixmap("color").size()
    wait_all_settled(qtbot, tab)
    assert all(i.state == ItemState.DONE and i.thumb is not None for i in tab.items())
    assert tab.queue_label.text() == "4 of 4 colorized"


def test_a_folder_drop_adds_its_photos(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    with qtbot.waitSignal(tab.photos_added, timeout=10_000):  # folders are searched by a worker
        drop_files(ready_window, [gray_photos[0].parent])
    assert sorted(i.path for i in tab.items()) == sorted(gray_photos)
    drop_files(ready_window, gray_photos[:1])  # dropping a photo again does not duplicate it
    assert len(tab.items()) == 4 and tab.selected_item().path == gray_photos[0]


def test_corrupt_and_non_image_files_get_error_badges_while_the_rest_finish(ready_window, qtbot, gray_photos,
                                                                            tmp_path) -> None:
    tab = ready_window.colorize_tab
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    messages = []
    ready_window.statusBar().messageChanged.connect(messages.append)
    drop_files(ready_window, [gray_photos[0], corrupt, notes, gray_photos[1]])
    wait_all_settled(qtbot, tab)
    states = {i.path.name: (i.state, i.error) for i in tab.items()}
    assert states["photo_1.jpg"][0] == ItemState.DONE and states["photo_2.jpg"][0] == ItemState.DONE
    assert states["corrupt.jpg"][0] == ItemState.FAILED and states["corrupt.jpg"][1]
    assert states["notes.txt"] == (ItemState.FAILED, "not a supported image type (.txt)")
    assert any("notes.txt" in m for m in messages)  # reported in the status bar, no dialog
    failed = next(i for i in tab.items() if i.path == corrupt)
    index = tab.queue.index(tab.queue.row_of(failed.id))
    assert failed.error in index.data(Qt.ItemDataRole.ToolTipRole)  # the reason, on the badge
    tab.select_item(failed.id)
    assert "could not be colorized" in tab.view.message


def test_changing_the_model_recolorizes_the_selected_photo(window, two_models, qtbot, gray_photos) -> None:
    tab = window.colorize_tab
    tab.refresh_models(select=TINY)
    qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None, timeout=30_000)
    assert sorted(tab.model_panel.names()) == [TINY, TINY_AB]
    with qtbot.waitSignal(tab.preview_shown, timeout=20_000):
        tab.add_paths(gray_photos[:1])
    before = color_pixels(tab.view.pixmap("color"))
    assert tab.commands["confidence"].isEnabled()  # classification head: has a confidence map
    with qtbot.waitSignal(tab.preview_shown, timeout=30_000):
        assert tab.model_panel.select(TINY_AB)
    after = color_pixels(tab.view.pixmap("color"))
    assert tab.current_model() == TINY_AB
    assert np.abs(before.astype(int) - after).mean() > 1.0
    assert not tab.commands["confidence"].isEnabled()  # regression head: no confidence map
    assert not tab.adjust_panel.vivid_row.isEnabled()
    assert window.settings.model == TINY_AB


def test_adjustments_rerender_and_supersede_stale_previews(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    with qtbot.waitSignal(tab.preview_shown, timeout=20_000):
        tab.add_paths(gray_photos[:1])
    item = tab.items()[0]
    slider = tab.adjust_panel.saturation_row.slider
    for value in (150, 30, 0):  # a quick drag: only the last value matters
        slider.setValue(value)
    qtbot.waitUntil(lambda: item.preview.key[2] == 0.0 and item.state == ItemState.DONE, timeout=20_000)
    gray = color_pixels(tab.view.pixmap("color"))
    assert np.abs(gray[..., 0].astype(int) - gray[..., 2]).max() <= 2  # zero saturation is gray


def test_gui_thread_stays_responsive_during_a_batch(ready_window, qtbot, gray_photos, tmp_path) -> None:
    tab = ready_window.colorize_tab
    beat = Heartbeat()
    tab.add_paths(gray_photos)
    wait_all_settled(qtbot, tab)
    gaps = beat.stop()
    elapsed = time.perf_counter() - beat.start
    ticks = beat.ticks
    assert len(ticks) > elapsed / 0.01 * 0.3, f"only {len(ticks)} ticks in {elapsed:.2f} s"
    assert gaps.max() < 0.5, f"the GUI thread froze for {gaps.max():.2f} s"


def test_closing_mid_batch_cancels_and_waits_cleanly(window, tiny_model, qtbot, gray_photos, qtlog) -> None:
    tab = window.colorize_tab
    tab.refresh_models()
    qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None, timeout=30_000)
    tab.add_paths(gray_photos)
    qtbot.waitUntil(lambda: any(i.state == ItemState.WORKING for i in tab.items()), timeout=10_000)
    window.close()
    assert tab.runner.closed
    assert tab.runner._pool.activeThreadCount() == 0
    qtbot.wait(50)  # late queued signals must be harmless
    assert not [r for r in qtlog.records if "QThread" in r.message or "destroyed" in r.message]


def test_keyboard_navigation_between_photos(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    tab.add_paths(gray_photos[:3])
    assert tab.selected_item().path == gray_photos[0]
    tab.commands["next"].trigger()
    assert tab.selected_item().path == gray_photos[1]
    tab.commands["previous"].trigger()
    assert tab.selected_item().path == gray_photos[0]
    tab.commands["remove"].trigger()
    assert [i.path for i in tab.items()] == gray_photos[1:3]
    assert tab.selected_item().path == gray_photos[1]


def test_render_size_slider_never_goes_past_the_stated_limit(qtbot) -> None:
    from desktop_app.colorize.controls import AdjustPanel
    from ml_core.limits import MAX_WORK_SIZE

    panel = AdjustPanel()
    qtbot.addWidget(panel)
    panel.set_model_defaults(100_000, classification=True)  # a model file claiming a runaway size
    assert panel.size_row.slider.maximum() == MAX_WORK_SIZE and panel.size_row.slider.value() == MAX_WORK_SIZE
