"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every file Chroma writes that a person cares about (model files, checkpoints, cards, cache
entries, ONNX exports) goes through here, so a crash or a full disk mid-write leaves the last
good version in place. Photo exports have stricter no-clobber rules and live in imageio.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

# `.{name}.{pid}.{8 hex}.tmp` (and, from older versions' photo exports, `.{name}.{8 hex}.tmp`).
# Anything else is not ours and is never removed, however much it looks like a temp file.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>[1-9][0-9]{0,9})\.)?[0-9a-f]{8}\.tmp$")
# A temp file whose writer may still be alive is only stale after this long: no single write of
# a photo or checkpoint takes an hour, and a reused pid cannot keep a leftover forever.
STALE_AFTER_S = 3600.0
_swept: set[str] = set()
_swept_lock = threading.Lock()


def temp_path_beside(dest: Path) -> Path:
    """A hidden, unique name in the destination's folder (same filesystem, so rename is atomic)."""
    return dest.with_name(f".{dest.name[:64]}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


@contextmanager
def atomic_path(dest: Path | str, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `dest`, on any error it is removed.

    Plain open() (not mkstemp) so the file gets the user's normal permissions, not 0600.
    `durable` fsyncs before the rename; caches that can be rebuilt skip it.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    sweep_once(dest.parent)
    tmp = temp_path_beside(dest)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(dest: Path | str, data: bytes, durable: bool = True) -> None:
    with atomic_path(dest, durable) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(dest: Path | str, text: str, durable: bool = True) -> None:
    atomic_write_bytes(dest, text.encode("utf-8"), durable)


def remove_stale_temp_files(folder: Path | str, now: float | None = None) -> list[Path]:
    """Delete temp files of our own naming left behind by a killed writer; return what went.

    A `kill -9` or power cut skips every cleanup handler, so the leftovers (up to a checkpoint's
    size each) are removed by the next writer into the same folder instead. Only regular files
    matching our exact naming are touched, and only when their writer is gone (its pid is not
    running) or, where that cannot be told, they are older than STALE_AFTER_S.
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None:
            continue
        with suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and _is_stale(match.group("pid"), now - st.st_mtime):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def sweep_once(folder: Path | str) -> None:
    """remove_stale_temp_files, at most once per folder per process (writes can be frequent)."""
    key = os.path.abspath(folder)
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    remove_stale_temp_files(folder)


def _is_stale(pid: str | None, age_s: float) -> bool:
    if age_s > STALE_AFTER_S:
        return True
    if pid is None or int(pid) == os.getpid():
        return False  # another thread of ours may be writing it right now
    return not _process_alive(int(pid))


def _process_alive(pid: int) -> bool:
    """True unless the pid is certainly not running (on Windows signal 0 would kill, so: unknown)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or a pid we cannot ask about: not provably dead
    return True
