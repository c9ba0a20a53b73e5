"""Hints: their file format, and edge-aware propagation that fills a region but not the next."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ml_core.color.quantize import gamut_bin_centers
from ml_core.guidance.hints import (
    Hint,
    HintError,
    hints_to_json,
    load_hint_file,
    resolve_hints,
    rgb_to_ab,
    simulate_hints,
)
from ml_core.guidance.palette import suggest_from_distribution, suggest_without_distribution
from ml_core.guidance.propagation import propagate_hints, rasterize_hints


def two_regions(h: int = 96, w: int = 128, edge: float = 40.0, noise: float = 1.0) -> torch.Tensor:
    """L* with a vertical step of `edge` at the middle, plus mild texture."""
    g = torch.Generator().manual_seed(0)
    lightness = torch.full((h, w), 40.0)
    lightness[:, w // 2:] += edge
    return lightness + noise * torch.randn(h, w, generator=g)


def test_a_hint_fills_its_region_and_stops_at_a_strong_edge() -> None:
    lightness = two_regions()
    model = torch.zeros(2, *lightness.shape)
    out = propagate_hints(lightness, model, [Hint.at(0.2, 0.5, (60.0, 40.0))])
    left, right = out[:, :, :60], out[:, :, 68:]
    # the whole left region takes the hint, even its far corners
    assert torch.allclose(left.mean(dim=(1, 2)), torch.tensor([60.0, 40.0]), atol=4.0)
    assert float(left[0].min()) > 45.0
    # across the edge the model's (gray) prediction holds
    assert float(right.abs().max()) < 8.0
    assert float(right.abs().mean()) < 3.0


def test_without_the_edge_the_same_hint_spreads_across() -> None:
    """The control for the test above: it is the edge, not distance, that stopped the hint (on a
    smooth surface; through texture a hint's reach also falls off with distance, see hint_regions)."""
    lightness = two_regions(edge=0.0, noise=0.3)
    out = propagate_hints(lightness, torch.zeros(2, *lightness.shape), [Hint.at(0.2, 0.5, (60.0, 40.0))])
    assert float(out[0, :, 68:].mean()) > 40.0


def test_hints_on_both_sides_keep_their_own_colors() -> None:
    lightness = two_regions()
    hints = [Hint.at(0.25, 0.5, (50.0, 10.0)), Hint.at(0.75, 0.5, (-20.0, -40.0))]
    out = propagate_hints(lightness, torch.zeros(2, *lightness.shape), hints)
    assert torch.allclose(out[:, :, :56].mean(dim=(1, 2)), torch.tensor([50.0, 10.0]), atol=4.0)
    assert torch.allclose(out[:, :, 72:].mean(dim=(1, 2)), torch.tensor([-20.0, -40.0]), atol=4.0)


def test_model_chroma_edges_also_separate_regions() -> None:
    """Same gray, different predicted colors: the model's boundary is respected."""
    lightness = torch.full((64, 96), 50.0)
    model = torch.zeros(2, 64, 96)
    model[1, :, 48:] = 60.0  # the model thinks the right half is yellow
    out = propagate_hints(lightness, model, [Hint.at(0.2, 0.5, (0.0, -50.0))])
    assert float(out[1, :, :40].mean()) < -35.0
    assert float(out[1, :, 56:].mean()) > 40.0


def test_no_hints_is_exactly_the_model() -> None:
    model = torch.randn(2, 30, 40) * 20
    assert torch.equal(propagate_hints(torch.rand(30, 40) * 100, model, []), model)


def test_rasterized_stroke_covers_its_path() -> None:
    mask, target = rasterize_hints([Hint(((0.1, 0.5), (0.9, 0.5)), (30.0, -30.0), radius=0.02)], 50, 100)
    assert bool(mask[25, 10:90].bool().all())
    assert float(mask[5].sum()) == 0.0
    assert float(target[0, 25, 50]) == 30.0 and float(target[1, 25, 50]) == -30.0


def test_tiny_hint_still_lands_on_a_coarse_grid() -> None:
    mask, _ = rasterize_hints([Hint.at(0.51, 0.49, (10.0, 10.0), radius=0.0001)], 7, 9)
    assert float(mask.sum()) >= 1.0


def test_hint_file_formats(tmp_path) -> None:
    path = tmp_path / "hints.json"
    path.write_text(json.dumps({"hints": [
        {"x": 0.5, "y": 0.25, "color": "#ff0000"},
        {"x": 0.1, "y": 0.2, "ab": [-12, -35], "radius": 0.01},
        {"points": [[0.5, 0.5], [0.6, 0.5]], "rgb": [40, 120, 60]},
    ]}))
    hints = resolve_hints(load_hint_file(path), 400, 300)
    assert len(hints) == 3
    assert hints[0].ab == pytest.approx(rgb_to_ab((255, 0, 0)))
    assert hints[0].ab[0] > 70  # red has a large a*
    assert hints[1].ab == (-12.0, -35.0) and hints[1].radius == 0.01
    assert len(hints[2].points) == 2
    # round trip through the writer
    path.write_text(hints_to_json(hints))
    again = resolve_hints(load_hint_file(path), 400, 300)
    assert all(np.allclose(a.points, b.points) and a.ab == pytest.approx(b.ab, abs=1e-3) for a, b in zip(again, hints))


def test_pixel_units_resolve_per_photo(tmp_path) -> None:
    path = tmp_path / "px.json"
    path.write_text(json.dumps({"units": "pixels", "hints": [{"x": 99, "y": 49, "ab": [10, 10]}]}))
    (hint,) = resolve_hints(load_hint_file(path), 200, 100)
    assert (hint.x, hint.y) == pytest.approx((0.4975, 0.495))


@pytest.mark.parametrize("content, words", [
    ("{not json", "not a JSON hints file"),
    ('{"hints": [{"x": 0.5, "y": 0.5}]}', "needs a color"),
    ('{"hints": [{"x": 0.5, "y": 0.5, "color": "red"}]}', "#rrggbb"),
    ('{"hints": [{"x": 0.5, "color": "#ff0000"}]}', '"x" and "y"'),
    ('{"hints": [{"x": 0.5, "y": 0.5, "ab": [500, 0]}]}', "outside"),
    ('{"hints": [{"x": 0.5, "y": 0.5, "rgb": [0, 0, 300]}]}', "0..255"),
    ('{"units": "inches", "hints": []}', "units"),
    ('{"points": []}', "expected"),
])
def test_bad_hint_files_name_the_file_and_the_problem(tmp_path, content, words) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(HintError) as err:
        load_hint_file(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_missing_hint_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(HintError, match="cannot read hints"):
        load_hint_file(tmp_path / "nope.json")


def test_hint_edits_make_new_hints() -> None:
    h = Hint(((0.1, 0.2), (0.2, 0.2)), (1.0, 2.0))
    moved = h.moved_to(0.5, 0.5)
    assert np.allclose(moved.points, ((0.5, 0.5), (0.6, 0.5)))
    assert h.points == ((0.1, 0.2), (0.2, 0.2))
    assert h.with_ab((5, 6)).ab == (5.0, 6.0)


def test_simulated_hints_take_the_true_color() -> None:
    img = np.zeros((40, 60, 3), dtype=np.uint8)
    img[:, :30] = (200, 30, 30)
    img[:, 30:] = (30, 60, 200)
    hints = simulate_hints(img, 20, np.random.default_rng(0), radius=0.02)
    red, blue = rgb_to_ab((200, 30, 30)), rgb_to_ab((30, 60, 200))
    for h in hints:
        if abs(h.x - 0.5) > 0.05:
            want = red if h.x < 0.5 else blue
            assert h.ab == pytest.approx(want, abs=1.0)
    assert simulate_hints(img, 3, np.random.default_rng(7)) == simulate_hints(img, 5, np.random.default_rng(7))[:3]


def test_palette_lists_distinct_modes_most_likely_first() -> None:
    centers = gamut_bin_centers()
    probs = torch.full((centers.shape[0],), 1e-4)
    red = int(torch.cdist(centers, torch.tensor([[60.0, 40.0]])).argmin())
    blue = int(torch.cdist(centers, torch.tensor([[10.0, -50.0]])).argmin())
    probs[red], probs[blue] = 0.6, 0.3
    out = suggest_from_distribution(probs, centers, torch.tensor([35.0, -5.0]), 50.0, count=4)
    assert out[0].label == "current" and out[0].ab == pytest.approx((35.0, -5.0))
    assert out[1].ab == pytest.approx((60.0, 40.0), abs=4.0) and out[2].ab == pytest.approx((10.0, -50.0), abs=4.0)
    assert out[1].probability > out[2].probability
    assert all(0 <= c <= 255 for s in out for c in s.rgb)


def test_regression_models_get_their_color_in_several_strengths() -> None:
    out = suggest_without_distribution(torch.tensor([10.0, 20.0]), 50.0)
    assert out[0].ab == (10.0, 20.0) and {s.label for s in out} == {"current", "more vivid", "muted"}
