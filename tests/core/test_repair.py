"""The repair step (ml_core.repair): damage found and filled, real structure and clean photos left alone."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from ml_core.repair import (
    RepairSettings,
    damage_mask,
    lightness_from_pixels,
    pixels_from_lightness,
    repair_lightness,
    repair_pixels,
)
from ml_core.training.degrade import Damage, damage, graded_damage

SCRATCHES_ONLY = RepairSettings.only("scratches")


def gradient(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    """A smooth diagonal gradient, L* 25..75, with a little grain (std 0.5 L*) as a real print has."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    return 25 + 50 * (0.6 * xx / w + 0.4 * yy / h) + rng.normal(0, 0.5, (h, w)).astype(np.float32)


def draw_line(lum: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], value: float, width: int = 1) -> np.ndarray:
    """`lum` with an anti-aliased line of `value` (L*) from p0 to p1 (x, y), as a scan shows one;
    returns the bool mask of the pixels it changed."""
    cover = np.zeros(lum.shape, np.uint8)
    cv2.line(cover, p0, p1, 255, width, cv2.LINE_AA)
    alpha = cover.astype(np.float32) / 255
    lum += alpha * (value - lum)
    return alpha > 0.02


def test_scratch_and_dust_on_a_gradient_are_found_and_filled_within_a_few_levels() -> None:
    clean = gradient()
    damaged = clean.copy()
    scratch = draw_line(damaged, (150, 5), (172, 235), 95.0, 2)  # bright, slightly oblique, full height
    dark = draw_line(damaged, (20, 200), (300, 170), 8.0, 1)  # dark, nearly horizontal
    speck = np.zeros(clean.shape, np.uint8)
    cv2.circle(speck, (60, 60), 2, 1, -1)
    damaged[speck > 0] = 98.0
    result = repair_lightness(damaged, SCRATCHES_ONLY)
    for name, where in (("bright scratch", scratch), ("dark scratch", dark), ("dust speck", speck > 0)):
        assert result.mask[where].mean() > 0.95, f"{name}: only {result.mask[where].mean():.0%} masked"
        error = np.abs(result.lightness[where] - clean[where])
        # 8-bit gray codes are ~0.4 L* apart in mid-tones: 2 L* is about 5 levels at worst, 2 on average.
        assert error.max() < 2.5 and error.mean() < 1.0, \
            f"{name}: filled {error.max():.2f} L* off (mean {error.mean():.2f})"
    damage_px = scratch | dark | (speck > 0)
    near = cv2.dilate(damage_px.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0  # 4 px: soft ends and edges
    assert not result.mask[~near].any(), "pixels away from the damage were masked"
    assert np.array_equal(result.lightness[~result.mask], damaged[~result.mask])


def test_thin_real_lines_are_not_masked() -> None:
    """An object's drawn outline separates two tones (a scratch lies on one); a small closed curve (a
    ring, an eye's outline) is no scratch."""
    lum = gradient(seed=1) * 0 + 70.0 + np.random.default_rng(1).normal(0, 0.5, (240, 320)).astype(np.float32)
    lum[60:180, 80:240] = 35.0  # a dark object on a light background ...
    outline = np.zeros(lum.shape, np.uint8)
    cv2.rectangle(outline, (80, 60), (239, 179), 1, 1)  # ... drawn with a thin black outline
    lum[outline > 0] = 5.0
    cover = np.zeros(lum.shape, np.uint8)
    cv2.circle(cover, (40, 200), 30, 255, 1, cv2.LINE_AA)  # a thin curved line: long, but not straight
    lum += cover / 255 * (10.0 - lum)
    ring = cover > 128
    mask = damage_mask(lum, RepairSettings(scratches_strength=1.0))  # even at the highest sensitivity
    assert mask[outline > 0].mean() < 0.02, f"{mask[outline > 0].mean():.0%} of the outline masked"
    assert mask[ring > 0].mean() < 0.02, f"{mask[ring > 0].mean():.0%} of the curve masked"


def draw_arc(lum: np.ndarray, center: tuple[int, int], radius: int, start: float, end: float, value: float,
             width: int = 2) -> np.ndarray:
    """`lum` with an anti-aliased circular arc (degrees, OpenCV's convention) of `value`; returns
    the bool mask of the pixels it changed."""
    cover = np.zeros(lum.shape, np.uint8)
    cv2.ellipse(cover, center, (radius, radius), 0, start, end, 255, width, cv2.LINE_AA)
    alpha = cover.astype(np.float32) / 255
    lum += alpha * (value - lum)
    return alpha > 0.02


def assert_found_and_filled(result, clean: np.ndarray, damage: dict[str, np.ndarray],
                            unfilled: np.ndarray | None = None) -> None:
    """Each damage fully masked, filled within a few gray levels (except in `unfilled`: the fill
    averages its surroundings, so it blurs a tone edge a scratch crosses), nothing masked away from it."""
    for name, where in damage.items():
        assert result.mask[where].mean() > 0.95, f"{name}: only {result.mask[where].mean():.0%} masked"
        judged = where if unfilled is None else where & ~unfilled
        error = np.abs(result.lightness[judged] - clean[judged])
        assert error.max() < 2.5 and error.mean() < 1.0, \
            f"{name}: filled {error.max():.2f} L* off (mean {error.mean():.2f})"
    hit = np.logical_or.reduce(list(damage.values()))
    near = cv2.dilate(hit.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert not result.mask[~near].any(), "pixels away from the damage were masked"


def test_curved_cracks_on_a_gradient_are_found_and_filled_within_a_few_levels() -> None:
    """A crack that bends (here arcs of 150 and 200 px radius, 60° and 50°) is not one straight
    feature; it is found as its gently turning straight parts and then taken whole."""
    clean = gradient(300, 400, seed=5)
    damaged = clean.copy()
    bright = draw_arc(damaged, (200, 300), 150, 240, 300, 92.0)
    dark = draw_arc(damaged, (210, -120), 200, 65, 115, 6.0)
    assert_found_and_filled(repair_lightness(damaged, SCRATCHES_ONLY), clean,
                            {"bright crack": bright, "dark crack": dark})


def test_crossing_scratches_and_a_scratch_over_a_tone_edge_are_found_whole() -> None:
    """Two crossing scratches form one X-shaped feature (split by orientation); a scratch running
    from a light area into a darker one has different sides where it crosses the edge and is
    followed along its axis there."""
    clean = gradient(300, 400, seed=6)
    clean[:, 250:] -= 20.0  # a tone edge
    damaged = clean.copy()
    first = draw_line(damaged, (40, 20), (230, 280), 92.0, 2)
    second = draw_line(damaged, (60, 270), (220, 30), 92.0, 2)
    across = draw_line(damaged, (200, 150), (390, 200), 8.0, 2)  # dark, crosses the edge at x=250
    edge = np.zeros(clean.shape, bool)
    edge[:, 244:256] = True
    assert_found_and_filled(repair_lightness(damaged, SCRATCHES_ONLY), clean,
                            {"first of the X": first, "second of the X": second, "across the edge": across}, edge)


def test_a_thin_outline_crossed_by_a_scratch_is_not_followed() -> None:
    """Following a scratch along its axis takes only pixels oriented like it: an outline it crosses
    (a thin dark line between two tones) stays unmasked beyond the crossing."""
    lum = np.full((300, 400), 60.0, np.float32) + np.random.default_rng(9).normal(0, 0.5, (300, 400)).astype(np.float32)
    lum[150:] -= 20.0
    outline = np.zeros(lum.shape, bool)
    outline[150, :] = True
    lum[outline] = 10.0
    scratch = draw_line(lum, (180, 5), (215, 295), 95.0, 2)
    mask = damage_mask(lum, RepairSettings.only("scratches"))
    assert mask[scratch].mean() > 0.9, f"the scratch: only {mask[scratch].mean():.0%} masked"
    away = outline & (np.abs(np.arange(400) - 197)[None, :] > 12)
    assert mask[away].mean() < 0.02, f"{mask[away].mean():.0%} of the outline masked"


@pytest.mark.parametrize("shape,dtype", [((1, 1), np.uint8), ((3, 500), np.uint8), ((37, 23, 3), np.uint8),
                                          ((121, 80, 3), np.uint16), ((64, 64), np.uint16)])
def test_size_and_bit_depth_never_change(shape: tuple[int, ...], dtype) -> None:
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)
    for keep_tint in (False, True):
        out, result = repair_pixels(pixels, RepairSettings(remove_tint=not keep_tint))
        assert out.dtype == dtype
        assert out.shape[:2] == pixels.shape[:2] and result.mask.shape == pixels.shape[:2]
        assert out.shape == (pixels.shape if keep_tint else pixels.shape[:2])


@pytest.mark.parametrize("value", [0, 1, 90, 128, 254, 255])
def test_undamaged_flat_photo_is_unchanged_within_one_level(value: int) -> None:
    for dtype, scale in ((np.uint8, 1), (np.uint16, 257)):
        pixels = np.full((90, 130), value * scale, dtype)
        for strength in (0.0, 0.5, 1.0):
            settings = RepairSettings(scratches_strength=strength, grain_strength=strength, fading_strength=strength)
            out, result = repair_pixels(pixels, settings)
            assert not result.mask.any()
            assert np.abs(out.astype(np.int64) - pixels).max() <= scale, (dtype, value, strength)


def test_lightness_round_trips_through_gray_pixels_exactly() -> None:
    for dtype in (np.uint8, np.uint16):
        codes = np.arange(np.iinfo(dtype).max + 1, dtype=dtype).reshape(1, -1)
        assert np.array_equal(pixels_from_lightness(lightness_from_pixels(codes), dtype), codes)


def test_gray_codes_from_lightness_are_the_nearest_codes_for_any_value() -> None:
    """The table lookup in pixels_from_lightness gives what a binary search over the code edges
    gives, also exactly on, just above and just below every edge, out of range, and for NaN/inf."""
    from ml_core.repair.convert import _code_edges

    rng = np.random.default_rng(7)
    for dtype in (np.uint8, np.uint16):
        edges = _code_edges(np.dtype(dtype))
        values = np.concatenate([
            rng.uniform(-5, 105, 200_000).astype(np.float32), edges,
            np.nextafter(edges, np.float32(np.inf)), np.nextafter(edges, np.float32(-np.inf)),
            np.float32([0, 100, -1e9, 1e9, 3e38, np.inf, -np.inf, np.nan]),
        ]).astype(np.float32)
        expected = np.searchsorted(edges, values).astype(dtype)
        assert np.array_equal(pixels_from_lightness(values.reshape(1, -1), dtype)[0], expected), dtype


def test_grain_is_reduced_and_levels_restored_on_a_faded_grainy_print() -> None:
    clean = gradient(seed=3)
    faded = 25 + 0.5 * clean + np.random.default_rng(3).normal(0, 2.5, clean.shape).astype(np.float32)

    def grain(x: np.ndarray) -> float:
        return float((x - cv2.GaussianBlur(x, (0, 0), 3)).std())

    smoothed = repair_lightness(faded, RepairSettings.only("grain")).lightness
    assert grain(smoothed) < 0.6 * grain(faded)
    assert np.abs(cv2.GaussianBlur(smoothed, (0, 0), 3) - cv2.GaussianBlur(faded, (0, 0), 3)).max() < 1.0
    levelled = repair_lightness(faded, RepairSettings.only("fading")).lightness
    assert np.ptp(np.percentile(levelled, [1, 99])) > 1.2 * np.ptp(np.percentile(faded, [1, 99]))


def test_every_tool_off_changes_nothing_and_the_input_is_not_modified() -> None:
    lum = gradient(seed=4)
    before = lum.copy()
    off = RepairSettings(scratches=False, grain=False, fading=False)
    assert not off.any_enabled
    assert np.array_equal(repair_lightness(lum, off).lightness, np.clip(lum, 0, 100))
    repair_lightness(lum, RepairSettings())
    assert np.array_equal(lum, before)


@pytest.mark.parametrize("kwargs,needle", [
    ({"grain_strength": 1.5}, "grain_strength"),
    ({"scratches_strength": -0.1}, "scratches_strength"),
    ({"fading_strength": math.nan}, "fading_strength"),
    ({"fading_strength": "0.5"}, "fading_strength"),
    ({"grain_strength": True}, "grain_strength"),
    ({"scratches": "yes"}, "scratches"),
    ({"remove_tint": 1}, "remove_tint"),
])
def test_bad_settings_are_refused_naming_the_option(kwargs: dict, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        RepairSettings(**kwargs)


def test_tool_lists_and_saved_settings_are_checked() -> None:
    assert RepairSettings.only("grain, fading") == RepairSettings(scratches=False)
    assert RepairSettings.only(["scratches"], 0.8).scratches_strength == 0.8
    with pytest.raises(ValueError, match="unknown repair tool 'scratch'.*scratches, grain, fading"):
        RepairSettings.only("scratch")
    with pytest.raises(ValueError, match="no repair tool"):
        RepairSettings.only(" , ")
    assert RepairSettings.from_dict(RepairSettings(grain=False).as_dict()) == RepairSettings(grain=False)
    with pytest.raises(ValueError, match="unknown repair setting 'colour'"):
        RepairSettings.from_dict({"colour": True})
    with pytest.raises(ValueError, match="H×W"):
        repair_lightness(np.zeros((4, 4, 3), np.float32), RepairSettings())


def test_graded_damage_marks_what_it_changed_and_leaves_damage_alone() -> None:
    lum = torch.from_numpy(gradient(seed=5))[None, None]
    light, light_mask = graded_damage(lum, torch.Generator().manual_seed(0), "light", ("scratches",))
    heavy, heavy_mask = graded_damage(lum, torch.Generator().manual_seed(0), "heavy", ("scratches",))
    assert light_mask.any() and not (light_mask & ~heavy_mask).any()  # same shapes, stronger
    assert (heavy - lum).abs()[heavy_mask].mean() > (light - lum).abs()[light_mask].mean()
    assert (light - lum).abs()[~light_mask].max() <= 1.0  # the mask is every change over 1 % of the range
    with pytest.raises(ValueError, match="severity"):
        graded_damage(lum, torch.Generator(), "extreme")
    # damage(), which training draws from, is still a pure function of its generator.
    a = damage(lum, torch.Generator().manual_seed(7), config=Damage(p=1.0))
    b = damage(lum, torch.Generator().manual_seed(7), config=Damage(p=1.0))
    assert torch.equal(a, b)


# ---------------------------------------------------------------------------------------------
# The command line: `chroma repair` and `chroma colorize --repair`

def _write_damaged(path, seed: int = 0, rgb: bool = False) -> np.ndarray:
    lum = gradient(120, 160, seed)
    draw_line(lum, (70, 0), (80, 119), 95.0, 2)
    gray = pixels_from_lightness(lum)
    pixels = np.stack([gray, (gray * 0.9).astype(np.uint8), (gray * 0.7).astype(np.uint8)], -1) if rgb else gray
    from PIL import Image

    Image.fromarray(pixels).save(path)
    return pixels


def test_chroma_repair_writes_gray_outputs_and_never_touches_originals(tmp_path, capsys) -> None:
    from PIL import Image

    from ml_core.cli import main

    src = tmp_path / "in"
    src.mkdir()
    _write_damaged(src / "a.png")
    _write_damaged(src / "b.png", seed=1, rgb=True)
    (src / "broken.png").write_bytes(b"not a photo")
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    out = tmp_path / "out"
    code = main(["repair", str(src), "-o", str(out), "--quiet"])
    assert code == 1  # one bad file: reported, the others done
    assert "broken.png" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["a_repaired.png", "b_repaired.png"]
    for name in ("a", "b"):
        img = Image.open(out / f"{name}_repaired.png")
        assert img.mode == "L" and img.size == (160, 120)
    repaired = np.asarray(Image.open(out / "a_repaired.png")).astype(int)
    original = np.asarray(Image.open(src / "a.png")).astype(int)
    assert np.abs(repaired[:, 60:90] - original[:, 60:90]).max() > 50  # the scratch went
    # Outputs into the photos' own folder under their own names: refused, originals intact.
    assert main(["repair", str(src / "a.png"), "-o", str(src), "--pattern", "{name}", "--overwrite", "--quiet"]) == 1
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before
    assert "original" in capsys.readouterr().err
    # --keep-tint keeps the print's tone: RGB out for RGB in.
    assert main(["repair", str(src / "b.png"), "-o", str(tmp_path / "toned"), "--keep-tint", "--quiet"]) == 0
    assert Image.open(tmp_path / "toned" / "b_repaired.png").mode == "RGB"


@pytest.mark.parametrize("argv,needle", [
    (["--tools", "scratch"], "unknown repair tool 'scratch'"),
    (["--repair-strength", "2"], "--repair-strength"),
    (["--format", "jpg", "--quality", "0"], "--quality"),
])
def test_chroma_repair_bad_options_are_clear_errors(tmp_path, capsys, argv: list[str], needle: str) -> None:
    from ml_core.cli import main

    _write_damaged(tmp_path / "a.png")
    assert main(["repair", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), *argv]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_chroma_colorize_repair_colorizes_the_repaired_photo(tmp_path, capsys) -> None:
    from PIL import Image

    from ml_core.cli import main
    from ml_core.io import paths
    from ml_core.modelfiles.modelfile import info_for, save_model
    from ml_core.models import create

    torch.manual_seed(0)
    model = create("unet", width=8)
    save_model(model, paths.user_models_dir() / "tiny.safetensors", info_for(model, "tiny", work_size=128))
    _write_damaged(tmp_path / "a.png")
    assert main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "plain"), "--model", "tiny", "--quiet"]) == 0
    assert main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "fixed"), "--model", "tiny", "--quiet",
                 "--repair", "scratches"]) == 0
    plain = lightness_from_pixels(np.asarray(Image.open(tmp_path / "plain" / "a_color.png")))
    fixed = lightness_from_pixels(np.asarray(Image.open(tmp_path / "fixed" / "a_color.png")))
    assert plain.shape == fixed.shape == (120, 160)
    assert plain[:, 60:90].max() > 90 and fixed[:, 60:90].max() < 80  # the colorized scratch is gone
    assert main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "x"), "--model", "tiny",
                 "--repair", "dust"]) == 2
    assert "--repair: unknown repair tool 'dust'" in capsys.readouterr().err
