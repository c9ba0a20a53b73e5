"""What the Compare view shows, as data, and the same comparison drawn into one image file.

`Tile` is one cell of the comparison: the gray original or one model's result, with the words
under it. `compose_sheet` draws the finished tiles into a single labelled image and
`write_sheet` saves it atomically; both use only QImage and QPainter (no widgets), so they run
on a worker thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter

SHEET_FORMATS = {".jpg": "JPG", ".jpeg": "JPG", ".png": "PNG"}
_CELL = 512  # long side of each photo on the sheet, in pixels
_GAP = 16
_MARGIN = 24


@dataclass
class Tile:
    """One cell: `model` is None for the gray original."""

    title: str
    subtitle: str = ""
    model: str | None = None
    image: QImage | None = None
    status: str = ""  # "Waiting…", "Rendering…", "0.42 s", or why it failed
    failed: bool = False
    seconds: float | None = None

    @property
    def done(self) -> bool:
        return self.image is not None and not self.failed


def wrap_lines(metrics: QFontMetricsF, text: str, width: float, max_lines: int) -> list[str]:
    """Greedy word wrap into at most `max_lines`, the last one elided when the text is longer."""
    words, lines, line = text.split(), [], ""
    for i, word in enumerate(words):
        trial = f"{line} {word}".strip()
        if metrics.horizontalAdvance(trial) <= width or not line:
            line = trial
            continue
        if len(lines) == max_lines - 1:
            rest = " ".join([line] + words[i:])
            lines.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            return lines
        lines.append(line)
        line = word
    if line:
        lines.append(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width))
    return lines


def compose_sheet(tiles: list[Tile], photo_name: str = "") -> QImage:
    """The tiles that have a picture, in a grid of up to three columns, each with its caption."""
    shown = [t for t in tiles if t.image is not None and not t.image.isNull()]
    if not shown:
        raise ValueError("Nothing to save yet: no model has finished its picture")
    first = shown[0].image
    aspect = first.width() / max(1, first.height())
    cell_w, cell_h = (_CELL, _CELL / aspect) if aspect >= 1 else (_CELL * aspect, _CELL)
    title_font, text_font = QFont("Sans Serif"), QFont("Sans Serif")
    title_font.setPixelSize(20)
    title_font.setBold(True)
    text_font.setPixelSize(15)
    title_m, text_m = QFontMetricsF(title_font), QFontMetricsF(text_font)
    caption_h = title_m.height() + 2 * text_m.height() + 14
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    header_h = title_m.height() + 12 if photo_name else 0
    width = int(2 * _MARGIN + cols * cell_w + (cols - 1) * _GAP)
    height = int(2 * _MARGIN + header_h + rows * (cell_h + caption_h) + (rows - 1) * _GAP)
    sheet = QImage(width, height, QImage.Format.Format_RGB32)
    sheet.fill(QColor(250, 250, 250))
    p = QPainter(sheet)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if photo_name:
        p.setFont(title_font)
        p.setPen(QColor(30, 30, 30))
        p.drawText(QRectF(_MARGIN, _MARGIN, width - 2 * _MARGIN, title_m.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, photo_name)
    for i, tile in enumerate(shown):
        row, col = divmod(i, cols)
        x = _MARGIN + col * (cell_w + _GAP)
        y = _MARGIN + header_h + row * (cell_h + caption_h + _GAP)
        image = tile.image
        scale = min(cell_w / image.width(), cell_h / image.height())
        w, h = image.width() * scale, image.height() * scale
        p.drawImage(QRectF(x + (cell_w - w) / 2, y + (cell_h - h) / 2, w, h), image)
        ty = y + cell_h + 6
        p.setFont(title_font)
        p.setPen(QColor(30, 30, 30))
        p.drawText(QRectF(x, ty, cell_w, title_m.height()), Qt.AlignmentFlag.AlignLeft, tile.title)
        if tile.seconds is not None:
            p.setFont(text_font)
            p.setPen(QColor(90, 90, 90))
            p.drawText(QRectF(x, ty, cell_w, title_m.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{tile.seconds:.2f} s")
        p.setFont(text_font)
        p.setPen(QColor(90, 90, 90))
        for j, line in enumerate(wrap_lines(text_m, tile.subtitle, cell_w, 2)):
            p.drawText(QRectF(x, ty + title_m.height() + 2 + j * text_m.height(), cell_w, text_m.height()),
                       Qt.AlignmentFlag.AlignLeft, line)
    p.end()
    return sheet


def write_sheet(path: Path, tiles: list[Tile], photo_name: str = "") -> Path:
    """Compose and save atomically (a temporary file beside `path`, then renamed): an existing
    file is replaced whole or not at all. The format follows the suffix (.jpg or .png)."""
    from ml_core.io.atomic import atomic_write_bytes

    path = Path(path)
    fmt = SHEET_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: save the comparison as .jpg or .png")
    sheet = compose_sheet(tiles, photo_name)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not sheet.save(buffer, fmt, 92 if fmt == "JPG" else -1):
        raise OSError(f"{path.name}: the image could not be encoded")
    buffer.close()
    atomic_write_bytes(path, bytes(data.data()))
    return path
