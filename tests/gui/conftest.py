"""GUI test fixtures: tiny model files in the per-test store, gray test photos, a ready window.

The model store may be empty in a fresh checkout, so every test that needs a model writes its
own tiny untrained U-Net into the (per-test) user models folder. Untrained weights give random
but deterministic colors, which is all the window's plumbing needs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from gui_helpers import FIXTURES, TINY, TINY_AB, synthetic_photo, write_model


@pytest.fixture
def tiny_model() -> str:
    write_model(TINY, seed=0)
    return TINY


@pytest.fixture
def two_models() -> tuple[str, str]:
    write_model(TINY, seed=0)
    write_model(TINY_AB, seed=1, head="ab", description="Tiny regression model (no confidence)")
    return TINY, TINY_AB


@pytest.fixture
def gray_photos(tmp_path: Path) -> list[Path]:
    """Four gray JPEGs of different sizes (fixture photos when available), in a folder of their own."""
    folder = tmp_path / "photos"
    folder.mkdir()
    sources = sorted(FIXTURES.glob("*.jpg"))[:4]
    sizes = [(320, 240), (200, 300), (256, 256), (300, 180)]
    out = []
    for i, size in enumerate(sizes):
        img = Image.open(sources[i]).convert("L").resize(size) if i < len(sources) else synthetic_photo(size, i)
        path = folder / f"photo_{i + 1}.jpg"
        img.save(path, quality=90)
        out.append(path)
    return out


@pytest.fixture
def window(qtbot):
    """The real main window, shown offscreen; closed (workers stopped) at teardown by qtbot."""
    from desktop_app.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    tab = win.colorize_tab
    tab.confirm_calls = []

    def confirm(title: str, text: str) -> bool:
        tab.confirm_calls.append((title, text))
        return tab.confirm_answer

    tab.confirm_answer = True
    tab.confirm = confirm
    tab.reports = []
    tab.report = tab.reports.append
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def ready_window(window, tiny_model, qtbot):
    """A window whose model list is read and whose model is loaded."""
    tab = window.colorize_tab
    tab.refresh_models()
    qtbot.waitUntil(lambda: tab.pipeline.colorizer is not None, timeout=30_000)
    return window


