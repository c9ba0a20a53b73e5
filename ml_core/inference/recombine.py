"""Full-resolution recombination: the photo's own lightness + the model's upsampled a*b* -> sRGB.

Why numpy on a few plain threads, not torch: torch runs every operator as its own OpenMP
parallel region, and under ml_core.runtime's passive wait policy (which a busy laptop needs)
each region wakes sleeping threads. The torch version of this kernel ran ~1,000 such regions per
12 MP photo (24 tiles x dozens of operators) and took 0.98 s quiet on 2 cores instead of 0.55 s
with spinning threads. Here each worker thread takes one band of rows at a time from a shared
counter and runs the whole chain on it with single-threaded numpy operations (which release the
GIL): no parallel regions at all, bands sized to stay in the core's cache, and a thread that
loses its core to another program only delays the bands it holds, since the others take the
rest. numpy also keeps this path free of torch (it starts in ~0.1 s; torch takes 2-3 s).

The math is the torch version's: CIE Lab with L given by the input's exact luminance, chroma of
out-of-gamut pixels scaled down by bisection (lightness and hue stay exact), then sRGB encoding
through a lookup table (now 65536 steps of linear light, 0.05 code values from the exact curve).
Outputs agree with the torch version within one code value except where float rounding puts a
pixel on the other side of a gamut decision (1-2 pixels of 12 M on the 12 MP bench photo).
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

# The constants of ml_core.color.spaces (which needs torch), repeated so this module does not;
# tests/core/test_recombine.py checks that they agree.
XYZ_FROM_RGB = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
RGB_FROM_XYZ = np.linalg.inv(XYZ_FROM_RGB)
D65_WHITE = (0.95047, 1.0, 1.08883)
EPSILON = 0.008856  # (6/29)**3, CIE's linear/cube-root switch
KAPPA = 7.787
F_OFFSET = 16.0 / 116.0
F_EPSILON = 0.2068966  # f(EPSILON)

MAX_CHROMA = 1000.0  # |a*|, |b*| beyond any color; larger values would only overflow float32
BAND_PIXELS = 1 << 16  # pixels per work item: ~15 float32 temporaries of 256 KB stay in L2 (measured best)
MAX_THREADS = 8  # beyond this the kernel is bound by memory bandwidth
GAMUT_SLACK = 5e-4  # linear-light tolerance before a pixel counts as out of gamut
GAMUT_STEPS = 8  # bisection steps for chroma reduction of out-of-gamut pixels (chroma within 0.4 %)

# White point folded into the matrix columns: rgb = M' @ (f^-1(fx), Y, f^-1(fz)).
_M = [[float(RGB_FROM_XYZ[i, j] * D65_WHITE[j]) for j in range(3)] for i in range(3)]


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((np.maximum(x, 0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Piecewise sRGB curve as the smaller of its two (concave) pieces, as in ml_core.color.spaces."""
    power = np.maximum(x, 0.0031308) ** (1.0 / 2.4) * 1.055 - 0.055
    return np.minimum(x * 12.92, power)


def lab_f(t: np.ndarray) -> np.ndarray:
    """CIE f(t): the minimum of the cube root and its tangent at the threshold (see ml_core.color.spaces)."""
    return np.minimum(t * KAPPA + F_OFFSET, np.cbrt(np.maximum(t, EPSILON)))


@functools.cache
def luminance_tables(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per input code value: linear light, and CIE f(Y) of a gray pixel of that value (float32)."""
    levels = 65536 if np.dtype(dtype) == np.uint16 else 256
    lin = srgb_to_linear(np.arange(levels, dtype=np.float64) / (levels - 1))
    return lin.astype(np.float32), lab_f(lin).astype(np.float32)


@functools.cache
def _weighted_tables(dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear light times each channel's share of Y, so Y is three lookups and two adds."""
    lin = luminance_tables(dtype)[0]
    return tuple((lin * np.float32(w)).astype(np.float32) for w in XYZ_FROM_RGB[1])  # type: ignore[return-value]


F_TABLE_STEPS = 1 << 14  # f(Y) by linear interpolation in this many steps: error < 1e-6, far below a code value


@functools.cache
def _f_table() -> tuple[np.ndarray, np.ndarray]:
    """f at Y = i / F_TABLE_STEPS and the step to the next entry (one spare entry for Y = 1)."""
    f = lab_f(np.arange(F_TABLE_STEPS + 2, dtype=np.float64) / F_TABLE_STEPS)
    return f[:-1].astype(np.float32), np.diff(f).astype(np.float32)


def f_of_y(y: np.ndarray) -> np.ndarray:
    """CIE f(Y) for Y in [0, 1] from a table: numpy's float32 cbrt costs ~1.5x more."""
    base, step = _f_table()
    pos = y * np.float32(F_TABLE_STEPS)
    np.clip(pos, 0.0, F_TABLE_STEPS, out=pos)
    i = pos.astype(np.uint16)  # small integer indices: take() gathers them ~2x faster than intp
    pos -= i
    pos *= step.take(i)
    pos += base.take(i)
    return pos


def luminance_and_f(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative luminance Y and f(Y) of every pixel, flattened (float32); gray needs only lookups."""
    lin, f_gray = luminance_tables(pixels.dtype)
    if pixels.ndim == 2:
        flat = pixels.reshape(-1)
        return lin.take(flat), f_gray.take(flat)
    w0, w1, w2 = _weighted_tables(pixels.dtype)
    flat = pixels.reshape(-1, 3)
    y = w0.take(flat[:, 0])
    y += w1.take(flat[:, 1])
    y += w2.take(flat[:, 2])
    return y, f_of_y(y)


ENCODE_STEPS = 65535


@functools.cache
def _encode_lut_8bit() -> np.ndarray:
    """sRGB 8-bit code for linear light in 65536 steps (64 KB, stays in cache).

    The steps are 15x finer than the curve's steepest code step (near black), so a lookup is
    within 0.05 code values of the exact curve while costing a gather instead of a pow.
    """
    return np.round(linear_to_srgb(np.arange(ENCODE_STEPS + 1, dtype=np.float64) / ENCODE_STEPS) * 255.0
                    ).astype(np.uint8)


# What ml_core.color.spaces's f^-1 adds above the knee (its linear piece clamped at the knee, minus
# EPSILON: 5e-7, as the rounded constants do not meet exactly); kept so results match it.
_KNEE_BIAS = (np.float32(F_EPSILON) - np.float32(F_OFFSET)) / np.float32(KAPPA)
_KNEE_CUBE = np.float32(F_EPSILON) * np.float32(F_EPSILON) * np.float32(F_EPSILON)


def _f_inverse(f: np.ndarray) -> np.ndarray:
    """CIE f^-1 per element, as ml_core.color.spaces computes it: the cube above the knee, the linear
    segment below; the dark elements are patched only where a band has any."""
    cube = f * f
    cube *= f
    cube += _KNEE_BIAS
    cube -= np.float32(EPSILON)
    if f.size and float(f.min()) < F_EPSILON:
        dark = np.flatnonzero(f < F_EPSILON)
        low = f[dark]
        low -= np.float32(F_OFFSET)
        low /= np.float32(KAPPA)
        low += _KNEE_CUBE
        low -= np.float32(EPSILON)
        cube[dark] = low
    return cube


def _linear_rgb(y: np.ndarray, fy: np.ndarray, a: np.ndarray, b: np.ndarray,
                scale: np.ndarray | float = 1.0) -> np.ndarray:
    """Lab with L given as f(Y) and exact Y -> linear sRGB, planar (3, N) float32."""
    if isinstance(scale, float):
        fx = a * np.float32(scale / 500.0)
        fz = b * np.float32(scale / 200.0)
    else:
        fx = a * (scale / np.float32(500.0))
        fz = b * (scale / np.float32(200.0))
    fx += fy
    np.subtract(fy, fz, out=fz)
    np.maximum(fz, 0.0, out=fz)
    x = _f_inverse(fx)
    z = _f_inverse(fz)
    rgb = np.empty((3, y.size), np.float32)
    for c, row in zip(rgb, _M):
        np.multiply(x, np.float32(row[0]), out=c)
        c += y * np.float32(row[1])
        c += z * np.float32(row[2])
    return rgb


def _out_of_gamut(rgb: np.ndarray, slack: float) -> np.ndarray:
    """Per pixel of planar (3, N) linear RGB: does any channel leave [-slack, 1 + slack]?"""
    low = np.minimum(rgb[0], rgb[1])
    np.minimum(low, rgb[2], out=low)
    high = np.maximum(rgb[0], rgb[1])
    np.maximum(high, rgb[2], out=high)
    out = low < -slack
    out |= high > 1.0 + slack
    return out


def _bisect_chroma(y: np.ndarray, fy: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Linear RGB (3, N) of out-of-gamut pixels with their chroma scaled down until in gamut.

    Scaling chroma instead of clipping RGB keeps lightness and hue exactly as given; clipping
    would darken saturated highlights. The scale is the largest of GAMUT_STEPS bisection steps
    that keeps every channel in [0, 1].
    """
    lo = np.zeros(y.size, np.float32)
    hi = np.ones(y.size, np.float32)
    for _ in range(GAMUT_STEPS):
        mid = lo + hi
        mid *= np.float32(0.5)
        bad = _out_of_gamut(_linear_rgb(y, fy, a, b, mid), 0.0)
        np.copyto(hi, mid, where=bad)
        np.copyto(lo, mid, where=~bad)
    return _linear_rgb(y, fy, a, b, lo)


def _encode(rgb: np.ndarray, high_bit: bool, out: np.ndarray) -> None:
    """Planar linear light (3, N), clipped to [0, 1] here -> interleaved sRGB codes in `out` (N, 3).

    Overwrites `rgb`. One channel at a time into the interleaved output: numpy copies a strided
    (3, N) -> (N, 3) transpose ~6x slower than three strided row stores.
    """
    if high_bit:
        np.clip(rgb, 0.0, 1.0, out=rgb)
        code = linear_to_srgb(rgb)
        code *= 65535.0
        code += 0.5
        codes = code.astype(np.uint16)
    else:
        rgb *= np.float32(ENCODE_STEPS)
        rgb += np.float32(0.5)
        np.clip(rgb, 0.0, ENCODE_STEPS, out=rgb)
        codes = _encode_lut_8bit().take(rgb.astype(np.uint16))
    for c in range(3):
        out[:, c] = codes[c]


def _upsample_columns(ab: np.ndarray, width: int) -> np.ndarray:
    """Bilinear resampling of (2, h, w) along x to `width` (align_corners=False geometry)."""
    w_small = ab.shape[-1]
    src = ((np.arange(width, dtype=np.float64) + 0.5) * (w_small / width) - 0.5).clip(0, w_small - 1)
    x0 = np.floor(src).astype(np.intp)
    x1 = np.minimum(x0 + 1, w_small - 1)
    frac = (src - x0).astype(np.float32)
    left = ab[:, :, x0]
    return np.ascontiguousarray(left + (ab[:, :, x1] - left) * frac)


def worker_count() -> int:
    """Threads for the kernel: the CPUs this process may use, at most MAX_THREADS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_THREADS))


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _forget_pool() -> None:
    """In a forked child the pool's threads do not exist: start a fresh pool if one is needed,
    instead of waiting forever on work queued for threads that were never copied."""
    global _POOL
    _POOL = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> ThreadPoolExecutor:
    """One pool for the process: the threads are created once and sleep between photos."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=max(1, worker_count() - 1), thread_name_prefix="chroma-recombine")
        return _POOL


def run_bands(count: int, work: Callable[[int], None], threads: int) -> None:
    """Call `work(i)` for i in range(count) on `threads` threads (the caller is one of them).

    Items are taken one at a time from a shared counter, so a thread that gets less CPU simply
    does fewer of them. The first exception stops every thread and is raised here.
    """
    counter = itertools.count()
    failed = threading.Event()

    def drain() -> None:
        try:
            for i in counter:
                if i >= count or failed.is_set():
                    return
                work(i)
        except BaseException:
            failed.set()
            raise

    helpers: list[Future] = []
    if threads > 1 and count > 1:
        pool = _pool()
        helpers = [pool.submit(drain) for _ in range(min(threads, count) - 1)]
    error: BaseException | None = None
    try:
        drain()
    except BaseException as exc:  # noqa: BLE001 - re-raised below, after the helpers stopped
        error = exc
    for fut in helpers:
        exc = fut.exception()
        if error is None and exc is not None:
            error = exc
    if error is not None:
        raise error


def recombine_array(pixels: np.ndarray, ab_small: np.ndarray, check: Callable[[], None] | None = None,
                    threads: int | None = None) -> np.ndarray:
    """Full-resolution lightness of `pixels` + bilinearly upsampled `ab_small` (2, h, w) -> RGB.

    Returns uint8 H×W×3 (uint16 for 16-bit input). `check` is called before every band (a
    cancel token's raise_if_cancelled). Two passes: every pixel converted and encoded in bands
    of rows, then the out-of-gamut ones (a few percent) gathered and fixed in batches, since
    a band's few thousand of them would leave numpy's per-call overhead dominating.
    """
    height, width = pixels.shape[:2]
    high_bit = pixels.dtype == np.uint16
    out = np.empty((height, width, 3), dtype=np.uint16 if high_bit else np.uint8)
    if out.size == 0:
        return out
    threads = worker_count() if threads is None else max(1, threads)
    # NaN chroma (a NaN option or model setting, statistics of a 1-pixel photo) would index the
    # encode table out of range; no color keeps the photo's own lightness instead.
    # Chroma beyond any color (|a*|, |b*| > 1000) would only overflow float32 on its way to
    # the gamut mapping, which scales it far down anyway.
    ab = np.nan_to_num(np.asarray(ab_small, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(ab, -MAX_CHROMA, MAX_CHROMA, out=ab)
    h_small = ab.shape[-2]
    # Separable bilinear upsampling: columns once for the whole map, rows per band.
    ab_cols = _upsample_columns(ab, width)
    src_y = ((np.arange(height, dtype=np.float64) + 0.5) * (h_small / height) - 0.5).clip(0, h_small - 1)
    y_lo = np.floor(src_y).astype(np.intp)
    y_hi = np.minimum(y_lo + 1, h_small - 1)
    y_frac = (src_y - y_lo).astype(np.float32)[:, None]
    rows = max(1, BAND_PIXELS // width)
    out_flat = out.reshape(-1, 3)
    flat_pixels = pixels.reshape(height * width, *pixels.shape[2:])
    outside: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = [None] * ((height + rows - 1) // rows)

    def band(i: int) -> None:
        if check is not None:
            check()
        r0, r1 = i * rows, min(height, (i + 1) * rows)
        frac = y_frac[r0:r1]
        a_lo, a = ab_cols[0, y_lo[r0:r1]], ab_cols[0, y_hi[r0:r1]]
        a -= a_lo
        a *= frac
        a += a_lo
        b_lo, b = ab_cols[1, y_lo[r0:r1]], ab_cols[1, y_hi[r0:r1]]
        b -= b_lo
        b *= frac
        b += b_lo
        a, b = a.reshape(-1), b.reshape(-1)
        y, fy = luminance_and_f(pixels[r0:r1])
        rgb = _linear_rgb(y, fy, a, b)
        # Rounding puts colors that sit exactly on the gamut's surface a hair outside; clipping
        # those moves L* by < 0.3 even near black, so only clearly out-of-gamut pixels are fixed.
        idx = np.flatnonzero(_out_of_gamut(rgb, GAMUT_SLACK))
        if idx.size:
            outside[i] = (idx + r0 * width, a[idx], b[idx])
        _encode(rgb, high_bit, out_flat[r0 * width:r1 * width])

    run_bands(len(outside), band, threads)
    found = [o for o in outside if o is not None]
    if not found:
        return out
    where, a_out, b_out = (np.concatenate(parts) for parts in zip(*found))
    fix_rows = BAND_PIXELS // 2

    def fix(i: int) -> None:
        if check is not None:
            check()
        sl = slice(i * fix_rows, (i + 1) * fix_rows)
        y, fy = luminance_and_f(flat_pixels[where[sl]][None])  # as one row of the photo
        rgb = _bisect_chroma(y, fy, a_out[sl], b_out[sl])
        codes = np.empty((rgb.shape[1], 3), out.dtype)
        _encode(rgb, high_bit, codes)
        out_flat[where[sl]] = codes

    run_bands((where.size + fix_rows - 1) // fix_rows, fix, threads)
    return out
