"""The Colorize tab's worker jobs: thin calls into ml_core that run on a pool thread.

Each job is a plain function returning plain data (and thread-safe QImages), so the tab only
schedules them through `workers.TaskRunner` and never does image or model work itself. Heavy
ml_core modules (torch) are imported inside the jobs: the window can appear before torch loads.
"""

from __future__ import annotations

import html
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader

from ml_core.cancel import CancelToken
from ml_core.io.imageio import ImageReadError, LoadedImage, read_image

from .. import imaging
from ..workers import Progress, UserError

if TYPE_CHECKING:
    from ml_core.guidance.palette import ColorSuggestion
    from ml_core.guidance.reference import ReferencePalette
    from ml_core.inference.batch import ExportSettings, FileOutcome
    from ml_core.inference.engine import ColorizeOptions, Colorizer
    from ml_core.modelfiles.modelfile import LoadedModel
    from ml_core.repair import RepairSettings

PREVIEW_MAX_SIDE = 1600  # the preview's long side: screen-ish, so a slider drag stays quick


class ThreadPreference:
    """Edit > Preferences > CPU threads, applied by every job that runs a model, on its own worker
    thread (OpenMP keeps the count per thread). Set on the GUI thread; an int read is atomic."""

    wanted = 0  # 0: automatic
    changed = False  # once set, "automatic" must be put back on every worker thread too
    last_used: int | None = None  # what the last model job ran with (tests, the status bar)

    @classmethod
    def set(cls, count: int) -> None:
        cls.changed = cls.changed or bool(count)
        cls.wanted = int(count)

    @classmethod
    def apply(cls) -> None:
        if cls.changed:
            from ml_core.runtime import set_threads

            cls.last_used = set_threads(cls.wanted)


@dataclass
class ModelChoice:
    """One entry of the model selector, with everything the GUI shows about it precomputed."""

    name: str
    description: str
    builtin: bool
    arch: str
    output_kind: str
    work_size: int
    path: Path | None = None
    card: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    in_memory: "LoadedModel | None" = None  # self-test only: never written to disk
    default_temperature: float = 0.5  # filled from ml_core.color.quantize by the (worker-side) scan
    plain: str = ""  # ml_core.modelfiles.plain's line: colors, speed, what it copes with

    @property
    def classification(self) -> bool:
        """Classification heads have an annealed-mean temperature and a confidence map."""
        return self.output_kind != "ab"

    @property
    def kind_label(self) -> str:
        if self.in_memory is not None:
            return "temporary"
        return "built-in" if self.builtin else "yours"

    def summary(self) -> str:
        """The plain line (what it is good at, how fast); the author's own words when there is none."""
        if self.plain:
            return self.plain
        return self.description.strip().splitlines()[0] if self.description.strip() else f"{self.arch} model"

    def tooltip_html(self) -> str:
        lines = [f"<b>{html.escape(self.name)}</b> <i>({self.kind_label})</i>", html.escape(self.summary())]
        if self.plain and self.description.strip():
            lines.append(f"<i>{html.escape(self.description.strip().splitlines()[0])}</i>")
        return "<br>".join(lines)

    def details_markdown(self) -> str:
        from ml_core.modelfiles.plain import metric_lines

        parts = [f"### {self.name}", self.summary(), ""]
        if self.plain and self.description.strip():
            parts += [f"*{self.description.strip()}*", ""]  # `_x_` is underline in Qt's Markdown
        parts.append(f"- **Kind:** {self.kind_label}")
        parts.append(f"- **Architecture:** {self.arch} ({self.output_kind} head)")
        parts.append(f"- **Default render size:** {self.work_size} px")
        if self.classification:
            parts.append(f"- **Vividness:** temperature T = {self.default_temperature:.2f} by default "
                         "(the annealed-mean temperature: lower T gives more vivid, riskier color)")
        if self.path is not None:
            parts.append(f"- **File:** `{self.path.name}`")
        measured = metric_lines(self.metrics)
        if measured:
            parts += ["", "**Measured on its validation photos**", ""] + [f"- {k}: {v}" for k, v in measured]
        if self.training:
            parts += ["", "**Training**", ""] + [f"- {line}" for line in _training_lines(self.training)]
        if self.card.strip():
            parts += ["", "---", "", self.card.strip()]
        return "\n".join(parts)


def _training_lines(training: dict[str, Any]) -> list[str]:
    """The training notes a person can read: how long, on how many photos, from what."""
    def number(key: str, within: dict[str, Any] = training) -> float | None:
        value = within.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    data = training.get("data") if isinstance(training.get("data"), dict) else {}
    lines = []
    base = training.get("base")
    lines.append(f"Fine-tuned from {base}" if isinstance(base, str) and base and not training.get("from_scratch", True)
                 else "Trained from scratch")
    photos, steps, seconds = number("train", data), number("steps_completed"), number("seconds")
    if photos is not None:
        lines.append(f"{photos:,.0f} training photos")
    if steps is not None:
        took = ("" if not seconds else f" in {seconds / 3600:.1f} hours" if seconds >= 3600
                else f" in {seconds / 60:.0f} minutes" if seconds >= 120 else f" in {seconds:.0f} seconds")
        lines.append(f"{steps:,.0f} training steps{took}")
    parameters = number("parameters")
    if parameters:
        lines.append(f"{parameters / 1e6:.1f} million weights")
    return lines


def _choice_from_info(info: Any, name: str, builtin: bool, path: Path | None, card: str = "",
                      in_memory: "LoadedModel | None" = None) -> ModelChoice:
    from ml_core.color.quantize import DEFAULT_TEMPERATURE  # imports torch: only ever on a worker or later

    return ModelChoice(name=name, description=info.description or "", builtin=builtin, arch=info.arch,
                       output_kind=info.output_kind, work_size=int(info.work_size), path=path, card=card,
                       metrics=dict(info.metrics or {}), training=dict(info.training or {}), in_memory=in_memory,
                       default_temperature=float(DEFAULT_TEMPERATURE if info.temperature is None
                                                 else info.temperature),
                       plain=_plain(info))


def _plain(info: Any) -> str:
    """ml_core.modelfiles.plain's line; the weights are counted (without allocating them) when the
    training notes do not say, which is why this runs with the scan, on a worker."""
    from ml_core.modelfiles.meta import estimated_parameters
    from ml_core.modelfiles.plain import plain_summary

    counted = (info.training or {}).get("parameters")
    parameters = None if counted else estimated_parameters(info.arch, dict(info.config or {}))
    return plain_summary(info, parameters)


def scan_models(token: CancelToken, progress: Progress) -> list[ModelChoice]:
    """Every model in the store (built-ins first), with cards read here rather than on hover."""
    from ml_core.modelfiles.store import ModelStore

    return [_choice_from_info(e.info, e.name, e.builtin, e.path, e.card()) for e in ModelStore().entries()]


def choice_for_loaded(loaded: "LoadedModel", name: str) -> ModelChoice:
    return _choice_from_info(loaded.info, name, False, None, in_memory=loaded)


def load_colorizer(choice: ModelChoice) -> "Colorizer":
    """Loaded once per selection; the tab keeps and reuses the result."""
    from ml_core.inference.engine import Colorizer
    from ml_core.modelfiles.store import ModelStore

    ThreadPreference.apply()
    loaded = choice.in_memory if choice.in_memory is not None else ModelStore().load(choice.path or choice.name)
    return Colorizer(loaded)


def import_model(path: Path) -> str:
    """Copy a dropped model file into the user store (validated by loading); returns its name."""
    from ml_core.modelfiles.store import ModelStore

    store = ModelStore()
    name = store.unique_name(path.stem)
    return store.import_file(path, name=name).name


@dataclass
class RenderOutput:
    """A finished preview: images ready for the GUI thread to turn into pixmaps."""

    color: QImage
    gray: QImage
    overlay: QImage | None
    thumb: QImage
    original_size: tuple[int, int]  # (width, height) of the photo itself
    timings: dict[str, float]
    seconds: float
    overlay_range: tuple[float, float] | None = None  # confidence at no tint .. at full tint
    original_gray: QImage | None = None  # repair on: the photo before repair (`gray` is after)
    mask: QImage | None = None  # repair on, scratches among it: what was filled, as a red layer


class DecodedCache:
    """The last few decoded photos, so re-rendering the same photo (every hint edit) skips the
    disk read and decode: ~0.1 s of a ~0.7 s preview for a 12 MP JPEG. Keyed by path, size and
    modification time, so a photo changed on disk is read again. Shared by worker threads."""

    def __init__(self, capacity: int = 2) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, LoadedImage] = OrderedDict()

    def get(self, path: Path) -> LoadedImage:
        try:
            stat = path.stat()
            key = (str(path), stat.st_size, stat.st_mtime_ns)
        except OSError:
            key = None
        with self._lock:
            if key is not None and key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        try:
            image = read_image(path)
        except ImageReadError as exc:
            raise UserError(exc.reason) from None
        if key is not None:
            with self._lock:
                self._items[key] = image
                while len(self._items) > self._capacity:
                    self._items.popitem(last=False)
        return image

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


DECODED = DecodedCache()


def render_preview(colorizer: "Colorizer", path: Path, options: "ColorizeOptions",
                   token: CancelToken, repair: "RepairSettings | None" = None) -> RenderOutput:
    """Read (or reuse), repair (when asked), colorize at preview resolution, and convert to display
    images, all off the GUI thread. `token` is checked between repair steps too, so a slider
    moved again stops a stale render early."""
    start = time.perf_counter()
    ThreadPreference.apply()
    image = DECODED.get(path)
    token.raise_if_cancelled()
    original_size = image.size
    repaired = None
    if repair is not None and repair.any_enabled:
        image, repaired = REPAIRED.get(path, image, repair, options.output_max_side, token)
    result = colorizer.colorize(image, options, token)
    token.raise_if_cancelled()
    color = imaging.to_qimage(result.rgb)
    gray = imaging.gray_display(image.pixels, color.size())
    overlay, overlay_range = (imaging.uncertainty_overlay(result.confidence, color.size())
                              if result.confidence is not None else (None, None))
    timings = dict(result.timings)
    original_gray = mask = None
    if repaired is not None:
        before, mask_pixels, seconds = repaired
        timings["repair"] = seconds
        original_gray = imaging.gray_display(before, color.size())
        mask = mask_layer(mask_pixels, color.size()) if repair.scratches else None
    return RenderOutput(color=color, gray=gray, overlay=overlay, overlay_range=overlay_range,
                        thumb=imaging.thumbnail(color),
                        original_size=original_size, timings=timings,
                        seconds=time.perf_counter() - start, original_gray=original_gray, mask=mask)


def _shrunk(image: LoadedImage, max_side: int | None) -> tuple[Any, Any]:
    """The photo's pixels (and alpha) at most `max_side` long: the preview is shown no larger, and
    repair costs per pixel."""
    import cv2

    pixels, alpha = image.pixels, image.alpha
    h, w = pixels.shape[:2]
    scale = min(1.0, (max_side or max(h, w)) / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        pixels = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)
        if alpha is not None:
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    return pixels, alpha


def _repaired_preview(image: LoadedImage, repair: "RepairSettings", max_side: int | None,
                      token: CancelToken) -> tuple[LoadedImage, tuple[Any, Any, float]]:
    """The photo at preview size with its lightness repaired (gray, as the colorizer reads it), in
    one go (no cache; the benchmark times this). Detection already runs at most 1600 px long
    (ml_core.repair.scratches.DETECT_MAX_SIDE), so what the preview finds is what the
    full-resolution export finds. Returns the repaired image and (the shrunk original, the mask,
    seconds spent repairing)."""
    from dataclasses import replace

    from ml_core.repair import repair_pixels

    pixels, alpha = _shrunk(image, max_side)
    t = time.perf_counter()
    gray, result = repair_pixels(pixels, replace(repair, remove_tint=True), token.raise_if_cancelled)
    seconds = time.perf_counter() - t
    token.raise_if_cancelled()
    return replace(image, pixels=gray, alpha=alpha), (pixels, result.mask, seconds)


class RepairedCache:
    """Repaired previews, in two stages, so a drag pays only for what it changes.

    Stage one is the shrunk photo with scratches & dust filled (the costly part: ~60 ms of scratch
    detection at 1600 px), keyed by photo (path, size, modification time), preview side and the
    scratches settings; stage two is grain and fading on top of it (~40 ms), keyed by all settings.
    So a grain or fading drag, or a saturation, hint or model change, does not detect again. This
    is the core's own order (ml_core.repair.pipeline: fill, then grain, then fading) run as two
    calls; the one difference, grain's noise measured after the fill rather than before, moved the
    result by at most 0.6 L* (mean 0.002) on the benchmark's heavily damaged 1600-px photo. A hit
    reports only the seconds spent now. Shared by worker threads."""

    def __init__(self, capacity: int = 2) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._filled: OrderedDict[tuple, tuple[Any, Any, Any, Any]] = OrderedDict()  # pixels, alpha, L*, mask
        self._final: OrderedDict[tuple, tuple[LoadedImage, tuple[Any, Any, float]]] = OrderedDict()

    def get(self, path: Path, image: LoadedImage, repair: "RepairSettings", max_side: int | None,
            token: CancelToken) -> tuple[LoadedImage, tuple[Any, Any, float]]:
        from dataclasses import replace

        try:
            stat = path.stat()
            photo: tuple | None = (str(path), stat.st_size, stat.st_mtime_ns, max_side)
        except OSError:
            photo = None
        if photo is None:
            return _repaired_preview(image, repair, max_side, token)
        final_key = photo + (repair,)
        hit = self._lookup(self._final, final_key)
        if hit is not None:
            repaired, (before, mask, _seconds) = hit
            return repaired, (before, mask, 0.0)
        from ml_core.repair import lightness_from_pixels, pixels_from_lightness, repair_lightness

        t = time.perf_counter()
        filled_key = photo + (repair.scratches, repair.scratches_strength if repair.scratches else None)
        filled = self._lookup(self._filled, filled_key)
        if filled is None:
            pixels, alpha = _shrunk(image, max_side)
            lum = lightness_from_pixels(pixels)
            if repair.scratches:
                result = repair_lightness(lum, replace(repair, grain=False, fading=False), token.raise_if_cancelled)
                lum, mask = result.lightness, result.mask
            else:
                mask = None
            filled = (pixels, alpha, lum, mask)
            self._store(self._filled, filled_key, filled)
        pixels, alpha, lum, mask = filled
        if repair.grain or repair.fading:
            token.raise_if_cancelled()
            lum = repair_lightness(lum, replace(repair, scratches=False), token.raise_if_cancelled).lightness
        gray = pixels_from_lightness(lum, pixels.dtype)
        token.raise_if_cancelled()
        result = (replace(image, pixels=gray, alpha=alpha), (pixels, mask, time.perf_counter() - t))
        self._store(self._final, final_key, result)
        return result

    def _lookup(self, items: OrderedDict, key: tuple) -> Any:
        with self._lock:
            if key in items:
                items.move_to_end(key)
                return items[key]
        return None

    def _store(self, items: OrderedDict, key: tuple, value: Any) -> None:
        with self._lock:
            items[key] = value
            while len(items) > self._capacity:
                items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._filled.clear()
            self._final.clear()


REPAIRED = RepairedCache()


MASK_RGBA = (235, 40, 40, 170)  # red, see-through: the gray stays readable under it


def mask_layer(mask: Any, size: QSize) -> QImage:
    """A bool mask (H×W) as a red see-through layer scaled to `size` (transparent elsewhere).

    Thin one-pixel scratches would vanish when shrunk for display, so the mask is widened by a
    pixel first: the layer shows *where* repair acts, not its exact pixels."""
    import cv2
    import numpy as np

    wide = cv2.dilate(np.asarray(mask, np.uint8), np.ones((3, 3), np.uint8)) > 0
    rgba = np.zeros((*wide.shape, 4), np.uint8)
    rgba[wide] = MASK_RGBA
    image = QImage(rgba.data, rgba.shape[1], rgba.shape[0], rgba.strides[0],
                   QImage.Format.Format_RGBA8888).copy()
    if image.size() != size:
        image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.FastTransformation)
    return image


def make_thumbnail(path: Path, box: QSize = imaging.THUMB_SIZE) -> QImage:
    """Qt's scaled decode (JPEG decodes at 1/8 size directly); ml_core's reader as a fallback."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)  # EXIF orientation, as read_image does
    size = reader.size()
    if size.isValid() and (size.width() > box.width() or size.height() > box.height()):
        reader.setScaledSize(size.scaled(box, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if not image.isNull():
        return image
    try:
        loaded = read_image(path)
    except ImageReadError as exc:
        raise UserError(exc.reason) from None
    return imaging.thumbnail(imaging.borrowed_qimage(loaded.pixels), box)


def suggest_colors(colorizer: "Colorizer", path: Path, x: float, y: float,
                   options: "ColorizeOptions") -> list["ColorSuggestion"]:
    """The palette offered where a hint is placed: a model run (~50 ms), so never on the GUI thread."""
    ThreadPreference.apply()
    return colorizer.suggest_colors(DECODED.get(path), x, y, options)


def load_reference(path: Path) -> "ReferencePalette":
    """A reference photo read and sampled; a gray or unreadable one is refused with a reason."""
    from ml_core.guidance.reference import ReferencePalette

    try:
        return ReferencePalette.from_file(path)
    except ImageReadError as exc:
        raise UserError(exc.reason) from None
    except ValueError as exc:
        message = str(exc)
        prefix = f"{path}: "  # ml_core names the file; the panel already shows which one
        raise UserError(message[len(prefix):] if message.startswith(prefix) else message) from None


def export_photos(colorizer: "Colorizer", sources: list[Path], settings: "ExportSettings",
                  options: "ColorizeOptions", token: CancelToken, progress: Progress,
                  options_for: Callable[[Path], "ColorizeOptions | None"] | None = None,
                  repair: "RepairSettings | None" = None) -> list["FileOutcome"]:
    """Full resolution through ml_core.inference.batch; each FileOutcome is reported as soon as it exists.

    `options_for` gives a photo its own hints and reference photo (None: the shared `options`).
    `repair`: repaired again at full resolution by the batch path itself (as `chroma colorize
    --repair` does), before colorizing; the source file is only read."""
    from ml_core.inference.batch import colorize_files

    ThreadPreference.apply()

    def report(done: int, total: int, outcome: "FileOutcome") -> None:
        progress((done, total, outcome))

    return colorize_files(colorizer, sources, settings, options, progress=report, cancel=token,
                          options_for=options_for, repair=repair)


def save_pasted(image: QImage, folder: Path, stem: str) -> Path:
    """A pasted image becomes a PNG in the cache, so it flows through the same file pipeline."""
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{stem}.png"
    n = 2
    while dest.exists():
        dest = folder / f"{stem}-{n}.png"
        n += 1
    if not image.save(str(dest), "PNG"):
        raise UserError(f"could not save the pasted image to {dest}")
    return dest
