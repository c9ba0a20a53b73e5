"""Reading a small JSON file a person or another program handed us: bounded, strict, explained.

Hint files and saved sessions arrive from anywhere, so each read is bounded in size, refuses
NaN and Infinity (json accepts them; nothing downstream should), and turns every way a file can
be broken (unreadable, not UTF-8, not JSON, nested 100,000 deep, a 5,000-digit integer) into one
sentence naming the file. Callers wrap `JsonFileError` in their own error type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import PathError


class JsonFileError(PathError, ValueError):
    """A JSON file that cannot be used; the message names the file and says why."""


def read_json_file(path: Path, *, max_bytes: int, kind: str, reading: str) -> Any:
    """The parsed JSON value of `path`.

    `kind` names the file in messages ("JSON hints file", "session file"); `reading` says what
    could not be read ("hints", "the session"). FileNotFoundError passes through for callers that
    treat a missing file as "nothing saved yet".
    """
    def reject_constant(name: str) -> Any:
        raise JsonFileError(path, f"{name} is not a number a {kind} may hold")

    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise JsonFileError(path, f"{size:,} bytes is too large for a {kind} (at most {max_bytes:,})")
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark from a Windows editor is fine
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JsonFileError(path, f"cannot read {reading}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise JsonFileError(path, f"not a {kind}: not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(text, parse_constant=reject_constant)
    except JsonFileError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonFileError(path, f"not a {kind}: {exc}") from None
    except RecursionError:
        raise JsonFileError(path, f"not a {kind}: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise JsonFileError(path, f"not a usable {kind}: {exc}") from None
