"""Window benchmarks: `python bench/bench_gui.py` prints launch and preview times.

* launch to window: wall time from starting `chroma gui` (and `python -m desktop_app`) to the
  window's first frame, as a fresh process each time (`--quit-when-shown` exits right after it).
* launch to first preview: from starting `chroma gui PHOTO` (a small photo) to its colorized
  preview on screen, a fresh process each time (`--quit-when-previewed`): process start, imports,
  model load and the first render, which is what a person waits for.
* drop to preview: time from dropping a photo on the window (a real QDropEvent) to its colorized
  preview on screen, at default settings, for a small photo and a 12-megapixel one. The model is
  loaded first (its load time is reported separately). Uses the store's default model, or, when
  none is installed, an untrained U-Net of the default architecture (same cost, random colors).

`--load` measures the drop-to-preview rows again beside one competing CPU-bound process that the
bench starts and stops itself. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import FIXTURES, competitor, make_photo, print_table  # noqa: E402


def launch_time(module_args: list[str], repeat: int, marker: str = "chroma-window-shown",
                flag: str = "--quit-when-shown") -> float:
    """Median seconds from process start to the line `marker` (the window shown, a first preview)."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    env.setdefault("CHROMA_DATA_DIR", tempfile.mkdtemp(prefix="chroma-bench-"))
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", *module_args, flag], cwd=REPO, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        shown = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == marker:
                shown = time.perf_counter() - start
                break
        proc.wait(timeout=120)
        if shown is None:
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"{' '.join(module_args)} never printed {marker}: {err}")
        times.append(shown)
    return statistics.median(times)


def preview_latency(photos: list[Path], repeat: int, load: bool = False) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("CHROMA_DATA_DIR", tempfile.mkdtemp(prefix="chroma-bench-"))
    from desktop_app.app import create_app
    from desktop_app.main_window import MainWindow
    from desktop_app.self_test import wait_until

    app = create_app()
    window = MainWindow()
    window.resize(1360, 840)
    window.show()
    tab = window.colorize_tab
    t = time.perf_counter()
    model = _use_model(tab)
    wait_until(lambda: tab.pipeline.colorizer is not None, 300, "the model")
    load_s = time.perf_counter() - t
    rows = []
    for photo, loaded in [(p, False) for p in photos] + ([(p, True) for p in photos] if load else []):
        samples = []
        for _ in range(repeat):
            tab.clear_queue()
            shown = []
            tab.preview_shown.connect(shown.append)
            with competitor(loaded):
                start = time.perf_counter()
                _drop(window, photo)
                wait_until(lambda: bool(shown), 300, "the preview")
                samples.append(time.perf_counter() - start)
            tab.preview_shown.disconnect(shown.append)
        item = tab.items()[0]
        w, h = item.preview.original_size
        where = ", beside a CPU-bound process" if loaded else ""
        rows.append({"measure": f"drop to preview, {w}×{h} ({w * h / 1e6:.1f} MP){where}", "model": model,
                     "value": f"{min(samples) * 1000:.0f} ms (median {statistics.median(samples) * 1000:.0f})"})
    rows.insert(0, {"measure": "model load after launch", "model": model, "value": f"{load_s:.2f} s"})
    window.close()
    del app
    return rows


def _drop(window, photo: Path) -> None:
    """The events a file manager sends when a file is released over the window."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    pos = QPoint(window.width() // 2, window.height() // 2)  # drag-enter takes an integer point
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, QDragEnterEvent(pos, *args))
    QApplication.sendEvent(window, QDropEvent(QPointF(pos), *args))


def _use_model(tab) -> str:
    from ml_core.modelfiles.modelfile import ModelFileError
    from ml_core.modelfiles.store import ModelStore

    try:
        name = ModelStore().default_name()
        tab.refresh_models(select=name)
        return name
    except ModelFileError:
        from ml_core.modelfiles.modelfile import LoadedModel, info_for
        from ml_core.models import create

        model = create("unet").eval()
        tab.use_in_memory_model(LoadedModel(model=model, info=info_for(model, "unet-untrained")), "unet-untrained")
        return "unet (untrained, default architecture)"


def main() -> None:
    from ml_core import runtime

    runtime.configure()  # as the window's entry points do, before this process imports torch
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load", action="store_true", help="drop-to-preview again beside a CPU-bound process")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [
        {"measure": "launch to window: chroma gui", "model": "-",
         "value": f"{launch_time(['ml_core.cli', 'gui'], args.repeat):.2f} s"},
        {"measure": "launch to window: python -m desktop_app", "model": "-",
         "value": f"{launch_time(['desktop_app'], args.repeat):.2f} s"},
    ]
    cache = Path(tempfile.gettempdir()) / "chroma-bench-photos"
    small = sorted(FIXTURES.glob("*.jpg"))[:1] or [make_photo(cache / "small.jpg", 384, 256, gray=True)]
    big = make_photo(cache / "12mp_gray.jpg", 4000, 3000, gray=True)
    first = launch_time(["ml_core.cli", "gui", str(small[0])], args.repeat, "chroma-first-preview",
                        "--quit-when-previewed")
    rows.append({"measure": f"launch to first preview: chroma gui {small[0].name}", "model": "default",
                 "value": f"{first:.2f} s"})
    rows += preview_latency([*small, big], args.repeat, args.load)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows, [("measure", "measure"), ("model", "model"), ("value", "result")])


if __name__ == "__main__":
    main()
