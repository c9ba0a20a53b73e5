"""Shared test setup: headless Qt, per-test user folders, and the fixture photos beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "photos" / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read or write the real per-user model store or cache, and tests see no built-in
    models unless they ask for them (`builtin_models`), so their model lists do not depend on
    which trained models happen to ship."""
    base = tmp_path_factory.mktemp("chroma-user")
    monkeypatch.setenv("CHROMA_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("CHROMA_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("CHROMA_BUILTIN_MODELS_DIR", str(base / "builtin-models"))


@pytest.fixture
def builtin_models(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped built-in models (resources/models), for tests about them."""
    folder = REPO / "resources" / "models"
    monkeypatch.setenv("CHROMA_BUILTIN_MODELS_DIR", str(folder))
    return folder


@pytest.fixture
def fixture_photos() -> list[Path]:
    photos = sorted(FIXTURES.glob("*.jpg"))
    if not photos:
        pytest.skip("shared/photos/fixtures is not beside the repo")
    return photos


@pytest.fixture
def tiny_model() -> str:
    """An untrained 8-wide U-Net in the user store: a few milliseconds per photo, the real code path."""
    from model_helpers import write_tiny_model

    return write_tiny_model()
