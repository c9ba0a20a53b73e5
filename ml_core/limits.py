"""Bounds on what a person may ask of the colorizer, stated once for the CLI, engine and window.

Torch-free so `chroma colorize --help` can print them before torch is loaded. Each bound is
there because going past it does harm rather than give a better photo: a render size of 100000
asked the model for ~10^10 pixels and the kernel's OOM killer took the whole machine.
"""

from __future__ import annotations

import math

MIN_WORK_SIZE = 32  # below this the model sees a thumbnail smaller than its own receptive field
MAX_WORK_SIZE = 2048  # ~1.1 GB and ~7 s per photo on a laptop CPU; 4x the pixels per doubling
MAX_SATURATION = 4.0  # 400 %: beyond that every color is clipped to the gamut's edge anyway
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 1.0  # annealed mean: ~mode .. plain mean
DEFAULT_TEMPERATURE = 0.38  # Zhang et al.'s annealed mean; a model's own calibrated value wins
QUALITY_RANGE = (1, 100)  # JPEG and WebP; PNG and TIFF are lossless and have no quality
EXPORT_FORMATS: dict[str, str] = {"png": ".png", "jpg": ".jpg", "webp": ".webp", "tiff": ".tif"}  # format: suffix


def work_size_problem(size: float) -> str | None:
    """Why a render size is refused, or None; says the limit so the person can pick a valid one."""
    if not _finite(size) or not MIN_WORK_SIZE <= size <= MAX_WORK_SIZE:
        return f"render size must be {MIN_WORK_SIZE}..{MAX_WORK_SIZE} px, got {size}"
    return None


def clamp_work_size(size: int) -> int:
    """Nearest allowed render size: for a default (a model's, the window's slider), not for a
    size a person typed, which is refused with work_size_problem instead."""
    return min(max(int(size), MIN_WORK_SIZE), MAX_WORK_SIZE)


def saturation_problem(value: float) -> str | None:
    if not _finite(value) or not 0.0 <= value <= MAX_SATURATION:
        return f"saturation must be 0..{MAX_SATURATION:g}, got {value}"
    return None


def temperature_problem(value: float) -> str | None:
    if not _finite(value) or not MIN_TEMPERATURE <= value <= MAX_TEMPERATURE:
        return f"temperature must be {MIN_TEMPERATURE:g}..{MAX_TEMPERATURE:g}, got {value}"
    return None


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except TypeError:
        return False
