"""Plain words for a model: one line from its metadata, labelled metrics, nothing bare."""

from __future__ import annotations

from types import SimpleNamespace

from ml_core.modelfiles.plain import metric_lines, plain_summary


def info(**kw):
    base = dict(output_kind="bins313", work_size=256, config={}, metrics={}, training={})
    base.update(kw)
    return SimpleNamespace(**base)


def test_the_line_says_how_colorful_and_how_fast() -> None:
    lively = info(metrics={"colorfulness_ratio": 0.93}, training={"parameters": 7_196_325, "steps_completed": 3000})
    assert plain_summary(lively) == "Lively color · about a second per photo"
    small = info(metrics={"colorfulness_ratio": 0.55}, training={"parameters": 1_804_053})
    assert plain_summary(small) == "Muted, cautious color · fastest: instant previews"
    assert "several seconds" in plain_summary(info(work_size=512, training={"parameters": 44_000_000}))
    assert plain_summary(info(), parameters=1_000_000) == "Fastest: instant previews"  # counted by the caller
    assert plain_summary(info()) == ""  # nothing known: the caller falls back to the author's words


def test_fine_tunes_tests_and_old_print_models_say_so() -> None:
    tuned = info(metrics={"colorfulness_ratio": 0.9}, training={
        "parameters": 7e6, "base": "default", "from_scratch": False, "data": {"train": 240}, "steps_completed": 800})
    assert plain_summary(tuned) == "Lively color · about a second per photo · tuned from default on 240 of your photos"
    test = info(metrics={"colorfulness_ratio": 0.43}, training={"data": {"train": 7}, "steps_completed": 4})
    assert plain_summary(test).startswith("A quick test, trained on only 7 photos")
    prints = info(config={"input_levels": True}, training={"settings": {"damage": True}})
    assert plain_summary(prints) == "Copes with faded, damaged prints"


def test_metrics_get_labels_and_units_and_unknown_names_are_left_out() -> None:
    lines = dict(metric_lines({"ab_mse": 491.5, "psnr": 23.49, "colorfulness_ratio": 0.937, "val_loss": 2.6,
                               "gray_psnr": 22.7, "auc": float("nan")}))
    assert lines["Average color error (mean squared a*b* distance)"] == "491.5 CIELAB units² (lower is better)"
    assert lines["Closeness to the real colors (PSNR)"] == "23.5 dB (higher is better)"
    assert lines["Colorfulness compared with the real photos"].startswith("93.7 %")
    assert len(lines) == 3  # val_loss, gray_psnr (no label) and a NaN are not shown bare
