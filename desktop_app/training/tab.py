"""The Training tab: fine-tune a model on your own color photos and watch it learn.

Wiring only. The setup panel holds the choices; folder scans and the runs list are jobs on this
tab's TaskRunner; the training itself is a TrainingSession (its own one-thread, low-priority
runner) whose typed signals feed the progress bar, the loss plot, the metrics and the samples.
When a model is saved, `models_changed` lets the window refresh the Colorize tab's model list, and
"Try it" asks the window (`try_model`) to switch to Colorize with that model selected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ml_core.io.imageio import is_supported_path

from ..settings import AppSettings
from ..widgets import dialogs
from ..widgets.banner import ERROR, INFO, SUCCESS, Banner
from ..widgets.labels import dim
from ..workers import PRIORITY_PREVIEW, TaskRunner, describe_error
from . import jobs
from .jobs import ScanSummary, TrainOutcome, TrainRequest, describe_seconds
from .metrics_panel import MetricsPanel, gray_values, summary_values
from .plot import LossPlot
from .samples import SamplePanel
from .session import State, TrainingSession
from .setup_panel import SetupPanel

_SCAN_DEBOUNCE_MS = 350
_STEP_UI_MS = 150  # progress bar, step line and tab title follow the steps at most this often
class TrainingTab(QWidget):
    """Public API (main window, self-test, tests): add_folders, start, pause, resume, stop, set_models,
    check_interrupted, resume_run, can_accept, handle_mime, shutdown."""

    status_message = Signal(str, int)  # text, timeout in ms
    models_changed = Signal()  # a model was saved to the store
    try_model = Signal(str)  # "Try it": colorize with this model
    title_changed = Signal(str)  # the tab's title, with progress while training
    scan_finished = Signal(object)  # ScanSummary or None

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.confirm: Callable[[str, str], bool] = partial(dialogs.ask, self)  # replaceable by tests and the self-test
        self.runner = TaskRunner(self, max_threads=2)  # scans, run lists: quick jobs
        self.session = TrainingSession(parent=self)
        self.runs: list[Any] = []  # resumable RunRecords on offer
        self.saved_model: str | None = None  # the last model this tab saved (for "Try it")
        self._scanning = False
        self._activated = False
        self._eta_text = ""
        self._plan_text = ""
        self._title = ""
        self._scan_timer = QTimer(self)
        self._scan_timer.setSingleShot(True)
        self._scan_timer.setInterval(_SCAN_DEBOUNCE_MS)
        self._scan_timer.timeout.connect(self._scan)
        self._step_timer = QTimer(self)  # a tiny model can do a hundred steps a second
        self._step_timer.setSingleShot(True)
        self._step_timer.setInterval(_STEP_UI_MS)
        self._step_timer.timeout.connect(self._show_step)
        self.setAcceptDrops(True)
        self._build()
        self._connect()
        self._update_state()

    # ================================================================== construction

    def _build(self) -> None:
        self.setup = SetupPanel()
        scroll = QScrollArea()
        scroll.setWidget(self.setup)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(340)
        self.setup_scroll = scroll

        self.resume_banner = Banner(selectable=True)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the interrupted run where its last checkpoint left off")
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Delete the interrupted run's checkpoint (models are not affected)")
        self.resume_banner.buttons.addWidget(self.resume_button)
        self.resume_banner.buttons.addWidget(self.discard_button)
        self.resume_banner.close_button.setToolTip("Not now (it is offered again next time)")
        self.result_banner = Banner(selectable=True)
        self.try_button = QPushButton("Try it")
        self.try_button.setToolTip("Colorize with the new model in the Colorize tab")
        self.result_banner.buttons.addWidget(self.try_button)

        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the current step. The best model so far is kept, and the run "
                                    "can be resumed later.")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p %")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.start_button)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        controls.addSpacing(8)
        controls.addWidget(self.progress, 1)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.detail_label = dim(QLabel())
        self.detail_label.setWordWrap(True)

        self.plot = LossPlot()
        self.metrics = MetricsPanel()
        self.metrics.setMinimumWidth(330)
        self.metrics.setMaximumWidth(380)
        top = QWidget()
        top_row = QHBoxLayout(top)
        top_row.setContentsMargins(0, 0, 0, 0)
        top_row.addWidget(self.plot, 1)
        top_row.addWidget(self.metrics)
        self.samples = SamplePanel()
        self.view_splitter = QSplitter(Qt.Orientation.Vertical)
        self.view_splitter.addWidget(top)
        self.view_splitter.addWidget(self.samples)
        self.view_splitter.setStretchFactor(0, 1)
        self.view_splitter.setStretchFactor(1, 1)
        self.view_splitter.setChildrenCollapsible(False)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(8, 8, 8, 8)
        rv.addWidget(self.resume_banner)
        rv.addWidget(self.result_banner)
        rv.addLayout(controls)
        rv.addWidget(self.status_label)
        rv.addWidget(self.detail_label)
        rv.addWidget(self.view_splitter, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([380, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def _connect(self) -> None:
        s = self.setup
        s.add_folder_requested.connect(self.choose_folder)
        s.folders_changed.connect(self._schedule_scan)
        s.scan_settings_changed.connect(self._schedule_scan)
        s.split_changed.connect(self._resplit)
        s.changed.connect(self._update_state)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.try_button.clicked.connect(self._try_saved)
        self.resume_button.clicked.connect(lambda: self.runs and self.resume_run(self.runs[0].name))
        self.discard_button.clicked.connect(lambda: self.runs and self.discard_run(self.runs[0]))
        ss = self.session
        ss.state_changed.connect(lambda _: self._update_state())
        ss.status.connect(self._on_status)
        ss.scan_progress.connect(lambda d, t: self._set_status(f"Checking photos: {d} of {t}"))
        ss.budget_planned.connect(self._on_budget)
        ss.started.connect(self._on_started)
        ss.stepped.connect(self._on_step)
        ss.epoch_done.connect(self._on_epoch)
        ss.finished.connect(self._on_finished)

    # ================================================================== folders and the scan

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of color photos", self.settings.last_open_dir)
        if folder:
            self.add_folders([folder])

    def add_folders(self, paths: Iterable[Path | str]) -> bool:
        """Add folders (or photos) to train on; they are scanned in the background."""
        paths = [Path(p) for p in paths]
        if self.session.active or not paths:
            return False
        first = paths[0] if paths[0].is_dir() else paths[0].parent
        if first.is_dir():
            self.settings.last_open_dir = str(first)
        return self.setup.add_folders(paths)

    def _schedule_scan(self) -> None:
        self._scanning = bool(self.setup.folders())
        self.runner.supersede("scan")
        if self._scanning:
            self.setup.set_scanning(0, 0)
            self._scan_timer.start()
        else:
            self._scan_timer.stop()
            self.setup.set_summary(None)
        self._update_state()

    def _scan(self) -> None:
        folders = self.setup.folders()
        if not folders:
            return
        self._scanning = True
        job = partial(jobs.scan_folders, folders, self.setup.size_spin.value(), self.setup.val_fraction(), 0)
        self.runner.submit_job(job, name="scan", slot="scan", priority=PRIORITY_PREVIEW,
                               on_progress=lambda p: self.setup.set_scanning(*p),
                               on_result=self._on_scanned, on_error=self._on_scan_error)
        self._update_state()

    def _on_scanned(self, summary: ScanSummary) -> None:
        self._scanning = False
        self.setup.set_summary(summary)
        if summary.usable and not summary.blocker():
            self.status_message.emit(f"{summary.usable} usable photos for training", 4000)
        self._update_state()
        self.scan_finished.emit(summary)

    def _on_scan_error(self, error: Exception) -> None:
        self._scanning = False
        self.setup.set_summary(None, f"Could not check the photos: {describe_error(error)}")
        self._update_state()
        self.scan_finished.emit(None)

    def _resplit(self) -> None:
        summary = self.setup.summary
        if summary is None or self._scanning:
            return
        self.runner.submit(jobs.split_counts, summary.items, self.setup.val_fraction(), 0, name="split", slot="split",
                           priority=PRIORITY_PREVIEW,
                           on_result=lambda counts: (self.setup.set_split(*counts), self._update_state()))

    # ================================================================== drops

    def can_accept(self, mime: QMimeData) -> bool:
        """Folders or photos to train on."""
        if not mime.hasUrls():
            return False
        return any(u.isLocalFile() and (Path(u.toLocalFile()).is_dir() or is_supported_path(u.toLocalFile()))
                   for u in mime.urls())

    def handle_mime(self, mime: QMimeData) -> bool:
        if not self.can_accept(mime):
            return False
        if self.session.active:
            self.status_message.emit("Training is running: add photos when it has finished", 6000)
            return True
        paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
        self.add_folders([p for p in paths if p.is_dir() or is_supported_path(str(p))])
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.can_accept(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self.can_accept(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.handle_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    # ================================================================== models and runs

    def set_models(self, choices: Sequence[Any]) -> None:
        """The store's models (from the Colorize tab's list) as base-model choices."""
        self.setup.set_models(choices)
        self.activate()

    def activate(self) -> None:
        """Once: read the architectures and look for interrupted runs (both in workers)."""
        if self._activated:
            return
        self._activated = True
        self.runner.submit(jobs.architectures, name="archs", slot="archs",
                           on_result=self.setup.set_architectures,
                           on_error=lambda e: self._set_status(
                               f"Could not list the architectures: {describe_error(e)}"))
        self.check_interrupted()

    def check_interrupted(self) -> None:
        self.runner.submit(jobs.resumable_runs, name="runs", slot="runs", on_result=self._on_runs,
                           on_error=lambda e: None)

    def _on_runs(self, records: list) -> None:
        current = self.session.run_name if self.session.active else None
        had = bool(self.runs)
        self.runs = [r for r in records if r.name != current]
        if not self.runs:
            self.resume_banner.hide()
            return
        run = self.runs[0]
        when = time.strftime("%d %b %H:%M", time.localtime(run.updated))
        status = {"running": "was interrupted", "cancelled": "was stopped", "failed": "stopped with an error"}.get(
            run.status, run.status)
        others = len(self.runs) - 1
        more = f" ({others} more interrupted run{'s' if others > 1 else ''})" if others else ""
        text = (f"Training run “{run.name}” {status} at step {run.step} of {run.total_steps} "
                f"(last saved {when}). Resume it where it left off?{more}")
        if run.status == "failed" and run.message:
            text += f"\n{run.message}"
        self.resume_banner.show_message(INFO, text)
        self.resume_button.setEnabled(not self.session.active)
        if not had and not self.isVisible():
            self.status_message.emit("An interrupted training run can be resumed in the Training tab", 10000)

    def resume_run(self, name: str) -> bool:
        """Continue an interrupted run with its own settings (from its checkpoint)."""
        if self.session.active:
            return False
        self.resume_banner.hide()
        self.result_banner.hide()
        self._reset_views(fine_tune=False)
        self._plan_text = ""
        ok = self.session.start(TrainRequest(resume_run=name))
        if ok:
            self._set_status(f"Resuming “{name}”…")
        return ok

    def discard_run(self, record: Any) -> None:
        if not self.confirm("Discard the interrupted run?",
                            f"The checkpoint of “{record.name}” will be deleted, so it cannot be resumed. "
                            "Models in your model list are not affected."):
            return
        self.runner.submit(jobs.discard_run, record.path, name="discard",
                           on_result=lambda name: (self.status_message.emit(f"Discarded run “{name}”", 4000),
                                                   self.check_interrupted()),
                           on_error=lambda e: self.status_message.emit(
                               f"Could not discard the run: {describe_error(e)}", 8000))

    # ================================================================== start, pause, stop

    def start_problem(self) -> str:
        """Why Start is not possible right now ('' when it is)."""
        if self.session.active:
            return "Training is running."
        if not self.setup.folders():
            return "Add a folder of your color photos to start."
        if self._scanning or self.setup.summary is None:
            return "Checking the photos…" if self._scanning else "The photos could not be checked."
        blocker = self.setup.summary.blocker()
        if blocker:
            return blocker
        return self.setup.settings_problem()

    def start(self) -> bool:
        problem = self.start_problem()
        if problem:
            self._set_status(problem)
            self.status_message.emit(problem, 6000)
            return False
        request = self.setup.request()
        self.result_banner.hide()
        self._reset_views(fine_tune=request.fine_tune)
        self._plan_text = ""
        if not self.session.start(request):
            return False
        what = f"Fine-tuning {request.base}" if request.fine_tune else f"Training a new {request.arch} model"
        self._set_status(f"{what}: getting ready…")
        return True

    def toggle_pause(self) -> None:
        if self.session.state == State.PAUSED:
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        self.session.pause()
        if self.session.state == State.PAUSED:
            self._set_status("Paused. Resume to continue from the same step; the CPU is free meanwhile.")

    def resume(self) -> None:
        self.session.resume()

    def stop(self) -> None:
        if self.session.active:
            self.session.stop()
            self._set_status("Stopping after this step and saving a checkpoint…")

    # ================================================================== training events

    def _reset_views(self, fine_tune: bool) -> None:
        self.plot.clear()
        self.samples.clear()
        self.metrics.reset(fine_tune=fine_tune)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.detail_label.setText("")
        self._eta_text = ""

    def _on_status(self, message: str) -> None:
        if self.session.state in (State.PREPARING, State.RUNNING):
            text = message[:1].upper() + message[1:]
            self._set_status(text + ("…" if not message.startswith("warning") else ""))

    def _on_budget(self, plan: Any) -> None:
        self._plan_text = (f"Steps planned for about {plan.minutes:g} min from a speed test on this computer "
                           f"({plan.photos_per_second:.1f} photos/s; an estimate)")
        self._set_status(plan.describe() + ".")

    def _on_started(self, info: Any) -> None:
        self.progress.setRange(0, max(1, info.total_steps))
        self.progress.setValue(info.start_step)
        if info.resumed:
            self.plot.set_resumed_at(info.start_step)
        action = "Resuming" if info.resumed else ("Fine-tuning" if self.metrics.fine_tune else "Training")
        spe = (f"{info.epochs} epoch{'s' if info.epochs != 1 else ''} of {info.steps_per_epoch} "
               f"step{'s' if info.steps_per_epoch != 1 else ''}")
        self._set_status(f"{action} → “{info.model_name}”: {info.train_images} training photos, "
                         f"{info.val_images} for validation; {info.total_steps} steps ({spe}), batch "
                         f"{info.batch_size}, {info.image_size} px."
                         + (f" {self._plan_text}." if self._plan_text else ""))
        self.detail_label.setText("Starting…")
        self._update_title()

    def _on_step(self, p: Any) -> None:
        self.plot.add_step(p.step, p.plain_loss)  # every point is kept; the plot redraws on its own timer
        if not self._step_timer.isActive():
            self._step_timer.start()

    def _show_step(self) -> None:
        p = self.session.last_step
        if p is None or not self.session.active:
            return
        self.progress.setValue(p.step)
        self._eta_text = describe_seconds(p.eta_seconds)
        self.detail_label.setText(
            f"Epoch {p.epoch} of {p.epochs} · step {p.step} of {p.total_steps} · loss {p.plain_loss:.4f} · "
            f"{p.images_per_second:.1f} photos/s · about {self._eta_text} left")
        self._update_title()

    def _on_epoch(self, e: Any) -> None:
        self.plot.add_validation(e.step, e.val_plain_loss)
        values = summary_values(e)
        if e.epoch == 0:
            self.metrics.set_base(values)
            self.samples.set_before(e.samples)
            self.samples.set_samples(0, e.epochs, e.samples)
            return
        if not self.metrics.values["base"]:
            self.metrics.set_base(gray_values(e))
        self.metrics.set_latest(values)
        if e.is_best:
            self.metrics.set_best(values, e.epoch)
        self.samples.set_samples(e.epoch, e.epochs, e.samples)

    def _on_finished(self, outcome: TrainOutcome) -> None:
        self._step_timer.stop()
        result = outcome.result
        model_path = self.session.model_path
        name = Path(model_path).stem if model_path is not None else None
        self.saved_model = name
        self.progress.setValue(result.steps_completed if result is not None else self.progress.value())
        if outcome.status == "completed" and name:
            best = self.session.best_summary
            which = f"its best epoch ({best.epoch} of {result.epochs_completed})" if best else "it"
            text = (f"Done: “{name}” is saved in your models as {which}{self._metrics_sentence()}. "
                    "It is already in the Colorize tab's model list." + self._not_better_sentence())
            self.result_banner.show_message(SUCCESS, text)
            self._set_status(f"Finished in {describe_seconds(result.seconds)}.")
        elif outcome.status == "cancelled" and name:
            best = self.session.best_summary
            text = (f"Stopped at step {result.steps_completed} of {result.total_steps}. The best model so far"
                    f"{f' (epoch {best.epoch})' if best else ''} is saved as “{name}”{self._metrics_sentence()}. "
                    "The run can be resumed later." + self._not_better_sentence())
            self.result_banner.show_message(SUCCESS, text)
            self._set_status("Stopped.")
        elif outcome.status == "cancelled" and (result is None or not result.steps_completed):
            self.result_banner.show_message(INFO, "Stopped before training began. Nothing was changed.")
            self._set_status("Stopped.")
        elif outcome.status == "cancelled":
            self.result_banner.show_message(INFO, (
                f"Stopped at step {result.steps_completed}, before the first epoch ended, so no new model was saved "
                "(a model is saved at the end of each epoch). Your models are unchanged, and the run can be resumed."))
            self._set_status("Stopped.")
        else:
            kept = f" The best model from before the problem is kept as “{name}”." if name else ""
            self.result_banner.show_message(ERROR, outcome.message + kept)
            self._set_status("Training stopped with a problem.")
        self.try_button.setVisible(bool(name))
        self.try_button.setEnabled(bool(name))
        self.detail_label.setText("")
        self.status_message.emit(self.result_banner.label.text().split("\n")[0], 10000)
        if name:
            self.models_changed.emit()
        self._update_title()
        self.check_interrupted()

    def _metrics_sentence(self) -> str:
        best, base = self.session.best_summary, self.session.base_summary
        if best is None or not best.metrics:
            return ""
        psnr = best.metrics.get("psnr")
        if psnr is None:
            return ""
        if base is not None and base.metrics.get("psnr") is not None:
            return f" (PSNR {psnr:.2f} dB, base model {base.metrics['psnr']:.2f} dB)"
        return f" (PSNR {psnr:.2f} dB)"

    def _not_better_sentence(self) -> str:
        """Said plainly when no epoch beat the starting model on the validation photos."""
        best, base = self.session.best_summary, self.session.base_summary
        if best is None or base is None or best.val_loss is None or base.val_loss is None:
            return ""
        if best.val_loss < base.val_loss:
            return ""
        return (f"\nNote: it did not beat the base model on the validation photos (loss {best.val_loss:.4f} vs "
                f"{base.val_loss:.4f}). Keep using the base, or try more photos or a lower learning rate.")

    def _try_saved(self) -> None:
        if self.saved_model:
            self.try_model.emit(self.saved_model)

    # ================================================================== state

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def _update_state(self, *args) -> None:
        state = self.session.state
        active = state != State.IDLE
        problem = self.start_problem()
        self.start_button.setEnabled(not problem)
        self.start_button.setToolTip(problem or "Start training with these photos and settings")
        self.pause_button.setEnabled(state in (State.RUNNING, State.PREPARING, State.PAUSED))
        self.pause_button.setText("Resume" if state == State.PAUSED else "Pause")
        self.pause_button.setToolTip("Continue training" if state == State.PAUSED
                                     else "Pause between two steps (frees the CPU; nothing is lost)")
        self.stop_button.setEnabled(active and state != State.STOPPING)
        self.setup.set_locked(active)
        self.resume_button.setEnabled(not active)
        if not active and problem and problem != "Training is running.":
            self._set_status(problem)
        elif not active and self.result_banner.isHidden() and self.setup.summary is not None:
            r = self.setup.request()
            what = f"fine-tune “{r.base}”" if r.fine_tune else f"train a new {r.arch} model"
            length = f"about {r.minutes:g} minutes" if r.minutes else f"{r.epochs} epoch{'s' if r.epochs != 1 else ''}"
            self._set_status(f"Ready to {what} on {r.train_images} photos for {length}.")
        self._update_title()

    def _update_title(self) -> None:
        state = self.session.state
        if state == State.PAUSED:
            title = "Training · paused"
        elif state == State.STOPPING:
            title = "Training · stopping"
        elif state == State.PREPARING:
            title = "Training · preparing"
        elif state == State.RUNNING and self.progress.maximum() > 1:
            title = f"Training · {100 * self.progress.value() // self.progress.maximum()} %"  # as the bar shows it
        else:
            title = "Training"
        if title != self._title:
            self._title = title
            self.title_changed.emit(title)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.activate()

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop training (ml_core writes a checkpoint, so the run is offered next time) and wait."""
        self._scan_timer.stop()
        done = self.session.shutdown(timeout_ms)
        return self.runner.shutdown(timeout_ms) and done
