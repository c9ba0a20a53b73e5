"""Cooperative cancellation and pausing shared by the engine, the trainer and the GUI workers.

A plain threading.Event underneath: the GUI thread sets it, the worker checks it between steps,
so stopping never kills a thread mid-write.
"""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside work that noticed its token was cancelled."""


class CancelToken:
    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # a paused worker must wake up to notice it was stopped

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def checkpoint(self) -> None:
        """Block while paused, then raise if cancelled; call between units of work."""
        self._running.wait()
        self.raise_if_cancelled()
