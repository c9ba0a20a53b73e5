"""One metrics table: the card, `chroma eval`, the report scripts and the trainer read the same rows."""

from __future__ import annotations

from ml_core.commands.evaluate import format_table
from ml_core.evaluation.metric_table import METRICS, QUALITY, SELECT_METRICS, comparison_table, is_better
from ml_core.training.card import metrics_table
from ml_core.training.config import SELECT_METRICS as TRAINER_SELECT


def test_card_eval_and_reports_label_and_round_a_metric_the_same_way():
    summary = {"psnr": 23.456, "gray_psnr": 22.04, "ab_mse": 491.46, "gray_ab_mse": 612.3, "ssim": 0.91234,
               "gray_ssim": 0.9, "auc": 0.9, "gray_auc": 0.88, "auc_rebalanced": 0.7, "gray_auc_rebalanced": 0.6,
               "colorfulness_ratio": 0.9371, "images": 8}
    card = metrics_table(summary)
    table = format_table(summary).splitlines()
    report = comparison_table({"tiny": summary}).splitlines()
    for key in QUALITY:
        m = METRICS[key]
        value = m.format(summary[key])
        assert any(line.startswith(f"| {m.label}") and f"| {value} |" in line for line in card), key
        assert any(line.startswith(m.label) and value in line.split() for line in table), key
        assert m.label in report[0] and f"| {value} |" in report[3], key
    assert "| 22.04 |" in report[2] and "| 612.3 |" in report[2]  # the gray baseline row
    assert "491.46" not in " ".join(card) + " ".join(table)  # one format ({:.1f}) where there were two


def test_which_way_is_better_comes_from_the_table():
    assert TRAINER_SELECT is SELECT_METRICS and SELECT_METRICS["val_loss"] == "min" and SELECT_METRICS["psnr"] == "max"
    assert is_better("psnr", 24.0, 23.0) and is_better("ab_mse", 400.0, 500.0)
    assert is_better("colorfulness_ratio", 0.95, 1.2) and not is_better("colorfulness_ratio", 0.5, 0.9)
    assert is_better("images", 10, 5) is None and is_better("psnr", 23.0, None) is None
