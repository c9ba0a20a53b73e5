"""Chroma quantization for classification models.

Zhang et al. (2016) treat colorization as classification over the in-gamut ab bins of size 10:
predicting a distribution keeps the multimodal colors (a car may be red or blue) that L2
regression averages into sepia. Their released list holds 313 bins; we compute the set ourselves
as the grid cells that contain at least one sRGB color (fewer cells: their hull was looser), in a
fixed (a, b) ascending order so a trained head's channel q always means the same color. Imported
checkpoints bring their own bin centers, so nothing here assumes a particular count.

Seed 002's alternative, independent bins per chroma channel, is `ChannelBins`.
"""

from __future__ import annotations

import functools
import math

import torch

from ..limits import DEFAULT_TEMPERATURE  # defined torch-free, for the CLI and TrainConfig
from .gamut_table import GAMUT_CELLS
from .spaces import rgb_to_lab

BIN_SIZE = 10.0
SOFT_NEIGHBORS = 5
SOFT_SIGMA = 5.0
REBALANCE_LAMBDA = 0.5


def compute_gamut_ab_bins() -> torch.Tensor:
    """(Q, 2) in-gamut ab bin centers, computed from scratch (2-6 s: a Lab conversion of 0.5 M
    colors and a `torch.unique`). Only the table's generator and its test call this; everything
    else reads the stored copy in `gamut_table` (see `_gamut_ab_bins`)."""
    # The ab image of the RGB cube is the image of its surface plus interior; sampling every level
    # on the six faces and a coarse interior grid finds the same cells as all 16.7 M colors.
    levels = torch.linspace(0.0, 1.0, 256)
    u, v = torch.meshgrid(levels, levels, indexing="ij")
    faces = []
    for fixed in (0.0, 1.0):
        c = torch.full_like(u, fixed)
        faces += [torch.stack((c, u, v)), torch.stack((u, c, v)), torch.stack((u, v, c))]
    coarse = torch.linspace(0.0, 1.0, 64)
    interior = torch.stack(torch.meshgrid(coarse, coarse, coarse, indexing="ij")).reshape(3, 64, 64 * 64)
    samples = [f.reshape(3, 1, -1) for f in faces] + [interior.reshape(3, 1, -1)]
    ab = torch.cat([rgb_to_lab(s.double())[1:].reshape(2, -1) for s in samples], dim=1)
    cells = torch.unique(torch.round(ab / BIN_SIZE).T, dim=0)  # unique sorts rows: a, then b
    return (cells * BIN_SIZE).float()


@functools.lru_cache(maxsize=1)
def _gamut_ab_bins() -> torch.Tensor:
    """The stored table: the bins are a constant of sRGB and Lab, so no process should pay the
    seconds `compute_gamut_ab_bins` takes (tests/core/test_quantize.py keeps the two equal)."""
    return torch.tensor(GAMUT_CELLS, dtype=torch.float32) * BIN_SIZE


def gamut_bin_centers() -> torch.Tensor:
    """(Q, 2) ab centers of the in-gamut bins of size 10, ordered by a then b."""
    return _gamut_ab_bins().clone()


class ABBins:
    """Soft encoding, annealed-mean decoding and class rebalancing over a set of ab bin centers."""

    def __init__(self, centers: torch.Tensor | None = None) -> None:
        self.centers = (gamut_bin_centers() if centers is None else centers).float()
        if self.centers.ndim != 2 or self.centers.shape[1] != 2:
            raise ValueError(f"bin centers must be (Q, 2), got {tuple(self.centers.shape)}")

    @property
    def count(self) -> int:
        return int(self.centers.shape[0])

    def soft_encode(
        self, ab: torch.Tensor, neighbors: int = SOFT_NEIGHBORS, sigma: float = SOFT_SIGMA
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """ab (..., 2, H, W) -> (indices, weights), each (..., K, H, W); weights sum to 1.

        Kept sparse because a dense (B, Q, H, W) target is 313x the size of the batch for no gain:
        the loss only needs the K non-zero entries.
        """
        lead, (h, w) = ab.shape[:-3], ab.shape[-2:]
        pts = ab.movedim(-3, -1).reshape(-1, 2).float()
        d2 = torch.cdist(pts, self.centers).square()
        dist2, idx = torch.topk(d2, neighbors, dim=1, largest=False)
        weight = torch.softmax(-dist2 / (2.0 * sigma * sigma), dim=1)
        shape = (*lead, h, w, neighbors)
        return idx.reshape(shape).movedim(-1, -3), weight.reshape(shape).movedim(-1, -3)

    def to_dense(self, indices: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        shape = list(indices.shape)
        shape[-3] = self.count
        return torch.zeros(shape, dtype=weights.dtype).scatter_add_(-3, indices, weights)

    def nearest(self, ab: torch.Tensor) -> torch.Tensor:
        """Hard bin index per pixel (..., H, W), used for the empirical prior."""
        idx, _ = self.soft_encode(ab, neighbors=1)
        return idx.squeeze(-3)

    def annealed_mean(self, logits: torch.Tensor, temperature: float = DEFAULT_TEMPERATURE) -> torch.Tensor:
        """Logits (..., Q, H, W) -> ab (..., 2, H, W).

        T = 1 is the mean (desaturated), T -> 0 the mode (vivid but blotchy); Zhang et al.'s 0.38
        sits between. softmax(logits / T) equals renormalizing p ** (1 / T).
        """
        probs = torch.softmax(logits / max(temperature, 1e-3), dim=-3)
        return self.expectation(probs)

    def annealed_mean_from_probs(self, probs: torch.Tensor, temperature: float = DEFAULT_TEMPERATURE) -> torch.Tensor:
        log = torch.log(probs.clamp(min=0.0) + 1e-30)
        return self.annealed_mean(log, temperature)

    def expectation(self, probs: torch.Tensor) -> torch.Tensor:
        centers = self.centers.to(probs.dtype)
        return torch.einsum("...qhw,qc->...chw", probs, centers)

    def rebalance_weights(
        self, counts: torch.Tensor, lam: float = REBALANCE_LAMBDA, sigma: float = SOFT_SIGMA
    ) -> torch.Tensor:
        """Per-bin weights w ∝ ((1 - λ) p̃ + λ / Q)^-1 with E_p̃[w] = 1 (Zhang et al. 2016, eq. 4).

        `counts` is the empirical histogram over bins; it is smoothed with a Gaussian over the ab
        plane so that bins never seen in a small training set do not get absurd weights.
        """
        p = counts.double() / counts.sum().clamp(min=1e-12)
        d2 = torch.cdist(self.centers.double(), self.centers.double()).square()
        kernel = torch.exp(-d2 / (2.0 * sigma * sigma))
        smoothed = kernel @ p
        smoothed = smoothed / smoothed.sum()
        w = 1.0 / ((1.0 - lam) * smoothed + lam / self.count)
        w = w / (smoothed * w).sum()
        return w.float()

    def confidence(self, logits: torch.Tensor) -> torch.Tensor:
        """1 - normalized entropy of the predicted distribution: 1 = certain, 0 = uniform guess."""
        logp = torch.log_softmax(logits, dim=-3)
        entropy = -(logp.exp() * logp).sum(dim=-3, keepdim=True)
        return (1.0 - entropy / math.log(self.count)).clamp(0.0, 1.0)


class ChannelBins:
    """Seed 002's per-channel binning: each chroma channel split into `count` equal bins.

    Works on normalized chroma in [-1, 1] (see ColorSpace.normalize_chroma), so the same bins
    serve YUV and Lab models.
    """

    def __init__(self, count: int = 20) -> None:
        if count < 2:
            raise ValueError("per-channel bins need at least 2 bins")
        self.count = count
        edges = torch.linspace(-1.0, 1.0, count + 1)
        self.centers = (edges[:-1] + edges[1:]) / 2.0

    def encode(self, chroma_norm: torch.Tensor) -> torch.Tensor:
        """Normalized chroma (..., 2, H, W) -> class index per channel (..., 2, H, W), int64."""
        idx = torch.floor((chroma_norm.clamp(-1.0, 1.0) + 1.0) / 2.0 * self.count).long()
        return idx.clamp(0, self.count - 1)

    def split_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """(..., 2 * count, H, W) -> (..., 2, count, H, W)."""
        *lead, c, h, w = logits.shape
        return logits.reshape(*lead, 2, self.count, h, w)

    def annealed_mean(self, logits: torch.Tensor, temperature: float = DEFAULT_TEMPERATURE) -> torch.Tensor:
        """Logits (..., 2 * count, H, W) -> normalized chroma (..., 2, H, W)."""
        probs = torch.softmax(self.split_logits(logits) / max(temperature, 1e-3), dim=-3)
        return torch.einsum("...cqhw,q->...chw", probs, self.centers.to(probs.dtype))

    def confidence(self, logits: torch.Tensor) -> torch.Tensor:
        logp = torch.log_softmax(self.split_logits(logits), dim=-3)
        entropy = -(logp.exp() * logp).sum(dim=-3).mean(dim=-3, keepdim=True)
        return (1.0 - entropy / math.log(self.count)).clamp(0.0, 1.0)
