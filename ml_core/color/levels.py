"""Input levels: the lightness a model sees, stretched to the full range.

Why: a faded print has a gray black point and a dull white point; a sepia print converted to
lightness looks like a low-contrast photo. A network trained on full-range photos reads such an
input as fog or dusk and paints a brown wash over it. Stretching the model's input (never the
output: the photo keeps its own lightness) maps a faded or toned print to (nearly) the input its
neutral, full-range version would give.

The black and white points are robust percentiles of a 128×128 area-average of the input, so dust
specks and grain do not set them, and the gain is capped so a photo that is truly low-key (a night
scene) is lifted, not blown up. Pure tensor ops (area average, top-k), so it runs inside the model's
forward and exports to ONNX.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .levels_np import HIGH_PERCENTILE, LOW_PERCENTILE, MAX_GAIN, POOLED_SIDE  # the rule's numbers, stated once


def robust_points(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each sample's black and white points (B, 1, 1, 1): the 1st and 99th percentiles of a
    128×128 area-average of `x` (B, 1, H, W), so specks and grain do not move them."""
    b = x.shape[0]
    small = F.adaptive_avg_pool2d(x, (min(POOLED_SIDE, x.shape[-2]), min(POOLED_SIDE, x.shape[-1]))).reshape(b, -1)
    n = small.shape[1]
    i_lo = int(round(LOW_PERCENTILE * (n - 1)))
    i_hi = int(round(HIGH_PERCENTILE * (n - 1)))
    # The i-th smallest values without sorting all n: two partial selections of ~1 % each return
    # exactly the sorted order's entries, ~6x faster than torch.sort on a training batch (every
    # training step runs this in the model's forward).
    black = torch.topk(small, i_lo + 1, dim=1, largest=False).values[:, -1]
    white = torch.topk(small, n - i_hi, dim=1, largest=True).values[:, -1]
    return black.view(b, 1, 1, 1), white.view(b, 1, 1, 1)


def levels_map(x: torch.Tensor, lo: float = -0.5, hi: float = 0.5, max_gain: float = MAX_GAIN
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mid, gain, center), each (B, 1, 1, 1): stretch_levels maps x to (x - mid) * gain + center.

    Separate so a caller that needs the map, not the stretched tensor (ml_core.repair on a 12-MP
    photo, measured on a small copy), uses the same rule.
    """
    black, white = robust_points(x)
    span = (white - black).clamp(min=(hi - lo) / max_gain)
    gain = (hi - lo) / span
    mid = (white + black) / 2
    # Uncapped, the stretched range is exactly [lo, hi]; capped, it is narrower and stays centered
    # on the photo's own mid-point, moved only as far as needed to stay inside [lo, hi].
    half = (white - black) * gain / 2
    center = torch.minimum(torch.maximum(mid, lo + half), hi - half)
    return mid, gain, center


def stretch_levels(x: torch.Tensor, lo: float = -0.5, hi: float = 0.5, max_gain: float = MAX_GAIN) -> torch.Tensor:
    """Map each sample's robust black/white points of `x` (B, 1, H, W) onto [lo, hi], gain ≤ `max_gain`.

    `x` is a model's normalized lightness ((L - 50) / 100 for Lab: [-0.5, 0.5]). With the gain
    capped, the stretched range is centered on the photo's own mid-point.
    """
    mid, gain, center = levels_map(x, lo, hi, max_gain)
    return ((x - mid) * gain + center).clamp(lo, hi)
