"""Reference photos: read in a worker, cached per file, stored on the photo they steer.

A reference is read and sampled once (ml_core.guidance.reference.ReferencePalette.from_file, ~0.1-0.3 s)
and reused for every photo that names it and every re-render; a file changed on disk is read
again. Problems (a gray reference, an unreadable file) are shown in the panel, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFileDialog, QWidget

from ml_core.io.imageio import SUPPORTED_SUFFIXES

from ..workers import PRIORITY_PREVIEW, TaskRunner, describe_error
from . import jobs
from .photo_queue import QueueItem
from .reference_panel import THUMB, ReferencePanel

if TYPE_CHECKING:
    from ml_core.guidance.reference import ReferencePalette

_STRENGTH_DEBOUNCE_MS = 120


def _stamp(path: Path) -> tuple[str, int]:
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return str(path), -1


class ReferenceController(QObject):
    """Public API: set_reference(item, path), remove(item), show_item(item).
    `choose_file` is replaceable so tests need no file dialog."""

    changed = Signal(int)  # item id whose reference or strength changed (re-render it)
    loaded = Signal(int)  # item id whose reference finished loading (or failed)

    def __init__(self, panel: ReferencePanel, runner: TaskRunner, selected_item: Callable[[], QueueItem | None],
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.panel = panel
        self._runner = runner
        self._selected_item = selected_item
        self._parent = parent
        self._palettes: dict[tuple[str, int], "ReferencePalette"] = {}
        self._thumbs: dict[str, QPixmap] = {}
        self.choose_file: Callable[[], Path | None] = self._ask_file
        self._strength_timer = QTimer(self)  # slider drags: re-render once the hand pauses
        self._strength_timer.setSingleShot(True)
        self._strength_timer.setInterval(_STRENGTH_DEBOUNCE_MS)
        self._strength_item: int | None = None
        self._strength_timer.timeout.connect(self._emit_strength)
        panel.choose_requested.connect(self._choose)
        panel.reference_dropped.connect(lambda path: self._set_selected(path))
        panel.remove_requested.connect(lambda: self.remove(self._selected_item()))
        panel.strength_changed.connect(self._on_strength)

    # ------------------------------------------------------------------ API

    def set_reference(self, item: QueueItem, path: Path) -> None:
        """Read `path` (or reuse it) and make it `item`'s reference; errors go to the panel."""
        path = Path(path)
        key = _stamp(path)
        if key in self._palettes:
            self._apply(item, path, self._palettes[key])
            return
        if self._is_selected(item.id):
            self.panel.set_loading(path.name)
        self._runner.submit(jobs.load_reference, path, name="reference",
                            priority=PRIORITY_PREVIEW, on_result=partial(self._on_loaded, item, path, key),
                            on_error=partial(self._on_failed, item.id, path))

    def remove(self, item: QueueItem | None) -> None:
        if item is None or item.reference is None:
            return
        item.reference, item.reference_path = None, None
        self.panel.set_error("")
        self.show_item(item)
        self.changed.emit(item.id)

    def show_item(self, item: QueueItem | None) -> None:
        self.panel.setEnabled(item is not None)
        if item is None or item.reference is None:
            self.panel.show_reference(None, None, 1.0 if item is None else item.reference_strength)
            return
        path = item.reference_path
        assert path is not None
        self.panel.show_reference(path, self._thumbs.get(str(path)), item.reference_strength)
        if str(path) not in self._thumbs:
            self._load_thumb(path)

    # ------------------------------------------------------------------ internals

    def _is_selected(self, item_id: int) -> bool:
        item = self._selected_item()
        return item is not None and item.id == item_id

    def _ask_file(self) -> Path | None:
        patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
        name, _ = QFileDialog.getOpenFileName(self._parent, "Choose a color reference photo", "",
                                              f"Photos ({patterns});;All files (*)")
        return Path(name) if name else None

    def _choose(self) -> None:
        path = self.choose_file()
        if path is not None:
            self._set_selected(path)

    def _set_selected(self, path: Path) -> None:
        item = self._selected_item()
        if item is not None:
            self.set_reference(item, path)

    def _on_loaded(self, item: QueueItem, path: Path, key: tuple[str, int], palette: "ReferencePalette") -> None:
        self._palettes[key] = palette
        self._apply(item, path, palette)
        self.loaded.emit(item.id)

    def _on_failed(self, item_id: int, path: Path, error: Exception) -> None:
        message = describe_error(error)
        if self._is_selected(item_id):
            item = self._selected_item()
            self.show_item(item)
            self.panel.set_error(f"{path.name} cannot be used as a reference: {message}")
        self.loaded.emit(item_id)

    def _apply(self, item: QueueItem, path: Path, palette: "ReferencePalette") -> None:
        """Stored on the photo it was chosen for, even if another one is selected by now."""
        item.reference, item.reference_path = palette, path
        if self._is_selected(item.id):
            self.panel.set_error("")
            self.show_item(item)
        self.changed.emit(item.id)

    def _load_thumb(self, path: Path) -> None:
        box = QSize(THUMB.width() * 2, THUMB.height() * 2)
        self._runner.submit(jobs.make_thumbnail, path, box, name="reference thumbnail",
                            priority=PRIORITY_PREVIEW, on_result=partial(self._on_thumb, path),
                            on_error=lambda e: None)

    def _on_thumb(self, path: Path, image: QImage) -> None:
        self._thumbs[str(path)] = QPixmap.fromImage(image)
        item = self._selected_item()
        if item is not None and item.reference_path == path:
            self.show_item(item)

    def _on_strength(self, strength: float) -> None:
        item = self._selected_item()
        if item is None or item.reference is None:
            return
        item.reference_strength = strength
        self._strength_item = item.id
        self._strength_timer.start()

    def _emit_strength(self) -> None:
        if self._strength_item is not None:
            self.changed.emit(self._strength_item)
