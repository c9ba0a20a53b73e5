"""App-level behaviour: model files dropped on the window, paste, settings, self-test, the CLI entry."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QGuiApplication

from desktop_app.colorize.compare_view import ViewMode
from desktop_app.colorize.photo_queue import ItemState
from desktop_app.main_window import MainWindow

from gui_helpers import TINY, drop_files, write_model


def test_dropping_a_model_file_offers_to_import_it(window, tiny_model, qtbot, tmp_path) -> None:
    tab = window.colorize_tab
    shared = write_model("from-a-friend", seed=3, folder=tmp_path / "downloads")
    with qtbot.waitSignal(tab.models_refreshed, timeout=30_000, check_params_cb=lambda c: len(c) == 2):
        drop_files(window, [shared])
    assert len(tab.confirm_calls) == 1 and "from-a-friend.safetensors" in tab.confirm_calls[0][1]
    assert sorted(tab.model_panel.names()) == ["from-a-friend", TINY]
    assert tab.model_panel.current_name() == "from-a-friend"  # imported models are selected
    assert "Tiny untrained test model" in tab.model_panel.current_choice().tooltip_html()  # its own metadata


def test_declining_a_model_import_changes_nothing(window, qtbot, tmp_path) -> None:
    tab = window.colorize_tab
    tab.confirm_answer = False
    shared = write_model("declined", seed=3, folder=tmp_path / "downloads")
    drop_files(window, [shared])
    qtbot.wait(100)
    assert tab.confirm_calls and tab.runner.idle
    from ml_core.modelfiles.store import ModelStore

    assert ModelStore().names() == []


def test_pasting_an_image_from_the_clipboard_queues_it(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    from PySide6.QtGui import QImage

    QGuiApplication.clipboard().setImage(QImage(str(gray_photos[0])))
    with qtbot.waitSignal(tab.preview_shown, timeout=20_000):
        tab.commands["paste"].trigger()
    item = tab.items()[0]
    assert item.path.name.startswith("pasted-") and item.path.suffix == ".png"
    assert item.state == ItemState.DONE and item.preview.original_size == (320, 240)


def test_settings_persist_across_runs(window, two_models, qtbot) -> None:
    tab = window.colorize_tab
    tab.refresh_models()
    qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None, timeout=30_000)
    tab.model_panel.select("tiny-ab")
    tab.commands["split"].trigger()
    window.resize(1111, 777)
    geometry = window.saveGeometry()
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.colorize_tab.view.mode() == ViewMode.SPLIT
    assert again.settings.window_geometry == geometry  # restored in MainWindow.__init__
    again.colorize_tab.refresh_models()
    qtbot.waitUntil(lambda: again.colorize_tab.current_model() == "tiny-ab", timeout=30_000)


def test_self_test_passes_with_an_empty_store(qtbot, capsys) -> None:
    from desktop_app.app import run

    assert run(self_test=True) == 0
    out = capsys.readouterr().out
    assert "untrained" in out and "OK" in out


def test_quit_when_previewed_opens_the_photo_and_exits_after_its_first_preview(tiny_model, gray_photos) -> None:
    # The launch-to-first-preview benchmark's hook, through the real entry point in a process of
    # its own (app.exec() and quit() inside the test process would end pytest-qt's later waits).
    out = subprocess.run([sys.executable, "-m", "desktop_app", str(gray_photos[0]), "--quit-when-previewed"],
                         env=dict(os.environ), capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert "chroma-first-preview" in out.stdout


def test_gui_command_explains_a_missing_pyside(monkeypatch, capsys) -> None:
    from ml_core.cli import main

    monkeypatch.setitem(sys.modules, "desktop_app.app", None)  # import fails as if not installed
    assert main(["gui"]) == 2
    assert "PySide6" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["gui", "--quit-when-shown"]])
def test_chroma_without_a_command_opens_the_window(monkeypatch, argv) -> None:
    import desktop_app.app as app_module
    from ml_core.cli import main

    calls = []
    monkeypatch.setattr(app_module, "run", lambda **kw: calls.append(kw) or 0)
    assert main(argv) == 0
    assert calls and calls[0]["self_test"] is False
