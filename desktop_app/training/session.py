"""One training run as the window sees it: start, pause/resume, stop, and typed Qt signals.

Signal flow (every arrow after the first is a Qt signal; nothing but the trainer computes):

    ml_core Trainer (training thread)
      └─ SignalCallbacks.on_step(...)            jobs.py: only calls progress(event)
           └─ TaskRunner progress signal          queued to the GUI thread (workers.py)
                └─ TrainingSession._on_event      here: `match` on the event type, bookkeeping,
                                                  then one typed signal
                     └─ stepped / epoch_done / started / status / ...  -> the tab's widgets

The run itself is one `jobs.run_training` task on a TaskRunner with a single, low-priority
thread; its CancelToken is what Pause/Resume/Stop act on (ml_core checks it between steps).
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ml_core.training.events import CheckpointSaved, EpochSummary, RunStart, ScanProgress, StatusMessage, StepProgress

from ..workers import PRIORITY_BACKGROUND, TaskHandle, TaskRunner, describe_error
from . import jobs
from .budget import BudgetPlan
from .jobs import TrainOutcome, TrainRequest


class State(str, Enum):
    IDLE = "idle"
    PREPARING = "preparing"  # loading the model, checking photos, speed test, color prior
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class TrainingSession(QObject):
    state_changed = Signal(str)  # State value
    status = Signal(str)  # trainer phase messages ('scanning photos', warnings...)
    scan_progress = Signal(int, int)
    budget_planned = Signal(object)  # budget.BudgetPlan
    started = Signal(object)  # ml_core.training.trainer.RunStart
    stepped = Signal(object)  # ml_core.training.trainer.StepProgress
    epoch_done = Signal(object)  # ml_core.training.trainer.EpochSummary
    checkpoint_saved = Signal(str, str)  # path, reason
    finished = Signal(object)  # jobs.TrainOutcome

    def __init__(self, runner: TaskRunner | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # One thread: a training run is one long task, and it is the only thing this pool runs.
        self.runner = runner or TaskRunner(self, max_threads=1)
        self.handle: TaskHandle | None = None
        self.state = State.IDLE
        self.request: TrainRequest | None = None
        self.run_start: RunStart | None = None
        self.last_step: StepProgress | None = None
        self.epochs: list[EpochSummary] = []
        self.base_summary: EpochSummary | None = None  # epoch 0: the starting model
        self.best_summary: EpochSummary | None = None
        self.model_path: Path | None = None  # best model saved so far in this run
        self.outcome: TrainOutcome | None = None

    # ------------------------------------------------------------------ commands

    @property
    def active(self) -> bool:
        return self.state != State.IDLE

    @property
    def run_name(self) -> str | None:
        if self.run_start is not None:
            return self.run_start.run_name
        return self.request.resume_run if self.request else None

    def start(self, request: TrainRequest) -> bool:
        if self.active or self.runner.closed:
            return False
        self.request = request
        self.run_start = self.last_step = self.base_summary = self.best_summary = None
        self.epochs = []
        self.model_path = None
        self.outcome = None
        self.handle = self.runner.submit_job(
            partial(jobs.run_training, request), name="train", slot="train", priority=PRIORITY_BACKGROUND,
            on_progress=self._on_event, on_result=self._on_outcome, on_error=self._on_error,
            on_cancelled=lambda: self._on_outcome(TrainOutcome("cancelled",
                                                               message="Stopped before training started.")),
        )
        self._set_state(State.PREPARING)
        return True

    def pause(self) -> None:
        if self.handle is not None and self.state in (State.RUNNING, State.PREPARING):
            self.handle.token.pause()
            self._set_state(State.PAUSED)

    def resume(self) -> None:
        if self.handle is not None and self.state == State.PAUSED:
            self.handle.token.resume()
            self._set_state(State.RUNNING if self.run_start is not None else State.PREPARING)

    def stop(self) -> None:
        """Stop after the current step: ml_core writes a checkpoint, the best model so far stays."""
        if self.handle is not None and self.state not in (State.IDLE, State.STOPPING):
            self.handle.cancel()  # also wakes a paused run
            self._set_state(State.STOPPING)

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Window closing: stop (the trainer checkpoints, so the run can be resumed) and wait."""
        return self.runner.shutdown(timeout_ms)

    # ------------------------------------------------------------------ delivery (GUI thread)

    def _set_state(self, state: State) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state.value)

    def _on_event(self, event: Any) -> None:
        match event:
            case StepProgress():
                self.last_step = event
                self.stepped.emit(event)
            case EpochSummary():
                # The history keeps numbers only: sample images are shown once (the receivers
                # convert what they keep), so a long run does not hold every epoch's pictures.
                kept = replace(event, samples=[])
                self.epochs.append(kept)
                if event.epoch == 0:
                    self.base_summary = kept
                if event.is_best:
                    self.best_summary = kept
                if event.model_path is not None:
                    self.model_path = Path(event.model_path)
                self.epoch_done.emit(event)
            case RunStart():
                self.run_start = event
                if self.state == State.PREPARING:
                    self._set_state(State.RUNNING)
                self.started.emit(event)
            case StatusMessage(message=message):
                self.status.emit(message)
            case ScanProgress(done=done, total=total):
                self.scan_progress.emit(done, total)
            case BudgetPlan():
                self.budget_planned.emit(event)
            case CheckpointSaved(path=path, reason=reason):
                self.checkpoint_saved.emit(str(path), reason)
            case _:
                pass  # TrainResult: the same result the job returns, handled in _on_outcome

    def _on_outcome(self, outcome: TrainOutcome) -> None:
        if outcome.result is not None and outcome.result.model_path is not None:
            self.model_path = Path(outcome.result.model_path)
        self.outcome = outcome
        self.handle = None
        self._set_state(State.IDLE)
        self.finished.emit(outcome)

    def _on_error(self, error: Exception) -> None:
        self._on_outcome(TrainOutcome("failed", kind="error", message=f"Training failed: {describe_error(error)}"))
