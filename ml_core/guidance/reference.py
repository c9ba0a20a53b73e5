"""Colors from a reference photo (Welsh, Ashikhmin & Mueller 2002, "Transferring color to greyscale images").

A person who has a color photo of the same place, or the same dress, can lend its palette to the
gray one. Each pixel of the gray photo looks for reference pixels that look alike where a gray
photo can still see: lightness (after matching the two photos' lightness statistics, so an
overexposed print still finds its sky) and local texture (the standard deviation of lightness in
a small window), and takes their chroma. The model's own prediction can join the match as a
third cue, so a region the model thinks is foliage prefers the reference's greens over a gray
wall of the same lightness. Per-pixel matches are noisy, so the transferred chroma is smoothed
with a guided filter that follows the gray photo's edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ..color.spaces import rgb_to_lab

MATCH_SIDE = 160  # long side at which both photos are matched (texture statistics are scale-bound)
SAMPLES = 1024  # reference pixels kept (jittered grid): Welsh et al. found ~200 enough; 1024 costs ~0.1 s
NEIGHBORS = 4
TEXTURE_RADIUS = 2  # 5×5 windows
WEIGHT_LIGHTNESS = 1.0
WEIGHT_TEXTURE = 1.0
WEIGHT_MODEL = 0.5  # per 30 a*b* units of difference between the reference color and the prediction
FILTER_RADIUS = 4
FILTER_EPS = 4.0  # L* units squared: edges weaker than this are smoothed across


def _fit(height: int, width: int, side: int) -> tuple[int, int]:
    s = min(1.0, side / max(height, width))
    return max(1, round(height * s)), max(1, round(width * s))


def _spread(x: torch.Tensor, floor: float) -> float:
    """Standard deviation, at least `floor`; a 1-pixel photo or reference has none (torch says
    NaN, which would make every transferred color NaN), so it gets the floor."""
    return max(float(x.std()), floor) if x.numel() > 1 else floor


def _box(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean over a (2r+1)² window, reflecting at borders; x is (C, h, w)."""
    pad = F.pad(x[None], (r, r, r, r), mode="replicate")
    return F.avg_pool2d(pad, 2 * r + 1, stride=1)[0]


def local_std(lightness: torch.Tensor, r: int = TEXTURE_RADIUS) -> torch.Tensor:
    x = lightness[None]
    mean = _box(x, r)
    return (_box(x * x, r) - mean * mean).clamp_(min=0.0).sqrt_()[0]


def guided_filter(guide: torch.Tensor, src: torch.Tensor, r: int = FILTER_RADIUS,
                  eps: float = FILTER_EPS) -> torch.Tensor:
    """He et al.'s guided filter: smooth `src` (C, h, w) where `guide` (h, w) is flat, keep its edges."""
    g = guide[None]
    mean_g = _box(g, r)
    var_g = _box(g * g, r) - mean_g * mean_g
    mean_s = _box(src, r)
    cov = _box(g * src, r) - mean_g * mean_s
    a = cov / (var_g + eps)
    b = mean_s - a * mean_g
    return _box(a, r) * g + _box(b, r)


@dataclass
class ReferencePalette:
    """A color photo reduced to what matching needs: sampled (lightness, texture) -> a*b*."""

    lightness: torch.Tensor  # (N,) L* of the samples
    texture: torch.Tensor  # (N,) local std of L*
    ab: torch.Tensor  # (N, 2)
    lightness_mean: float
    lightness_std: float
    texture_std: float
    mean_ab: tuple[float, float]
    source: str = "<reference>"

    @classmethod
    def from_pixels(cls, pixels: np.ndarray, source: str = "<reference>", samples: int = SAMPLES,
                    seed: int = 0) -> "ReferencePalette":
        """8- or 16-bit RGB (H, W, 3) -> palette; a gray reference is refused (it has no colors to lend)."""
        arr = np.asarray(pixels)
        if arr.ndim != 3 or arr.shape[2] < 3:
            raise ValueError(f"{source}: a reference must be a color photo")
        rgb8 = (arr[..., :3] if arr.dtype == np.uint8
                else ((arr[..., :3].astype(np.uint32) + 128) // 257).astype(np.uint8))
        h, w = _fit(rgb8.shape[0], rgb8.shape[1], MATCH_SIDE)
        small = np.asarray(Image.fromarray(rgb8).resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0))
        lab = rgb_to_lab(torch.from_numpy(small.astype(np.float32) / 255.0).permute(2, 0, 1))
        lightness, ab = lab[0], lab[1:]
        chroma = ab.square().sum(0).sqrt()
        if float(chroma.mean()) < 2.0:
            raise ValueError(f"{source}: the reference has almost no color (mean chroma {float(chroma.mean()):.1f})")
        texture = local_std(lightness)
        # jittered grid: every part of the reference gets a say, no clumps
        gen = torch.Generator().manual_seed(seed)
        step = max(1.0, (h * w / samples) ** 0.5)
        ys = torch.arange(0.0, h, step)
        xs = torch.arange(0.0, w, step)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        gy = (gy + torch.rand(gy.shape, generator=gen) * step).clamp(max=h - 1).long().reshape(-1)
        gx = (gx + torch.rand(gx.shape, generator=gen) * step).clamp(max=w - 1).long().reshape(-1)
        return cls(
            lightness=lightness[gy, gx].contiguous(),
            texture=texture[gy, gx].contiguous(),
            ab=ab[:, gy, gx].T.contiguous(),
            lightness_mean=float(lightness.mean()),
            lightness_std=_spread(lightness, 1.0),
            texture_std=_spread(texture, 0.5),
            mean_ab=(float(ab[0].mean()), float(ab[1].mean())),
            source=source,
        )

    @classmethod
    def from_file(cls, path: Path) -> "ReferencePalette":
        from ..io.imageio import read_image

        image = read_image(Path(path))
        return cls.from_pixels(image.pixels, source=str(path))


def transfer(lightness: torch.Tensor, palette: ReferencePalette, model_ab: torch.Tensor | None = None,
             model_weight: float = WEIGHT_MODEL) -> torch.Tensor:
    """Gray photo's L* (h, w) on the guidance grid (+ the model's a*b* there) -> transferred a*b* (2, h, w)."""
    h, w = lightness.shape
    mh, mw = _fit(h, w, MATCH_SIDE)
    small_l = (F.interpolate(lightness[None, None], size=(mh, mw), mode="area")[0, 0] if (mh, mw) != (h, w)
               else lightness)
    # luminance remapping (Welsh et al. §2): compare z-scores, not raw L*
    t_mean, t_std = float(small_l.mean()), _spread(small_l, 1.0)
    tex = local_std(small_l)
    target = [((small_l - t_mean) / t_std) * WEIGHT_LIGHTNESS, (tex / palette.texture_std) * WEIGHT_TEXTURE]
    refs = [((palette.lightness - palette.lightness_mean) / palette.lightness_std) * WEIGHT_LIGHTNESS,
            (palette.texture / palette.texture_std) * WEIGHT_TEXTURE]
    if model_ab is not None and model_weight > 0:
        small_ab = F.interpolate(model_ab[None].float(), size=(mh, mw), mode="area")[0]
        target += [small_ab[0] * (model_weight / 30.0), small_ab[1] * (model_weight / 30.0)]
        refs += [palette.ab[:, 0] * (model_weight / 30.0), palette.ab[:, 1] * (model_weight / 30.0)]
    tq = torch.stack([t.reshape(-1) for t in target], dim=1)
    rq = torch.stack(refs, dim=1)
    k = min(NEIGHBORS, rq.shape[0])
    out = torch.empty(tq.shape[0], 2)
    for start in range(0, tq.shape[0], 4096):
        d = torch.cdist(tq[start:start + 4096], rq)
        dist, idx = d.topk(k, dim=1, largest=False)
        wts = torch.softmax(-dist / 0.05, dim=1)  # nearest dominate; ties blend
        out[start:start + 4096] = torch.einsum("nk,nkc->nc", wts, palette.ab[idx])
    ab = out.T.reshape(2, mh, mw)
    ab = guided_filter(small_l, ab)
    if (mh, mw) != (h, w):
        ab = F.interpolate(ab[None], size=(h, w), mode="bilinear", align_corners=False)[0]
    return ab
