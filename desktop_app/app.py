"""Application setup and the `run()` entry point used by `chroma`, `python -m desktop_app` and tests.

The window is shown before anything imports torch: the model list is read by a worker right
after the first paint, so launching feels immediate even though loading a model takes a second.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from . import resources
from .main_window import MainWindow
from .settings import AppSettings
from .theme import apply_theme


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication, created once (tests and the self-test may already have one)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else [sys.argv[0] if sys.argv else "chroma"])
    assert isinstance(app, QApplication)
    app.setApplicationName("Chroma")
    app.setOrganizationName("Chroma")
    app.setApplicationDisplayName("Chroma")
    app.setDesktopFileName("chroma")
    app.setWindowIcon(resources.app_icon())
    apply_theme(app)
    return app


def run(argv: Sequence[str] | None = None, self_test: bool = False, quit_when_shown: bool = False,
        paths: Sequence[Path | str] = (), quit_when_previewed: bool = False) -> int:
    """Open the window and run until it closes; returns the process exit code.

    `self_test` runs offscreen (unless a platform is forced), colorizes and exports a bundled
    sample through the real worker path, and exits 0 on success. `quit_when_shown` exits as soon
    as the first frame is up, `quit_when_previewed` as soon as the first colorized preview is on
    screen (launch-time benchmarks).
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif QApplication.instance() is None:
        from .display_check import display_problem

        problem = display_problem()  # Qt would abort the process with a misleading message instead
        if problem:
            print(problem, file=sys.stderr)
            return 2
    app = create_app(argv)
    from .display_check import release

    release()  # Qt is connected now
    if self_test:
        from .self_test import run_self_test

        with tempfile.TemporaryDirectory(prefix="chroma-self-test-") as tmp:
            # Its own settings file: the self-test must not change the person's remembered choices.
            window = MainWindow(AppSettings(Path(tmp) / "settings.ini"))
            window.show()
            try:
                return run_self_test(app, window, Path(tmp))
            finally:
                window.close()
    window = MainWindow()
    if quit_when_shown:
        window.shown.connect(lambda: QTimer.singleShot(0, lambda: _report_and_quit(app, "chroma-window-shown")))
    else:
        if quit_when_previewed:
            window.colorize_tab.preview_shown.connect(
                lambda _id: QTimer.singleShot(0, lambda: _report_and_quit(app, "chroma-first-preview")))
        QTimer.singleShot(0, window.colorize_tab.refresh_models)
    window.show()
    window.start_session()
    if paths:
        QTimer.singleShot(0, lambda: window.colorize_tab.add_paths(paths))
    code = int(app.exec())
    window.close()  # idempotent; stops the workers if the loop ended some other way
    return code


def _report_and_quit(app: QApplication, line: str) -> None:
    print(line, flush=True)
    app.quit()
