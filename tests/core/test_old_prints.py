"""The old-print wash measure: a one-tint result is monotone, a photo with two color families is not."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.color import lab2rgb

from ml_core.evaluation.old_prints import MONOTONE_SPREAD, NEAR_MONOTONE_SPREAD, hue_spread, mean_chroma, wash_summary


def _lab_image(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    lightness = np.linspace(20, 90, a.shape[1])[None, :].repeat(a.shape[0], 0)
    return (lab2rgb(np.stack([lightness, a, b], -1)) * 255 + 0.5).astype(np.uint8)


def test_a_sepia_wash_is_monotone_and_sky_grass_and_a_red_barn_are_not() -> None:
    shape = (64, 96)
    sepia = _lab_image(np.full(shape, 8.0), np.full(shape, 22.0))  # brown at every lightness
    assert hue_spread(sepia) < MONOTONE_SPREAD and mean_chroma(sepia) > 15
    a, b = np.full(shape, -30.0), np.full(shape, 30.0)  # green ground
    a[:32], b[:32] = -5.0, -35.0  # blue sky
    a[32:, :30], b[32:, :30] = 45.0, 30.0  # a red barn: three color families, not one line in a*b*
    assert hue_spread(_lab_image(a, b)) > 3 * NEAR_MONOTONE_SPREAD


def test_wash_summary_counts_against_the_stated_thresholds() -> None:
    summary = wash_summary([0.5, 2.0, 4.0, 9.0], [10, 12, 14, 30])
    assert summary == {"results": 4, "monotone": 1, "monotone_share": 0.25, "near_monotone": 2,
                       "median_hue_spread": 3.0, "median_chroma": 13.0}
    with pytest.raises(ValueError):
        wash_summary([], [])
