"""The region one hint will color, as data for the window's outline (issue 14): the solver's own gate."""

from __future__ import annotations

import numpy as np
import torch
from skimage.draw import polygon2mask

from ml_core.guidance.hint_outline import REGION_LEVEL, hint_region
from ml_core.guidance.hints import Hint
from ml_core.guidance.propagation import LEGACY_SETTINGS, propagate_hints, region_gates
from ml_core.inference.engine import ColorizeOptions, Colorizer
from ml_core.modelfiles.modelfile import LoadedModel, info_for
from ml_core.models import create

RED = (60.0, 45.0)


def two_flat_regions(h: int = 96, w: int = 128) -> torch.Tensor:
    """Two flat halves 12 L* apart (a moderate edge), with a little noise."""
    lightness = torch.full((h, w), 45.0)
    lightness[:, w // 2:] += 12.0
    return lightness + torch.randn(lightness.shape, generator=torch.Generator().manual_seed(0))


def filled(region, h: int, w: int) -> np.ndarray:
    """The outline's polygons filled on the (h, w) grid (even-odd, so holes stay holes)."""
    inside = np.zeros((h, w), bool)
    for line in region.outline:
        rows, cols = line[:, 1] * h - 0.5, line[:, 0] * w - 0.5
        inside ^= polygon2mask((h, w), np.stack((rows, cols), axis=1))
    return inside


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_the_region_is_the_solvers_gate_and_stops_at_the_edge() -> None:
    lightness = two_flat_regions()
    model = torch.zeros(2, *lightness.shape)
    hint = Hint.at(0.25, 0.5, RED)
    region = hint_region(lightness, model, hint)
    gate = region_gates(lightness, model, (hint,))[0].numpy()
    assert np.array_equal(region.mask, gate >= REGION_LEVEL)
    assert region.mask[:, :60].mean() > 0.95 and region.mask[:, 68:].mean() == 0.0
    assert 0.4 < region.share < 0.55
    # the outline traces the mask: filled again, it covers the same pixels
    assert region.outline and all(np.allclose(line[0], line[-1]) for line in region.outline)
    assert iou(filled(region, *lightness.shape), region.mask) > 0.97
    # and what the solver changes lies inside it
    out = propagate_hints(lightness, model, [hint])
    change = (out - model).square().sum(0).sqrt().numpy()
    assert change[~region.mask].mean() < 2.0 and change[region.mask].mean() > 40.0


def test_small_lies_inside_object_and_wide_is_the_whole_photo() -> None:
    lightness = torch.full((96, 128), 50.0) + torch.randn(96, 128, generator=torch.Generator().manual_seed(1))
    model = torch.zeros(2, 96, 128)
    obj = hint_region(lightness, model, Hint.at(0.5, 0.5, RED))
    small = hint_region(lightness, model, Hint.at(0.5, 0.5, RED).with_reach("small"))
    wide = hint_region(lightness, model, Hint.at(0.5, 0.5, RED).with_reach("wide"))
    assert small.mask.sum() < obj.mask.sum() and not (small.mask & ~obj.mask).any()
    assert wide.mask.all() and len(wide.outline) == 1
    corners = wide.outline[0]
    assert corners[:, 0].min() == 0.0 and corners[:, 0].max() == 1.0
    assert corners[:, 1].min() == 0.0 and corners[:, 1].max() == 1.0
    # without regions (the legacy spread) a hint may act everywhere
    legacy = hint_region(lightness, model, Hint.at(0.5, 0.5, RED), settings=LEGACY_SETTINGS)
    assert legacy.mask.all()


def test_the_engines_guidance_inputs_are_what_colorize_solves_against() -> None:
    torch.manual_seed(0)
    model = create("unet", width=8, depth=2, stem_stride=2, head="bins313").eval()
    colorizer = Colorizer(LoadedModel(model=model, info=info_for(model, "test", work_size=128)))
    rng = np.random.default_rng(0)
    photo = np.full((300, 400), 90.0)
    photo[:, 200:] = 190.0
    photo = (photo + rng.normal(0, 3, photo.shape)).clip(0, 255).astype(np.uint8)
    hints = (Hint.at(0.25, 0.5, RED),)
    options = ColorizeOptions(hints=hints, saturation=1.3, output_max_side=240)
    g = colorizer.guidance_inputs(photo, options)
    assert g.lightness.shape == (180, 240) and g.distribution is not None
    solved = propagate_hints(g.lightness, g.prior, hints, g.confidence, prior_stride=g.stride,
                             distribution=g.distribution)
    assert np.allclose(colorizer.colorize(photo, options).ab, solved.numpy(), atol=1e-4)
    region = g.region(hints[0])
    assert region.mask.shape == (180, 240) and region.mask[:, :110].mean() > 0.9 and not region.mask[:, 130:].any()
    # later regions reuse the photo's hint-independent costs, and come out exactly as computed afresh
    for hint in (hints[0].moved_to(0.7, 0.4), hints[0].moved_to(0.1, 0.9).with_reach("small")):
        kept, fresh = g.region(hint), hint_region(g.lightness, g.prior, hint, g.distribution)
        assert np.array_equal(kept.mask, fresh.mask) and kept.mask.any()
        assert len(kept.outline) == len(fresh.outline)
        assert all(np.array_equal(a, b) for a, b in zip(kept.outline, fresh.outline))
