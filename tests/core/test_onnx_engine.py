"""The torch-free path (ONNX graph on onnxruntime) gives the torch engine's colors, and needs no torch."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from ml_core.guidance.hints import Hint
from ml_core.inference.engine import ColorizeOptions, Colorizer
from ml_core.modelfiles.modelfile import LoadedModel, info_for
from ml_core.models import create

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from ml_core.inference.onnx_engine import OnnxColorizer, graph_path, write_graph  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "photos" / "fixtures"


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    """A small bins313 U-Net with vivid random weights, its 'model file', and its graph."""
    torch.manual_seed(0)
    model = create("unet", width=8, head="bins313")
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.5)
    loaded = LoadedModel(model=model.eval(), info=info_for(model, "test", work_size=128))
    folder = tmp_path_factory.mktemp("model")
    model_file = folder / "test.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(model_file))
    # Written outside the per-user cache, which each test gets fresh (conftest), then put there.
    write_graph(loaded, model_file, temperature=0.4, out=folder / "graph.onnx")
    return Colorizer(loaded), model_file


@pytest.fixture(autouse=True)
def cached_graph(graph) -> None:
    """The module's graph in this test's cache, where OnnxColorizer.open looks for it."""
    target = graph_path(graph[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(graph[1].parent / "graph.onnx", target)


def photos() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    found = [np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(p).convert("RGB"))
             for p in sorted(FIXTURES.glob("*.jpg"))[:3]]
    return found or [rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)]


@pytest.mark.parametrize("kind", ["rgb", "gray", "rgb16"])
def test_same_colors_as_the_torch_engine(graph, kind: str) -> None:
    colorizer, model_file = graph
    fast = OnnxColorizer.open(model_file)
    assert fast is not None
    opts = ColorizeOptions(temperature=0.4, saturation=1.3, work_size=160)
    for rgb in photos():
        pixels = {"rgb": rgb, "gray": rgb.mean(axis=2).astype(np.uint8),
                  "rgb16": rgb.astype(np.uint16) * 257}[kind]
        want = colorizer.colorize(pixels, opts).rgb
        got = fast.colorize(pixels, opts)
        assert got.dtype == want.dtype and got.shape == want.shape
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64)) / (257 if kind == "rgb16" else 1)
        assert (diff > 1).mean() < 5e-4  # within one code value but for gamut-decision flips
        assert diff.mean() < 0.05


def test_preview_size_option(graph) -> None:
    colorizer, model_file = graph
    out = OnnxColorizer.open(model_file).colorize(np.zeros((300, 500), np.uint8), ColorizeOptions(output_max_side=100))
    assert out.shape == (60, 100, 3)


def test_stale_or_missing_graph_is_not_used(graph, tmp_path: Path) -> None:
    colorizer, model_file = graph
    assert OnnxColorizer.open(tmp_path / "none.safetensors") is None
    copy = tmp_path / "copy.safetensors"
    copy.write_bytes(model_file.read_bytes())
    assert OnnxColorizer.open(copy) is not None  # keyed by content: a copy is the same model
    changed = tmp_path / "changed.safetensors"
    changed.write_bytes(model_file.read_bytes() + b" ")
    assert graph_path(changed) != graph_path(model_file) and OnnxColorizer.open(changed) is None
    graph_path(changed).write_bytes(graph_path(model_file).read_bytes())  # written for other content
    assert OnnxColorizer.open(changed) is None
    graph_path(changed).write_bytes(b"not a graph")
    assert OnnxColorizer.open(changed) is None


@pytest.mark.parametrize("name", ["default", "fast"])
def test_builtin_models_give_the_torch_engines_colors_on_the_fixtures(builtin_models, fixture_photos,
                                                                      name: str) -> None:
    """The shipped models (default stretches its input levels outside the graph, in numpy)."""
    from ml_core.modelfiles.store import ModelStore

    entry = ModelStore().find(name)
    colorizer = Colorizer(ModelStore().load(name))
    write_graph(colorizer.loaded, entry.path, colorizer.default_temperature)
    fast = OnnxColorizer.open(entry.path)
    assert fast is not None and fast.facts.input_levels == bool(entry.info.config.get("input_levels"))
    off_by_two = 0
    for path in fixture_photos:
        pixels = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(path).convert("L"))
        diff = np.abs(fast.colorize(pixels).astype(np.int64) - colorizer.colorize(pixels).rgb.astype(np.int64))
        assert diff.max() <= 2, path.name
        off_by_two += int((diff > 1).sum())
    # Within one level of 255 but for float-order noise at the gamut's edge: measured none of the
    # 2.2 million values for `default` (run 4) and `fast`; the earlier default had one (2 vs 0).
    assert off_by_two <= 2


def test_options_beyond_the_graph_are_refused(graph) -> None:
    fast = OnnxColorizer.open(graph[1])
    assert fast.supports(ColorizeOptions()) and fast.supports(ColorizeOptions(temperature=0.4))
    hinted = ColorizeOptions(hints=(Hint(points=((0.5, 0.5),), ab=(20.0, 20.0)),))
    for opts in (ColorizeOptions(temperature=0.7), hinted):
        assert not fast.supports(opts)
        with pytest.raises(ValueError):
            fast.colorize(np.zeros((32, 32), np.uint8), opts)


def test_the_path_imports_no_torch(graph) -> None:
    code = ("import sys, numpy as np; from ml_core.inference.onnx_engine import OnnxColorizer; "
            f"c = OnnxColorizer.open({str(graph[1])!r}); c.colorize(np.zeros((64, 64), np.uint8)); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"
