"""Hint-conditioned network (Zhang et al. 2017): widening, hint maps, the training-time simulated
user, the engine with and without hints, a short training run and ONNX export. Tiny models only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ml_core.guidance.hint_maps import (
    AB_SCALE,
    hint_maps,
    patch_means,
    sample_patches,
    simulate_hint_maps,
    widen_for_hints,
    with_hint_maps,
)
from ml_core.guidance.hints import Hint
from ml_core.inference.engine import ColorizeOptions, Colorizer
from ml_core.io import paths
from ml_core.modelfiles.modelfile import info_for, load_model, read_info, save_model
from ml_core.models import create
from ml_core.training.synthetic import synthetic_photo, write_synthetic_photos
from ml_core.training.trainer import TrainConfig, Trainer

TINY = dict(width=8, depth=2, stem_stride=2)


def _photo(seed: int = 3, h: int = 48, w: int = 64) -> np.ndarray:
    return synthetic_photo(np.random.default_rng(seed), h, w)


# --------------------------------------------------------------------------- the architecture


def test_existing_configs_are_unchanged_and_hint_models_take_four_channels() -> None:
    plain = create("unet", **TINY)
    assert "hint_input" not in plain.config  # old model files and cards stay byte-for-byte the same
    assert not plain.accepts_hints and plain.in_channels == 1
    assert plain.stem[0][0].weight.shape[1] == 1
    hinted = create("unet", **TINY, hint_input=True)
    assert hinted.config["hint_input"] is True and hinted.accepts_hints and hinted.in_channels == 4
    assert hinted.stem[0][0].weight.shape[1] == 4
    with pytest.raises(ValueError, match="lab"):
        create("unet", **TINY, head="ab", color_space="yuv", hint_input=True)


@pytest.mark.parametrize("head", ["bins313", "ab"])
def test_widened_model_predicts_exactly_what_the_base_did(head: str) -> None:
    torch.manual_seed(0)
    base = create("unet", **TINY, head=head)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so eval mode is tested for real
        for m in base.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    base.eval()
    wide = widen_for_hints(base)
    assert wide.accepts_hints and not wide.training
    assert torch.equal(wide.stem[0][0].weight[:, :1], base.stem[0][0].weight)
    assert torch.count_nonzero(wide.stem[0][0].weight[:, 1:]) == 0
    lum = torch.randn(2, 1, 32, 40)
    maps = simulate_hint_maps(torch.randn(2, 2, 32, 40) * 40, torch.Generator().manual_seed(1))
    maps[:, :, 5:9, 5:9] = torch.tensor([0.5, -0.3, 1.0])[:, None, None]
    with torch.no_grad():
        expected = base(lum)
        assert torch.allclose(wide(with_hint_maps(lum, maps)), expected, atol=1e-6)
        assert torch.allclose(wide(with_hint_maps(lum, torch.zeros_like(maps))), expected, atol=1e-6)
    with pytest.raises(ValueError, match="already"):
        widen_for_hints(wide)


# --------------------------------------------------------------------------- hint maps


def test_hint_maps_land_on_the_right_pixels() -> None:
    h, w = 16, 32
    # centred on pixel (row 4, col 8) with the smallest disc (0.75 px): exactly that pixel
    first = Hint.at(8.5 / w, 4.5 / h, (40.0, -20.0), radius=0.001)
    maps = hint_maps([first], h, w)
    assert maps.shape == (3, h, w)
    assert maps[2].sum() == 1 and maps[2, 4, 8] == 1
    assert maps[0, 4, 8] == pytest.approx(40.0 / AB_SCALE) and maps[1, 4, 8] == pytest.approx(-20.0 / AB_SCALE)
    assert maps[:2].abs().sum() == pytest.approx((40.0 + 20.0) / AB_SCALE)
    # a later hint on the same pixel wins, as the person painted them
    second = Hint.at(8.5 / w, 4.5 / h, (-10.0, 30.0), radius=0.001)
    maps = hint_maps([first, second], h, w)
    assert maps[0, 4, 8] == pytest.approx(-10.0 / AB_SCALE) and maps[1, 4, 8] == pytest.approx(30.0 / AB_SCALE)
    # a bigger radius covers a disc: radius 0.1 of the long side = 3.2 px
    maps = hint_maps([Hint.at(0.5, 0.5, (10.0, 10.0), radius=0.1)], h, w)
    assert 25 <= int(maps[2].sum()) <= 37 and maps[2, 8, 16] == 1 and maps[2, 0, 0] == 0
    assert torch.count_nonzero(hint_maps([], h, w)) == 0


def test_simulated_hint_counts_and_patch_sizes_follow_the_recipe() -> None:
    g = torch.Generator().manual_seed(0)
    live, y0, x0, sy, sx = sample_patches(20_000, 128, 128, g)
    counts = live.sum(1).float()
    # Geometric(1/8) on {0, 1, ...}: mean 7, P(0) = 1/8, P(1) = 7/64
    assert counts.mean().item() == pytest.approx(7.0, abs=0.25)
    assert (counts == 0).float().mean().item() == pytest.approx(1 / 8, abs=0.01)
    assert (counts == 1).float().mean().item() == pytest.approx(7 / 64, abs=0.01)
    sides = sy[live]
    assert torch.equal(sy, sx) and int(sides.min()) == 1 and int(sides.max()) == 9
    assert torch.bincount(sides)[1:].float().div(sides.numel()).sub(1 / 9).abs().max() < 0.01
    assert int((y0 + sy)[live].max()) <= 128 and int((x0 + sx)[live].max()) <= 128 and int(y0.min()) >= 0


def test_simulated_patch_colors_are_the_true_means_and_painted_where_drawn() -> None:
    torch.manual_seed(0)
    ab = torch.randn(6, 2, 24, 30) * 40
    g = torch.Generator().manual_seed(5)
    live, y0, x0, sy, sx = sample_patches(6, 24, 30, g)
    means = patch_means(ab, y0, x0, sy, sx)
    for i, j in live.nonzero().tolist():
        box = ab[i, :, y0[i, j]:y0[i, j] + sy[i, j], x0[i, j]:x0[i, j] + sx[i, j]]
        assert torch.allclose(means[i, :, j], box.mean(dim=(1, 2)), atol=1e-4)
    # the full simulator draws the same patches from the same seed, and paints them
    maps = simulate_hint_maps(ab, torch.Generator().manual_seed(5))
    assert maps.shape == (6, 3, 24, 30)
    for i in range(6):
        covered = torch.zeros(24, 30, dtype=torch.bool)
        last = None
        for j in live[i].nonzero().flatten().tolist():
            covered[y0[i, j]:y0[i, j] + sy[i, j], x0[i, j]:x0[i, j] + sx[i, j]] = True
            last = j
        assert torch.equal(maps[i, 2].bool(), covered)
        assert torch.count_nonzero(maps[i, :2][:, ~covered]) == 0
        if last is not None:  # the last point is painted on top of the others
            y, x = int(y0[i, last]), int(x0[i, last])
            assert torch.allclose(maps[i, :2, y, x] * AB_SCALE, means[i, :, last], atol=1e-4)
    assert torch.equal(maps, simulate_hint_maps(ab, torch.Generator().manual_seed(5)))  # reproducible
    assert not torch.equal(maps, simulate_hint_maps(ab, torch.Generator().manual_seed(6)))


# --------------------------------------------------------------------------- engine


@pytest.fixture
def hint_model_file(tmp_path) -> Path:
    """A hint model whose hint weights are NOT zero (a random init), so hints visibly matter."""
    torch.manual_seed(0)
    model = create("unet", **TINY, head="ab", hint_input=True)  # regression: chroma follows the input directly
    with torch.no_grad():
        model.stem[0][0].weight[:, 1:] *= 20.0
    return save_model(model, tmp_path / "hinted.safetensors", info_for(model, "hinted", 64))


def test_engine_feeds_hints_to_a_hint_model(hint_model_file: Path) -> None:
    loaded = load_model(hint_model_file)
    assert loaded.model.accepts_hints
    colorizer = Colorizer(loaded)
    photo = _photo()
    gray = np.repeat(photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    hints = (Hint.at(0.3, 0.4, (60.0, 40.0), radius=0.05), Hint.at(0.7, 0.6, (-40.0, 50.0), radius=0.05))
    plain = colorizer.colorize(gray)
    # no hints: the net sees zero maps, exactly like a manual forward with zero maps
    assert colorizer.model.input_size_for(*gray.shape[:2], 64) == gray.shape[:2]
    lum = colorizer._lum(gray)
    with torch.no_grad():
        raw = colorizer.model(with_hint_maps(colorizer.model.space.normalize_lum(lum), torch.zeros(1, 3, 48, 64)))
        manual = colorizer.model.decode(raw, colorizer.default_temperature)[0][0]
    assert np.allclose(manual.numpy(), plain.ab, atol=1e-4)
    alone = colorizer.colorize(gray, ColorizeOptions(hints=hints, propagate=False))
    both = colorizer.colorize(gray, ColorizeOptions(hints=hints))
    assert plain.rgb.shape == alone.rgb.shape == both.rgb.shape == gray.shape
    assert np.abs(alone.ab - plain.ab).max() > 1.0  # the network used the hints (a*b* units)
    assert "guide" not in alone.timings and "guide" in both.timings
    assert alone.ab.shape == plain.ab.shape  # model resolution: nothing was propagated
    assert not np.array_equal(both.rgb, alone.rgb)  # propagation pinned the colors on top


def test_plain_models_ignore_hints_without_propagation() -> None:
    torch.manual_seed(0)
    model = create("unet", **TINY)
    path = save_model(model, paths.user_models_dir() / "p.safetensors", info_for(model, "p", 64))
    colorizer = Colorizer(load_model(path))
    gray = _photo()
    hints = (Hint.at(0.5, 0.5, (60.0, 40.0), radius=0.05),)
    plain = colorizer.colorize(gray)
    assert np.array_equal(colorizer.colorize(gray, ColorizeOptions(hints=hints, propagate=False)).rgb, plain.rgb)
    assert not np.array_equal(colorizer.colorize(gray, ColorizeOptions(hints=hints)).rgb, plain.rgb)


def test_suggest_colors_sees_the_other_hints_but_not_the_one_at_the_spot(tmp_path) -> None:
    from ml_core.inference.engine import _hints_away_from

    here = Hint.at(0.5, 0.5, (70.0, 60.0), radius=0.05)
    near = Hint.at(0.505, 0.5, (10.0, 10.0), radius=0.001)  # 0.3 px away, inside the 1 % floor: "at the spot"
    elsewhere = Hint.at(0.1, 0.9, (-60.0, -40.0), radius=0.01)
    assert _hints_away_from((here, near, elsewhere), 0.5, 0.5, 48, 64) == (elsewhere,)
    torch.manual_seed(0)
    model = create("unet", **TINY, hint_input=True)  # classification: suggestions carry probabilities
    with torch.no_grad():
        model.stem[0][0].weight[:, 1:] *= 20.0
    colorizer = Colorizer(load_model(save_model(model, tmp_path / "h.safetensors", info_for(model, "h", 64))))
    gray = _photo()
    plain = colorizer.suggest_colors(gray, 0.5, 0.5)
    at_spot = colorizer.suggest_colors(gray, 0.5, 0.5, ColorizeOptions(hints=(here,)))
    # the spot's own hint is not fed to the net: the distribution is the hint-free one ...
    assert [s.probability for s in at_spot[1:]] == [s.probability for s in plain[1:]]
    # ... while "current" is the color shown there, which the hint pins
    assert at_spot[0].ab == pytest.approx(here.ab, abs=0.5)
    other = colorizer.suggest_colors(gray, 0.5, 0.5, ColorizeOptions(hints=(here, elsewhere)))
    assert [s.probability for s in other[1:]] != [s.probability for s in plain[1:]]


# --------------------------------------------------------------------------- training and export


def test_training_a_tiny_hint_model_from_a_base(tmp_path) -> None:
    photos = tmp_path / "photos"
    write_synthetic_photos(photos, 16, size=(40, 48), seed=7)
    torch.manual_seed(0)
    base = create("unet", **TINY)
    base_info = info_for(base, "base", 64)
    base_info.temperature = 0.55
    base_path = save_model(base, tmp_path / "base.safetensors", base_info)
    cfg = TrainConfig(data=[str(photos)], base=str(base_path), hint_input=True, steps=4, batch_size=4, size=32,
                      lr=3e-3, val_fraction=0.25, output=str(tmp_path / "hinted.safetensors"), workers=0,
                      preview_count=1)
    result = Trainer(cfg).run()
    assert result.status == "completed" and result.model_path is not None
    start, last = result.history[0], result.history[-1]
    # step 0 is the base: with zero hint weights the fixed hint set changes nothing yet
    assert start["epoch"] == 0 and start["hint_val_loss"] == pytest.approx(start["val_loss"], abs=1e-6)
    assert last["hint_val_loss"] != pytest.approx(last["val_loss"], abs=1e-6)  # now the hints matter
    loaded = load_model(result.model_path)
    assert loaded.model.accepts_hints and loaded.info.config["hint_input"] is True
    assert torch.count_nonzero(loaded.model.stem[0][0].weight[:, 1:]) > 0  # simulated hints reached the net
    assert read_info(result.model_path).temperature == 0.55  # the base's calibration carries over
    out = Colorizer(loaded).colorize(_photo(), ColorizeOptions(hints=(Hint.at(0.5, 0.5, (30.0, 30.0)),)))
    assert out.rgb.shape == (48, 64, 3)


def test_cli_flag_builds_a_hint_config() -> None:
    import argparse

    from ml_core.commands import train as train_cmd

    parser = argparse.ArgumentParser()
    train_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["train", "photos", "--base", "default", "--hint-input"])
    cfg = train_cmd._config_from_args(args)
    assert cfg.hint_input and cfg.base == "default" and cfg.name == "default-hints"
    assert not train_cmd._config_from_args(parser.parse_args(["train", "photos", "--base", "default"])).hint_input


def test_onnx_export_of_a_hint_model_takes_four_channels(tmp_path, hint_model_file: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    from ml_core.inference.onnx_export import export_onnx

    model = load_model(hint_model_file).model
    out = export_onnx(model, tmp_path / "hinted.onnx", size=64)
    session = ort.InferenceSession(str(out))
    assert [i.name for i in session.get_inputs()] == ["lum_hints"]
    maps = hint_maps([Hint.at(0.5, 0.5, (50.0, -30.0), 0.05)], 48, 80)[None]
    x = torch.cat((torch.rand(1, 1, 48, 80) - 0.5, maps), 1)
    got = session.run(None, {"lum_hints": x.numpy()})[0]
    with torch.no_grad():
        want = model.decode(model(x), 0.38)[0].numpy()
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-3


def test_hint_select_metric_needs_a_hint_model(tmp_path) -> None:
    from ml_core.training.trainer import TrainError

    photos = tmp_path / "photos"
    write_synthetic_photos(photos, 8, size=(40, 48), seed=2)
    cfg = TrainConfig(data=[str(photos)], arch="unet", arch_config=dict(TINY), steps=1, batch_size=2, size=32,
                      select_metric="hint_psnr", output=str(tmp_path / "m.safetensors"), workers=0)
    with pytest.raises(TrainError, match="hint model"):
        Trainer(cfg).run()
