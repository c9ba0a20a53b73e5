"""Where Chroma keeps things: bundled resources, per-user models, per-user caches.

User data never goes inside the install or the app bundle (which may be read-only); tests and
portable setups redirect everything with CHROMA_DATA_DIR / CHROMA_CACHE_DIR (and the built-in
model folder with CHROMA_BUILTIN_MODELS_DIR).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "Chroma"


def resources_dir() -> Path:
    """`resources/` beside the packages in a source checkout, or inside a PyInstaller bundle."""
    override = os.environ.get("CHROMA_RESOURCES_DIR")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def builtin_models_dir() -> Path:
    override = os.environ.get("CHROMA_BUILTIN_MODELS_DIR")  # tests that need an empty or custom set
    return Path(override) if override else resources_dir() / "models"


def user_data_dir() -> Path:
    override = os.environ.get("CHROMA_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_models_dir() -> Path:
    return user_data_dir() / "models"


def user_cache_dir() -> Path:
    override = os.environ.get("CHROMA_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def runs_dir() -> Path:
    """Training runs (checkpoints, logs) live here so an interrupted run can be offered for resume."""
    return user_data_dir() / "runs"
