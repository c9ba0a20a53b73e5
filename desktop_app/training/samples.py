"""Validation samples, refreshed each epoch: gray input | (before training) | current colors | original.

The trainer sends 8-bit RGB arrays (ml_core SampleTriplet); here they only become QImages and are
painted as large as the panel allows, so the person can watch the colors improve epoch by epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import imaging

_GAP = 8
_MARGIN = 10
_MAX_CELL = 220  # logical px: the samples are small crops; larger only blurs them


class SamplePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(150)
        self.columns: list[str] = []
        self.rows: list[tuple[str, list[QImage]]] = []
        self.caption = ""
        self.epoch: int | None = None
        self.updates = 0  # how many times new samples arrived (tests)
        self._before: dict[str, QImage] = {}

    def clear(self) -> None:
        self.columns, self.rows, self.caption, self.epoch = [], [], "", None
        self._before = {}
        self.update()

    def set_before(self, samples: Sequence[Any]) -> None:
        """The starting model's colors (epoch 0), shown beside every later epoch."""
        self._before = {s.name: imaging.to_qimage(s.prediction) for s in samples}

    def set_samples(self, epoch: int, epochs: int, samples: Sequence[Any]) -> None:
        if not samples:
            return
        with_before = bool(self._before) and epoch > 0
        self.columns = ["Gray input"] + (["Before training"] if with_before else []) + [
            "Starting model" if epoch == 0 else f"Now (epoch {epoch})", "Original"]
        rows = []
        for s in samples:
            images = [imaging.to_qimage(s.gray)]
            if with_before:
                images.append(self._before.get(s.name, QImage()))
            images += [imaging.to_qimage(s.prediction), imaging.to_qimage(s.truth)]
            rows.append((str(s.name), images))
        self.rows = rows
        self.epoch = epoch
        self.caption = ("Validation photos with the starting model" if epoch == 0
                        else f"Validation photos after epoch {epoch} of {epochs}")
        self.updates += 1
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(640, 300)

    # ------------------------------------------------------------------ painting

    def _layout(self) -> tuple[float, float, float, float]:
        """(cell side, left x, top y of the images, header height)."""
        fm = QFontMetrics(self.font())
        header = fm.height() * 2 + 10
        cols, n = len(self.columns), len(self.rows)
        avail_w = self.width() - 2 * _MARGIN - (cols - 1) * _GAP
        avail_h = self.height() - header - _MARGIN - (n - 1) * _GAP
        cell = max(16.0, min(_MAX_CELL, avail_w / max(1, cols), avail_h / max(1, n)))
        width = cols * cell + (cols - 1) * _GAP
        left = (self.width() - width) / 2
        return cell, left, header, header

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        if not self.rows:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(20, 0, -20, 0), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                       "Validation photos appear here after each epoch: the gray input, the model's colors "
                       "now, and the original, so you can watch the colors improve.")
            p.end()
            return
        cell, left, top, header = self._layout()
        bold = QFont(self.font())
        bold.setBold(True)
        fm = QFontMetrics(self.font())
        p.setFont(bold)
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        p.drawText(QRectF(_MARGIN, 4, self.width() - 2 * _MARGIN, fm.height() + 2),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), self.caption)
        p.setFont(self.font())
        p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
        for c, title in enumerate(self.columns):
            x = left + c * (cell + _GAP)
            text = fm.elidedText(title, Qt.TextElideMode.ElideRight, int(cell))
            p.drawText(QRectF(x, header - fm.height() - 4, cell, fm.height()),
                       int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), text)
        frame = QPen(pal.color(QPalette.ColorRole.Mid))
        for r, (_, images) in enumerate(self.rows):
            y = top + r * (cell + _GAP)
            for c, image in enumerate(images):
                x = left + c * (cell + _GAP)
                target = QRectF(x, y, cell, cell)
                if image.isNull():
                    p.fillRect(target, QColor(128, 128, 128, 40))
                    continue
                iw, ih = image.width(), image.height()
                scale = min(cell / iw, cell / ih)
                w, h = iw * scale, ih * scale
                fitted = QRectF(x + (cell - w) / 2, y + (cell - h) / 2, w, h)
                p.drawImage(fitted, image)
                p.setPen(frame)
                p.drawRect(fitted)
        p.end()

    def row_names(self) -> list[str]:
        return [name for name, _ in self.rows]
