"""The one worker pattern of the app: QRunnable tasks on a private QThreadPool, owned by a TaskRunner.

Why this shape:

* Work is a plain function that calls ml_core and never touches a widget, so it can run on any
  thread and be unit-tested without Qt: `submit(fn, *args)` runs `fn(*args)`; a job that follows
  cancellation or reports progress has the shape `job(token, progress)` and goes to `submit_job`.
* A failure reaches `on_error` as the exception itself (as superqt's and Anki's workers do): the
  caller decides what to say (`describe_error` gives the usual one-line reason) or what to do.
* Results, errors, progress and cancellation travel back as queued signals to the runner, which
  lives on the GUI thread and only then calls the Python callbacks. Callbacks therefore always
  run on the GUI thread, whatever PySide does with lambdas.
* The runner keeps every task (and its signal object) referenced until its `finished` signal has
  been handled, so nothing a worker still emits to can be garbage-collected mid-flight.
* A task may occupy a named *slot* ("preview", "model"...). Submitting to a busy slot cancels
  the older task and silences its callbacks: a newer preview supersedes a stale one instead of
  queueing behind it.
* `shutdown()` cancels everything and waits for the pool, which is what makes closing the window
  during work clean (no "QThread destroyed while running").
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from ml_core.cancel import Cancelled, CancelToken

_log = logging.getLogger(__name__)

Progress = Callable[[Any], None]
Job = Callable[[CancelToken, Progress], Any]

# QThreadPool priorities: higher starts first among queued tasks.
PRIORITY_PREVIEW = 10
PRIORITY_THUMBNAIL = 5
PRIORITY_BACKGROUND = 0


class UserError(Exception):
    """An expected failure whose message is shown to the person as is (no traceback)."""


def describe_error(exc: BaseException) -> str:
    """A one-line reason for the status bar or an error badge."""
    if isinstance(exc, (UserError, ValueError, OSError)) and str(exc):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class _TaskSignals(QObject):
    """Created on the GUI thread; emitted from the worker thread; delivered queued."""

    progress = Signal(int, object)
    result = Signal(int, object)
    error = Signal(int, object)  # the exception
    cancelled = Signal(int)
    finished = Signal(int)


class _Task(QRunnable):
    def __init__(self, task_id: int, fn: Job, token: CancelToken) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner owns it until `finished` is handled
        self.task_id = task_id
        self.fn = fn
        self.token = token
        self.signals = _TaskSignals()

    def run(self) -> None:  # worker thread
        sig, tid = self.signals, self.task_id
        try:
            self.token.raise_if_cancelled()
            value = self.fn(self.token, lambda payload: sig.progress.emit(tid, payload))
        except Cancelled:
            sig.cancelled.emit(tid)
        except Exception as exc:  # delivered as the exception; the traceback also goes to the log
            if not isinstance(exc, UserError):
                _log.warning("task %d failed:\n%s", tid, traceback.format_exc())
            sig.error.emit(tid, exc)
        else:
            sig.result.emit(tid, value)
        finally:
            sig.finished.emit(tid)


@dataclass
class TaskHandle:
    """What the caller keeps: identity, cancellation, and whether it is still running."""

    id: int
    name: str
    slot: str | None
    token: CancelToken
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[Exception], None] | None = None
    on_progress: Callable[[Any], None] | None = None
    on_cancelled: Callable[[], None] | None = None
    on_finished: Callable[[], None] | None = None
    silenced: bool = False  # superseded or shut down: no more callbacks
    running: bool = True
    payload: dict[str, Any] = field(default_factory=dict)  # caller's bookkeeping (e.g. item id)

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled


class TaskRunner(QObject):
    """Runs jobs off the GUI thread and hands their outcome back on it."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 3) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._tasks: dict[int, _Task] = {}
        self._handles: dict[int, TaskHandle] = {}
        self._slots: dict[str, int] = {}
        self._closed = False

    # ------------------------------------------------------------------ submitting

    def submit(self, fn: Callable[..., Any], *args: Any, **options: Any) -> TaskHandle:
        """Run `fn(*args)` on a worker; `options` are submit_job's (name, slot, priority, on_result...).

        For work that needs neither the cancel token nor progress: a task cancelled before it
        starts never runs, and one superseded while running is silenced.
        """
        return self.submit_job(lambda token, progress: fn(*args), **options)

    def submit_job(
        self,
        fn: Job,
        *,
        name: str = "task",
        slot: str | None = None,
        priority: int = PRIORITY_BACKGROUND,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        payload: dict[str, Any] | None = None,
    ) -> TaskHandle:
        """Run `fn(token, progress)` on a worker: `token` to check for cancel and pause,
        `progress(value)` to send values to `on_progress` on the GUI thread."""
        task_id = next(self._ids)
        token = CancelToken()
        handle = TaskHandle(task_id, name, slot, token, on_result, on_error, on_progress,
                            on_cancelled, on_finished, payload=dict(payload or {}))
        if self._closed:  # the window is closing: late requests (timers, queued events) are dropped
            token.cancel()
            handle.silenced = True
            handle.running = False
            return handle
        if slot is not None:
            self.supersede(slot)
        task = _Task(task_id, fn, token)
        queued = Qt.ConnectionType.QueuedConnection
        task.signals.progress.connect(self._on_progress, queued)
        task.signals.result.connect(self._on_result, queued)
        task.signals.error.connect(self._on_error, queued)
        task.signals.cancelled.connect(self._on_cancelled, queued)
        task.signals.finished.connect(self._on_finished, queued)
        was_idle = not self._tasks
        self._tasks[task_id] = task
        self._handles[task_id] = handle
        if slot is not None:
            self._slots[slot] = task_id
        self._pool.start(task, priority)
        if was_idle:
            self.busy_changed.emit(True)
        return handle

    def supersede(self, slot: str) -> TaskHandle | None:
        """Cancel and silence the task in `slot`, if any; returns it so the caller can tidy up."""
        old_id = self._slots.pop(slot, None)
        handle = self._handles.get(old_id) if old_id is not None else None
        if handle is not None:
            handle.silenced = True
            handle.cancel()
        return handle

    def current(self, slot: str) -> TaskHandle | None:
        task_id = self._slots.get(slot)
        return self._handles.get(task_id) if task_id is not None else None

    # ------------------------------------------------------------------ state

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def idle(self) -> bool:
        return not self._tasks

    def running(self, name: str | None = None) -> list[TaskHandle]:
        return [h for h in self._handles.values() if name is None or h.name == name]

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Cancel everything, silence callbacks, and wait for the threads. True if all stopped."""
        self._closed = True
        for handle in self._handles.values():
            handle.silenced = True
            handle.cancel()
        self._pool.clear()  # queued-but-not-started tasks never need to run
        done = self._pool.waitForDone(timeout_ms)
        if not done:
            _log.error("workers did not stop within %d ms", timeout_ms)
        return done

    # ------------------------------------------------------------------ delivery (GUI thread)

    def _live(self, task_id: int) -> TaskHandle | None:
        handle = self._handles.get(task_id)
        if handle is None or handle.silenced or self._closed:
            return None
        return handle

    @Slot(int, object)
    def _on_progress(self, task_id: int, payload: object) -> None:
        handle = self._live(task_id)
        if handle is not None and handle.on_progress is not None:
            handle.on_progress(payload)

    @Slot(int, object)
    def _on_result(self, task_id: int, value: object) -> None:
        handle = self._live(task_id)
        if handle is not None and handle.on_result is not None:
            handle.on_result(value)

    @Slot(int, object)
    def _on_error(self, task_id: int, error: Exception) -> None:
        handle = self._live(task_id)
        if handle is not None and handle.on_error is not None:
            handle.on_error(error)

    @Slot(int)
    def _on_cancelled(self, task_id: int) -> None:
        handle = self._live(task_id)
        if handle is not None and handle.on_cancelled is not None:
            handle.on_cancelled()

    @Slot(int)
    def _on_finished(self, task_id: int) -> None:
        handle = self._handles.pop(task_id, None)
        self._tasks.pop(task_id, None)  # the last reference: the worker is done with it
        if handle is None:
            return
        handle.running = False
        if handle.slot is not None and self._slots.get(handle.slot) == task_id:
            del self._slots[handle.slot]
        if not handle.silenced and not self._closed and handle.on_finished is not None:
            handle.on_finished()
        if not self._tasks and not self._closed:
            self.busy_changed.emit(False)
