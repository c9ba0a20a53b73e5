"""Scratches and dust: thin bright or dark lines and specks that are not image structure -> mask.

Method (chosen on the benchmark, bench/bench_repair.py): a morphological top-hat (the photo minus
its opening, its closing minus the photo) lights up every feature narrower than a 7-pixel window,
bright and dark separately. That includes real detail, so each connected feature is then judged
by shape and context, all vectorized over features (no per-feature Python loop):

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
LINE_LENGTH = 15  # pixels a straight run must sustain to count as a line
LINE_ANGLES = 36
LINE_MARGIN = False
WEAK_SHARE = 0.5
SCRATCH_MIN_LENGTH = 40.0  # at detection scale; an arc this long is visibly curved
SCRATCH_MAX_WIDTH = 6.0
SCRATCH_MIN_ELONGATION = 10.0
SCRATCH_ISOLATION = 3.0
SIDE_SHARE = 0.35  # a line whose two sides differ by more than this share of its contrast is real
RING = 4  # pixels around a feature that count as its surroundings


def _threshold(noise: float, strength: float) -> float:
    """Seed threshold: strength 0.5 is the tuned default, 1 finds damage at 0.5× that contrast."""
    return max(MIN_CONTRAST, NOISE_FACTOR * noise) * (1.6 - 1.1 * strength)


def _line_kernels(length: int, count: int) -> list[np.ndarray]:
    """`count` one-pixel digital line segments of `length` through the centre, evenly over 180°."""
    out = []
    c = length // 2
    for i in range(count):
        a = np.pi * i / count
        k = np.zeros((length, length), np.uint8)
        dx, dy = c * np.cos(a), c * np.sin(a)
        cv2.line(k, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1, 1)
        out.append(k)
    return out


_LINES = _line_kernels(LINE_LENGTH, LINE_ANGLES)


def line_maps(tophat: np.ndarray) -> list[np.ndarray]:
    """Per angle, the contrast a straight run of LINE_LENGTH pixels through each pixel sustains.

    Grayscale opening with a line segment keeps only what contains that whole segment, so texture
    (short, blobby) drops out and long straight features stay. The top-hat is widened by a pixel
    first: a one-pixel digital line steps where its own angle says, and a segment 3.75° off it
    steps elsewhere, so without the margin a thin oblique line would contain no segment at all.
    """
    q = np.clip(tophat * 4.0, 0, 255).astype(np.uint8)  # 0.25 L* steps are plenty for a threshold
    if LINE_MARGIN:
        q = cv2.dilate(q, np.ones((3, 3), np.uint8))
    return [cv2.morphologyEx(q, cv2.MORPH_OPEN, k) for k in _LINES]


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
        "angle": 0.5 * np.arctan2(2 * cxy, cxx - cyy),
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
    np.maximum.at(peak, labels.ravel(), tophat.ravel())
    isolation = peak / (_ring_level(labels, n, tophat + other) + 0.5 * noise + 0.5)
    return (small & (isolation >= DUST_ISOLATION))[labels]


def _scratches(tophat: np.ndarray, lum: np.ndarray, seed_t: float, noise: float) -> np.ndarray:
    """Long, thin, straight features of one polarity's top-hat whose two sides match.

    Each angle's line map is split into features on its own, so a scratch running through
    texture is not merged with texture that has no long run at the scratch's angle.
    """
    mask = np.zeros(tophat.shape, bool)
    weak = tophat > seed_t * WEAK_SHARE
    q_seed = np.uint8(min(255, round(seed_t * 4.0)))
    for angle_map in line_maps(tophat):
        cand = ((angle_map > q_seed) & weak).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8, ltype=cv2.CV_32S)
        if n <= 1:
            continue
        extent = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
        maybe = (extent >= SCRATCH_MIN_LENGTH) & (stats[:, cv2.CC_STAT_AREA] <= SCRATCH_MAX_WIDTH * extent * 1.2)
        maybe[0] = False
        if not maybe.any():
            continue
        labels = np.where(maybe, np.arange(n), 0).astype(np.int32)[labels]
        f = _features(labels, n, tophat)
        isolation = f["contrast"] / (_ring_level(labels, n, tophat) + 0.5 * noise + 0.5)
        keep = maybe & (f["length"] >= SCRATCH_MIN_LENGTH) & (f["width"] <= SCRATCH_MAX_WIDTH) \
            & (f["elongation"] >= SCRATCH_MIN_ELONGATION) & (isolation >= SCRATCH_ISOLATION)
        if keep.any():
            keep &= ~_sides_differ(f, keep, lum, noise)
            mask |= keep[labels]
    return mask


def detect_damage(lum: np.ndarray, strength: float = 0.5, noise: float | None = None) -> np.ndarray:
    """Bool mask (the size of `lum`) of scratch and dust pixels of lightness `lum` (L*, 0..100).

    `strength` 0..1 is sensitivity (RepairSettings.scratches_strength). `noise`: the photo's
    grain std if already measured (estimate_noise), at full resolution.
    """
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
    for tophat, other in ((bright, dark), (dark, bright)):
        mask |= _dust(tophat, other, seed_t, sigma)
        mask |= _scratches(tophat, small, seed_t, sigma)
    # One pixel more all round: a scratch's soft edges are damage too.
    mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    if f < 1.0:
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    return mask > 0
