"""End to end, as a user would: train a tiny model from the command line, then colorize with it."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from skimage.color import rgb2lab

from ml_core.cli import main
from ml_core.modelfiles.store import ModelStore
from ml_core.training.synthetic import write_synthetic_photos


def test_train_a_tiny_model_then_colorize_with_it(tmp_path, capsys) -> None:
    photos = write_synthetic_photos(tmp_path / "photos", 24, size=(64, 80), seed=3)
    code = main(["train", str(tmp_path / "photos"), "--arch", "unet", "--set", "width=8", "--steps", "6",
                 "--batch-size", "4", "--size", "64", "--val-fraction", "0.2", "--out", "e2e", "--quiet"])
    assert code == 0
    entry = ModelStore().find("e2e")
    assert entry.card_path.is_file() and entry.info.training

    gray_dir = tmp_path / "gray"
    gray_dir.mkdir()
    for p in photos[:3]:
        Image.open(p).convert("L").save(gray_dir / p.name)
    capsys.readouterr()
    assert main(["colorize", str(gray_dir), "-o", str(tmp_path / "out"), "--model", "e2e", "--json", "--quiet"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 3 and all(r["ok"] for r in records)
    for r in records:
        src, out = np.asarray(Image.open(r["source"]).convert("RGB")), np.asarray(Image.open(r["output"]))
        assert out.shape == src.shape
        assert np.abs(rgb2lab(out)[..., 0] - rgb2lab(src)[..., 0]).max() <= 1.0
