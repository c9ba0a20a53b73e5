"""Hints that stay where they are put (issue 14): regions from geodesic distance gate the solver."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ml_core.guidance.hint_regions import geodesic_distance, hint_gates
from ml_core.guidance.hints import Hint
from ml_core.guidance.propagation import LEGACY_SETTINGS, propagate_hints

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "photos" / "fixtures"
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


# --- real photos, the built-in model: the two cases the issue found by hand (thresholds measured:
# docs/eval/hints.md; legacy spread moved the astronaut's backdrop by 12.1 and the table by 18-21)

def _box_mean(values: np.ndarray, box: tuple[float, float, float, float]) -> float:
    h, w = values.shape[-2:]
    return float(values[..., int(box[1] * h):int(box[3] * h), int(box[0] * w):int(box[2] * w)].mean())


def _with_and_without(name: str, hint: Hint) -> tuple[np.ndarray, np.ndarray]:
    """(guided a*b*, the model's a*b* on the same guidance grid) for a fixture photo and one hint."""
    from PIL import Image

    from ml_core.evaluation.metrics import gray_image
    from ml_core.inference.engine import ColorizeOptions, Colorizer
    from ml_core.modelfiles.store import ModelStore

    path = FIXTURES / name
    if not path.exists():
        pytest.skip("shared/photos/fixtures is not beside the repo")
    gray = gray_image(np.asarray(Image.open(path).convert("RGB")))
    colorizer = Colorizer(ModelStore().load("default"))
    guided = colorizer.colorize(gray, ColorizeOptions(hints=(hint,))).ab
    base = torch.from_numpy(colorizer.colorize(gray, ColorizeOptions()).ab)
    plain = torch.nn.functional.interpolate(base[None], size=guided.shape[-2:], mode="bilinear", align_corners=False)[0]
    return guided, plain.numpy()


def test_a_skin_hint_on_the_astronauts_face_leaves_the_backdrop_alone(builtin_models: Path) -> None:
    hint = Hint.from_rgb([(0.44, 0.26)], (224, 172, 140))
    guided, plain = _with_and_without("astronaut.jpg", hint)
    change = np.hypot(*(guided - plain))
    assert _box_mean(change, (0.62, 0.02, 0.72, 0.28)) < 1.0  # the gray backdrop right of the face (measured 0.06)
    taken = np.hypot(guided[0] - hint.ab[0], guided[1] - hint.ab[1]) < 10.0
    assert _box_mean(taken, (0.37, 0.18, 0.50, 0.33)) > 0.9  # the face takes the skin color (measured 0.99)


def test_a_red_hint_on_the_coffee_saucer_leaves_the_table_alone(builtin_models: Path) -> None:
    hint = Hint.from_rgb([(0.20, 0.70)], (200, 30, 30))
    guided, plain = _with_and_without("coffee.jpg", hint)
    change = np.hypot(*(guided - plain))
    for table in ((0.80, 0.0, 1.0, 0.25), (0.85, 0.80, 1.0, 1.0)):
        assert _box_mean(change, table) < 1.0  # measured 0.04-0.07
    # The table's corner beside the saucer's rim: 0.05 with the 2025 default, 5.7 with the 2026 one,
    # whose color distribution gives the rim and the table the same browns there, so the region
    # crosses the rim's top-left (a known leak, noted on issue 14). It must not flood the table.
    assert _box_mean(change, (0.0, 0.0, 0.12, 0.3)) < 8.0
    taken = np.hypot(guided[0] - hint.ab[0], guided[1] - hint.ab[1]) < 10.0
    assert _box_mean(taken, (0.15, 0.62, 0.24, 0.80)) > 0.6  # the saucer's left side around the click (measured 0.78)


def test_objects_the_model_tells_apart_by_color_keep_their_own_hints() -> None:
    """Two touching halves of the same gray and texture: only the model's color distribution
    (green-or-brown against blue-or-gray) separates them, and a hint on one stays there."""
    lightness = _noisy(torch.full((96, 128), 50.0), noise=2.0)
    distribution = torch.full((4, 24, 32), 0.02)
    distribution[0:2, :, :16] = 0.48  # left: two likely colors
    distribution[2:4, :, 16:] = 0.48  # right: two others
    model = torch.zeros(2, 96, 128)
    out = propagate_hints(lightness, model, [Hint.at(0.25, 0.5, (50.0, 30.0))], distribution=distribution)
    change = (out - model).square().sum(0).sqrt()
    assert float(change[:, 72:].mean()) < 2.0
    assert float((change[:, :56] > 40).float().mean()) > 0.9


def test_a_small_hint_stops_sooner_and_a_wide_one_spreads_as_before() -> None:
    """Per-hint reach: "small" halves the distance a hint may travel, "wide" crosses the moderate
    edge that holds an "object" hint (the spread before issue 14, for tinting a whole scene)."""
    textured = _noisy(torch.full((96, 128), 50.0), noise=1.0)
    model = torch.zeros(2, 96, 128)
    far = slice(56, 64)  # about 0.35 of the long side from the click, through texture
    obj = propagate_hints(textured, model, [Hint.at(0.1, 0.5, (40.0, 0.0))])
    small = propagate_hints(textured, model, [Hint.at(0.1, 0.5, (40.0, 0.0)).with_reach("small")])
    assert float(obj[0, 40:56, far].mean()) > 30.0  # measured 38.8
    assert float(small[0, 40:56, far].mean()) < 15.0  # measured 9.2
    assert float(small[0, 40:56, 16:24].mean()) > 35.0  # near the click a small hint is as strong

    edged = two_flat_regions()
    wide = propagate_hints(edged, model, [Hint.at(0.25, 0.5, (55.0, -35.0)).with_reach("wide")])
    assert float(wide[:, :, 70:].square().sum(0).sqrt().mean()) > 10.0


def test_reach_is_read_from_and_written_to_hint_files() -> None:
    from ml_core.guidance.hints import HintError, hints_to_json, parse_hints

    hints = parse_hints({"hints": [{"x": 0.5, "y": 0.5, "ab": [10, 20], "reach": "wide"},
                                   {"x": 0.2, "y": 0.2, "ab": [0, 0]}]}).for_size(100, 100)
    assert [h.reach for h in hints] == ["wide", "object"]
    again = parse_hints(json.loads(hints_to_json(hints))).for_size(100, 100)
    assert again == hints
    assert "reach" not in json.loads(hints_to_json(hints[1:]))["hints"][0]  # the default is not written
    with pytest.raises(HintError, match="reach"):
        parse_hints({"hints": [{"x": 0.5, "y": 0.5, "ab": [0, 0], "reach": "huge"}]})
    with pytest.raises(HintError, match="reach"):
        Hint.at(0.5, 0.5, (0.0, 0.0)).with_reach("everywhere")
