"""The same `chroma train` command under torchrun: 2 processes, DistributedDataParallel, gloo on CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ml_core.modelfiles.modelfile import load_model
from ml_core.training.checkpoint import load_checkpoint
from ml_core.training.synthetic import write_synthetic_photos

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_process_ddp_training_on_localhost(tmp_path):
    photos = tmp_path / "photos"
    write_synthetic_photos(photos, 16, size=(40, 48), seed=2)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        CHROMA_DATA_DIR=str(tmp_path / "data"), CHROMA_CACHE_DIR=str(tmp_path / "cache"),
        CHROMA_RESOURCES_DIR=str(tmp_path / "resources"), OMP_NUM_THREADS="1",
    )
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "ml_core.cli", "train", str(photos), "--arch", "unet", "--set", "width=8", "--set", "depth=2",
        "--set", "head=bins313", "--steps", "4", "--batch-size", "3", "--size", "32", "--val-fraction", "0.25",
        "--out", "ddp", "--device", "cpu", "--quiet", "--workers", "0", "--threads", "1",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert proc.stdout.count("saved ddp") == 1  # only rank 0 reports and writes
    assert "on cpu x2" in proc.stderr

    model_path = tmp_path / "data" / "models" / "ddp.safetensors"
    loaded = load_model(model_path)
    settings = loaded.info.training["settings"]
    assert settings["world_size"] == 2 and settings["batch_size"] == 3
    assert loaded.info.training["data"]["train"] == 12 and loaded.info.metrics["images"] == 4
    state = load_checkpoint(tmp_path / "data" / "runs" / "ddp" / "checkpoint.pt")
    assert state["step"] == 4 and state["epoch"] == 2  # 12 photos / (3 x 2 processes) = 2 steps per epoch
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
