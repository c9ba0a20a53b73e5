"""`chroma colorize` without torch: the ONNX graph cached by content hash, used when valid, torch otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ml_core.inference.onnx_engine import graph_path
from ml_core.io import paths
from ml_core.modelfiles.modelfile import info_for, save_model
from ml_core.modelfiles.store import ModelStore
from ml_core.models import create

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

REPO = Path(__file__).resolve().parents[2]
# main() in a fresh process, which then says whether torch was ever imported.
RUN = "import sys, json; from ml_core.cli import main; rc = main(json.loads(sys.argv[1])); " \
      "print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules}))"


def chroma(*argv: str, hide_onnxruntime: bool = False) -> dict:
    code = ("import sys; sys.modules['onnxruntime'] = None; " if hide_onnxruntime else "") + RUN
    out = subprocess.run([sys.executable, "-c", code, json.dumps(list(argv))], capture_output=True, text=True,
                         cwd=REPO, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def save_tiny(seed: int) -> Path:
    """A small U-Net with input levels and vivid random weights, as the user model 'tiny'."""
    torch.manual_seed(seed)
    model = create("unet", width=8, head="bins313", input_levels=True)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.5)
    return save_model(model, paths.user_models_dir() / "tiny.safetensors", info_for(model, "tiny", work_size=128))


@pytest.fixture
def photos(tmp_path: Path, fixture_photos: list[Path]) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for p in fixture_photos[:3]:
        Image.open(p).convert("L").save(folder / f"{p.stem}.png")
    return folder


def pixels(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)).astype(np.int64) for p in sorted(folder.iterdir())}


def test_starting_the_cli_imports_no_torch() -> None:
    code = "import sys, ml_core.cli as c; c.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


def test_first_run_caches_the_graph_and_the_next_runs_without_torch_with_the_same_colors(photos, tmp_path) -> None:
    model_file = save_tiny(0)
    first = chroma("colorize", str(photos), "-o", str(tmp_path / "torch"), "--model", "tiny", "--quiet")
    assert first == {"rc": 0, "torch": True}
    assert graph_path(model_file).is_file()  # written for next time, under the file's content hash
    second = chroma("colorize", str(photos), "-o", str(tmp_path / "onnx"), "--model", "tiny", "--quiet")
    assert second == {"rc": 0, "torch": False}
    want, got = pixels(tmp_path / "torch"), pixels(tmp_path / "onnx")
    assert list(want) == list(got) == [f"{p.stem}_color.png" for p in sorted(photos.iterdir())]
    for name in want:
        assert np.abs(want[name] - got[name]).max() <= 1, name


def test_a_changed_model_file_never_uses_the_old_graph(photos, tmp_path) -> None:
    save_tiny(0)
    assert chroma("colorize", str(photos), "-o", str(tmp_path / "a"), "--model", "tiny", "--quiet")["torch"]
    model_file = save_tiny(1)  # same name, other weights: the cached graph is for other content
    assert chroma("colorize", str(photos), "-o", str(tmp_path / "b"), "--model", "tiny", "--quiet") == \
        {"rc": 0, "torch": True}
    assert chroma("colorize", str(photos), "-o", str(tmp_path / "c"), "--model", "tiny", "--quiet") == \
        {"rc": 0, "torch": False}  # the new content got its own graph
    old, new, fast = pixels(tmp_path / "a"), pixels(tmp_path / "b"), pixels(tmp_path / "c")
    assert any(np.abs(old[n] - new[n]).max() > 10 for n in old)  # the weights do change the colors
    assert all(np.abs(new[n] - fast[n]).max() <= 1 for n in new)
    assert graph_path(model_file).is_file()


@pytest.mark.parametrize("extra", [["--temperature", "0.9"], ["--repair"], ["--saturation", "1.4"]])
def test_options_the_graph_cannot_do_take_the_torch_path(photos, tmp_path, extra: list[str]) -> None:
    save_tiny(0)
    assert not chroma("colorize", str(photos), "-o", str(tmp_path / "a"), "--model", "tiny", "--quiet")["rc"]
    result = chroma("colorize", str(photos), "-o", str(tmp_path / "b"), "--model", "tiny", "--quiet", *extra)
    assert result == {"rc": 0, "torch": extra[0] != "--saturation"}  # saturation is within the graph's reach


def test_without_onnxruntime_the_torch_path_runs_and_nothing_is_cached(photos, tmp_path) -> None:
    model_file = save_tiny(0)
    result = chroma("colorize", str(photos), "-o", str(tmp_path / "a"), "--model", "tiny", "--quiet",
                    hide_onnxruntime=True)
    assert result == {"rc": 0, "torch": True}
    assert not graph_path(model_file).exists()
    assert len(list((tmp_path / "a").iterdir())) == 3


def test_locate_names_the_file_find_does(builtin_models, tmp_path) -> None:
    store = ModelStore()
    model_file = save_tiny(0)
    assert store.locate(None) == store.find(store.default_name()).path == builtin_models / "default.safetensors"
    assert store.locate("tiny") == store.find("tiny").path == model_file
    assert store.locate(model_file) == model_file
    for ref in ("missing", "../models/tiny", ".hidden", "tiny\x1b[31m"):
        assert store.locate(ref) is None


def test_a_model_file_replaced_while_torch_ran_never_gets_the_old_weights_graph() -> None:
    """The CLI takes the digest before reading the weights; the graph goes under that digest."""
    from ml_core.inference.engine import Colorizer
    from ml_core.inference.fast_path import open_graph, remember_graph
    from ml_core.inference.onnx_engine import model_digest
    from ml_core.modelfiles.modelfile import load_model

    model_file = save_tiny(0)
    digest = model_digest(model_file)
    loaded = load_model(model_file)
    save_tiny(1)  # replaced after it was read, before the graph is written
    assert remember_graph(loaded, model_file, Colorizer(loaded).default_temperature, digest) is None
    assert graph_path(model_file, digest).is_file()  # under the old content's digest
    assert open_graph(model_file, None) is None  # the file's present content has no graph
