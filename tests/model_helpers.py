"""Tiny untrained models written to the per-test user store: the real code path in milliseconds."""

from __future__ import annotations

import torch

from ml_core.io import paths
from ml_core.modelfiles.modelfile import info_for, save_model
from ml_core.models import create


def write_tiny_model(work_size: int = 64, name: str = "tiny", **config: object) -> str:
    """An untrained U-Net (8 wide unless `config` says otherwise), seeded, saved as `name`."""
    torch.manual_seed(0)
    model = create("unet", **{"width": 8, **config})
    save_model(model, paths.user_models_dir() / f"{name}.safetensors",
               info_for(model, name, work_size=work_size, description="test model"))
    return name
