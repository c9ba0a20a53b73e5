"""Which engine a plain colorize runs: the model's cached ONNX graph when it can, torch otherwise.

Why: `import torch` alone takes 2.3-2.9 s here, longer than the whole torch-free path (read,
ONNX model, recombine, write: about 1 s for a small photo). The graph is written once by a
process that has torch anyway (`remember_graph`, e.g. after the first colorize with torch) and
found again by the model file's content hash (ml_core.inference.onnx_engine), so a changed model
file never meets a stale graph. Nothing here imports torch.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .onnx_engine import OnnxColorizer, graph_path

if TYPE_CHECKING:
    from ..cancel import CancelToken
    from ..io.imageio import LoadedImage
    from ..modelfiles.modelfile import LoadedModel
    from .options import ColorizeOptions


@dataclass
class GraphResult:
    """The fields of engine.ColorizeResult the batch loop (ml_core.inference.batch) reads."""

    rgb: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)


class GraphColorizer:
    """An OnnxColorizer called as the batch loop calls engine.Colorizer."""

    def __init__(self, engine: OnnxColorizer) -> None:
        self.engine = engine
        self.info = engine.info

    def colorize(self, image: "LoadedImage | np.ndarray", options: "ColorizeOptions | None" = None,
                 cancel: "CancelToken | None" = None) -> GraphResult:
        if cancel is not None:
            cancel.raise_if_cancelled()
        start = time.perf_counter()
        rgb = self.engine.colorize(np.asarray(getattr(image, "pixels", image)), options)
        return GraphResult(rgb, {"model+recombine": time.perf_counter() - start})


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def can_write_graphs() -> bool:
    """Whether a graph could be written and used here: onnx (to write) and onnxruntime (to run),
    both optional (the [onnx] extra); without them every run takes the torch path."""
    return _installed("onnx") and _installed("onnxruntime")


def open_graph(model_file: Path, options: "ColorizeOptions | None") -> GraphColorizer | None:
    """The torch-free colorizer for `model_file`, or None: no valid graph cached for its present
    content, no onnxruntime, or `options` the graph cannot do (hints, a reference, another
    temperature)."""
    engine = OnnxColorizer.open(model_file)
    if engine is None or not engine.supports(options):
        return None
    return GraphColorizer(engine)


def runs_without_torch(loaded: "LoadedModel") -> bool:
    """Whether the graph path can run this model at all: Lab models without hint inputs."""
    return loaded.model.space.name == "lab" and not loaded.model.accepts_hints


def needs_graph(loaded: "LoadedModel", model_file: Path, digest: str | None = None) -> bool:
    """Whether writing the graph would help: it can be used here and none is cached for this
    content (`digest`, onnx_engine.model_digest, taken before `loaded` was read; default: now)."""
    return (runs_without_torch(loaded) and can_write_graphs()
            and not graph_path(model_file, digest).is_file())


def remember_graph(loaded: "LoadedModel", model_file: Path, temperature: float,
                   digest: str | None = None) -> str | None:
    """Write `loaded`'s graph (needs torch; a few seconds) so the next colorize starts without torch.

    Returns why it was not written, or None. Never raises: a cache that could not be written
    costs the next run its head start, not this run its results.
    """
    from .onnx_engine import write_graph

    if not runs_without_torch(loaded):
        return "only Lab models without hint inputs run without torch"
    try:
        write_graph(loaded, model_file, temperature, digest=digest)
    except ImportError as exc:
        return f"{exc.name or 'onnx'} is not installed"
    except Exception as exc:  # noqa: BLE001 - an exporter or disk problem must not fail the colorize
        return f"{type(exc).__name__}: {exc}"
    return None
