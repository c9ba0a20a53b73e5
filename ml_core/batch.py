"""Colorize files to files: the one loop the CLI and the window's export both run.

Every file is independent: a bad photo becomes an error record naming the file and the reason,
and the batch moves on. Outputs go through imageio.export_image, which writes atomically and
refuses to touch the original.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .cancel import CancelToken
from .engine import ColorizeOptions, Colorizer
from .imageio import EXPORT_FORMATS, DEFAULT_MAX_PIXELS, ExportError, ImageReadError, default_export_name, export_image, read_image


@dataclass
class ExportSettings:
    out_dir: Path
    fmt: str = "png"
    quality: int = 92
    pattern: str = "{name}_color"
    overwrite: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        if self.fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown format {self.fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")


@dataclass
class FileOutcome:
    source: Path
    output: Path | None = None
    error: str | None = None
    seconds: float = 0.0
    size: tuple[int, int] | None = None  # (width, height)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_record(self) -> dict:
        return {
            "source": str(self.source),
            "output": str(self.output) if self.output else None,
            "ok": self.ok,
            "error": self.error,
            "seconds": round(self.seconds, 4),
            "width": self.size[0] if self.size else None,
            "height": self.size[1] if self.size else None,
        }


def destination_for(source: Path, settings: ExportSettings, taken: set[Path] | None = None, **fields: str) -> Path:
    """Output path from the name pattern; names already used in this batch get a -2, -3... suffix."""
    name = default_export_name(source, settings.pattern, settings.fmt, **fields)
    dest = settings.out_dir / name
    if taken is not None:
        n = 2
        while dest in taken:
            dest = settings.out_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        taken.add(dest)
    return dest


def colorize_file(
    colorizer: Colorizer,
    source: Path,
    dest: Path,
    settings: ExportSettings,
    options: ColorizeOptions | None = None,
    cancel: CancelToken | None = None,
) -> FileOutcome:
    """Read, colorize at full resolution, export; errors come back in the outcome, never raised.

    Cancellation is the exception: `Cancelled` propagates so the caller stops the batch.
    """
    start = time.perf_counter()
    outcome = FileOutcome(source=source)
    try:
        image = read_image(source, max_pixels=settings.max_pixels)
        outcome.size = image.size
        result = colorizer.colorize(image, options, cancel)
        t = time.perf_counter()
        outcome.output = export_image(
            result.rgb,
            dest,
            settings.fmt,
            quality=settings.quality,
            alpha=image.alpha,
            exif=image.exif,
            icc_profile=image.icc_profile,
            source=source,
            overwrite=settings.overwrite,
        )
        outcome.timings = {**result.timings, "export": time.perf_counter() - t}
    except (ImageReadError, ExportError) as exc:
        outcome.error = str(exc)
    except (OSError, ValueError, RuntimeError, MemoryError) as exc:
        outcome.error = f"{source}: {type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - start
    return outcome


def colorize_files(
    colorizer: Colorizer,
    sources: Iterable[Path],
    settings: ExportSettings,
    options: ColorizeOptions | None = None,
    progress: Callable[[int, int, FileOutcome], None] | None = None,
    cancel: CancelToken | None = None,
    options_for: Callable[[Path], ColorizeOptions | None] | None = None,
) -> list[FileOutcome]:
    """`options_for(source)`, when given, supplies per-photo options (the window's hints and
    reference photo belong to one photo each); None from it falls back to `options`."""
    sources = list(sources)
    taken: set[Path] = set()
    outcomes = []
    for i, source in enumerate(sources):
        if cancel is not None:
            cancel.checkpoint()
        dest = destination_for(source, settings, taken, model=colorizer.info.name)
        own = options_for(source) if options_for is not None else None
        outcome = colorize_file(colorizer, source, dest, settings, own or options, cancel)
        outcomes.append(outcome)
        if progress is not None:
            progress(i + 1, len(sources), outcome)
    return outcomes
