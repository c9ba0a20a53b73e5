"""The inference engine: any model file in, a full-resolution color photo out.

The model only ever sees the photo at its working size (a few hundred pixels); the photo's own
lightness is kept at full resolution and only the predicted chroma is upsampled. That is both
what makes the result sharp (detail lives in L) and what keeps a 12-megapixel photo near one
second: full-resolution color conversion in float64 (skimage) costs more than the network, so
the recombination (ml_core.inference.recombine) runs in float32 bands of rows on a few threads, derives CIE
f(Y) straight from the input through a lookup table, and never builds a full-resolution Lab image.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from ..cancel import CancelToken
from ..color.quantize import DEFAULT_TEMPERATURE
from ..color.spaces import chroma_to_ab, gray_to_lightness, lab_f
from ..guidance.hint_maps import hint_maps, with_hint_maps
from ..guidance.hint_outline import HintRegion, hint_region
from ..guidance.hint_regions import RegionCosts
from ..guidance.hints import Hint, HintFile, resolve_hints
from ..guidance.palette import ColorSuggestion, suggest_from_distribution, suggest_without_distribution
from ..guidance.propagation import gate_costs, propagate_hints
from ..guidance.reference import transfer
from ..limits import clamp_work_size, work_size_problem
from ..modelfiles.modelfile import LoadedModel
from .model_input import resize, scaled, to_uint8
from .options import ColorizeOptions  # torch-free, for the CLI and the ONNX engine
from .recombine import luminance_and_f, recombine_array

if TYPE_CHECKING:
    from ..io.imageio import LoadedImage

# Hints and reference colors are solved on a grid of this long side, whatever the photo's size:
# fine enough to follow object edges, small enough to solve in ~0.1 s, and the same for the
# preview and the full-resolution export, so the export looks like what the person steered.
GUIDE_MAX_SIDE = 512


@dataclass
class ColorizeResult:
    rgb: np.ndarray  # H×W×3, uint8 (uint16 for 16-bit input), the input's pixel size
    # 2×h×w ab (after saturation) at the model's output resolution, or on the guidance grid with hints/reference
    ab: np.ndarray
    confidence: np.ndarray | None  # h×w in [0, 1] for classification models, else None
    model_size: tuple[int, int]  # (h, w) the model ran at
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class GuidanceInputs:
    """What hints are solved against for one photo and one set of options, on the guidance grid.

    Why a value of its own: the window shows the region a hint will color while it is hovered or
    dragged, many times a second, and each of those needs the same model run; a worker keeps
    this and asks `region` again as the hint moves, without running the model each time.
    """

    lightness: torch.Tensor  # (h, w) L* of the photo
    prior: torch.Tensor  # (2, h, w) a*b* hints steer: the model's (saturation, reference applied)
    confidence: torch.Tensor | None  # (h, w) in [0, 1], classification models
    stride: float  # grid pixels per pixel of the model's output
    distribution: torch.Tensor | None  # (K, h', w') the model's bin probabilities, at its own size

    @cached_property
    def region_costs(self) -> RegionCosts | None:
        """Computed on first use and kept: the same for every position of every hint."""
        return gate_costs(self.lightness, self.prior, distribution=self.distribution)

    def region(self, hint: Hint) -> HintRegion:
        """The region `hint` may change, as `propagate_hints` gates it (ml_core.guidance.hint_outline)."""
        return hint_region(self.lightness, self.prior, hint, self.distribution, costs=self.region_costs)


def _luminance_and_f(pixels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Relative luminance Y and f(Y), flattened, of the input (see ml_core.inference.recombine)."""
    y, fy = luminance_and_f(pixels)
    return torch.from_numpy(y), torch.from_numpy(fy)


def luminance_to_lightness(y: torch.Tensor) -> torch.Tensor:
    return 116.0 * lab_f(y) - 16.0


def recombine(pixels: np.ndarray, ab_small: torch.Tensor, cancel: CancelToken | None = None,
              threads: int | None = None) -> np.ndarray:
    """Full-resolution lightness from `pixels` + upsampled `ab_small` (2, h, w) -> RGB of `pixels`' size.

    The kernel (ml_core.inference.recombine) works in bands of rows on its own threads, so peak extra
    memory stays a few MB and no torch parallel region is involved.
    """
    ab = ab_small.detach().float().cpu().numpy() if isinstance(ab_small, torch.Tensor) else np.asarray(ab_small)
    return recombine_array(pixels, ab, cancel.raise_if_cancelled if cancel is not None else None, threads)


def guidance_grid(height: int, width: int, max_side: int = GUIDE_MAX_SIDE) -> tuple[int, int]:
    s = min(1.0, max_side / max(height, width))
    return max(1, round(height * s)), max(1, round(width * s))


def lightness_grid(pixels: np.ndarray, grid: tuple[int, int]) -> torch.Tensor:
    """L* (h, w) of the photo on a grid, from 8-bit codes (hints do not need 16-bit precision)."""
    small = resize(to_uint8(pixels), grid)
    y, _ = _luminance_and_f(np.ascontiguousarray(small[..., :3] if small.ndim == 3 else small))
    return luminance_to_lightness(y).reshape(grid)


def _hints_away_from(hints: "tuple[Hint, ...]", x: float, y: float, height: int, width: int) -> "tuple[Hint, ...]":
    """The hints none of whose points lies within its radius (at least 1 % of the long side) of (x, y)."""
    long_side = max(height, width)
    out = []
    for h in hints:
        reach = max(h.radius, 0.01) * long_side
        if all(((px - x) * width) ** 2 + ((py - y) * height) ** 2 > reach * reach for px, py in h.points):
            out.append(h)
    return tuple(out)


class Colorizer:
    """One loaded model, reused for every photo; safe to call from a worker thread.

    A lock serializes calls so a preview and an export sharing one Colorizer cannot interleave
    inside the model (BatchNorm modules and the thread pool are shared state).
    """

    def __init__(self, loaded: LoadedModel, threads: int | None = None) -> None:
        if threads:
            torch.set_num_threads(threads)
        self.threads = threads  # the recombination's too (None: one per CPU it may use)
        self.loaded = loaded
        self.model = loaded.model.eval()
        self.model.to(memory_format=torch.channels_last)
        self.info = loaded.info
        self._lock = threading.Lock()

    @property
    def default_work_size(self) -> int:
        return int(self.info.work_size)

    @property
    def default_temperature(self) -> float:
        """The model's own temperature; a missing or unusable one (NaN, <= 0) falls back to the default."""
        t = self.info.temperature
        return float(t) if isinstance(t, (int, float)) and math.isfinite(t) and t > 0 else DEFAULT_TEMPERATURE

    def work_size_for(self, opts: ColorizeOptions) -> int:
        """The render size to use, within ml_core.limits before any memory is spent: asked for
        100000, the model would allocate until the OOM killer stepped in. A size asked for is
        refused (ValueError); the model's own is clamped (model files are checked at import)."""
        if opts.work_size is None:
            return clamp_work_size(self.default_work_size)
        if problem := work_size_problem(opts.work_size):
            raise ValueError(problem)
        return int(opts.work_size)

    @property
    def has_confidence(self) -> bool:
        return self.model.output_kind != "ab"

    def _lum(self, model_input: np.ndarray) -> torch.Tensor:
        space = self.model.space
        px = torch.from_numpy(np.array(model_input, dtype=np.float32)) / 255.0  # small: a copy is free
        if px.ndim == 2:
            return gray_to_lightness(px)[None, None] if space.name == "lab" else px[None, None]
        return space.lum_from_rgb(px.permute(2, 0, 1))[None]

    def _net_input(self, lum: torch.Tensor, hints: "tuple[Hint, ...]") -> torch.Tensor:
        """Normalized L, plus the hint map (zeros without hints) for a hint model, channels-last."""
        inp = self.model.space.normalize_lum(lum)
        if self.model.accepts_hints:
            inp = with_hint_maps(inp, hint_maps(hints, *inp.shape[-2:])[None])
        return inp.contiguous(memory_format=torch.channels_last)

    def predict_ab(
        self, model_input: np.ndarray, temperature: float = DEFAULT_TEMPERATURE, hints: "tuple[Hint, ...]" = ()
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """8-bit photo already at the model's input size -> (ab (2, h, w), confidence (h, w) | None).

        `hints` (relative coordinates) are fed to hint models only; other models ignore them here
        (their hints are applied afterwards by `guide`).
        """
        ab, conf, _ = self._predict(model_input, temperature, hints)
        return ab, conf

    def _predict(self, model_input: np.ndarray, temperature: float, hints: "tuple[Hint, ...]" = (),
                 ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """predict_ab, plus the model's color distribution (see _distribution) for guide."""
        space = self.model.space
        lum = self._lum(model_input)
        with self._lock, torch.inference_mode():
            raw = self.model(self._net_input(lum, hints))
            chroma, confidence = self.model.decode(raw.float(), temperature)
            if space.name != "lab":
                small_lum = F.adaptive_avg_pool2d(lum, chroma.shape[-2:])
                chroma = chroma_to_ab(space, small_lum, chroma)
            distribution = self._distribution(raw.float())
        conf = confidence[0, 0] if confidence is not None else None
        return chroma[0].clone(), (conf.clone() if conf is not None else None), distribution

    def _distribution(self, raw: torch.Tensor) -> torch.Tensor | None:
        """The model's probabilities over its a*b* bins (K, h, w), T = 1, for models that have one:
        where they change, hint regions end (ml_core.guidance.hint_regions)."""
        if self.model.output_kind != "bins313":
            return None
        return torch.softmax(raw[0].float(), dim=0)

    def guide(self, pixels: np.ndarray, model_ab: torch.Tensor, confidence: torch.Tensor | None,
              options: ColorizeOptions, distribution: torch.Tensor | None = None) -> torch.Tensor:
        """The model's a*b* steered by a reference palette and user hints, on the guidance grid."""
        g = self._guidance_inputs(pixels, model_ab, confidence, options, distribution)
        return propagate_hints(g.lightness, g.prior, options.hints, g.confidence, prior_stride=g.stride,
                               distribution=g.distribution)

    def _guidance_inputs(self, pixels: np.ndarray, model_ab: torch.Tensor, confidence: torch.Tensor | None,
                         options: ColorizeOptions, distribution: torch.Tensor | None) -> GuidanceInputs:
        """The grid, lightness and default colors hints are solved against.

        Order matters: the reference replaces the model's guess as the default colors (by its
        strength), then hints, the most specific thing a person says, override both locally.
        """
        grid = guidance_grid(pixels.shape[0], pixels.shape[1])
        lightness = lightness_grid(pixels, grid)
        prior = F.interpolate(model_ab[None].float(), size=grid, mode="bilinear", align_corners=False)[0]
        conf = None
        if confidence is not None:
            conf = F.interpolate(confidence[None, None].float(), size=grid, mode="bilinear", align_corners=False)[0, 0]
        if options.reference is not None and options.reference_strength > 0:
            strength = min(max(float(options.reference_strength), 0.0), 1.0)
            transferred = transfer(lightness, options.reference, prior)
            prior = torch.lerp(prior, transferred, strength)
            if conf is not None:  # a reference color is a choice the person made: hints may override it as easily
                conf = torch.lerp(conf, torch.full_like(conf, 0.5), strength)
        stride = max(grid) / max(model_ab.shape[-2:])  # grid pixels per pixel of the model's output
        return GuidanceInputs(lightness, prior, conf, stride, distribution)

    def guidance_inputs(self, image: "LoadedImage | np.ndarray", options: ColorizeOptions | None = None,
                        cancel: CancelToken | None = None) -> GuidanceInputs:
        """What `colorize` with these options solves hints against: the same preview size, model
        run, saturation and reference, stopping before the solve. Hint models see `options.hints`."""
        opts, pixels, small, _ = self._working_input(image, options or ColorizeOptions())
        if cancel is not None:
            cancel.raise_if_cancelled()
        temperature = self.default_temperature if opts.temperature is None else opts.temperature
        ab, confidence, distribution = self._predict(small, temperature,
                                                     tuple(opts.hints) if self.model.accepts_hints else ())
        if opts.saturation != 1.0:
            ab = ab * float(opts.saturation)
        if cancel is not None:
            cancel.raise_if_cancelled()
        return self._guidance_inputs(pixels, ab, confidence, opts, distribution)

    def _working_input(self, image: "LoadedImage | np.ndarray", opts: ColorizeOptions,
                       ) -> tuple[ColorizeOptions, np.ndarray, np.ndarray, tuple[int, int]]:
        """(options with pixel-unit hints placed, the pixels colorized (at most output_max_side),
        the 8-bit input the model sees, its size): one definition for colorize and guidance_inputs."""
        pixels = np.asarray(getattr(image, "pixels", image))
        if isinstance(opts.hints, HintFile):  # pixel units refer to the photo, before any preview downscale
            opts = replace(opts, hints=resolve_hints(opts.hints, pixels.shape[1], pixels.shape[0]))
        if opts.output_max_side and max(pixels.shape[:2]) > opts.output_max_side:
            s = opts.output_max_side / max(pixels.shape[:2])
            pixels = scaled(pixels, s)
        size = self.model.input_size_for(pixels.shape[0], pixels.shape[1], self.work_size_for(opts))
        return opts, pixels, resize(to_uint8(pixels), size), size

    def suggest_colors(self, image: "LoadedImage | np.ndarray", x: float, y: float,
                       options: ColorizeOptions | None = None, count: int = 6) -> list[ColorSuggestion]:
        """Likely colors for the spot at relative (x, y), most probable first, from the model's distribution.

        The first suggestion is the color shown there now: with `options` carrying hints or a
        reference, that is the guided color, so a new hint placed inside a region another hint
        already colored keeps that color instead of snapping back to the model's guess.

        Regression models predict one color and no distribution; they get their prediction and
        its more and less vivid versions, clearly labelled as such.

        A hint model's distribution comes from a run that sees the person's other hints — every
        hint except those at this spot — so the palette reflects what they said elsewhere, while
        the spot's own hint (palette opened on an existing hint) cannot collapse it onto itself;
        "current" comes from a run with every hint, as `colorize` renders it.
        """
        opts = options or ColorizeOptions()
        pixels = np.asarray(getattr(image, "pixels", image))
        if max(pixels.shape[:2]) > 1024:
            s = 1024 / max(pixels.shape[:2])
            pixels = scaled(pixels, s)
        size = self.model.input_size_for(pixels.shape[0], pixels.shape[1], self.work_size_for(opts))
        small = resize(to_uint8(pixels), size)
        grid = guidance_grid(*pixels.shape[:2])
        gy, gx = min(max(int(y * grid[0]), 0), grid[0] - 1), min(max(int(x * grid[1]), 0), grid[1] - 1)
        lightness = float(lightness_grid(pixels, grid)[gy, gx])
        lum = self._lum(small)
        space = self.model.space
        temperature = self.default_temperature if opts.temperature is None else opts.temperature
        every: tuple[Hint, ...] = ()
        others: tuple[Hint, ...] = ()
        if self.model.accepts_hints and opts.hints:
            every = resolve_hints(opts.hints, pixels.shape[1], pixels.shape[0]) if isinstance(opts.hints, HintFile) \
                else tuple(opts.hints)
            others = _hints_away_from(every, x, y, pixels.shape[0], pixels.shape[1])
        with self._lock, torch.inference_mode():
            raw = self.model(self._net_input(lum, others)).float()
            chroma, _ = self.model.decode(raw, temperature)
            if space.name != "lab":
                chroma = chroma_to_ab(space, F.adaptive_avg_pool2d(lum, chroma.shape[-2:]), chroma)
            shown_raw, shown_chroma = raw, chroma  # what colorize renders (hint models: lab only)
            if len(others) != len(every):
                shown_raw = self.model(self._net_input(lum, every)).float()
                shown_chroma, _ = self.model.decode(shown_raw, temperature)
        h, w = raw.shape[-2:]
        row, col = min(max(int(y * h), 0), h - 1), min(max(int(x * w), 0), w - 1)
        predicted = chroma[0, :, row, col] * float(opts.saturation)
        if opts.guided:  # "current" is what the person sees there now, other hints and reference included
            conf = self.model.decode(shown_raw, temperature)[1]
            guided = self.guide(pixels, shown_chroma[0] * float(opts.saturation), None if conf is None else conf[0, 0],
                                opts, self._distribution(shown_raw))
            predicted = guided[:, gy, gx]
        if self.model.output_kind == "bins313":
            r0, r1, c0, c1 = max(row - 1, 0), min(row + 2, h), max(col - 1, 0), min(col + 2, w)
            probs = torch.softmax(raw[0, :, r0:r1, c0:c1], dim=0).mean(dim=(1, 2))
            return suggest_from_distribution(probs, self.model.ab_bins().centers, predicted, lightness, count)
        return suggest_without_distribution(predicted, lightness, count)

    def colorize(
        self,
        image: "LoadedImage | np.ndarray",
        options: ColorizeOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> ColorizeResult:
        """Color from lightness: color input (or sepia) is recolored from its L alone."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        opts, pixels, small, size = self._working_input(image, options or ColorizeOptions())
        timings["prepare"] = time.perf_counter() - t0
        if cancel is not None:
            cancel.raise_if_cancelled()
        t1 = time.perf_counter()
        temperature = self.default_temperature if opts.temperature is None else opts.temperature
        ab, confidence, distribution = self._predict(small, temperature,
                                                     tuple(opts.hints) if self.model.accepts_hints else ())
        if opts.saturation != 1.0:
            ab = ab * float(opts.saturation)
        timings["model"] = time.perf_counter() - t1
        if not opts.propagate:
            opts = replace(opts, hints=())  # the reference (if any) still applies
        if opts.guided:
            if cancel is not None:
                cancel.raise_if_cancelled()
            tg = time.perf_counter()
            ab = self.guide(pixels, ab, confidence, opts, distribution)
            timings["guide"] = time.perf_counter() - tg
        t2 = time.perf_counter()
        rgb = recombine(pixels, ab, cancel, self.threads)
        timings["recombine"] = time.perf_counter() - t2
        return ColorizeResult(
            rgb=rgb,
            ab=ab.numpy(),
            confidence=confidence.numpy() if confidence is not None else None,
            model_size=size,
            timings=timings,
        )
