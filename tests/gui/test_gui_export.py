"""Export from the window: full-size files, right names, originals untouched, overwrite asked, cancel."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from desktop_app.colorize.export_dialog import SCOPE_DONE, ExportDialog
from desktop_app.settings import AppSettings
from ml_core.inference.batch import ExportSettings

from gui_helpers import digest, wait_all_settled


def export(qtbot, tab, settings: ExportSettings, items) -> object:
    with qtbot.waitSignal(tab.export_finished, timeout=60_000) as finished:
        assert tab.start_export(settings, items)
    return finished.args[0]


def test_export_writes_full_size_files_with_the_right_names(ready_window, qtbot, gray_photos, tmp_path) -> None:
    tab = ready_window.colorize_tab
    before = digest(gray_photos)
    tab.add_paths(gray_photos)
    wait_all_settled(qtbot, tab)
    out = tmp_path / "out"
    report = export(qtbot, tab, ExportSettings(out_dir=out, fmt="jpg", quality=90), tab.done_items())
    assert not report.failed and not report.cancelled
    assert sorted(p.name for p in out.iterdir()) == [f"photo_{i}_color.jpg" for i in range(1, 5)]
    for source in gray_photos:
        with Image.open(out / f"{source.stem}_color.jpg") as result, Image.open(source) as original:
            assert result.size == original.size  # full resolution, not the preview
            assert result.mode == "RGB"
    assert digest(gray_photos) == before
    assert tab.confirm_calls == []


def test_export_into_the_photos_folder_never_touches_originals(ready_window, qtbot, gray_photos) -> None:
    tab = ready_window.colorize_tab
    before = digest(gray_photos)
    tab.add_paths(gray_photos[:2])
    wait_all_settled(qtbot, tab)
    # A pattern that names the output exactly like the original: ml_core refuses, per photo.
    report = export(qtbot, tab, ExportSettings(out_dir=gray_photos[0].parent, fmt="jpg", pattern="{name}"),
                    tab.done_items())
    assert len(report.failed) == 2 and "original" in report.failed[0].error
    assert digest(gray_photos) == before
    assert tab.reports == [report]  # failures are reported at the end
    assert tab.confirm_calls == []  # originals are not "earlier exports": no overwrite question


def test_export_asks_before_replacing_an_earlier_export(ready_window, qtbot, gray_photos, tmp_path) -> None:
    tab = ready_window.colorize_tab
    tab.add_paths(gray_photos[:1])
    wait_all_settled(qtbot, tab)
    out = tmp_path / "out"
    export(qtbot, tab, ExportSettings(out_dir=out), tab.done_items())
    target = out / "photo_1_color.png"
    target.write_bytes(b"earlier export")
    tab.confirm_answer = False
    assert not tab.start_export(ExportSettings(out_dir=out), tab.done_items())
    assert len(tab.confirm_calls) == 1 and "photo_1_color.png" in tab.confirm_calls[0][1]
    assert target.read_bytes() == b"earlier export"
    tab.confirm_answer = True
    report = export(qtbot, tab, ExportSettings(out_dir=out), tab.done_items())
    assert report.written == [target] and target.read_bytes() != b"earlier export"


def test_export_continues_past_a_failed_photo_and_reports_it(ready_window, qtbot, gray_photos, tmp_path) -> None:
    tab = ready_window.colorize_tab
    tab.add_paths(gray_photos[:3])
    wait_all_settled(qtbot, tab)
    gray_photos[1].write_bytes(b"overwritten by another program since it was added")
    report = export(qtbot, tab, ExportSettings(out_dir=tmp_path / "out"), tab.done_items())
    assert [o.source for o in report.failed] == [gray_photos[1]]
    assert sorted(p.name for p in report.written) == ["photo_1_color.png", "photo_3_color.png"]
    assert tab.reports == [report]
    assert "1 failed" in ready_window.statusBar().currentMessage()


def test_cancelling_an_export_stops_it_cleanly(ready_window, qtbot, gray_photos, tmp_path) -> None:
    tab = ready_window.colorize_tab
    many = []
    for i in range(3):  # 12 photos, so the cancel lands well before the end
        for p in gray_photos:
            copy = p.with_name(f"{p.stem}_{i}.jpg")
            copy.write_bytes(p.read_bytes())
            many.append(copy)
    tab.add_paths(many)
    wait_all_settled(qtbot, tab, timeout=60_000)
    tab.exporter.progress.connect(lambda done, total: done >= 1 and tab.cancel_export())
    out = tmp_path / "out"
    report = export(qtbot, tab, ExportSettings(out_dir=out), tab.done_items())
    assert report.cancelled
    assert 1 <= len(report.written) < len(many)
    assert sorted(out.iterdir()) == sorted(report.written)  # no half-written or temporary files
    assert not tab.exporter.running and not tab.export_progress.isVisible()
    assert tab.commands["export_all"].isEnabled()


def test_export_dialog_gathers_settings_and_validates(qtbot, tmp_path) -> None:
    settings = AppSettings(tmp_path / "settings.ini")
    dialog = ExportDialog(None, settings, selected=Path("/photos/grandma.jpg"), done_count=3,
                          default_dir=str(tmp_path / "exports"), model_name="tiny", scope=SCOPE_DONE)
    qtbot.addWidget(dialog)
    assert dialog.scope() == SCOPE_DONE
    assert "grandma_color.jpg" in dialog.preview_label.text()  # by default a JPEG stays a JPEG
    assert dialog.export_settings().fmt is None  # ml_core picks each photo's own format
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("png"))
    assert "grandma_color.png" in dialog.preview_label.text()
    assert not dialog.quality_spin.isEnabled()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("jpg"))
    assert dialog.quality_spin.isEnabled()
    dialog.pattern_edit.setText("{name}-{model}")
    assert "grandma-tiny.jpg" in dialog.preview_label.text()
    dialog.pattern_edit.setText("{nope}")
    assert not dialog.export_button.isEnabled()
    dialog.pattern_edit.setText("{name}_color")
    dialog.quality_spin.setValue(80)
    assert dialog.export_button.isEnabled()
    s = dialog.export_settings()
    assert (s.out_dir, s.fmt, s.quality, s.pattern) == (tmp_path / "exports", "jpg", 80, "{name}_color")
    dialog.export_button.click()
    assert settings.export_format == "jpg" and settings.export_quality == 80
    assert settings.last_export_dir == str(tmp_path / "exports")


def test_export_report_says_only_the_first_frame_of_an_animated_gif_was_colorized(ready_window, qtbot,
                                                                                  tmp_path) -> None:
    frames = [Image.new("L", (40, 30), v) for v in (60, 160, 220)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    tab = ready_window.colorize_tab
    tab.add_paths([gif])
    wait_all_settled(qtbot, tab)
    report = export(qtbot, tab, ExportSettings(out_dir=tmp_path / "out"), tab.done_items())
    assert not report.failed and [o.source for o in report.noted] == [gif]
    assert "1 with notes" in report.summary()
    assert report.details() == ["anim.gif: has 3 frames or pages; only the first was colorized"]
    assert tab.reports == [report]  # shown, although nothing failed


def test_default_export_keeps_each_photos_format_unless_preferences_choose_one(ready_window, qtbot, gray_photos,
                                                                               tmp_path) -> None:
    tab = ready_window.colorize_tab
    png = gray_photos[1].with_name("scan.png")
    Image.open(gray_photos[1]).save(png)
    tab.add_paths([gray_photos[0], png])
    wait_all_settled(qtbot, tab)

    def dialog_export(out: Path) -> dict[str, str]:
        dialog = ExportDialog(tab, tab.settings, selected=png, done_count=2, default_dir=str(out), scope=SCOPE_DONE)
        qtbot.addWidget(dialog)
        report = export(qtbot, tab, dialog.export_settings(), tab.done_items())
        assert not report.failed
        return {p.name: Image.open(p).format for p in report.written}

    assert dialog_export(tmp_path / "same") == {"photo_1_color.jpg": "JPEG", "scan_color.png": "PNG"}
    tab.settings.export_default_format = "tiff"  # Edit > Preferences: a chosen format wins
    assert dialog_export(tmp_path / "tiff") == {"photo_1_color.tif": "TIFF", "scan_color.tif": "TIFF"}
