"""The hint tool's flow: what a click, drag or key on the preview does to the selected photo's hints.

The view reports gestures in relative photo coordinates; this turns them into undoable edits
(hint_editor.HintEditor) and asks the model, in a worker, which colors are likely at the spot. A new
hint is pinned to the "current" suggestion, the color the model shows there now, so a click
alone already keeps that color wherever the rest of the region goes; the palette then offers
the model's alternatives and a full color picker.

How far a hint reaches (small / object / wide) is chosen in the palette or the side panel's
"Hints" section (hint_reach), for the selected hint or, with none selected, for the hints placed
next; while a hint is hovered or dragged, region_outline shows the area it will color.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QFileDialog, QMenu, QWidget

from ml_core.guidance.hints import DEFAULT_REACH

from ..workers import PRIORITY_PREVIEW, TaskRunner, describe_error
from . import jobs
from .compare_view import CompareView
from .hint_editor import HintEditor
from .hint_overlay import hint_color
from .hint_palette import HintPalette
from .hint_reach import HintPanel
from .photo_queue import QueueItem
from .region_outline import RegionOutline
from .render_scheduler import RenderScheduler

if TYPE_CHECKING:
    from ml_core.guidance.palette import ColorSuggestion


def _pick_color(parent: QWidget, initial: QColor) -> QColor | None:
    color = QColorDialog.getColor(initial, parent, "Hint color")
    return color if color.isValid() else None


class HintTool(QObject):
    """Public API (tab, tests, screenshot script): set_active, show_item, add_hint, recolor,
    set_reach, delete_selected, clear, open_palette, save_hints, load_hints (and their dialogs);
    `panel` (the side panel's Hints section) and `outline` (the hovered hint's region).
    `choose_color` is replaceable so tests need no dialog; `warn` reports a hint file that
    could not be read or written."""

    status_message = Signal(str, int)

    def __init__(self, view: CompareView, runner: TaskRunner, pipeline: RenderScheduler, editor: HintEditor,
                 selected_item: Callable[[], QueueItem | None], parent: QWidget,
                 warn: Callable[[str, str], None] | None = None) -> None:
        super().__init__(parent)
        self.warn: Callable[[str, str], None] = warn or (lambda title, text: None)
        self.view = view
        self.editor = editor
        self._runner = runner
        self._pipeline = pipeline
        self._selected_item = selected_item
        self._parent = parent
        self.choose_color: Callable[[QWidget, QColor], QColor | None] = _pick_color
        self.palette = HintPalette(parent)
        self.palette.color_chosen.connect(self.recolor_selected)
        self.palette.more_requested.connect(self.more_colors)
        self.palette.delete_requested.connect(self.delete_selected)
        self.palette.reach.reach_chosen.connect(self.set_reach)
        self.default_reach = DEFAULT_REACH  # what the next placed hint gets
        self.panel = HintPanel()
        self.panel.setVisible(False)  # shown with the tool
        self.panel.reach.reach_chosen.connect(self.set_reach)
        self.outline = RegionOutline(view, runner, pipeline, selected_item, self)
        self.palette.closed.connect(lambda: self.outline.pin(-1))
        pipeline.preview_ready.connect(self._on_preview_ready)
        self._palette_request = 0  # only the latest suggestion request may fill the palette
        self._pending = 0  # hints placed and waiting for their first color
        view.hint_add_requested.connect(self.add_hint)
        view.hint_clicked.connect(self.open_palette)
        view.hint_moved.connect(self._on_moved)
        view.hint_delete_requested.connect(self._on_delete)
        view.hint_menu_requested.connect(self._on_menu)
        view.hint_selection_changed.connect(lambda _: self._sync_reach())
        editor.hints_changed.connect(self._on_hints_changed)

    # ------------------------------------------------------------------ state

    def set_active(self, on: bool) -> None:
        self.view.set_hint_tool(on)
        self.panel.setVisible(on)
        if on:
            self.outline.prepare()
        else:
            self.palette.hide()
            self.outline.clear()

    def show_item(self, item: QueueItem | None) -> None:
        """The selected photo changed: its hints on the view, its history on Undo/Redo."""
        self.palette.hide()
        self.outline.show_item(item)
        self.editor.activate(item)
        self.view.set_pending_hint(None)
        self.view.set_hints(item.hints if item is not None else ())
        self._sync_reach()

    def _on_preview_ready(self, item_id: int) -> None:
        """A new preview (another model, adjustments or hints): the outline follows it, and the next
        one is prepared."""
        item = self._selected_item()
        if item is not None and item.id == item_id:
            self.outline.refresh()
            self.outline.prepare()

    def busy(self) -> bool:
        """A placed hint is still waiting for the model's suggestion (tests and scripts wait on it)."""
        return self._pending > 0

    def _on_hints_changed(self, item_id: int) -> None:
        item = self._selected_item()
        if item is not None and item.id == item_id:
            selected = self.view.selected_hint()
            self.view.set_hints(item.hints, selected if selected < len(item.hints) else -1)
            self._sync_reach()
            self.outline.refresh()
        self._pipeline.hints_changed(item_id)

    # ------------------------------------------------------------------ edits

    def add_hint(self, points: tuple[tuple[float, float], ...], ab: tuple[float, float] | None = None) -> None:
        """A click (one point) or a stroke on the selected photo, exactly as the view reports it.

        Without `ab` the hint takes the model's current color at the first point, which needs a
        model run: the hint shows as an empty ring until the suggestion arrives (~0.1 s)."""
        item = self._selected_item()
        if item is None or not points:
            return
        if ab is not None:
            self._place(item, points, ab, None)
            return
        colorizer = self._pipeline.colorizer
        if colorizer is None:
            self.status_message.emit("Hints need a loaded model", 4000)
            return
        x, y = points[0]
        options = self._pipeline.colorize_options(preview=True, item=item)
        self._pending += 1
        self.view.set_pending_hint((x, y))
        self._palette_request += 1
        request = self._palette_request
        path = item.path
        self._runner.submit(jobs.suggest_colors, colorizer, path, x, y, options,
                            name="suggest", priority=PRIORITY_PREVIEW,
                            on_result=partial(self._on_first_suggestions, item.id, points, request),
                            on_error=partial(self._on_suggest_failed, item.id, points))

    def _on_first_suggestions(self, item_id: int, points: tuple, request: int,
                              suggestions: list["ColorSuggestion"]) -> None:
        self._pending -= 1
        item = self._selected_item()
        if item is None or item.id != item_id or not suggestions:
            self.view.set_pending_hint(None)
            return
        self._place(item, points, suggestions[0].ab, suggestions if request == self._palette_request else None)

    def _on_suggest_failed(self, item_id: int, points: tuple, error: Exception) -> None:
        self._pending -= 1
        self.view.set_pending_hint(None)
        self.status_message.emit(f"Could not suggest colors: {describe_error(error)}", 6000)

    def _place(self, item: QueueItem, points: tuple, ab: tuple[float, float],
               suggestions: list["ColorSuggestion"] | None) -> None:
        from ml_core.guidance.hints import Hint

        self.view.set_pending_hint(None)
        index = self.editor.add(item, Hint(tuple(points), (float(ab[0]), float(ab[1])), reach=self.default_reach))
        self.view.set_hints(item.hints, index)
        self._sync_reach()  # the new hint is selected
        if suggestions is not None and self.view.hint_tool() and self.view.isVisible():
            self._show_palette(index, suggestions)

    def recolor_selected(self, ab: tuple[float, float]) -> None:
        item, index = self._selected_item(), self.view.selected_hint()
        if item is None or not 0 <= index < len(item.hints):
            return
        self.editor.recolor(item, index, ab)
        if self.palette.isVisible():
            self.palette.set_suggestions(self.palette.suggestions(), item.hints[index].ab)

    def set_reach(self, reach: str) -> None:
        """The selected hint's reach (undoable; the preview re-renders through the scheduler like
        any hint edit), or with no hint selected the reach of the hints placed next."""
        item, index = self._selected_item(), self.view.selected_hint()
        if item is not None and 0 <= index < len(item.hints):
            self.editor.set_reach(item, index, reach)
        else:
            self.default_reach = reach
        self._sync_reach()

    def _sync_reach(self) -> None:
        """Both selectors show the selected hint's reach, or the one new hints get."""
        item, index = self._selected_item(), self.view.selected_hint()
        selected = item is not None and 0 <= index < len(item.hints)
        reach = item.hints[index].reach if selected else self.default_reach
        self.panel.show_for(reach, selected)
        self.palette.reach.set_reach(reach)

    def more_colors(self) -> None:
        item, index = self._selected_item(), self.view.selected_hint()
        if item is None or not 0 <= index < len(item.hints):
            return
        self.palette.hide()
        color = self.choose_color(self._parent, hint_color(item.hints[index].ab))
        if color is not None:
            from ml_core.guidance.hints import rgb_to_ab

            self.recolor_selected(rgb_to_ab((color.red(), color.green(), color.blue())))

    def delete_selected(self) -> None:
        self._on_delete(self.view.selected_hint())

    def clear(self) -> None:
        item = self._selected_item()
        if item is not None and item.hints:
            self.palette.hide()
            self.editor.clear(item)
            self.view.select_hint(-1)

    def _on_moved(self, index: int, x: float, y: float) -> None:
        item = self._selected_item()
        if item is not None and 0 <= index < len(item.hints):
            self.editor.move(item, index, x, y)
            self.view.set_hints(item.hints, index)

    def _on_delete(self, index: int) -> None:
        item = self._selected_item()
        if item is not None and 0 <= index < len(item.hints):
            self.palette.hide()
            self.editor.delete(item, index)
            self.view.set_hints(item.hints, -1)
            self._sync_reach()

    def _on_menu(self, index: int, global_pos: QPoint) -> None:
        menu = QMenu(self._parent)
        menu.addAction("Recolor…", lambda: self.open_palette(index))
        menu.addAction("Delete", lambda: self._on_delete(index))
        menu.popup(global_pos)
        self._menu = menu  # kept for tests and so it is not collected while open

    # ------------------------------------------------------------------ palette

    def open_palette(self, index: int) -> None:
        """Show the palette next to hint `index`, filled once the model answers."""
        item = self._selected_item()
        colorizer = self._pipeline.colorizer
        if item is None or not 0 <= index < len(item.hints):
            return
        self.view.select_hint(index)
        self._show_palette(index, None)
        if colorizer is None:
            return
        hint = item.hints[index]
        options = self._pipeline.colorize_options(preview=True)
        self._palette_request += 1
        request, path, x, y = self._palette_request, item.path, hint.x, hint.y
        self._runner.submit(jobs.suggest_colors, colorizer, path, x, y, options,
                            name="suggest", slot="suggest", priority=PRIORITY_PREVIEW,
                            on_result=partial(self._on_palette_suggestions, item.id, request),
                            on_error=lambda e: self.palette.set_status(f"No suggestions: {describe_error(e)}"))

    def _on_palette_suggestions(self, item_id: int, request: int, suggestions: list["ColorSuggestion"]) -> None:
        item, index = self._selected_item(), self.view.selected_hint()
        if request != self._palette_request or item is None or item.id != item_id or not 0 <= index < len(item.hints):
            return
        self.palette.set_suggestions(suggestions, item.hints[index].ab)
        self.palette.adjustSize()

    def _show_palette(self, index: int, suggestions: list["ColorSuggestion"] | None) -> None:
        item = self._selected_item()
        if item is None or not self.view.isVisible():
            return
        hint = item.hints[index]
        self.palette.set_suggestions(suggestions, hint.ab)
        self.outline.pin(index)  # its region stays outlined while its palette is open
        self.palette.show_near(self.view.mapToGlobal(self.view.to_widget(hint.x, hint.y).toPoint()))

    # ------------------------------------------------------------------ hint files

    def save_hints(self, path: Path) -> bool:
        """The selected photo's hints to `path` (relative units, so any size of the photo fits)."""
        from ml_core.guidance.hints import save_hint_file

        item = self._selected_item()
        if item is None or not item.hints:
            return False
        try:
            save_hint_file(path, item.hints)
        except OSError as exc:
            self.warn("Could not save hints", f"{path}: {exc.strerror or exc}")
            return False
        self.status_message.emit(f"Saved {len(item.hints)} hints to {path.name}", 4000)
        return True

    def load_hints(self, path: Path) -> bool:
        """Replace the selected photo's hints with a file's; pixel units are placed on this photo."""
        from ml_core.guidance.hints import HintError, load_hint_file, resolve_hints
        from ml_core.io.imageio import ImageReadError

        item = self._selected_item()
        if item is None:
            return False
        try:
            hint_file = load_hint_file(path)
            width, height = item.preview.original_size if item.preview is not None else _photo_size(item.path)
            hints = resolve_hints(hint_file, width, height)
        except (HintError, ImageReadError, OSError) as exc:
            self.warn("Could not load hints", str(exc))
            return False
        self.editor.replace(item, hints)
        self.status_message.emit(f"Loaded {len(hints)} hints from {path.name}", 4000)
        return True

    def save_hints_dialog(self) -> None:
        item = self._selected_item()
        if item is None or not item.hints:
            return
        suggested = str(item.path.with_name(f"{item.path.stem}.hints.json"))
        path, _ = QFileDialog.getSaveFileName(self._parent, "Save hints", suggested, "Hints (*.json)")
        if path:
            self.save_hints(Path(path))

    def load_hints_dialog(self) -> None:
        item = self._selected_item()
        if item is None:
            return
        path, _ = QFileDialog.getOpenFileName(self._parent, "Load hints", str(item.path.parent),
                                              "Hints (*.json);;All files (*)")
        if path:
            self.load_hints(Path(path))


def _photo_size(path: Path) -> tuple[int, int]:
    """(width, height) as displayed, for hint files in pixel units before a preview exists."""
    from ml_core.io.imageio import read_image

    return read_image(path).size
