"""Say it plainly (issue 17): vividness in words, models described by what they do, an
uncertainty overlay scaled per photo with a legend, and a version in About."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize

from desktop_app import imaging

from gui_helpers import drop_files


def test_vividness_reads_as_words_and_keeps_the_temperature_in_the_tooltip(qtbot) -> None:
    from desktop_app.colorize.controls import AdjustPanel

    panel = AdjustPanel()
    qtbot.addWidget(panel)
    panel.set_model_defaults(256, True, temperature=0.3)
    row = panel.vivid_row
    assert row.value_label.text() == "Model's choice"
    assert "T = 0.30" in row.slider.toolTip()
    row.slider.setValue(row.slider.value() + 10)
    assert row.value_label.text() == "More vivid" and "T = 0.20" in row.slider.toolTip()
    row.slider.setValue(5)
    assert row.value_label.text() == "Much more natural"
    assert "T =" not in row.value_label.text()


def test_the_model_selector_and_details_speak_plainly(ready_window) -> None:
    panel = ready_window.colorize_tab.model_panel
    choice = panel.current_choice()
    assert choice is not None and choice.plain  # derived from the file's own metadata
    assert "fastest" in choice.summary().lower()  # a tiny model: the speed is said
    assert choice.summary() in panel.summary.text()
    details = choice.details_markdown()
    assert "val_psnr" not in details and "Tiny untrained test model" in details  # the author's words stay, in details
    assert "temperature T = " in details


def test_the_overlay_is_scaled_to_the_photo_and_a_flat_map_stays_pale() -> None:
    confidence = np.full((40, 60), 0.9, dtype=np.float32)
    confidence[10:20, 10:20] = 0.7  # the one place the model hesitates
    image, (sure, unsure) = imaging.uncertainty_overlay(confidence, QSize(60, 40))
    alpha = lambda x, y: image.pixelColor(x, y).alpha()  # noqa: E731
    assert alpha(15, 15) >= 140 and alpha(50, 35) <= 5  # full tint where it hesitates, clear elsewhere
    assert abs(sure - 0.9) < 1e-6 and abs(unsure - 0.7) < 1e-6
    flat, _ = imaging.uncertainty_overlay(np.full((40, 60), 0.8, dtype=np.float32), QSize(60, 40))
    assert max(flat.pixelColor(x, y).alpha() for x in range(0, 60, 7) for y in range(0, 40, 7)) < 60


def test_the_overlay_has_a_legend_that_says_how_it_is_scaled(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    drop_files(ready_window, gray_photos[:1])
    item = tab.queue.items[0]
    qtbot.waitUntil(lambda: item.preview is not None and tab._shown_item == item.id, timeout=30_000)
    tab.commands["confidence"].setChecked(True)
    assert tab.view.overlay_visible()
    sure, unsure = item.preview.overlay_range
    assert sure >= unsure
    assert tab.view.legend_text().startswith("Scaled to this photo")
    assert f"{sure:.0%} sure" in tab.view.legend_text()
    tab.view.grab()  # paints the legend without error


def test_about_shows_the_installed_version_and_links_the_readme() -> None:
    from importlib.metadata import version

    from desktop_app.about import about_html

    text = about_html()
    assert f"Chroma {version('chroma-colorizer')}" in text
    assert "README.md" in text and "href=" in text


def test_about_falls_back_when_the_package_is_not_installed(monkeypatch) -> None:
    from importlib import metadata

    from desktop_app import about

    def missing(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert "Chroma development version" in about.about_html()


def test_the_selector_groups_built_in_and_your_models_and_headings_cannot_be_chosen(qtbot) -> None:
    from desktop_app.colorize.controls import ModelPanel, NameRole
    from desktop_app.colorize.jobs import ModelChoice

    def choice(name: str, builtin: bool) -> ModelChoice:
        return ModelChoice(name=name, description=f"{name} model", builtin=builtin, arch="unet",
                           output_kind="bins313", work_size=256, plain=f"{name}: lively color")

    panel = ModelPanel()
    qtbot.addWidget(panel)
    # The store lists user models after built-ins, but a mixed list must still come out grouped.
    panel.set_choices([choice("mine", False), choice("default", True), choice("fast", True)], "fast")
    rows = [(panel.combo.itemText(i), panel.combo.itemData(i, NameRole)) for i in range(panel.combo.count())]
    assert rows == [("Built-in models", None), ("default", "default"), ("fast", "fast"),
                    ("Your models (trained or imported)", None), ("mine", "mine")]
    assert panel.current_name() == "fast" and panel.names() == ["default", "fast", "mine"]
    heading = panel.combo.model().item(0)
    assert not heading.isEnabled() and not heading.isSelectable()
    assert panel.select("mine") and panel.combo.currentIndex() == 4
    panel.set_choices([choice("default", True)], "gone")  # a selection that no longer exists: the first model
    assert panel.current_name() == "default"
