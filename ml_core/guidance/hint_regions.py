"""The region each hint may change: soft masks from geodesic distance on an edge-aware cost.

Why: the propagation solver (ml_core.guidance.propagation) spreads a hint along every path of non-zero
affinity, and with the weak pull-back that lets a hint fill its region, a moderate edge only
slows a hint down: one magenta click on a meadow turned the sky magenta (issue 14). A person
puts a hint on *a thing*; its influence should end where the thing ends. So every hint gets a
gate g_i(x) in [0, 1], 1 on the thing it was put on and ~0 beyond its edges, and the solver is
pinned to the model's colors wherever no gate is open (see propagation.py).

g_i comes from the geodesic distance D_i(x) from hint i: the cheapest path from the hint to x,
where a step costs its length (so influence also falls off with distance) plus what it crosses:

* lightness edges, *above the local texture*: a step's |ΔL*| counts only beyond a floor set by
  the texture around it, so grass, foliage and noise (many small steps) cost nothing while the
  outline of a roof against the sky (one large step) costs a lot;
* changes of texture (the local mean of |∇L*|): smooth sky against rough grass, even at the same gray;
* the model's own color boundaries (a step's |Δa*b*| of its prediction above a small floor):
  the model knows that a red coat and a green hedge of the same gray are different things;
* with a classification model, its whole color distribution per pixel: a step costs the change
  of sqrt(p) (Hellinger-like), and walking through pixels whose distribution is unlike the
  clicked spot's costs extra, per hint. Fur and the grass it lies on can share a gray and a mean
  color and still differ in what the network thinks they could be. Measured on half of
  bench_recolor's objects (docs/eval/hints.md), this moved the whole trade-off: at the same
  share of the object taken, a quarter of the leakage outside.

Costs are computed on a coarse grid (`GATE_SIDE` px on the long side, area-averaged from the
guidance grid), which averages fine texture away and keeps the distance transform cheap; the
gate is then upsampled, and the solver's own edge-aware affinities place the final boundary at
the guidance grid's resolution.

The distance transform is exact for 4-connected paths and fully vectorized: a left-to-right
pass over every row at once is `d = P + cummin(d - P)` with P the running sum of step costs
along the row (a min-plus scan), and alternating the four directions converges in a few rounds
for paths with a few turns. No sparse-matrix or graph library is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .hints import Hint

GATE_SIDE = 160  # long side of the grid the distances are computed on
GATE_FLOOR = 1e-4  # gates below this are 0
SMALL_REACH = 0.5  # a "small" hint's reach, as a share of an "object" hint's


@dataclass(frozen=True)
class RegionSettings:
    """Edge costs in units of the photo's long side: crossing `1 / edge_l` L* above the texture
    floor costs as much as walking across the whole photo through a flat region."""

    space: float = 1.4  # per long side walked through texture (grass, fur, foliage)
    space_flat: float = 0.2  # per long side walked through flat areas (sky, walls, water)
    texture_scale: float = 4.0  # mean |∇L*| at which a region counts as textured (tanh)
    edge_l: float = 0.15  # per L* of a step's lightness change above the floor
    floor_l: float = 1.5  # L*: steps smaller than this are free (shading, noise)
    texture_floor: float = 1.5  # the floor also rises by this times the local texture (mean |∇L*|)
    edge_texture: float = 0.5  # per unit of change in log(1 + texture) over 7×7, above floor_texture
    floor_texture: float = 0.05
    edge_ab: float = 0.05  # per a*b* unit of the model's chroma change above floor_ab
    floor_ab: float = 2.0
    edge_prob: float = 1.0  # per unit of change in the model's color distribution (see distribution_steps)
    unlike: float = 5.0  # per long side walked, per unit of distribution distance to the hint's spot above floor_unlike
    floor_unlike: float = 0.3
    # ρ: distance (long sides) at which a gate falls to e^-1. With the model's distribution the
    # distances also hold its boundaries and unlikeness, which add up inside objects too, so the
    # reach is longer; both chosen on half of bench_recolor's objects (docs/eval/hints.md).
    reach: float = 2.75
    # Without a distribution (regression models) the first version's gates, unchanged: ρ 0.6 and
    # exponent 4, with propagation's weak region pull (REGION_PIN_PLAIN). The firm pull with these
    # costs alone leaks (tune half: 98 % taken, 20.6 outside at ρ 0.6; 76 % / 1.6 at ρ 0.25, where
    # a hint no longer fills a textured region half the photo wide).
    reach_plain: float = 0.6
    sharpness_plain: float = 4.0
    sharpness: float = 24.0  # g = exp(-(D/ρ)^sharpness): a plateau, then a steep fall (8, 16: softer rims)
    rounds: int = 6  # rounds of four directional sweeps


def _box(t: torch.Tensor, k: int) -> torch.Tensor:
    """Mean over a k×k window (edge-replicated), for (h, w) or (c, h, w)."""
    x = t[None] if t.dim() == 3 else t[None, None]
    x = F.avg_pool2d(F.pad(x, (k // 2,) * 4, mode="replicate"), k, stride=1)
    return x[0] if t.dim() == 3 else x[0, 0]


def _local_min(t: torch.Tensor, k: int) -> torch.Tensor:
    x = F.pad(t[None, None], (k // 2,) * 4, mode="replicate")
    return -F.max_pool2d(-x, k, stride=1)[0, 0]


def step_costs(lightness: torch.Tensor, model_ab: torch.Tensor, settings: RegionSettings,
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Cost of each horizontal (h, w-1) and vertical (h-1, w) step, in long sides.

    The texture floor uses the *smallest* texture level near a step (a 5×5 minimum of the local
    mean |∇L*|): an edge between rough grass and smooth sky raises the mean texture on both of
    its sides, which must not hide the edge itself.
    """
    h, w = lightness.shape
    gx = F.pad((lightness[:, 1:] - lightness[:, :-1]).abs(), (0, 1))
    gy = F.pad((lightness[1:] - lightness[:-1]).abs(), (0, 0, 0, 1))
    texture = _box(gx + gy, 3)
    background = _local_min(texture, 5)  # the texture around a step, not raised by an edge through it
    floor = settings.floor_l + settings.texture_floor * background
    coarse = torch.log1p(_box(background, 7))  # texture at a larger scale: a rough/smooth boundary, not its grains
    textured = torch.tanh(background / settings.texture_scale)
    unit = (settings.space_flat + (settings.space - settings.space_flat) * textured) / max(h, w)
    unit_x, unit_y = torch.maximum(unit[:, 1:], unit[:, :-1]), torch.maximum(unit[1:], unit[:-1])

    def cost(dl: torch.Tensor, dt: torch.Tensor, dab: torch.Tensor, fl: torch.Tensor, unit: torch.Tensor,
             ) -> torch.Tensor:
        return (unit + settings.edge_l * (dl.abs() - fl).clamp(min=0)
                + settings.edge_texture * (dt.abs() - settings.floor_texture).clamp(min=0)
                + settings.edge_ab * (dab.square().sum(0).sqrt() - settings.floor_ab).clamp(min=0))

    cx = cost(lightness[:, 1:] - lightness[:, :-1], coarse[:, 1:] - coarse[:, :-1],
              model_ab[:, :, 1:] - model_ab[:, :, :-1], torch.maximum(floor[:, 1:], floor[:, :-1]), unit_x)
    cy = cost(lightness[1:] - lightness[:-1], coarse[1:] - coarse[:-1],
              model_ab[:, 1:] - model_ab[:, :-1], torch.maximum(floor[1:], floor[:-1]), unit_y)
    return cx, cy


def _sweep(d: torch.Tensor, steps: torch.Tensor, dim: int) -> torch.Tensor:
    """One forward min-plus pass along `dim` of d (n, h, w): d[j] = min_k≤j d[k] + cost(k→j).

    `steps` (n, h, w-1) or (n, h-1, w): each seed set may have its own step costs."""
    prefix = torch.cat((torch.zeros_like(steps.narrow(dim, 0, 1)), steps.cumsum(dim)), dim)
    return prefix + torch.cummin(d - prefix, dim).values


def geodesic_distance(seeds: torch.Tensor, cx: torch.Tensor, cy: torch.Tensor, rounds: int = 6) -> torch.Tensor:
    """(n, h, w) boolean seeds -> (n, h, w) cheapest 4-connected path cost from each seed set.

    Step costs cx (h, w-1) and cy (h-1, w) are shared by every seed set, or given per set
    as (n, h, w-1) and (n, h-1, w).

    Each round sweeps left→right, right→left, top→bottom, bottom→top; a round that changes
    nothing ends the loop early. Distances are float64: prefix sums along a row must not lose
    the small steps inside a region next to the large ones at its edges.
    """
    inf = torch.tensor(float("inf"), dtype=torch.float64)
    d = torch.where(seeds, torch.zeros((), dtype=torch.float64), inf)
    n = seeds.shape[0]
    cx, cy = cx.double().expand(n, *cx.shape[-2:]), cy.double().expand(n, *cy.shape[-2:])
    cx_r, cy_r = cx.flip(-1), cy.flip(-2)
    for _ in range(rounds):
        before = d
        d = _sweep(d, cx, 2)
        d = _sweep(d.flip(-1), cx_r, 2).flip(-1)
        d = _sweep(d, cy, 1)
        d = _sweep(d.flip(-2), cy_r, 1).flip(-2)
        if torch.equal(d, before):
            break
    return d


def seed_masks(hints: Sequence[Hint], height: int, width: int) -> torch.Tensor:
    """(n, h, w) boolean: the grid pixels each hint covers (at least its nearest pixel)."""
    from .propagation import rasterize_hints  # the one rasterizer (and its limits) the solver uses

    return torch.stack([rasterize_hints([hint], height, width)[0] > 0 for hint in hints])


def gate_grid(height: int, width: int, side: int = GATE_SIDE) -> tuple[int, int]:
    s = min(1.0, side / max(height, width))
    return max(1, round(height * s)), max(1, round(width * s))


def distribution_embedding(distribution: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, float]:
    """The model's color distribution (K, h', w') at its own resolution -> (sqrt(p) (K, height,
    width), unit length, upsampled bilinearly; grid pixels per model pixel).

    Why: the annealed mean a*b* hides what the distribution says; grass and fur that both
    average to a dull brown can be "green or brown" against "brown or gray", and the network's
    last layer sees texture and shape that L* alone does not.
    """
    root = distribution.float().clamp(min=0).sqrt()
    root = root / root.square().sum(0, keepdim=True).sqrt().clamp(min=1e-6)
    stride = max(1.0, max(height, width) / max(distribution.shape[-2:]))
    return F.interpolate(root[None], size=(height, width), mode="bilinear", align_corners=False)[0], stride


def distribution_steps(embedding: torch.Tensor, stride: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The Hellinger-type change of each horizontal and vertical step. One model pixel spans
    `stride` grid pixels, so a step's change is scaled back up by it: a boundary weighs what it
    does at the model's resolution (as in propagation.affinities)."""
    e = embedding
    return ((e[:, :, 1:] - e[:, :, :-1]).norm(dim=0) * stride, (e[:, 1:] - e[:, :-1]).norm(dim=0) * stride)


def unlike_steps(embedding: torch.Tensor, seeds: torch.Tensor,
                 s: RegionSettings) -> tuple[torch.Tensor, torch.Tensor]:
    """Per hint, an extra cost for walking through pixels whose color distribution (embedding,
    see distribution_embedding) is unlike the hint's spot: (n, h, w-1) and (n, h-1, w)."""
    n, h, w = seeds.shape
    e = embedding  # (K, h, w)
    spot = torch.stack([e[:, m].mean(1) for m in seeds])  # (n, K)
    # |e - spot|² expanded, so no (n, K, h, w) difference is ever built (10 hints: 180 MB)
    far = (e.square().sum(0)[None] + spot.square().sum(1)[:, None, None]
           - 2 * torch.einsum("nk,khw->nhw", spot, e)).clamp(min=0).sqrt()  # (n, h, w)
    node = s.unlike * (far - s.floor_unlike).clamp(min=0) / max(h, w)
    return torch.maximum(node[:, :, 1:], node[:, :, :-1]), torch.maximum(node[:, 1:], node[:, :-1])


def hint_gates(lightness: torch.Tensor, model_ab: torch.Tensor, hints: Sequence[Hint],
               settings: RegionSettings | None = None, distribution: torch.Tensor | None = None,
               costs: "RegionCosts | None" = None) -> torch.Tensor:
    """L* (h, w), the model's a*b* (2, h, w) and hints -> per-hint gates (n, h, w) in [0, 1].

    `distribution` (K, h', w'): the model's probabilities over its color bins, at its own
    resolution (classification models); its boundaries then also cost (see distribution_steps).
    Computed on the coarse gate grid and upsampled back to (h, w) bilinearly. A hint's `reach`
    scales ρ ("small": SMALL_REACH) or, "wide", opens its gate everywhere. `costs`: the same
    inputs' `region_costs`, computed once for many calls (see there).
    """
    s = settings or RegionSettings()
    h, w = lightness.shape
    distance = hint_distances(lightness, model_ab, hints, s, distribution, costs)
    reach = s.reach if distribution is not None else s.reach_plain
    sharpness = s.sharpness if distribution is not None else s.sharpness_plain
    scale = torch.tensor([SMALL_REACH if hint.reach == "small" else 1.0 for hint in hints])
    gates = torch.exp(-(distance / (reach * scale[:, None, None])).pow(sharpness))
    wide = torch.tensor([hint.reach == "wide" for hint in hints])
    gates[wide] = 1.0  # a wide hint may act everywhere; propagation lets it spread as before issue 14
    if distance.shape[-2:] != (h, w):
        gates = F.interpolate(gates[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    # exact zeros far away: exp(-(D/ρ)^4) underflows to subnormal floats, which make every
    # later arithmetic on them (the whole solve) tens of times slower on a CPU
    return torch.where(gates < GATE_FLOOR, torch.zeros((), dtype=gates.dtype), gates.clamp(max=1.0))


@dataclass(frozen=True)
class RegionCosts:
    """The part of hint_distances that does not depend on the hints: step costs on the gate grid,
    and the model's distribution embedding there (None without one).

    Why apart: the window outlines a hint's region as it is dragged, a new gate per mouse move
    on the same photo; these costs are two thirds of a gate's time (~150 of ~230 ms at a
    1024-px preview with the default model), and they are the same for every position.
    """

    cx: torch.Tensor  # (gh, gw-1)
    cy: torch.Tensor  # (gh-1, gw)
    embedding: torch.Tensor | None  # (K, gh, gw), see distribution_embedding


def region_costs(lightness: torch.Tensor, model_ab: torch.Tensor, s: RegionSettings,
                 distribution: torch.Tensor | None = None) -> RegionCosts:
    """L* (h, w) and the model's a*b* (2, h, w) -> their RegionCosts on the coarse gate grid."""
    h, w = lightness.shape
    gh, gw = gate_grid(h, w)
    small_l = F.adaptive_avg_pool2d(lightness[None, None].float(), (gh, gw))[0, 0]
    small_ab = F.adaptive_avg_pool2d(model_ab[None].float(), (gh, gw))[0]
    cx, cy = step_costs(small_l, small_ab, s)
    embedding = None
    if distribution is not None:
        embedding, stride = distribution_embedding(distribution, gh, gw)
        if s.edge_prob > 0:
            px, py = distribution_steps(embedding, stride)
            cx, cy = cx + s.edge_prob * px, cy + s.edge_prob * py
    return RegionCosts(cx, cy, embedding)


def hint_distances(lightness: torch.Tensor, model_ab: torch.Tensor, hints: Sequence[Hint], s: RegionSettings,
                   distribution: torch.Tensor | None = None, costs: RegionCosts | None = None) -> torch.Tensor:
    """Per-hint geodesic distances (n, gh, gw) on the coarse gate grid, in long sides."""
    c = costs if costs is not None else region_costs(lightness, model_ab, s, distribution)
    gh, gw = c.cy.shape[0] + 1, c.cx.shape[1] + 1
    cx, cy = c.cx, c.cy
    seeds = seed_masks(hints, gh, gw)
    if c.embedding is not None and s.unlike > 0:
        ux, uy = unlike_steps(c.embedding, seeds, s)
        cx, cy = cx + ux, cy + uy
    return geodesic_distance(seeds, cx, cy, s.rounds).float()
