"""What a training run tells its caller while it runs: payloads, callbacks and typed events.

Torch-free (numpy only), so a window can import and dispatch on these without loading torch.
Two ways to listen, same information:
- `TrainCallbacks`: override the methods you need (the CLI's progress bar, tests);
- `EventCallbacks(emit)`: every callback becomes one event object, one of the `TrainEvent`
  types, handed to `emit`; a GUI forwards it to its UI thread and dispatches with `match`.
Callbacks run on the training thread, rank 0 only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

__all__ = [
    "CheckpointSaved", "EpochSummary", "EventCallbacks", "RunStart", "SampleTriplet", "ScanProgress",
    "StatusMessage", "StepProgress", "TrainCallbacks", "TrainEvent", "TrainResult",
]


@dataclass
class RunStart:
    run_name: str
    run_dir: Path
    model_name: str
    output_path: Path
    resumed: bool
    arch: str
    parameters: int
    trainable_parameters: int
    image_size: int
    batch_size: int  # per process
    world_size: int
    device: str
    epochs: int
    steps_per_epoch: int
    total_steps: int
    start_step: int
    train_images: int
    val_images: int
    data: dict[str, Any]  # PhotoSet.summary(): folders, usable, skipped by reason, problems...


@dataclass
class StepProgress:
    step: int  # optimizer steps completed (global, 1-based after the first step)
    total_steps: int
    epoch: int  # 1-based
    epochs: int
    batch: int  # batches completed in this epoch
    batches: int  # batches in this epoch
    loss: float  # this step's training loss (mean over processes)
    lr: float
    images_per_second: float  # all processes together
    elapsed: float  # seconds of training so far (pauses excluded, earlier sessions included)
    eta_seconds: float
    # The same loss without class rebalancing (= loss for models without it). Rebalancing weights
    # come from the training photos' colors, so the rebalanced loss of photos with other colors
    # (the validation photos) is on another scale; this one is comparable with val_plain_loss.
    plain_loss: float


@dataclass
class SampleTriplet:
    name: str  # the photo's path relative to its folder
    gray: np.ndarray  # H×W×3 uint8: what the model sees
    prediction: np.ndarray  # H×W×3 uint8
    truth: np.ndarray  # H×W×3 uint8


@dataclass
class EpochSummary:
    epoch: int  # 1-based; 0 = the starting model before training
    epochs: int
    step: int
    total_steps: int
    train_loss: float | None
    val_loss: float | None
    metrics: dict[str, float]  # psnr, auc, auc_rebalanced, ab_mse, colorfulness_ratio, gray_* ...
    is_best: bool
    best_epoch: int | None
    best_value: float | None
    select_metric: str
    samples: list[SampleTriplet]
    seconds: float  # this epoch's wall time (training + validation)
    elapsed: float
    eta_seconds: float
    model_path: Path | None  # where the best model is (None until one is saved)
    checkpoint_path: Path | None
    val_plain_loss: float | None  # validation loss without class rebalancing (see StepProgress)


@dataclass
class TrainResult:
    status: str  # "completed" | "cancelled"
    model_name: str
    model_path: Path | None  # the best model file (None if no epoch finished)
    card_path: Path | None
    run_name: str
    run_dir: Path
    checkpoint_path: Path | None
    epochs_completed: int
    steps_completed: int
    total_steps: int
    best_epoch: int | None
    best_value: float | None
    select_metric: str
    metrics: dict[str, float]  # validation metrics of the best model
    history: list[dict[str, Any]]  # one row per epoch (epoch, step, train_loss, val_loss, metrics...)
    seconds: float
    is_main: bool = True  # False on the other ranks of a multi-process run (they should stay quiet)


class TrainCallbacks:
    """Override what you need; every method is optional. Called on the training thread, rank 0 only."""

    def on_status(self, message: str) -> None:
        """Phase changes: 'scanning photos', 'estimating the color prior', warnings..."""

    def on_scan(self, done: int, total: int) -> None:
        """Photo scan progress (decoding happens only for photos not in the cache)."""

    def on_start(self, info: RunStart) -> None:
        """Everything is set up; training starts (or continues) now."""

    def on_step(self, progress: StepProgress) -> None:
        """After every optimizer step."""

    def on_epoch(self, summary: EpochSummary) -> None:
        """After every epoch's validation (and once for epoch 0 when the starting model is validated)."""

    def on_checkpoint(self, path: Path, reason: str) -> None:
        """A checkpoint was written; reason is 'epoch' or 'cancel'."""

    def on_finish(self, result: TrainResult) -> None:
        """The run ended normally or by cancel (errors raise from run() instead)."""


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class StatusMessage:
    """A phase change or warning: 'scanning photos', 'warning: a.jpg: corrupt'..."""

    message: str


@dataclass(frozen=True)
class ScanProgress:
    """Photo scan progress: `done` of `total` photos looked at."""

    done: int
    total: int


@dataclass(frozen=True)
class CheckpointSaved:
    """A checkpoint was written; reason is 'epoch' or 'cancel'."""

    path: Path
    reason: str


# One callback as an object: RunStart, StepProgress, EpochSummary and TrainResult are their own events.
TrainEvent = Union[StatusMessage, ScanProgress, RunStart, StepProgress, EpochSummary, CheckpointSaved, TrainResult]


class EventCallbacks(TrainCallbacks):
    """TrainCallbacks that turn every call into one TrainEvent handed to `emit`.

    The payloads are plain numbers and fresh numpy arrays that the trainer never touches again,
    so `emit` may hand them to another thread.
    """

    def __init__(self, emit: Callable[[TrainEvent], Any]) -> None:
        self.emit = emit

    def on_status(self, message: str) -> None:
        self.emit(StatusMessage(str(message)))

    def on_scan(self, done: int, total: int) -> None:
        self.emit(ScanProgress(int(done), int(total)))

    def on_start(self, info: RunStart) -> None:
        self.emit(info)

    def on_step(self, progress: StepProgress) -> None:
        self.emit(progress)

    def on_epoch(self, summary: EpochSummary) -> None:
        self.emit(summary)

    def on_checkpoint(self, path: Path, reason: str) -> None:
        self.emit(CheckpointSaved(Path(path), str(reason)))

    def on_finish(self, result: TrainResult) -> None:
        self.emit(result)
