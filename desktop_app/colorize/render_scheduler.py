"""Decides what to colorize next and runs it through the workers; the tab only shows the outcome.

Rules, in order of what the person notices:

* The selected photo comes first. If its preview is missing or was made with other settings or
  another model, it is rendered now, and a background render of another photo is cancelled for
  it (that photo goes back to waiting). A settings change supersedes an in-flight preview of the
  same photo, so dragging a slider never queues stale work.
* Otherwise photos still waiting are colorized one after another in the background (the model
  is shared and locked, so one render at a time is as fast as it gets on a laptop CPU).
  Finished photos are not redone when settings change; they are refreshed when selected, and
  export always renders at full resolution with the current settings.
* Which model renders is the model cache's business (model_cache.ModelCache); a switch of model
  abandons the render in flight, and the model becoming ready starts the next decision.
* A photo's own hints and reference photo are part of its render key, so a hint edit is just
  another settings change for that one photo: it supersedes the in-flight preview of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from ..workers import PRIORITY_BACKGROUND, PRIORITY_PREVIEW, PRIORITY_THUMBNAIL, TaskHandle, TaskRunner, describe_error
from . import jobs
from .jobs import RenderOutput
from .model_cache import ModelCache
from .photo_queue import ItemState, Preview, QueueItem, QueueModel

if TYPE_CHECKING:
    from ml_core.inference.engine import ColorizeOptions, Colorizer
    from ml_core.repair import RepairSettings


@dataclass(frozen=True)
class Adjustments:
    work_size: int | None
    saturation: float
    temperature: float
    repair: "RepairSettings | None" = None  # None: no repair tool is on


class RenderScheduler(QObject):
    """Public API: add_items, remove_items, set_selected, settings_changed, hints_changed,
    is_rendering, render_key, colorize_options, colorizer, preview_max_side, hold."""

    item_updated = Signal(int)
    preview_ready = Signal(int)
    item_failed = Signal(int, str)
    rendering = Signal(bool)

    def __init__(self, runner: TaskRunner, queue: QueueModel, models: ModelCache,
                 adjustments: Callable[[], Adjustments], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._queue = queue
        self._models = models
        self._adjustments = adjustments
        self._selected_id: int | None = None
        self._render: tuple[TaskHandle, int, tuple] | None = None  # (handle, item id, key)
        self._held = False
        self.preview_max_side = jobs.PREVIEW_MAX_SIDE
        self._pump_timer = QTimer(self)
        self._pump_timer.setSingleShot(True)
        self._pump_timer.setInterval(0)
        self._pump_timer.timeout.connect(self._pump)
        models.selected_changed.connect(self._abandon_render)
        models.ready.connect(self.schedule)

    @property
    def colorizer(self) -> "Colorizer | None":
        """The colorizer previews are rendered with (the selected model's, once loaded)."""
        return self._models.colorizer

    # ------------------------------------------------------------------ queue

    def add_items(self, items: list[QueueItem]) -> None:
        for item in items:
            if item.state == ItemState.FAILED:
                continue
            path = item.path
            self._runner.submit(jobs.make_thumbnail, path, name="thumbnail",
                                priority=PRIORITY_THUMBNAIL, on_result=partial(self._on_thumb, item.id),
                                on_error=partial(self._on_thumb_error, item.id))
        self.schedule()

    def remove_items(self, item_ids: set[int]) -> None:
        if self._render is not None and self._render[1] in item_ids:
            self._abandon_render()
        if self._selected_id in item_ids:
            self._selected_id = None
        self._queue.remove(item_ids)
        self.schedule()

    def set_selected(self, item_id: int | None) -> None:
        self._selected_id = item_id
        self.schedule()

    def settings_changed(self) -> None:
        self.schedule()

    def is_rendering(self, item_id: int | None = None) -> bool:
        return self._render is not None and (item_id is None or self._render[1] == item_id)

    def hold(self, on: bool) -> None:
        """While held, no new preview starts (the one in flight finishes: `rendering(False)` says
        when). The Compare view renders its tiles alone, so each tile's time is that model's own,
        neither shared with a preview nor spent waiting for the model's lock."""
        if on == self._held:
            return
        self._held = on
        self.schedule()

    def _on_thumb(self, item_id: int, image: QImage) -> None:
        item = self._queue.find(item_id)
        if item is None or item.preview is not None:
            return  # a colorized thumbnail is better than the gray one
        item.thumb = QPixmap.fromImage(image)
        self.item_updated.emit(item_id)

    def _on_thumb_error(self, item_id: int, error: Exception) -> None:
        item = self._queue.find(item_id)
        if item is not None and item.state == ItemState.WAITING:
            self._fail(item, describe_error(error))

    def _fail(self, item: QueueItem, message: str) -> None:
        item.state = ItemState.FAILED
        item.error = message
        self.item_updated.emit(item.id)
        self.item_failed.emit(item.id, message)

    # ------------------------------------------------------------------ rendering

    def render_key(self, item: QueueItem | None = None) -> tuple | None:
        """The settings a preview depends on: model and adjustments, plus `item`'s own guidance."""
        choice = self._models.model_choice()
        if choice is None:
            return None
        adj = self._adjustments()
        temperature = adj.temperature if choice.classification else None
        base = (self._models.cache_key(choice), adj.work_size, adj.saturation, temperature, self.preview_max_side,
                adj.repair)
        return self._item_key(base, item) if item is not None else base

    def colorize_options(self, preview: bool, item: QueueItem | None = None) -> "ColorizeOptions":
        """The current adjustments, with `item`'s hints and reference photo when one is given."""
        from ml_core.inference.engine import ColorizeOptions

        adj = self._adjustments()
        options = ColorizeOptions(work_size=adj.work_size, saturation=adj.saturation, temperature=adj.temperature,
                                  output_max_side=self.preview_max_side if preview else None)
        if item is not None:
            options.hints = tuple(item.hints)
            options.reference = item.reference
            options.reference_strength = item.reference_strength
        return options

    def hints_changed(self, item_id: int) -> None:
        """A hint or reference edit: the photo's key changed, so its preview is stale (and any
        in-flight render of it is superseded by the next pump)."""
        self.schedule()

    def schedule(self) -> None:
        """Coalesce: many changes in one event-loop turn cause one decision."""
        self._pump_timer.start()

    def _next_target(self, base: tuple) -> QueueItem | None:
        selected = self._queue.find(self._selected_id) if self._selected_id is not None else None
        if selected is not None and selected.state != ItemState.FAILED and (
                selected.preview is None or selected.preview.key != self._item_key(base, selected)):
            return selected
        return next((i for i in self._queue.items if i.state == ItemState.WAITING), None)

    @staticmethod
    def _item_key(base: tuple, item: QueueItem) -> tuple:
        return base + (item.guidance_key(),)

    def _pump(self) -> None:
        if self._held:
            return
        colorizer = self.colorizer
        base = self.render_key()
        if colorizer is None or base is None:
            return
        target = self._next_target(base)
        if self._render is not None:
            _, item_id, render_key = self._render
            rendering = self._queue.find(item_id)
            wanted = target is not None and target.id == item_id
            preempted = target is not None and target.id == self._selected_id and not wanted
            still_current = rendering is not None and render_key == self._item_key(base, rendering)
            if still_current and (wanted or target is None or not preempted):
                return  # the in-flight render is still what we want
            self._abandon_render()
        if target is not None:
            self._start_render(colorizer, target, self._item_key(base, target))

    def repair_settings(self) -> "RepairSettings | None":
        """What previews and exports repair before colorizing (None: nothing)."""
        return self._adjustments().repair

    def _start_render(self, colorizer: "Colorizer", item: QueueItem, key: tuple) -> None:
        options = self.colorize_options(preview=True, item=item)
        repair = self.repair_settings()
        path: Path = item.path
        handle = self._runner.submit_job(
            lambda token, _progress: jobs.render_preview(colorizer, path, options, token, repair),
            name="render", slot="render",
            priority=PRIORITY_PREVIEW if item.id == self._selected_id else PRIORITY_BACKGROUND,
            on_result=partial(self._on_rendered, item.id, key),
            on_error=partial(self._on_render_error, item.id),
        )
        handle.on_finished = partial(self._on_render_finished, handle)
        self._render = (handle, item.id, key)
        item.state = ItemState.WORKING
        self.item_updated.emit(item.id)
        self.rendering.emit(True)

    def _abandon_render(self) -> None:
        if self._render is None:
            return
        _, item_id, _ = self._render
        self._render = None
        self._runner.supersede("render")
        item = self._queue.find(item_id)
        if item is not None and item.state == ItemState.WORKING:
            item.state = ItemState.DONE if item.preview is not None else ItemState.WAITING
            self.item_updated.emit(item_id)
        self.rendering.emit(False)

    def _on_rendered(self, item_id: int, key: tuple, out: RenderOutput) -> None:
        item = self._queue.find(item_id)
        if item is None:
            return
        item.preview = Preview(
            color=QPixmap.fromImage(out.color), gray=QPixmap.fromImage(out.gray),
            overlay=QPixmap.fromImage(out.overlay) if out.overlay is not None else None,
            original_size=out.original_size, key=key, seconds=out.seconds, overlay_range=out.overlay_range,
            original_gray=QPixmap.fromImage(out.original_gray) if out.original_gray is not None else None,
            mask=QPixmap.fromImage(out.mask) if out.mask is not None else None,
            timings=dict(out.timings))
        item.thumb = QPixmap.fromImage(out.thumb)
        item.state = ItemState.DONE
        item.error = None
        self.item_updated.emit(item_id)
        self.preview_ready.emit(item_id)

    def _on_render_error(self, item_id: int, error: Exception) -> None:
        item = self._queue.find(item_id)
        if item is not None:
            self._fail(item, describe_error(error))

    def _on_render_finished(self, handle: TaskHandle) -> None:
        if self._render is not None and self._render[0] is handle:
            self._render = None
            self.rendering.emit(False)
        self.schedule()
