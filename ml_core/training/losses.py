"""Losses, optimizers and learning-rate schedules for training colorization models.

Every model family's raw head output is compared with a target built at the head's own
resolution: the photo's chroma is area-downsampled to the output size first, so the loss
compares like with like (unet 1/stem_stride, eccv16 1/4, vgg_chroma a fixed 33×33...).

- `ab` heads (regression): MSE or Huber on normalized chroma (chroma / chroma_scale).
- `bins_per_channel`: cross-entropy per chroma channel over `ChannelBins`.
- `bins313` (Zhang et al. 2016): cross-entropy against the soft encoding (5 nearest
  bins, Gaussian σ = 5), each pixel weighted by the class-rebalancing weight of its nearest bin,
  w ∝ ((1 − λ)·p̃ + λ/Q)⁻¹ with E_p̃[w] = 1 and λ = 0.5 (eq. 2–4), where p̃ is estimated from the
  training set's own crops (`estimate_ab_counts`).
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..color.quantize import BIN_SIZE, REBALANCE_LAMBDA, SOFT_NEIGHBORS, SOFT_SIGMA, ABBins, ChannelBins
from ..models.base import ColorModel
from .soft_ce import pixel_rows, sparse_soft_ce

LOSSES = {"ab": ("mse", "huber"), "bins313": ("ce",), "bins_per_channel": ("ce",)}
OPTIMIZERS = ("adam", "adamw", "adamax", "sgd")
SCHEDULES = ("cosine", "step", "constant")
HUBER_DELTA = 0.1  # in normalized chroma: ~11 ab units


class TrainingDiverged(RuntimeError):
    """Loss or gradients became NaN/Inf; training stopped before anything broken was saved."""


def default_loss(output_kind: str) -> str:
    return "mse" if output_kind == "ab" else "ce"


def check_loss_name(output_kind: str, loss: str | None) -> str:
    name = (loss or default_loss(output_kind)).lower()
    if name not in LOSSES[output_kind]:
        raise ValueError(f"loss {name!r} does not fit a {output_kind} head; "
                         f"choose one of {', '.join(LOSSES[output_kind])}")
    return name


def downsample_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area-average (B, C, H, W) to (h, w); identity when the size already matches."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.adaptive_avg_pool2d(x, size)


# --------------------------------------------------------------------------- loss functions


def mse_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(pred.float(), target.float())


def huber_loss(pred: torch.Tensor, target: torch.Tensor, delta: float = HUBER_DELTA) -> torch.Tensor:
    return F.huber_loss(pred.float(), target.float(), delta=delta)


def channel_bins_ce(logits: torch.Tensor, chroma_norm: torch.Tensor, bins: ChannelBins) -> torch.Tensor:
    """Seed 002: each chroma channel is a `bins.count`-way classification per pixel."""
    target = bins.encode(chroma_norm)  # (B, 2, h, w)
    split = bins.split_logits(logits.float())  # (B, 2, n, h, w)
    return F.cross_entropy(split.transpose(1, 2), target)


class SoftEncoder:
    """Zhang et al.'s soft encoding (K nearest bins, Gaussian weights), exact and ~10x cheaper than
    `ABBins.soft_encode`'s distance to every bin.

    The ab plane is cut into cells of BIN_SIZE; for each cell we precompute every center that can
    be among the K nearest of any point in it: a point is within h = BIN_SIZE·√2/2 of its cell's
    center c, so its K-th nearest center is within d_K(c) + h of it and within d_K(c) + 2h of c
    (triangle inequality). Each pixel then measures ~20-30 candidates instead of all Q bins.
    Points beyond the precomputed range (far outside any sRGB color) are clamped to the border.
    """

    def __init__(self, bins: ABBins, neighbors: int = SOFT_NEIGHBORS, sigma: float = SOFT_SIGMA) -> None:
        centers = bins.centers.detach().float().cpu()
        self.k = min(neighbors, centers.shape[0])
        self.sigma = sigma
        self.cell = BIN_SIZE
        self.lo = torch.floor(centers.min(dim=0).values / self.cell).long() - 4
        hi = torch.ceil(centers.max(dim=0).values / self.cell).long() + 4
        self.shape = (hi - self.lo + 1).tolist()
        ia, ib = torch.meshgrid(torch.arange(self.shape[0]), torch.arange(self.shape[1]), indexing="ij")
        cells = torch.stack(((ia + self.lo[0]).reshape(-1), (ib + self.lo[1]).reshape(-1)), 1)
        cell_centers = cells.float() * self.cell
        d = torch.cdist(cell_centers.double(), centers.double())
        kth = d.topk(self.k, dim=1, largest=False).values[:, -1]
        reach = kth + self.cell * math.sqrt(2.0) + 1e-3
        inside = d <= reach[:, None]
        width = int(inside.sum(dim=1).max())
        order = torch.where(inside, d, torch.full_like(d, float("inf"))).argsort(dim=1)[:, :width]
        pad = centers.shape[0]  # index of a dummy center far away
        self.candidates = torch.where(inside.gather(1, order), order, torch.full_like(order, pad))
        self.centers = torch.cat((centers, torch.full((1, 2), 1e6)))
        self._device: torch.device | None = None

    def to(self, device: torch.device | str) -> "SoftEncoder":
        device = torch.device(device)
        self.candidates = self.candidates.to(device)
        self.centers = self.centers.to(device)
        self.lo = self.lo.to(device)
        return self

    def __call__(self, ab: torch.Tensor, chunk: int = 1 << 16) -> tuple[torch.Tensor, torch.Tensor]:
        """ab (B, 2, h, w) natural units -> (indices, weights), each (B, K, h, w); weights sum to 1."""
        b, _, h, w = ab.shape
        idx, wts = self.rows(ab, chunk)
        return (idx.reshape(b, h, w, self.k).permute(0, 3, 1, 2),
                wts.reshape(b, h, w, self.k).permute(0, 3, 1, 2))

    def rows(self, ab: torch.Tensor, chunk: int = 1 << 16) -> tuple[torch.Tensor, torch.Tensor]:
        """ab (B, 2, h, w) -> (indices, weights), each (B·h·w, K) in (b, y, x) pixel order: the
        layout of channels-last logits read as rows (soft_ce.pixel_rows), which the loss uses."""
        pts = ab.detach().float().permute(0, 2, 3, 1).reshape(-1, 2)
        idx_parts, w_parts = [], []
        size = torch.tensor(self.shape, device=pts.device)
        for start in range(0, pts.shape[0], chunk):
            p = pts[start : start + chunk]
            cell = (torch.round(p / self.cell).long() - self.lo).clamp(min=0)
            cell = torch.minimum(cell, size - 1)
            cand = self.candidates[cell[:, 0] * self.shape[1] + cell[:, 1]]  # (n, width)
            d2 = (self.centers[cand] - p[:, None, :]).square().sum(dim=-1)
            dist2, j = torch.topk(d2, self.k, dim=1, largest=False)
            idx_parts.append(cand.gather(1, j))
            w_parts.append(torch.softmax(-dist2 / (2.0 * self.sigma * self.sigma), dim=1))
        if len(idx_parts) == 1:
            return idx_parts[0], w_parts[0]
        return torch.cat(idx_parts), torch.cat(w_parts)


def soft_encode(bins: ABBins, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One-off soft encoding of ab (B, 2, h, w) (the Criterion keeps its SoftEncoder)."""
    return SoftEncoder(bins).to(ab.device)(ab)


def ab_bins_ce(
    logits: torch.Tensor, ab: torch.Tensor, bins: ABBins | SoftEncoder, class_weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Zhang et al.'s multinomial cross-entropy with soft targets and class rebalancing.

    logits (B, Q, h, w), ab (B, 2, h, w) in natural units at the same resolution.
    """
    return _ab_bins_ce_terms(logits, ab, bins, class_weights)[0]


def _ab_bins_ce_terms(
    logits: torch.Tensor, ab: torch.Tensor, bins: ABBins | SoftEncoder, class_weights: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(the cross-entropy with class rebalancing, the same without it) from one soft encoding.

    The logits are read as one row per pixel (free for the channels-last head output the trainer
    produces) and the cross-entropy's gradient is written in one pass (soft_ce: measured cheaper
    than autograd's log_softmax + gather on this memory-bound step).
    """
    encoder = bins if isinstance(bins, SoftEncoder) else SoftEncoder(bins).to(ab.device)
    idx, wts = encoder.rows(ab.float())
    ce = sparse_soft_ce(pixel_rows(logits.float()), idx, wts)  # (B·h·w,)
    plain = ce.mean()
    if class_weights is None:
        return plain, plain
    weighted = ce * class_weights.to(ce.device)[idx[:, 0]]  # topk is sorted: index 0 is the nearest bin
    return weighted.mean(), plain


class Criterion:
    """The loss for one model: raw head output + the photo's chroma (natural units, any size) -> scalar."""

    def __init__(
        self, model: ColorModel, loss: str | None = None, class_weights: torch.Tensor | None = None,
        huber_delta: float = HUBER_DELTA, device: torch.device | str | None = None,
    ) -> None:
        self.kind = model.output_kind
        self.name = check_loss_name(self.kind, loss)
        self.space = model.space
        self.huber_delta = huber_delta
        self.class_weights = class_weights.float() if class_weights is not None else None
        self.channel_bins = model.channel_bins
        self.encoder: SoftEncoder | None = None
        if self.kind == "bins313":
            self.encoder = SoftEncoder(model.ab_bins())
            if device is not None:
                self.encoder.to(device)
                if self.class_weights is not None:
                    self.class_weights = self.class_weights.to(device)

    def target(self, raw: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        return downsample_to(chroma.float(), tuple(raw.shape[-2:]))

    def __call__(self, raw: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
        target = self.target(raw, chroma)
        if self.kind == "ab":
            norm = self.space.normalize_chroma(target)
            return mse_loss(raw, norm) if self.name == "mse" else huber_loss(raw, norm, self.huber_delta)
        if self.kind == "bins_per_channel":
            assert self.channel_bins is not None
            return channel_bins_ce(raw, self.space.normalize_chroma(target), self.channel_bins)
        assert self.encoder is not None
        return ab_bins_ce(raw, target, self.encoder, self.class_weights)

    def with_plain(self, raw: torch.Tensor, chroma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the loss, the same loss without class rebalancing, detached).

        Why: the rebalancing weights come from the training photos' colors, so on photos with other
        colors (the validation set) the rebalanced loss lands on another scale (e.g. 14 against
        2.6 on the same model). The plain loss is what a training curve and a validation curve can
        be compared on; for losses without rebalancing the two are the same number.
        """
        if self.kind != "bins313" or self.class_weights is None:
            loss = self(raw, chroma)
            return loss, loss.detach()
        assert self.encoder is not None
        loss, plain = _ab_bins_ce_terms(raw, self.target(raw, chroma), self.encoder, self.class_weights)
        return loss, plain.detach()


def estimate_ab_counts(ab_maps: Iterable[torch.Tensor], bins: ABBins) -> torch.Tensor:
    """Histogram over `bins` of the nearest bin of every pixel of every (…, 2, h, w) ab map."""
    counts = torch.zeros(bins.count, dtype=torch.float64)
    for ab in ab_maps:
        flat = ab.float().reshape(-1, 2, ab.shape[-2], ab.shape[-1])
        for one in flat:
            nearest = bins.nearest(one.cpu())
            counts += torch.bincount(nearest.reshape(-1), minlength=bins.count).double()
    return counts


def rebalance_weights(counts: torch.Tensor, bins: ABBins, lam: float = REBALANCE_LAMBDA) -> torch.Tensor:
    return bins.rebalance_weights(counts, lam=lam)


# --------------------------------------------------------------------------- optimizers, schedules


def default_lr(optimizer: str, fine_tune: bool) -> float:
    if optimizer == "sgd":
        return 0.01 if not fine_tune else 0.002
    if optimizer == "adamax":
        return 2e-3 if not fine_tune else 5e-4
    return 1e-3 if not fine_tune else 2e-4


def default_weight_decay(optimizer: str) -> float:
    return {"sgd": 4e-5, "adamw": 1e-2}.get(optimizer, 0.0)


def make_optimizer(
    name: str, params: Iterable[nn.Parameter] | Iterator[nn.Parameter], lr: float,
    weight_decay: float | None = None, momentum: float = 0.9,
) -> torch.optim.Optimizer:
    """Adam, AdamW, Adamax or SGD with momentum (per-optimizer default weight decay)."""
    name = name.lower()
    wd = default_weight_decay(name) if weight_decay is None else float(weight_decay)
    params = [p for p in params if p.requires_grad]
    if not params:
        raise ValueError("no trainable parameters (is everything frozen?)")
    # The fused kernel updates every tensor in one pass: 14 ms of CPU per step of the default
    # model where the per-tensor loop took 44 (one thread); results differ from the loop's by
    # float rounding only (≤ 2.4e-7 after 20 steps), and stay deterministic.
    fused = all(p.device.type in ("cpu", "cuda") for p in params) or None
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, fused=fused)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, fused=fused)
    if name == "adamax":
        return torch.optim.Adamax(params, lr=lr, weight_decay=wd)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


class LRSchedule:
    """Learning rate as a pure function of the global step (so resuming needs nothing but the step).

    Linear warm-up over `warmup` steps, then cosine decay to `final_fraction`·lr, step decay
    (×`gamma` every `step_size` steps, by default at 1/3 and 2/3 of the run), or constant.
    """

    def __init__(
        self, kind: str, lr: float, total_steps: int, warmup: int = 0, final_fraction: float = 0.01,
        step_size: int | None = None, gamma: float = 0.1,
    ) -> None:
        if kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
        self.kind = kind
        self.lr = float(lr)
        self.total = max(1, int(total_steps))
        self.warmup = max(0, min(int(warmup), self.total - 1))
        self.final_fraction = final_fraction
        self.step_size = max(1, int(step_size) if step_size else math.ceil(self.total / 3))
        self.gamma = gamma

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / (self.warmup + 1)
        if self.kind == "constant":
            return self.lr
        if self.kind == "step":
            return self.lr * self.gamma ** ((step - self.warmup) // self.step_size)
        span = max(1, self.total - self.warmup - 1)
        progress = min(1.0, (step - self.warmup) / span)
        floor = self.lr * self.final_fraction
        return floor + (self.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def apply(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        lr = self.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr


def clip_and_check(
    params: list[nn.Parameter], max_norm: float | None, loss_value: float, step: int, lr: float
) -> float:
    """Clip gradients (if max_norm) and raise TrainingDiverged on a non-finite loss or gradient."""
    if not math.isfinite(loss_value):
        raise TrainingDiverged(
            f"the loss became {loss_value} at step {step}; stopped without saving a broken model. "
            f"Try a lower learning rate (it was {lr:.3g}), gradient clipping, or fp32 instead of bf16."
        )
    grads = [p for p in params if p.grad is not None]
    if max_norm and max_norm > 0:
        norm = float(torch.nn.utils.clip_grad_norm_(grads, max_norm))
    else:
        norms = [torch.linalg.vector_norm(p.grad) for p in grads]
        norm = float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0
    if not math.isfinite(norm):
        raise TrainingDiverged(
            f"the gradients became {norm} at step {step}; stopped without saving a broken model. "
            f"Try a lower learning rate (it was {lr:.3g}) or gradient clipping."
        )
    return norm
