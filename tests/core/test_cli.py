"""`chroma colorize / models / export-onnx` as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from model_helpers import write_tiny_model
from PIL import Image
from skimage.color import rgb2lab

from ml_core.cli import main
from ml_core.io import paths
from ml_core.models import create


@pytest.fixture
def tiny_model() -> str:
    return write_tiny_model(work_size=128)


def lightness(path) -> np.ndarray:
    return rgb2lab(np.asarray(Image.open(path).convert("RGB")))[..., 0]


def test_colorize_fixtures_keeps_size_and_lightness(tmp_path, fixture_photos, tiny_model, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for p in fixture_photos:
        Image.open(p).convert("L").save(src / p.name, quality=95)
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    out = tmp_path / "out"
    code = main(["colorize", str(src), "-o", str(out), "--model", tiny_model, "--format", "png", "--json", "--quiet"])
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == len(fixture_photos) and all(r["ok"] for r in records)
    for p in src.iterdir():
        result = out / f"{p.stem}_color.png"
        assert Image.open(result).size == Image.open(p).size
        assert np.abs(lightness(result) - lightness(p)).max() <= 1.0
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before  # originals untouched


def test_bad_files_are_reported_and_the_rest_continue(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.new("L", (40, 30), 128).save(src / "good.png")
    (src / "empty.jpg").write_bytes(b"")
    (src / "notes.jpg").write_text("not an image")
    buf = (tmp_path / "t.jpg")
    Image.new("RGB", (64, 64), (200, 10, 10)).save(buf, quality=90)
    (src / "truncated.jpg").write_bytes(buf.read_bytes()[:200])
    out = tmp_path / "out"
    code = main(["colorize", str(src), str(tmp_path / "missing.png"), "-o", str(out), "--model", tiny_model,
                 "--json", "--quiet"])
    assert code == 1
    captured = capsys.readouterr()
    records = {r["source"].split("/")[-1]: r for r in map(json.loads, captured.out.splitlines())}
    assert records["good.png"]["ok"]
    for bad in ("empty.jpg", "notes.jpg", "truncated.jpg", "missing.png"):
        assert not records[bad]["ok"] and bad in records[bad]["error"]
    assert "missing.png" in captured.err
    assert (out / "good_color.png").exists()


def test_formats_quality_pattern_and_no_overwrite(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "photo.jpg"
    Image.new("L", (50, 40), 90).save(src)
    out = tmp_path / "out"
    for fmt, suffix in (("jpg", ".jpg"), ("webp", ".webp"), ("tiff", ".tif")):
        assert main(["colorize", str(src), "-o", str(out), "--model", tiny_model, "--format", fmt, "--quality", "80",
                     "--pattern", "{name}-{model}", "--quiet"]) == 0
        assert Image.open(out / f"photo-tiny{suffix}").size == (50, 40)
    # a second run refuses to replace earlier exports unless asked
    assert main(["colorize", str(src), "-o", str(out), "--model", tiny_model, "--format", "jpg",
                 "--pattern", "{name}-{model}", "--quiet"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["colorize", str(src), "-o", str(out), "--model", tiny_model, "--format", "jpg",
                 "--pattern", "{name}-{model}", "--overwrite", "--quiet"]) == 0
    # exporting next to the original with a pattern that names the original is refused
    assert main(["colorize", str(src), "-o", str(tmp_path), "--model", tiny_model, "--format", "jpg",
                 "--pattern", "{name}", "--overwrite", "--quiet"]) == 1


@pytest.mark.parametrize("command,pattern", [("colorize", "{name}_color"), ("repair", "{name}_repaired")])
def test_default_format_follows_each_input_and_format_wins(tmp_path, tiny_model, command, pattern) -> None:
    src = tmp_path / "in"
    src.mkdir()
    gray = Image.new("L", (48, 32), 100)
    for name in ("a.jpg", "b.png", "c.tif", "d.bmp"):
        gray.save(src / name)
    model = ["--model", tiny_model] if command == "colorize" else []
    assert main([command, str(src), "-o", str(tmp_path / "same"), *model, "--quiet"]) == 0
    formats = {p.name: Image.open(p).format for p in (tmp_path / "same").iterdir()}
    stems = [pattern.format(name=n) for n in "abcd"]
    assert formats == dict(zip([f"{stems[0]}.jpg", f"{stems[1]}.png", f"{stems[2]}.tif", f"{stems[3]}.png"],
                               ["JPEG", "PNG", "TIFF", "PNG"]))
    assert main([command, str(src), "-o", str(tmp_path / "chosen"), *model, "--format", "webp", "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "chosen").iterdir()) == [f"{s}.webp" for s in stems]


def test_quality_out_of_range_is_refused_when_the_format_follows_the_input(tmp_path, tiny_model, capsys) -> None:
    src = tmp_path / "a.jpg"
    Image.new("L", (16, 16), 100).save(src)
    assert main(["colorize", str(src), "-o", str(tmp_path / "o"), "--model", tiny_model, "--quality", "0"]) == 2
    assert "--quality" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_an_imported_model_is_ready_to_start_without_torch(tmp_path, tiny_model, capsys) -> None:
    pytest.importorskip("onnxruntime")
    from ml_core.inference.onnx_engine import graph_path

    shared = tmp_path / "friend.safetensors"
    shutil.copy(paths.user_models_dir() / "tiny.safetensors", shared)
    assert not graph_path(shared).exists()
    assert main(["models", "import", str(shared)]) == 0
    assert graph_path(paths.user_models_dir() / "friend.safetensors").is_file()


def test_unknown_model_is_a_clear_error(tmp_path, capsys) -> None:
    src = tmp_path / "p.png"
    Image.new("L", (8, 8)).save(src)
    assert main(["colorize", str(src), "--model", "nope", "-o", str(tmp_path / "o")]) == 2
    assert "no such model" in capsys.readouterr().err


def test_models_list_info_import(tmp_path, tiny_model, capsys) -> None:
    assert main(["models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in listed] == ["tiny"]
    assert main(["models", "info", "tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["arch"] == "unet"
    shared = tmp_path / "friend.safetensors"
    shutil.copy(paths.user_models_dir() / "tiny.safetensors", shared)
    assert main(["models", "import", str(shared)]) == 0
    assert "imported friend" in capsys.readouterr().out
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"junk")
    assert main(["models", "import", str(junk)]) == 2
    assert "junk.safetensors" in capsys.readouterr().err


def test_models_import_official_eccv16_checkpoint(tmp_path, capsys) -> None:
    torch.manual_seed(1)
    official = create("eccv16")  # the published layout, random weights standing in for the release
    ckpt = tmp_path / "colorization_release_v2.pth"
    torch.save({f"module.{k}": v for k, v in official.state_dict().items()}, ckpt)
    assert main(["models", "import", str(ckpt), "--name", "zhang"]) == 0
    assert main(["models", "info", "zhang", "--json"]) == 0
    info = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert info["arch"] == "eccv16" and info["output_kind"] == "bins313"


def test_export_onnx_matches_pytorch(tmp_path, tiny_model) -> None:
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "tiny.onnx"
    assert main(["export-onnx", tiny_model, str(out)]) == 0
    from ml_core.modelfiles.store import ModelStore

    model = ModelStore().load(tiny_model).model
    session = ort.InferenceSession(str(out))
    x = (torch.rand(1, 1, 96, 160) - 0.5)
    onnx_out = session.run(None, {"lum": x.numpy()})[0]
    with torch.no_grad():
        torch_out = model.decode(model(x), 0.38)[0].numpy()
    assert onnx_out.shape == torch_out.shape
    assert np.abs(onnx_out - torch_out).max() < 1e-3


def test_console_entry_point_runs_as_a_module(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ml_core.cli", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for command in ("colorize", "models", "export-onnx"):
        assert command in proc.stdout


def test_cli_constants_match_the_library() -> None:
    from ml_core.color.quantize import DEFAULT_TEMPERATURE
    from ml_core.commands import colorize
    from ml_core.io.imageio import EXPORT_FORMATS

    assert colorize.DEFAULT_TEMPERATURE == DEFAULT_TEMPERATURE
    assert sorted(colorize.EXPORT_FORMATS) == sorted(EXPORT_FORMATS)


def test_parsing_arguments_does_not_import_torch() -> None:
    code = "import sys; from ml_core.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip() == "False", proc.stderr


def test_chroma_photo_opens_the_window_with_it() -> None:
    from ml_core.cli import build_parser, command_names, route

    commands = command_names(build_parser())
    assert {"colorize", "train", "gui", "models"} <= commands
    assert route(["old.jpg", "album/"], commands) == ["gui", "old.jpg", "album/"]
    assert route(["colorize", "old.jpg"], commands) == ["colorize", "old.jpg"]
    assert route(["--help"], commands) == ["--help"]
    assert route([], commands) == []
    # A mistyped command is no photo: argparse names it instead of a window opening on it.
    assert route(["colourize", "x.jpg"], commands) == ["colourize", "x.jpg"]
    args = build_parser().parse_args(route(["old.jpg"], commands))
    assert args.command == "gui" and [str(p) for p in args.photos] == ["old.jpg"]
