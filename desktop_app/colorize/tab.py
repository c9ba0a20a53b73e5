"""The Colorize tab: drop photos, see them in color, export them.

This module is wiring: widgets from the sibling modules, actions and shortcuts, and the flow of
events between the queue, the model cache (which model), the render scheduler (what to render
next), the photo intake (what comes in) and the export flow (what goes out). It never touches
pixels or models itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMimeData, QModelIndex, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from .. import resources
from ..settings import AppSettings
from ..widgets import dialogs
from ..widgets.banner import Banner
from ..workers import PRIORITY_PREVIEW, TaskRunner, describe_error
from . import jobs
from .compare_view import CompareView, ViewMode
from .controls import AdjustPanel, ModelPanel
from .empty_state import EmptyState
from .export_dialog import SCOPE_DONE, SCOPE_SELECTED
from .export_flow import ExportFlow
from .exporter import ExportReport
from .hint_editor import HintEditor
from .hint_tool import HintTool
from .model_cache import ModelCache
from .model_comparison import ComparePanel, ModelComparison
from .model_grid import ModelGrid
from .photo_intake import PhotoIntake
from .photo_queue import Filmstrip, ItemRole, ItemState, QueueItem, QueueModel
from .reference_panel import ReferencePanel
from .reference_tool import ReferenceController
from .render_scheduler import Adjustments, RenderScheduler
from .repair_panel import RepairPanel

if TYPE_CHECKING:
    from ml_core.inference.batch import ExportSettings
    from ml_core.modelfiles.modelfile import LoadedModel

    from .session import Session

_ADJUST_DEBOUNCE_MS = 120


class ColorizeTab(QWidget):
    """Public API (used by the main window, a future Training tab, the self-test and tests):
    refresh_models, add_paths, handle_mime, paste, start_export, cancel_export, shutdown."""

    status_message = Signal(str, int)  # text, timeout in ms (0: until replaced)
    preview_shown = Signal(int)  # item id whose fresh preview is now on screen
    export_finished = Signal(object)  # ExportReport
    models_refreshed = Signal(list)  # list[ModelChoice]
    photos_added = Signal(list)  # list[QueueItem], also for photos found in a folder by a worker

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        # Replaceable so tests and the self-test can answer without a modal dialog.
        self.confirm: Callable[[str, str], bool] = partial(dialogs.ask, self)
        self.warn: Callable[[str, str], None] = partial(dialogs.warn, self)
        self.open_url: Callable[[QUrl], bool] = QDesktopServices.openUrl  # the file manager (tests replace it)
        self._shown_item: int | None = None
        self._comparing = False  # the Compare view (every model on the selected photo) is on screen
        self._model_list_loaded = False

        self.runner = TaskRunner(self)
        self.queue = QueueModel(self)
        self.adjust_panel = AdjustPanel()
        self.repair_panel = RepairPanel()
        self.model_panel = ModelPanel()
        self.models = ModelCache(self.runner, self)
        self.pipeline = RenderScheduler(self.runner, self.queue, self.models, self._adjustments, self)
        self.intake = PhotoIntake(self)
        self.export_flow = ExportFlow(self)
        self.report: Callable[[ExportReport], None] = self.export_flow.show_report
        self.exporter = self.export_flow.exporter
        self.export_progress = self.export_flow.progress
        self.show_folder_button = self.export_flow.show_folder_button
        self._adjust_timer = QTimer(self)  # slider drags: render once the hand pauses
        self._adjust_timer.setSingleShot(True)
        self._adjust_timer.setInterval(_ADJUST_DEBOUNCE_MS)
        self._adjust_timer.timeout.connect(self.pipeline.settings_changed)
        self._adjust_timer.timeout.connect(lambda: self._refresh_comparison())
        self._build_views()
        self.commands: dict[str, QAction] = {}
        self._build_actions()
        self.toolbar = self._build_toolbar()
        self.queue_label = QLabel()
        self._build_layout()
        self._connect()
        mode = ViewMode.SPLIT if settings.view_mode == ViewMode.SPLIT.value else ViewMode.SIDE_BY_SIDE
        self.view.set_mode(mode)
        self._sync_mode_actions()
        self.update_state()

    # ================================================================== construction

    def _build_views(self) -> None:
        """The photo views and the tools that work on them."""
        self.view = CompareView()
        self.session_banner = Banner()
        self.session_banner.setAccessibleName("Session")
        self.empty = EmptyState()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)
        self.compare_panel = ComparePanel()
        self.stack.addWidget(self.compare_panel)
        self.comparison = ModelComparison(self.runner, self.models, self.compare_panel,
                                          lambda item: self.pipeline.colorize_options(preview=True, item=item),
                                          self.pipeline, self)
        self.filmstrip = Filmstrip()
        self.filmstrip.setModel(self.queue)
        self.hint_editor = HintEditor(self)
        self.hint_tool = HintTool(self.view, self.runner, self.pipeline, self.hint_editor, self.selected_item, self,
                                  warn=lambda title, text: self.warn(title, text))
        self.reference_panel = ReferencePanel()
        self.references = ReferenceController(self.reference_panel, self.runner, self.selected_item, self)

    def _command(self, key: str, text: str, slot: Callable, shortcut: QKeySequence | str | None = None,
                icon: str | None = None, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if icon:
            action.setIcon(resources.icon(icon))
            action.setData(icon)  # to redraw in the new text colour when the palette changes
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        tooltip = tip or text.replace("…", "").replace("&", "")
        if shortcut is not None:
            tooltip += f" ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tooltip)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.commands[key] = action
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self._command("open", "&Open Photos…", self.intake.open_photos, K.Open, "open", "Add photos to the queue")
        self._command("open_folder", "Open &Folder…", self.intake.open_folder, "Ctrl+Shift+O", "folder",
                     "Add every photo in a folder (and its subfolders)")
        self._command("paste", "&Paste Image", self.intake.paste, K.Paste, "paste", "Add the image on the clipboard")
        self._command("import_model", "&Import Model…", self.import_model_dialog, "Ctrl+I", "import",
                     "Add a model file (.safetensors) to the model list")
        self._command("export", "&Export Photo…", lambda: self.export_flow.export_dialog(SCOPE_SELECTED), "Ctrl+E",
                     "export", "Export the selected photo in full resolution")
        self._command("export_all", "Export &All…", lambda: self.export_flow.export_dialog(SCOPE_DONE), "Ctrl+Shift+E",
                     "export_all", "Export every colorized photo in full resolution")
        self._command("remove", "&Remove from Queue", self.remove_selected, K.Delete, "remove")
        self._command("clear", "&Clear Queue", self.clear_queue, None, None)
        self._command("next", "&Next Photo", lambda: self._step(1), "Ctrl+Right", None)
        self._command("previous", "Pre&vious Photo", lambda: self._step(-1), "Ctrl+Left", None)
        self._command("cancel", "&Cancel Export", self.export_flow.cancel, "Esc", None)
        self._command("show_export", "&Show Export in Folder", self.export_flow.show_last_export, None, None,
                      "Open the folder the last export wrote to, in the file manager")
        self._build_view_actions()
        self._build_hint_actions()

    def _build_view_actions(self) -> None:
        K = QKeySequence.StandardKey
        self._command("side", "&Side by Side", lambda on: on and self.set_mode(ViewMode.SIDE_BY_SIDE), "Ctrl+1",
                     "side", "Show the original and the result next to each other", checkable=True)
        self._command("split", "S&plit View", lambda on: on and self.set_mode(ViewMode.SPLIT), "Ctrl+2",
                     "split", "One picture with a before/after slider", checkable=True)
        self._command("compare", "&Compare Models", self.set_comparing, "Ctrl+3", "grid",
                      "The selected photo colorized by every installed model, side by side", checkable=True)
        self._command("fit", "&Fit to Window", lambda: self._zoomed().zoom_fit(), "Ctrl+0", "fit")
        self._command("actual", "&Actual Size (100 %)", lambda: self._zoomed().zoom_actual(), "Ctrl+Shift+0",
                      "actual")
        self._command("zoom_in", "Zoom &In", lambda: self._zoomed().zoom_in(), K.ZoomIn, "zoom_in")
        self._command("zoom_out", "Zoom O&ut", lambda: self._zoomed().zoom_out(), K.ZoomOut, "zoom_out")
        self._command("confidence", "&Uncertainty Overlay", self._toggle_overlay, "Ctrl+U", "confidence",
                     "Highlight where the model is unsure of the color", checkable=True)

    def _build_hint_actions(self) -> None:
        K = QKeySequence.StandardKey
        self._command("hints", "&Hint Tool", self._toggle_hints, "H", "hints",
                     "Click the photo to pin a color there; drag to paint a short stroke", checkable=True)
        self._command("clear_hints", "C&lear Hints", self.hint_tool.clear, None, None,
                     "Remove every color hint from this photo (undoable)")
        self._command("save_hints", "Save Hints…", self.hint_tool.save_hints_dialog, None, None,
                     "Save this photo's hints as a JSON file that `chroma colorize --hints` also reads")
        self._command("load_hints", "Load Hints…", self.hint_tool.load_hints_dialog, None, None,
                     "Replace this photo's hints with those in a hints JSON file (undoable)")
        undo = self.hint_editor.group.createUndoAction(self, "&Undo")
        undo.setShortcuts([QKeySequence(K.Undo)])
        redo = self.hint_editor.group.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        for key, action, icon in (("undo", undo, "undo"), ("redo", redo, "redo")):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.setIcon(resources.icon(icon))
            action.setData(icon)
            self.commands[key] = action
            self.addAction(action)
        undo.setToolTip("Undo the last hint change on this photo (Ctrl+Z)")
        redo.setToolTip("Redo (Ctrl+Shift+Z)")

    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar("Colorize")
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for key in ("open", "paste"):
            bar.addAction(self.commands[key])
        bar.addSeparator()
        for key in ("side", "split", "compare"):
            bar.addAction(self.commands[key])
        bar.addSeparator()
        for key in ("fit", "actual", "zoom_out", "zoom_in"):
            bar.addAction(self.commands[key])
            bar.widgetForAction(self.commands[key]).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.zoom_label = QLabel()
        self.zoom_label.setMinimumWidth(64)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        bar.addWidget(self.zoom_label)
        bar.addSeparator()
        bar.addAction(self.commands["confidence"])
        bar.addAction(self.commands["hints"])
        for key in ("undo", "redo"):
            bar.addAction(self.commands[key])
            bar.widgetForAction(self.commands[key]).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.commands["export"])
        bar.addAction(self.commands["export_all"])
        self.commands["fit"].setText("Fit")
        self.commands["actual"].setText("100 %")
        self.commands["confidence"].setIconText("Uncertainty")
        self.commands["compare"].setIconText("Compare")
        self.commands["hints"].setIconText("Hints")
        self.commands["export"].setIconText("Export…")
        self.commands["export_all"].setIconText("Export All…")
        return bar

    def status_widgets(self) -> list[QWidget]:
        """Permanent status bar widgets the main window shows for this tab."""
        return [self.queue_label, *self.export_flow.widgets()]

    @property
    def last_export(self) -> ExportReport | None:
        return self.export_flow.last_export

    def show_last_export(self) -> bool:
        return self.export_flow.show_last_export()

    def _build_layout(self) -> None:
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.session_banner)
        left_layout.addWidget(self.stack, 1)
        left_layout.addWidget(self.filmstrip)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(8, 8, 8, 8)
        side_layout.addWidget(self.model_panel)
        side_layout.addWidget(self.adjust_panel)
        side_layout.addWidget(self.hint_tool.panel)  # shown while the hint tool is on
        side_layout.addWidget(self.repair_panel)
        side_layout.addWidget(self.reference_panel)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(260)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(scroll)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([900, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.empty.open_photos.connect(self.intake.open_photos)
        self.empty.open_folder.connect(self.intake.open_folder)
        self.empty.import_model.connect(self.import_model_dialog)
        self.filmstrip.selectionModel().currentChanged.connect(self._on_current_changed)
        self.queue.rowsInserted.connect(self.update_state)
        self.queue.rowsRemoved.connect(self.update_state)
        self.model_panel.model_selected.connect(self._on_model_selected)
        self.model_panel.import_requested.connect(self.import_model_dialog)
        self.adjust_panel.changed.connect(self._adjust_timer.start)
        self.repair_panel.changed.connect(self._adjust_timer.start)
        self.repair_panel.view_changed.connect(self._sync_repair_view)
        self.models.models_refreshed.connect(self._on_models_refreshed)
        self.models.models_failed.connect(lambda msg: self.status(f"Could not list models: {msg}"))
        self.models.model_state.connect(self._on_model_state)
        self.pipeline.item_updated.connect(self._on_item_updated)
        self.pipeline.preview_ready.connect(self._on_preview_ready)
        self.pipeline.item_failed.connect(self._on_item_failed)
        self.pipeline.rendering.connect(lambda _: self._update_busy())
        self.view.zoom_changed.connect(lambda percent: self._comparing or self._on_zoom(percent))
        self.compare_panel.grid.zoom_changed.connect(lambda percent: self._comparing and self._on_zoom(percent))
        self.comparison.model_picked.connect(self._on_model_picked)
        self.comparison.status_message.connect(self.status_message)
        self.view.mode_changed.connect(lambda _: self._sync_mode_actions())
        self.hint_tool.status_message.connect(self.status_message)
        self.hint_editor.hints_changed.connect(self._on_guidance_changed)
        self.references.changed.connect(self._on_guidance_changed)

    # ================================================================== models

    def refresh_models(self, select: str | None = None) -> None:
        """Re-read the model store (e.g. after training saved a model) and optionally select one."""
        self.models.refresh_models(select)

    def use_in_memory_model(self, loaded: "LoadedModel", name: str) -> None:
        """Offer a model that exists only in memory (the self-test's untrained stand-in) and select it."""
        self.models.add_in_memory_model(loaded, name)
        self.refresh_models(select=name)

    def current_model(self) -> str | None:
        return self.models.model_name

    def _on_models_refreshed(self, choices: list, select: str | None) -> None:
        self._model_list_loaded = True
        if select and any(c.name == select and c.in_memory is None for c in choices):
            self.settings.model = select  # chosen on purpose (imported, or trained in another tab)
        current = self.models.model_name
        wanted = next((n for n in (select, current, self.settings.model) if n and any(c.name == n for c in choices)),
                      choices[0].name if choices else None)
        self.model_panel.set_choices(choices, wanted)
        self.models.set_model(wanted)
        self.comparison.set_current(wanted)
        self._refresh_comparison()
        self._on_model_applied()
        self.update_state()
        self.models_refreshed.emit(choices)

    def _on_model_selected(self, name: str) -> None:
        self.settings.model = name
        self.models.set_model(name)
        self.comparison.set_current(name)
        self._on_model_applied()

    def _on_model_picked(self, name: str) -> None:
        """A Compare tile was clicked: that model colorizes (and exports) the photos from now on."""
        if name != self.models.model_name and self.model_panel.select(name):
            self.status(f"Photos are now colorized with “{name}”", 5000)

    def _on_model_applied(self) -> None:
        choice = self.models.model_choice()
        if choice is not None:
            self.adjust_panel.set_model_defaults(choice.work_size, choice.classification, choice.default_temperature)
        self.update_state()
        self._show_selected()

    def _on_model_state(self, name: str, state: str) -> None:
        if state == "loading":
            self.model_panel.set_status("Loading model…")
            self.status(f"Loading model {name}…")
        elif state == "ready":
            self.model_panel.set_status("")
            self.status(f"Model {name} ready", 3000)
        else:
            self.model_panel.set_status(f"Could not load: {state}")
            self.status(f"Could not load model {name}: {state}")
        self.update_state()
        self._show_selected()

    def import_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a model", self.settings.last_open_dir,
                                              "Chroma models (*.safetensors)")
        if path:
            self.import_model_file(Path(path), ask=False)

    def import_model_file(self, path: Path, ask: bool = True) -> None:
        if ask and not self.confirm("Import model?",
                                    f"“{path.name}” is a colorization model file. Add it to your models?"):
            return
        self.status(f"Importing {path.name}…")
        self.runner.submit(jobs.import_model, path, name="import", priority=PRIORITY_PREVIEW,
                           on_result=self._on_model_imported,
                           on_error=lambda e: self.status(f"Could not import {path.name}: {describe_error(e)}"))

    def _on_model_imported(self, name: str) -> None:
        self.status(f"Model “{name}” imported", 5000)
        self.refresh_models(select=name)

    # ================================================================== adding photos

    def add_paths(self, paths: Iterable[Path | str]) -> list[QueueItem]:
        """Queue photos and folders (see PhotoIntake.add_paths); returns the items added at once."""
        return self.intake.add_paths(paths)

    def can_accept(self, mime: QMimeData) -> bool:
        return self.intake.can_accept(mime)

    def handle_mime(self, mime: QMimeData) -> bool:
        """A drop or a paste: files and folders, model files, or raw image data."""
        return self.intake.handle_mime(mime)

    # ================================================================== queue and selection

    def selected_item(self) -> QueueItem | None:
        index = self.filmstrip.currentIndex()
        return index.data(ItemRole) if index.isValid() else None

    def select_item(self, item_id: int) -> None:
        row = self.queue.row_of(item_id)
        if row >= 0:
            self.filmstrip.setCurrentIndex(self.queue.index(row))

    def items(self) -> list[QueueItem]:
        return self.queue.items

    def done_items(self) -> list[QueueItem]:
        return [i for i in self.queue.items if i.colorized]

    def remove_selected(self) -> None:
        item = self.selected_item()
        if item is not None:
            self.remove_items({item.id})

    def remove_items(self, item_ids: set[int]) -> None:
        """Close photos (and their hint history); the selection moves to a neighbour that stays."""
        selected = self.selected_item()
        removed_selected = selected is not None and selected.id in item_ids
        row = self.queue.row_of(selected.id) if selected is not None else 0
        kept_before = sum(1 for i in self.queue.items[:row] if i.id not in item_ids)
        self.pipeline.remove_items(set(item_ids))
        self.hint_editor.forget(set(item_ids))
        if not len(self.queue):
            self._shown_item = None
            self._show_selected()
        elif removed_selected:
            self.filmstrip.setCurrentIndex(self.queue.index(min(kept_before, len(self.queue) - 1)))
        self.update_state()

    # ================================================================== sessions

    def restore_session(self, session: "Session") -> list[QueueItem]:
        """Put a saved session back: its photos with their hints and reference photos, the model,
        the view and the adjustments. Photos already open are not added twice."""
        self.apply_session_settings(session)
        pairs = []
        for photo in session.photos:
            if self.queue.find_path(photo.path) is None:
                pairs.append((QueueItem(photo.path, hints=photo.hints, reference_strength=photo.reference_strength),
                              photo))
        new = [item for item, _ in pairs]
        self.queue.add(new)
        self.pipeline.add_items(new)
        for item, photo in pairs:
            if photo.reference is not None:
                self.references.set_reference(item, photo.reference)
        if new and self.selected_item() is None:
            wanted = session.photos[session.selected] if session.selected is not None else None
            self.select_item(next((item.id for item, photo in pairs if photo is wanted), new[0].id))
        self.update_state()
        return new

    def apply_session_settings(self, session: "Session") -> None:
        """The model, view and adjustments of a saved session (no photos)."""
        if session.model:
            if self._model_list_loaded:
                self.model_panel.select(session.model)
            else:
                self.settings.model = session.model  # picked when the model list arrives
        if session.view_mode:
            self.set_mode(ViewMode(session.view_mode))
        adjust = session.adjust
        self.adjust_panel.restore(adjust.saturation, adjust.work_size, adjust.temperature)
        if session.repair is not None:
            self.repair_panel.restore(session.repair)

    def clear_queue(self) -> None:
        ids = {i.id for i in self.queue.items}
        self.pipeline.remove_items(ids)
        self.hint_editor.forget(ids)
        self._shown_item = None
        self._show_selected()

    def _step(self, delta: int) -> None:
        if not len(self.queue):
            return
        row = self.filmstrip.currentIndex().row()
        self.filmstrip.setCurrentIndex(self.queue.index(max(0, min(len(self.queue) - 1, row + delta))))

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        item = current.data(ItemRole) if current.isValid() else None
        self.pipeline.set_selected(item.id if item else None)
        self.hint_tool.show_item(item)
        self.references.show_item(item)
        self._show_selected()
        self._refresh_comparison()
        self.update_state()

    def _show_selected(self) -> None:
        """Put the selected photo's best available picture (or the reason there is none) on screen."""
        item = self.selected_item()
        if item is None:
            self._shown_item = None
            self.view.clear("")
            self.update_state()
            return
        if item.preview is not None:
            self._show_preview(item)
        elif item.state == ItemState.FAILED:
            self._shown_item = None
            self.view.clear(f"{item.name} could not be colorized:\n{item.error}")
        else:
            self._shown_item = None
            self.view.clear(self._waiting_text())
        self._update_busy()

    def _waiting_text(self) -> str:
        if not self._model_list_loaded:
            return "Loading…"
        if self.models.model_choice() is None:
            return "No model is installed, so this photo cannot be colorized yet.\nImport a model (Ctrl+I)."
        if self.models.model_error:
            return f"The model could not be loaded:\n{self.models.model_error}"
        if self.models.colorizer is None:
            return "Loading the model…"
        return "Colorizing…"

    def _show_preview(self, item: QueueItem) -> None:
        preview = item.preview
        assert preview is not None
        keep = self._shown_item == item.id
        self.view.set_images(preview.gray, preview.color, preview.overlay, preview.original_size, keep_view=keep,
                             overlay_range=preview.overlay_range)
        self.view.set_repair_layers(preview.original_gray, preview.mask)
        self._shown_item = item.id

    def _sync_repair_view(self) -> None:
        self.view.set_repair_view(self.repair_panel.show_mask(), self.repair_panel.show_original())

    def _on_item_updated(self, item_id: int) -> None:
        item = self.queue.find(item_id)
        if item is None:
            return
        self.queue.changed(item)
        selected = self.selected_item()
        if selected is not None and selected.id == item_id and item.preview is None:
            self._show_selected()
        self.update_state()

    def _on_preview_ready(self, item_id: int) -> None:
        selected = self.selected_item()
        if selected is not None and selected.id == item_id:
            self._show_preview(selected)
            self._update_busy()
            self.preview_shown.emit(item_id)

    def _on_item_failed(self, item_id: int, message: str) -> None:
        item = self.queue.find(item_id)
        if item is not None:
            self.status(f"{item.name}: {message}", 10000)

    def _update_busy(self) -> None:
        item = self.selected_item()
        busy = ""
        if item is not None and item.preview is not None:
            if self.pipeline.is_rendering(item.id):
                busy = "Updating preview…"
            elif self.models.colorizer is None and self.models.model_choice() is not None:
                busy = "Loading model…"
        self.view.set_busy(busy)
        self.filmstrip.set_busy(self.pipeline.is_rendering())

    # ================================================================== view

    def set_mode(self, mode: ViewMode) -> None:
        self.view.set_mode(mode)
        self.settings.view_mode = mode.value
        if self._comparing:
            self.set_comparing(False)
        self._sync_mode_actions()

    def set_comparing(self, on: bool) -> None:
        """Show the Compare view (every model on the selected photo) instead of before/after."""
        self._comparing = bool(on)
        if self._comparing:
            self.commands["hints"].setChecked(False)  # hints are placed on the before/after view
            self.comparison.show_item(self.selected_item())
        else:
            self.comparison.stop()
        self._sync_mode_actions()
        self.update_state()
        self._on_zoom(self.compare_panel.grid.zoom_percent() if self._comparing else self.view.zoom_percent())

    @property
    def comparing(self) -> bool:
        return self._comparing

    def _refresh_comparison(self) -> None:
        if self._comparing:
            self.comparison.show_item(self.selected_item())

    def _zoomed(self) -> CompareView | ModelGrid:
        return self.compare_panel.grid if self._comparing else self.view

    def _sync_mode_actions(self) -> None:
        for key, checked in (("side", not self._comparing and self.view.mode() == ViewMode.SIDE_BY_SIDE),
                             ("split", not self._comparing and self.view.mode() == ViewMode.SPLIT),
                             ("compare", self._comparing)):
            action = self.commands[key]
            action.blockSignals(True)
            action.setChecked(checked)
            action.blockSignals(False)

    def _toggle_overlay(self, on: bool) -> None:
        self.view.set_overlay_visible(on)

    def _toggle_hints(self, on: bool) -> None:
        self.hint_tool.set_active(on)
        if on:
            self.view.setFocus()
            self.status("Click the photo to pin a color, drag to paint; drag a marker to move it, "
                         "Delete removes it", 8000)

    def _on_guidance_changed(self, item_id: int) -> None:
        """Hints or reference changed: re-render that photo (the pipeline supersedes a stale render)."""
        self.pipeline.hints_changed(item_id)
        item = self.queue.find(item_id)
        if item is not None:
            self.queue.changed(item)  # the filmstrip's hint badge and tooltip
        selected = self.selected_item()
        if selected is not None and selected.id == item_id:
            self._refresh_comparison()
        self.update_state()

    def _on_zoom(self, percent: float) -> None:
        self.zoom_label.setText(f"{percent:.0f} %" if percent > 0 else "")

    def _adjustments(self) -> Adjustments:
        panel = self.adjust_panel
        return Adjustments(panel.work_size(), panel.saturation(), panel.temperature(), self.repair_panel.settings())

    # ================================================================== export

    def start_export(self, settings: "ExportSettings", items: list[QueueItem]) -> bool:
        """Export `items` at full resolution in the background (see ExportFlow.start_export)."""
        return self.export_flow.start_export(settings, items)

    def cancel_export(self) -> None:
        self.export_flow.cancel()

    # ================================================================== state and lifecycle

    def showEvent(self, event) -> None:
        """Previews are made for this screen: its long side in device pixels, within reason."""
        super().showEvent(event)
        screen = self.screen()
        if screen is not None:
            size = screen.geometry().size() * screen.devicePixelRatio()
            self.pipeline.preview_max_side = max(1280, min(2048, max(size.width(), size.height())))

    def changeEvent(self, event: QEvent) -> None:
        """Light/dark switch while running: the drawn icons follow the new text colour."""
        if event.type() == QEvent.Type.PaletteChange:
            for action in self.commands.values():
                if action.data():
                    action.setIcon(resources.icon(str(action.data())))
        super().changeEvent(event)

    def status(self, text: str, timeout_ms: int = 0) -> None:
        self.status_message.emit(text, timeout_ms)

    def update_state(self, *args) -> None:
        has_items = len(self.queue) > 0
        if self._comparing and not has_items:
            self.set_comparing(False)
        self.stack.setCurrentWidget((self.compare_panel if self._comparing else self.view) if has_items else self.empty)
        self.filmstrip.setVisible(has_items)
        no_model = self._model_list_loaded and not self.models.choices()
        self.empty.set_model_missing(no_model)
        selected = self.selected_item()
        choice = self.models.model_choice()
        ready = self.models.colorizer is not None
        exporting = self.export_flow.running
        self.commands["export"].setEnabled(ready and not exporting and selected is not None
                                          and selected.state != ItemState.FAILED)
        self.commands["export_all"].setEnabled(ready and not exporting and bool(self.done_items()))
        self.commands["cancel"].setEnabled(exporting)
        self.commands["show_export"].setEnabled(self.last_export is not None and bool(self.last_export.written))
        self.commands["remove"].setEnabled(selected is not None)
        self.commands["hints"].setEnabled(ready and has_items and not self._comparing)
        if not self.commands["hints"].isEnabled():
            self.commands["hints"].setChecked(False)  # no photo or model: the view pans again
        self.commands["clear_hints"].setEnabled(selected is not None and bool(selected.hints))
        self.commands["save_hints"].setEnabled(selected is not None and bool(selected.hints))
        self.commands["load_hints"].setEnabled(selected is not None and selected.state != ItemState.FAILED)
        self.reference_panel.setEnabled(selected is not None and selected.state != ItemState.FAILED)
        self.commands["clear"].setEnabled(has_items)
        for key in ("fit", "actual", "zoom_in", "zoom_out"):
            self.commands[key].setEnabled(has_items)
        self.adjust_panel.setEnabled(choice is not None)  # nothing to adjust without a model
        overlay_ok = choice is not None and choice.classification
        self.commands["confidence"].setEnabled(overlay_ok and has_items and not self._comparing)
        self.commands["compare"].setEnabled(has_items and bool(self.models.choices()))
        self.commands["confidence"].setToolTip(
            "Highlight where the model is unsure of the color (Ctrl+U)" if overlay_ok
            else "This model gives no confidence map")
        self._update_queue_label()

    def _update_queue_label(self) -> None:
        counts = self.queue.counts()
        total = len(self.queue)
        if total:
            items = self.queue.items
            text = f"{sum(1 for i in items if i.colorized)} of {total} colorized"
            if any(i.colorized and i.state == ItemState.WORKING for i in items):
                text += " · updating"
            if counts[ItemState.FAILED]:
                text += f" · {counts[ItemState.FAILED]} failed"
            self.queue_label.setText(text)
        else:
            self.queue_label.setText("")

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Cancel all work and wait for the workers; called when the window closes."""
        self._adjust_timer.stop()
        self.filmstrip.set_busy(False)
        return self.runner.shutdown(timeout_ms)
