"""`chroma gui --self-test`: prove the packaged window works end to end, then exit.

It drives the real window the way a person would (add a photo, wait for the preview, export),
through the same workers, and checks the exported file. With no model installed it colorizes
with an untrained in-memory U-Net and says so.

Then it drives the Training tab through its own controls: a fine-tune of a few steps on generated
color photos, the new model saved with its card, listed in the Colorize tab and selected there by
"Try it". Everything the training writes (photos, model, run folder, cache) goes to the self-test's
temporary folder: the person's models and runs are never touched.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from ml_core.io.imageio import read_image
from ml_core.io.paths import resources_dir

from .colorize.photo_queue import ItemState
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
    from ml_core.modelfiles.modelfile import ModelFileError
    from ml_core.modelfiles.store import ModelStore

    tab = window.colorize_tab
    try:
        name = ModelStore().default_name()
        say(f"model: {name} (from the model store)")
        tab.refresh_models(select=name)
        return name
    except ModelFileError:
        from ml_core.modelfiles.modelfile import LoadedModel, info_for
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

        from ml_core.inference.batch import ExportSettings

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
        _hint_self_test(tab, item, workdir, say)
        _training_self_test(window, workdir, say)
        say(f"OK in {time.perf_counter() - start:.1f} s")
        return 0
    except SelfTestError as exc:
        say(f"FAILED: {exc}")
        return 1


def _hint_self_test(tab, item, workdir: Path, say: Callable[[str], None]) -> None:
    """A red hint in the middle of the sample must turn the middle of the exported photo red:
    the packaged app's proof that hint propagation and per-photo export both work."""
    from ml_core.evaluation.metrics import lab_image
    from ml_core.guidance.hints import Hint
    from ml_core.inference.batch import ExportSettings

    red = (60.0, 45.0)
    t = time.perf_counter()
    tab.hint_editor.add(item, Hint.at(0.5, 0.5, red, radius=0.02))
    wait_until(lambda: item.preview is not None and item.preview.key[-1] == item.guidance_key()
               and not tab.pipeline.is_rendering(item.id), TIMEOUT_S, "the hinted preview")
    say(f"hinted preview in {time.perf_counter() - t:.2f} s")
    reports = []
    tab.export_finished.connect(reports.append)
    if not tab.start_export(ExportSettings(out_dir=workdir / "export", fmt="png", pattern="{name}_hinted"), [item]):
        raise SelfTestError("the hinted export did not start")
    wait_until(lambda: bool(reports), TIMEOUT_S, "the hinted export")
    report = reports[0]
    if report.failed or report.error or len(report.written) != 1:
        raise SelfTestError(f"hinted export failed: {report.summary()}")
    pixels = read_image(report.written[0]).pixels
    h, w = pixels.shape[:2]
    ab = lab_image(pixels[h // 2 - 2:h // 2 + 3, w // 2 - 2:w // 2 + 3])[1:].mean(dim=(1, 2))
    # A dark spot cannot hold that much red (the engine lowers chroma to stay in gamut), so the
    # check is on hue and a clearly colored result, not on the exact a*b*.
    hue_error = abs(math.degrees(math.atan2(float(ab[1]), float(ab[0])) - math.atan2(red[1], red[0])))
    if hue_error > 12 or math.hypot(float(ab[0]), float(ab[1])) < 15:
        raise SelfTestError(f"the hint asked for a*b* {red}, the export has ({float(ab[0]):.0f}, {float(ab[1]):.0f})")
    say(f"hinted export has a*b* ({float(ab[0]):.0f}, {float(ab[1]):.0f}) at the hint")


def _training_base(say: Callable[[str], None]) -> str:
    """The model to fine-tune: the store's default, or (none installed) a tiny untrained U-Net."""
    from ml_core.modelfiles.modelfile import ModelFileError
    from ml_core.modelfiles.store import ModelStore

    try:
        return ModelStore().default_name()
    except ModelFileError:
        import torch

        from ml_core.modelfiles.modelfile import info_for, save_model
        from ml_core.models import create

        torch.manual_seed(0)
        model = create("unet", width=8)
        name = "self-test-base"
        save_model(model, ModelStore().user_model_path(name),
                   info_for(model, name, work_size=128, description="untrained stand-in for the self-test"))
        say("training: no model installed; fine-tuning an untrained tiny U-Net")
        return name


def _training_self_test(window: MainWindow, workdir: Path, say: Callable[[str], None]) -> None:
    from ml_core.modelfiles.store import ModelStore
    from ml_core.training.synthetic import write_synthetic_photos

    keys = ("CHROMA_DATA_DIR", "CHROMA_CACHE_DIR")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ["CHROMA_DATA_DIR"] = str(workdir / "user-data")
    os.environ["CHROMA_CACHE_DIR"] = str(workdir / "user-cache")
    try:
        tab, colorize = window.training_tab, window.colorize_tab
        tab.confirm = lambda title, text: False
        t = time.perf_counter()
        base = _training_base(say)
        base_file = ModelStore().find(base).path
        base_hash = hashlib.sha256(base_file.read_bytes()).hexdigest()
        photos = workdir / "training-photos"
        write_synthetic_photos(photos, 16, size=(64, 80), seed=7)

        window.tabs.setCurrentWidget(tab)
        colorize.refresh_models()
        wait_until(lambda: tab.setup.base_combo.findData(base) >= 0, TIMEOUT_S, f"{base!r} in the base model list")
        tab.add_folders([photos])
        setup = tab.setup
        setup.select_base(base)
        setup.advanced.toggle.click()
        setup.size_spin.setValue(64)
        setup.batch_spin.setValue(4)
        setup.epochs_spin.setValue(1)
        setup.name_edit.setText("self-test-tuned")
        wait_until(lambda: setup.summary is not None and setup.summary.size == 64 and tab.start_button.isEnabled(),
                   TIMEOUT_S, "the training photos to be checked")
        say(f"training: {setup.summary.usable} generated photos, {setup.summary.train} to train on, "
            f"{setup.summary.val} to validate")
        tab.start_button.click()
        if not tab.session.active:
            raise SelfTestError(f"training did not start: {tab.status_label.text()}")
        wait_until(lambda: not tab.session.active, TIMEOUT_S, "the fine-tune")
        outcome = tab.session.outcome
        if outcome is None or outcome.status != "completed" or outcome.result is None or not outcome.result.model_path:
            raise SelfTestError(f"the fine-tune did not complete: {outcome.message if outcome else 'no outcome'}")
        result = outcome.result
        if tab.plot.point_count == 0 or tab.samples.updates == 0:
            raise SelfTestError("the loss plot or the sample panel received nothing")
        name = Path(result.model_path).stem
        if not Path(result.model_path).is_file() or not Path(result.model_path).with_suffix(".md").is_file():
            raise SelfTestError(f"the new model or its card is missing: {result.model_path}")
        if hashlib.sha256(base_file.read_bytes()).hexdigest() != base_hash:
            raise SelfTestError(f"the base model {base!r} was modified")
        say(f"training: fine-tuned {base!r} for {result.steps_completed} steps into {name!r} "
            f"in {time.perf_counter() - t:.1f} s")
        wait_until(lambda: name in colorize.model_panel.names(), TIMEOUT_S, f"{name!r} in the Colorize model list")
        tab.try_button.click()
        wait_until(lambda: colorize.current_model() == name and colorize.pipeline.colorizer is not None
                   and window.tabs.currentWidget() is colorize, TIMEOUT_S, f"Colorize to load {name!r}")
        say(f"training: {name!r} is selected and loaded in the Colorize tab")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
