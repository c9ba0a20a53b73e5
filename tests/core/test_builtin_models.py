"""The shipped models: listed, documented, loadable, and they really colorize."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab

from ml_core.evaluation.metrics import gray_image
from ml_core.inference.engine import Colorizer
from ml_core.io.imageio import read_image
from ml_core.modelfiles.store import ModelStore


def _builtins() -> list:
    return [e for e in ModelStore().entries() if e.builtin]


def test_every_built_in_ships_with_a_card_and_the_default_comes_first(builtin_models) -> None:
    entries = _builtins()
    assert [e.name for e in entries][:2] == ["default", "fast"] and ModelStore().default_name() == "default"
    assert len(entries) >= 2
    for entry in entries:
        card = entry.card()
        assert "Held-out validation" in card and "research-only" in card, entry.name
        assert not entry.info.placeholder, entry.name
        if entry.info.output_kind != "ab":  # classification: a temperature chosen for it, stated in the file
            assert entry.info.temperature is not None, entry.name
        assert entry.path.stat().st_size < 30_000_000, entry.name


def test_every_built_in_colorizes_a_fixture_and_keeps_its_lightness(builtin_models, fixture_photos) -> None:
    """Loops over the store, not a hand-kept list: a model added to resources/models is tested too."""
    photo = next(p for p in fixture_photos if p.name.startswith("landscape"))
    gray = gray_image(read_image(photo).pixels)
    gray_l = rgb2lab(np.repeat(gray[..., None], 3, 2))[..., 0]
    for entry in _builtins():
        rgb = Colorizer(ModelStore().load(entry.name)).colorize(gray).rgb
        assert rgb.shape == (*gray.shape, 3), entry.name
        lab = rgb2lab(rgb)
        assert np.hypot(lab[..., 1], lab[..., 2]).mean() > 2, entry.name  # some color, not a gray copy
        assert np.abs(lab[..., 0] - gray_l).max() <= 1.0, entry.name


def test_the_shipped_default_and_fast_put_plausible_color_into_a_gray_photo(builtin_models, fixture_photos) -> None:
    photo = next(p for p in fixture_photos if p.name.startswith("landscape"))
    gray = gray_image(read_image(photo).pixels)
    for name in ("default", "fast"):
        lab = rgb2lab(Colorizer(ModelStore().load(name)).colorize(gray).rgb)
        assert np.hypot(lab[..., 1], lab[..., 2]).mean() > 5, name  # not gray, not a faint tint
