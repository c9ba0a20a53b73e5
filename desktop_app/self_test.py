"""`chroma gui --self-test`: prove the packaged window works end to end, then exit.

It drives the real window the way a person would (add a photo, wait for the preview, export),
through the same workers, and checks the exported file. It creates and trains nothing on disk:
with no model installed it colorizes with an untrained in-memory U-Net and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from ml_core.imageio import read_image
from ml_core.paths import resources_dir

from .colorize.queue import ItemState
from .main_window import MainWindow

TIMEOUT_S = 180.0


class SelfTestError(Exception):
    pass


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the event loop until `predicate` holds (the GUI keeps working meanwhile)."""
    if predicate():
        return
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: (predicate() or time.monotonic() > deadline) and loop.quit())
    timer.start()
    loop.exec()
    timer.stop()
    if not predicate():
        raise SelfTestError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _sample() -> Path:
    samples = sorted((resources_dir() / "samples").glob("*.jpg"))
    if not samples:
        raise SelfTestError(f"no sample photos in {resources_dir() / 'samples'}")
    return samples[0]


def _choose_model(window: MainWindow, say: Callable[[str], None]) -> str:
    from ml_core.modelfile import ModelFileError
    from ml_core.store import ModelStore

    tab = window.colorize_tab
    try:
        name = ModelStore().default_name()
        say(f"model: {name} (from the model store)")
        tab.refresh_models(select=name)
        return name
    except ModelFileError:
        from ml_core.modelfile import LoadedModel, info_for
        from ml_core.models import create

        model = create("unet", width=8).eval()
        name = "self-test (untrained)"
        loaded = LoadedModel(model=model, info=info_for(model, name, work_size=128,
                                                        description="untrained stand-in for the self-test"))
        say("model: none installed; using an untrained tiny U-Net built in memory (colors are random)")
        tab.use_in_memory_model(loaded, name)
        return name


def run_self_test(app: QApplication, window: MainWindow, workdir: Path) -> int:
    def say(text: str) -> None:
        print(f"self-test: {text}", flush=True)

    tab = window.colorize_tab
    tab.confirm = lambda title, text: False  # never replace anything; nothing should exist anyway
    tab.report = lambda report: None
    try:
        start = time.perf_counter()
        wait_until(lambda: window.isVisible(), 10, "the window to show")
        name = _choose_model(window, say)
        wait_until(lambda: tab.current_model() == name and tab.pipeline.colorizer is not None,
                   TIMEOUT_S, f"model {name!r} to load")
        say(f"model loaded in {time.perf_counter() - start:.1f} s")

        sample = _sample()
        items = tab.add_paths([sample])
        if len(items) != 1:
            raise SelfTestError(f"adding {sample} gave {len(items)} queue items")
        item = items[0]
        t = time.perf_counter()
        wait_until(lambda: item.state == ItemState.FAILED or (item.state == ItemState.DONE and tab.view.has_images),
                   TIMEOUT_S, "the preview")
        if item.state == ItemState.FAILED:
            raise SelfTestError(f"colorizing {sample.name} failed: {item.error}")
        if not tab.view.has_images:
            raise SelfTestError("the preview did not reach the screen")
        say(f"preview of {sample.name} in {time.perf_counter() - t:.2f} s")

        from ml_core.batch import ExportSettings

        out_dir = workdir / "export"
        reports = []
        tab.export_finished.connect(reports.append)
        if not tab.start_export(ExportSettings(out_dir=out_dir, fmt="png"), [item]):
            raise SelfTestError("the export did not start")
        wait_until(lambda: bool(reports), TIMEOUT_S, "the export")
        report = reports[0]
        if report.failed or report.error or len(report.written) != 1:
            raise SelfTestError(f"export failed: {report.summary()}")
        out = report.written[0]
        exported, original = read_image(out), read_image(sample)
        if exported.size != original.size:
            raise SelfTestError(f"exported {exported.size}, expected the photo's own size {original.size}")
        if exported.pixels.ndim != 3:
            raise SelfTestError("the exported photo is not in color")
        say(f"exported {out.name} ({exported.width}×{exported.height})")
        say(f"OK in {time.perf_counter() - start:.1f} s")
        return 0
    except SelfTestError as exc:
        say(f"FAILED: {exc}")
        return 1
