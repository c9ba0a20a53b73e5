"""`chroma` command line: the same ml_core calls the window makes, for scripts and batch work.

Run with no subcommand to open the window.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Sequence

from . import runtime

COMMAND_MODULES = ("colorize", "repair", "compare", "models", "export_onnx", "train", "pack", "evaluate", "gui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chroma", description="Colorize black-and-white photos.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"ml_core.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ml_core.commands.{name}":
                continue  # optional command not installed in this build
            raise
        module.register(sub)
    return parser


def command_names(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name in action.choices}


def looks_like_photo(arg: str) -> bool:
    """An existing path, or anything with a folder or a file extension in it.

    Why: a bare word that is no command (a typo such as `colourize`) must reach argparse's
    "invalid choice" message, not open a window that tries to load a photo called "colourize".
    """
    return os.path.exists(arg) or os.sep in arg or "/" in arg or Path(arg).suffix != ""


def route(argv: Sequence[str], commands: set[str]) -> list[str]:
    """`chroma PHOTO...` opens the window with those photos, as `chroma gui PHOTO...` does.

    Why: people type the program name and a file, as with any desktop app; argparse alone would
    call the photo an invalid command. Commands, options and other bare words go to argparse.
    """
    argv = list(argv)
    if argv and argv[0] not in commands and not argv[0].startswith("-") and looks_like_photo(argv[0]):
        return ["gui", *argv]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    runtime.configure()  # before any command imports torch: OpenMP reads it once, at load
    parser = build_parser()
    argv = route(sys.argv[1:] if argv is None else argv, command_names(parser))
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *argv])
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
