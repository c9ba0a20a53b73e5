from pathlib import Path

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.color import rgb2lab

from ml_core.color import gamut_table
from ml_core.color.quantize import ABBins, ChannelBins, _gamut_ab_bins, compute_gamut_ab_bins, gamut_bin_centers


def test_gamut_bins_are_exactly_the_cells_srgb_colors_fall_in() -> None:
    centers = gamut_bin_centers()
    # Every 8-bit-ish color (a dense sample) falls in one of our cells, and every cell is hit.
    levels = np.linspace(0, 1, 52)
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 1, 3)
    ab = rgb2lab(rgb).reshape(-1, 3)[:, 1:]
    cells = {tuple(c) for c in (np.round(ab / 10) * 10).tolist()}
    ours = {tuple(c) for c in centers.tolist()}
    assert cells <= ours
    assert len(ours) < 313  # the sRGB gamut is tighter than Zhang et al.'s list
    assert len(ours) > 240


def test_stored_gamut_table_equals_the_computed_one() -> None:
    # The table is stored (ml_core/color/gamut_table.py) so no process pays 2-6 s computing it; if the
    # definition changes, regenerate it with `python -m ml_core.color.gamut_table`.
    assert torch.equal(_gamut_ab_bins(), compute_gamut_ab_bins())


def test_gamut_table_regenerates_to_the_same_source() -> None:
    source = Path(gamut_table.__file__).read_text(encoding="utf-8")
    assert gamut_table.render(source, [list(c) for c in gamut_table.GAMUT_CELLS]) == source


def test_gamut_bin_order_is_deterministic_a_then_b() -> None:
    c = gamut_bin_centers()
    keys = (c[:, 0] * 1000 + c[:, 1]).tolist()
    assert keys == sorted(keys)
    assert torch.equal(c, gamut_bin_centers())


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_soft_encoding_sums_to_one_and_picks_nearest(seed: int) -> None:
    bins = ABBins()
    ab = torch.randn(2, 2, 3, 4, generator=torch.Generator().manual_seed(seed)) * 40
    idx, w = bins.soft_encode(ab)
    assert idx.shape == (2, 5, 3, 4) and w.shape == (2, 5, 3, 4)
    assert torch.allclose(w.sum(1), torch.ones(2, 3, 4), atol=1e-5)
    dense = bins.to_dense(idx, w)
    assert dense.shape == (2, bins.count, 3, 4)
    assert torch.allclose(dense.sum(1), torch.ones(2, 3, 4), atol=1e-5)
    # The heaviest weight sits on the nearest bin.
    nearest = bins.nearest(ab)
    top = torch.gather(idx, 1, w.argmax(1, keepdim=True)).squeeze(1)
    assert torch.equal(nearest, top)


def test_annealed_mean_of_one_hot_is_the_bin_center() -> None:
    bins = ABBins()
    for q in (0, 17, bins.count - 1):
        probs = torch.zeros(1, bins.count, 1, 1)
        probs[0, q] = 1.0
        for t in (1.0, 0.38, 0.05):
            ab = bins.annealed_mean_from_probs(probs, t)
            assert torch.allclose(ab[0, :, 0, 0], bins.centers[q], atol=1e-4)


def test_lower_temperature_is_more_saturated() -> None:
    bins = ABBins()
    logits = torch.randn(1, bins.count, 4, 4, generator=torch.Generator().manual_seed(0)) * 2
    norms = [bins.annealed_mean(logits, t).norm(dim=1).mean().item() for t in (1.0, 0.38, 0.1)]
    assert norms[0] < norms[1] < norms[2]


def test_rebalance_weights_favor_rare_bins_and_have_unit_expectation() -> None:
    bins = ABBins()
    counts = torch.ones(bins.count)
    gray = int(((bins.centers) ** 2).sum(1).argmin())
    counts[gray] = 10_000.0
    w = bins.rebalance_weights(counts)
    assert w.shape == (bins.count,)
    assert w[gray] < w.median()
    p = counts / counts.sum()
    d2 = torch.cdist(bins.centers, bins.centers).square()
    smoothed = torch.exp(-d2 / 50.0) @ p
    smoothed /= smoothed.sum()
    assert abs(float((smoothed * w).sum()) - 1.0) < 1e-3
    # lambda = 1 means uniform weights
    assert torch.allclose(bins.rebalance_weights(counts, lam=1.0), torch.ones(bins.count), atol=1e-4)


def test_confidence_is_high_for_peaked_and_low_for_flat() -> None:
    bins = ABBins()
    flat = torch.zeros(1, bins.count, 2, 2)
    peaked = flat.clone()
    peaked[:, 3] = 50.0
    assert bins.confidence(flat).max() < 1e-4
    assert bins.confidence(peaked).min() > 0.99


def test_channel_bins_encode_decode() -> None:
    cb = ChannelBins(20)
    x = torch.tensor([-1.0, -0.96, 0.0, 0.51, 1.0]).view(1, 1, 5).expand(2, 1, 5)[None]
    idx = cb.encode(x)
    assert idx.min() >= 0 and idx.max() <= 19
    assert idx[0, 0, 0].tolist() == [0, 0, 10, 15, 19]
    logits = torch.full((1, 40, 1, 1), -30.0)
    logits[0, 4] = 30.0  # channel 0, bin 4
    logits[0, 20 + 15] = 30.0  # channel 1, bin 15
    out = cb.annealed_mean(logits, 0.38)
    assert torch.allclose(out[0, :, 0, 0], torch.stack((cb.centers[4], cb.centers[15])), atol=1e-4)
