"""A model file's description (its JSON header), read without its weights.

Why a module of its own: the store (ml_core.modelfiles.store) imports only this, so it can be
imported, and a model file located by name (`ModelStore.locate`), without `import torch`
(2.3-2.9 s here), as the torch-free ONNX path needs. Checking a header against the model
registry (ml_core.modelfiles.meta) still imports torch; loading weights is ml_core.modelfiles.modelfile's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open

from ..errors import PathError
from ..io.safe_text import clean_text
from .meta import FORMAT, FORMAT_VERSION, MetadataError, check_metadata

METADATA_KEY = "chroma"


class ModelFileError(PathError, ValueError):
    """A model file that cannot be used; the message names the file and the problem."""

    # Reasons may quote the file (a bad value, a parser's complaint about its header): shown to a
    # person, so without control characters (see safe_text).
    shown = staticmethod(clean_text)


@dataclass
class ModelInfo:
    """Everything in a model file except the weights; cheap to read for a model list."""

    name: str
    arch: str
    config: dict[str, Any]
    color_space: str
    output_kind: str
    work_size: int
    description: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    placeholder: bool = False
    # Annealed-mean temperature calibrated on held-out photos (classification models); None means
    # the library default. Vividness is a per-model trade-off, so the model file carries it.
    temperature: float | None = None

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": FORMAT_VERSION, **self.__dict__}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, path: Path | str) -> "ModelInfo":
        """Parse and check every field (see `model_meta`): a stranger's file is hostile input."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelFileError(path, f"metadata is not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise ModelFileError(path, "metadata is nested too deeply to be a Chroma model file") from None
        except ValueError as exc:  # e.g. an integer with thousands of digits
            raise ModelFileError(path, f"metadata is not usable JSON ({exc})") from None
        return cls.from_dict(raw, path)

    @classmethod
    def from_dict(cls, raw: Any, path: Path | str) -> "ModelInfo":
        """A parsed metadata value -> ModelInfo, or ModelFileError naming the file and the field."""
        try:
            return cls(**check_metadata(raw))
        except MetadataError as exc:
            raise ModelFileError(path, exc.describe()) from None


def read_info(path: Path | str) -> ModelInfo:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such model file")
    try:
        with safe_open(str(path), framework="numpy") as fh:
            meta = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(path, f"not a readable safetensors file ({exc})") from None
    if METADATA_KEY not in meta:
        raise ModelFileError(path, "not a Chroma model file (no chroma metadata)")
    return ModelInfo.from_json(meta[METADATA_KEY], path)
