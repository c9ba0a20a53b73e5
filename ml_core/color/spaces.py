"""Color science: sRGB <-> CIELAB (D65) and sRGB <-> YUV as batched float32 torch functions.

Channels live in dimension -3, so the same function takes a single image (3, H, W) or a batch
(B, 3, H, W). The constants match scikit-image (`rgb2lab`, `lab2rgb`, `rgb2yuv`) so that metrics
computed with skimage and the tensors the models see agree; the torch versions exist because
skimage works in float64 on one image at a time, which is far too slow for training batches and
for full-resolution recombination of 12-megapixel photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

# sRGB primaries, D65 white (the same matrix scikit-image uses).
XYZ_FROM_RGB = torch.tensor(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=torch.float64,
)
RGB_FROM_XYZ = torch.linalg.inv(XYZ_FROM_RGB)
D65_WHITE = (0.95047, 1.0, 1.08883)

# BT.601 analog YUV, as in scikit-image's rgb2yuv (vgg_chroma's default space).
YUV_FROM_RGB = torch.tensor(
    [
        [0.299, 0.587, 0.114],
        [-0.14714119, -0.28886916, 0.43601035],
        [0.61497538, -0.51496512, -0.10001026],
    ],
    dtype=torch.float64,
)
RGB_FROM_YUV = torch.linalg.inv(YUV_FROM_RGB)
U_MAX = 0.436
V_MAX = 0.615

_EPSILON = 0.008856  # (6/29)**3, CIE's linear/cube-root switch on Y/Yn
_KAPPA = 7.787  # slope of the linear segment of f(t), as skimage uses
_F_OFFSET = 16.0 / 116.0
_F_EPSILON = 0.2068966  # f(_EPSILON)


def _apply_matrix(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    m = matrix.to(dtype=x.dtype, device=x.device)
    return torch.einsum("ij,...jhw->...ihw", m, x)


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    # The power branch is concave and meets the linear toe where the toe is steeper, so the
    # piecewise curve equals the smaller of the two: one min instead of a where over both.
    power = x.clamp(min=0.0031308).pow_(1.0 / 2.4).mul_(1.055).sub_(0.055)
    return torch.minimum(x * 12.92, power)


def lab_f(t: torch.Tensor) -> torch.Tensor:
    """CIE's f(t): cube root above the threshold, linear below, so dark colors stay finite.

    The linear segment is the cube root's tangent at the threshold, so it lies above the
    (concave) root everywhere: the piecewise f is their minimum, which avoids evaluating a
    `where` over two full branches on every pixel.
    """
    return torch.minimum(t * _KAPPA + _F_OFFSET, t.clamp(min=_EPSILON).pow_(1.0 / 3.0))


def lab_f_inverse(f: torch.Tensor) -> torch.Tensor:
    # Sum of the linear piece below the knee and the cubic piece above it, each clamped to its
    # side; the pieces meet at (_F_EPSILON, _EPSILON), so exactly one contributes away from it.
    low = (f.clamp(max=_F_EPSILON) - _F_OFFSET) / _KAPPA
    high = f.clamp(min=_F_EPSILON)
    return low.add_(high * high * high).sub_(_EPSILON)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] (..., 3, H, W) -> CIELAB with L in [0, 100] and a, b roughly in [-110, 110]."""
    xyz = _apply_matrix(XYZ_FROM_RGB, srgb_to_linear(rgb))
    white = torch.tensor(D65_WHITE, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    f = lab_f(xyz / white)
    fx, fy, fz = f.unbind(-3)
    return torch.stack((116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)), dim=-3)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """CIELAB -> sRGB in [0, 1]; out-of-gamut values are clipped unless `clip` is False."""
    L, a, b = lab.unbind(-3)
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = (fy - b / 200.0).clamp(min=0.0)  # skimage clips negative z the same way
    white = torch.tensor(D65_WHITE, dtype=lab.dtype, device=lab.device).view(3, 1, 1)
    xyz = lab_f_inverse(torch.stack((fx, fy, fz), dim=-3)) * white
    rgb = linear_to_srgb(_apply_matrix(RGB_FROM_XYZ, xyz).clamp(min=0.0))
    return rgb.clamp(0.0, 1.0) if clip else rgb


def rgb_to_lightness(rgb: torch.Tensor) -> torch.Tensor:
    """L* alone (..., 1, H, W): cheaper than a full Lab conversion when only L is needed."""
    y = _apply_matrix(XYZ_FROM_RGB[1:2], srgb_to_linear(rgb))
    return 116.0 * lab_f(y) - 16.0


def gray_to_lightness(gray: torch.Tensor) -> torch.Tensor:
    """L* of sRGB gray values in [0, 1] (R = G = B), any shape."""
    return 116.0 * lab_f(srgb_to_linear(gray)) - 16.0


def rgb_to_yuv(rgb: torch.Tensor) -> torch.Tensor:
    return _apply_matrix(YUV_FROM_RGB, rgb)


def yuv_to_rgb(yuv: torch.Tensor, clip: bool = True) -> torch.Tensor:
    rgb = _apply_matrix(RGB_FROM_YUV, yuv)
    return rgb.clamp(0.0, 1.0) if clip else rgb


@dataclass(frozen=True)
class ColorSpace:
    """How a model family sees color: a luminance channel in, two chroma channels out.

    `chroma_scale` maps the model's normalized chroma (roughly [-1, 1]) to natural units, so
    regression heads, losses and per-channel bins can be written once for every space.
    """

    name: str
    chroma_scale: tuple[float, float]
    chroma_names: tuple[str, str]

    def split(self, rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """sRGB -> (luminance (..., 1, H, W), chroma (..., 2, H, W)) in natural units."""
        full = rgb_to_lab(rgb) if self.name == "lab" else rgb_to_yuv(rgb)
        return full[..., :1, :, :], full[..., 1:, :, :]

    def merge(self, lum: torch.Tensor, chroma: torch.Tensor, clip: bool = True) -> torch.Tensor:
        full = torch.cat((lum, chroma), dim=-3)
        return lab_to_rgb(full, clip) if self.name == "lab" else yuv_to_rgb(full, clip)

    def normalize_lum(self, lum: torch.Tensor) -> torch.Tensor:
        """Model input: Zhang et al.'s (L - 50) / 100 for Lab, Y - 0.5 for YUV; both span ~[-0.5, 0.5]."""
        return (lum - 50.0) / 100.0 if self.name == "lab" else lum - 0.5

    def lum_from_rgb(self, rgb: torch.Tensor) -> torch.Tensor:
        if self.name == "lab":
            return rgb_to_lightness(rgb)
        return _apply_matrix(YUV_FROM_RGB[0:1], rgb)

    def scale_tensor(self, like: torch.Tensor) -> torch.Tensor:
        return torch.tensor(self.chroma_scale, dtype=like.dtype, device=like.device).view(2, 1, 1)

    def normalize_chroma(self, chroma: torch.Tensor) -> torch.Tensor:
        return chroma / self.scale_tensor(chroma)

    def denormalize_chroma(self, chroma: torch.Tensor) -> torch.Tensor:
        return chroma * self.scale_tensor(chroma)


LAB = ColorSpace("lab", (110.0, 110.0), ("a", "b"))
YUV = ColorSpace("yuv", (U_MAX, V_MAX), ("u", "v"))
COLOR_SPACES = {cs.name: cs for cs in (LAB, YUV)}


def color_space(name: str) -> ColorSpace:
    try:
        return COLOR_SPACES[name]
    except KeyError:
        raise ValueError(f"unknown color space {name!r}; expected one of {sorted(COLOR_SPACES)}") from None


def chroma_to_ab(space: ColorSpace, lum: torch.Tensor, chroma: torch.Tensor) -> torch.Tensor:
    """Express a prediction in any space as Lab ab, so the engine recombines every model one way."""
    if space.name == "lab":
        return chroma
    return rgb_to_lab(space.merge(lum, chroma))[..., 1:, :, :]
