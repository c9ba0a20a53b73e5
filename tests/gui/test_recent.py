"""File > Open Recent: photos and folders opened before, newest first, bounded, gone ones pruned."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from desktop_app.settings import RECENT_LIMIT

from gui_helpers import drop_files


def entries(window) -> list[tuple[str, str]]:
    menu = window.recent_menu
    menu.rebuild()  # what aboutToShow does when the person opens it
    return [(a.text(), str(a.data() or "")) for a in menu.actions() if not a.isSeparator()]


def test_recent_photos_and_folders_are_listed_newest_first_and_reopen(window, qtbot, gray_photos) -> None:
    tab = window.colorize_tab
    assert entries(window) == [("No recent photos", "")]
    drop_files(window, gray_photos[:2])
    tab.add_paths([gray_photos[2]])
    tab.add_paths([gray_photos[0].parent])  # a folder
    listed = entries(window)
    photos = [str(p.absolute()) for p in (gray_photos[2], gray_photos[0], gray_photos[1])]
    assert [d for _, d in listed if d] == photos + [str(gray_photos[0].parent.absolute())]
    assert [a.text() for a in window.recent_menu.actions() if a.isSeparator() and a.text()] == ["Photos", "Folders"]
    tab.clear_queue()
    action = next(a for a in window.recent_menu.actions() if a.data() == photos[1])
    action.trigger()
    assert [i.path for i in tab.queue.items] == [Path(photos[1])]


def test_the_lists_are_bounded_and_missing_entries_are_pruned(window, qtbot, tmp_path) -> None:
    tab = window.colorize_tab
    paths = []
    for n in range(RECENT_LIMIT + 5):
        path = tmp_path / f"p{n:02d}.png"
        Image.new("L", (16, 16), n * 10).save(path)
        paths.append(path)
        tab.add_paths([path])
    listed = [d for _, d in entries(window) if d]
    assert listed == [str(p) for p in reversed(paths[-RECENT_LIMIT:])]
    paths[-1].unlink()
    paths[-3].unlink()
    listed = [d for _, d in entries(window) if d]
    assert str(paths[-1]) not in listed and str(paths[-3]) not in listed and len(listed) == RECENT_LIMIT - 2
    assert window.settings.recent("photos") == listed  # pruned in the stored list too
    next(a for a in window.recent_menu.actions() if a.text() == "Clear Recent").trigger()
    assert entries(window) == [("No recent photos", "")]
