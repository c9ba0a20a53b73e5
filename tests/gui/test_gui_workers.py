"""The worker layer: results arrive on the GUI thread, newer work supersedes older, shutdown waits."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from desktop_app.workers import TaskRunner, UserError, describe_error


def test_results_and_progress_are_delivered_on_the_gui_thread(qtbot) -> None:
    runner = TaskRunner()
    gui = QThread.currentThread()
    seen: dict[str, object] = {}

    def job(token, progress):
        seen["worker"] = threading.get_ident()
        progress(1)
        return 42

    done = []
    runner.submit_job(job, on_progress=lambda p: seen.setdefault("progress_thread", QThread.currentThread()),
                      on_result=lambda v: done.append((v, QThread.currentThread())))
    qtbot.waitUntil(lambda: bool(done) and runner.idle)
    assert done[0][0] == 42 and done[0][1] is gui
    assert seen["progress_thread"] is gui
    assert seen["worker"] != threading.get_ident()
    runner.shutdown()


def test_errors_arrive_as_the_exception_and_describe_as_a_message(qtbot) -> None:
    runner = TaskRunner()
    errors = []

    def job(token, progress):
        raise UserError("file is empty (0 bytes)")

    runner.submit_job(job, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], UserError)  # the caller decides: its type, or the message
    assert [describe_error(e) for e in errors] == ["file is empty (0 bytes)"]
    runner.shutdown()


def test_submit_runs_a_plain_call_with_its_arguments(qtbot) -> None:
    runner = TaskRunner()
    results, errors = [], []
    runner.submit(divmod, 17, 5, on_result=results.append)
    runner.submit(divmod, 1, 0, on_error=errors.append)
    qtbot.waitUntil(lambda: runner.idle and bool(results) and bool(errors))
    assert results == [(3, 2)]
    assert isinstance(errors[0], ZeroDivisionError) and describe_error(errors[0]).startswith("ZeroDivisionError")
    runner.shutdown()


def test_a_newer_task_in_a_slot_supersedes_the_older(qtbot) -> None:
    runner = TaskRunner()
    results = []
    started = threading.Event()

    def slow(token, progress):
        started.set()
        for _ in range(500):
            token.raise_if_cancelled()
            time.sleep(0.01)
        return "stale"

    old = runner.submit_job(slow, slot="preview", on_result=results.append)
    assert started.wait(5)
    new = runner.submit(str, "fresh", slot="preview", on_result=results.append)
    qtbot.waitUntil(lambda: runner.idle, timeout=5000)
    assert results == ["fresh"]
    assert old.cancelled and old.silenced and not new.cancelled
    runner.shutdown()


def test_shutdown_cancels_and_waits(qtbot) -> None:
    runner = TaskRunner()
    stopped = threading.Event()

    def forever(token, progress):
        while not token.cancelled:
            time.sleep(0.005)
        stopped.set()

    runner.submit_job(forever)
    runner.submit_job(forever)
    time.sleep(0.05)
    assert runner.shutdown(timeout_ms=5000)
    assert stopped.is_set()
    late = runner.submit_job(forever)  # a timer firing during close must not start new work
    assert late.cancelled and not late.running
