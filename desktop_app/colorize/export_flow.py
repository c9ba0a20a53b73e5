"""The export flow: the dialog, the question before replacing earlier exports, the background
export at full resolution, its progress in the status bar, and the report when it ends.

The exporter (exporter.Exporter) does the work on a worker; this only decides what to export
with which options and shows how it went. Originals are never replaced, whatever the answer
(ml_core refuses to write over a source photo).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtWidgets import QMessageBox, QProgressBar, QToolButton, QWidget

from .export_dialog import SCOPE_DONE, SCOPE_SELECTED, ExportDialog
from .exporter import Exporter, ExportReport, planned_destinations
from .photo_queue import ItemState, QueueItem

if TYPE_CHECKING:
    from ml_core.inference.batch import ExportSettings
    from ml_core.inference.engine import ColorizeOptions

    from .tab import ColorizeTab


class ExportFlow(QObject):
    """Public API (through the tab): export_dialog, start_export, cancel, show_last_export,
    model_name, widgets(); `last_export` is the latest report."""

    def __init__(self, tab: "ColorizeTab") -> None:
        super().__init__(tab)
        self.tab = tab
        self.exporter = Exporter(tab.runner, self)
        self.last_export: ExportReport | None = None
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress.hide()
        self.cancel_button.hide()
        self.show_folder_button = QToolButton()
        self.show_folder_button.setText("Show in Folder")
        self.show_folder_button.setToolTip("Open the folder the photos were exported to")
        self.show_folder_button.clicked.connect(self.show_last_export)
        self.show_folder_button.hide()
        self.exporter.progress.connect(lambda done, total: self.progress.setValue(done))
        self.exporter.finished.connect(self._on_finished)

    @property
    def running(self) -> bool:
        return self.exporter.running

    def widgets(self) -> list[QWidget]:
        """The status bar widgets: progress, Cancel, Show in Folder."""
        return [self.progress, self.cancel_button, self.show_folder_button]

    def export_dialog(self, scope: str = SCOPE_SELECTED) -> None:
        tab = self.tab
        if not self._can_export():
            return
        selected = tab.selected_item()
        usable = selected if selected is not None and selected.state != ItemState.FAILED else None
        dialog = ExportDialog(tab, tab.settings, selected=usable.path if usable else None,
                              done_count=len(tab.done_items()), default_dir=self._default_dir(),
                              model_name=self.model_name(), scope=scope)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return
        items = tab.done_items() if dialog.scope() == SCOPE_DONE else ([usable] if usable else [])
        self.start_export(dialog.export_settings(), items)

    def _can_export(self) -> bool:
        tab = self.tab
        if self.exporter.running:
            tab.status("An export is already running", 4000)
            return False
        if tab.models.colorizer is None:
            tab.status("Nothing to export yet: no model is loaded", 5000)
            return False
        if not any(i.state != ItemState.FAILED for i in tab.queue.items):
            tab.status("Add photos first", 4000)
            return False
        return True

    @staticmethod
    def _default_dir() -> str:
        pictures = Path.home() / "Pictures"
        return str(pictures / "Chroma" if pictures.is_dir() else Path.home() / "Chroma")

    def model_name(self) -> str:
        """The loaded model's own name (what export file names use)."""
        colorizer = self.tab.models.colorizer
        return colorizer.info.name if colorizer is not None else ""

    def start_export(self, settings: "ExportSettings", items: list[QueueItem]) -> bool:
        """Export `items` at full resolution with the current model and adjustments, in the background.

        Asks (through the tab's `confirm`) before replacing files from an earlier export; originals
        are never replaced, whatever the answer (ml_core refuses to write over a source photo).
        """
        tab = self.tab
        colorizer = tab.models.colorizer
        if colorizer is None or self.exporter.running or not items:
            return False
        sources = [i.path for i in items]
        destinations = planned_destinations(sources, settings, colorizer.info.name)
        originals = {p.resolve() for p in sources}
        existing = [d for d in destinations if d.exists() and d.resolve() not in originals]
        if existing and not settings.overwrite:
            names = ", ".join(d.name for d in existing[:3]) + (" …" if len(existing) > 3 else "")
            if not tab.confirm("Replace earlier exports?",
                               f"{len(existing)} file{'s' if len(existing) > 1 else ''} already exist in "
                               f"{settings.out_dir}:\n{names}\n\nReplace {'them' if len(existing) > 1 else 'it'}?"):
                tab.status("Export cancelled: nothing was replaced", 5000)
                return False
            settings.overwrite = True
        self.exporter.start(colorizer, sources, settings, tab.pipeline.colorize_options(preview=False),
                            self._per_photo_options(items), repair=tab.pipeline.repair_settings())
        self.progress.setRange(0, len(sources))
        self.progress.setValue(0)
        self.progress.setFormat(f"%v of {len(sources)}")
        self.progress.show()
        self.cancel_button.show()
        self.show_folder_button.hide()
        repair = tab.pipeline.repair_settings()
        repaired = "" if repair is None else " with repair (" + ", ".join(
            name for name, on in (("scratches & dust", repair.scratches), ("grain", repair.grain),
                                  ("fading", repair.fading)) if on) + ")"
        tab.status(f"Exporting {len(sources)} photo{'s' if len(sources) != 1 else ''} to {settings.out_dir}"
                   f"{repaired}…")
        tab.update_state()
        return True

    def _per_photo_options(self, items: list[QueueItem]) -> dict[Path, "ColorizeOptions"]:
        """Full-resolution options for each photo that has its own hints or reference."""
        return {i.path: self.tab.pipeline.colorize_options(preview=False, item=i) for i in items if i.guided}

    def cancel(self) -> None:
        if self.exporter.running:
            self.exporter.cancel()
            self.tab.status("Cancelling export…")

    def _on_finished(self, report: ExportReport) -> None:
        tab = self.tab
        self.progress.hide()
        self.cancel_button.hide()
        self.last_export = report
        self.show_folder_button.setVisible(bool(report.written))
        tab.status(report.summary(), 15000)
        tab.update_state()
        if report.failed or report.error or report.noted:
            tab.report(report)
        tab.export_finished.emit(report)

    def show_report(self, report: ExportReport) -> None:
        """Non-blocking: the window stays usable while the report is open."""
        title = "Export finished with problems" if report.failed or report.error else "Export finished with notes"
        box = QMessageBox(QMessageBox.Icon.Warning, title, report.summary(), QMessageBox.StandardButton.Ok, self.tab)
        details = report.details()
        box.setDetailedText("\n".join(details))
        box.setInformativeText("\n".join(details[:5]) + ("\n…" if len(details) > 5 else ""))
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()

    def show_last_export(self) -> bool:
        """The last export's folder in the file manager, with the first exported photo's folder
        when the pattern put photos in subfolders."""
        report = self.last_export
        if report is None:
            return False
        folder = report.written[0].parent if report.written else report.out_dir
        if not folder.is_dir():
            self.tab.status(f"{folder} is no longer there", 6000)
            return False
        return bool(self.tab.open_url(QUrl.fromLocalFile(str(folder))))
