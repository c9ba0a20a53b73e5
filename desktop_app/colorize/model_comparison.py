"""The Compare view: the selected photo colorized by every installed model, side by side.

Tiles fill in one by one, each on a worker, once the preview in flight has finished and while new
previews wait (render_scheduler.hold), so each tile's time is its model's alone. The model comes
from the shared model cache (loaded on a worker when it is not cached) and the picture from the
same preview job the main view uses, so a tile shows what that model would give this photo with
its own render size and vividness, the current saturation, and the photo's hints and reference.
Everything runs in one runner slot, so starting again (another photo, a hint, a new model) or
Cancel supersedes the tile in flight, and closing the window cancels it with the rest of the
tab's work.

Clicking a finished tile makes that model the one the photos are colorized and exported with.
The Models menu leaves models out (for this session), for when many are installed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..widgets.labels import dim
from ..workers import PRIORITY_PREVIEW, TaskRunner, describe_error
from . import jobs
from .comparison_sheet import Tile, write_sheet
from .jobs import ModelChoice, RenderOutput
from .model_cache import ModelCache
from .model_grid import ModelGrid
from .photo_queue import QueueItem
from .render_scheduler import RenderScheduler

if TYPE_CHECKING:
    from ml_core.inference.engine import ColorizeOptions, Colorizer

COMPARE_MAX_SIDE = 1024  # long side of each tile's picture: enough for a grid, quick for many models
_SLOT = "compare"
ORIGINAL_TITLE = "Original"
REPAIRED_TITLE = "Repaired"


class ComparePanel(QWidget):
    """The grid under a header line: what is being compared, progress, Cancel and Save."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = ModelGrid()
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.hint = dim(QLabel("Click a result to colorize with that model"))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.save_button = QPushButton("Save Comparison…")
        self.save_button.setToolTip("Save the pictures and their labels as one image")
        self.models_button = QToolButton()
        self.models_button.setText("Models")
        self.models_button.setToolTip("Which installed models to compare")
        self.models_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.models_menu = QMenu(self.models_button)
        self.models_button.setMenu(self.models_menu)
        header = QHBoxLayout()
        header.setContentsMargins(12, 8, 12, 0)
        header.addWidget(self.label)
        header.addWidget(self.progress)
        header.addWidget(self.cancel_button)
        header.addStretch(1)
        header.addWidget(self.hint)
        header.addWidget(self.models_button)
        header.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.grid, 1)


class ModelComparison(QObject):
    """Public API: show_item, start, cancel, stop, running, tiles, save, set_left_out; `model_picked`
    when a tile is clicked, `progress` (done, total) and `finished` as tiles fill in."""

    model_picked = Signal(str)
    progress = Signal(int, int)
    finished = Signal()
    status_message = Signal(str, int)

    def __init__(self, runner: TaskRunner, models: ModelCache, panel: ComparePanel,
                 options: Callable[[QueueItem], "ColorizeOptions"], scheduler: RenderScheduler,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._scheduler = scheduler  # held while tiles render: fair times, no waiting on a model's lock
        self._waiting_for_preview = False  # the first tile starts when the preview in flight is done
        self._models = models
        self._options = options
        self.panel = panel
        self.grid = panel.grid
        self._item: QueueItem | None = None
        self._choices: list[ModelChoice] = []
        self._tiles: list[Tile] = []
        self._key: tuple | None = None
        self._run = 0
        self._next_index = 0
        self._running = False
        self._photo: Path | None = None
        self._left_out: set[str] = set()  # models unticked in the Models menu
        self.ask_save_path: Callable[[Path], Path | None] = self._ask_save_path  # tests answer directly
        scheduler.rendering.connect(self._on_preview_rendering)
        self.grid.tile_clicked.connect(self.model_picked)
        panel.cancel_button.clicked.connect(self.cancel)
        panel.save_button.clicked.connect(self.save_dialog)
        panel.models_menu.aboutToShow.connect(self._fill_models_menu)
        self._show_header()

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self._running

    def tiles(self) -> list[Tile]:
        return list(self._tiles)

    def _key_for(self, item: QueueItem | None, choices: list[ModelChoice]) -> tuple | None:
        if item is None:
            return None
        options = self._options(item)
        return (item.id, str(item.path), item.guidance_key(), options.saturation, self._scheduler.repair_settings(),
                tuple(self._models.cache_key(c) for c in choices))

    def _compared(self) -> list[ModelChoice]:
        return [c for c in self._models.choices() if c.name not in self._left_out]

    def set_left_out(self, names: set[str]) -> None:
        """Compare every installed model but these (the Models menu); the comparison starts over."""
        self._left_out = set(names)
        if self._item is not None:
            self.show_item(self._item)

    def _fill_models_menu(self) -> None:
        menu = self.panel.models_menu
        menu.clear()
        for choice in self._models.choices():
            action = menu.addAction(f"{choice.name} ({choice.kind_label})")
            action.setCheckable(True)
            action.setChecked(choice.name not in self._left_out)
            action.toggled.connect(partial(self._toggle_model, choice.name))

    def _toggle_model(self, name: str, on: bool) -> None:
        self.set_left_out(self._left_out - {name} if on else self._left_out | {name})

    def show_item(self, item: QueueItem | None) -> None:
        """Compare on `item` unless this exact comparison is already shown (or being made)."""
        choices = self._compared()
        if self._key_for(item, choices) != self._key or (item is not None and not self._tiles):
            self.start(item)

    # ------------------------------------------------------------------ running

    def start(self, item: QueueItem | None) -> None:
        """Begin again on `item` with every installed model; the tile in flight is superseded."""
        self._runner.supersede(_SLOT)
        self._run += 1
        self._item = item
        self._choices = self._compared() if item is not None else []
        self._key = self._key_for(item, self._choices)
        same_photo = item is not None and self._photo == item.path  # keep the zoom and pan
        self._photo = item.path if item is not None else None
        gray = item.preview.gray.toImage() if item is not None and item.preview is not None else None
        repaired = self._scheduler.repair_settings() is not None
        first = Tile(REPAIRED_TITLE, "The photo repaired (Repair panel), without color", None, gray) if repaired \
            else Tile(ORIGINAL_TITLE, "The photo as it is, without color", None, gray)
        self._tiles = [first] if item else []
        self._tiles += [Tile(c.name, c.summary(), c.name, status="Waiting…") for c in self._choices]
        self.grid.set_tiles(self._tiles, keep_view=same_photo)
        self.grid.set_current(self._models.model_name)
        self.grid.set_original_size(item.preview.original_size if item is not None and item.preview else None)
        self._next_index = 1
        self._running = bool(self._choices)
        self._scheduler.hold(self._running)
        self._waiting_for_preview = self._running and self._scheduler.is_rendering()
        self._show_header()
        self._next()

    def stop(self) -> None:
        """Leaving the Compare view: work in flight is cancelled; finished tiles stay for next time."""
        if self._running:
            self.cancel()

    def cancel(self) -> None:
        if not self._running:
            return
        self._runner.supersede(_SLOT)
        self._run += 1
        self._running = False
        for i, tile in enumerate(self._tiles):
            if tile.model is not None and tile.image is None and not tile.failed:
                self._tiles[i] = dataclasses.replace(tile, status="Cancelled")
                self.grid.update_tile(i, self._tiles[i])
        self._key = None  # showing it again starts over
        self._waiting_for_preview = False
        self._scheduler.hold(False)
        self._show_header()
        self.finished.emit()

    def set_current(self, model: str | None) -> None:
        self.grid.set_current(model)

    def _on_preview_rendering(self, on: bool) -> None:
        if not on and self._waiting_for_preview:
            self._waiting_for_preview = False
            self._next()

    def _next(self) -> None:
        if not self._running or self._waiting_for_preview:
            return
        if self._next_index >= len(self._tiles):
            self._running = False
            self._scheduler.hold(False)
            self._show_header()
            self.finished.emit()
            return
        index, run = self._next_index, self._run
        choice = self._choices[index - 1]
        self._set(index, status="Loading the model…")
        self._models.load(choice, on_result=partial(self._loaded, run, index),
                          on_error=partial(self._failed, run, index), slot=_SLOT)

    def _loaded(self, run: int, index: int, colorizer: "Colorizer") -> None:
        if run != self._run or self._item is None:
            return
        self._set(index, status="Colorizing…")
        options = dataclasses.replace(self._options(self._item), work_size=None, temperature=None,
                                      output_max_side=COMPARE_MAX_SIDE)
        path = self._item.path
        repair = self._scheduler.repair_settings()  # every tile colorizes the same repaired photo
        self._runner.submit_job(lambda token, _progress: jobs.render_preview(colorizer, path, options, token, repair),
                                name="compare", slot=_SLOT, priority=PRIORITY_PREVIEW,
                                on_result=partial(self._rendered, run, index),
                                on_error=partial(self._failed, run, index))

    def _rendered(self, run: int, index: int, out: RenderOutput) -> None:
        if run != self._run:
            return
        seconds = out.seconds - out.timings.get("repair", 0.0)  # the model's own time: repair is shared
        self._set(index, image=out.color, status=f"{seconds:.2f} s", seconds=seconds)
        if self._tiles and self._tiles[0].image is None:
            self._set(0, image=out.gray)
        self.grid.set_original_size(out.original_size)
        self._advance()

    def _failed(self, run: int, index: int, error: Exception) -> None:
        if run != self._run:
            return
        self._set(index, status=f"Could not colorize: {describe_error(error)}", failed=True)
        self._advance()

    def _advance(self) -> None:
        self._next_index += 1
        self._show_header()
        self._next()

    def _set(self, index: int, **changes) -> None:
        self._tiles[index] = dataclasses.replace(self._tiles[index], **changes)
        self.grid.update_tile(index, self._tiles[index])

    def _show_header(self) -> None:
        panel = self.panel
        total = len(self._choices)
        done = sum(1 for t in self._tiles if t.model is not None and (t.done or t.failed))
        if self._item is None:
            panel.label.setText("Select a photo to compare the models on it")
        elif not total:
            panel.label.setText("No model to compare: tick some under Models" if self._models.choices()
                                else "No model is installed")
        else:
            models = f"{total} model{'s' if total != 1 else ''}"
            panel.label.setText(f"{self._item.name}: comparing {models}" if self._running
                                else f"{self._item.name}: {models} compared")
        panel.progress.setRange(0, max(1, total))
        panel.progress.setValue(done)
        panel.progress.setFormat(f"{done} of {total}")
        panel.progress.setVisible(self._running)
        panel.cancel_button.setVisible(self._running)
        panel.save_button.setEnabled(any(t.done for t in self._tiles if t.model is not None))
        self.progress.emit(done, total)

    # ------------------------------------------------------------------ saving

    def _ask_save_path(self, suggested: Path) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.panel, "Save the comparison", str(suggested),
                                              "JPEG image (*.jpg);;PNG image (*.png)")
        return Path(path) if path else None

    def save_dialog(self) -> None:
        if self._item is None:
            return
        path = self.ask_save_path(self._item.path.with_name(f"{self._item.path.stem}-models.jpg"))
        if path is not None:
            self.save(path)

    def save(self, path: Path, on_done: Callable[[Path], None] | None = None) -> None:
        """The finished tiles as one labelled image, written on a worker (atomically)."""
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            path = path.with_suffix(".jpg")
        tiles = [t for t in self._tiles if t.done]
        name = self._item.name if self._item is not None else ""

        def saved(written: Path) -> None:
            self.status_message.emit(f"Saved the comparison to {written}", 6000)
            if on_done is not None:
                on_done(written)

        self._runner.submit(write_sheet, path, tiles, name, name="save comparison", priority=PRIORITY_PREVIEW,
                            on_result=saved,
                            on_error=lambda e: self.status_message.emit(
                                f"Could not save the comparison: {describe_error(e)}", 10000))
