"""Issue 17: no display -> a plain message instead of Qt's abort; Show in Folder after an export;
Preferences (theme, default export folder and format, CPU threads) stored and applied."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from desktop_app.display_check import debian_package

from gui_helpers import drop_files, wait_all_settled

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the X11 path only exists on Linux")
@pytest.mark.parametrize("entry", [["-m", "desktop_app"], ["-m", "ml_core.cli"]])
def test_without_a_display_the_window_says_what_is_missing_instead_of_aborting(entry, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run([sys.executable, *entry, "--quit-when-shown"] if entry[1] == "desktop_app"
                          else [sys.executable, *entry, "gui", "--quit-when-shown"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output  # not 134 / -6: Qt's abort never happens
    assert "Chroma cannot open its window" in output and "chroma colorize" in output
    assert "no display was found" in output or "not installed" in output
    assert "Could not load the Qt platform plugin" not in output and "Traceback" not in output


def test_library_names_map_to_the_packages_that_ship_them() -> None:
    assert debian_package("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libEGL.so.1") == "libegl1"
    assert debian_package("not a library") == ""


def test_show_in_folder_after_an_export(ready_window, qtbot, gray_photos, tmp_path) -> None:
    from ml_core.inference.batch import ExportSettings

    tab = ready_window.colorize_tab
    opened = []
    tab.open_url = lambda url: opened.append(url.toLocalFile()) or True
    assert not tab.commands["show_export"].isEnabled()
    drop_files(ready_window, gray_photos[:2])
    wait_all_settled(qtbot, tab)
    out = tmp_path / "out"
    with qtbot.waitSignal(tab.export_finished, timeout=60_000):
        tab.start_export(ExportSettings(out_dir=out), tab.queue.items)
    assert tab.show_folder_button.isVisibleTo(ready_window)
    assert tab.commands["show_export"].isEnabled()
    tab.show_folder_button.click()
    assert opened == [str(out)]


def answer(window, set_fields) -> None:
    """Fill the Preferences dialog once it is open, then press OK (or leave it when OK is disabled)."""
    def fill() -> None:
        dialog = window.preferences_dialog
        set_fields(dialog)
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok.isEnabled():
            ok.click()
        else:
            window.preferences_problem = dialog.problem.text()
            dialog.reject()
    QTimer.singleShot(0, fill)


def test_preferences_are_validated_stored_and_applied(ready_window, qtbot, tmp_path, gray_photos) -> None:
    from desktop_app.colorize.export_dialog import ExportDialog
    from desktop_app.colorize.jobs import ThreadPreference
    from desktop_app.settings import AppSettings

    window = ready_window
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")

    def bad_folder(dialog) -> None:
        dialog.folder_edit.setText(str(a_file))
    answer(window, bad_folder)
    assert window.open_preferences() is False
    assert "is a file, not a folder" in window.preferences_problem
    assert window.settings.export_default_dir == ""

    exports = tmp_path / "exports"

    def good(dialog) -> None:
        dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
        dialog.folder_edit.setText(str(exports))
        dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("webp"))
        assert dialog.threads_spin.maximum() == (os.cpu_count() or 1)
        dialog.threads_spin.setValue(10_000)  # the spin box holds it to this machine's cores
        dialog.threads_spin.setValue(1)
    answer(window, good)
    try:
        assert window.open_preferences() is True
        stored = AppSettings(window.settings.path)  # read back from the file, as the next start would
        assert (stored.theme, stored.export_default_dir, stored.export_default_format, stored.threads) == \
            ("dark", str(exports), "webp", 1)
        assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() < 128
        drop_files(window, gray_photos[:1])  # the next render runs with one thread, on its worker
        wait_all_settled(qtbot, window.colorize_tab)
        assert ThreadPreference.last_used == 1
        dialog = ExportDialog(window, window.settings, selected=None, done_count=1, default_dir="/elsewhere")
        assert dialog.folder_edit.text() == str(exports) and dialog.fmt() == "webp"
        dialog.deleteLater()
        window.settings._q.setValue("performance/threads", "999999")  # hand-edited: read as automatic
        assert window.settings.threads == 0
        with pytest.raises(ValueError):
            window.settings.threads = -1
    finally:
        window.settings.threads = 0
        window.settings.theme = "system"
        window.apply_preferences()
        assert ThreadPreference.wanted == 0
