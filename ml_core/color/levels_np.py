"""Input levels (ml_core.color.levels) in numpy, for the torch-free ONNX path.

Why a second implementation: the rule's 128x128 area average (torch's adaptive average pooling)
has no ONNX operator for input sizes known only at run time, so a graph cannot carry it for
photos of every shape. The ONNX engine stretches the model's input here instead, before the
graph runs. The rule's constants live here, once; levels.py imports them, and
tests/core/test_onnx_levels.py holds the two implementations equal.
"""

from __future__ import annotations

import numpy as np

LOW_PERCENTILE = 0.01
HIGH_PERCENTILE = 0.99
MAX_GAIN = 2.5
POOLED_SIDE = 128  # the area average's side: large enough to see the photo, small enough to skip specks


def _bin_means(x: np.ndarray, out: int, axis: int) -> np.ndarray:
    """torch.nn.functional.adaptive_avg_pool along one axis: bin i spans floor(i*n/out)..ceil((i+1)*n/out)."""
    n = x.shape[axis]
    i = np.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    sums = np.cumsum(x, axis=axis, dtype=np.float64)
    sums = np.concatenate([np.zeros_like(np.take(sums, [0], axis=axis)), sums], axis=axis)
    width = (end - start).astype(np.float64)
    shape = [1, 1]
    shape[axis] = out
    return (np.take(sums, end, axis=axis) - np.take(sums, start, axis=axis)) / width.reshape(shape)


def robust_points(x: np.ndarray) -> tuple[np.float32, np.float32]:
    """Black and white points of `x` (H, W): the 1st and 99th percentiles of its area average."""
    h, w = x.shape
    small = _bin_means(_bin_means(x, min(POOLED_SIDE, h), 0), min(POOLED_SIDE, w), 1).astype(np.float32).ravel()
    n = small.size
    i_lo, i_hi = int(round(LOW_PERCENTILE * (n - 1))), int(round(HIGH_PERCENTILE * (n - 1)))
    ordered = np.partition(small, (i_lo, i_hi))
    return ordered[i_lo], ordered[i_hi]


def stretch_levels(x: np.ndarray, lo: float = -0.5, hi: float = 0.5, max_gain: float = MAX_GAIN) -> np.ndarray:
    """`x` (H, W) float32 normalized lightness with its robust black/white points mapped onto
    [lo, hi], gain at most `max_gain`, as levels.stretch_levels does for one sample."""
    black, white = robust_points(x)
    lo32, hi32 = np.float32(lo), np.float32(hi)
    span = max(white - black, np.float32((hi - lo) / max_gain))
    gain = (hi32 - lo32) / span
    mid = (white + black) / np.float32(2)
    half = (white - black) * gain / np.float32(2)
    center = min(max(mid, lo32 + half), hi32 - half)
    return np.clip((x - mid) * gain + center, lo32, hi32).astype(np.float32)
