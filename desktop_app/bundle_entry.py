"""Entry point of the double-click app (the PyInstaller bundle built from `build.spec`).

The bundle's one executable (`Chroma`, `Chroma.exe`, `Chroma.app/Contents/MacOS/Chroma`) is both
the window and the command line:

    Chroma                      open the window (what a double-click does)
    Chroma PHOTO ...            open the window with these photos queued
    Chroma --self-test          the same check as `chroma gui --self-test`, exit 0 if all worked
    Chroma COMMAND ...          any `chroma` subcommand: colorize, models, train, eval, gui
                                (the bundle has no export-onnx: onnx is not shipped)
    Chroma -m MODULE ...        run a bundled module as `python -m` would (for code that
                                re-launches `sys.executable -m ml_core.cli ...`)

It must stay import-light: nothing here may import Qt or torch before the window code does.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import sys


def _fix_windows_streams() -> None:
    """A windowed Windows exe has no stdout/stderr; borrow the console it was started from, if any.

    Without this `Chroma.exe --self-test` or `Chroma.exe colorize ...` typed in cmd.exe would print
    nothing (and `print` would fail on `None`). Started by a double-click there is no console and
    output is discarded.
    """
    if sys.stdout is not None and sys.stderr is not None:
        return
    attached = False
    if sys.platform == "win32":
        try:
            import ctypes

            attached = bool(ctypes.windll.kernel32.AttachConsole(-1))  # ATTACH_PARENT_PROCESS
        except Exception:  # noqa: BLE001 - no console is a normal case, not an error
            attached = False
    target = "CONOUT$" if attached else os.devnull
    try:
        if sys.stdout is None:
            sys.stdout = open(target, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        if sys.stderr is None:
            sys.stderr = open(target, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError:
        devnull = open(os.devnull, "w")  # noqa: SIM115
        sys.stdout = sys.stdout or devnull
        sys.stderr = sys.stderr or devnull


def route(argv: list[str], commands: set[str]) -> list[str]:
    """The `chroma` arguments for the bundle's arguments.

    The window opens for nothing at all, for options (`--self-test`) and for photos (an existing
    path, or anything with a folder or a file extension in it: the window reports a missing photo
    itself). A subcommand, `--help` or any other bare word goes to the command line, so a mistyped
    subcommand gets argparse's "invalid choice" instead of a window.
    """
    # macOS Finder (older versions) adds a process serial number argument to .app launches.
    argv = [a for a in argv if not a.startswith("-psn_")]
    if not argv:
        return ["gui"]
    first = argv[0]
    if first in commands or first in ("-h", "--help"):
        return argv
    if first.startswith("-"):
        return ["gui", *argv]
    from ml_core.cli import route as cli_route  # import-light: argparse and ml_core.runtime only

    return cli_route(argv, commands)  # photos open the window; other bare words get "invalid choice"


def run_module(argv: list[str]) -> int:
    """`Chroma -m MODULE args...`: what `python -m MODULE args...` does."""
    if not argv:
        print("usage: Chroma -m MODULE [ARGS ...]", file=sys.stderr)
        return 2
    module, *rest = argv
    sys.argv = [module, *rest]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        print(code, file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    # A multiprocessing child (training's DataLoader workers under the "spawn" start method)
    # re-runs this executable; freeze_support() takes it over and never returns in the child.
    multiprocessing.freeze_support()
    _fix_windows_streams()
    from ml_core import runtime

    runtime.configure()  # also for `-m MODULE` relaunches; before anything imports torch
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["-m"]:
        return run_module(argv[1:])

    from ml_core.cli import build_parser, command_names
    from ml_core.cli import main as cli_main

    return cli_main(route(argv, command_names(build_parser())))


if __name__ == "__main__":
    sys.exit(main())
