"""Training runs on disk: runs_dir()/<run>/checkpoint.pt + run.json, always written atomically.

checkpoint.pt is a torch.save of a plain dict of tensors, numbers, strings, lists and dicts, so
it loads with torch.load(weights_only=True) (no code runs on load). run.json holds the training
config and the run's status, cheap to read for a "resume an interrupted run" list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import PathError
from ..io import paths
from ..io.atomic import atomic_path, atomic_write_text

CHECKPOINT_FORMAT = "chroma-checkpoint"
CHECKPOINT_VERSION = 1
CHECKPOINT_FILE = "checkpoint.pt"
RUN_FILE = "run.json"


class CheckpointError(PathError, ValueError):
    """A checkpoint or run file that cannot be read or written."""


def run_dir(name: str) -> Path:
    return paths.runs_dir() / name


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str))


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(path, "not found") from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(path, f"unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise CheckpointError(path, "not a run description")
    return data


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}, tmp)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no checkpoint (was the run ever started, or already cleaned up?)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors of every kind
        raise CheckpointError(path, f"the checkpoint is unreadable ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(path, "not a Chroma training checkpoint")
    if int(state.get("version", 0)) > CHECKPOINT_VERSION:
        raise CheckpointError(path, "made by a newer Chroma; please update")
    return state


@dataclass(frozen=True)
class RunRecord:
    """A training run found on disk (for a 'resume' list)."""

    name: str
    path: Path
    status: str  # running | cancelled | completed | failed
    epoch: int
    step: int
    total_steps: int
    model_name: str
    updated: float
    has_checkpoint: bool
    message: str = ""

    @property
    def resumable(self) -> bool:
        return (self.has_checkpoint and self.status in ("cancelled", "running", "failed")
                and self.step < self.total_steps)


def list_runs() -> list[RunRecord]:
    """Runs under runs_dir(), most recently updated first; unreadable ones are skipped."""
    root = paths.runs_dir()
    out = []
    if not root.is_dir():
        return out
    for folder in root.iterdir():
        meta = folder / RUN_FILE
        if not meta.is_file():
            continue
        try:
            data = read_json(meta)
        except CheckpointError:
            continue
        progress = data.get("progress", {})
        out.append(RunRecord(
            name=folder.name, path=folder, status=str(data.get("status", "unknown")),
            epoch=int(progress.get("epoch", 0)), step=int(progress.get("step", 0)),
            total_steps=int(progress.get("total_steps", 0)), model_name=str(data.get("model_name", "")),
            updated=meta.stat().st_mtime, has_checkpoint=(folder / CHECKPOINT_FILE).is_file(),
            message=str(data.get("message", "")),
        ))
    out.sort(key=lambda r: r.updated, reverse=True)
    return out
