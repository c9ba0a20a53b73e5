"""The shipped models: listed, documented, loadable, and they really colorize."""

from __future__ import annotations

import numpy as np
from skimage.color import rgb2lab

from ml_core.evaluation.metrics import gray_image
from ml_core.inference.engine import Colorizer
from ml_core.io.imageio import read_image
from ml_core.modelfiles.store import ModelStore


def test_default_and_fast_ship_with_cards_and_calibrated_temperature(builtin_models) -> None:
    store = ModelStore()
    entries = {e.name: e for e in store.entries() if e.builtin}
    assert list(entries)[:2] == ["default", "fast"] and store.default_name() == "default"
    for entry in entries.values():
        card = entry.card()
        assert "Held-out validation" in card and "research-only" in card
        assert entry.info.temperature is not None and not entry.info.placeholder
        assert entry.path.stat().st_size < 30_000_000


def test_builtin_models_put_plausible_color_into_a_gray_photo(builtin_models, fixture_photos) -> None:
    photo = next(p for p in fixture_photos if p.name.startswith("landscape"))
    truth = read_image(photo).pixels
    gray = gray_image(truth)
    for name in ("default", "fast"):
        rgb = Colorizer(ModelStore().load(name)).colorize(gray).rgb
        lab = rgb2lab(rgb)
        assert np.hypot(lab[..., 1], lab[..., 2]).mean() > 5  # not gray, not a faint tint
        assert np.abs(lab[..., 0] - rgb2lab(np.repeat(gray[..., None], 3, 2))[..., 0]).max() <= 1.0
