"""One optimizer step on a prepared batch: the packed trainer's, and what bench_train.py times.

Why a function of its own: the benchmark must measure the step the accelerator path really
takes (forward under bf16 autocast when asked, the family's loss in float32, backward, gradient
norm clipped to GRAD_CLIP, the update); written once, the two cannot drift apart. The folder
trainer (`trainer.py`) does more between backward and the update (the loss without class
rebalancing, the average over processes, a divergence check at the user's clip setting), so it
keeps its own step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

GRAD_CLIP = 5.0  # gradient norm bound of the packed trainer and the benchmark


def optimizer_step(model: nn.Module, inp: torch.Tensor, chroma: torch.Tensor,
                   criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], optimizer: torch.optim.Optimizer,
                   params: Sequence[nn.Parameter], *, bf16: bool, max_norm: float = GRAD_CLIP) -> torch.Tensor:
    """Forward, loss, backward, clip, update; returns the (detached) loss of the batch."""
    with torch.autocast(inp.device.type, dtype=torch.bfloat16, enabled=bf16):
        raw = model(inp)
    loss = criterion(raw.float(), chroma)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, max_norm)
    optimizer.step()
    return loss.detach()
