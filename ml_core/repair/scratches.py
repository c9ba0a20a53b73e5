"""Scratches and dust: thin bright or dark lines and specks that are not image structure -> mask.

Method (chosen on the benchmark, bench/bench_repair.py): a morphological top-hat (the photo minus
its opening, its closing minus the photo) lights up every feature narrower than a 7-pixel window,
bright and dark separately. That includes real detail, so dense patches of it (texture) are set
aside and each remaining connected feature is judged by shape and context, all vectorized over
features (no per-feature Python loop):

* dust: small, compact, and much stronger than the top-hat of its surroundings (a speck on a
  smooth area; a catch-light in an eye sits among strong detail and is left alone);
* scratch: long, thin and straight (second moments of the feature's pixels), standing out from its
  surroundings, and with the *same* lightness on both of its sides: a scratch lies on top of the
  picture, whereas a real thin line (an outline, a window frame, the edge of a collar) almost
  always separates two areas of different tone.

Thresholds scale with the photo's measured grain (ml_core.repair.noise), so grain is not dust.
Detection runs on a copy at most DETECT_MAX_SIDE pixels long, so a 1-MP preview and a 12-MP
export see the same damage (relative to the photo) and a 12-MP photo costs what a 2-MP one does.
"""

from __future__ import annotations

import cv2
import numpy as np

from .noise import estimate_noise

DETECT_MAX_SIDE = 1600
WINDOW = 7  # top-hat window: features narrower than this (at detection scale) are candidates
MIN_CONTRAST = 5.0  # L* units: weaker features are left alone, however clean the photo
NOISE_FACTOR = 4.5  # seed threshold in noise stds (top-hat of pure grain peaks near 4-5 std)
DUST_FACTOR = 2.5  # specks must stand out more than lines: a lone grain peak is also small
DUST_MAX_AREA = 40  # pixels at detection scale
DUST_MAX_SIDE = 11
DUST_ISOLATION = 6.0  # contrast over the mean top-hat of the ring around it
WEAK_SHARE = 0.5  # a feature extends over pixels down to this share of the seed threshold
RIDGE_SIGMA = 1.0  # Gaussian before the Hessian: smooths grain, keeps 1-4 px lines
RIDGE_SHARE = 1.0  # line-likeness a pixel needs, as a share of the seed threshold
SCRATCH_MIN_LENGTH = 40.0  # at detection scale; an arc this long is visibly curved
SCRATCH_MAX_WIDTH = 6.0
SCRATCH_MIN_ELONGATION = 10.0
SCRATCH_ISOLATION = 3.0
SIDE_SHARE = 0.35  # a line whose two sides differ by more than this share of its contrast is real
PARALLEL_ANGLE = np.radians(6.0)  # lines this parallel ...
PARALLEL_GAP = 40.0  # ... and this close (pixels at detection scale, across them) are structure
RING = 4  # pixels around a feature that count as its surroundings


def _threshold(noise: float, strength: float) -> float:
    """Seed threshold: strength 0.5 is the tuned default, 1 finds damage at 0.5× that contrast."""
    return max(MIN_CONTRAST, NOISE_FACTOR * noise) * (1.6 - 1.1 * strength)


def _features(labels: np.ndarray, n: int, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Per-component area, mean weight and second moments (length, width, elongation, angle)."""
    ys, xs = np.nonzero(labels)
    lab = labels[ys, xs]
    cnt = np.bincount(lab, minlength=n).astype(np.float64)
    safe = np.maximum(cnt, 1)
    mx = np.bincount(lab, weights=xs, minlength=n) / safe
    my = np.bincount(lab, weights=ys, minlength=n) / safe
    dx, dy = xs - mx[lab], ys - my[lab]
    cxx = np.bincount(lab, weights=dx * dx, minlength=n) / safe + 1 / 12
    cyy = np.bincount(lab, weights=dy * dy, minlength=n) / safe + 1 / 12
    cxy = np.bincount(lab, weights=dx * dy, minlength=n) / safe
    half_gap = np.sqrt(((cxx - cyy) / 2) ** 2 + cxy ** 2)
    l1, l2 = (cxx + cyy) / 2 + half_gap, np.maximum((cxx + cyy) / 2 - half_gap, 1 / 12)
    length = np.sqrt(12 * l1)
    return {
        "ys": ys, "xs": xs, "lab": lab, "area": cnt,
        "contrast": np.bincount(lab, weights=weights[ys, xs], minlength=n) / safe,
        "length": length, "width": cnt / np.maximum(length, 1), "elongation": np.sqrt(l1 / l2),
        "angle": 0.5 * np.arctan2(2 * cxy, cxx - cyy), "cx": mx, "cy": my,
    }


def _ring_level(labels: np.ndarray, n: int, tophat: np.ndarray) -> np.ndarray:
    """Mean top-hat in a RING-pixel band just outside each component: how busy its surroundings are."""
    grown = cv2.dilate(labels.astype(np.float32), cv2.getStructuringElement(cv2.MORPH_RECT, (2 * RING + 1,) * 2))
    ry, rx = np.nonzero((grown > 0) & (labels == 0))
    rlab = grown[ry, rx].astype(np.int64)
    total = np.bincount(rlab, weights=tophat[ry, rx], minlength=n)
    return total / np.maximum(np.bincount(rlab, minlength=n), 1)


def _sides_differ(f: dict, keep: np.ndarray, lum: np.ndarray, noise: float) -> np.ndarray:
    """Per component: do the two sides of the line (along its normal) differ in lightness?

    A scratch lies on top of the picture, so its two sides match; an outline or frame separates
    two areas of different tone.
    """
    n = len(keep)
    nx, ny = -np.sin(f["angle"]), np.cos(f["angle"])
    pick = keep[f["lab"]]
    px, py, pl = f["xs"][pick], f["ys"][pick], f["lab"][pick]
    d = np.ceil(f["width"][pl] / 2) + 2
    h, w = lum.shape
    ax = np.clip(np.rint(px + d * nx[pl]), 0, w - 1).astype(np.intp)
    ay = np.clip(np.rint(py + d * ny[pl]), 0, h - 1).astype(np.intp)
    bx = np.clip(np.rint(px - d * nx[pl]), 0, w - 1).astype(np.intp)
    by = np.clip(np.rint(py - d * ny[pl]), 0, h - 1).astype(np.intp)
    side = np.bincount(pl, weights=np.abs(lum[ay, ax] - lum[by, bx]), minlength=n) / np.maximum(f["area"], 1)
    return side > SIDE_SHARE * f["contrast"] + 1.5 * noise + 1.0


def _has_parallels(f: dict, keep: np.ndarray) -> np.ndarray:
    """Per component: is it one of a set of parallel lines close together (masonry joints, railings,
    window bars, a sign's frame)? Scratches on a print are single; repeated parallel lines are
    structure. Pairwise over the (few) line candidates."""
    out = np.zeros(len(keep), bool)
    idx = np.nonzero(keep)[0]
    if len(idx) < 2:
        return out
    a, cx, cy, ln = f["angle"][idx], f["cx"][idx], f["cy"][idx], f["length"][idx]
    turn = np.abs(((a[:, None] - a[None, :]) + np.pi / 2) % np.pi - np.pi / 2)
    dx, dy = cx[None, :] - cx[:, None], cy[None, :] - cy[:, None]
    across = np.abs(dx * -np.sin(a)[:, None] + dy * np.cos(a)[:, None])
    along = np.abs(dx * np.cos(a)[:, None] + dy * np.sin(a)[:, None])
    near = (turn < PARALLEL_ANGLE) & (across < PARALLEL_GAP) & (along < (ln[:, None] + ln[None, :]) / 2)
    np.fill_diagonal(near, False)
    out[idx] = near.any(axis=1)
    return out


def _dust(tophat: np.ndarray, other: np.ndarray, seed_t: float, noise: float) -> np.ndarray:
    """Small, compact, isolated specks of one polarity's top-hat (`other`: the opposite polarity's).

    Isolated from both polarities: a light gap between two dark strokes is small and bright, but
    its surroundings are busy with the dark top-hat."""
    hi = (tophat > seed_t * DUST_FACTOR).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hi, connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return np.zeros(tophat.shape, bool)
    area = stats[:, cv2.CC_STAT_AREA]
    side = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    small = (area <= DUST_MAX_AREA) & (side <= DUST_MAX_SIDE)
    small[0] = False
    labels = np.where(small, np.arange(n), 0).astype(np.int32)[labels]
    peak = np.zeros(n)
    inside = labels > 0  # ufunc.at only over the (few) speck pixels: over all it costs a second
    np.maximum.at(peak, labels[inside], tophat[inside])
    isolation = peak / (_ring_level(labels, n, tophat + other) + 0.5 * noise + 0.5)
    return (small & (isolation >= DUST_ISOLATION))[labels]


def ridge_lineness(lum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How line-like each pixel is (L* units), for bright and for dark lines: the Hessian's strong
    eigenvalue minus its weak one.

    A thin line curves lightness strongly across itself and not along; grain is smoothed away by
    the Gaussian first, and blobs (texture, specks) curve both ways, so both drop out.
    """
    g = cv2.GaussianBlur(lum, (0, 0), RIDGE_SIGMA, borderType=cv2.BORDER_REFLECT)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3, borderType=cv2.BORDER_REFLECT)
    dxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    half = cv2.magnitude((dxx - dyy) * 0.5, dxy)
    mean = (dxx + dyy) * 0.5
    lo, hi = mean - half, mean + half  # eigenvalues, lo ≤ hi
    bright = np.maximum(-lo - np.abs(hi), 0)  # a bright ridge: strongly negative across
    dark = np.maximum(hi - np.abs(lo), 0)
    return bright, dark


def _scratches(tophat: np.ndarray, ridge: np.ndarray, lum: np.ndarray, seed_t: float, noise: float) -> np.ndarray:
    """Long, thin, straight features of one polarity's top-hat whose two sides match.

    Features are formed only from line-like pixels (ridge_lineness), so a scratch that runs past
    texture or through grain does not merge with it into one shapeless feature.
    """
    weak = tophat > seed_t * WEAK_SHARE
    cand = (weak & (ridge > RIDGE_SHARE * seed_t)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8, ltype=cv2.CV_32S)
    if n <= 1:
        return np.zeros(tophat.shape, bool)
    extent = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    maybe = (extent >= SCRATCH_MIN_LENGTH) & (stats[:, cv2.CC_STAT_AREA] <= SCRATCH_MAX_WIDTH * extent * 1.2)
    maybe[0] = False
    maybe &= np.bincount(labels[tophat > seed_t], minlength=n) > 0  # strong somewhere along it
    if not maybe.any():
        return np.zeros(tophat.shape, bool)
    labels = np.where(maybe, np.arange(n), 0).astype(np.int32)[labels]
    f = _features(labels, n, tophat)
    isolation = f["contrast"] / (_ring_level(labels, n, tophat) + 0.5 * noise + 0.5)
    keep = maybe & (f["length"] >= SCRATCH_MIN_LENGTH) & (f["width"] <= SCRATCH_MAX_WIDTH) \
        & (f["elongation"] >= SCRATCH_MIN_ELONGATION) & (isolation >= SCRATCH_ISOLATION)
    if keep.any():
        keep &= ~_sides_differ(f, keep, lum, noise) & ~_has_parallels(f, keep)
    return keep[labels]


def detect_damage(lum: np.ndarray, strength: float = 0.5, noise: float | None = None) -> np.ndarray:
    """Bool mask (the size of `lum`) of scratch and dust pixels of lightness `lum` (L*, 0..100).

    `strength` 0..1 is sensitivity (RepairSettings.scratches_strength). `noise`: the photo's
    grain std if already measured (estimate_noise), at full resolution.
    """
    return detect_scaled(lum, strength, noise)[0]


def detect_scaled(lum: np.ndarray, strength: float = 0.5, noise: float | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(full-size mask, the detection-scale copy of `lum`, its mask): filling at detection scale
    costs a fraction of filling a 12-MP photo, and the fill is smooth anyway."""
    lum = np.asarray(lum, dtype=np.float32)
    h, w = lum.shape
    f = min(1.0, DETECT_MAX_SIDE / max(h, w, 1))
    small = lum if f == 1.0 else cv2.resize(lum, (max(1, round(w * f)), max(1, round(h * f))),
                                            interpolation=cv2.INTER_AREA)
    sigma = estimate_noise(small) if (noise is None or f < 1.0) else noise
    seed_t = _threshold(sigma, strength)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (WINDOW, WINDOW))
    bright = small - cv2.morphologyEx(small, cv2.MORPH_OPEN, kernel)
    dark = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel) - small
    mask = np.zeros(small.shape, bool)
    bright_ridge, dark_ridge = ridge_lineness(small)
    for tophat, other, ridge in ((bright, dark, bright_ridge), (dark, bright, dark_ridge)):
        mask |= _dust(tophat, other, seed_t, sigma)
        mask |= _scratches(tophat, ridge, small, seed_t, sigma)
    # One pixel more all round: a scratch's soft edges are damage too.
    small_mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    if f == 1.0:
        return small_mask > 0, small, small_mask > 0
    full = cv2.resize(small_mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return full > 0, small, small_mask > 0
