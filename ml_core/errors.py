"""The one shape of "this file cannot be used" errors: a path and a reason a person can read.

`ImageReadError` and `ExportError` (imageio), `ModelFileError` (modelfile) and `CheckpointError`
(checkpoint) all derive from `PathError`, so a batch job can list failures per file the same way
and a caller can catch every one of them at once. Each subclass also derives from the builtin
kind its callers already catch (ValueError for content, OSError for writing).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Union


class PathError(Exception):
    """`path` and `reason`; the message is "<path>: <reason>", meant to be shown as is."""

    def __init__(self, path: Union[str, PathLike], reason: str) -> None:
        self.path = Path(path)
        self.reason = self.shown(reason)
        super().__init__(f"{self.shown(str(path))}: {self.reason}")

    @staticmethod
    def shown(text: str) -> str:
        """How text from the file reaches the message (subclasses may clean it)."""
        return text

    def __reduce__(self):  # keeps the errors picklable for process pools
        return type(self), (self.path, self.reason)
