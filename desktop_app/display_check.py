"""Before Qt opens the window on Linux: is there a display, and can Qt's X11 plugin load?

When either is missing, QApplication does not raise: Qt prints a paragraph about the "xcb"
platform plugin (naming libxcb-cursor0 even when that is installed) and aborts the process. So
the two things Qt would trip over are checked first, cheaply, and a person gets one plain
message: what is missing and how to colorize without a window.

* The plugin's shared libraries: loading the plugin file with ctypes makes the dynamic loader
  name the first library it cannot find (what Qt hides behind its generic message).
* The display: libxcb's own xcb_connect, the call Qt makes, tried and closed again (~1 ms).

Only the X11 path is checked; Wayland, macOS, Windows and offscreen runs go straight to Qt.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

HEADLESS = ("To colorize without a window:\n"
            "    chroma colorize PHOTO... -o FOLDER\n"
            "(`chroma colorize --help` lists the options; `xvfb-run chroma` gives the window a virtual display.)")


def qt_platform() -> str:
    """The platform plugin Qt will try first on this machine."""
    forced = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if forced:
        return forced
    if not sys.platform.startswith("linux"):
        return "native"
    if os.environ.get("WAYLAND_DISPLAY"):
        return "wayland"  # Qt prefers it when it can; it falls back to xcb by itself
    return "xcb"


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships `soname` by the library packaging policy:
    libxcb-cursor.so.0 -> libxcb-cursor0, libxkbcommon-x11.so.0 -> libxkbcommon-x11-0."""
    match = re.fullmatch(r"(lib[\w+.-]+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if not match:
        return ""
    name, major = match.group(1).lower(), match.group(2)
    return f"{name}{'-' if name[-1].isdigit() else ''}{major}"


def _xcb_plugin() -> Path | None:
    try:
        import PySide6
    except ImportError:
        return None
    for folder in (Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms",
                   Path(PySide6.__file__).parent / "plugins" / "platforms"):
        plugin = folder / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_library(plugin: Path) -> str | None:
    """The first shared library `plugin` needs that the loader cannot find (None: it loads)."""
    try:
        ctypes.CDLL(str(plugin))
    except OSError as exc:
        match = re.search(r"([\w+.-]+\.so[\w.]*): cannot open shared object file", str(exc))
        return match.group(1) if match else str(exc)
    return None


def display_reachable() -> tuple[bool, str]:
    """Whether libxcb can connect to $DISPLAY, and the reason when it cannot."""
    display = os.environ.get("DISPLAY", "")
    if not display:
        return False, "no display was found (DISPLAY is not set: no desktop session, or SSH without -X)"
    try:
        xcb = ctypes.CDLL("libxcb.so.1")  # by soname: ctypes.util.find_library runs ldconfig (~100 ms)
        xcb.xcb_connect.restype = ctypes.c_void_p
        xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
        xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
        connection = xcb.xcb_connect(None, None)
        error = xcb.xcb_connection_has_error(connection)
    except (OSError, AttributeError):
        return True, ""  # libxcb itself is missing or odd: cannot check, Qt will say
    if error:
        xcb.xcb_disconnect(connection)
        return False, f"the display {display} cannot be reached (is the X server running, and may you use it?)"
    # Held until Qt has its own connection (release()): an X server with no client left resets
    # (Xvfb does), and Qt connecting during that reset would fail after all.
    global _held
    release()
    _held = (xcb, connection)
    return True, ""


_held: tuple | None = None


def release() -> None:
    """Close the probe's X connection (call once QApplication exists)."""
    global _held
    if _held is not None:
        xcb, connection = _held
        _held = None
        xcb.xcb_disconnect(connection)


def display_problem() -> str | None:
    """A message for the person when the window cannot open here, else None."""
    if qt_platform() != "xcb":
        return None
    problems = []
    plugin = _xcb_plugin()
    library = missing_library(plugin) if plugin is not None else None
    if library is not None:
        package = debian_package(library)
        install = f" (Debian/Ubuntu: sudo apt install {package})" if package else ""
        problems.append(f"Qt's X11 display plugin needs {library}, which is not installed{install}; the README's "
                        f"Quick start lists every library the window needs")
    ok, reason = display_reachable()
    if not ok:
        problems.append(reason)
    if not problems:
        return None
    return "Chroma cannot open its window: " + "; and ".join(problems) + ".\n" + HEADLESS
