"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every file Chroma writes that a person cares about (model files, checkpoints, cards, cache
entries, ONNX exports) goes through here, so a crash or a full disk mid-write leaves the last
good version in place. Photo exports have stricter no-clobber rules and live in imageio.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


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
