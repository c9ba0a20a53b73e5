"""Hints and reference photos through the engine, the batch exporter and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from model_helpers import write_tiny_model
from PIL import Image
from skimage.color import rgb2lab

from ml_core.cli import main
from ml_core.guidance.hints import Hint
from ml_core.guidance.reference import ReferencePalette
from ml_core.inference.batch import ExportSettings, colorize_files
from ml_core.inference.engine import ColorizeOptions, Colorizer
from ml_core.modelfiles.modelfile import LoadedModel, info_for
from ml_core.models import create

RED = (60.0, 45.0)


def make_colorizer() -> Colorizer:
    torch.manual_seed(0)
    model = create("unet", width=8, depth=2, stem_stride=2, head="bins313").eval()
    return Colorizer(LoadedModel(model=model, info=info_for(model, "test", work_size=128)))


def two_region_photo(height: int = 900, width: int = 1200) -> np.ndarray:
    """A gray photo: a darker left half and a brighter right half, with texture."""
    rng = np.random.default_rng(0)
    img = np.full((height, width), 90.0)
    img[:, width // 2:] = 190.0
    img += rng.normal(0, 3, img.shape)
    return img.clip(0, 255).astype(np.uint8)


def ab_at(rgb: np.ndarray, region: tuple[slice, slice]) -> np.ndarray:
    return rgb2lab(rgb[region])[..., 1:].reshape(-1, 2).mean(axis=0)


def test_a_hint_recolors_its_region_at_full_resolution() -> None:
    colorizer = make_colorizer()
    photo = two_region_photo()
    plain = colorizer.colorize(photo).rgb
    guided = colorizer.colorize(photo, ColorizeOptions(hints=(Hint.at(0.25, 0.5, RED),)))
    assert guided.rgb.shape == (900, 1200, 3) and "guide" in guided.timings
    left = (slice(100, 800), slice(50, 550))
    right = (slice(100, 800), slice(650, 1150))
    assert np.abs(ab_at(guided.rgb, left) - RED).max() < 6.0
    assert np.abs(ab_at(plain, left) - RED).max() > 20.0
    # the other side of the edge keeps (about) the model's colors
    assert np.abs(ab_at(guided.rgb, right) - ab_at(plain, right)).max() < 8.0
    # lightness is the photo's, hints or not
    assert np.abs(rgb2lab(guided.rgb)[..., 0] - rgb2lab(np.repeat(photo[..., None], 3, 2))[..., 0]).max() < 1.0


def test_preview_and_full_resolution_agree() -> None:
    colorizer = make_colorizer()
    photo = two_region_photo()
    options = ColorizeOptions(hints=(Hint.at(0.25, 0.5, RED), Hint.at(0.8, 0.3, (-20.0, -30.0))))
    full = colorizer.colorize(photo, options).rgb
    preview = colorizer.colorize(photo, ColorizeOptions(hints=options.hints, output_max_side=400)).rgb
    small_full = np.asarray(Image.fromarray(full).resize(preview.shape[1::-1], Image.Resampling.BOX))
    assert np.abs(rgb2lab(small_full)[..., 1:] - rgb2lab(preview)[..., 1:]).mean() < 2.0


def test_hints_survive_export_at_full_resolution(tmp_path) -> None:
    colorizer = make_colorizer()
    src = tmp_path / "in"
    src.mkdir()
    photos = []
    for name in ("a.png", "b.png"):
        Image.fromarray(two_region_photo()).save(src / name)
        photos.append(src / name)
    hinted = {photos[0]: ColorizeOptions(hints=(Hint.at(0.25, 0.5, RED),))}
    settings = ExportSettings(tmp_path / "out", fmt="png")
    outcomes = colorize_files(colorizer, photos, settings, options_for=hinted.get)
    assert all(o.ok for o in outcomes)
    with_hint = np.asarray(Image.open(outcomes[0].output).convert("RGB"))
    without = np.asarray(Image.open(outcomes[1].output).convert("RGB"))
    assert with_hint.shape == (900, 1200, 3)
    left = (slice(100, 800), slice(50, 550))
    assert np.abs(ab_at(with_hint, left) - RED).max() < 6.0
    assert np.abs(ab_at(without, left) - RED).max() > 20.0


def colorful_reference(tmp_path) -> tuple[ReferencePalette, np.ndarray]:
    """A teal-and-blue 'photo' with light and dark parts, far from any model's default colors."""
    rng = np.random.default_rng(1)
    ref = np.zeros((240, 320, 3), dtype=np.uint8)
    ref[:, :160] = (20, 90, 160)
    ref[:, 160:] = (120, 210, 220)
    ref = (ref + rng.normal(0, 4, ref.shape)).clip(0, 255).astype(np.uint8)
    path = tmp_path / "reference.png"
    Image.fromarray(ref).save(path)
    return ReferencePalette.from_file(path), ref


def test_reference_moves_mean_ab_toward_the_reference(tmp_path) -> None:
    colorizer = make_colorizer()
    palette, ref = colorful_reference(tmp_path)
    target = np.asarray(ab_at(ref, (slice(None), slice(None))))
    photo = two_region_photo(300, 400)
    plain = ab_at(colorizer.colorize(photo).rgb, (slice(None), slice(None)))
    dist = {}
    for strength in (0.5, 1.0):
        out = colorizer.colorize(photo, ColorizeOptions(reference=palette, reference_strength=strength)).rgb
        dist[strength] = np.linalg.norm(ab_at(out, (slice(None), slice(None))) - target)
    d0 = np.linalg.norm(plain - target)
    assert dist[1.0] < 0.35 * d0
    assert dist[1.0] < dist[0.5] < d0  # the strength slider means something


def test_reference_matches_by_lightness(tmp_path) -> None:
    """Dark parts of the gray photo take the reference's dark color, bright parts its bright one."""
    colorizer = make_colorizer()
    palette, ref = colorful_reference(tmp_path)
    out = colorizer.colorize(two_region_photo(300, 400), ColorizeOptions(reference=palette)).rgb
    dark, bright = ab_at(out, (slice(20, 280), slice(20, 180))), ab_at(out, (slice(20, 280), slice(220, 380)))
    ref_dark, ref_bright = ab_at(ref, (slice(None), slice(0, 160))), ab_at(ref, (slice(None), slice(160, 320)))
    assert np.linalg.norm(dark - ref_dark) < np.linalg.norm(dark - ref_bright)
    assert np.linalg.norm(bright - ref_bright) < np.linalg.norm(bright - ref_dark)


def test_gray_reference_is_refused_with_its_name(tmp_path) -> None:
    path = tmp_path / "gray_ref.png"
    Image.fromarray(two_region_photo(50, 60)).convert("RGB").save(path)
    with pytest.raises(ValueError, match="gray_ref.png.*(color|no color)"):
        ReferencePalette.from_file(path)


def test_palette_suggestions_come_from_the_model() -> None:
    colorizer = make_colorizer()
    out = colorizer.suggest_colors(two_region_photo(120, 160), 0.3, 0.5, count=5)
    assert out[0].label == "current" and 2 <= len(out) <= 5
    probs = [s.probability for s in out[1:]]
    assert all(p is not None and 0 < p <= 1 for p in probs) and probs == sorted(probs, reverse=True)


@pytest.fixture
def tiny_model() -> str:
    return write_tiny_model(work_size=128)


def test_cli_hints_and_reference(tmp_path, tiny_model) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(two_region_photo(300, 400)).save(photo)
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps({"units": "pixels", "hints": [{"x": 100, "y": 150, "ab": list(RED)}]}))
    code = main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model", tiny_model, "--hints", str(hints),
                 "--quiet"])
    assert code == 0
    out = np.asarray(Image.open(tmp_path / "out" / "photo_color.png").convert("RGB"))
    assert np.abs(ab_at(out, (slice(50, 250), slice(20, 180))) - RED).max() < 6.0
    _, ref = colorful_reference(tmp_path)
    code = main(["colorize", str(photo), "-o", str(tmp_path / "out2"), "--model", tiny_model,
                 "--reference", str(tmp_path / "reference.png"), "--quiet"])
    assert code == 0
    out2 = np.asarray(Image.open(tmp_path / "out2" / "photo_color.png").convert("RGB"))
    target = ab_at(ref, (slice(None), slice(None)))
    assert np.linalg.norm(ab_at(out2, (slice(None), slice(None))) - target) < 15.0


def test_cli_bad_hints_fail_before_any_photo_is_written(tmp_path, tiny_model, capsys) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(two_region_photo(60, 80)).save(photo)
    hints = tmp_path / "hints.json"
    hints.write_text('{"hints": [{"x": 0.5, "y": 0.5, "color": "blue"}]}')
    code = main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model", tiny_model, "--hints", str(hints),
                 "--quiet"])
    assert code == 2
    assert "hints.json" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    code = main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model", tiny_model,
                 "--reference", str(tmp_path / "missing.jpg"), "--quiet"])
    assert code == 2 and "missing.jpg" in capsys.readouterr().err


def test_the_current_suggestion_is_the_guided_color_when_hints_exist() -> None:
    """A second click inside a region a hint already colored must offer that color first."""
    colorizer = make_colorizer()
    photo = two_region_photo(120, 160)
    # a spot in the hint's region within its reach (through texture a hint's pull falls off with distance)
    plain = colorizer.suggest_colors(photo, 0.2, 0.5)[0].ab
    guided = colorizer.suggest_colors(photo, 0.2, 0.5, ColorizeOptions(hints=(Hint.at(0.3, 0.3, RED),)))[0].ab
    assert np.abs(np.subtract(guided, RED)).max() < 5.0
    assert np.abs(np.subtract(plain, RED)).max() > 20.0
