"""Old prints as model input: training damage (ml_core.training.degrade) and input levels (ml_core.color.levels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ml_core.color.levels import stretch_levels
from ml_core.color.spaces import color_space, rgb_to_lightness
from ml_core.models import create
from ml_core.training.data import PhotoItem, epoch_batches, prepare_batch, source_weights
from ml_core.training.degrade import Damage, damage


def _photo_rgb(path: Path, side: int = 128) -> torch.Tensor:
    img = Image.open(path).convert("RGB").resize((side, side), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.array(img)).permute(2, 0, 1)[None]  # uint8 (1, 3, S, S)


@pytest.fixture
def batch(fixture_photos: list[Path]) -> torch.Tensor:
    return torch.cat([_photo_rgb(p) for p in fixture_photos[:4]])


def test_damage_is_deterministic_per_seed_and_differs_between_seeds(batch: torch.Tensor) -> None:
    lum = rgb_to_lightness(batch.float() / 255.0)
    a = damage(lum, torch.Generator().manual_seed(7), config=Damage(p=1.0))
    b = damage(lum, torch.Generator().manual_seed(7), config=Damage(p=1.0))
    c = damage(lum, torch.Generator().manual_seed(8), config=Damage(p=1.0))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert (a - lum).abs().mean() > 0.5  # every sample was damaged somehow
    assert a.min() >= 0.0 and a.max() <= 100.0


def test_damage_leaves_target_chroma_and_lightness_untouched(batch: torch.Tensor) -> None:
    space = color_space("lab")
    clean_inp, clean_lum, clean_chroma = prepare_batch(batch, None, space)
    inp, lum, chroma = prepare_batch(batch, None, space, torch.Generator().manual_seed(1), Damage(p=1.0))
    assert torch.equal(chroma, clean_chroma)
    assert torch.equal(lum, clean_lum)
    assert not torch.equal(inp, clean_inp)


def test_damage_share_zero_changes_nothing(batch: torch.Tensor) -> None:
    lum = rgb_to_lightness(batch.float() / 255.0)
    assert torch.equal(damage(lum, torch.Generator().manual_seed(3), config=Damage(p=0.0)), lum)


def test_damage_rejects_bad_probabilities() -> None:
    with pytest.raises(ValueError, match="grain"):
        Damage(grain=1.5)


def _faded(lum: torch.Tensor, black: float, white: float) -> torch.Tensor:
    return black + lum * (white - black) / 100.0


def test_levels_map_faded_and_sepia_prints_to_the_neutral_input(fixture_photos: list[Path]) -> None:
    """A sepia-toned, faded print and its neutral full-range original reach the network alike."""
    rgb = _photo_rgb(fixture_photos[0], 192).float() / 255.0
    lum = rgb_to_lightness(rgb)
    space = color_space("lab")
    neutral = stretch_levels(space.normalize_lum(lum))
    # Sepia toning: a brown tint over the same luminance, then fading (lifted blacks, dull whites).
    tint = torch.tensor([1.08, 0.95, 0.78]).view(1, 3, 1, 1)
    sepia = (rgb * tint).clamp(0, 1)
    faded = _faded(rgb_to_lightness(sepia), 22.0, 82.0)
    print_input = stretch_levels(space.normalize_lum(faded))
    raw_gap = (space.normalize_lum(faded) - space.normalize_lum(lum)).abs().mean()
    assert raw_gap > 0.08  # without levels the network would see a very different photo
    assert (print_input - neutral).abs().mean() < 0.03


def test_levels_do_not_blow_up_a_low_key_photo() -> None:
    dark = torch.linspace(-0.5, -0.3, 64 * 64).view(1, 1, 64, 64)  # L 0..20: a night scene
    out = stretch_levels(dark)
    span = out.max() - out.min()
    assert span < 0.55  # gain capped at 2.5, not stretched to the full range
    assert out.min() >= -0.5 and out.max() <= 0.5


def test_unet_with_input_levels_sees_faded_and_full_range_alike(fixture_photos: list[Path]) -> None:
    torch.manual_seed(0)
    model = create("unet", width=8, depth=2, stem_stride=4, input_levels=True).eval()
    assert model.config["input_levels"] is True
    lum = rgb_to_lightness(_photo_rgb(fixture_photos[1]).float() / 255.0)
    space = color_space("lab")
    with torch.inference_mode():
        full = model(space.normalize_lum(lum))
        faded = model(space.normalize_lum(_faded(lum, 20.0, 85.0)))
    assert (full - faded).abs().mean() < 0.1 * full.abs().mean()
    plain = create("unet", width=8, depth=2, stem_stride=4)
    assert "input_levels" not in plain.config  # older model files keep their exact config


def _items(groups: dict[str, int]) -> list[PhotoItem]:
    return [PhotoItem(path=f"/d/{g}/{i}.jpg", rel=f"{g}/{i}.jpg", root="/d", thumb="", width=1, height=1)
            for g, n in groups.items() for i in range(n)]


def test_source_balance_evens_out_sources() -> None:
    items = _items({"big": 900, "small": 100})
    assert source_weights(items, 0.0) is None
    weights = source_weights(items, 1.0)
    batches = epoch_batches(len(items), 50, seed=0, epoch=0, weights=weights)
    drawn = [i for b in batches for _, i in b]
    share_small = sum(i >= 900 for i in drawn) / len(drawn)
    assert 0.45 < share_small < 0.55  # each source half the draws
    again = epoch_batches(len(items), 50, seed=0, epoch=0, weights=weights)
    assert again == batches  # a resumed run draws the same
    sqrt_share = sum(w for w, it in zip(source_weights(items, 0.5), items) if it.group == "d/small")
    total = sum(source_weights(items, 0.5))
    assert sqrt_share / total == pytest.approx(10 / 40)  # √100 / (√900 + √100)
    with pytest.raises(ValueError):
        source_weights(items, 1.5)
