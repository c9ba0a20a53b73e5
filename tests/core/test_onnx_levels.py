"""The input-levels rule in numpy (ONNX path) equals the torch one (inside the models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ml_core.color import levels, levels_np


@pytest.mark.parametrize("shape", [(300, 500), (97, 61), (256, 256), (1000, 333), (128, 129), (5, 700)])
def test_same_stretch_as_torch_for_every_shape(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    x = (rng.random(shape, dtype=np.float32) * 0.3 - 0.25).astype(np.float32)  # a faded, dark print
    x[: shape[0] // 4] += 0.1
    want = levels.stretch_levels(torch.from_numpy(x)[None, None])[0, 0].numpy()
    got = levels_np.stretch_levels(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    assert np.abs(got - want).max() < 1e-6
    assert np.abs(got - x).max() > 0.05  # the rule did stretch this input


@pytest.mark.parametrize("side", [128, 40, 3])
def test_robust_points_are_the_sorted_order_entries(side: int) -> None:
    """The partial selection (top-k) returns exactly what sorting every value gives, ties included."""
    g = torch.Generator().manual_seed(side)
    x = torch.randint(0, 50, (4, 1, side, side), generator=g).float() / 100 - 0.25  # many equal values
    black, white = levels.robust_points(x)
    ordered = torch.sort(x.reshape(4, -1), dim=1).values
    n = ordered.shape[1]
    i_lo, i_hi = round(levels_np.LOW_PERCENTILE * (n - 1)), round(levels_np.HIGH_PERCENTILE * (n - 1))
    assert torch.equal(black.flatten(), ordered[:, i_lo]) and torch.equal(white.flatten(), ordered[:, i_hi])
    assert bool((white > black).all())


def test_same_stretch_on_the_fixture_photos(fixture_photos: list[Path]) -> None:
    for path in fixture_photos:
        lum = (np.asarray(Image.open(path).convert("L"), np.float32) / 255.0 - 0.5) * 0.6  # faded copy
        want = levels.stretch_levels(torch.from_numpy(lum)[None, None])[0, 0].numpy()
        assert np.abs(levels_np.stretch_levels(lum) - want).max() < 1e-6, path.name


def test_the_rules_numbers_are_stated_once() -> None:
    assert (levels.LOW_PERCENTILE, levels.HIGH_PERCENTILE, levels.MAX_GAIN) == \
        (levels_np.LOW_PERCENTILE, levels_np.HIGH_PERCENTILE, levels_np.MAX_GAIN)
