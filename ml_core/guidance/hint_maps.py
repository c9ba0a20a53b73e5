"""Sparse hint maps for hint-conditioned networks (Zhang et al. 2017, "Real-Time User-Guided
Image Colorization"): the network sees L plus three channels — hint a*/110, hint b*/110 and a
0/1 mask — and learns during training, from hints simulated out of the true colors, how far a
hint's color should reach.

Two producers of the same map, so training and inference cannot disagree about its layout:

* `hint_maps(hints, h, w)`: the person's `Hint` objects, rasterized at the model's input size
  with the same discs the propagation uses (`propagation.rasterize_hints`).
* `simulate_hint_maps(ab, generator)`: the simulated user for training, for a whole batch at
  once: a geometric number of points per image (p = 1/8, so 1 in 8 images has none and the net
  keeps colorizing well without hints), square patches of 1–9 px at the input resolution, each
  colored with the mean true a*b* of its patch.

A widened first convolution (`widen_for_hints`) turns a trained model into a hint model that, at
step 0, predicts exactly what the base did: the new input channels start with zero weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..models import ColorModel, create
from ..models.base import HINT_CHANNELS
from .hints import Hint
from .propagation import rasterize_hints

AB_SCALE = 110.0  # hint a*b* are fed as ab / 110, roughly [-1, 1] like the normalized L
GEOMETRIC_P = 1.0 / 8.0  # Zhang et al. 2017: number of hint points ~ Geometric(1/8), counting from 0
MAX_PATCH = 9  # patch side drawn uniformly from 1..MAX_PATCH pixels at the input resolution
MAX_POINTS = 64  # cap on simulated points per image (P(count > 64) = (7/8)^65 ≈ 2e-4)

__all__ = ["AB_SCALE", "hint_maps", "no_hint_maps", "patch_means", "sample_patches", "simulate_hint_maps",
           "widen_for_hints", "with_hint_maps"]


def hint_maps(hints: Sequence[Hint], height: int, width: int) -> torch.Tensor:
    """User hints -> (3, height, width) map at the model's input size: a/110, b/110, mask.

    Discs as the propagation draws them (a hint's relative radius, never thinner than one
    pixel), so a hint lands on the same pixels whichever path consumes it.
    """
    maps = torch.zeros(HINT_CHANNELS, height, width)
    if not hints:
        return maps
    mask, target = rasterize_hints(hints, height, width)
    maps[:2] = target * mask / AB_SCALE
    maps[2] = mask
    return maps


def no_hint_maps(batch: int, height: int, width: int, like: torch.Tensor | None = None) -> torch.Tensor:
    """The all-zero map: "no hints given" (what validation and hint-free inference feed)."""
    kw = {} if like is None else {"dtype": like.dtype, "device": like.device}
    return torch.zeros(batch, HINT_CHANNELS, height, width, **kw)


def with_hint_maps(inp: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Normalized L (B, 1, H, W) + maps (B, 3, H, W) -> the hint model's (B, 4, H, W) input."""
    return torch.cat((inp, maps.to(inp.dtype)), dim=1)


def simulate_hint_maps(
    ab: torch.Tensor,
    generator: torch.Generator,
    p: float = GEOMETRIC_P,
    max_patch: int = MAX_PATCH,
    max_points: int = MAX_POINTS,
) -> torch.Tensor:
    """True a*b* (B, 2, H, W) in natural units -> simulated hint maps (B, 3, H, W).

    Per image: n ~ Geometric(p) points on {0, 1, ...} (capped at `max_points`); per point a square
    patch of side s ~ U{1..max_patch} (clipped to the image) placed uniformly inside the image,
    colored with the patch's mean true a*b* (box sums from a summed-area table). Painted with
    "later point wins" where patches overlap, by a deterministic scatter-max of point indices.
    Everything is drawn from `generator` on the CPU, so a seed reproduces the maps exactly.
    """
    b, _, h, w = ab.shape
    device = ab.device
    live, y0, x0, sy, sx = sample_patches(b, h, w, generator, p, max_patch, max_points)
    n = live.shape[1]
    means = patch_means(ab, y0, x0, sy, sx)  # (B, 2, n)

    # Paint: each pixel takes the highest-numbered live point whose patch covers it (0 = none).
    off = torch.arange(max_patch)
    py = y0[:, :, None, None] + off[None, None, :, None]  # (B, n, P, 1)
    px = x0[:, :, None, None] + off[None, None, None, :]  # (B, n, 1, P)
    inside = (off[None, None, :, None] < sy[:, :, None, None]) & (off[None, None, None, :] < sx[:, :, None, None])
    inside = inside & live[:, :, None, None]
    pix = (py.clamp(max=h - 1) * w + px.clamp(max=w - 1)).expand(b, n, max_patch, max_patch)
    ids = torch.where(inside, torch.arange(1, n + 1)[None, :, None, None], 0).expand(b, n, max_patch, max_patch)
    owner = torch.zeros(b, h * w, dtype=torch.long)
    owner.scatter_reduce_(1, pix.reshape(b, -1), ids.reshape(b, -1), reduce="amax")
    colors = torch.cat((torch.zeros(b, 2, 1), means), dim=2)  # index 0: no hint
    hint_ab = colors.gather(2, owner[:, None, :].expand(b, 2, h * w)).view(b, 2, h, w)
    mask = (owner > 0).view(b, 1, h, w).float()
    return torch.cat((hint_ab / AB_SCALE, mask), dim=1).to(device)


def sample_patches(
    batch: int, height: int, width: int, generator: torch.Generator, p: float = GEOMETRIC_P,
    max_patch: int = MAX_PATCH, max_points: int = MAX_POINTS,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where the simulated user clicks: (live (B, n) bool, y0, x0, side_y, side_x (B, n) long).

    Image i has `live[i].sum()` ~ Geometric(p) points on {0, 1, ...} (at most `max_points`), each a
    square of side U{1..max_patch} (clipped to the image) placed uniformly inside the image.
    """
    u = torch.rand(batch, generator=generator).clamp_min(1e-12)
    counts = torch.floor(torch.log(u) / torch.log(torch.tensor(1.0 - p))).long().clamp_(0, max_points)
    n = max(1, int(counts.max()))
    live = torch.arange(n)[None, :] < counts[:, None]
    side = torch.randint(1, max_patch + 1, (batch, n), generator=generator)
    sy, sx = side.clamp(max=height), side.clamp(max=width)
    y0 = (torch.rand(batch, n, generator=generator) * (height - sy + 1)).long()
    x0 = (torch.rand(batch, n, generator=generator) * (width - sx + 1)).long()
    return live, y0, x0, sy, sx


def patch_means(ab: torch.Tensor, y0: torch.Tensor, x0: torch.Tensor, sy: torch.Tensor,
                sx: torch.Tensor) -> torch.Tensor:
    """Mean of `ab` (B, 2, H, W) over each box -> (B, 2, n), from a summed-area table.

    The table is float64 so a 1-px box is exact to ~1e-9 even after summing a whole image.
    """
    b, _, h, w = ab.shape
    n = y0.shape[1]
    sat = F.pad(ab.detach().double().cpu().cumsum(2).cumsum(3), (1, 0, 1, 0))  # (B, 2, H+1, W+1)
    flat = sat.flatten(2)
    y1, x1 = y0 + sy, x0 + sx

    def corner(yy: torch.Tensor, xx: torch.Tensor) -> torch.Tensor:
        return flat.gather(2, (yy * (w + 1) + xx)[:, None, :].expand(b, 2, n))

    sums = corner(y1, x1) - corner(y0, x1) - corner(y1, x0) + corner(y0, x0)
    return (sums / (sy * sx)[:, None, :].double()).float()


def widen_for_hints(model: ColorModel) -> ColorModel:
    """A hint-input copy of `model` that predicts exactly what `model` does when given no hints.

    Every weight is copied; the first convolution gains three input channels whose weights are
    zero, so the hint map contributes nothing until training teaches it to. That makes the hint
    model a fine-tune of a good colorizer instead of a new one trained from scratch.
    """
    if model.accepts_hints:
        raise ValueError("the model already takes hints")
    if "hint_input" not in _constructor_keywords(model):
        raise ValueError(f"architecture {model.arch!r} has no hint-input option (only 'unet' has)")
    wide = create(model.arch, **{**model.config, "hint_input": True})
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    target = wide.state_dict()
    changed = [k for k in state if k in target and state[k].shape != target[k].shape]
    for key in changed:  # the first conv's weight: (out, 1, k, k) -> (out, 4, k, k), new part zero
        old, new = state[key], torch.zeros_like(target[key])
        if old.dim() != 4 or old.shape[1] != 1 or new.shape[1] != 1 + HINT_CHANNELS or old.shape[0] != new.shape[0]:
            raise ValueError(f"cannot widen {key}: {tuple(old.shape)} -> {tuple(new.shape)}")
        new[:, :1] = old
        state[key] = new
    wide.load_state_dict(state)
    wide.train(model.training)
    return wide


def _constructor_keywords(model: ColorModel) -> set[str]:
    import inspect

    return set(inspect.signature(type(model).__init__).parameters)
