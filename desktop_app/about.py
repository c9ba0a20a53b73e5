"""What Help > About says: the installed version (from the package metadata) and where the help is.

The version comes from the installed distribution, so it is the one pip or the bundle recorded,
never a second copy in the code that could drift; a source tree that was never installed says so
instead of failing. The help is the README: next to the package in a checkout; a bundle, which
does not carry it, points to `chroma --help`.
"""

from __future__ import annotations

import html
from pathlib import Path

DISTRIBUTION = "chroma-colorizer"
README_SECTION = "#the-window"  # the README's part about the window


def app_version() -> str:
    from importlib import metadata  # ~40 ms (it parses email headers): only when About opens

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "development version (not installed)"


def readme_path() -> Path | None:
    """The README of the checkout this package runs from, if there is one."""
    candidate = Path(__file__).resolve().parents[1] / "README.md"
    return candidate if candidate.is_file() else None


def about_html() -> str:
    readme = readme_path()
    if readme is not None:
        url = readme.as_uri()
        help_line = (f'<p>Help: <a href="{html.escape(url)}">README.md</a> (how to use the window, hints, '
                     f'training and the command line).</p>')
    else:
        help_line = "<p>Help: run <code>chroma --help</code>, or read README.md where Chroma came from.</p>"
    return (f"<h3>Chroma {html.escape(app_version())}</h3>"
            "<p>Colorize black-and-white photos on your own computer.</p>"
            "<p>Drop photos on the window, choose a model, export in full resolution. "
            "Your originals are never changed.</p>" + help_line)
