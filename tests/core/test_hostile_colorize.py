"""`chroma colorize` against hostile input (issue 12): every photo and file is made here, never
downloaded. Each case checks what a person would: the exit code, a message naming the file or
option, no traceback, originals byte-identical afterwards, and the rest of the batch done.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from skimage.color import rgb2lab

from ml_core.cli import main
from ml_core.guidance.reference import ReferencePalette
from ml_core.inference.batch import ExportSettings, colorize_files
from ml_core.inference.engine import ColorizeOptions, Colorizer
from ml_core.io.atomic import STALE_AFTER_S, remove_stale_temp_files
from ml_core.io.imageio import MAX_EXPORT_ICC, check_pattern, read_image
from ml_core.limits import MAX_WORK_SIZE
from ml_core.modelfiles.store import ModelStore

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt",
                                    reason="symbolic links need privileges on Windows")




@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def records(self) -> dict[str, dict]:
        """--json records by source file name."""
        return {Path(r["source"]).name: r for r in map(json.loads, self.out.splitlines()) if r}


def colorize(capsys, *args: str | Path) -> Run:
    capsys.readouterr()
    code = main(["colorize", *map(str, args), "--json", "--quiet"])
    captured = capsys.readouterr()
    run = Run(code, captured.out, captured.err)
    assert "Traceback" not in run.out + run.err
    return run


def gray(path: Path, size: tuple[int, int] = (24, 18), seed: int = 0, **params) -> Path:
    """A small gray photo with some structure, so a model has something to look at."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    noise = np.random.default_rng(seed).integers(0, 30, (h, w))
    Image.fromarray(np.clip(x * 200 // max(w, 1) + y * 2 + noise, 0, 255).astype(np.uint8)).save(path, **params)
    return path


def color(path: Path, size: tuple[int, int] = (24, 18), **params) -> Path:
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), np.full_like(x, 90)], -1)
    Image.fromarray(rgb.astype(np.uint8)).save(path, **params)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (links not followed), to prove nothing was changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def png_header_only(width: int, height: int) -> bytes:
    """A decompression bomb's header: claims width × height, carries almost nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def rgb_icc(size: int) -> bytes:
    """A profile-shaped blob of `size` bytes (RGB colour space in the header), incompressible."""
    blob = bytearray(np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes())
    blob[0:4] = struct.pack(">I", size)
    blob[16:20] = b"RGB "
    return bytes(blob)


def opens_fully(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        im.load()
        return im.size


# --------------------------------------------------------------------------- 1: name collisions


def test_overwrite_never_replaces_another_input_of_the_run(tmp_path, tiny_model, capsys) -> None:
    gray(tmp_path / "p.png")
    gray(tmp_path / "p_color.png", seed=1)  # the person's own file, and an input of the run
    before = snapshot(tmp_path)
    run = colorize(capsys, tmp_path / "p.png", tmp_path / "p_color.png", "-o", tmp_path, "--overwrite",
                   "--model", tiny_model)
    assert run.code == 1
    assert not run.records["p.png"]["ok"] and "inputs are never overwritten" in run.records["p.png"]["error"]
    assert "p.png" in run.err and "p_color.png" in run.err
    assert run.records["p_color.png"]["ok"]  # the rest of the batch is done
    after = snapshot(tmp_path)
    assert {k: after[k] for k in before} == before
    assert opens_fully(tmp_path / "p_color_color.png") == (24, 18)


def test_overwrite_protects_inputs_reached_through_links_and_other_spellings(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    gray(src / "a.png")
    gray(src / "b.png", seed=2)
    os.link(src / "b.png", tmp_path / "a_color.png")  # a hard link to an input, where a's output goes
    before = snapshot(tmp_path)
    run = colorize(capsys, src / "a.png", tmp_path / ".." / tmp_path.name / "in" / "b.png",
                   "-o", tmp_path, "--overwrite", "--model", tiny_model)
    assert run.code == 1 and "inputs are never overwritten" in run.records["a.png"]["error"]
    assert run.records["b.png"]["ok"]
    after = snapshot(tmp_path)
    assert {k: after[k] for k in before} == before


def test_two_inputs_with_one_output_name_get_both_outputs(tmp_path, tiny_model, capsys) -> None:
    gray(tmp_path / "x.png")
    gray(tmp_path / "x.jpg", seed=3, quality=95)
    run = colorize(capsys, tmp_path / "x.png", tmp_path / "x.jpg", "-o", tmp_path / "out", "--model", tiny_model,
                   "--format", "png")
    assert run.code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x_color-2.png", "x_color.png"]
    # Without --format each keeps its own format, so the names no longer clash.
    run = colorize(capsys, tmp_path / "x.png", tmp_path / "x.jpg", "-o", tmp_path / "own", "--model", tiny_model)
    assert run.code == 0
    assert sorted(p.name for p in (tmp_path / "own").iterdir()) == ["x_color.jpg", "x_color.png"]


# --------------------------------------------------------------------------- corrupt, bomb, odd modes


def _bad_files(folder: Path) -> dict[str, str]:
    """name -> a word the error must contain."""
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_text("not an image at all")
    whole = gray(folder / "whole.png", (64, 48)).read_bytes()
    (folder / "whole.png").unlink()
    (folder / "truncated.png").write_bytes(whole[: len(whole) // 2])
    jpeg = gray(folder / "j.jpg", (64, 48), quality=90).read_bytes()
    (folder / "j.jpg").unlink()
    (folder / "truncated.jpg").write_bytes(jpeg[:300])
    (folder / "bomb.png").write_bytes(png_header_only(60_000, 60_000))
    broken = bytearray(whole)
    broken[40:48] = b"\xff" * 8  # inside IHDR/IDAT: a CRC that no longer matches
    (folder / "badcrc.png").write_bytes(bytes(broken))
    (folder / "garbage.gif").write_bytes(b"GIF89a" + bytes(range(256)) * 4)
    return {"empty.png": "empty", "notes.jpg": "not a recognized image", "truncated.png": "truncated",
            "truncated.jpg": "truncated", "bomb.png": "megapixels", "badcrc.png": "corrupt",
            "garbage.gif": "damaged"}


def _odd_modes(folder: Path) -> list[str]:
    """Readable photos in every mode Pillow hands over: all of them must colorize."""
    rng = np.random.default_rng(5)
    base = rng.integers(0, 256, (18, 24)).astype(np.uint8)
    Image.fromarray(base).convert("1").save(folder / "m_1bit.png")
    Image.fromarray(np.dstack([base, base // 2, 255 - base])).convert("P").save(folder / "m_palette.png")
    Image.fromarray(base).convert("P").save(folder / "m_graypalette.gif")
    Image.fromarray(np.dstack([base, base])).save(folder / "m_la.png")
    Image.fromarray(np.dstack([base, base, base, base])).save(folder / "m_rgba.png")
    Image.fromarray(base.astype(np.uint16) * 257).save(folder / "m_16bit.png")
    tifffile.imwrite(folder / "m_16rgb.tif", np.dstack([base, base, base]).astype(np.uint16) * 257)
    Image.fromarray(base.astype(np.int32) * 100, "I").save(folder / "m_int32.tif")
    Image.fromarray(base.astype(np.float32) / 255, "F").save(folder / "m_float.tif")
    Image.fromarray(np.dstack([base, base, base])).convert("CMYK").save(folder / "m_cmyk.jpg")
    Image.fromarray(base).save(folder / "m_jpeg_named.png", format="JPEG")  # wrong extension
    Image.fromarray(base[:1, :1]).save(folder / "m_1x1.png")
    Image.fromarray(np.tile(base[:1], (1, 20))).save(folder / "m_strip.png")  # 1 × 480
    return sorted(p.name for p in folder.glob("m_*"))


def test_corrupt_truncated_bomb_and_odd_mode_photos_in_one_folder(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    bad = _bad_files(src)
    good = _odd_modes(src)
    (src / "folder.png").mkdir()  # a folder with a photo's name is searched, not read
    gray(src / "folder.png" / "inner.png")
    before = snapshot(src)
    run = colorize(capsys, src, tmp_path / "missing.png", src / "notes.txt", "-o", tmp_path / "out",
                   "--model", tiny_model)
    assert run.code == 1
    records = run.records
    for name, word in bad.items():
        assert not records[name]["ok"], name
        assert name in records[name]["error"] and word in records[name]["error"], records[name]
        assert name in run.err
    for name in ("missing.png", "notes.txt"):
        assert not records[name]["ok"] and name in records[name]["error"]
    for name in [*good, "inner.png"]:
        assert records[name]["ok"], records[name]
        out = Path(records[name]["output"])
        assert opens_fully(out) == (records[name]["width"], records[name]["height"])
    assert snapshot(src) == before


def test_a_16bit_or_float_photo_keeps_its_lightness(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    _odd_modes(src)
    run = colorize(capsys, src / "m_16bit.png", src / "m_float.tif", "-o", tmp_path / "out", "--model", tiny_model)
    assert run.code == 0
    lightness = [rgb2lab(np.asarray(Image.open(run.records[n]["output"]).convert("RGB")))[..., 0]
                 for n in ("m_16bit.png", "m_float.tif")]
    assert np.abs(lightness[0] - lightness[1]).max() <= 1.0


# --------------------------------------------------------------------------- 5: symlink loops


@needs_symlinks
def test_symlink_loops_are_named_and_the_batch_goes_on(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    gray(src / "a.png")
    gray(src / "sub" / "m.png", seed=1)
    gray(src / "z.png", seed=2)
    os.symlink("self.png", src / "self.png")
    os.symlink("pong.png", src / "ping.png")
    os.symlink("ping.png", src / "pong.png")
    os.symlink("..", src / "sub" / "up")  # a folder link back up: not followed, so no endless walk
    os.symlink("gone.png", src / "dangling.png")
    before = snapshot(src)
    run = colorize(capsys, src, src / "self.png", "-o", tmp_path / "out", "--model", tiny_model)
    assert run.code == 1
    for name in ("self.png", "ping.png", "pong.png"):
        assert "symbolic link loop" in run.records[name]["error"] and name in run.records[name]["error"]
    assert [n for n in ("a.png", "m.png", "z.png") if run.records[n]["ok"]] == ["a.png", "m.png", "z.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_color.png", "m_color.png", "z_color.png"]
    assert snapshot(src) == before


# --------------------------------------------------------------------------- 6: engine edge cases


def test_one_pixel_photo_and_one_pixel_reference(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    gray(src / "a_one.png", (1, 1))
    gray(src / "b_normal.png")
    color(tmp_path / "ref.png", (30, 20))
    Image.new("RGB", (1, 1), (200, 40, 30)).save(tmp_path / "ref1.png")
    before = snapshot(tmp_path)
    for ref in ("ref.png", "ref1.png"):
        out = tmp_path / f"out_{ref}"
        run = colorize(capsys, src, "--reference", tmp_path / ref, "-o", out, "--model", tiny_model)
        assert run.code == 0, run.err
        assert opens_fully(out / "a_one_color.png") == (1, 1)
        assert opens_fully(out / "b_normal_color.png") == (24, 18)
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("out_")} == before


def test_nan_options_and_model_temperature_never_reach_the_encoder(tiny_model) -> None:
    colorizer = Colorizer(ModelStore().load(tiny_model))
    pixels = np.tile(np.arange(24, dtype=np.uint8) * 10, (18, 1))
    for options in (ColorizeOptions(saturation=math.nan), ColorizeOptions(temperature=math.nan),
                    ColorizeOptions(saturation=math.inf)):
        rgb = colorizer.colorize(pixels, options).rgb
        assert rgb.shape == (18, 24, 3)
    colorizer.info.temperature = math.nan
    assert colorizer.default_temperature > 0
    assert colorizer.colorize(pixels).rgb.shape == (18, 24, 3)
    one = ReferencePalette.from_pixels(np.array([[[200, 40, 30]]], np.uint8))
    assert all(math.isfinite(v) for v in (one.lightness_std, one.texture_std))


def test_one_photos_unexpected_error_does_not_stop_the_batch(tmp_path, tiny_model, monkeypatch) -> None:
    for i in range(3):
        gray(tmp_path / f"p{i}.png", seed=i)
    colorizer = Colorizer(ModelStore().load(tiny_model))
    real = colorizer.colorize

    def flaky(image, options=None, cancel=None):
        if image.path is not None and image.path.name == "p1.png":
            raise IndexError("out of range: tried to access index -9223372036854775808")
        return real(image, options, cancel)

    monkeypatch.setattr(colorizer, "colorize", flaky)
    sources = sorted(tmp_path.glob("p*.png"))
    outcomes = colorize_files(colorizer, sources, ExportSettings(tmp_path / "out"))
    assert [o.ok for o in outcomes] == [True, False, True]
    assert "p1.png" in outcomes[1].error and "IndexError" in outcomes[1].error


# --------------------------------------------------------------------------- 3, 8, 13, 17: options


@pytest.mark.parametrize("args, named", [
    (["--size", "0"], "--size"),
    (["--size", "-5"], "--size"),
    (["--size", "100000"], "--size"),
    (["--saturation", "-1"], "--saturation"),
    (["--saturation", "nan"], "--saturation"),
    (["--saturation", "inf"], "--saturation"),
    (["--temperature", "0"], "--temperature"),
    (["--temperature", "-1"], "--temperature"),
    (["--temperature", "nan"], "--temperature"),
    (["--quality", "500", "--format", "jpg"], "--quality"),
    (["--quality", "0", "--format", "webp"], "--quality"),
    (["--reference-strength", "nan"], "--reference-strength"),
    (["--pattern", "{0}"], "--pattern"),
    (["--pattern", "{foo}"], "--pattern"),
    (["--pattern", "{}"], "--pattern"),
    (["--pattern", "{name!r}"], "--pattern"),
    (["--pattern", "{name"], "--pattern"),
    (["--pattern", "../../{name}"], "--pattern"),
    (["--pattern", "sub/{name}"], "--pattern"),
    (["--pattern", "..{name}"], "--pattern"),
    (["--pattern", ""], "--pattern"),
])
def test_bad_options_are_refused_before_any_photo(tmp_path, tiny_model, capsys, args, named) -> None:
    photo = gray(tmp_path / "p.png")
    before = snapshot(tmp_path)
    run = colorize(capsys, photo, "-o", tmp_path / "out", "--model", tiny_model, *args)
    assert run.code == 2
    assert run.err.startswith(f"error: {named}") and args[1] in run.err
    assert not (tmp_path / "out").exists() and snapshot(tmp_path) == before


def test_quality_is_not_checked_for_lossless_formats(tmp_path, tiny_model, capsys) -> None:
    run = colorize(capsys, gray(tmp_path / "p.png"), "-o", tmp_path / "out", "--model", tiny_model, "--quality", "500",
                   "--format", "png")
    assert run.code == 0 and "no effect on PNG" in run.err
    assert opens_fully(tmp_path / "out" / "p_color.png") == (24, 18)


def test_render_size_limit_is_stated_and_enforced_in_the_engine(tiny_model) -> None:
    colorizer = Colorizer(ModelStore().load(tiny_model))
    with pytest.raises(ValueError, match=str(MAX_WORK_SIZE)):
        colorizer.colorize(np.zeros((8, 8), np.uint8), ColorizeOptions(work_size=100_000))
    colorizer.info.work_size = 100_000  # a model file that claims it (refused at import elsewhere)
    assert colorizer.work_size_for(ColorizeOptions()) == MAX_WORK_SIZE


def test_output_folder_that_is_a_file_is_said_so(tmp_path, tiny_model, capsys) -> None:
    photo = gray(tmp_path / "p.png")
    (tmp_path / "taken").write_text("a file where the output folder should be")
    before = snapshot(tmp_path)
    for out, words in ((tmp_path / "taken", "is a file, not a folder"), (tmp_path / "taken" / "sub", "is a file")):
        run = colorize(capsys, photo, "-o", out, "--model", tiny_model)
        assert run.code == 2 and words in run.err and "taken" in run.err and "File exists" not in run.err
    assert snapshot(tmp_path) == before


def test_pattern_checks_name_the_problem() -> None:
    for pattern, words in (("{0}", "unknown field {0}"), ("{foo}", "unknown field {foo}"),
                           ("../../{name}", "not a path"), (".{name}", "hidden")):
        with pytest.raises(ValueError, match=None) as err:
            check_pattern(pattern)
        assert words in str(err.value) and pattern in str(err.value)
    check_pattern("{name}-{model}.{ext}")


# --------------------------------------------------------------------------- 10: float TIFF ranges


def test_float_tiffs_in_0_1_and_0_255_give_the_same_photo(tmp_path, tiny_model, capsys) -> None:
    ramp = np.tile(np.linspace(0, 1, 40, dtype=np.float32), (30, 1))
    tifffile.imwrite(tmp_path / "unit.tif", ramp)
    tifffile.imwrite(tmp_path / "bytes.tif", ramp * 255)
    tifffile.imwrite(tmp_path / "shifted.tif", ramp * 1000 - 500)  # no photo convention: stretched
    for name in ("unit.tif", "bytes.tif", "shifted.tif"):
        assert abs(read_image(tmp_path / name).pixels.astype(float).mean() / 65535 - 0.5) < 0.01, name
    before = snapshot(tmp_path)
    run = colorize(capsys, tmp_path / "unit.tif", tmp_path / "bytes.tif", "-o", tmp_path / "out", "--model", tiny_model,
                   "--format", "png")
    assert run.code == 0
    lab = [rgb2lab(np.asarray(Image.open(tmp_path / "out" / f"{n}_color.png").convert("RGB")))[..., 0]
           for n in ("unit", "bytes")]
    assert abs(lab[1].mean() - lab[0].mean()) < 0.5 and lab[1].mean() > 40
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("out")} == before


# --------------------------------------------------------------------------- 11: big ICC profiles


def test_photos_with_a_2mb_icc_profile_colorize_into_files_anyone_can_open(tmp_path, tiny_model, capsys) -> None:
    icc = rgb_icc(2 * 1024 * 1024)
    color(tmp_path / "big.jpg", quality=90, icc_profile=icc)
    color(tmp_path / "big.png", icc_profile=icc)
    assert read_image(tmp_path / "big.png").icc_profile == icc  # read, not "truncated or corrupt"
    before = snapshot(tmp_path)
    run = colorize(capsys, tmp_path / "big.jpg", tmp_path / "big.png", "-o", tmp_path / "out", "--model", tiny_model)
    assert run.code == 0, run.err
    for name in ("big.jpg", "big.png"):
        record = run.records[name]
        assert record["ok"] and any("color profile" in w for w in record["warnings"])
        assert f"warning: {tmp_path / name}" in run.err
    # Opened in a fresh interpreter, with Pillow's own default limits.
    outputs = [run.records[n]["output"] for n in ("big.jpg", "big.png")]
    code = "import sys; from PIL import Image; [Image.open(p).load() for p in sys.argv[1:]]"
    proc = subprocess.run([sys.executable, "-c", code, *outputs], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rest = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("out")}
    assert snapshot(tmp_path / "out") and rest == before


def test_a_small_profile_is_still_carried_over(tmp_path, tiny_model, capsys) -> None:
    icc = rgb_icc(4096)
    assert len(icc) < MAX_EXPORT_ICC
    color(tmp_path / "small.png", icc_profile=icc)
    run = colorize(capsys, tmp_path / "small.png", "-o", tmp_path / "out", "--model", tiny_model)
    assert run.code == 0 and run.records["small.png"]["warnings"] == []
    assert read_image(tmp_path / "out" / "small_color.png").icc_profile == icc


# --------------------------------------------------------------------------- 12: several frames


def test_animated_gif_and_multipage_tiffs_say_only_the_first_frame_was_colorized(tmp_path, tiny_model, capsys) -> None:
    frames = [Image.new("L", (20, 16), v) for v in (40, 140, 240)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    frames[0].save(tmp_path / "pages.tif", save_all=True, append_images=frames[1:])
    tifffile.imwrite(tmp_path / "pages16.tif", np.stack([np.full((16, 20), v * 257, np.uint16) for v in (40, 140)]))
    gray(tmp_path / "still.png")
    before = snapshot(tmp_path)
    run = colorize(capsys, *(tmp_path / n for n in ("anim.gif", "pages.tif", "pages16.tif", "still.png")),
                   "-o", tmp_path / "out", "--model", tiny_model)
    assert run.code == 0
    for name, n in (("anim.gif", 3), ("pages.tif", 3), ("pages16.tif", 2)):
        assert run.records[name]["warnings"] == [f"has {n} frames or pages; only the first was colorized"]
        assert f"warning: {tmp_path / name}: has {n} frames" in run.err
        first = rgb2lab(np.asarray(Image.open(run.records[name]["output"]).convert("RGB")))[..., 0].mean()
        assert abs(first - rgb2lab(np.full((1, 1, 3), 40 / 255))[..., 0].mean()) < 1.5  # the first frame
    assert run.records["still.png"]["warnings"] == []
    assert {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("out")} == before


# --------------------------------------------------------------------------- 16: stale temp files


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          timeout=60, check=True)
    return int(proc.stdout)


def test_stale_temp_files_of_our_naming_are_removed_by_the_next_run(tmp_path, tiny_model, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = _dead_pid()
    stale = [out / f".p_color.png.{dead}.0badc0de.tmp", out / f".q_color.png.{dead}.12345678.tmp"]
    old_legacy = out / ".r_color.png.abcdef01.tmp"  # an older version's naming, without a pid
    keep = [out / f".s_color.png.{os.getpid()}.aaaaaaaa.tmp",  # a live writer's (this process)
            out / ".t_color.png.bbbbbbbb.tmp",  # legacy naming, but recent: its writer may be alive
            out / ".notes.tmp", out / "p_color.png.1.aaaaaaaa.tmp", out / f".x.{dead}.nothex!.tmp",
            out / "user.tmp"]
    for f in [*stale, old_legacy, *keep]:
        f.write_bytes(b"half a photo")
    an_hour_ago = time.time() - STALE_AFTER_S - 60
    os.utime(old_legacy, (an_hour_ago, an_hour_ago))
    (out / f".dir.png.{dead}.cccccccc.tmp").mkdir()  # not a regular file: never removed
    run = colorize(capsys, gray(tmp_path / "p.png"), "-o", out, "--model", tiny_model)
    assert run.code == 0
    assert not any(f.exists() for f in [*stale, old_legacy])
    assert all(f.exists() for f in keep) and (out / f".dir.png.{dead}.cccccccc.tmp").is_dir()
    assert remove_stale_temp_files(out) == []


# --------------------------------------------------------------------------- everything at once, as a process


@needs_symlinks
def test_a_hostile_folder_through_the_real_command_line(tmp_path, tiny_model) -> None:
    """No traceback reaches the terminal, even with every kind of trouble in one folder."""
    src = tmp_path / "in"
    src.mkdir()
    bad = _bad_files(src)
    gray(src / "ok.png")
    gray(src / "tiny.png", (1, 1))
    os.symlink("loop.png", src / "loop.png")
    frames = [Image.new("L", (20, 16), v) for v in (40, 140)]
    frames[0].save(src / "anim.gif", save_all=True, append_images=frames[1:])
    before = snapshot(src)
    proc = subprocess.run([sys.executable, "-m", "ml_core.cli", "colorize", str(src), "-o", str(tmp_path / "out"),
                           "--model", tiny_model, "--quiet", "--saturation", "1.5"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    for name in [*bad, "loop.png"]:
        assert f"{src / name}:" in proc.stderr
    assert "warning: " in proc.stderr and "anim.gif" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["anim_color.png", "ok_color.png", "tiny_color.png"]
    assert snapshot(src) == before
