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
  always separates two areas of different tone;
* merged scratches: a long feature rejected for its shape (two crossing scratches, a scratch
  touching an outline, a curved crack) is split by line orientation (the Hessian's) into straight
  parts, each judged as above; when its parts found hold half its pixels it is taken whole;
* every scratch found is followed along its axis over candidate pixels oriented like it, through
  the texture, edges and tone changes where its own pieces failed the tests.
  (Tuning half, 20 photos: recall 18/43/55 % -> 29/56/75 % on light/medium/heavy damage, at
  0.24 -> 0.39 % of a clean photo's pixels.)

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
SPLIT_MERGED = True  # split long features rejected for their shape into straight parts (crossings, curves)
SPLIT_BINS = 36  # orientation histogram bins over 180°: 5° each
SPLIT_HALF_BINS = 2  # a part takes pixels within ±2 bins (±12.5°) of its peak orientation
SPLIT_MAX_LINES = 4  # parts per feature
SPLIT_MAX_FEATURES = 48  # features split per polarity, longest first (time: each costs a few labellings)
SPLIT_TAKE_ALL = 0.4  # a feature whose found parts hold this share of its pixels is taken whole
# A part must hold this share of the feature's top-hat-weighted pixels: a feature with no dominant
# directions is texture, not scratches (on the tuning half 0.1-0.18 added 0.06 % of clean pixels).
SPLIT_MIN_SHARE = 0.25
EXTEND_LINES = True  # follow each scratch found along its axis through texture and edges
EXTEND_ACROSS = 1.0  # pixels off the axis a continuation may lie ...
EXTEND_SLOPE = 0.005  # ... plus this per pixel beyond the found piece (angle error, ~0.3°)
EXTEND_TURN = np.radians(15.0)  # orientation a continuation pixel may differ by
EXTEND_GAP = 8.0  # pixels along the axis without candidates that end a scratch
EXTEND_MAX_LINES = 16  # the longest scratches found are followed; a print rarely has more


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
    return _hessian_ridges(lum)[:2]


def _hessian_ridges(lum: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bright lineness, dark lineness, dxx - dyy, 2 dxy): the last two give each pixel's line
    orientation (0.5 atan2(2 dxy, dxx - dyy)), read only where a merged feature is split."""
    g = cv2.GaussianBlur(lum, (0, 0), RIDGE_SIGMA, borderType=cv2.BORDER_REFLECT)
    dxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    dyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3, borderType=cv2.BORDER_REFLECT)
    dxy2 = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3, scale=2.0, borderType=cv2.BORDER_REFLECT)
    # With trace t = dxx + dyy and eigenvalue gap d = |(dxx - dyy, 2 dxy)|, the eigenvalues are
    # (t ∓ d) / 2, and "strong minus |weak|" folds to min(max(∓t, 0), d): four array passes
    # instead of ten (the ridge measure was ~10 % of a 1600-px preview's repair).
    diff = cv2.subtract(dxx, dyy)
    gap = cv2.magnitude(diff, dxy2)
    trace = cv2.add(dxx, dyy)
    dark = np.minimum(np.maximum(trace, 0, out=dxx), gap, out=dxx)
    bright = np.minimum(np.maximum(np.negative(trace, out=trace), 0, out=trace), gap, out=trace)
    return bright, dark, diff, dxy2


def _judge_lines(xs: np.ndarray, ys: np.ndarray, lab: np.ndarray, n: int, tophat: np.ndarray, lum: np.ndarray,
                 noise: float, occupied: tuple[np.ndarray, np.ndarray] | None = None,
                 neighbours: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per label: is the feature a scratch (long, thin, straight, isolated, same tone on both sides,
    no close parallel)? Also returns the features, with "lines": which passed every test but the
    sides and parallels. `occupied`: (xs, ys) of other candidate pixels that are no feature's
    surroundings (the rest of a feature that was split). `neighbours`: further straight lines
    ("cx", "cy", "angle", "length") a feature must not be parallel to."""
    f = _features(xs, ys, lab, n, tophat)
    labels = _label_image(tophat.shape, xs, ys, lab, n)
    if occupied is not None:  # label 1 is reserved for them (_split_by_orientation numbers from 2)
        labels[occupied[1], occupied[0]] = 1
    isolation = f["contrast"] / (_ring_level(labels, n, tophat) + 0.5 * noise + 0.5)
    keep = (f["area"] > 0) & (f["length"] >= SCRATCH_MIN_LENGTH) & (f["width"] <= SCRATCH_MAX_WIDTH) \
        & (f["elongation"] >= SCRATCH_MIN_ELONGATION) & (isolation >= SCRATCH_ISOLATION)
    f["lines"] = keep.copy()
    if keep.any():
        keep &= ~_sides_differ(f, keep, lum, noise) & ~_parallel_to_any(f, keep, neighbours)
    return keep, f


def _parallel_to_any(f: dict, keep: np.ndarray, neighbours: dict[str, np.ndarray] | None) -> np.ndarray:
    """_has_parallels over the features `keep` and the `neighbours` lines together, for the features."""
    if neighbours is None or len(neighbours["cx"]) == 0:
        return _has_parallels(f, keep)
    keys = ("angle", "cx", "cy", "length")
    joint = {k: np.concatenate([f[k], neighbours[k]]) for k in keys}
    return _has_parallels(joint, np.concatenate([keep, np.ones(len(neighbours["cx"]), bool)]))[: len(keep)]


def _split_by_orientation(xs: np.ndarray, ys: np.ndarray, lab: np.ndarray, theta: np.ndarray,
                          weight: np.ndarray, which: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple[np.ndarray, np.ndarray],
                                     np.ndarray]:
    """Features `which` split into straight parts: their pixels grouped by line orientation
    `theta` (radians, per point) around the feature's strongest orientations, each group cut
    into connected pieces.

    Why: two crossing scratches, or a scratch touching an outline or a texture edge, form one
    feature that is not elongated, and was rejected whole (on the tuning half most missed
    scratches were such merged features). Returns the pieces' points and labels (numbered from 2;
    1 marks the pixels no group took), the label count, those leftover pixels, and each piece
    label's feature.
    """
    bins = SPLIT_BINS
    out_x, out_y, out_l, rest_x, rest_y, parent = [], [], [], [], [], [0, 0]
    next_label = 2
    b = (np.mod(theta, np.pi) * (bins / np.pi)).astype(np.intp) % bins
    order = np.argsort(lab, kind="stable")  # each feature's points as one slice: no pass over all per feature
    xs, ys, lab, b, weight = xs[order], ys[order], lab[order], b[order], weight[order]
    chosen = np.nonzero(which)[0]
    for c, lo, hi in zip(chosen, np.searchsorted(lab, chosen, side="left"), np.searchsorted(lab, chosen, side="right")):
        cx, cy, cb, cw = xs[lo:hi], ys[lo:hi], b[lo:hi], weight[lo:hi]
        hist = np.bincount(cb, weights=cw, minlength=bins)
        hist = hist + 0.5 * (np.roll(hist, 1) + np.roll(hist, -1))
        free = np.ones(len(cx), bool)
        total = cw.sum()
        for _ in range(SPLIT_MAX_LINES):
            peak = int(np.argmax(hist))
            dist = np.abs((cb - peak + bins // 2) % bins - bins // 2)
            group = free & (dist <= SPLIT_HALF_BINS)
            if cw[group].sum() < SPLIT_MIN_SHARE * total:
                break
            free &= ~group
            # The next part's peak lies a part's width away at least: a curve's parts then tile it.
            hist[(peak + np.arange(-2 * SPLIT_HALF_BINS, 2 * SPLIT_HALF_BINS + 1)) % bins] = 0
            if group.sum() < SCRATCH_MIN_LENGTH:
                continue
            gx, gy = cx[group], cy[group]
            x0, y0 = gx.min(), gy.min()
            crop = np.zeros((gy.max() - y0 + 1, gx.max() - x0 + 1), np.uint8)
            crop[gy - y0, gx - x0] = 1
            k, pieces = cv2.connectedComponents(crop, connectivity=8, ltype=cv2.CV_32S)
            out_x.append(gx)
            out_y.append(gy)
            out_l.append(pieces[gy - y0, gx - x0] + (next_label - 1))
            parent += [c] * (k - 1)
            next_label += k - 1
        rest_x.append(cx[free])
        rest_y.append(cy[free])
    rest = (np.concatenate(rest_x), np.concatenate(rest_y))
    if not out_x:
        empty = xs[:0]
        return empty, empty, empty, 2, rest, np.array(parent, np.intp)
    return (np.concatenate(out_x), np.concatenate(out_y), np.concatenate(out_l), next_label, rest,
            np.array(parent, np.intp))


def _extend_lines(cx: np.ndarray, cy: np.ndarray, angle: np.ndarray, length: np.ndarray,
                  xs: np.ndarray, ys: np.ndarray, theta: np.ndarray, shape: tuple[int, int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of candidate pixels (xs, ys; line orientation `theta`, same convention as `angle`)
    that continue one of the found scratches (centre cx, cy, direction angle, length) along its axis.

    Why: a scratch found where it crosses a smooth area is lost where it crosses texture, an
    outline or a tone edge (its pieces there fail the isolation or same-sides tests, or merge with
    the structure). A print's scratch is straight, so the candidate pixels on its axis, oriented
    like it, with no gap longer than EXTEND_GAP, are the same scratch. The axis is refitted on
    what was taken (a longer base, a truer angle) and followed again. The axis is walked pixel by
    pixel across the photo (a few thousand samples per scratch), so the cost does not grow with the
    number of candidates, which a textured photo has by the hundred thousand.
    """
    h, w = shape
    where = np.full(shape, np.nan, np.float32)
    where[ys, xs] = np.mod(theta, np.pi)
    reach = float(np.hypot(h, w))
    width = int(np.ceil(EXTEND_ACROSS + EXTEND_SLOPE * reach))
    out_x, out_y = [], []
    for j in np.argsort(-length)[:EXTEND_MAX_LINES]:
        x0, y0, a, half = cx[j], cy[j], angle[j], length[j] / 2
        taken_x = taken_y = None
        for _ in range(2):
            ux, uy = np.cos(a), np.sin(a)
            # Steps along the axis that stay in the photo, and at each offset across it only the
            # steps far enough beyond the found piece for that offset to be allowed.
            lo_t, hi_t = -reach, reach
            for p0, u, size in ((x0, ux, w), (y0, uy, h)):
                if abs(u) > 1e-9:
                    a_t, b_t = (-1 - p0) / u, (size - p0) / u
                    lo_t, hi_t = max(lo_t, min(a_t, b_t)), min(hi_t, max(a_t, b_t))
            steps = np.arange(np.floor(lo_t), np.ceil(hi_t) + 1)
            beyond = np.maximum(np.abs(steps) - half, 0)
            t_parts, o_parts = [], []
            for o in range(-width, width + 1):
                sel = steps[abs(o) <= EXTEND_ACROSS + EXTEND_SLOPE * beyond]
                t_parts.append(sel)
                o_parts.append(np.full(len(sel), float(o)))
            t_all, o_all = np.concatenate(t_parts), np.concatenate(o_parts)
            sx = np.rint(x0 + t_all * ux + o_all * uy)
            sy = np.rint(y0 + t_all * uy - o_all * ux)
            inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
            t_all, sx, sy = t_all[inside], sx[inside].astype(np.intp), sy[inside].astype(np.intp)
            d = where[sy, sx]
            turn = np.abs((d - np.mod(a, np.pi) + np.pi / 2) % np.pi - np.pi / 2)
            ok = turn <= EXTEND_TURN  # NaN (no candidate) compares False
            if not ok.any():
                break
            t_ok, sx, sy = t_all[ok], sx[ok], sy[ok]
            pos = np.unique(t_ok)
            breaks = np.nonzero(np.diff(pos) > EXTEND_GAP)[0]
            starts = np.concatenate([[0], breaks + 1])
            ends = np.concatenate([breaks, [len(pos) - 1]])
            inside_run = (pos[ends] >= -half) & (pos[starts] <= half)  # the runs over the found piece itself
            if not inside_run.any():
                break
            lo, hi = pos[starts[inside_run].min()], pos[ends[inside_run].max()]
            keep = (t_ok >= lo) & (t_ok <= hi)
            taken_x, taken_y = sx[keep], sy[keep]
            fx, fy = taken_x.astype(np.float64), taken_y.astype(np.float64)
            x0, y0 = fx.mean(), fy.mean()
            cxx, cyy, cxy = ((fx - x0) ** 2).mean(), ((fy - y0) ** 2).mean(), ((fx - x0) * (fy - y0)).mean()
            a = 0.5 * np.arctan2(2 * cxy, cxx - cyy)
            proj = (fx - x0) * np.cos(a) + (fy - y0) * np.sin(a)
            half = max(-proj.min(), proj.max())
        if taken_x is not None:
            out_x.append(taken_x)
            out_y.append(taken_y)
    if not out_x:
        return xs[:0], ys[:0]
    return np.concatenate(out_x), np.concatenate(out_y)


def _scratches(tophat: np.ndarray, ridge: np.ndarray, lum: np.ndarray, seed_t: float, noise: float,
               orientation: tuple[np.ndarray, np.ndarray] | None = None, dark: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
    """(xs, ys) of long, thin, straight features of one polarity's top-hat whose two sides match.

    Features are formed only from line-like pixels (ridge_lineness), so a scratch that runs past
    texture or through grain does not merge with it into one shapeless feature. Everything after
    the labelling works on the candidates' point lists (a few percent of the photo).
    `orientation`: (dxx - dyy, 2 dxy) from _hessian_ridges; with it, long features rejected for
    their shape (not elongated, too wide) are split into straight parts that are judged again, and
    every scratch found is followed along its axis (_extend_lines). `dark`: the polarity.
    """
    cand = ((tophat > seed_t * WEAK_SHARE) & (ridge > RIDGE_SHARE * seed_t)).view(np.uint8)
    n, xs, ys, lab = _components(cand)
    if n <= 1:
        return xs, ys
    width, height = _extent(n, xs, ys, lab)
    extent = np.hypot(width, height)
    area = np.bincount(lab, minlength=n)
    maybe = extent >= SCRATCH_MIN_LENGTH
    maybe[0] = False
    weights = tophat[ys, xs]
    maybe &= np.bincount(lab[weights > seed_t], minlength=n) > 0  # strong somewhere along it
    # Too much area for a line of its extent: a blob or texture patch, unless split (see below).
    thin = area <= SCRATCH_MAX_WIDTH * extent * 1.2
    if not maybe.any():
        return xs[:0], ys[:0]
    pick = (maybe & thin)[lab]
    keep, f = _judge_lines(xs[pick], ys[pick], lab[pick], n, tophat, lum, noise)
    found = keep[lab] & pick
    fx, fy = xs[found], ys[found]
    if orientation is None:
        return fx, fy
    diff, dxy2 = orientation
    # Line direction per pixel: the Hessian's larger eigenvector lies along a bright line and
    # across a dark one.
    offset = np.pi / 2 if dark else 0.0

    def direction(px: np.ndarray, py: np.ndarray) -> np.ndarray:
        return 0.5 * np.arctan2(dxy2[py, px], diff[py, px]) + offset

    found_lab = np.nonzero(keep)[0]
    lines = [(f["cx"][found_lab], f["cy"][found_lab], f["angle"][found_lab], f["length"][found_lab])]
    shaped = np.zeros(n, bool)
    shaped[: len(f["length"])] = (f["length"] >= SCRATCH_MIN_LENGTH) \
        & ((f["elongation"] < SCRATCH_MIN_ELONGATION) | (f["width"] > SCRATCH_MAX_WIDTH))
    split = maybe & ~keep & (shaped | ~thin)
    if split.sum() > SPLIT_MAX_FEATURES:  # the longest: a busy photo has hundreds of merged texture features
        split[np.argsort(-np.where(split, extent, 0))[SPLIT_MAX_FEATURES:]] = False
    if split.any():
        sel = split[lab]
        sx, sy = xs[sel], ys[sel]
        px, py, pl, m, rest, parent = _split_by_orientation(sx, sy, lab[sel], direction(sx, sy), weights[sel], split)
        if len(px):
            straight = np.nonzero(f["lines"])[0]  # the unsplit straight lines, also those a parallel rejected
            keep2, f2 = _judge_lines(px, py, pl, m, tophat, lum, noise, occupied=rest,
                                     neighbours={k: f[k][straight] for k in ("angle", "cx", "cy", "length")})
            found2 = keep2[pl]
            fx, fy = np.concatenate([fx, px[found2]]), np.concatenate([fy, py[found2]])
            # A feature whose straight parts are mostly scratches is all scratch: two crossing,
            # or a curved crack (its parts are its gently turning pieces, the joints between them
            # fit no part).
            size = np.bincount(lab[sel], minlength=n)
            covered = np.bincount(parent[pl[found2]], minlength=n) >= SPLIT_TAKE_ALL * size
            whole = covered[lab] & sel
            fx, fy = np.concatenate([fx, xs[whole]]), np.concatenate([fy, ys[whole]])
            k2 = np.nonzero(keep2)[0]
            lines.append((f2["cx"][k2], f2["cy"][k2], f2["angle"][k2], f2["length"][k2]))
    if EXTEND_LINES:
        cx, cy, angle, length = (np.concatenate(v) for v in zip(*lines))
        # Only candidates above the seed threshold continue a scratch: in texture the weak ones
        # are most of the photo's candidates, and following over them cost up to ~0.1 s at 1600 px.
        strong = weights > seed_t
        if len(cx) and strong.any():
            gx, gy = xs[strong], ys[strong]
            ex, ey = _extend_lines(cx, cy, angle, length, gx, gy, direction(gx, gy), tophat.shape)
            fx, fy = np.concatenate([fx, ex]), np.concatenate([fy, ey])
    return fx, fy


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
    bright_ridge, dark_ridge, diff, dxy2 = _hessian_ridges(small)
    orientation = (diff, dxy2) if SPLIT_MERGED else None
    for tophat, other, ridge, is_dark in ((bright, dark, bright_ridge, False), (dark, bright, dark_ridge, True)):
        for xs, ys in (_dust(tophat, other, seed_t, sigma),
                       _scratches(tophat, ridge, small, seed_t, sigma, orientation, is_dark)):
            mask[ys, xs] = 1
    # One pixel more all round: a scratch's soft edges are damage too.
    small_mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    if f == 1.0:
        return small_mask > 0, small, small_mask > 0
    full = cv2.resize(small_mask, (w, h), interpolation=cv2.INTER_NEAREST)
    return full > 0, small, small_mask > 0
