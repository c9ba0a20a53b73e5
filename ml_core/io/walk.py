"""Finding the files under what a user named: one walker for colorize and for training.

Both features take a mix of folders and files and need the same things from a walk: hidden
files and folders left out (a leading dot, or the hidden attribute on Windows), links to folders
never followed (so a link back up cannot loop), links to files followed, a link loop or an
unreadable folder reported by path instead of raising, each file listed once, and an order that
is the same on every run and every machine. What differs is kept as parameters:

* `order="natural"` (colorize, the default) is the order a person reads a folder in: scan_2
  before scan_10, case ignored, folders among the files by name.
* `order="files_first"` is the order training has always scanned in (each folder's files by code
  point, then its subfolders the same way, as `os.walk` with sorted names gives). A training run
  orders its photos, and so its batches, by this list: changing it would change what a seed
  trains, so it is kept as it was.
* `wanted(name)` picks the files that matter (colorize: photo suffixes; training: every file,
  so it can count the ones that are not photos). Inside a folder a file it refuses is passed
  over in silence (notes and sidecars are normal there); a file the user named directly is a
  problem, said in the words of `unsupported_type`, in the place the user named it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

WalkOrder = Literal["natural", "files_first"]
StrPath = str | os.PathLike[str]


@dataclass(frozen=True)
class FoundFile:
    """One file the walk found."""

    path: str  # the input joined with the names below it, as given (not resolved)
    rel: str  # '/'-separated path below the input folder; the file's name when the input named it
    root: str  # the input (folder or file) it was found under, as given


@dataclass
class Walk:
    """Files in walk order, plus the (path, reason) of everything that could not be looked at."""

    files: list[FoundFile] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def find_files(inputs: Iterable[StrPath], *, wanted: Callable[[str], bool] | None = None,
               recursive: bool = True, order: WalkOrder = "natural") -> Walk:
    """Walk `inputs` (folders and files, in the order given) into one deduplicated list of files.

    Problems are returned, not raised, so a batch or a training scan can start with what is
    usable and still name what was left out.
    """
    if order not in ("natural", "files_first"):
        raise ValueError(f"order must be 'natural' or 'files_first', got {order!r}")
    walk = Walk()
    seen: set[str] = set()

    def add(found: FoundFile) -> None:
        key = os.path.normcase(os.path.abspath(found.path))
        if key not in seen:
            seen.add(key)
            walk.files.append(found)

    for item in inputs:
        root = os.fspath(item)
        if os.path.isdir(root):
            _walk_folder(root, wanted, recursive, order, add, walk.problems)
        elif os.path.isfile(root):
            if wanted is None or wanted(os.path.basename(root)):
                add(FoundFile(root, os.path.basename(root), root))
            else:
                walk.problems.append((root, unsupported_type(root)))
        elif os.path.islink(root):
            walk.problems.append((root, link_problem(root)))
        elif os.path.lexists(root):
            walk.problems.append((root, "is not a regular file"))
        else:
            walk.problems.append((root, "does not exist"))
    return walk


def _walk_folder(root: str, wanted: Callable[[str], bool] | None, recursive: bool, order: WalkOrder,
                 add: Callable[[FoundFile], None], problems: list[tuple[str, str]]) -> None:
    """Depth first, with a stack rather than recursion: a folder tree deeper than Python's
    recursion limit is legal on disk and must not crash a scan."""
    pending: list[tuple[str, str, bool]] = [(root, "", True)]  # (path, rel, is_folder)
    while pending:
        path, rel, is_folder = pending.pop()
        if not is_folder:
            add(FoundFile(path, rel, root))
            continue
        try:
            with os.scandir(path) as it:
                entries = [e for e in it if not _is_hidden(e)]
        except OSError as exc:
            problems.append((path, f"cannot open folder ({exc.strerror or exc})"))
            continue
        children: list[tuple[str, str, bool]] = []
        for entry in _ordered(entries, order):
            child_rel = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):  # a link to a folder is never followed: no loops
                if recursive:
                    children.append((entry.path, child_rel, True))
            elif wanted is None or wanted(entry.name):
                try:
                    is_file = entry.is_file()  # follows a link to a file; a link loop (ELOOP) raises here
                except OSError as exc:
                    problems.append((entry.path, link_problem(entry.path, exc)))
                    continue
                if is_file:
                    children.append((entry.path, child_rel, False))
        pending.extend(reversed(children))


def _ordered(entries: list[os.DirEntry], order: WalkOrder) -> list[os.DirEntry]:
    if order == "natural":
        return sorted(entries, key=lambda e: (natural_key(e.name), e.name))
    folders = {id(e) for e in entries if e.is_dir(follow_symlinks=False)}
    return (sorted((e for e in entries if id(e) not in folders), key=lambda e: e.name)
            + sorted((e for e in entries if id(e) in folders), key=lambda e: e.name))


def unsupported_type(path: StrPath) -> str:
    """The one wording for a file that is not a photo Chroma reads, wherever it is reported."""
    return f"not a supported image type ({PurePath(path).suffix or 'no extension'})"


def natural_key(name: str) -> list[int | str]:
    """Sort like a person would: scan_2 before scan_10."""
    return [int(part) if part.isdecimal() else part.casefold() for part in re.split(r"(\d+)", name)]


def link_problem(path: StrPath, exc: OSError | None = None) -> str:
    """Why a link (or name) that should lead to a file does not: a loop is said as a loop."""
    if exc is None:
        try:
            os.stat(path)
        except OSError as err:
            exc = err
    if exc is not None and exc.errno == errno.ELOOP:
        return "is a symbolic link loop (it leads back to itself)"
    if exc is not None and not isinstance(exc, FileNotFoundError):
        return f"cannot be read ({exc.strerror or exc})"
    return "is a broken link"


def _is_hidden(entry: os.DirEntry) -> bool:
    if entry.name.startswith("."):
        return True
    if os.name == "nt":  # the stat is free on Windows (it comes with the directory listing)
        with contextlib.suppress(OSError):
            return bool(getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0) & 2)
    return False
