import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.color import lab2rgb, rgb2lab, rgb2yuv, yuv2rgb

from ml_core.color.spaces import (
    LAB,
    YUV,
    chroma_to_ab,
    gray_to_lightness,
    lab_to_rgb,
    rgb_to_lab,
    rgb_to_lightness,
    rgb_to_yuv,
    yuv_to_rgb,
)

EDGE_COLORS = np.array(
    [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1],
     [0.5, 0.5, 0.5], [0.04045, 0.04045, 0.04045], [0.04, 0.0, 0.05], [1e-4, 0, 0], [0.999, 1, 0.001]],
    dtype=np.float64,
)
unit_rgb = arrays(np.float64, (4, 5, 3), elements=st.floats(0.0, 1.0, allow_nan=False))


def to_torch(hwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(hwc.transpose(2, 0, 1).copy()).float()


def to_numpy(chw: torch.Tensor) -> np.ndarray:
    return chw.double().numpy().transpose(1, 2, 0)


def delta_e(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    return np.sqrt(((lab1 - lab2) ** 2).sum(-1))


@settings(max_examples=60, deadline=None)
@given(unit_rgb)
def test_rgb_to_lab_matches_skimage(rgb: np.ndarray) -> None:
    ours = to_numpy(rgb_to_lab(to_torch(rgb)))
    assert delta_e(ours, rgb2lab(rgb)).max() < 0.05


def test_edge_colors_match_skimage() -> None:
    rgb = EDGE_COLORS[None]
    ours = to_numpy(rgb_to_lab(to_torch(rgb)))
    assert delta_e(ours, rgb2lab(rgb)).max() < 0.05
    back = to_numpy(lab_to_rgb(to_torch(rgb2lab(rgb))))
    assert np.abs(back - lab2rgb(rgb2lab(rgb))).max() < 1e-3


@settings(max_examples=60, deadline=None)
@given(unit_rgb)
def test_lab_round_trip_and_lab2rgb_agree(rgb: np.ndarray) -> None:
    lab = rgb2lab(rgb)
    ours = to_numpy(lab_to_rgb(to_torch(lab)))
    assert delta_e(rgb2lab(np.clip(ours, 0, 1)), lab).max() < 0.05
    assert np.abs(ours - lab2rgb(lab)).max() < 1e-3


@settings(max_examples=30, deadline=None)
@given(
    st.floats(0, 100),
    st.floats(-128, 127),
    st.floats(-128, 127),
)
def test_out_of_gamut_lab_clips_like_skimage(L: float, a: float, b: float) -> None:
    lab = np.array([[[L, a, b]]])
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = lab2rgb(lab)
    ours = to_numpy(lab_to_rgb(to_torch(lab)))
    assert np.abs(ours - expected).max() < 2e-3


def test_batched_shapes_and_lightness_helpers() -> None:
    rgb = torch.rand(2, 3, 7, 9)
    lab = rgb_to_lab(rgb)
    assert lab.shape == rgb.shape
    assert torch.allclose(rgb_to_lightness(rgb), lab[:, :1], atol=1e-3)
    gray = torch.rand(5, 6)
    expected = rgb_to_lab(gray.expand(3, 5, 6))[0]
    assert torch.allclose(gray_to_lightness(gray), expected, atol=1e-3)


@settings(max_examples=40, deadline=None)
@given(unit_rgb)
def test_yuv_matches_skimage_and_round_trips(rgb: np.ndarray) -> None:
    ours = to_numpy(rgb_to_yuv(to_torch(rgb)))
    assert np.abs(ours - rgb2yuv(rgb)).max() < 1e-5
    back = to_numpy(yuv_to_rgb(to_torch(rgb2yuv(rgb))))
    assert np.abs(back - np.clip(yuv2rgb(rgb2yuv(rgb)), 0, 1)).max() < 1e-5


@pytest.mark.parametrize("space", [LAB, YUV])
def test_color_space_split_merge_and_normalization(space) -> None:
    rgb = torch.rand(1, 3, 8, 8)
    lum, chroma = space.split(rgb)
    assert torch.allclose(space.merge(lum, chroma), rgb, atol=1e-4)
    assert torch.allclose(space.denormalize_chroma(space.normalize_chroma(chroma)), chroma, atol=1e-5)
    assert space.normalize_lum(lum).abs().max() <= 0.51
    assert torch.allclose(chroma_to_ab(space, lum, chroma), rgb_to_lab(rgb)[:, 1:], atol=0.05)
