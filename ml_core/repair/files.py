"""`chroma repair`: photos in, repaired gray (or toned) photos out, the originals never touched.

Same rules as the colorize batch (ml_core.inference.batch): every file independent, a bad one becomes an
error record naming it and the batch moves on; outputs are written atomically by
imageio.export_image, which refuses the original and every other input of the batch.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterable

from ..cancel import CancelToken
from ..inference.batch import ExportSettings, FileOutcome, destination_for, photo_failures, read_source
from ..io.atomic import remove_stale_temp_files
from ..io.imageio import export_image, file_identity
from .pipeline import repair_pixels
from .settings import RepairSettings


def repair_file(source: Path, dest: Path, settings: ExportSettings, repair: RepairSettings,
                cancel: CancelToken | None = None, protected: frozenset[tuple[int, int]] = frozenset()) -> FileOutcome:
    """Read, repair at full resolution, export; errors come back in the outcome, never raised."""
    start = time.perf_counter()
    outcome = FileOutcome(source=source)
    with photo_failures(outcome, "repair"):
        image = read_source(source, dest, settings, protected, outcome)
        pixels, result = repair_pixels(image.pixels, repair, cancel.raise_if_cancelled if cancel else None)
        t = time.perf_counter()
        # An RGB profile does not describe gray pixels: a photo made gray leaves its profile behind.
        icc = image.icc_profile if pixels.ndim == image.pixels.ndim else None
        outcome.output = export_image(pixels, dest, settings.format_for(source), quality=settings.quality,
                                      alpha=image.alpha, exif=image.exif, icc_profile=icc, source=source,
                                      overwrite=settings.overwrite, protected=protected)
        outcome.timings = {**result.timings, "export": time.perf_counter() - t}
    outcome.seconds = time.perf_counter() - start
    return outcome


def repair_files(sources: Iterable[Path], settings: ExportSettings, repair: RepairSettings,
                 progress: Callable[[int, int, FileOutcome], None] | None = None,
                 cancel: CancelToken | None = None) -> list[FileOutcome]:
    """Repair every source into settings.out_dir; one outcome per source, in order."""
    sources = list(sources)
    taken: set[Path] = set()
    protected = frozenset(filter(None, map(file_identity, sources)))
    remove_stale_temp_files(settings.out_dir)
    outcomes = []
    for i, source in enumerate(sources):
        if cancel is not None:
            cancel.checkpoint()
        dest = destination_for(source, settings, taken, model="repair")
        outcome = repair_file(source, dest, settings, repair, cancel, protected)
        outcomes.append(outcome)
        if progress is not None:
            progress(i + 1, len(sources), outcome)
    return outcomes
