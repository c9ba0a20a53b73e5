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


def _points(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of a uint8 mask's set pixels, in row-major order (as np.nonzero gives them).

    Why not np.nonzero: on a full-size mask with a few thousand set pixels cv2.findNonZero is
    ~10× faster (1.4 vs 16 ms at 1600×1200), and detection asks this several times per photo.
    """
    pts = cv2.findNonZero(mask)
    if pts is None:
        empty = np.zeros(0, np.intp)
        return empty, empty
    pts = pts.reshape(-1, 2)
    return pts[:, 0].astype(np.intp), pts[:, 1].astype(np.intp)


def _components(cand: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Connected components (8-neighbour) of uint8 mask `cand` as point lists: (n, xs, ys, label
    per point). Stats come from the points, not connectedComponentsWithStats, which
    costs ~20× the labelling itself on a mostly empty full-size mask."""
    n, labels = cv2.connectedComponents(cand, connectivity=8, ltype=cv2.CV_32S)
    xs, ys = _points(cand)
    return n, xs, ys, labels[ys, xs]


def _extent(n: int, xs: np.ndarray, ys: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per component: bounding-box width and height in pixels (0 for labels with no points)."""
    lo_x, hi_x = np.full(n, np.iinfo(np.intp).max), np.full(n, -1)
    lo_y, hi_y = lo_x.copy(), hi_x.copy()
    np.minimum.at(lo_x, lab, xs)
    np.maximum.at(hi_x, lab, xs)
    np.minimum.at(lo_y, lab, ys)
    np.maximum.at(hi_y, lab, ys)
    return np.maximum(hi_x - lo_x + 1, 0), np.maximum(hi_y - lo_y + 1, 0)


def _label_image(shape: tuple[int, int], xs: np.ndarray, ys: np.ndarray, lab: np.ndarray, n: int) -> np.ndarray:
    """A label image holding only the given points: uint16 while the labels fit (cv2.dilate on
    16 bits is ~2× faster than on float32; it takes no int32), float32 beyond."""
    img = np.zeros(shape, np.uint16 if n <= np.iinfo(np.uint16).max else np.float32)
    img[ys, xs] = lab
    return img


def _features(xs: np.ndarray, ys: np.ndarray, lab: np.ndarray, n: int, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Per-component area, mean weight and second moments (length, width, elongation, angle)."""
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


def _ring_level(labels: np.ndarray, n: int, tophat: np.ndarray, other: np.ndarray | None = None) -> np.ndarray:
    """Mean top-hat (plus `other`, when given) in a RING-pixel band just outside each component of
    label image `labels` (_label_image): how busy its surroundings are."""
    grown = cv2.dilate(labels, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * RING + 1,) * 2))
    ring = cv2.bitwise_and(cv2.compare(grown, 0, cv2.CMP_GT), cv2.compare(labels, 0, cv2.CMP_EQ))
    rx, ry = _points(ring)
    rlab = grown[ry, rx].astype(np.int64)
    level = tophat[ry, rx] if other is None else tophat[ry, rx] + other[ry, rx]
    total = np.bincount(rlab, weights=level, minlength=n)
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


def _dust(tophat: np.ndarray, other: np.ndarray, seed_t: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of small, compact, isolated specks of one polarity's top-hat (`other`: the opposite
    polarity's).

    Isolated from both polarities: a light gap between two dark strokes is small and bright, but
    its surroundings are busy with the dark top-hat."""
    n, xs, ys, lab = _components((tophat > seed_t * DUST_FACTOR).view(np.uint8))
    if n <= 1:
        return xs, ys
    area = np.bincount(lab, minlength=n)
    width, height = _extent(n, xs, ys, lab)
    small = (area <= DUST_MAX_AREA) & (np.maximum(width, height) <= DUST_MAX_SIDE)
    small[0] = False
    pick = small[lab]
    xs, ys, lab = xs[pick], ys[pick], lab[pick]
    peak = np.zeros(n)
    np.maximum.at(peak, lab, tophat[ys, xs])
    ring = _ring_level(_label_image(tophat.shape, xs, ys, lab, n), n, tophat, other)
    found = (small & (peak / (ring + 0.5 * noise + 0.5) >= DUST_ISOLATION))[lab]
    return xs[found], ys[found]


def ridge_lineness(lum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How line-like each pixel is (L* units), for bright and for dark lines: the Hessian's strong
    eigenvalue minus its weak one.

    A thin line curves lightness strongly across itself and not along; grain is smoothed away by
    the Gaussian first, and blobs (texture, specks) curve both ways, so both drop out.
    """
    g = cv2.GaussianBlur(lum, (0, 0), RIDGE_SIGMA, borderType=cv2.BORDER_REFLECT)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3, borderType=cv2.BORDER_REFLECT)
    dxy2 = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3, scale=2.0, borderType=cv2.BORDER_REFLECT)
    # With trace t = dxx + dyy and eigenvalue gap d = |(dxx - dyy, 2 dxy)|, the eigenvalues are
    # (t ∓ d) / 2, and "strong minus |weak|" folds to min(max(∓t, 0), d): four array passes
    # instead of ten (the ridge measure was ~10 % of a 1600-px preview's repair).
    gap = cv2.magnitude(cv2.subtract(dxx, dyy), dxy2)
    trace = cv2.add(dxx, dyy)
    dark = np.minimum(np.maximum(trace, 0, out=dxx), gap, out=dxx)
    bright = np.minimum(np.maximum(np.negative(trace, out=trace), 0, out=trace), gap, out=trace)
    return bright, dark


def _scratches(tophat: np.ndarray, ridge: np.ndarray, lum: np.ndarray, seed_t: float, noise: float
               ) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of long, thin, straight features of one polarity's top-hat whose two sides match.

    Features are formed only from line-like pixels (ridge_lineness), so a scratch that runs past
    texture or through grain does not merge with it into one shapeless feature. Everything after
    the labelling works on the candidates' point lists (a few percent of the photo).
    """
    cand = ((tophat > seed_t * WEAK_SHARE) & (ridge > RIDGE_SHARE * seed_t)).view(np.uint8)
    n, xs, ys, lab = _components(cand)
    if n <= 1:
        return xs, ys
    width, height = _extent(n, xs, ys, lab)
    extent = np.hypot(width, height)
    maybe = (extent >= SCRATCH_MIN_LENGTH) & (np.bincount(lab, minlength=n) <= SCRATCH_MAX_WIDTH * extent * 1.2)
    maybe[0] = False
    weights = tophat[ys, xs]
    maybe &= np.bincount(lab[weights > seed_t], minlength=n) > 0  # strong somewhere along it
    if not maybe.any():
        return xs[:0], ys[:0]
    pick = maybe[lab]
    xs, ys, lab = xs[pick], ys[pick], lab[pick]
    f = _features(xs, ys, lab, n, tophat)
    isolation = f["contrast"] / (_ring_level(_label_image(tophat.shape, xs, ys, lab, n), n, tophat) + 0.5 * noise + 0.5)
    keep = maybe & (f["length"] >= SCRATCH_MIN_LENGTH) & (f["width"] <= SCRATCH_MAX_WIDTH) \
        & (f["elongation"] >= SCRATCH_MIN_ELONGATION) & (isolation >= SCRATCH_ISOLATION)
    if keep.any():
        keep &= ~_sides_differ(f, keep, lum, noise) & ~_has_parallels(f, keep)
    found = keep[lab]
    return xs[found], ys[found]


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
    mask = np.zeros(small.shape, np.uint8)
    bright_ridge, dark_ridge = ridge_lineness(small)
    for tophat, other, ridge in ((bright, dark, bright_ridge), (dark, bright, dark_ridge)):
        for xs, ys in (_dust(tophat, other, seed_t, sigma), _scratches(tophat, ridge, small, seed_t, sigma)):
            mask[ys, xs] = 1
    # One pixel more all round: a scratch's soft edges are damage too.
    small_mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    if f == 1.0:
        return small_mask > 0, small, small_mask > 0
    full = cv2.resize(small_mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return full > 0, small, small_mask > 0
