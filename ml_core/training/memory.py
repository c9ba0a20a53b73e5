"""Keep freed memory in the process while training, so each step stops paying page faults.

Why: a training step allocates and frees the same few hundred tensors every step, many of them
megabytes (at batch 32, 128²: activations of 6-34 MB). glibc's malloc serves such blocks with
mmap and unmaps them on free (anything above its mmap threshold, at most 32 MiB however it adapts),
and returns the top of its heap to the system past a trim threshold. So the next step maps the
same memory again and touches it page by page: ~70,000 page faults per step of the default
model, 0.17 s of system CPU per step on the 2-core VM where it was measured (each fault ~2.5 µs
in a VM), about a tenth of the step's CPU. Raising both thresholds keeps the memory in malloc's
free lists: 0 faults per step after the first, at the cost of the process keeping its peak
memory until training ends (then `retained_heap` gives it back).

Only glibc (Linux) has these knobs; elsewhere this does nothing, and training is unchanged.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_KEEP = 1 << 30  # 1 GiB: larger than any single tensor of a CPU training step
_GLIBC_DEFAULT = 128 * 1024  # both thresholds' defaults in glibc
_lock = threading.Lock()
_holders = 0  # runs inside retained_heap (a desktop app may train two at once): the last one restores


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # musl has no mallopt: AttributeError
        libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return libc


def _set(libc: ctypes.CDLL, threshold: int) -> bool:
    trim = bool(libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(threshold)))
    # Some glibc versions refuse an mmap threshold above 32 MiB; then 32 MiB still keeps all but
    # the largest tensors.
    mmap = bool(libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(threshold)))
    if not mmap and threshold > 32 << 20:
        mmap = bool(libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(32 << 20)))
    return trim and mmap


@contextmanager
def retained_heap() -> Iterator[bool]:
    """While inside, freed memory stays in the process (yields whether the setting took effect);
    on exit the thresholds go back to glibc's defaults and the free memory is returned to the
    system, so a desktop app that trained does not keep the training's peak memory afterwards."""
    global _holders
    libc = _libc()
    with _lock:
        active = libc is not None and (_holders > 0 or _set(libc, _KEEP))
        _holders += active
    try:
        yield active
    finally:
        if libc is not None and active:
            with _lock:
                _holders -= 1
                if _holders == 0:
                    _set(libc, _GLIBC_DEFAULT)
                    libc.malloc_trim(0)
