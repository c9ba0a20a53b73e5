"""Photo pixels to CIE lightness and back, and the print's tint kept or dropped.

Why here: repair works on lightness L* (0..100), the one channel the colorizer uses, so a sepia
or yellowed print is repaired as the gray photo the colorizer will see. The conversion is the
engine's own (ml_core.inference.recombine's lookup tables), so a repaired gray photo fed to the engine gives
back exactly the repaired lightness (to the input's bit depth).
"""

from __future__ import annotations

import functools

import numpy as np

from ..inference.recombine import luminance_and_f, luminance_tables, recombine_array


def lightness_from_pixels(pixels: np.ndarray) -> np.ndarray:
    """L* (float32, H×W, 0..100) of gray (H×W) or RGB (H×W×3) uint8/uint16 pixels."""
    pixels = np.asarray(pixels)
    if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim not in (2, 3) \
            or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise ValueError(f"expected H×W or H×W×3 uint8/uint16 pixels, got {pixels.shape} {pixels.dtype}")
    _, fy = luminance_and_f(np.ascontiguousarray(pixels))
    lum = fy.reshape(pixels.shape[:2])
    lum *= 116.0
    lum -= 16.0
    return lum


@functools.cache
def _code_edges(dtype: np.dtype) -> np.ndarray:
    """L* half-way between consecutive gray codes: searchsorted gives the nearest code."""
    f = luminance_tables(dtype)[1].astype(np.float64) * 116.0 - 16.0
    return ((f[1:] + f[:-1]) / 2).astype(np.float32)


@functools.cache
def _code_lookup(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.float32]:
    """A table over L* cells no wider than the narrowest step between codes: (number of code edges
    below each cell, the edge inside each cell or +inf, cells per L*).

    Each cell holds at most one edge, so a value's code is the cell's count plus one if it lies
    above that cell's edge. Cells per L* is a power of two, so the cell of a float32 value is
    exact (scaling by it only moves the exponent) and the answer equals np.searchsorted's.
    """
    edges = _code_edges(dtype).astype(np.float64)
    per_lstar = 2.0 ** int(np.ceil(np.log2(1.0 / float(np.diff(edges).min()))))
    cells = int(np.ceil(edges[-1] * per_lstar)) + 2
    below = np.searchsorted(edges, np.arange(cells) / per_lstar)  # edges strictly below each cell's start
    inside = np.full(cells, np.inf, np.float32)
    has_edge = below[1:] > below[:-1]
    inside[:-1][has_edge] = edges[below[:-1][has_edge]]
    return below.astype(np.int32), inside, np.float32(per_lstar)


def pixels_from_lightness(lum: np.ndarray, dtype: np.dtype = np.uint8) -> np.ndarray:
    """Gray pixels (H×W, uint8 or uint16) whose L* is nearest to `lum`: the exact inverse of
    lightness_from_pixels on gray codes, so an untouched photo round-trips bit for bit.

    The code is the number of code edges below each value (what np.searchsorted gives), read from
    a table (_code_lookup): two lookups and a comparison per pixel, ~4× faster than a binary
    search over 255 edges, which took ~40 ms of a 1600-px preview's repair.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.uint8, np.uint16):
        raise ValueError(f"gray pixels are uint8 or uint16, not {dtype}")
    below, inside, per_lstar = _code_lookup(dtype)
    lum = np.asarray(lum, dtype=np.float32)
    # fmin/fmax, not clip: NaN lands in the last cell and becomes the top code, as searchsorted has it.
    with np.errstate(over="ignore"):  # beyond float32: inf, which the last cell takes
        cell = np.multiply(lum, per_lstar)
    np.fmin(cell, np.float32(len(below) - 1), out=cell)
    np.fmax(cell, np.float32(0), out=cell)
    cell = cell.astype(np.int32)
    code = below[cell]
    code += lum > inside[cell]
    return code.astype(dtype)


TINT_GRID = 256  # long side of the chroma map kept when the tint stays (a print's tone is smooth)


def print_tint(pixels: np.ndarray) -> np.ndarray | None:
    """The print's own a*b* (2, h, w) on a coarse grid, or None for a gray photo.

    Why coarse: a toned print's color varies slowly (toning, yellowing, stains), so a small map
    restores it over the repaired lightness without bringing scratches back in color.
    """
    if pixels.ndim == 2:
        return None
    import cv2
    import torch

    from ..color.spaces import rgb_to_lab

    h, w = pixels.shape[:2]
    s = min(1.0, TINT_GRID / max(h, w))
    gh, gw = max(1, round(h * s)), max(1, round(w * s))
    small = cv2.resize(np.ascontiguousarray(pixels), (gw, gh), interpolation=cv2.INTER_AREA).reshape(gh, gw, 3)
    scale = 65535.0 if pixels.dtype == np.uint16 else 255.0
    lab = rgb_to_lab(torch.from_numpy(small.astype(np.float32) / scale).permute(2, 0, 1))
    return lab[1:].numpy()


def with_tint(gray: np.ndarray, tint: np.ndarray | None) -> np.ndarray:
    """Repaired gray pixels (H×W) colored with the print's tint (print_tint), or left gray."""
    if tint is None:
        return gray
    return recombine_array(gray, tint)
