"""What every screenshot script needs: a throw-away user folder, a model to show, and a way to
let the window settle. Kept in one place so the scripts only say what they photograph."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def isolated_user_dirs(prefix: str, theme: str) -> Path:
    """Point the app's per-user data and cache at a new temporary folder (nothing real is touched)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["CHROMA_DATA_DIR"] = str(tmp / "data")
    os.environ["CHROMA_CACHE_DIR"] = str(tmp / "cache")
    os.environ["CHROMA_THEME"] = theme
    return tmp


def ensure_a_model() -> None:
    """Without the bundled `default` model, write an untrained tiny U-Net to the throw-away store:
    its colors are random, which is fine for showing the layout."""
    from ml_core.io.paths import builtin_models_dir, user_models_dir

    if (builtin_models_dir() / "default.safetensors").is_file():
        return
    import torch

    from ml_core.modelfiles.modelfile import info_for, save_model
    from ml_core.models import create

    torch.manual_seed(0)
    model = create("unet", width=16)
    save_model(model, user_models_dir() / "untrained-preview.safetensors",
               info_for(model, "untrained-preview",
                        description="Untrained U-Net (screenshots only; colors are random)"))


def open_window(size: str, out: Path):
    """The real main window at `size` ("WxH") with its model loaded; returns (app, window, tab).

    The app object is returned so the caller keeps it alive for the whole run."""
    from desktop_app.app import create_app
    from desktop_app.main_window import MainWindow
    from desktop_app.self_test import wait_until

    app = create_app()
    window = MainWindow()
    w, h = (int(v) for v in size.split("x"))
    window.resize(w, h)
    window.show()
    tab = window.colorize_tab
    tab.refresh_models()
    wait_until(lambda: tab.pipeline.colorizer is not None, 120, "the model")
    out.mkdir(parents=True, exist_ok=True)
    return app, window, tab


def settle(ms: int = 300) -> None:
    """Let queued paints and timers run for `ms` before a grab."""
    from PySide6.QtCore import QTimer

    from desktop_app.self_test import wait_until

    done: list[int] = []
    QTimer.singleShot(ms, lambda: done.append(1))
    wait_until(lambda: bool(done), 10, "the UI to settle")
