"""Small things that felt broken (issue 17): new drops are shown, the layout switch fits the photo,
and a re-render does not make colorized photos look uncolorized."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from desktop_app.colorize.compare_view import ViewMode
from desktop_app.colorize.photo_queue import ItemState

from gui_helpers import drop_files, wait_all_settled


def wait_preview(qtbot, tab, item) -> None:
    qtbot.waitUntil(lambda: item.preview is not None and tab.view.has_images and tab._shown_item == item.id,
                    timeout=30_000)


def test_dropping_more_photos_shows_the_first_new_one(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    drop_files(ready_window, gray_photos[:1])
    first = tab.queue.items[0]
    wait_preview(qtbot, tab, first)
    drop_files(ready_window, gray_photos[1:3])
    new = tab.queue.items[1]
    assert new.path == gray_photos[1]
    assert tab.selected_item() is new
    wait_preview(qtbot, tab, new)  # and it is what the view shows once rendered
    drop_files(ready_window, gray_photos[:1])  # only a photo already open: that one is shown
    assert tab.selected_item() is first


def test_switching_layout_fits_the_photo_unless_zoomed_on_purpose(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    view = tab.view
    tab.set_mode(ViewMode.SPLIT)
    drop_files(ready_window, gray_photos[:1])
    wait_preview(qtbot, tab, tab.queue.items[0])
    assert view.is_fit()
    # A click-drag on a fitted photo (to look, or by accident) moves nothing and is no zoom.
    start = QPoint(view.width() // 4, view.height() // 2)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, start + QPoint(40, 25))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 25))
    tab.commands["side"].trigger()
    assert view.mode() == ViewMode.SIDE_BY_SIDE
    assert view.is_fit()
    fitted = view.zoom_percent()
    tab.commands["split"].trigger()
    assert view.is_fit() and view.zoom_percent() != fitted  # one pane is wider than half: a new fit
    # Zoomed on purpose: the zoom is kept across the switch.
    tab.commands["zoom_in"].trigger()
    zoomed = view.zoom_percent()
    tab.commands["side"].trigger()
    assert not view.is_fit() and abs(view.zoom_percent() - zoomed) < 1e-6


def test_a_re_render_keeps_the_count_and_export_all(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    drop_files(ready_window, gray_photos[:1])
    wait_all_settled(qtbot, tab)
    assert tab.queue_label.text() == "1 of 1 colorized"
    assert tab.commands["export_all"].isEnabled()
    seen = []
    tab.pipeline.rendering.connect(lambda on: on and seen.append(
        (tab.queue.items[0].state, tab.queue_label.text(), tab.commands["export_all"].isEnabled())))
    tab.adjust_panel.saturation_row.slider.setValue(160)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    assert seen[0] == (ItemState.WORKING, "1 of 1 colorized · updating", True)
    wait_all_settled(qtbot, tab)
    qtbot.waitUntil(lambda: not tab.pipeline.is_rendering())
    assert tab.queue_label.text() == "1 of 1 colorized"
