"""Spread user hints across the regions they belong to, stopping at edges (Levin et al. 2004).

The network's prediction stays the default everywhere; a hint adds a correction δ = hint − model
that spreads over neighbouring pixels in proportion to how alike they are. Minimized per chroma
channel on a guidance grid (a few hundred pixels on the long side):

    E(δ) = Σ_{r~s} w_rs (δ_r + βm_r − δ_s − βm_s)²  +  Σ_r p_r δ_r²  +  Σ_{r in hints} λ (δ_r − (h_r − m_r))²

* w_rs, the affinity of 4-neighbours, falls off with their difference in lightness AND in the
  model's predicted chroma: the model knows that a red coat and a green hedge of the same gray
  are different things, which lightness alone cannot tell.
* p_r, a weak pull back to the model's prediction, sets how far a hint reaches (a decay length
  of roughly sqrt(w / p) pixels, here longer than the photo: a hint fills the region it is in,
  since in 2-D a point's influence already falls off logarithmically); where edges wall a region
  off from every hint, it keeps the model's colors. It is weaker where the model is unsure.
* β between 0 (smooth only the correction: keep all of the model's chroma texture) and 1 (smooth
  the color: Levin's flat regions) trades the model's detail against its mistakes. Measured
  with simulated users, β = 0.5 is best on rebalanced AuC and within 0.2 dB of the best PSNR at
  every hint count (β = 0: 1.6 dB lower PSNR with one hint). With no hints the result is exactly
  the model's, and nothing is solved.
* Regions (issue 14): with a pull-back this weak, any path of non-zero affinity carries a hint
  on, and a moderate edge only slows it: one click on a meadow turned the sky magenta. So each
  hint i gets a gate g_i (ml_core.guidance.hint_regions: geodesic distance over lightness edges, texture
  and the model's color boundaries, falling off with distance through texture), and the energy
  gains  Σ_r Σ_i μ g_i(r) |δ_r − (h_i − m_r)|²  (each region is pulled to its own hint's color
  as firmly as the click itself, so the whole object takes it, not a patch fading from the
  click, and regions of differently hinted objects do not average across an edge; overlapping
  gates blend by gate weight)  +  Σ_r κ (1 − max_i g_i(r))² δ_r²  (outside every region: the model's colors).
  `LEGACY_SETTINGS` (regions=None) is the propagation before, for the benchmarks.

The system is symmetric positive definite and a five-point stencil, so it is solved matrix-free
with Jacobi-preconditioned conjugate gradients in torch, coarse to fine: each level starts from
the upsampled solution of the level below, which carries a hint's reach across the image in few
iterations. A 512×384 grid with a handful of hints takes tens of milliseconds; no sparse matrix
library is needed (scipy.sparse stays out of the app bundle).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from .hint_regions import RegionCosts, RegionSettings, hint_gates, region_costs
from .hints import Hint

# Tuned with bench/bench_hints.py's protocol on 40 BSDS500 photos (docs/eval/hints.md): a long
# reach matters most (10 hints: 24.6 dB at 0.25, 26.1 dB at 2-4); σ_L 5 beats 3 and 8; σ_ab barely matters.
SIGMA_L = 5.0  # L* difference between neighbours at which affinity drops to e^-1/2
SIGMA_AB = 12.0  # predicted a*b* difference between neighbours at which affinity drops to e^-1/2
REACH = 3.0  # a hint's decay length in a uniform region, as a fraction of the long side
HINT_WEIGHT = 20.0  # λ: pins hint pixels (a neighbour-sum of weights is at most 4)
FLATTEN = 0.5  # β: share of the model's own chroma variation that smoothing may flatten (see above)
REGION_PIN_PLAIN = 0.05  # μ without the model's distribution (regression models): the first version's weak pull
REGION_PIN = 20.0  # μ: pull of every pixel in a hint's region to that hint's color (as strong as the click itself)
OUTSIDE_PIN = 1.0  # κ: pull back to the model's colors, by (1 - max g_i)², where no hint's region reaches
MIN_LEVEL_SIDE = 12
TOLERANCE = 1e-3  # relative residual per level
MAX_ITERATIONS = 300


@dataclass(frozen=True)
class PropagationSettings:
    sigma_l: float = SIGMA_L
    sigma_ab: float = SIGMA_AB
    reach: float = REACH
    hint_weight: float = HINT_WEIGHT
    tolerance: float = TOLERANCE
    max_iterations: int = MAX_ITERATIONS
    flatten: float = FLATTEN
    # Where hints may act (ml_core.guidance.hint_regions); None: everywhere the affinities lead (before issue 14).
    regions: RegionSettings | None = RegionSettings()
    region_pin: float = REGION_PIN
    region_pin_plain: float = REGION_PIN_PLAIN
    outside_pin: float = OUTSIDE_PIN


# What propagate_hints uses when no settings are given; benchmarks swap in LEGACY to compare.
DEFAULT_SETTINGS = PropagationSettings()
LEGACY_SETTINGS = PropagationSettings(regions=None)  # spread wherever affinities lead (before issue 14)


def rasterize_hints(hints: Sequence[Hint], height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Hints -> (mask (h, w) in [0, 1], ab target (2, h, w)) on a grid.

    Each point becomes a disc of its radius (never thinner than one grid pixel, so a hint shows up
    at every pyramid level); a stroke's points are joined by discs along the segments between
    them. Later hints win where they overlap, the order a person painted them.

    A whole stroke is rasterized in one vectorized pass (`_stroke_pixels`), never disc by disc in
    Python, so the work is bounded by the stroke's length and its bounding box, not its points.
    """
    owner = torch.zeros(height * width, dtype=torch.long)  # 1 + index of the last hint covering a pixel
    long_side = max(height, width)
    for index, hint in enumerate(hints, start=1):
        owner.index_fill_(0, _stroke_pixels(hint, height, width, long_side), index)
    hit = owner > 0
    colors = torch.tensor([(0.0, 0.0)] + [tuple(h.ab) for h in hints], dtype=torch.float32)  # (n + 1, 2)
    target = colors[owner].T.reshape(2, height, width) * hit.view(1, height, width)
    return hit.view(height, width).float(), target


def _stroke_pixels(hint: Hint, height: int, width: int, long_side: int) -> torch.Tensor:
    """Flat indices of the grid pixels whose centers lie within the hint's radius of a disc center.

    Row spans, not pixel windows: each disc contributes, per row it touches, the run of pixel
    centers inside it, and the runs are filled with one cumulative sum over the stroke's bounding
    box. Work is (discs × rows per disc) + box area, instead of discs × disc area, which for a
    wide stroke is a hundred times less. numpy, not torch: these arrays are small and many.
    """
    r = max(hint.radius * long_side, 0.75)
    centers = _disc_centers(hint.points, width, height, r)
    cx, cy = centers[:, 0:1], centers[:, 1:2]
    rows = np.floor(cy - r - 0.5) + np.arange(int(math.ceil(2 * r)) + 2)  # (n, k) rows each disc may touch
    half2 = r * r - np.square(rows + 0.5 - cy)  # squared half-width of the disc at the row's pixel centers
    half = np.sqrt(np.maximum(half2, 0.0))
    left = np.maximum(np.ceil(cx - half - 0.5), 0)
    right = np.minimum(np.floor(cx + half - 0.5), width - 1)
    keep = (half2 >= 0) & (rows >= 0) & (rows < height) & (left <= right)
    if not keep.any():
        # a disc smaller than the grid spacing that falls between pixel centers: nearest pixel
        x, y = float(centers[0, 0]), float(centers[0, 1])
        inside = 0 <= x < width and 0 <= y < height
        return torch.tensor([int(y) * width + int(x)] if inside else [], dtype=torch.long)
    rows, left, right = rows[keep].astype(np.int64), left[keep].astype(np.int64), right[keep].astype(np.int64)
    top, x0 = int(rows.min()), int(left.min())
    box_h, box_w = int(rows.max()) - top + 1, int(right.max()) - x0 + 1
    line = (rows - top) * (box_w + 1)
    edges = np.bincount(line + left - x0, minlength=box_h * (box_w + 1)).astype(np.int32)
    edges -= np.bincount(line + right - x0 + 1, minlength=box_h * (box_w + 1)).astype(np.int32)
    covered = np.cumsum(edges.reshape(box_h, box_w + 1), axis=1)[:, :box_w] > 0
    ys, xs = np.nonzero(covered)
    return torch.from_numpy((ys + top) * width + xs + x0)


def _disc_centers(points: Sequence[tuple[float, float]], width: int, height: int, r: float) -> np.ndarray:
    """(n, 2) disc centers in grid pixels: every point, and one every half radius (at least half a
    pixel) along each segment between consecutive points."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2) * (width, height)
    if len(p) == 1:
        return p
    seg = p[1:] - p[:-1]
    steps = np.maximum(np.ceil(np.hypot(seg[:, 0], seg[:, 1]) / max(r * 0.5, 0.5)), 1).astype(np.int64)
    t = np.arange(int(steps.sum())) - np.repeat(np.cumsum(steps) - steps, steps) + 1  # 1..steps per segment
    dense = np.repeat(p[:-1], steps, axis=0) + np.repeat(seg / steps[:, None], steps, axis=0) * t[:, None]
    return np.concatenate((p[:1], dense))


def affinities(lightness: torch.Tensor, model_ab: torch.Tensor, settings: PropagationSettings,
               prior_stride: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Horizontal (h, w-1) and vertical (h-1, w) neighbour weights in (0, 1].

    The model's chroma is an upsampled low-resolution map: a boundary it found is spread over
    `prior_stride` grid pixels, so neighbour differences are scaled back up by that stride to
    weigh as much as the same boundary at the model's own resolution.
    """
    sigma_ab = settings.sigma_ab / max(prior_stride, 1.0)

    def weight(dl: torch.Tensor, dab: torch.Tensor) -> torch.Tensor:
        e = dl.square() / (2 * settings.sigma_l ** 2) + dab.square().sum(0) / (2 * sigma_ab ** 2)
        return torch.exp(-e).clamp_(min=1e-6)

    wx = weight(lightness[:, 1:] - lightness[:, :-1], model_ab[:, :, 1:] - model_ab[:, :, :-1])
    wy = weight(lightness[1:] - lightness[:-1], model_ab[:, 1:] - model_ab[:, :-1])
    return wx, wy


class _Operator:
    """A δ = (D + P + Λ) δ − W δ for the five-point stencil, on (2, h, w) tensors."""

    def __init__(self, wx: torch.Tensor, wy: torch.Tensor, diag_extra: torch.Tensor) -> None:
        self.wx, self.wy = wx, wy
        deg = torch.zeros_like(diag_extra)
        deg[:, 1:] += wx
        deg[:, :-1] += wx
        deg[1:] += wy
        deg[:-1] += wy
        self.diag = deg + diag_extra

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = x * self.diag
        out[:, :, :-1] -= self.wx * x[:, :, 1:]
        out[:, :, 1:] -= self.wx * x[:, :, :-1]
        out[:, :-1] -= self.wy * x[:, 1:]
        out[:, 1:] -= self.wy * x[:, :-1]
        return out


def _pcg(op: _Operator, rhs: torch.Tensor, x: torch.Tensor, tol: float, max_iter: int) -> tuple[torch.Tensor, int]:
    """Jacobi-preconditioned CG, both chroma channels at once (they share the operator)."""
    inv_diag = 1.0 / op.diag
    r = rhs - op(x)
    z = r * inv_diag
    p = z.clone()
    rz = (r * z).sum(dim=(1, 2))
    rhs_norm = rhs.square().sum(dim=(1, 2)).sqrt().clamp(min=1e-12)
    for it in range(max_iter):
        if bool(((r.square().sum(dim=(1, 2)).sqrt() / rhs_norm) < tol).all()):
            return x, it
        ap = op(p)
        alpha = rz / (p * ap).sum(dim=(1, 2)).clamp(min=1e-30)
        x = x + alpha.view(2, 1, 1) * p
        r = r - alpha.view(2, 1, 1) * ap
        z = r * inv_diag
        rz_new = (r * z).sum(dim=(1, 2))
        p = z + (rz_new / rz.clamp(min=1e-30)).view(2, 1, 1) * p
        rz = rz_new
    return x, max_iter


def _half(t: torch.Tensor) -> torch.Tensor:
    """Area-halve the last two dims (odd sides keep their last row/column via ceil_mode)."""
    lead = t.shape[:-2]
    flat = t.reshape(1, -1, *t.shape[-2:])
    out = F.avg_pool2d(flat, 2, ceil_mode=True)
    return out.reshape(*lead, *out.shape[-2:])


def _region_terms(gates: torch.Tensor, targets: torch.Tensor, model_ab: torch.Tensor,
                  settings: PropagationSettings, hints: Sequence[Hint]) -> tuple[torch.Tensor, torch.Tensor]:
    """(diagonal (h, w), right-hand side (2, h, w)) added by the hints' regions.

    Each hint pulls its region (μ g_i) towards its color, so a region is held by its own
    hint wherever it is, not only near the click, and two regions held by hints of different
    colors do not average through a moderate edge between them; where the gates overlap (two
    hints on one object) their colors blend by gate weight. Outside every region (1 - max g_i)
    the correction is pulled back to zero: the model's colors.
    """
    # a wide hint is not pulled over its (everywhere) gate: it spreads by affinities, as before issue 14
    firm = torch.tensor([hint.reach != "wide" for hint in hints], dtype=gates.dtype)
    mu = settings.region_pin * gates * firm[:, None, None]  # (n, h, w)
    flat = targets[:, :, None, None] - model_ab[None]  # (n, 2, h, w): δ that makes the pixel the hint's color
    diag = mu.sum(0) + settings.outside_pin * (1.0 - gates.amax(0)).square()
    rhs = (mu[:, None] * flat).sum(0)
    return diag, rhs


def _solve(lightness: torch.Tensor, model_ab: torch.Tensor, certainty: torch.Tensor, hints: Sequence[Hint],
           settings: PropagationSettings, stats: dict[str, int], prior_stride: float,
           gates: torch.Tensor | None = None) -> torch.Tensor:
    h, w = lightness.shape
    init = None
    if min(h, w) >= 2 * MIN_LEVEL_SIDE:
        coarse = _solve(_half(lightness), _half(model_ab), _half(certainty), hints, settings, stats,
                        max(prior_stride / 2, 1.0), _half(gates) if gates is not None else None)
        init = F.interpolate(coarse[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    mask, target = rasterize_hints(hints, h, w)
    reach_px = max(settings.reach * max(h, w), 1.0)
    prior = certainty / (reach_px * reach_px)
    wx, wy = affinities(lightness, model_ab, settings, prior_stride)
    rhs = settings.hint_weight * mask * (target - model_ab)
    if gates is not None:
        targets = torch.tensor([tuple(hint.ab) for hint in hints], dtype=torch.float32)
        region_diag, region_rhs = _region_terms(gates, targets, model_ab, settings, hints)
        prior = prior + region_diag
        rhs = rhs + region_rhs
    op = _Operator(wx, wy, prior + settings.hint_weight * mask)
    if settings.flatten:
        rhs = rhs - settings.flatten * _Operator(wx, wy, torch.zeros_like(prior))(model_ab)
    x0 = init if init is not None else torch.zeros_like(model_ab)
    delta, iterations = _pcg(op, rhs, x0, settings.tolerance, settings.max_iterations)
    stats["iterations"] = stats.get("iterations", 0) + iterations
    stats["levels"] = stats.get("levels", 0) + 1
    return delta


def propagate_hints(
    lightness: torch.Tensor,
    model_ab: torch.Tensor,
    hints: Sequence[Hint],
    confidence: torch.Tensor | None = None,
    settings: PropagationSettings | None = None,
    stats: dict[str, int] | None = None,
    prior_stride: float = 1.0,
    distribution: torch.Tensor | None = None,
) -> torch.Tensor:
    """L* (h, w) and the model's a*b* (2, h, w) on one grid + hints -> guided a*b* (2, h, w).

    `confidence` (h, w) in [0, 1] (classification models) makes hints reach further where the
    model was unsure; without it every pixel holds the prediction equally. `prior_stride` is how
    many grid pixels one pixel of the model's output spans (see `affinities`).
    """
    if lightness.shape != model_ab.shape[-2:]:
        raise ValueError(f"lightness {tuple(lightness.shape)} and ab {tuple(model_ab.shape)} grids differ")
    if not hints:
        return model_ab.clone()
    s = settings or DEFAULT_SETTINGS
    if distribution is None:  # regression models: the first version's weak pull (see hint_regions.RegionSettings)
        s = replace(s, region_pin=s.region_pin_plain)
    certainty = 0.25 + 0.75 * (confidence.float() if confidence is not None else torch.full_like(lightness, 0.5))
    with torch.inference_mode():
        gates = region_gates(lightness, model_ab, hints, s, distribution)
        delta = _solve(lightness.float(), model_ab.float(), certainty, hints, s, stats if stats is not None else {},
                       prior_stride, gates)
    return model_ab.float() + delta


def region_gates(lightness: torch.Tensor, model_ab: torch.Tensor, hints: Sequence[Hint],
                 settings: PropagationSettings | None = None,
                 distribution: torch.Tensor | None = None, costs: RegionCosts | None = None) -> torch.Tensor | None:
    """Per-hint gates (n, h, w) in [0, 1], exactly as `propagate_hints` gates its solve: where each
    hint may change the colors (None with LEGACY_SETTINGS: everywhere).

    One definition for the solver and for anything that shows a hint's region (the window's
    outline, ml_core.guidance.hint_outline), so what a person is shown is what the solve does.
    A gate depends only on its own hint, never on the others. `costs`: from `gate_costs` on the
    same inputs and settings, for many calls on one photo (a dragged hint).
    """
    s = settings or DEFAULT_SETTINGS
    if s.regions is None or not hints:
        return None
    with torch.inference_mode():
        return hint_gates(lightness.float(), model_ab.float(), hints, s.regions, distribution, costs)


def gate_costs(lightness: torch.Tensor, model_ab: torch.Tensor, settings: PropagationSettings | None = None,
               distribution: torch.Tensor | None = None) -> RegionCosts | None:
    """The hint-independent part of `region_gates` (hint_regions.RegionCosts); None without regions."""
    s = settings or DEFAULT_SETTINGS
    if s.regions is None:
        return None
    with torch.inference_mode():
        return region_costs(lightness.float(), model_ab.float(), s.regions, distribution)
