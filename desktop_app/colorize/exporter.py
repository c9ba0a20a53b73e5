"""Background export of finished photos at full resolution, through ml_core.inference.batch.

File names come from ml_core.inference.batch.destination_for, exactly as the batch loop computes them, so
the overwrite question can be asked before anything is written, about the files that will be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..workers import PRIORITY_BACKGROUND, TaskHandle, TaskRunner, describe_error
from . import jobs

if TYPE_CHECKING:
    from ml_core.inference.batch import ExportSettings, FileOutcome
    from ml_core.inference.engine import ColorizeOptions, Colorizer
    from ml_core.repair import RepairSettings


@dataclass
class ExportReport:
    out_dir: Path
    total: int
    outcomes: list["FileOutcome"] = field(default_factory=list)
    cancelled: bool = False
    error: str | None = None  # the export as a whole failed (not one photo)

    @property
    def written(self) -> list[Path]:
        return [o.output for o in self.outcomes if o.ok and o.output is not None]

    @property
    def failed(self) -> list["FileOutcome"]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def noted(self) -> list["FileOutcome"]:
        """Exported, with something to know (e.g. only the first frame of an animated GIF)."""
        return [o for o in self.outcomes if o.ok and o.warnings]

    def details(self) -> list[str]:
        """One line per failed or noted photo, by name, for the report the window shows."""
        lines = [f"{o.source.name}: {o.error}" for o in self.failed]
        lines += [f"{o.source.name}: {w}" for o in self.noted for w in o.warnings]
        return lines + ([self.error] if self.error else [])

    def summary(self) -> str:
        n = len(self.written)
        text = f"Exported {n} of {self.total} photo{'s' if self.total != 1 else ''} to {self.out_dir}"
        if self.cancelled:
            text += " (cancelled)"
        if self.failed:
            text += f"; {len(self.failed)} failed"
        if self.noted:
            text += f"; {len(self.noted)} with notes"
        if self.error:
            text += f"; {self.error}"
        return text


def planned_destinations(sources: list[Path], settings: "ExportSettings", model_name: str) -> list[Path]:
    """The paths colorize_files will write, in order (same -2, -3 suffixing for clashes)."""
    from ml_core.inference.batch import destination_for

    taken: set[Path] = set()
    return [destination_for(source, settings, taken, model=model_name) for source in sources]


class Exporter(QObject):
    progress = Signal(int, int)  # done, total
    finished = Signal(object)  # ExportReport

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._handle: TaskHandle | None = None
        self._report: ExportReport | None = None

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self, colorizer: "Colorizer", sources: list[Path], settings: "ExportSettings",
              options: "ColorizeOptions", per_photo: dict[Path, "ColorizeOptions"] | None = None,
              repair: "RepairSettings | None" = None) -> None:
        """`per_photo`: options for photos with their own hints or reference (a snapshot, taken on
        the GUI thread, so later edits cannot change an export that is already running).
        `repair`: the Repair panel's settings (frozen), applied to every photo at full resolution."""
        if self._handle is not None:
            raise RuntimeError("an export is already running")
        report = ExportReport(out_dir=settings.out_dir, total=len(sources))
        self._report = report
        own = dict(per_photo or {})
        self._handle = self._runner.submit_job(
            partial(jobs.export_photos, colorizer, sources, settings, options, options_for=own.get,
                    repair=repair),
            name="export", slot="export", priority=PRIORITY_BACKGROUND,
            on_progress=self._on_progress, on_error=self._on_error, on_cancelled=self._on_cancelled,
            on_finished=self._on_finished)
        self.progress.emit(0, len(sources))

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def _on_progress(self, payload: tuple[int, int, "FileOutcome"]) -> None:
        done, total, outcome = payload
        if self._report is not None:
            self._report.outcomes.append(outcome)
        self.progress.emit(done, total)

    def _on_error(self, error: Exception) -> None:
        if self._report is not None:
            self._report.error = describe_error(error)

    def _on_cancelled(self) -> None:
        if self._report is not None:
            self._report.cancelled = True

    def _on_finished(self) -> None:
        report, self._report, self._handle = self._report, None, None
        if report is not None:
            self.finished.emit(report)
