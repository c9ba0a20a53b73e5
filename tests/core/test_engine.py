"""The engine keeps the photo's size and lightness, whatever the model, input type or options."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from skimage.color import rgb2lab

from ml_core.cancel import Cancelled, CancelToken
from ml_core.inference.engine import ColorizeOptions, Colorizer, recombine
from ml_core.modelfiles.modelfile import LoadedModel, info_for
from ml_core.models import create


def colorizer_for(arch: str = "unet", **config) -> Colorizer:
    torch.manual_seed(0)
    model = create(arch, **config)
    with torch.no_grad():  # random weights, but enough chroma to exercise the gamut mapping
        for p in model.parameters():
            p.mul_(1.5)
    model.eval()
    return Colorizer(LoadedModel(model=model, info=info_for(model, "test", work_size=128)))


def lightness(rgb: np.ndarray) -> np.ndarray:
    data = rgb.astype(np.float64) / (65535.0 if rgb.dtype == np.uint16 else 255.0)
    if data.ndim == 2:
        data = np.repeat(data[..., None], 3, axis=2)
    return rgb2lab(data)[..., 0]


def test_recombine_with_true_chroma_reproduces_the_photo() -> None:
    rng = np.random.default_rng(1)
    img = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    ab = torch.from_numpy(rgb2lab(img)[..., 1:].transpose(2, 0, 1).copy()).float()
    out = recombine(img, ab)
    assert np.abs(out.astype(int) - img).max() <= 1


def test_recombine_keeps_lightness_under_extreme_chroma() -> None:
    rng = np.random.default_rng(2)
    gray = (rng.random((40, 50)) * 255).astype(np.uint8)
    ab = torch.from_numpy(rng.normal(0, 80, (2, 5, 7))).float()  # far outside the gamut
    out = recombine(gray, ab)
    assert np.abs(lightness(out) - lightness(gray)).max() < 1.0
    assert out.std(axis=2).mean() > 5  # and it really is colored


def test_recombine_sixteen_bit_stays_sixteen_bit() -> None:
    rng = np.random.default_rng(3)
    img = (rng.random((20, 30, 3)) * 65535).astype(np.uint16)
    ab = torch.from_numpy(rgb2lab(img / 65535.0)[..., 1:].transpose(2, 0, 1).copy()).float()
    out = recombine(img, ab)
    assert out.dtype == np.uint16
    assert np.abs(out.astype(int) - img).max() <= 2


@pytest.mark.parametrize(
    "arch,config",
    [
        ("unet", {"width": 8, "head": "bins313"}),
        ("unet", {"width": 8, "head": "ab"}),
        ("unet", {"width": 8, "head": "bins_per_channel", "color_space": "yuv"}),
        ("eccv16", {"width": 0.125}),
        ("fusion", {"width": 0.125}),
        ("vgg_chroma", {"width": 0.125}),
    ],
)
@pytest.mark.parametrize("shape", [(37, 53), (90, 40, 3)])
def test_every_family_keeps_size_and_lightness(arch: str, config: dict, shape: tuple) -> None:
    colorizer = colorizer_for(arch, **config)
    rng = np.random.default_rng(4)
    pixels = (rng.random(shape) * 255).astype(np.uint8)
    result = colorizer.colorize(pixels)
    assert result.rgb.shape == (*shape[:2], 3)
    assert result.rgb.dtype == np.uint8
    assert np.abs(lightness(result.rgb) - lightness(pixels)).max() < 1.0
    if colorizer.has_confidence:
        assert result.confidence is not None
        assert 0.0 <= result.confidence.min() and result.confidence.max() <= 1.0
    else:
        assert result.confidence is None


def test_options_saturation_work_size_and_preview_size() -> None:
    colorizer = colorizer_for("unet", width=8)
    pixels = (np.random.default_rng(5).random((120, 200)) * 255).astype(np.uint8)
    base = colorizer.colorize(pixels)
    gray = colorizer.colorize(pixels, ColorizeOptions(saturation=0.0))
    assert np.abs(gray.rgb.astype(int) - pixels[..., None]).max() <= 1
    more = colorizer.colorize(pixels, ColorizeOptions(saturation=2.0))
    assert np.abs(more.ab).mean() > np.abs(base.ab).mean() * 1.9
    small = colorizer.colorize(pixels, ColorizeOptions(work_size=64))
    assert max(small.model_size) == 64
    preview = colorizer.colorize(pixels, ColorizeOptions(output_max_side=100))
    assert preview.rgb.shape == (60, 100, 3)
    vivid = colorizer.colorize(pixels, ColorizeOptions(temperature=0.1))
    assert np.abs(vivid.ab).mean() > np.abs(colorizer.colorize(pixels, ColorizeOptions(temperature=1.0)).ab).mean()


def test_color_input_is_recolored_from_its_lightness() -> None:
    colorizer = colorizer_for("unet", width=8)
    rng = np.random.default_rng(6)
    gray = (rng.random((64, 64)) * 255).astype(np.uint8)
    sepia = np.stack([gray, (gray * 0.85).astype(np.uint8), (gray * 0.6).astype(np.uint8)], axis=2)
    a = colorizer.colorize(sepia)
    assert a.rgb.shape == sepia.shape
    assert np.abs(lightness(a.rgb) - lightness(sepia)).max() < 1.0


def test_cancel_stops_colorize() -> None:
    colorizer = colorizer_for("unet", width=8)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        colorizer.colorize(np.zeros((64, 64), np.uint8), cancel=token)


def test_concurrent_calls_are_safe_and_deterministic() -> None:
    colorizer = colorizer_for("unet", width=8)
    pixels = (np.random.default_rng(7).random((64, 96)) * 255).astype(np.uint8)
    expected = colorizer.colorize(pixels).rgb
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(colorizer.colorize(pixels).rgb)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    assert all(np.array_equal(r, expected) for r in results)


def test_the_model_files_calibrated_temperature_is_the_default() -> None:
    colorizer = colorizer_for("unet", width=8)
    pixels = (np.random.default_rng(8).random((64, 64)) * 255).astype(np.uint8)
    library_default = colorizer.colorize(pixels).ab
    colorizer.info.temperature = 0.9
    calibrated = colorizer.colorize(pixels).ab
    assert np.abs(calibrated).mean() < np.abs(library_default).mean()
    explicit = colorizer.colorize(pixels, ColorizeOptions(temperature=0.38)).ab
    assert np.allclose(explicit, library_default)
