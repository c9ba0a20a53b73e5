"""Torch-free colorizing for the plain case: the model as ONNX, run by onnxruntime.

Why: `import torch` alone takes 2.3-2.9 s on a 2-core laptop (4-5 s when it is busy), which
rules out a first result within 1.5 s of launch. onnxruntime imports in ~0.4 s, and with the
numpy recombination (ml_core.inference.recombine) nothing on this path needs torch: a small photo is
colorized ~1.2 s after process start where the torch path takes 5-7 s (measured side by side).

The graph is written once per model file by `write_graph` (which needs torch, the exporter)
and holds the model plus its chroma decoding at one temperature, with the facts needed to
prepare its input in the graph's metadata. It is cached in the per-user cache folder under the
model file's content hash (a built-in model's folder may be read-only), so a changed model file
never meets a stale graph, and `OnnxColorizer.open` checks the hash the graph records as well.

What it covers: Lab models without hint inputs, at the graph's temperature, with render size,
saturation and preview size as options. Hints, references, other temperatures and YUV models
go through `ml_core.inference.engine.Colorizer`; `supports` says which.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..color.levels_np import stretch_levels
from ..io import paths
from ..io.atomic import atomic_path
from ..limits import clamp_work_size, work_size_problem
from .model_input import resize, scaled, to_uint8
from .recombine import luminance_and_f, recombine_array, worker_count

if TYPE_CHECKING:
    from ..modelfiles.modelfile import LoadedModel
    from .options import ColorizeOptions

GRAPH_SUFFIX = ".onnx"
# Bumped whenever what a graph holds changes (its inputs, the decoding, the facts): older graphs
# are then never opened, and are rewritten on the model's next use with torch.
GRAPH_VERSION = 2
_META_KEY = "chroma"


def model_digest(model_file: str | os.PathLike[str]) -> str:
    """SHA-256 of the model file's bytes (~20 ms for the 14 MB default): what a graph is keyed by."""
    with open(model_file, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def graph_path(model_file: str | os.PathLike[str], digest: str | None = None) -> Path:
    """Where the graph for a model file's present content lives, in the per-user cache."""
    digest = digest or model_digest(model_file)
    return paths.user_cache_dir() / "onnx" / f"{digest}-v{GRAPH_VERSION}{GRAPH_SUFFIX}"


def write_graph(loaded: "LoadedModel", model_file: str | os.PathLike[str], temperature: float,
                out: str | os.PathLike[str] | None = None, digest: str | None = None) -> Path:
    """Export `loaded` (read from `model_file`) with its decoding at `temperature`, atomically;
    needs torch and onnx.

    `digest`: the file's, taken before `loaded` was read (default: now). Taken before, a file
    replaced in between leaves the graph under a digest no file has any more, never the new
    file's digest on the old weights.
    """
    import onnx

    from .onnx_export import export_onnx, levels_outside

    model_file = Path(model_file)
    digest = digest or model_digest(model_file)
    target = Path(out) if out is not None else graph_path(model_file, digest)
    model = loaded.model.eval()
    facts = {"source": {"sha256": digest}, "version": GRAPH_VERSION, "name": loaded.info.name,
             "temperature": float(temperature), "space": model.space.name, "hints": bool(model.accepts_hints),
             "input_levels": levels_outside(model), "work_size": int(loaded.info.work_size),
             "size_multiple": int(model.size_multiple), "fixed_input": model.fixed_input}
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target, durable=False) as tmp:  # a cache: rebuilt if lost
        export_onnx(model, tmp, temperature=temperature)
        graph = onnx.load(str(tmp))
        entry = graph.metadata_props.add()
        entry.key, entry.value = _META_KEY, json.dumps(facts)
        onnx.save(graph, str(tmp))
    return target


@dataclass(frozen=True)
class GraphFacts:
    """What the graph's writer knew of the model: enough to prepare its input and name its results."""

    name: str  # the model's own name (export file names use it, as with engine.Colorizer.info)
    temperature: float
    work_size: int
    size_multiple: int
    fixed_input: int | None
    input_levels: bool  # the graph expects L stretched by ml_core.color.levels_np first


class OnnxColorizer:
    """A model's ONNX graph on onnxruntime; same results as engine.Colorizer within 1 code value."""

    def __init__(self, session, facts: GraphFacts) -> None:
        self._session = session
        self.facts = facts
        self.info = facts  # as engine.Colorizer.info, for what the batch loop reads (`name`)
        self._input = session.get_inputs()[0].name
        self._lock = threading.Lock()

    @classmethod
    def open(cls, model_file: str | os.PathLike[str], threads: int | None = None,
             graph: str | os.PathLike[str] | None = None) -> "OnnxColorizer | None":
        """The colorizer for `model_file`'s graph (beside it unless `graph` says where), or None
        when there is no usable one (none written yet, written for another version of the file,
        or a model this path cannot run), or when onnxruntime is not installed."""
        try:
            digest = model_digest(model_file)
        except OSError:
            return None
        graph = Path(graph) if graph is not None else graph_path(model_file, digest)
        if not graph.is_file():
            return None
        try:
            import onnxruntime as ort
        except ImportError:  # an optional dependency (the [onnx] extra): the torch path still works
            return None

        options = ort.SessionOptions()
        # Waiting threads sleep instead of spinning, as ml_core.runtime asks of OpenMP: on a
        # busy laptop a spinning thread burns the core its sibling needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = threads or worker_count()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
            facts = json.loads(session.get_modelmeta().custom_metadata_map.get(_META_KEY, "null"))
        except Exception:  # noqa: BLE001 - a damaged or foreign graph: the torch path still works
            return None
        if (not isinstance(facts, dict) or facts.get("source") != {"sha256": digest}
                or facts.get("version") != GRAPH_VERSION or facts.get("space") != "lab" or facts.get("hints")):
            return None
        return cls(session, GraphFacts(str(facts["name"]), float(facts["temperature"]), int(facts["work_size"]),
                                       int(facts["size_multiple"]), facts.get("fixed_input"),
                                       bool(facts["input_levels"])))

    def supports(self, options: "ColorizeOptions | None") -> bool:
        """Whether `options` are within what the graph does (else use engine.Colorizer)."""
        if options is None:
            return True
        return (not options.hints and options.reference is None
                and options.temperature in (None, self.facts.temperature))

    def input_size_for(self, height: int, width: int, work_size: int) -> tuple[int, int]:
        """As ColorModel.input_size_for: the long side becomes `work_size`, sides snap to the multiple."""
        if self.facts.fixed_input is not None:
            return self.facts.fixed_input, self.facts.fixed_input
        scale, m = work_size / max(height, width), self.facts.size_multiple
        return tuple(max(m, int(round(side * scale / m)) * m) for side in (height, width))  # type: ignore[return-value]

    def colorize(self, pixels: np.ndarray, options: "ColorizeOptions | None" = None) -> np.ndarray:
        """Photo pixels (8 or 16 bit, gray or RGB) -> colorized RGB of the same size and depth."""
        work_size = clamp_work_size(self.facts.work_size)
        saturation, max_side = 1.0, None
        if options is not None:
            if not self.supports(options):
                raise ValueError("hints, references and other temperatures need engine.Colorizer")
            if options.work_size is not None:
                if problem := work_size_problem(options.work_size):
                    raise ValueError(problem)
                work_size = int(options.work_size)
            saturation, max_side = float(options.saturation), options.output_max_side
        if max_side and max(pixels.shape[:2]) > max_side:
            s = max_side / max(pixels.shape[:2])
            pixels = scaled(pixels, s)
        size = self.input_size_for(pixels.shape[0], pixels.shape[1], work_size)
        small = resize(to_uint8(pixels), size)
        _, f = luminance_and_f(np.ascontiguousarray(small))
        lum = ((116.0 * f - 16.0 - 50.0) / 100.0).astype(np.float32).reshape(size)
        if self.facts.input_levels:
            lum = stretch_levels(lum)
        lum = lum.reshape(1, 1, *size)
        with self._lock:
            ab = self._session.run(None, {self._input: lum})[0][0]
        if saturation != 1.0:
            ab = ab * np.float32(saturation)
        return recombine_array(pixels, ab)


def main(argv: list[str] | None = None) -> int:
    """`python -m ml_core.inference.onnx_engine [NAME ...]`: cache the graph of each store model
    (default: every installed one) at the model's own temperature; needs torch and onnx."""
    import argparse

    from ..modelfiles.store import ModelStore
    from .engine import Colorizer

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("names", nargs="*", help="store model names (default: all)")
    args = parser.parse_args(argv)
    store = ModelStore()
    for name in args.names or store.names():
        entry = store.find(name)
        loaded = store.load(entry.name)
        if loaded.model.space.name != "lab" or loaded.model.accepts_hints:
            print(f"{entry.name}: skipped (only Lab models without hint inputs run on this path)")
            continue
        path = write_graph(loaded, entry.path, Colorizer(loaded).default_temperature)
        print(f"{entry.name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
