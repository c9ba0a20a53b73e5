"""How photos get into the queue: files and folders (dialogs, drops, the command line), model
files dropped by mistake or on purpose, and raw image data from the clipboard or a browser.

Unusable entries become failed queue items with the reason, never an exception. Folders are
searched on a worker (a deep or network folder can take a while) and their photos follow.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QObject
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from ml_core.io.imageio import SUPPORTED_SUFFIXES, collect_images
from ml_core.io.paths import user_cache_dir

from ..workers import PRIORITY_PREVIEW, describe_error
from . import jobs
from .photo_queue import ItemState, QueueItem

if TYPE_CHECKING:
    from .tab import ColorizeTab

MODEL_SUFFIX = ".safetensors"


class PhotoIntake(QObject):
    """Public API (through the tab): add_paths, can_accept, handle_mime, paste, add_image,
    open_photos, open_folder."""

    def __init__(self, tab: "ColorizeTab") -> None:
        super().__init__(tab)
        self.tab = tab
        self._pasted = 0

    def add_paths(self, paths: Iterable[Path | str]) -> list[QueueItem]:
        """Queue photos and folders; unusable entries become failed items with the reason.

        Files are added at once (returned); folders are searched by a worker, since a deep or
        network folder can take a while, and their photos follow (photos_added fires).
        """
        tab = self.tab
        paths = [Path(p) for p in paths]
        folders = [p for p in paths if p.is_dir()]
        files = [p for p in paths if p not in folders]
        if folders:
            tab.settings.add_recent("folders", [str(f.absolute()) for f in folders])
            tab.settings.last_open_dir = str(folders[0])
            tab.status(f"Looking for photos in {folders[0].name}…")
            tab.runner.submit(collect_images, folders, name="scan folders",
                              priority=PRIORITY_PREVIEW, on_result=lambda found: self._add_collected(*found),
                              on_error=lambda e: tab.status(f"Could not read the folder: {describe_error(e)}"))
        if not files:
            return []
        if files[0].parent.is_dir():
            tab.settings.last_open_dir = str(files[0].parent)
        images, problems = collect_images(files)
        cache = user_cache_dir().absolute()
        tab.settings.add_recent("photos", [str(p.absolute()) for p in images
                                           if not p.absolute().is_relative_to(cache)])  # not pasted images
        return self._add_collected(images, problems)

    def _add_collected(self, images: list[Path], problems: list[tuple[Path, str]]) -> list[QueueItem]:
        tab = self.tab
        queue = tab.queue
        new: list[QueueItem] = []
        for path in images:
            if queue.find_path(path) is None:
                new.append(QueueItem(path))
        for path, reason in problems:
            if queue.find_path(path) is None:
                new.append(QueueItem(path, state=ItemState.FAILED, error=reason))
        queue.add(new)
        tab.pipeline.add_items(new)
        ok = [i for i in new if i.state != ItemState.FAILED]
        added = f"Added {len(ok)} photo{'s' if len(ok) != 1 else ''}"
        if problems:
            path, reason = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            tab.status(f"{added}. Skipped {path.name}: {reason}{more}", 10000)
        elif ok:
            tab.status(added, 4000)
        elif images:
            tab.status("Already in the queue", 4000)
            tab.select_item(queue.find_path(images[0]).id)
        else:
            tab.status("No photos found there", 6000)
        # The first new photo is shown, also when one was on screen: whoever drops photos wants to
        # see them (a photo that could not be read is shown only when nothing else is).
        if ok or (new and tab.selected_item() is None):
            first = (ok or new)[0]
            tab.select_item(first.id)
            tab.filmstrip.scrollTo(queue.index(queue.row_of(first.id)))
        tab.update_state()
        tab.photos_added.emit(new)
        return new

    def can_accept(self, mime: QMimeData) -> bool:
        return (mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())) or mime.hasImage()

    def handle_mime(self, mime: QMimeData) -> bool:
        """A drop or a paste: files and folders, model files, or raw image data."""
        if mime.hasUrls():
            local = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
            models = [p for p in local if p.suffix.lower() == MODEL_SUFFIX and p.is_file()]
            others = [p for p in local if p not in models]
            for model in models:
                self.tab.import_model_file(model, ask=True)
            if others:
                self.add_paths(others)
            if local:
                return True
        if mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.add_image(image)
                return True
        return False

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None or not self.handle_mime(mime):
            self.tab.status("The clipboard holds no image or photo files", 5000)

    def add_image(self, image: QImage) -> None:
        """Raw image data (clipboard, dragged from a browser): saved to the cache as PNG first."""
        self._pasted += 1
        stem = time.strftime("pasted-%Y%m%d-%H%M%S") + (f"-{self._pasted}" if self._pasted > 1 else "")
        folder = user_cache_dir() / "pasted"
        self.tab.runner.submit(jobs.save_pasted, image, folder, stem, name="paste",
                               priority=PRIORITY_PREVIEW, on_result=lambda path: self.add_paths([path]),
                               on_error=lambda e: self.tab.status(f"Could not paste: {describe_error(e)}"))

    def open_photos(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES))
        files, _ = QFileDialog.getOpenFileNames(self.tab, "Open photos", self.tab.settings.last_open_dir,
                                                f"Photos ({patterns});;All files (*)")
        if files:
            self.add_paths(files)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.tab, "Open a folder of photos",
                                                  self.tab.settings.last_open_dir)
        if folder:
            self.add_paths([folder])
