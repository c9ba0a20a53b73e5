"""`chroma export-onnx MODEL OUT.onnx`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export-onnx", help="export a model (with its chroma decoding) to ONNX")
    p.add_argument("model", help="model name or .safetensors file")
    p.add_argument("out", type=Path, help="output .onnx file")
    p.add_argument("--size", type=int, default=256, help="example input side used for tracing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..inference.onnx_export import export_onnx, levels_outside  # onnx: an optional extra, imported when asked
    from ..modelfiles.modelfile import ModelFileError
    from ..modelfiles.store import ModelStore

    try:
        loaded = ModelStore().load(args.model)
        path = export_onnx(loaded.model, args.out, args.size)
    except (ModelFileError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    if levels_outside(loaded.model):
        print("note: this model stretches its input levels first; the graph expects L already stretched "
              "(ml_core.color.levels_np.stretch_levels)")
    return 0
