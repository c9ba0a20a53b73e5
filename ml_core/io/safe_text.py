"""Text that came from a file someone else wrote, made safe to print or show.

A model's description, name, card or training notes are written by whoever made the file. Printed
raw, an escape sequence can recolor or clear a terminal, retitle the window or hide text; bidi
overrides make a name read differently from what it is (the "Trojan source" trick); a lone
surrogate makes `print` itself fail. So everything a model file says passes through `clean_text`
once, where the file is parsed, and the command line and the window only ever see the result.
"""

from __future__ import annotations

import re
import reprlib
import unicodedata
from typing import Any

# Bidirectional embeddings, overrides and isolates: invisible, and they reorder what follows.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


# Whole escape sequences (ECMA-48), so "\x1b[31mRED" reads "RED", not "[31mRED": CSI (ESC [ or
# C1 0x9b, then parameters and a final byte); OSC, DCS, SOS, PM and APC strings up to their
# terminator (BEL or ST); and the two-byte ESC sequences. Lone leftovers go with the controls.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)


def _unsafe(ch: str, multiline: bool) -> bool:
    if multiline and ch in "\n\t":
        return False
    if ch in _BIDI_CONTROLS:
        return True
    # Cc: C0/C1 controls and DEL (ESC starts every terminal escape); Cs: lone surrogates, which
    # cannot be encoded for output at all.
    return unicodedata.category(ch) in ("Cc", "Cs")


def clean_text(text: str, multiline: bool = False) -> str:
    """`text` without control characters; newlines and tabs stay only where `multiline` allows.

    A carriage return becomes a newline in multi-line text (so "\\r\\n" cards read normally) and
    a space elsewhere, like every other line break, so words do not run together.
    """
    text = _ESCAPES.sub("", text)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in text:
        if not _unsafe(ch, multiline):
            out.append(ch)
        elif ch in "\r\n\t\x0b\x0c\x85":
            out.append(" ")
    return "".join(out)


def clean_value(value: Any, multiline: bool = False) -> Any:
    """`clean_text` applied to every string (keys included) inside nested JSON-like data."""
    if isinstance(value, str):
        return clean_text(value, multiline)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v, multiline) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_value(v, multiline) for v in value]
    return value


_short_repr = reprlib.Repr()
_short_repr.maxlevel, _short_repr.maxstring, _short_repr.maxother = 2, 40, 40
_short_repr.maxlist = _short_repr.maxdict = 4


def shown(value: Any) -> str:
    """A bad value as an error message shows it: short (a 100,000-deep list is `[[...]]`, a
    megabyte string is cut) and with control characters escaped or removed."""
    return clean_text(_short_repr.repr(value))
