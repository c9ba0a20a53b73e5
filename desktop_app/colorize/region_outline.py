"""GUI side of the hint-region outline: while a hint is hovered or dragged, show the area it will color.

Why this shape: the region takes a model run (cached per photo) plus a geodesic distance on a
coarse grid, tens to hundreds of milliseconds on a laptop CPU, and a drag reports a new position
every few milliseconds. So at most one request is in flight; while it runs, newer positions only
replace the one waiting, and when it finishes the latest waiting position goes next. A drag thus
shows outlines as fast as they can be computed instead of cancelling each one before it
finishes, and never queues stale work. Moving to another photo, leaving the hint or turning the
tool off cancels the request in flight and drops any answer that still arrives for it.

While a hint's palette is open its region stays outlined (`pin`), even though the popup takes
the mouse: that is where its reach is changed, and the outline follows the change.

The first outline on a photo would wait for a model run (about a second on a busy laptop CPU);
`prepare` runs it in the background as soon as a preview is on screen with the tool on, so the
first hover only pays for the hint's own gate. With a model that does not take hints (every
built-in) that run does not depend on the hints, so hint edits do not repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from ..workers import PRIORITY_BACKGROUND, PRIORITY_PREVIEW, TaskHandle, TaskRunner
from . import region_jobs
from .compare_view import CompareView
from .photo_queue import QueueItem
from .render_scheduler import RenderScheduler

if TYPE_CHECKING:
    from ml_core.guidance.hint_outline import HintRegion
    from ml_core.inference.engine import Colorizer

SLOT = "hint-region"
PREPARE_SLOT = "hint-region-prepare"
Want = tuple[int, int, float, float]  # item id, hint index, x, y of the hint's first point


class RegionOutline(QObject):
    """Public API: show_item, clear, refresh, prepare, pin, busy; `region` is the region on screen (tests)."""

    def __init__(self, view: CompareView, runner: TaskRunner, pipeline: RenderScheduler,
                 selected_item: Callable[[], QueueItem | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._runner = runner
        self._pipeline = pipeline
        self._selected_item = selected_item
        self._generation = 0  # bumped by clear(): answers to older requests are dropped
        self._want: Want | None = None  # what should be outlined now
        self._asked: Want | None = None  # what the request in flight (or the last one) was for
        self._in_flight: TaskHandle | None = None
        self._pinned = -1  # the hint whose palette is open: outlined when no other is hovered
        self.region: "HintRegion | None" = None
        self._coalesce = QTimer(self)  # many moves in one event-loop turn: one request
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(0)
        self._coalesce.timeout.connect(self._next)
        view.hint_hovered.connect(self._on_hovered)

    def busy(self) -> bool:
        """A region is being computed or waits to be (tests and scripts wait on it)."""
        return self._in_flight is not None or self._coalesce.isActive()

    def show_item(self, item: QueueItem | None) -> None:
        """Another photo is on screen: nothing of the last one may still appear."""
        self._pinned = -1
        self._runner.supersede(PREPARE_SLOT)
        self.clear()

    def prepare(self) -> None:
        """In the background, what the selected photo's first outline needs (see the module notes)."""
        item, colorizer = self._selected_item(), self._pipeline.colorizer
        if item is None or colorizer is None or item.preview is None or not self._view.hint_tool():
            return
        path, options, repair, key = self._job_args(item, colorizer)
        if region_jobs.INPUTS.get(key) is not None:
            return
        self._runner.submit_job(
            lambda token, _progress: region_jobs.prepare(colorizer, path, options, repair, key, token),
            name="hint region prepare", slot=PREPARE_SLOT, priority=PRIORITY_BACKGROUND)

    def pin(self, index: int) -> None:
        """Keep hint `index` outlined while nothing else is hovered (its palette is open); -1 ends it."""
        self._pinned = index
        if index >= 0:
            self._on_hovered(-1, 0.0, 0.0)
        elif self._want is not None and self._view.hovered_hint() < 0:
            self.clear()

    def clear(self) -> None:
        self._generation += 1
        self._want = self._asked = None
        self._coalesce.stop()
        if self._in_flight is not None:
            self._runner.supersede(SLOT)  # cancelled, and its answer silenced
            self._in_flight = None
        self.region = None
        self._view.set_hint_outline(-1, ())

    def refresh(self) -> None:
        """The photo's hints, or what they are rendered with, changed: outline the hovered hint again."""
        item = self._selected_item()
        if self._want is None or item is None or item.id != self._want[0]:
            return
        index = self._want[1]
        if not 0 <= index < len(item.hints):
            self.clear()
            return
        hint = item.hints[index]
        self._want, self._asked = (item.id, index, hint.x, hint.y), None
        self._coalesce.start()

    def _on_hovered(self, index: int, x: float, y: float) -> None:
        item = self._selected_item()
        if index < 0 and item is not None and 0 <= self._pinned < len(item.hints):
            index, x, y = self._pinned, item.hints[self._pinned].x, item.hints[self._pinned].y
        if index < 0 or item is None or not self._view.hint_tool():
            self.clear()
            return
        self._want = (item.id, index, x, y)
        self._coalesce.start()

    def _next(self) -> None:
        """Ask for the wanted outline, unless a request is running (it asks again when done)."""
        if self._in_flight is not None or self._want is None or self._want == self._asked:
            return
        item, colorizer = self._selected_item(), self._pipeline.colorizer
        item_id, index, x, y = self._want
        if item is None or item.id != item_id or colorizer is None or not 0 <= index < len(item.hints):
            return
        hint = item.hints[index].moved_to(x, y)
        path, options, repair, key = self._job_args(item, colorizer)
        self._asked = self._want
        handle = self._runner.submit_job(
            lambda token, _progress: region_jobs.hint_region(colorizer, path, options, repair, key, hint, token),
            name="hint region", slot=SLOT, priority=PRIORITY_PREVIEW,
            on_result=partial(self._on_region, self._generation, self._want))
        handle.on_finished = partial(self._on_finished, handle)
        self._in_flight = handle

    def _job_args(self, item: QueueItem, colorizer: "Colorizer") -> tuple:
        """(path, preview options, repair, cache key): the key names all the model run depends on."""
        options = self._pipeline.colorize_options(preview=True, item=item)
        hints_matter = colorizer.model.accepts_hints  # a hint model's own colors depend on every hint
        key = (item.path, self._pipeline.render_key(), item.guidance_key()[1], item.hints if hints_matter else ())
        return item.path, options, self._pipeline.repair_settings(), key

    def _on_region(self, generation: int, asked: Want, region: "HintRegion") -> None:
        item = self._selected_item()
        if generation != self._generation or item is None or item.id != asked[0] or self._want is None \
                or self._want[:2] != asked[:2]:
            return  # another photo, another hint, or no hint hovered any more
        self.region = region
        self._view.set_hint_outline(asked[1], region.outline)

    def _on_finished(self, handle: TaskHandle) -> None:
        if self._in_flight is handle:
            self._in_flight = None
            self._coalesce.start()  # the latest wanted position, if it moved meanwhile
