"""A labelled grid of photos in one image: `chroma compare`, the gallery and the evaluation sheets.

Why one module: a comparison is only readable when every sheet is drawn the same way (column
titles on top, a caption under each tile, tiles scaled to one height), and the CLI, the gallery
script, the old-print report and the repair report each used to lay out their own. Pillow only,
no Qt and no torch, so scripts and the command line can draw sheets without loading either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
FAINT_INK = (105, 105, 105)
FAILED_FILL = (236, 236, 236)


@dataclass(frozen=True)
class SheetTile:
    """One cell: a photo (H×W×3 uint8, or None when it could not be made) and words under it."""

    image: np.ndarray | None
    caption: str = ""
    note: str = ""  # a second, fainter line: a time, or why the tile is empty


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled FreeType font, no system fonts needed
    except (TypeError, OSError):  # a Pillow built without FreeType: the small bitmap font
        return ImageFont.load_default()


def _as_tile(cell: SheetTile | np.ndarray | None) -> SheetTile:
    return cell if isinstance(cell, SheetTile) else SheetTile(cell)


def _thumbnail(pixels: np.ndarray, height: int) -> Image.Image:
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"a sheet tile must be H×W×3 uint8, got {arr.shape} {arr.dtype}")
    img = Image.fromarray(arr)
    width = max(1, round(img.width * height / img.height))
    return img.resize((width, height), Image.Resampling.LANCZOS)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int) -> str:
    """`text` shortened with an ellipsis so it fits `width` pixels (a long model name must not
    run into the next column)."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def compose_sheet(rows: Sequence[Sequence[SheetTile | np.ndarray | None]], titles: Sequence[str] = (),
                  tile_height: int = 256, gap: int = 8, font_size: int = 15) -> Image.Image:
    """Rows of tiles, each scaled to `tile_height`, under an optional row of column titles.

    Columns take the width of their widest tile, so photos of different shapes stay aligned;
    a missing image (None) is drawn as a gray box of the column's width with its note.
    """
    if not rows or not any(rows):
        raise ValueError("a contact sheet needs at least one tile")
    if tile_height < 16:
        raise ValueError(f"tile_height must be at least 16 pixels, got {tile_height}")
    cells = [[_as_tile(c) for c in row] for row in rows]
    thumbs = [[_thumbnail(c.image, tile_height) if c.image is not None else None for c in row] for row in cells]
    columns = max(len(titles), *(len(row) for row in cells))
    # A column is as wide as its widest photo; an empty tile takes a square, room for its note.
    widths = [max([t.width if t is not None else tile_height for row in thumbs for t in row[i:i + 1]]
                  or [tile_height]) for i in range(columns)]
    font, small = _font(font_size), _font(max(font_size - 3, 8))
    line = font_size + 5
    title_h = line + gap if titles else 0
    text_lines = max((bool(c.caption) + bool(c.note) for row in cells for c in row), default=0)
    row_h = tile_height + text_lines * line + (3 if text_lines else 0) + gap
    sheet = Image.new("RGB", (gap + sum(w + gap for w in widths), gap + title_h + len(cells) * row_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    xs = [gap + sum(w + gap for w in widths[:i]) for i in range(columns)]
    for i, title in enumerate(titles):
        draw.text((xs[i], gap), _fit(draw, title, font, widths[i]), fill=INK, font=font)
    for r, (row, row_thumbs) in enumerate(zip(cells, thumbs)):
        y = gap + title_h + r * row_h
        for i, (cell, thumb) in enumerate(zip(row, row_thumbs)):
            if thumb is None:
                draw.rectangle((xs[i], y, xs[i] + widths[i] - 1, y + tile_height - 1), fill=FAILED_FILL)
            else:
                sheet.paste(thumb, (xs[i] + (widths[i] - thumb.width) // 2, y))
            if cell.caption:
                draw.text((xs[i], y + tile_height + 3), _fit(draw, cell.caption, font, widths[i]), fill=INK, font=font)
            if cell.note:
                note_y = y + tile_height + 3 + (line if cell.caption else 0)
                draw.text((xs[i], note_y), _fit(draw, cell.note, small, widths[i]), fill=FAINT_INK, font=small)
    return sheet


def sheet_pixels(sheet: Image.Image) -> np.ndarray:
    """The sheet as an H×W×3 uint8 array, for `ml_core.io.imageio.export_image` (atomic writes)."""
    return np.asarray(sheet.convert("RGB"))
