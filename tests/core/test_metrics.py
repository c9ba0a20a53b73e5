"""Metrics: PSNR/SSIM, AuC (plain and rebalanced), colorfulness, ab MSE, gray baseline."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ml_core.evaluation import metrics as m
from ml_core.training.synthetic import synthetic_photo

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "photos" / "fixtures"  # ../shared beside the repo


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return synthetic_photo(np.random.default_rng(4), 48, 64)


def test_a_perfect_prediction_scores_perfectly(photo):
    acc = m.MetricAccumulator()
    one = acc.add(photo, photo)
    s = acc.summary()
    assert one["psnr"] == m.PSNR_CAP and one["ssim"] == pytest.approx(1.0)
    assert s["auc"] == pytest.approx(1.0) and s["auc_rebalanced"] == pytest.approx(1.0)
    assert s["ab_mse"] == 0.0 and s["colorfulness_ratio"] == pytest.approx(1.0) and s["images"] == 1


def test_gray_baseline_has_the_photos_lightness_and_no_chroma(photo):
    gray = m.gray_baseline(photo)
    lab_gray, lab_true = m.lab_image(gray), m.lab_image(photo)
    assert float(lab_gray[1:].abs().max()) < 0.05
    assert float((lab_gray[0] - lab_true[0]).abs().max()) < 0.6  # 8-bit rounding of L
    acc = m.MetricAccumulator()
    rec = acc.add(gray, photo)  # predicting gray scores exactly the gray baseline
    for key in ("psnr", "ssim", "auc", "ab_mse"):
        assert rec[key] == pytest.approx(rec[f"gray_{key}"])
    s = acc.summary()
    assert s["auc_rebalanced"] == pytest.approx(s["gray_auc_rebalanced"])
    assert s["colorfulness"] == pytest.approx(0.0, abs=1e-6) and s["gray_auc"] < 1.0


def test_auc_counts_pixels_within_each_threshold():
    q = m._metric_bins()[0].count
    hist = torch.zeros(q, m.AUC_MAX_ERROR + 2, dtype=torch.float64)
    hist[0, 20] = 1.0  # every pixel 20 units off: counted from t = 20 to t = 150
    assert m.auc_from_histogram(hist) == pytest.approx(131 / 151)
    hist[:] = 0
    hist[0, m.AUC_MAX_ERROR + 1] = 1.0  # beyond 150: never counted
    assert m.auc_from_histogram(hist) == 0.0


def test_rebalanced_auc_gives_rare_colors_equal_say():
    bins, _, _ = m._metric_bins()
    common = int(bins.nearest(torch.zeros(2, 1, 1)))
    rare = int(bins.nearest(torch.tensor([60.0, 60.0]).view(2, 1, 1)))
    hist = torch.zeros(bins.count, m.AUC_MAX_ERROR + 2, dtype=torch.float64)
    hist[common, 0] = 0.9  # the common (gray) pixels are right
    hist[rare, m.AUC_MAX_ERROR + 1] = 0.1  # the rare vivid ones are badly wrong
    plain = m.auc_from_histogram(hist)
    rebalanced = m.auc_from_histogram(hist, m.rebalance_class_weights(hist))
    assert plain == pytest.approx(0.9)
    assert rebalanced == pytest.approx(0.5, abs=0.01)


def test_known_colorfulness_values():
    assert m.colorfulness(np.full((8, 8, 3), 128, np.uint8)) == 0.0
    red = np.zeros((4, 4, 3), np.uint8)
    red[..., 0] = 200  # rg = 200, yb = 100, no spread
    assert m.colorfulness(red) == pytest.approx(0.3 * math.hypot(200, 100))


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared fixtures not available")
def test_colorfulness_matches_the_fixture_manifest():
    rows = list(csv.DictReader(open(FIXTURES / "manifest.csv")))
    for row in rows:
        rgb = np.asarray(Image.open(FIXTURES / row["path"]).convert("RGB"))
        assert m.colorfulness(rgb) == pytest.approx(float(row["colorfulness"]), rel=0.07)


def test_accumulator_state_merges_like_one_pass(photo):
    other = synthetic_photo(np.random.default_rng(5), 48, 64)
    pred_a, pred_b = m.gray_baseline(photo), np.roll(other, 3, axis=1)
    whole = m.MetricAccumulator(with_ssim=False)
    whole.add(pred_a, photo)
    whole.add(pred_b, other)
    a, b = m.MetricAccumulator(with_ssim=False), m.MetricAccumulator(with_ssim=False)
    a.add(pred_a, photo)
    b.add(pred_b, other)
    merged = m.MetricAccumulator(with_ssim=False)
    merged.load_state_tensor(a.state_tensor() + b.state_tensor())  # what an all-reduce does
    for key, value in whole.summary().items():
        assert merged.summary()[key] == pytest.approx(value, nan_ok=True)


def test_mismatched_inputs_are_rejected(photo):
    with pytest.raises(ValueError):
        m.MetricAccumulator().add(photo[:10], photo)
    with pytest.raises(ValueError):
        m.MetricAccumulator().add(photo.astype(np.float32), photo)
