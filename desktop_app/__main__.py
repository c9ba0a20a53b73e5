"""`python -m desktop_app [--self-test] [PHOTO ...]`: the window without the chroma CLI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ml_core import runtime


def main(argv: list[str] | None = None) -> int:
    runtime.configure()  # before the window code imports torch (see ml_core.runtime)
    from .app import run

    parser = argparse.ArgumentParser(prog="python -m desktop_app", description="Open the Chroma window.")
    parser.add_argument("photos", nargs="*", type=Path, help="photos or folders to open")
    parser.add_argument("--self-test", action="store_true", help="colorize and export a sample offscreen, then exit")
    parser.add_argument("--quit-when-shown", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quit-when-previewed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return run(self_test=args.self_test, quit_when_shown=args.quit_when_shown, paths=args.photos,
               quit_when_previewed=args.quit_when_previewed)


if __name__ == "__main__":
    sys.exit(main())
