"""The photo as a network sees it: 8-bit pixels resized to the working size. Torch-free.

Why a module of its own: the torch engine and the torch-free ONNX engine must feed a network the
very same pixels, or the two paths would color the same photo differently.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels; 16-bit ones rounded (v * 255 / 65535)."""
    if pixels.dtype == np.uint8:
        return pixels
    return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)


def resize(pixels: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Area-correct downscale with Pillow (C, fast); reducing_gap makes big reductions cheap."""
    h, w = size_hw
    if pixels.shape[:2] == (h, w):
        return pixels
    return np.asarray(Image.fromarray(pixels).resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0))


def scaled(pixels: np.ndarray, s: float) -> np.ndarray:
    """The photo shrunk by the factor s (each side at least 1 pixel)."""
    return resize(pixels, (max(1, round(pixels.shape[0] * s)), max(1, round(pixels.shape[1] * s))))
