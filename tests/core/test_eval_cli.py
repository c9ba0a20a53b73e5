"""`chroma eval`: every metric and the gray baseline, as a table and as one JSON object."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ml_core import cli
from ml_core.commands.evaluate import ROWS
from ml_core.modelfiles.modelfile import info_for, save_model
from ml_core.models import create
from ml_core.training.synthetic import write_synthetic_photos

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "photos" / "fixtures"  # ../shared beside the repo
JSON_KEYS = {"psnr", "ssim", "auc", "auc_rebalanced", "colorfulness_ratio", "gray_psnr", "gray_auc",
             "gray_auc_rebalanced", "images"}


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMA_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setenv("CHROMA_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("CHROMA_RESOURCES_DIR", str(tmp_path / "resources"))


@pytest.fixture
def model_file(tmp_path) -> Path:
    torch.manual_seed(0)
    model = create("unet", width=8, depth=2, head="bins313")
    return save_model(model, tmp_path / "tiny.safetensors", info_for(model, "tiny", 64))


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared fixtures not available")
def test_eval_on_the_fixtures_prints_every_metric_and_the_gray_baseline(model_file, capsys):
    assert cli.main(["eval", str(FIXTURES), "--model", str(model_file), "--size", "64", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "8 photos" in out and "gray" in out.splitlines()[1]
    for label, *_ in ROWS:
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert len(line.split()) >= 2

    assert cli.main(["eval", str(FIXTURES), "--model", str(model_file), "--size", "64", "--limit", "3",
                     "--json", "--quiet"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert JSON_KEYS <= set(record) and record["images"] == 3
    for key in JSON_KEYS - {"images"}:
        assert math.isfinite(record[key]), key
    assert 0 < record["gray_auc_rebalanced"] < record["gray_auc"] < 1  # rare vivid colors are far from gray
    assert record["colorfulness_ratio"] > 0 and 0 < record["ssim"] <= 1


def test_eval_skips_gray_photos_and_reports_generated_ones(model_file, tmp_path, capsys):
    folder = tmp_path / "eval"
    write_synthetic_photos(folder, 3, size=(48, 64))
    Image.fromarray(np.full((32, 32), 90, np.uint8)).save(folder / "old_print.png")
    assert cli.main(["eval", str(folder), "--model", str(model_file), "--json", "--quiet", "--per-image"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)
    assert record["images"] == 3 and record["skipped"] == 1 and len(record["per_image"]) == 3
    assert "old_print.png" in captured.err and "grayscale" in captured.err
    assert record["model"] == "tiny" and record["size"] == 64


def test_eval_without_photos_or_model_fails_clearly(model_file, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["eval", str(tmp_path / "empty"), "--model", str(model_file)]) == 2
    assert cli.main(["eval", str(tmp_path / "empty"), "--model", "no-such-model"]) == 2
    assert "error" in capsys.readouterr().err
