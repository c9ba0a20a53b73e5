"""Model files: one NAME.safetensors per model, weights plus a JSON description.

safetensors cannot execute code on load (unlike pickle-based .pth), so a file a stranger shares
is safe to open. The metadata says how to rebuild the module (architecture + config) and how to
run it (color space, output kind, working size), and carries the training summary and metrics a
person wants to see before choosing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from ..io.atomic import atomic_write_bytes
from ..models import ColorModel, create
from .info import METADATA_KEY, ModelFileError, ModelInfo, read_info  # noqa: F401  (their home before info.py)
from .meta import MetadataError, check_size


@dataclass
class LoadedModel:
    model: ColorModel
    info: ModelInfo
    path: Path | None = None


def info_for(model: ColorModel, name: str, work_size: int | None = None, **extra: Any) -> ModelInfo:
    return ModelInfo(
        name=name,
        arch=model.arch,
        config=dict(model.config),
        color_space=model.space.name,
        output_kind=model.output_kind,
        work_size=int(work_size or model.default_work_size),
        **extra,
    )


def save_model(model: ColorModel, path: Path | str, info: ModelInfo, half: bool = False) -> Path:
    """Write atomically: a crash mid-write leaves the previous file (if any) untouched.

    `half` stores weights as float16 (half the bundle size); they are widened back to float32 on
    load so inference runs in fp32 on every CPU.
    """
    path = Path(path)
    tensors = {}
    for key, value in model.state_dict().items():
        value = value.detach().cpu().contiguous()
        if half and value.is_floating_point():
            value = value.half()
        tensors[key] = value
    # Serialized in memory (models are tens of MB) because safetensors' own file writer creates
    # owner-only (0600) files, which a shared or bundled model must not be.
    atomic_write_bytes(path, save(tensors, metadata={METADATA_KEY: info.to_json()}))
    return path


def build_model(info: ModelInfo, path: Path | str = "<model>") -> ColorModel:
    """The network a model file describes; its size is counted (without memory) before it is built."""
    try:
        check_size(info.arch, info.config)
    except MetadataError as exc:
        raise ModelFileError(path, exc.describe()) from None
    try:
        model = create(info.arch, **info.config)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(path, f"cannot build architecture {info.arch!r} with its config: {exc}") from None
    if model.space.name != info.color_space or model.output_kind != info.output_kind:
        raise ModelFileError(
            path,
            f"metadata says {info.color_space}/{info.output_kind} but {info.arch} with this config is "
            f"{model.space.name}/{model.output_kind}",
        )
    return model


def check_state_dict(model: ColorModel, tensors: dict[str, torch.Tensor], path: Path | str) -> None:
    """Name every missing, unexpected or misshapen tensor instead of a raw load_state_dict trace."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    wrong = [
        f"{k} is {tuple(tensors[k].shape)}, expected {tuple(v.shape)}"
        for k, v in expected.items()
        if k in tensors and tuple(tensors[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing {len(missing)} tensors (e.g. {', '.join(missing[:3])})")
    if extra:
        problems.append(f"{len(extra)} unexpected tensors (e.g. {', '.join(extra[:3])})")
    if wrong:
        problems.append("; ".join(wrong[:3]))
    if problems:
        raise ModelFileError(path, f"weights do not match architecture {model.arch}: " + "; ".join(problems))


def load_model(path: Path | str) -> LoadedModel:
    """Load a model file for inference (eval mode, float32)."""
    path = Path(path)
    info = read_info(path)
    model = build_model(info, path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(path, f"weights are unreadable ({exc})") from None
    check_state_dict(model, tensors, path)
    expected = model.state_dict()
    tensors = {k: v.to(expected[k].dtype) for k, v in tensors.items()}
    if not all(torch.isfinite(v).all() for v in tensors.values() if v.is_floating_point()):
        raise ModelFileError(path, "weights contain NaN or infinite values")
    model.load_state_dict(tensors)
    model.eval()
    return LoadedModel(model=model, info=info, path=path)
