"""Every loss pulls the prediction toward the target; optimizers, schedules and the NaN guard."""

from __future__ import annotations

import math

import pytest
import torch

from ml_core.color.quantize import ABBins, ChannelBins
from ml_core.models import create
from ml_core.training.losses import (
    Criterion,
    LRSchedule,
    TrainingDiverged,
    ab_bins_ce,
    channel_bins_ce,
    clip_and_check,
    estimate_ab_counts,
    huber_loss,
    make_optimizer,
    mse_loss,
    rebalance_weights,
    soft_encode,
)


def _descends(loss_fn, x: torch.Tensor, lr: float = 0.1) -> tuple[float, float, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    loss = loss_fn(x)
    loss.backward()
    grad = x.grad.clone()
    after = float(loss_fn((x - lr * grad).detach()))
    return float(loss.detach()), after, grad


@pytest.mark.parametrize("fn", [mse_loss, huber_loss], ids=["mse", "huber"])
def test_ab_regression_losses_push_prediction_toward_target(fn):
    target = torch.full((1, 2, 4, 4), 0.5)
    target[:, 1] = -0.3
    before, after, grad = _descends(lambda p: fn(p, target), torch.zeros(1, 2, 4, 4))
    assert after < before
    assert (grad[:, 0] < 0).all() and (grad[:, 1] > 0).all()  # descent raises a, lowers b


def test_huber_is_linear_far_from_the_target():
    target = torch.zeros(1, 2, 1, 1)
    _, _, near = _descends(lambda p: huber_loss(p, target, delta=0.1), torch.full((1, 2, 1, 1), 0.05))
    _, _, far = _descends(lambda p: huber_loss(p, target, delta=0.1), torch.full((1, 2, 1, 1), 5.0))
    _, _, far_mse = _descends(lambda p: mse_loss(p, target), torch.full((1, 2, 1, 1), 5.0))
    assert far.abs().max() < far_mse.abs().max() / 10 and near.abs().max() < far.abs().max()


def test_per_channel_binned_ce_raises_the_true_bins_logits():
    bins = ChannelBins(10)
    target = torch.tensor([0.55, -0.25]).view(1, 2, 1, 1).expand(1, 2, 3, 3)
    true_idx = bins.encode(target)[0, :, 0, 0]
    before, after, grad = _descends(lambda z: channel_bins_ce(z, target, bins), torch.zeros(1, 20, 3, 3), lr=1.0)
    assert after < before
    g = bins.split_logits(grad)[0, :, :, 0, 0]  # (2, n)
    for c in range(2):
        assert g[c, true_idx[c]] < 0 and (g[c, torch.arange(10) != true_idx[c]] >= 0).all()


def test_ab_bin_ce_raises_the_nearest_bins_and_rebalancing_scales_rare_colors():
    bins = ABBins()
    center = bins.centers[50]
    ab = center.view(1, 2, 1, 1).expand(1, 2, 2, 2).clone()
    logits = torch.zeros(1, bins.count, 2, 2)
    before, after, grad = _descends(lambda z: ab_bins_ce(z, ab, bins), logits, lr=1.0)
    assert after < before
    g = grad[0, :, 0, 0]
    assert int(torch.argmin(g)) == 50  # the true bin's logit rises most
    idx, _ = soft_encode(bins, ab)
    neighbors = set(idx[0, :, 0, 0].tolist())
    assert all(g[q] < 0 for q in neighbors)
    assert all(g[q] > 0 for q in range(bins.count) if q not in neighbors)
    weights = torch.ones(bins.count)
    weights[50] = 3.0
    _, _, g3 = _descends(lambda z: ab_bins_ce(z, ab, bins, weights), logits, lr=1.0)
    assert torch.allclose(g3, 3.0 * grad, atol=1e-7)


def test_rebalance_weights_favor_rare_bins_with_unit_mean():
    bins = ABBins()
    counts = torch.zeros(bins.count)
    counts[bins.nearest(torch.zeros(2, 1, 1)).item()] = 1000.0  # gray dominates, as in real photos
    counts[0] = 1.0
    w = rebalance_weights(counts, bins, lam=0.5)
    gray = bins.nearest(torch.zeros(2, 1, 1)).item()
    assert w[0] > w[gray]
    smoothed_mean = float((w * _smoothed(bins, counts)).sum())
    assert math.isclose(smoothed_mean, 1.0, rel_tol=1e-4)


def _smoothed(bins: ABBins, counts: torch.Tensor) -> torch.Tensor:
    p = counts.double() / counts.sum()
    d2 = torch.cdist(bins.centers.double(), bins.centers.double()).square()
    s = torch.exp(-d2 / 50.0) @ p
    return (s / s.sum()).float()


def test_estimate_ab_counts_histograms_nearest_bins():
    bins = ABBins()
    ab = torch.zeros(2, 2, 4, 4)
    ab[1] = bins.centers[7].view(2, 1, 1)
    counts = estimate_ab_counts([ab], bins)
    assert counts.sum() == 32 and counts[7] == 16


@pytest.mark.parametrize("head", ["ab", "bins313", "bins_per_channel"])
def test_criterion_compares_at_the_models_output_resolution(head):
    model = create("unet", width=4, depth=1, stem_stride=2, head=head)
    raw = model(torch.zeros(2, 1, 16, 16)).detach()
    assert raw.shape[-2:] == (8, 8)
    chroma = torch.randn(2, 2, 16, 16) * 20
    crit = Criterion(model)
    target = crit.target(raw, chroma)
    assert target.shape == (2, 2, 8, 8)
    assert torch.allclose(target[0, 0, 0, 0], chroma[0, 0, :2, :2].mean(), atol=1e-5)  # area average
    raw.requires_grad_(True)
    loss = crit(raw, chroma)
    loss.backward()
    assert loss.ndim == 0 and math.isfinite(float(loss.detach())) and raw.grad is not None


@pytest.mark.parametrize("name", ["adam", "adamw", "adamax", "sgd"])
def test_optimizers_minimize_a_quadratic(name):
    w = torch.nn.Parameter(torch.tensor([3.0, -2.0]))
    opt = make_optimizer(name, [w], lr=0.05)
    for _ in range(50):
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
    assert float((w**2).sum().detach()) < 13.0 * 0.5
    if name == "sgd":
        assert opt.param_groups[0]["momentum"] == 0.9 and opt.param_groups[0]["weight_decay"] > 0


def test_lr_schedules():
    cos = LRSchedule("cosine", 1.0, total_steps=100, warmup=10)
    assert cos.lr_at(0) < cos.lr_at(9) <= 1.0
    assert math.isclose(cos.lr_at(10), 1.0) and math.isclose(cos.lr_at(99), 0.01)
    assert all(cos.lr_at(s) >= cos.lr_at(s + 1) for s in range(10, 99))
    step = LRSchedule("step", 1.0, total_steps=90)
    assert step.lr_at(0) == 1.0 and math.isclose(step.lr_at(30), 0.1) and math.isclose(step.lr_at(89), 0.01)
    assert LRSchedule("constant", 0.5, 10).lr_at(9) == 0.5


def test_nan_guard_raises_on_nan_loss_and_inf_gradients():
    w = torch.nn.Parameter(torch.ones(3))
    with pytest.raises(TrainingDiverged, match="nan"):
        clip_and_check([w], 1.0, float("nan"), step=7, lr=0.1)
    (w * float("inf")).sum().backward()
    with pytest.raises(TrainingDiverged, match="gradients"):
        clip_and_check([w], 1.0, 1.0, step=7, lr=0.1)
    w.grad = torch.full((3,), 10.0)
    norm = clip_and_check([w], 1.0, 1.0, step=1, lr=0.1)
    assert norm > 1.0 and math.isclose(float(w.grad.norm()), 1.0, rel_tol=1e-4)


def test_plain_loss_is_the_loss_without_rebalancing_so_photo_sets_compare():
    """Rebalancing weights come from the training photos' colors, so photos with a color they lack
    score far higher; the plain loss (what the Training tab plots for both curves) is unweighted."""
    model = create("unet", width=4, depth=1, stem_stride=2, head="bins313")
    raw = model(torch.zeros(2, 1, 16, 16)).detach().requires_grad_(True)
    bins = model.ab_bins()
    common = torch.zeros(2, 2, 16, 16)  # gray: all the "training photos" show
    rare = bins.centers[0].view(1, 2, 1, 1).expand(2, 2, 16, 16).clone()  # a color they never show
    weights = rebalance_weights(estimate_ab_counts([common], bins), bins)
    rebalanced, unweighted = Criterion(model, class_weights=weights), Criterion(model)
    for chroma in (common, rare):
        loss, plain = rebalanced.with_plain(raw, chroma)
        assert torch.allclose(loss, rebalanced(raw, chroma)) and torch.allclose(plain, unweighted(raw, chroma))
        assert loss.requires_grad and not plain.requires_grad  # only the optimized loss carries gradients
    assert float(rebalanced(raw, rare).detach()) > 3 * float(unweighted(raw, rare).detach())
    ab_model = create("unet", width=4, depth=1, stem_stride=2, head="ab")
    loss, plain = Criterion(ab_model).with_plain(ab_model(torch.zeros(2, 1, 16, 16)), rare)
    assert float(loss.detach()) == float(plain)  # nothing to rebalance: the same number


def _dense_ab_bins_ce(logits: torch.Tensor, ab: torch.Tensor, bins: ABBins, weights: torch.Tensor | None
                      ) -> torch.Tensor:
    """Zhang et al.'s loss written the textbook way: a dense (B, Q, h, w) soft target (distance to
    every bin) against log_softmax over the channels, autograd for the gradient."""
    idx, wts = bins.soft_encode(ab)
    target = torch.zeros_like(logits).scatter_add_(1, idx, wts)
    ce = -(target * torch.log_softmax(logits, dim=1)).sum(dim=1)
    return (ce * weights[idx[:, 0]]).mean() if weights is not None else ce.mean()


@pytest.mark.parametrize("channels_last", [True, False], ids=["channels_last", "contiguous"])
@pytest.mark.parametrize("rebalanced", [True, False], ids=["rebalanced", "plain"])
def test_sparse_ab_bin_ce_equals_the_dense_textbook_loss_and_its_gradient(channels_last, rebalanced):
    """The trainer's loss (sparse target, hand-written backward) is the same function as the dense
    textbook one: value and gradient within 1e-5 on random logits and random colors."""
    bins = ABBins()
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(3, bins.count, 6, 5, generator=g) * 4
    if channels_last:
        logits = logits.contiguous(memory_format=torch.channels_last)
    ab = (torch.rand(3, 2, 6, 5, generator=g) - 0.5) * 200  # beyond the gamut too: the encoder clamps
    weights = torch.rand(bins.count, generator=g) * 3 + 0.2 if rebalanced else None
    fast_in, ref_in = logits.clone().requires_grad_(True), logits.clone().requires_grad_(True)
    fast = ab_bins_ce(fast_in, ab, bins, weights)
    ref = _dense_ab_bins_ce(ref_in, ab, bins, weights)
    fast.backward()
    ref.backward()
    assert abs(fast.item() - ref.item()) <= 1e-5 * max(1.0, abs(ref.item()))
    assert torch.allclose(fast_in.grad, ref_in.grad, rtol=1e-5, atol=1e-7)
    assert float(ref_in.grad.abs().max()) > 1e-4  # the gradients compared are not all zero
