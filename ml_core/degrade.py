"""Old-print damage for the model's *input* during training: fading, blur, grain, JPEG blocking,
scratches, dust and vignetting.

Why: the corpus is clean modern color photos, but people bring scans of old prints. A network
that never saw a lifted black point, film grain or a scratch in training treats them as image
content (a brown wash over a faded print, orange halos along scratches). Damage is applied to
the lightness the model sees only; the target chroma comes from the clean photo, so the network
learns to look through the damage rather than to paint it.

Every random draw comes from the `torch.Generator` passed in, so a batch's damage is fixed by
(run seed, step) and a resumed run sees exactly the same inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Damage:
    """Probabilities of each kind of damage for a sample picked for damage (`p`), and strengths.

    Lightness is in units of `scale` (100 for CIE L*, 1 for YUV Y): every strength below is a
    fraction of that range.
    """

    p: float = 0.5  # share of samples that get any damage at all
    fade: float = 0.5  # contrast reduced, blacks lifted, whites dulled
    blur: float = 0.3
    grain: float = 0.5
    jpeg: float = 0.2
    scratches: float = 0.25
    dust: float = 0.25
    vignette: float = 0.25

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (isinstance(value, (int, float)) and 0.0 <= float(value) <= 1.0):
                raise ValueError(f"damage probability {name} must be in [0, 1], got {value!r}")


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=g)


def _picked(n: int, p: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) < p


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (1, 1, H, W) with reflect padding."""
    radius = max(1, math.ceil(2.5 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    pad = min(radius, x.shape[-1] - 1, x.shape[-2] - 1)
    if pad < radius:  # tiny images: trim the kernel to what reflect padding allows
        k = k[radius - pad : radius + pad + 1]
        k = k / k.sum()
        radius = pad
    if radius == 0:
        return x
    x = F.pad(x, (radius, radius, 0, 0), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(x, k.view(1, 1, -1, 1))


def _dct_matrix(n: int = 8) -> torch.Tensor:
    i = torch.arange(n, dtype=torch.float32)
    m = torch.cos(math.pi * (2 * i[None, :] + 1) * i[:, None] / (2 * n)) * math.sqrt(2.0 / n)
    m[0] /= math.sqrt(2.0)
    return m


_DCT8 = _dct_matrix(8)
# Coarser steps for higher frequencies, as JPEG's luminance table does (shape only; scaled below).
_FREQ_WEIGHT = 1.0 + (torch.arange(8)[:, None] + torch.arange(8)[None, :]).float() / 2.0


def _jpeg_blocks(x: torch.Tensor, step: float) -> torch.Tensor:
    """8×8 block-DCT quantization of (1, 1, H, W): the blocking and ringing of a low-quality JPEG."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % 8, (-w) % 8
    y = F.pad(x, (0, pw, 0, ph), mode="replicate") if (ph or pw) else x
    H, W = y.shape[-2:]
    blocks = y.reshape(H // 8, 8, W // 8, 8).permute(0, 2, 1, 3)  # (bh, bw, 8, 8)
    d = _DCT8.to(x.dtype)
    coef = d @ blocks @ d.T
    q = step * _FREQ_WEIGHT.to(x.dtype)
    coef = torch.round(coef / q) * q
    out = (d.T @ coef @ d).permute(0, 2, 1, 3).reshape(1, 1, H, W)
    return out[..., :h, :w]


def _lines_mask(h: int, w: int, count: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Soft masks of `count` thin, mostly vertical lines (a print's scratches) and their signs."""
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    mask = torch.zeros(h, w)
    signed = torch.zeros(h, w)
    for _ in range(count):
        x0 = float(torch.rand(1, generator=g)) * w
        y0 = float(torch.rand(1, generator=g)) * h
        angle = math.pi / 2 + float(torch.randn(1, generator=g)) * 0.35  # near vertical, some any way
        if float(torch.rand(1, generator=g)) < 0.3:
            angle = float(torch.rand(1, generator=g)) * math.pi
        half_len = (0.2 + 0.8 * float(torch.rand(1, generator=g))) * max(h, w) / 2
        width = 0.4 + 1.2 * float(torch.rand(1, generator=g))
        dx, dy = math.cos(angle), math.sin(angle)
        along = (xx - x0) * dx + (yy - y0) * dy
        across = (xx - x0) * -dy + (yy - y0) * dx
        line = torch.clamp(1.0 - (across.abs() - width / 2).clamp(min=0.0), 0.0, 1.0)
        line = line * (along.abs() <= half_len)
        sign = 1.0 if float(torch.rand(1, generator=g)) < 0.6 else -1.0  # scratches on prints are mostly light
        signed = torch.where(line > mask, torch.full_like(signed, sign), signed)
        mask = torch.maximum(mask, line)
    return mask, signed


def _dust_mask(h: int, w: int, count: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    mask = torch.zeros(h, w)
    signed = torch.zeros(h, w)
    cx = torch.rand(count, generator=g) * w
    cy = torch.rand(count, generator=g) * h
    r = 0.5 + 1.5 * torch.rand(count, generator=g)
    s = torch.where(torch.rand(count, generator=g) < 0.5, 1.0, -1.0)
    for i in range(count):
        d = torch.sqrt((xx - cx[i]) ** 2 + (yy - cy[i]) ** 2)
        speck = torch.clamp(r[i] + 0.5 - d, 0.0, 1.0)
        signed = torch.where(speck > mask, s[i].expand_as(signed), signed)
        mask = torch.maximum(mask, speck)
    return mask, signed


def damage(lum: torch.Tensor, generator: torch.Generator, scale: float = 100.0, config: Damage | None = None) -> torch.Tensor:
    """A damaged copy of lightness `lum` (B, 1, H, W) in [0, scale]; `lum` itself is not modified.

    Each sample is damaged with probability `config.p`; a damaged sample gets each kind of damage
    with its own probability, in the order a print suffers it (optics, then the print fading,
    grain, surface damage, then the scan's JPEG).
    """
    cfg = config or Damage()
    b, c, h, w = lum.shape
    if c != 1:
        raise ValueError(f"damage() expects one lightness channel, got {c}")
    x = lum.detach().float() / scale
    out = []
    for i, hit in enumerate(_picked(b, cfg.p, generator).tolist()):
        u = torch.rand(7, generator=generator)  # which kinds of damage this sample gets
        if not hit:
            out.append(lum[i : i + 1].detach())
            continue
        img = x[i : i + 1]
        if u[0] < cfg.blur:
            img = _gaussian_blur(img, float(_uniform(1, 0.4, 1.6, generator)))
        if u[1] < cfg.vignette:
            yy = torch.linspace(-1, 1, h).view(h, 1)
            xx = torch.linspace(-1, 1, w).view(1, w)
            strength = float(_uniform(1, 0.15, 0.5, generator))
            img = img * (1.0 - strength * ((xx**2 + yy**2) / 2.0)).clamp(min=0.0)
        if u[2] < cfg.fade:
            black = float(_uniform(1, 0.0, 0.3, generator))
            white = float(_uniform(1, 0.7, 1.0, generator))
            img = black + img * (white - black)
        if u[3] < cfg.grain:
            sigma = float(_uniform(1, 0.005, 0.04, generator))
            noise = torch.randn(1, 1, h, w, generator=generator)
            size = float(_uniform(1, 0.0, 1.0, generator))
            if size > 0.5:  # clumped grain: blur the noise and bring its strength back
                noise = _gaussian_blur(noise, size)
                noise = noise / noise.std().clamp(min=1e-6)
            img = img + sigma * noise
        if u[4] < cfg.scratches:
            count = int(torch.randint(1, 5, (1,), generator=generator))
            mask, sign = _lines_mask(h, w, count, generator)
            amount = float(_uniform(1, 0.1, 0.45, generator))
            img = img + (amount * mask * sign)[None, None]
        if u[5] < cfg.dust:
            count = int(torch.randint(3, 30, (1,), generator=generator))
            mask, sign = _dust_mask(h, w, count, generator)
            amount = float(_uniform(1, 0.2, 0.7, generator))
            img = img + (amount * mask * sign)[None, None]
        if u[6] < cfg.jpeg:
            img = _jpeg_blocks(img.clamp(0.0, 1.0), float(_uniform(1, 0.01, 0.05, generator)))
        out.append((img.clamp(0.0, 1.0) * scale).to(lum.dtype))
    return torch.cat(out)
