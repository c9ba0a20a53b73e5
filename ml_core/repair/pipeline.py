"""The repair step: lightness in, repaired lightness and the damage mask out.

Order follows how a print was damaged, undone backwards: surface damage (scratches, dust) is
found on the photo as it is and filled first, so grain reduction does not smear it into its
surroundings; grain next; levels last, so the thresholds above work in the print's own contrast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from .convert import lightness_from_pixels, pixels_from_lightness, print_tint, with_tint
from .fading import restore_fading
from .fill import fill
from .grain import reduce_grain
from .noise import estimate_noise
from .scratches import detect_damage, detect_scaled
from .settings import RepairSettings


@dataclass
class RepairResult:
    lightness: np.ndarray  # float32 H×W, L* 0..100, the input's size
    mask: np.ndarray  # bool H×W: the pixels scratches & dust filled (all False when that tool is off)
    noise: float  # grain std measured in the input, L* units
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def masked_share(self) -> float:
        return float(self.mask.mean()) if self.mask.size else 0.0


def damage_mask(lum: np.ndarray, settings: RepairSettings) -> np.ndarray:
    """Only the mask, for a "show mask" overlay (what scratches & dust would touch)."""
    lum = _checked(lum)
    if not settings.scratches:
        return np.zeros(lum.shape, bool)
    return detect_damage(lum, settings.scratches_strength)


def repair_lightness(lum: np.ndarray, settings: RepairSettings,
                     check: Callable[[], None] | None = None) -> RepairResult:
    """Repair lightness `lum` (H×W, L* 0..100) as `settings` say; `lum` itself is not modified.

    `check` is called between steps (a CancelToken's raise_if_cancelled), so a preview that is
    overtaken by a newer one stops early. Measured with all three tools on (bench/bench_repair.py and
    bench_repair_preview.py, 2 cores, quiet): ~0.05 s for a 1-MP preview, ~0.11 s at the window's
    1600 px, ~0.26-0.32 s for 12 MP (detection runs at ≤ 1600 px).
    """
    out = _checked(lum).copy()
    timings: dict[str, float] = {}
    mask = np.zeros(out.shape, bool)
    t = time.perf_counter()
    noise = estimate_noise(out) if (settings.grain or settings.scratches) else 0.0
    timings["noise"] = time.perf_counter() - t
    if settings.scratches:
        _check(check)
        t = time.perf_counter()
        mask, small, small_mask = detect_scaled(out, settings.scratches_strength, noise)
        timings["detect"] = time.perf_counter() - t
        t = time.perf_counter()
        if small is out:
            out = fill(out, mask)
        elif mask.any():
            # Filled at detection scale, brought up only where the mask is (a smooth fill loses
            # nothing by being computed small; a 12-MP fill would cost ~40× more).
            up = cv2.resize(fill(small, small_mask), (out.shape[1], out.shape[0]), interpolation=cv2.INTER_NEAREST)
            np.copyto(out, up, where=mask)
        timings["fill"] = time.perf_counter() - t
    if settings.grain:
        _check(check)
        t = time.perf_counter()
        out = reduce_grain(out, settings.grain_strength, noise)
        timings["grain"] = time.perf_counter() - t
    if settings.fading:
        _check(check)
        t = time.perf_counter()
        out = restore_fading(out, settings.fading_strength)
        timings["fading"] = time.perf_counter() - t
    np.clip(out, 0.0, 100.0, out=out)
    return RepairResult(out, mask, noise, timings)


def repair_pixels(pixels: np.ndarray, settings: RepairSettings,
                  check: Callable[[], None] | None = None) -> tuple[np.ndarray, RepairResult]:
    """Photo pixels (gray or RGB, uint8/uint16) -> repaired pixels of the same size and bit depth.

    Gray (H×W) when settings.remove_tint or the input is gray; otherwise the print's own tone
    (ml_core.repair.convert.print_tint) over the repaired lightness (H×W×3). Feed either to the
    colorizer: it reads lightness only, so the repaired photo colorizes as its repaired gray.
    """
    pixels = np.asarray(pixels)
    result = repair_lightness(lightness_from_pixels(pixels), settings, check)
    gray = pixels_from_lightness(result.lightness, pixels.dtype)
    if settings.remove_tint or pixels.ndim == 2:
        return gray, result
    return with_tint(gray, print_tint(pixels)), result


def _checked(lum: np.ndarray) -> np.ndarray:
    lum = np.asarray(lum)
    if lum.ndim != 2 or lum.size == 0:
        raise ValueError(f"repair expects one lightness channel (H×W), got shape {lum.shape}")
    if not np.issubdtype(lum.dtype, np.floating) and not np.issubdtype(lum.dtype, np.integer):
        raise ValueError(f"repair expects numeric lightness, got {lum.dtype}")
    return np.ascontiguousarray(lum, dtype=np.float32)


def _check(check: Callable[[], None] | None) -> None:
    if check is not None:
        check()
