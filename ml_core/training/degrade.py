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


def _separable_blur(x: torch.Tensor, sigma: torch.Tensor, max_radius: int = 5) -> torch.Tensor:
    """Gaussian blur of each sample of (B, 1, H, W) with its own sigma (B,), reflect padding.

    One grouped convolution per direction for the whole batch, so it costs the same on a GPU as
    one blur, whatever the batch size.
    """
    b, _, h, w = x.shape
    radius = max(0, min(max_radius, h - 1, w - 1))
    if radius == 0:
        return x
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (t[None, :] / sigma[:, None].clamp(min=1e-3)) ** 2)
    k = k / k.sum(dim=1, keepdim=True)
    y = F.pad(x.reshape(1, b, h, w), (radius, radius, 0, 0), mode="reflect")
    y = F.conv2d(y, k.view(b, 1, 1, -1), groups=b)
    y = F.pad(y, (0, 0, radius, radius), mode="reflect")
    y = F.conv2d(y, k.view(b, 1, -1, 1), groups=b)
    return y.reshape(b, 1, h, w)


def _dct_matrix(n: int = 8) -> torch.Tensor:
    i = torch.arange(n, dtype=torch.float32)
    m = torch.cos(math.pi * (2 * i[None, :] + 1) * i[:, None] / (2 * n)) * math.sqrt(2.0 / n)
    m[0] /= math.sqrt(2.0)
    return m


_DCT8 = _dct_matrix(8)
# Coarser steps for higher frequencies, as JPEG's luminance table does (shape only; scaled per sample).
_FREQ_WEIGHT = 1.0 + (torch.arange(8)[:, None] + torch.arange(8)[None, :]).float() / 2.0


def _jpeg_blocks(x: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """8×8 block-DCT quantization of (B, 1, H, W) with per-sample step (B,): a low-quality JPEG's blocks."""
    b, _, h, w = x.shape
    ph, pw = (-h) % 8, (-w) % 8
    y = F.pad(x, (0, pw, 0, ph), mode="replicate") if (ph or pw) else x
    H, W = y.shape[-2:]
    blocks = y.reshape(b, H // 8, 8, W // 8, 8).permute(0, 1, 3, 2, 4)  # (B, bh, bw, 8, 8)
    d = _DCT8.to(x.device, x.dtype)
    q = step.view(b, 1, 1, 1, 1) * _FREQ_WEIGHT.to(x.device, x.dtype)
    coef = torch.round((d @ blocks @ d.T) / q) * q
    out = (d.T @ coef @ d).permute(0, 1, 3, 2, 4).reshape(b, 1, H, W)
    return out[..., :h, :w]


def _grid(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    yy = torch.arange(h, dtype=torch.float32, device=device).view(1, 1, h, 1)
    xx = torch.arange(w, dtype=torch.float32, device=device).view(1, 1, 1, w)
    return yy, xx


MAX_SCRATCHES = 4


def _scratches(b: int, h: int, w: int, rand, randn) -> torch.Tensor:
    """Signed scratch map (B, 1, H, W) in [-1, 1]: 1-4 thin lines per sample, mostly near vertical
    (a print's scratches run along the way it was pulled), mostly light."""
    n = MAX_SCRATCHES
    dev = rand(1).device
    count = 1 + (rand(b) * n).long().clamp(max=n - 1)  # 1..n
    active = (torch.arange(n, device=dev)[None, :] < count[:, None]).float()
    x0, y0 = rand(b, n) * w, rand(b, n) * h
    angle = math.pi / 2 + randn(b, n) * 0.35
    angle = torch.where(rand(b, n) < 0.3, rand(b, n) * math.pi, angle)
    half_len = (0.2 + 0.8 * rand(b, n)) * max(h, w) / 2
    width = 0.4 + 1.2 * rand(b, n)
    sign = torch.where(rand(b, n) < 0.6, 1.0, -1.0)
    yy, xx = _grid(h, w, dev)
    dx, dy = torch.cos(angle)[..., None, None], torch.sin(angle)[..., None, None]
    rx, ry = xx - x0[..., None, None], yy - y0[..., None, None]
    along = rx * dx + ry * dy
    across = ry * dx - rx * dy
    line = (1.0 - (across.abs() - width[..., None, None] / 2).clamp(min=0.0)).clamp(0.0, 1.0)
    line = line * (along.abs() <= half_len[..., None, None]) * active[..., None, None]  # (B, n, H, W)
    strongest, which = line.max(dim=1, keepdim=True)
    return strongest * torch.gather(sign, 1, which.flatten(1)).view(b, 1, h, w)


MAX_SPECKS = 30


def _dust(b: int, h: int, w: int, rand) -> torch.Tensor:
    """Signed dust map (B, 1, H, W): 3-30 specks per sample of 1, 3 or 5 px, light or dark.

    Specks are impulses grown into disks by one small convolution, so the cost does not grow with their number."""
    dev = rand(1).device
    count = 3 + (rand(b) * (MAX_SPECKS - 3)).long()
    active = torch.arange(MAX_SPECKS, device=dev)[None, :] < count[:, None]
    pos = (rand(b, MAX_SPECKS) * h).long().clamp(max=h - 1) * w + (rand(b, MAX_SPECKS) * w).long().clamp(max=w - 1)
    size = (rand(b, MAX_SPECKS) * 3).long().clamp(max=2)  # 0, 1, 2 -> 1, 3, 5 px
    bright = rand(b, MAX_SPECKS) < 0.5
    out = torch.zeros(b, 1, h, w, device=dev)
    for s in range(3):
        for sign, pick in ((1.0, bright), (-1.0, ~bright)):
            sel = (active & pick & (size == s)).float()
            impulses = torch.zeros(b, h * w, device=dev).scatter_reduce(1, pos, sel, reduce="amax").view(b, 1, h, w)
            if s:  # grow each impulse into a disk of radius s
                t = torch.arange(-s, s + 1, dtype=torch.float32, device=dev)
                disk = ((t[:, None] ** 2 + t[None, :] ** 2) <= (s + 0.3) ** 2).float().view(1, 1, 2 * s + 1, 2 * s + 1)
                impulses = F.conv2d(impulses, disk, padding=s)
            out = torch.where(impulses > 0, torch.full_like(out, sign), out)
    return out


def damage(lum: torch.Tensor, generator: torch.Generator, scale: float = 100.0,
           config: Damage | None = None) -> torch.Tensor:
    """A damaged copy of lightness `lum` (B, 1, H, W) in [0, scale]; `lum` itself is not modified.

    Each sample is damaged with probability `config.p`; a damaged sample gets each kind of damage
    with its own probability, in the order a print suffers it (optics, the print fading, grain,
    surface damage, then the scan's JPEG). Every kind is computed for the whole batch at once with
    per-sample parameters, so the cost is a handful of batched ops on CPU or GPU. `generator`
    must live on `lum`'s device; undamaged samples come back bit-identical.
    """
    cfg = config or Damage()
    b, c, h, w = lum.shape
    if c != 1:
        raise ValueError(f"damage() expects one lightness channel, got {c}")
    dev = lum.device

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=dev)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, device=dev)

    hit = rand(b) < cfg.p
    kinds = rand(b, 7)
    # Every per-sample parameter is drawn for the whole batch (cheap), then each kind of damage is
    # computed only for the samples that get it: most samples get two kinds at most.
    blur_sigma = 0.4 + 1.2 * rand(b)
    vignette = 0.15 + 0.35 * rand(b)
    black, white = 0.3 * rand(b), 0.7 + 0.3 * rand(b)
    grain_sigma, grain_clumped = 0.005 + 0.035 * rand(b), rand(b) < 0.5
    scratch_amount, dust_amount = 0.1 + 0.35 * rand(b), 0.2 + 0.5 * rand(b)
    jpeg_step = 0.01 + 0.04 * rand(b)

    x = lum.detach().float() / scale

    def apply(k: int, p: float, fn) -> None:
        idx = (hit & (kinds[:, k] < p)).nonzero().flatten()
        if idx.numel():
            x[idx] = fn(x[idx], idx)

    def col(v: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        return v[idx].view(-1, 1, 1, 1)

    yy, xx = _grid(h, w, dev)
    radius2 = ((2 * xx / max(w - 1, 1) - 1) ** 2 + (2 * yy / max(h - 1, 1) - 1) ** 2) / 2

    def grain(img: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        noise = randn(len(idx), 1, h, w)
        clumped = _separable_blur(noise, torch.full((len(idx),), 0.8, device=dev), max_radius=2)
        clumped = clumped / clumped.flatten(1).std(dim=1).clamp(min=1e-6).view(-1, 1, 1, 1)
        noise = torch.where(col(grain_clumped, idx), clumped, noise)
        return img + col(grain_sigma, idx) * noise

    apply(0, cfg.blur, lambda img, idx: _separable_blur(img, blur_sigma[idx]))
    apply(1, cfg.vignette, lambda img, idx: img * (1.0 - col(vignette, idx) * radius2).clamp(min=0.0))
    apply(2, cfg.fade, lambda img, idx: col(black, idx) + img * (col(white, idx) - col(black, idx)))
    apply(3, cfg.grain, grain)
    apply(4, cfg.scratches, lambda img, idx: img + col(scratch_amount, idx) * _scratches(len(idx), h, w, rand, randn))
    apply(5, cfg.dust, lambda img, idx: img + col(dust_amount, idx) * _dust(len(idx), h, w, rand))
    apply(6, cfg.jpeg, lambda img, idx: _jpeg_blocks(img.clamp(0.0, 1.0), jpeg_step[idx]))
    return torch.where(hit.view(b, 1, 1, 1), (x.clamp(0.0, 1.0) * scale).to(lum.dtype), lum.detach())


# ---------------------------------------------------------------------------------------------
# Graded damage for measuring repair (ml_core.repair, bench/bench_repair.py). New code only:
# `damage()` above, which training draws from, is untouched, so its runs stay reproducible.

SEVERITIES = ("light", "medium", "heavy")
GRADED_KINDS = ("scratches", "grain", "fading")

# Where in each of damage()'s ranges a severity sits (0 = the range's low end, 1 = its high end).
_SEVERITY_AT = {"light": 0.15, "medium": 0.5, "heavy": 0.9}


def graded_damage(lum: torch.Tensor, generator: torch.Generator, severity: str,
                  kinds: tuple[str, ...] = GRADED_KINDS, scale: float = 100.0) -> tuple[torch.Tensor, torch.Tensor]:
    """`lum` (B, 1, H, W) with chosen kinds of damage at a fixed severity, and where surface damage hit.

    Why: a repair benchmark needs damage of known strength and the pixels it touched, which the
    random mix of `damage()` gives neither of. The shapes are damage()'s own (same scratch and dust
    generators, same grain and fade formulas), in the same order; only the strength is pinned:
    "light", "medium" or "heavy" sit at 15 %, 50 % and 90 % of damage()'s ranges. `kinds` is any
    of "scratches" (scratches and dust), "grain", "fading". Returns (damaged, mask), mask a bool
    (B, 1, H, W) of the pixels scratches or dust changed by more than 1 % of `scale`.
    """
    if severity not in _SEVERITY_AT:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    unknown = set(kinds) - set(GRADED_KINDS)
    if unknown:
        raise ValueError(f"unknown damage kinds {sorted(unknown)}; choose from {', '.join(GRADED_KINDS)}")
    b, c, h, w = lum.shape
    if c != 1:
        raise ValueError(f"graded_damage() expects one lightness channel, got {c}")
    dev = lum.device
    s = _SEVERITY_AT[severity]

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=dev)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, device=dev)

    x = lum.detach().float() / scale
    if "fading" in kinds:
        black, white = 0.3 * s, 1.0 - 0.3 * s
        x = black + x * (white - black)
    if "grain" in kinds:
        noise = randn(b, 1, h, w)
        clumped = _separable_blur(noise, torch.full((b,), 0.8, device=dev), max_radius=2)
        clumped = clumped / clumped.flatten(1).std(dim=1).clamp(min=1e-6).view(-1, 1, 1, 1)
        noise = torch.where((rand(b) < 0.5).view(b, 1, 1, 1), clumped, noise)
        x = x + (0.005 + 0.035 * s) * noise
    surface = torch.zeros_like(x)
    if "scratches" in kinds:
        surface = surface + (0.1 + 0.35 * s) * _scratches(b, h, w, rand, randn)
        dust = _dust(b, h, w, rand)
        surface = torch.where(dust != 0, (0.2 + 0.5 * s) * dust, surface)
    out = (x + surface).clamp(0.0, 1.0)
    mask = (out - x.clamp(0.0, 1.0)).abs() > 0.01
    return (out * scale).to(lum.dtype), mask
