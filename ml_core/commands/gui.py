"""`chroma gui` (also plain `chroma`): open the window.

ml_core never imports Qt at module level: the GUI is imported inside `run`, so the command line
works on machines without PySide6 and says clearly what is missing when the window is asked for.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_QT_MODULES = ("PySide6", "shiboken6", "desktop_app")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the Chroma window (the default when no command is given)")
    p.add_argument("photos", nargs="*", type=Path, metavar="PHOTO", help="photos or folders to open")
    p.add_argument("--self-test", action="store_true",
                   help="open the window offscreen, colorize and export a bundled sample, exit 0 if all worked")
    p.add_argument("--quit-when-shown", action="store_true", help=argparse.SUPPRESS)  # launch benchmark
    p.add_argument("--quit-when-previewed", action="store_true", help=argparse.SUPPRESS)  # launch benchmark
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from desktop_app.app import run as run_window
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in _QT_MODULES:
            raise
        print(
            "error: the Chroma window needs PySide6, which is not installed "
            f"({exc}).\nInstall it with: pip install PySide6-Essentials\n"
            "The command line works without it: see `chroma colorize --help`.",
            file=sys.stderr,
        )
        return 2
    return run_window(self_test=args.self_test, quit_when_shown=args.quit_when_shown, paths=args.photos,
                      quit_when_previewed=args.quit_when_previewed)
