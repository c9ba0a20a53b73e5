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
    """No test may read or write the real per-user model store or cache."""
    base = tmp_path_factory.mktemp("chroma-user")
    monkeypatch.setenv("CHROMA_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("CHROMA_CACHE_DIR", str(base / "cache"))


@pytest.fixture
def fixture_photos() -> list[Path]:
    photos = sorted(FIXTURES.glob("*.jpg"))
    if not photos:
        pytest.skip("shared/photos/fixtures is not beside the repo")
    return photos
