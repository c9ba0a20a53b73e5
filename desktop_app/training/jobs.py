"""The Training tab's worker jobs: thin calls into ml_core, run through `workers.TaskRunner`.

Functions that follow cancellation or report progress have the runner's job shape
`fn(..., token, progress)` (bound with functools.partial, run by `submit_job`); the rest are
plain calls (`submit(fn, *args)`). All return plain data. No training logic lives here: the
trainer is ml_core's `Trainer`, the folder scan is ml_core's `scan_photos` (the same call the
trainer makes, so its cache makes the trainer's own scan instant), and the split is ml_core's
`split_photos`.

`SignalCallbacks` is the bridge: ml_core's `EventCallbacks`, whose every method only hands one
typed event (ml_core.training.events) to `progress`, which emits the runner's queued Qt signal; the
GUI thread dispatches it with `match` into the session's typed signals (see session.py). Heavy
modules (torch) are imported inside the jobs so the window appears before torch loads.
"""

from __future__ import annotations

import errno
import math
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, QThread
from PySide6.QtGui import QImage

from ml_core.cancel import Cancelled, CancelToken
from ml_core.training.config import TrainConfig
from ml_core.training.events import EventCallbacks, ScanProgress, StatusMessage

from .. import imaging
from ..workers import Progress
from .budget import BudgetPlan, SpeedSample, make_plan

if TYPE_CHECKING:
    from ml_core.training.checkpoint import RunRecord
    from ml_core.training.data import PhotoItem
    from ml_core.training.events import TrainResult

THUMBNAILS = 24  # photos shown in the setup panel's strip
THUMB_BOX = QSize(176, 120)  # device pixels (2× the strip's cell)
MAX_VAL_IMAGES = TrainConfig.max_val_images  # the trainer's cap; the summary shows the same split
PROBE_STEPS = 5  # the time budget's speed test: steps timed (the first two are warm-up)
PROBE_VAL_IMAGES = 16
PROBE_PREFIX = ".speed-test-"  # run folders of speed tests (removed right after; never offered for resume)
TRAINING_NICENESS = 5  # the training thread yields the CPU to the window and to colorizing


def training_threads() -> int:
    """Torch threads for training: every core but one, so the window always has one to itself."""
    cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


def worker_processes() -> int | None:
    """Helper processes for the scan and the data loader: none on a 2-core machine (they would
    fight the window for the CPU), else ml_core's automatic choice, spawned rather than forked
    because the GUI process has threads."""
    return 0 if (os.cpu_count() or 1) <= 2 else None


# --------------------------------------------------------------------------- requests and events


@dataclass
class TrainRequest:
    """What the person chose in the setup panel (or a run to resume)."""

    folders: list[str] = field(default_factory=list)
    base: str | None = None  # store name to fine-tune
    arch: str | None = None  # or an architecture to train from scratch
    arch_config: dict[str, Any] = field(default_factory=dict)
    epochs: int | None = 5
    minutes: float | None = None  # a time budget instead of epochs
    steps: int | None = None  # explicit steps (tests, scripts); wins over epochs
    batch_size: int = 16
    lr: float | None = None  # None: ml_core's default (lower when fine-tuning)
    size: int = 128
    val_fraction: float = 0.1
    freeze_encoder: bool = False
    name: str = "my-model"
    seed: int = 0
    threads: int | None = None  # None: training_threads()
    preview_count: int = 4
    resume_run: str | None = None  # continue this interrupted run instead (settings come from it)
    train_images: int = 0  # from the scan summary: lets the time budget count steps per epoch
    val_images: int = 0

    @property
    def fine_tune(self) -> bool:
        return bool(self.base)

    def config(self, **overrides: Any) -> TrainConfig:
        cfg = TrainConfig(
            data=[str(f) for f in self.folders], base=self.base, arch=self.arch, arch_config=dict(self.arch_config),
            epochs=None if self.steps else self.epochs, steps=self.steps, batch_size=self.batch_size, lr=self.lr,
            size=self.size, val_fraction=self.val_fraction, freeze_encoder=self.freeze_encoder, name=self.name,
            seed=self.seed, threads=self.threads or training_threads(), workers=worker_processes(), mp_context="spawn",
            preview_count=self.preview_count,
        )
        return replace(cfg, **overrides)


class SignalCallbacks(EventCallbacks):
    """The trainer's callbacks for the window: each call only emits one typed event.

    `emit` is the worker's progress function (TaskRunner: a queued signal to the GUI thread). The
    events (ml_core.training.events, plus this tab's BudgetPlan) are plain numbers and fresh numpy
    arrays that the trainer never touches again, so handing them across threads is safe.
    """


@dataclass
class TrainOutcome:
    """How a training job ended. Errors the person can act on come back here, not as exceptions."""

    status: str  # completed | cancelled | failed
    result: "TrainResult | None" = None
    kind: str = ""  # for failures: settings | no_photos | diverged | disk_full
    message: str = ""
    plan: BudgetPlan | None = None


# --------------------------------------------------------------------------- the training job


def _lower_priority() -> None:
    """Training is background work: let the window and the Colorize tab win any fight for the CPU.

    Linux has per-thread nice values (the thread's id goes where a process id would); elsewhere
    Qt's thread priority maps to the platform's.
    """
    QThread.currentThread().setPriority(QThread.Priority.LowPriority)
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            if os.getpriority(os.PRIO_PROCESS, tid) < TRAINING_NICENESS:
                os.setpriority(os.PRIO_PROCESS, tid, TRAINING_NICENESS)
        except OSError:
            pass


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    text = str(exc).lower()
    return "no space left" in text or "file write failed" in text  # torch.save's wording


def run_training(request: TrainRequest, token: CancelToken, progress: Progress) -> TrainOutcome:
    """Train (or resume) with ml_core's Trainer; callbacks become Qt signals through `progress`."""
    from ml_core.training.checkpoint import CheckpointError
    from ml_core.training.config import NotEnoughPhotos, TrainError
    from ml_core.training.trainer import Trainer, TrainingDiverged

    _lower_priority()
    callbacks = SignalCallbacks(progress)
    plan: BudgetPlan | None = None
    try:
        if request.resume_run:
            trainer = Trainer.for_run(request.resume_run, callbacks, token,
                                      threads=request.threads or training_threads(), workers=worker_processes(),
                                      mp_context="spawn")
        else:
            config = request.config()
            config.check()  # bad settings are reported before the speed test, not after it
            if request.minutes and not request.steps:
                plan = plan_time_budget(request, token, progress)
                if plan is None:
                    return TrainOutcome("cancelled", message="Stopped before training started.")
                progress(plan)
                config.steps, config.epochs = plan.steps, None
            trainer = Trainer(config, callbacks, token)
        result = trainer.run()
    except TrainingDiverged as exc:
        return TrainOutcome("failed", kind="diverged", plan=plan, message=(
            f"Training stopped: {exc} Your base model and earlier models are unchanged."))
    except NotEnoughPhotos as exc:
        return TrainOutcome("failed", kind="no_photos", plan=plan, message=f"Training could not run: {exc}")
    except (TrainError, CheckpointError) as exc:
        return TrainOutcome("failed", kind="settings", plan=plan, message=f"Training could not run: {exc}")
    except Exception as exc:
        if _is_disk_full(exc):
            return TrainOutcome("failed", kind="disk_full", plan=plan, message=(
                "The disk is full, so training stopped while saving. Free some space, then resume the run: "
                "files are written whole or not at all, so your models and the last checkpoint are intact."
                f" ({exc})"))
        raise
    return TrainOutcome(result.status, result=result, plan=plan)


# --------------------------------------------------------------------------- time budget


class _SpeedRecorder:
    """Callbacks of the speed test: times steps and the validation, follows the real token."""

    def __init__(self, outer: CancelToken, inner: CancelToken, emit: Progress, steps: int) -> None:
        self.outer, self.inner, self.emit, self.steps = outer, inner, emit, steps
        self.t0 = time.perf_counter()
        self.setup_seconds: float | None = None
        self.batch = 1
        self.step_seconds: list[float] = []
        self.val_per_photo = 0.0

    def _follow(self) -> None:
        try:
            self.outer.checkpoint()  # pausing the window pauses the speed test too
        except Cancelled:
            self.inner.cancel()

    def on_scan(self, done: int, total: int) -> None:
        self.emit(ScanProgress(done, total))
        self._follow()

    def on_start(self, info: Any) -> None:
        self.setup_seconds = time.perf_counter() - self.t0
        self.batch = max(1, int(info.batch_size))

    def on_step(self, p: Any) -> None:
        if p.images_per_second > 0:
            self.step_seconds.append(self.batch / p.images_per_second)
        if p.step >= self.steps:
            self.inner.cancel()
        self._follow()

    def on_epoch(self, e: Any) -> None:
        if e.epoch == 0:
            self.val_per_photo = e.seconds / max(1, int(e.metrics.get("images", 0) or 0))
        self._follow()


def measure_speed(request: TrainRequest, token: CancelToken, progress: Progress) -> SpeedSample | None:
    """A few real steps (and a small validation) through ml_core's Trainer, into a throw-away run.

    Returns None when the person stopped it. The speed test's model file lives in a temporary
    folder and its run folder is deleted, so it never shows up as a model or a resumable run.
    """
    from ml_core.training.checkpoint import run_dir
    from ml_core.training.trainer import Trainer

    inner = CancelToken()
    recorder = _SpeedRecorder(token, inner, progress, PROBE_STEPS)
    run_name = f"{PROBE_PREFIX}{secrets.token_hex(4)}"
    progress(StatusMessage("measuring this computer's training speed (a few steps)"))
    try:
        with tempfile.TemporaryDirectory(prefix="chroma-speed-test-") as tmp:
            config = request.config(
                steps=PROBE_STEPS + 1, epochs=None, validate_first=request.val_fraction > 0,
                max_val_images=PROBE_VAL_IMAGES, preview_count=0, prior_images=32, name="speed-test",
                output=str(Path(tmp) / "speed-test.safetensors"), run_name=run_name,
            )
            Trainer(config, recorder, inner).run()
    finally:
        shutil.rmtree(run_dir(run_name), ignore_errors=True)
    if token.cancelled or not recorder.step_seconds:
        return None
    timed = recorder.step_seconds[2:] or recorder.step_seconds
    return SpeedSample(seconds_per_step=statistics.median(timed), validation_seconds_per_photo=recorder.val_per_photo,
                       setup_seconds=recorder.setup_seconds or 0.0, probe_seconds=time.perf_counter() - recorder.t0)


def plan_time_budget(request: TrainRequest, token: CancelToken, progress: Progress) -> BudgetPlan | None:
    sample = measure_speed(request, token, progress)
    if sample is None:
        return None
    return make_plan(float(request.minutes or 0), sample, request.train_images, request.val_images,
                     request.batch_size, request.fine_tune)


# --------------------------------------------------------------------------- the folder scan


@dataclass
class ScanSummary:
    """What the setup panel shows about the chosen folders (all counts from ml_core's scan)."""

    folders: list[str]
    size: int
    usable: int
    skipped: list[tuple[str, int]]  # (reason label, count), only reasons that occurred
    skipped_examples: list[tuple[str, str]]  # (path, "reason: detail") for a tooltip
    problems: list[str]  # inputs that do not exist...
    items: list["PhotoItem"]  # the usable photos, for re-splitting when the fraction changes
    train: int
    val: int
    thumbnails: list[tuple[str, QImage]]
    seconds: float

    @property
    def skipped_total(self) -> int:
        return sum(n for _, n in self.skipped)

    def blocker(self) -> str:
        """Why training cannot start with these photos ('' when it can)."""
        skipped = ", ".join(f"{n} {label}" for label, n in self.skipped)
        if self.usable == 0:
            why = f" Skipped: {skipped}." if skipped else " The folder has no photos."
            return ("No usable photos here: Chroma learns colors from color photos, and none were found."
                    + why)
        if self.train < 2:
            return (f"Only {self.usable} usable photo{'s' if self.usable != 1 else ''}: training needs at least 2 "
                    "(plus some to check the result). Add more color photos.")
        return ""


def split_counts(items: Sequence["PhotoItem"], val_fraction: float, seed: int = 0) -> tuple[int, int]:
    """(training, validation) photo counts exactly as the trainer will split them."""
    from ml_core.training.data import split_photos

    train, val = split_photos(items, val_fraction, seed)
    if len(val) > MAX_VAL_IMAGES:  # the trainer validates on a capped subset and trains on the rest
        return len(train) + len(val) - MAX_VAL_IMAGES, MAX_VAL_IMAGES
    return len(train), len(val)


def _thumbnail(item: "PhotoItem") -> QImage | None:
    import numpy as np

    try:
        pixels = np.load(item.thumb, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return imaging.thumbnail(imaging.borrowed_qimage(pixels), THUMB_BOX)


def scan_folders(folders: Sequence[str], size: int, val_fraction: float, seed: int, token: CancelToken,
                 progress: Progress) -> ScanSummary:
    """ml_core's scan of the folders (recursive, cached), the split, and a few thumbnails."""
    from ml_core.training.data import REASON_LABELS, REASONS, scan_photos

    photos = scan_photos(list(folders), size, workers=worker_processes(), progress=lambda d, t: progress((d, t)),
                         cancel=token, mp_context="spawn")
    train, val = split_counts(photos.items, val_fraction, seed)
    skipped = [(REASON_LABELS.get(r, r), photos.skipped.get(r, 0)) for r in REASONS if photos.skipped.get(r, 0)]
    examples = [(path, f"{REASON_LABELS.get(reason, reason)}: {detail}" if detail
                 else REASON_LABELS.get(reason, reason))
                for path, reason, detail in photos.skipped_files[:40]]
    thumbs: list[tuple[str, QImage]] = []
    n = len(photos.items)
    if n:
        count = min(THUMBNAILS, n)  # spread over the whole set, so every folder shows up
        for i in sorted({round(k * (n - 1) / max(1, count - 1)) for k in range(count)}):
            token.raise_if_cancelled()
            image = _thumbnail(photos.items[i])
            if image is not None:
                thumbs.append((photos.items[i].rel, image))
    return ScanSummary(folders=list(folders), size=size, usable=n, skipped=skipped, skipped_examples=examples,
                       problems=[f"{p}: {r}" for p, r in photos.problems], items=list(photos.items), train=train,
                       val=val, thumbnails=thumbs, seconds=photos.seconds)


# --------------------------------------------------------------------------- runs and architectures


def resumable_runs() -> list["RunRecord"]:
    """Interrupted runs (closed, crashed, stopped), most recent first.

    Read through ml_core.training.checkpoint, not ml_core.training.trainer: this runs at start-up, beside the first
    preview, and importing the trainer (data, metrics, scipy, skimage: ~0.7 s holding the GIL)
    would delay that preview for a list that is only read.
    """
    from ml_core.training.checkpoint import list_runs

    return [r for r in list_runs() if r.resumable and not r.name.startswith(PROBE_PREFIX)]


def discard_run(path: Path) -> str:
    """Delete an interrupted run's folder (checkpoint and run.json); models are not touched."""
    from ml_core.io.paths import runs_dir

    path = Path(path)
    if path.resolve().parent != runs_dir().resolve():
        raise ValueError(f"{path} is not a training run folder")
    shutil.rmtree(path)
    return path.name


def architectures() -> list[tuple[str, str]]:
    """(name, one-line description) of every architecture ml_core can train from scratch."""
    from ml_core.models import families

    return families()


def describe_seconds(seconds: float) -> str:
    """'about 3 min', '40 s' — for ETAs."""
    if not math.isfinite(seconds) or seconds < 0:
        return "—"
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{round(minutes)} min"
    return f"{minutes / 60:.1f} h"
