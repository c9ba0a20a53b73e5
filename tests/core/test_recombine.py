"""The numpy recombination kernel gives what the plain float64 color math gives, on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage.color import rgb2lab

from ml_core.cancel import Cancelled, CancelToken
from ml_core.color import spaces as color
from ml_core.inference import recombine as kernel
from ml_core.inference.engine import recombine

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "photos" / "fixtures"
PHOTOS = sorted(FIXTURES.glob("*.jpg"))


def reference(pixels: np.ndarray, ab_small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same recombination written plainly in float64 with ml_core.color.spaces.

    Returns the codes and which pixels are clearly in gamut: not within float32 rounding
    (1e-5) of the tolerance that decides whether a pixel's chroma gets scaled down.
    """
    scale = 65535.0 if pixels.dtype == np.uint16 else 255.0
    rgb = torch.from_numpy(pixels.astype(np.float64) / scale)
    if rgb.ndim == 2:
        rgb = rgb[..., None].expand(*rgb.shape, 3)
    lightness = color.rgb_to_lab(rgb.permute(2, 0, 1))[0]
    ab = F.interpolate(torch.from_numpy(ab_small).double()[None], size=pixels.shape[:2], mode="bilinear",
                       align_corners=False)[0]

    def linear(s: torch.Tensor | float) -> torch.Tensor:
        fy = (lightness + 16.0) / 116.0
        f = torch.stack((fy + ab[0] * s / 500.0, fy, (fy - ab[1] * s / 200.0).clamp(min=0.0)))
        xyz = color.lab_f_inverse(f) * torch.tensor(color.D65_WHITE, dtype=torch.float64).view(3, 1, 1)
        return torch.einsum("ij,jhw->ihw", color.RGB_FROM_XYZ, xyz)

    lin = linear(1.0)
    outside = (lin.amin(0) < -kernel.GAMUT_SLACK) | (lin.amax(0) > 1 + kernel.GAMUT_SLACK)
    margin = kernel.GAMUT_SLACK - 1e-5
    clearly_in = (lin.amin(0) > -margin) & (lin.amax(0) < 1 + margin)
    lo, hi = torch.zeros_like(lightness), torch.ones_like(lightness)
    for _ in range(kernel.GAMUT_STEPS):
        mid = (lo + hi) / 2
        c = linear(mid)
        ok = (c.amin(0) >= 0) & (c.amax(0) <= 1)
        lo, hi = torch.where(ok, mid, lo), torch.where(ok, hi, mid)
    lin = torch.where(outside, linear(lo), lin).clamp(0, 1)
    codes = (color.linear_to_srgb(lin) * scale).round().permute(1, 2, 0).numpy()
    return codes.astype(pixels.dtype), clearly_in.numpy()


def photo(path: Path, kind: str) -> np.ndarray:
    img = Image.open(path)
    if kind == "gray":
        return np.asarray(img.convert("L"))
    rgb = np.asarray(img.convert("RGB"))
    return rgb.astype(np.uint16) * 257 if kind == "rgb16" else rgb


def chroma_of(path: Path, boost: float) -> np.ndarray:
    """The photo's own a*b* on a 48-pixel grid (what a model outputs), optionally exaggerated."""
    small = np.asarray(Image.open(path).convert("RGB").resize((48, 32), Image.Resampling.BOX)) / 255.0
    return (rgb2lab(small)[..., 1:].transpose(2, 0, 1) * boost).astype(np.float32)


def test_constants_match_ml_core_color() -> None:
    np.testing.assert_allclose(kernel.XYZ_FROM_RGB, color.XYZ_FROM_RGB.numpy())
    assert kernel.D65_WHITE == color.D65_WHITE
    assert (kernel.EPSILON, kernel.KAPPA, kernel.F_OFFSET, kernel.F_EPSILON) == (
        color._EPSILON, color._KAPPA, color._F_OFFSET, color._F_EPSILON)


def test_f_of_y_table_matches_the_curve() -> None:
    y = np.linspace(0.0, 1.0, 200_001, dtype=np.float32)
    exact = color.lab_f(torch.from_numpy(y).double()).numpy()
    assert np.abs(kernel.f_of_y(y) - exact).max() < 2e-6  # L* within 2e-4


@pytest.mark.skipif(not PHOTOS, reason="fixture photos not present")
@pytest.mark.parametrize("kind", ["rgb", "gray", "rgb16"])
@pytest.mark.parametrize("boost", [1.0, 3.0])  # 3x pushes ~a third of the pixels out of the sRGB gamut
def test_fixtures_match_the_float64_reference(kind: str, boost: float) -> None:
    worst_in_gamut, flipped, total = 0, 0, 0
    for path in PHOTOS:
        pixels = photo(path, kind)
        ab = chroma_of(path, boost)
        out = recombine(pixels, torch.from_numpy(ab))
        ref, clearly_in = reference(pixels, ab)
        code = 257 if kind == "rgb16" else 1
        diff = np.abs(out.astype(np.int64) - ref.astype(np.int64)).max(axis=2) / code
        worst_in_gamut = max(worst_in_gamut, diff[clearly_in].max(initial=0))
        flipped += int((diff > 1).sum())
        total += diff.size
    assert worst_in_gamut <= 1  # within one 8-bit code value wherever no gamut mapping is needed
    # Gamut-mapped pixels are within one code too, except where float32 and float64 round a
    # pixel to opposite sides of a decision (the tolerance, a bisection step): in the steep toe
    # of the sRGB curve one step of 0.4 % chroma can be several code values.
    assert flipped <= total * 5e-4, f"{flipped} of {total} pixels"


def test_same_result_on_any_number_of_threads_and_band_size(monkeypatch) -> None:
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, (301, 517, 3), dtype=np.uint8)
    ab = rng.normal(0, 60, (2, 9, 13)).astype(np.float32)  # a good share out of gamut
    one = kernel.recombine_array(pixels, ab, threads=1)
    assert np.array_equal(kernel.recombine_array(pixels, ab, threads=3), one)
    monkeypatch.setattr(kernel, "BAND_PIXELS", 4096)
    assert np.array_equal(kernel.recombine_array(pixels, ab, threads=2), one)


def test_cancel_stops_the_kernel_on_every_thread() -> None:
    token = CancelToken()
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 3:
            token.cancel()
        token.raise_if_cancelled()

    with pytest.raises(Cancelled):
        kernel.recombine_array(np.zeros((4000, 300), np.uint8), np.zeros((2, 4, 4), np.float32), check, threads=2)
    assert len(calls) < 20  # ~55 bands in all: the rest were skipped


def test_nan_and_huge_chroma_keep_the_photo_lightness() -> None:
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    ab = np.array([[[np.nan, 1e30], [-np.inf, 0.0]], [[1e9, np.nan], [0.0, -1e30]]], np.float32)
    out = kernel.recombine_array(gray, ab)
    assert out.shape == (16, 16, 3)
    lightness = rgb2lab(out / 255.0)[..., 0]
    assert np.abs(lightness - rgb2lab(np.repeat(gray[..., None], 3, 2) / 255.0)[..., 0]).max() < 1.5


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_recombines_too() -> None:
    """A DataLoader worker or any fork after the pool started must not wait on missing threads."""
    import os
    import signal

    pixels = np.zeros((600, 400), np.uint8)
    ab = np.full((2, 3, 3), 20.0, np.float32)
    kernel.recombine_array(pixels, ab, threads=2)  # the pool exists now
    pid = os.fork()
    if pid == 0:  # child: exit 0 only if it finished, killed by the alarm if it hangs
        code = 1
        try:
            signal.alarm(20)
            kernel.recombine_array(pixels, ab, threads=2)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
