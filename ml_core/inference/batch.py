"""Colorize files to files: the one loop the CLI and the window's export both run.

Every file is independent: a bad photo becomes an error record naming the file and the reason,
and the batch moves on, whatever the error. Outputs go through imageio.export_image, which writes
atomically and refuses to touch the original or any other input of the same batch.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from ..cancel import Cancelled, CancelToken
from ..io.atomic import remove_stale_temp_files
from ..io.imageio import (
    DEFAULT_MAX_PIXELS,
    EXPORT_FORMATS,
    MAX_EXPORT_ICC,
    ExportError,
    ImageReadError,
    LoadedImage,
    check_destination,
    check_pattern,
    default_export_name,
    export_format_for,
    export_image,
    file_identity,
    read_image,
)
from ..limits import QUALITY_RANGE

if TYPE_CHECKING:  # torch-free at run time: the batch also runs the ONNX engine (fast_path.GraphColorizer)
    from ..repair import RepairSettings
    from .engine import Colorizer
    from .fast_path import GraphColorizer
    from .options import ColorizeOptions


@dataclass
class ExportSettings:
    """Where and how a batch writes its results.

    `fmt` None: each photo keeps its own format (imageio.export_format_for), so a JPEG comes back
    a JPEG at `quality` rather than a PNG many times its size; a format named here wins.
    """

    out_dir: Path
    fmt: str | None = "png"
    quality: int = 92
    pattern: str = "{name}_color"
    overwrite: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS

    def __post_init__(self) -> None:
        """Refuse settings that would fail every photo, before the first one is colorized."""
        if self.fmt is not None and self.fmt not in EXPORT_FORMATS:
            raise ValueError(f"unknown format {self.fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}")
        check_pattern(self.pattern)
        lo, hi = QUALITY_RANGE
        if self.fmt in ("jpg", "webp", None) and not lo <= self.quality <= hi:
            shown = self.fmt.upper() if self.fmt else "JPEG/WebP"
            raise ValueError(f"quality must be {lo}..{hi} for {shown}, got {self.quality}")

    def format_for(self, source: Path) -> str:
        """The format `source`'s result is written in: the chosen one, else the photo's own."""
        return self.fmt if self.fmt is not None else export_format_for(source)


@dataclass
class FileOutcome:
    source: Path
    output: Path | None = None
    error: str | None = None
    seconds: float = 0.0
    size: tuple[int, int] | None = None  # (width, height)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # done, but not all of it: e.g. first frame only

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
            "warnings": list(self.warnings),
        }


def destination_for(source: Path, settings: ExportSettings, taken: set[Path] | None = None, **fields: str) -> Path:
    """Output path from the name pattern; names already used in this batch get a -2, -3... suffix."""
    name = default_export_name(source, settings.pattern, settings.format_for(source), **fields)
    dest = settings.out_dir / name
    if taken is not None:
        n = 2
        while dest in taken:
            dest = settings.out_dir / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        taken.add(dest)
    return dest


@contextmanager
def photo_failures(outcome: FileOutcome, doing: str) -> Iterator[None]:
    """One photo's failure becomes its outcome's message, so the batch goes on.

    Why one place: colorize and repair batches must fail alike, naming the photo and the problem,
    never a traceback. Cancellation is the exception: `Cancelled` propagates to stop the batch.
    """
    try:
        yield
    except (ImageReadError, ExportError) as exc:
        outcome.error = str(exc)
    except Cancelled:
        raise
    except MemoryError:
        outcome.error = f"{outcome.source}: not enough memory to {doing} this photo"
    except Exception as exc:  # one photo's failure, of whatever kind, must never stop the batch
        outcome.error = f"{outcome.source}: {type(exc).__name__}: {exc}"


def colorize_file(
    colorizer: "Colorizer | GraphColorizer",
    source: Path,
    dest: Path,
    settings: ExportSettings,
    options: ColorizeOptions | None = None,
    cancel: CancelToken | None = None,
    protected: frozenset[tuple[int, int]] = frozenset(),
    repair: "RepairSettings | None" = None,
) -> FileOutcome:
    """Read, colorize at full resolution, export; errors come back in the outcome, never raised.

    Cancellation is the exception: `Cancelled` propagates so the caller stops the batch.
    `protected`: file identities (imageio.file_identity) no output may replace.
    `repair`: scratches, grain, fading repaired first (ml_core.repair), on the full-resolution
    lightness the colorizer keeps, so the export shows the repaired photo in color.
    """
    start = time.perf_counter()
    outcome = FileOutcome(source=source)
    with photo_failures(outcome, "colorize"):
        image = read_source(source, dest, settings, protected, outcome)
        repaired = {}
        if repair is not None and repair.any_enabled:
            from ..repair.pipeline import repair_pixels

            t = time.perf_counter()
            gray, _ = repair_pixels(image.pixels, replace(repair, remove_tint=True),
                                    cancel.raise_if_cancelled if cancel is not None else None)
            image = replace(image, pixels=gray)
            repaired = {"repair": time.perf_counter() - t}
        result = colorizer.colorize(image, options, cancel)
        t = time.perf_counter()
        outcome.output = export_image(
            result.rgb,
            dest,
            settings.format_for(source),
            quality=settings.quality,
            alpha=image.alpha,
            exif=image.exif,
            icc_profile=image.icc_profile,
            source=source,
            overwrite=settings.overwrite,
            protected=protected,
        )
        outcome.timings = {**repaired, **result.timings, "export": time.perf_counter() - t}
    outcome.seconds = time.perf_counter() - start
    return outcome


def read_source(source: Path, dest: Path, settings: ExportSettings, protected: frozenset[tuple[int, int]],
                outcome: FileOutcome) -> LoadedImage:
    """The first steps of every batch's photo: refuse a taken destination, read, note size and warnings.

    The destination is checked before the work, not after it: a rerun of a killed batch skips what
    it finished instead of colorizing (or repairing) it again only to be refused at the end.
    """
    check_destination(dest, source, settings.overwrite, protected)
    image = read_image(source, max_pixels=settings.max_pixels)
    outcome.size = image.size
    outcome.warnings = read_warnings(image)
    return image


def read_warnings(image: LoadedImage) -> list[str]:
    """What the person should know about a photo that is colorized anyway: said, never silent."""
    notes = []
    if image.frames > 1:
        notes.append(f"has {image.frames} frames or pages; only the first was colorized")
    if image.icc_profile and len(image.icc_profile) > MAX_EXPORT_ICC:
        notes.append(f"its color profile ({len(image.icc_profile) / 1e6:.1f} MB) is too large to embed "
                     "in the output and was left out")
    return notes


def colorize_files(
    colorizer: "Colorizer | GraphColorizer",
    sources: Iterable[Path],
    settings: ExportSettings,
    options: ColorizeOptions | None = None,
    progress: Callable[[int, int, FileOutcome], None] | None = None,
    cancel: CancelToken | None = None,
    options_for: Callable[[Path], ColorizeOptions | None] | None = None,
    repair: "RepairSettings | None" = None,
) -> list[FileOutcome]:
    """`options_for(source)`, when given, supplies per-photo options (the window's hints and
    reference photo belong to one photo each); None from it falls back to `options`.
    `repair`: repair settings applied to every photo before it is colorized (colorize_file)."""
    sources = list(sources)
    taken: set[Path] = set()
    outcomes = []
    # Every input is protected from every output: `p.png p_color.png --overwrite` must not
    # replace the person's p_color.png with p.png's result.
    protected = frozenset(filter(None, map(file_identity, sources)))
    remove_stale_temp_files(settings.out_dir)  # left by a run that was killed mid-write
    for i, source in enumerate(sources):
        if cancel is not None:
            cancel.checkpoint()
        dest = destination_for(source, settings, taken, model=colorizer.info.name)
        own = options_for(source) if options_for is not None else None
        outcome = colorize_file(colorizer, source, dest, settings, own or options, cancel, protected, repair)
        outcomes.append(outcome)
        if progress is not None:
            progress(i + 1, len(sources), outcome)
    return outcomes
