"""Cross-entropy against sparse soft targets (K bins per pixel), with a hand-written backward.

Why a function of its own: Zhang et al.'s loss compares Q = 261-313 logits per pixel with a
target that has only K = 5 non-zero entries. Written with autograd's ops (log_softmax over the
channel dimension, gather, weighted sum) the step paid for memory traffic, not arithmetic, on a
(B, Q, h, w) tensor as large as the largest activation: the channels-last head output was copied
to channel-first order for log_softmax and back for its gradient, the gather's gradient
zero-filled a dense tensor, and log_softmax's backward read two more. Here the logits are read as
(N, Q) rows (a free view of channels-last memory), and the gradient of row n,

    d loss / d z_n = g_n · (softmax(z_n) − Σ_k w_nk · onehot(idx_nk)),

is written once (softmax of the saved log-probabilities, scaled, then K scattered subtractions).
The forward is the same arithmetic as before (log_softmax, gather, weighted sum), so the loss
value is unchanged; the gradient agrees to float rounding (tests/core/test_losses.py).
"""

from __future__ import annotations

from typing import Any

import torch


class _SparseSoftCE(torch.autograd.Function):
    """Per-row −Σ_k w_k · log_softmax(z)[idx_k] for z (N, Q), idx and w (N, K)."""

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, idx: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        logp = torch.log_softmax(logits, dim=1)
        ctx.save_for_backward(logp, idx, weights)
        return -(weights * logp.gather(1, idx)).sum(dim=1)

    @staticmethod
    def backward(ctx: Any, grad_rows: torch.Tensor) -> tuple[torch.Tensor | None, None, None]:
        logp, idx, weights = ctx.saved_tensors
        g = grad_rows.unsqueeze(1)
        # Σ_k w_k = 1 up to rounding; using the actual sum keeps the gradient exact for any weights.
        grad = logp.exp().mul_(g * weights.sum(dim=1, keepdim=True))
        grad.scatter_add_(1, idx, -(weights * g))
        return grad, None, None


def sparse_soft_ce(logits: torch.Tensor, idx: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per row of `logits` (N, Q) against the soft target that puts `weights` (N, K)
    on the bins `idx` (N, K) and zero elsewhere: −Σ_k w_k · log softmax(z)[idx_k], shape (N,)."""
    return _SparseSoftCE.apply(logits, idx, weights)


def pixel_rows(x: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B·h·w, C) rows in (b, y, x) order; a free view when `x` is channels-last
    (the trainer's layout), one copy otherwise."""
    b, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(b * h * w, c)
