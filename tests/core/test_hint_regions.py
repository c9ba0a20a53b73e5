"""Hints that stay where they are put (issue 14): regions from geodesic distance gate the solver."""

from __future__ import annotations

import torch

from ml_core.hint_regions import geodesic_distance, hint_gates
from ml_core.hints import Hint
from ml_core.propagation import LEGACY_SETTINGS, propagate_hints

MODERATE_EDGE = 12.0  # L*: a step a person sees at once, but far from black against white


def _noisy(lightness: torch.Tensor, noise: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return lightness + noise * torch.randn(lightness.shape, generator=g)


def two_flat_regions(h: int = 96, w: int = 128, edge: float = MODERATE_EDGE) -> torch.Tensor:
    lightness = torch.full((h, w), 45.0)
    lightness[:, w // 2:] += edge
    return _noisy(lightness)


def two_objects(h: int = 96, w: int = 160) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two discs of the same gray (55 and 57 L*) on a darker ground (40 L*), well apart."""
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    left = (xs - 0.25 * w).square() + (ys - h / 2).square() < (0.3 * h) ** 2
    right = (xs - 0.75 * w).square() + (ys - h / 2).square() < (0.3 * h) ** 2
    lightness = torch.full((h, w), 40.0)
    lightness[left], lightness[right] = 55.0, 57.0
    return _noisy(lightness), left, right


def test_a_hint_leaves_the_region_across_a_moderate_edge_alone() -> None:
    lightness = two_flat_regions()
    model = torch.zeros(2, *lightness.shape)
    model[1] = 10.0  # the model's guess: a faint yellow everywhere
    out = propagate_hints(lightness, model, [Hint.at(0.25, 0.5, (55.0, -35.0))])
    change = (out - model).square().sum(0).sqrt()
    assert float(change[:, 70:].mean()) < 2.0  # the other region keeps the model's colors
    assert float(change[:, 70:].max()) < 4.0
    hinted = out[:, :, :58].mean(dim=(1, 2))
    assert torch.allclose(hinted, torch.tensor([55.0, -35.0]), atol=5.0)  # while its own region takes the hint


def test_today_the_same_hint_leaked_across_that_edge() -> None:
    """The control: without regions (before issue 14) the moderate edge did not hold the hint."""
    lightness = two_flat_regions()
    model = torch.zeros(2, *lightness.shape)
    out = propagate_hints(lightness, model, [Hint.at(0.25, 0.5, (55.0, -35.0))], settings=LEGACY_SETTINGS)
    assert float(out[:, :, 70:].square().sum(0).sqrt().mean()) > 10.0


def test_two_objects_of_similar_gray_keep_their_own_hints() -> None:
    lightness, left, right = two_objects()
    model = torch.zeros(2, *lightness.shape)
    red, blue = (60.0, 40.0), (10.0, -50.0)
    out = propagate_hints(lightness, model, [Hint.at(0.25, 0.5, red), Hint.at(0.75, 0.5, blue)])
    for mask, color in ((left, red), (right, blue)):
        inner = mask & ~torch.roll(~mask, 2, 1) & ~torch.roll(~mask, -2, 1)
        err = (out[:, inner] - torch.tensor(color)[:, None]).square().sum(0).sqrt()
        assert float((err < 10.0).float().mean()) > 0.9
    ground = ~(left | right)
    ground[:, 64:96] = False  # the ground between them may blend a little at the objects' rims
    assert float(out[:, ground].square().sum(0).sqrt().mean()) < 2.0


def test_two_hints_on_one_object_blend() -> None:
    lightness, left, _ = two_objects()
    model = torch.zeros(2, *lightness.shape)
    out = propagate_hints(lightness, model, [Hint.at(0.17, 0.5, (40.0, 0.0)), Hint.at(0.33, 0.5, (0.0, 40.0))])
    middle = out[:, 40:56, 38:42].mean(dim=(1, 2))
    assert 10.0 < float(middle[0]) < 30.0 and 10.0 < float(middle[1]) < 30.0


def test_a_hint_on_a_wide_smooth_surface_fills_it() -> None:
    """Sky, a wall: distance costs little where there is no texture for a hint to leak through."""
    lightness = _noisy(torch.full((96, 128), 60.0), noise=0.3)
    out = propagate_hints(lightness, torch.zeros(2, 96, 128), [Hint.at(0.5, 0.5, (30.0, 30.0))])
    for corner in (out[0, :10, :10], out[0, :10, -10:], out[0, -10:, :10], out[0, -10:, -10:]):
        assert float(corner.mean()) > 25.0


def test_geodesic_distance_goes_around_a_wall() -> None:
    h, w = 20, 30
    cx, cy = torch.ones(h, w - 1), torch.ones(h - 1, w)
    cx[:15, 14] = 1e6  # a wall from the top, open below row 15
    seeds = torch.zeros(1, h, w, dtype=torch.bool)
    seeds[0, 0, 0] = True
    d = geodesic_distance(seeds, cx, cy)[0]
    assert float(d[0, 29]) == 15 + 29 + 15  # down past the wall, across, back up
    assert float(d[19, 0]) == 19


def test_gates_are_one_at_the_hint_and_zero_beyond_a_strong_edge() -> None:
    lightness = two_flat_regions(edge=40.0)
    gates = hint_gates(lightness, torch.zeros(2, *lightness.shape), [Hint.at(0.25, 0.5, (0.0, 0.0))])
    assert gates.shape == (1, 96, 128)
    assert float(gates[0, 48, 32]) > 0.99
    assert float(gates[0, :, 70:].max()) < 0.01
