"""Helpers shared by the GUI tests (import with `from gui_helpers import ...`)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from ml_core.io.paths import user_models_dir

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "photos" / "fixtures"
TINY = "tiny"
TINY_AB = "tiny-ab"


def write_model(name: str, seed: int, head: str = "bins313", folder: Path | None = None,
                description: str = "") -> Path:
    import torch

    from ml_core.modelfiles.modelfile import info_for, save_model
    from ml_core.models import create

    torch.manual_seed(seed)
    model = create("unet", width=8, depth=2, head=head)
    with torch.no_grad():  # untrained but with enough chroma to tell two models apart
        for p in model.parameters():
            p.mul_(1.5)
    path = (folder or user_models_dir()) / f"{name}.safetensors"
    save_model(model, path, info_for(model, name, work_size=64,
                                     description=description or f"Tiny untrained test model ({head})",
                                     metrics={"val_psnr": 20.5}))
    return path


def synthetic_photo(size: tuple[int, int], seed: int) -> Image.Image:
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    img = 128 + 80 * np.sin(x / (7 + seed)) * np.cos(y / 11) + rng.normal(0, 6, (h, w))
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "L")


def gray_fixture_photo(tmp_path: Path, name: str, size: tuple[int, int], source: str = "coffee.jpg") -> Path:
    """A gray JPEG of a fixture photo at `size` (a synthetic photo when the fixtures are absent)."""
    src = FIXTURES / source
    img = (Image.open(src).convert("L").resize(size, Image.Resampling.BICUBIC) if src.is_file()
           else synthetic_photo(size, 3))
    path = tmp_path / name
    img.save(path, quality=92)
    return path


def open_training_tab(window, qtbot):
    """The Training tab in front, its questions answered yes, the store's models listed as bases
    (write model files before calling, so the store is filled when it is read)."""
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.confirm = lambda title, text: True
    window.colorize_tab.refresh_models()
    qtbot.waitUntil(lambda: window.colorize_tab._model_list_loaded and tab.setup.arch_combo.count() > 0,
                    timeout=30_000)
    return tab


def digest(paths: Iterable[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def drop_files(window, paths: Iterable[Path]) -> QDropEvent:
    """What the OS sends when files are dragged from a file manager and released on the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    center = window.rect().center()
    enter = QDragEnterEvent(QPoint(center), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window refused the drag"
    event = QDropEvent(QPointF(QPoint(center)), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    return event


def wait_all_settled(qtbot, tab, timeout: int = 30_000) -> None:
    from desktop_app.colorize.photo_queue import ItemState

    qtbot.waitUntil(lambda: len(tab.queue) > 0 and all(i.state in (ItemState.DONE, ItemState.FAILED)
                                                      for i in tab.queue.items), timeout=timeout)


class Heartbeat:
    """A 10 ms timer on the GUI thread: its tick times show whether the thread ever froze."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self._timer = QTimer()
        self._timer.setInterval(10)
        self._timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self._timer.start()
        self.start = time.perf_counter()

    def stop(self) -> np.ndarray:
        """Stop and return the gaps between consecutive ticks (from the start), in seconds."""
        self._timer.stop()
        return np.diff([self.start, *self.ticks])
