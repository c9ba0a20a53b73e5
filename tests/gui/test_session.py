"""Sessions: quit with photos, hints and adjustments, launch again, find them as they were.

Each "launch" is a new MainWindow on the same per-test data folder, started the way `app.run`
starts it (`start_session`), so what is tested is the file the first window wrote on close.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_app.colorize.photo_queue import ItemState

from gui_helpers import drop_files, open_training_tab


def launch(qtbot, wait_model: bool = True):
    """A fresh window on the same data folder, as the next start of the app would make it."""
    from desktop_app.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    tab = win.colorize_tab
    tab.confirm = lambda title, text: True
    tab.report = lambda report: None
    win.show()
    qtbot.waitExposed(win)
    with qtbot.waitSignal(win.session.restored, timeout=30_000):
        win.start_session()
    if wait_model:
        tab.refresh_models()
        qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None, timeout=30_000)
    return win


def session_file(win) -> Path:
    return win.session.path


def test_quit_and_relaunch_brings_back_photos_hints_reference_and_adjustments(qtbot, tiny_model, gray_photos,
                                                                              tmp_path) -> None:
    from ml_core.guidance.hints import Hint

    first = launch(qtbot)
    tab = first.colorize_tab
    assert not tab.session_banner.isVisible()  # nothing to restore on the very first start
    drop_files(first, gray_photos[:3])
    qtbot.waitUntil(lambda: len(tab.queue) == 3)
    items = tab.queue.items
    hints = (Hint.at(0.25, 0.5, (40.0, 20.0)), Hint(((0.1, 0.1), (0.2, 0.15)), (-20.0, 30.0), 0.01))
    for hint in hints:
        tab.hint_editor.add(items[1], hint)
    with qtbot.waitSignal(tab.references.loaded, timeout=30_000):
        items[2].reference_strength = 0.6
        tab.references.set_reference(items[2], gray_photos[3].with_name("ref.png"))  # missing: no reference
    reference = tmp_path / "reference.png"
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 60, 40)).save(reference)
    with qtbot.waitSignal(tab.references.loaded, timeout=30_000):
        tab.references.set_reference(items[2], reference)
    assert items[2].reference is not None
    tab.adjust_panel.saturation_row.slider.setValue(150)
    tab.adjust_panel.vivid_row.slider.setValue(80)  # T = 0.20, unlike the model's default
    tab.select_item(items[1].id)
    first.close()
    assert session_file(first).is_file()

    second = launch(qtbot)
    tab2 = second.colorize_tab
    assert [i.path for i in tab2.queue.items] == [p.absolute() for p in gray_photos[:3]]
    restored = tab2.queue.items
    assert restored[1].hints == hints
    assert restored[0].hints == () and restored[2].hints == ()
    qtbot.waitUntil(lambda: restored[2].reference is not None, timeout=30_000)
    assert restored[2].reference_path == reference
    assert restored[2].reference_strength == pytest.approx(0.6)
    assert tab2.selected_item() is restored[1]
    assert tab2.adjust_panel.saturation() == pytest.approx(1.5)
    assert tab2.adjust_panel.temperature() == pytest.approx(0.2)
    assert tab2.current_model() == tiny_model
    assert tab2.session_banner.isVisible()
    assert "Restored 3 photos" in tab2.session_banner.label.text()
    # The restored hints are rendered, not just listed: the selected photo finishes with them.
    qtbot.waitUntil(lambda: restored[1].state == ItemState.DONE and restored[1].preview is not None
                    and restored[1].preview.key == tab2.pipeline.render_key(restored[1]), timeout=30_000)


def test_start_fresh_closes_only_the_restored_photos_and_undo_brings_them_back(qtbot, tiny_model,
                                                                              gray_photos) -> None:
    first = launch(qtbot)
    drop_files(first, gray_photos[:2])
    qtbot.waitUntil(lambda: len(first.colorize_tab.queue) == 2)
    first.colorize_tab.adjust_panel.saturation_row.slider.setValue(40)
    first.close()

    second = launch(qtbot)
    tab = second.colorize_tab
    assert len(tab.queue) == 2
    drop_files(second, gray_photos[2:3])  # opened in this session: Start fresh keeps it
    qtbot.waitUntil(lambda: len(tab.queue) == 3)
    assert tab.session_banner.button.text() == "Start fresh"
    tab.session_banner.button.click()
    assert [i.path for i in tab.queue.items] == [gray_photos[2]]
    assert tab.adjust_panel.saturation() == pytest.approx(1.0)
    assert tab.session_banner.button.text() == "Undo"
    saved = json.loads(session_file(second).read_text())
    assert [p["path"] for p in saved["photos"]] == [str(gray_photos[2].absolute())]
    tab.session_banner.button.click()
    assert len(tab.queue) == 3


def test_missing_photos_are_skipped_with_a_note(qtbot, tiny_model, gray_photos) -> None:
    first = launch(qtbot, wait_model=False)
    drop_files(first, gray_photos[:3])
    qtbot.waitUntil(lambda: len(first.colorize_tab.queue) == 3)
    first.close()
    gray_photos[1].unlink()

    second = launch(qtbot, wait_model=False)
    tab = second.colorize_tab
    assert [i.path for i in tab.queue.items] == [gray_photos[0].absolute(), gray_photos[2].absolute()]
    text = tab.session_banner.label.text()
    assert "Restored 2 photos" in text and gray_photos[1].name in text and "left out" in text


HOSTILE = {
    "not json": b"\x00\xff{{{ not a session",
    "a list": b"[1, 2, 3]",
    "another format": json.dumps({"format": "something-else", "version": 1}).encode(),
    "future version": json.dumps({"format": "chroma-session", "version": 99}).encode(),
    "NaN saturation": b'{"format": "chroma-session", "version": 1, "adjust": {"saturation": NaN}}',
    "huge work size": json.dumps({"format": "chroma-session", "version": 1, "adjust": {"work_size": 10 ** 9}}).encode(),
    "relative path": json.dumps({"format": "chroma-session", "version": 1, "photos": [{"path": "x.jpg"}]}).encode(),
    "unknown key": json.dumps({"format": "chroma-session", "version": 1, "run": "rm -rf /"}).encode(),
    "hint off the chart": json.dumps({"format": "chroma-session", "version": 1, "photos": [
        {"path": "/tmp/x.jpg", "hints": {"hints": [{"x": 0.5, "y": 0.5, "ab": [1e9, 0]}]}}]}).encode(),
    "too many hints": json.dumps({"format": "chroma-session", "version": 1, "photos": [
        {"path": "/tmp/x.jpg", "hints": [{"x": 0.5, "y": 0.5, "ab": [1, 0]}] * 5000}]}).encode(),
    "selected out of range": json.dumps({"format": "chroma-session", "version": 1, "photos": [],
                                         "selected": 7}).encode(),
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_corrupt_or_hostile_session_file_is_reported_and_nothing_breaks(qtbot, tmp_path, kind) -> None:
    from ml_core.io.paths import user_data_dir

    path = user_data_dir() / "session.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(HOSTILE[kind])
    win = launch(qtbot, wait_model=False)
    tab = win.colorize_tab
    assert len(tab.queue) == 0
    assert tab.session_banner.isVisible() and tab.session_banner.kind == "error"
    text = tab.session_banner.label.text()
    assert "could not be restored" in text and str(path) in text
    assert "Traceback" not in text and len(text) < 600
    assert (path.parent / "session-unreadable.json").read_bytes() == HOSTILE[kind]  # kept aside, not lost
    # The window still works, and the next save replaces the bad file with a good one.
    assert win.session.save()
    assert json.loads(path.read_text())["format"] == "chroma-session"


def test_quit_asks_only_while_an_export_runs(qtbot, tiny_model, gray_photos, tmp_path) -> None:
    from ml_core.inference.batch import ExportSettings

    win = launch(qtbot)
    tab = win.colorize_tab
    asked: list[str] = []
    answer = {"quit": False}
    win.confirm_quit = lambda text: asked.append(text) or answer["quit"]
    drop_files(win, gray_photos)
    qtbot.waitUntil(lambda: len(tab.queue) == 4)
    assert tab.start_export(ExportSettings(out_dir=tmp_path / "out"), tab.queue.items)
    win.request_quit()  # File > Quit during an export: asked; "No" keeps the window and the export
    assert len(asked) == 1 and "export is running" in asked[0]
    assert win.isVisible() and tab.exporter.running
    answer["quit"] = True
    win.request_quit()
    assert len(asked) == 2 and not win.isVisible()

    idle = launch(qtbot, wait_model=False)
    idle.confirm_quit = lambda text: asked.append(text) or False
    idle.request_quit()  # nothing running: no question
    assert len(asked) == 2 and not idle.isVisible()


def test_quit_asks_while_training_runs(window, tiny_model, qtbot, tmp_path) -> None:
    """A real (tiny) fine-tune in the Training tab: File > Quit asks, "No" keeps it training."""
    from ml_core.training.synthetic import write_synthetic_photos

    folder = tmp_path / "color photos"
    write_synthetic_photos(folder, 20, size=(64, 80), seed=5)
    tab = open_training_tab(window, qtbot)
    setup = tab.setup
    tab.add_folders([folder])
    setup.advanced.set_open(True)
    setup.size_spin.setValue(64)
    setup.batch_spin.setValue(4)
    setup.val_spin.setValue(10)
    setup.epochs_spin.setValue(50)
    qtbot.waitUntil(lambda: setup.summary is not None and setup.summary.size == 64 and not tab._scanning
                    and tab.start_button.isEnabled(), timeout=30_000)
    tab.start_button.click()
    qtbot.waitUntil(lambda: tab.session.last_step is not None, timeout=60_000)
    asked: list[str] = []
    window.confirm_quit = lambda text: asked.append(text) or False
    window.request_quit()
    assert len(asked) == 1 and "Training is running" in asked[0] and "checkpoint" in asked[0]
    assert window.isVisible() and tab.session.active
    window.confirm_quit = lambda text: asked.append(text) or True
    window.request_quit()
    assert len(asked) == 2 and not window.isVisible() and tab.session.runner.closed  # stopped, checkpointed
