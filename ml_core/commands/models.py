"""`chroma models list|info|import|delete`: what models are installed, and adding more."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, inspect and import models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="list built-in and user models")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    info = msub.add_parser("info", help="show a model's metadata and card")
    info.add_argument("name")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=run_info)
    imp = msub.add_parser("import", help="import a .safetensors model file or Zhang et al.'s official ECCV16 .pth")
    imp.add_argument("file", type=Path)
    imp.add_argument("--name", default=None, help="name in the store (default: the file's name)")
    imp.add_argument("--overwrite", action="store_true")
    imp.set_defaults(func=run_import)
    archs = msub.add_parser("architectures", help="list the model families `chroma train --arch` builds")
    archs.add_argument("--json", action="store_true")
    archs.set_defaults(func=run_architectures)
    rm = msub.add_parser("delete", help="delete a user model")
    rm.add_argument("name")
    rm.set_defaults(func=run_delete)


def run_list(args: argparse.Namespace) -> int:
    from ..modelfiles.modelfile import ModelFileError  # noqa: F401  (imported here so `chroma` starts without torch)
    from ..modelfiles.store import ModelStore
    entries = ModelStore().entries()
    if args.json:
        print(json.dumps([{"name": e.name, "builtin": e.builtin, "path": str(e.path), "arch": e.info.arch,
                           "output_kind": e.info.output_kind, "description": e.info.description} for e in entries]))
        return 0
    if not entries:
        print("no models installed")
    for e in entries:
        kind = "built-in" if e.builtin else "user"
        summary = e.info.description.strip().splitlines()[0] if e.info.description.strip() else ""
        print(f"{e.name:<20} {kind:<8} {e.info.arch:<10} {e.info.output_kind:<16} {summary}")
    return 0


def run_architectures(args: argparse.Namespace) -> int:
    from ..models import families

    rows = families()
    if args.json:
        print(json.dumps([{"name": name, "description": text} for name, text in rows]))
        return 0
    for name, text in rows:
        print(f"{name:<12} {text}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from ..modelfiles.modelfile import ModelFileError  # noqa: F401  (imported here so `chroma` starts without torch)
    from ..modelfiles.store import ModelStore
    try:
        entry = ModelStore().find(args.name)
    except ModelFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    record = {"name": entry.name, "path": str(entry.path), "builtin": entry.builtin, **entry.info.__dict__}
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        for key, value in record.items():
            print(f"{key}: {value}")
        card = entry.card()
        if card:
            print("\n" + card)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ..modelfiles.modelfile import ModelFileError  # noqa: F401  (imported here so `chroma` starts without torch)
    from ..modelfiles.store import ModelStore
    store = ModelStore()
    try:
        if args.file.suffix in (".pth", ".pt"):
            entry = store.import_eccv16(args.file, args.name)
        else:
            entry = store.import_file(args.file, args.name, overwrite=args.overwrite)
    except (ModelFileError, ValueError, FileExistsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"imported {entry.name} -> {entry.path}")
    _cache_graph(entry.path)
    return 0


def _cache_graph(model_file: Path) -> None:
    """Cache an imported model's ONNX graph now, while torch is loaded anyway, so its first
    `chroma colorize` already starts without torch (ml_core.inference.fast_path); never fails the import."""
    from ..inference.engine import Colorizer
    from ..inference.fast_path import needs_graph, remember_graph
    from ..modelfiles.modelfile import ModelFileError, load_model

    try:
        loaded = load_model(model_file)
    except ModelFileError:
        return  # just imported, so loadable; if not, colorize will say why
    if needs_graph(loaded, model_file):
        if problem := remember_graph(loaded, model_file, Colorizer(loaded).default_temperature):
            print(f"note: {model_file.stem} will start with torch: {problem}", file=sys.stderr)


def run_delete(args: argparse.Namespace) -> int:
    from ..modelfiles.modelfile import ModelFileError  # noqa: F401  (imported here so `chroma` starts without torch)
    from ..modelfiles.store import ModelStore
    try:
        path = ModelStore().delete(args.name)
    except (ModelFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: could not delete {args.name!r}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"deleted {path.stem} ({path})")
    return 0
