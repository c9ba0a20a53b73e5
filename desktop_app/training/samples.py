"""Validation samples, refreshed each epoch: gray input | (before training) | current colors | original.

The trainer sends 8-bit RGB arrays (ml_core SampleTriplet); here they only become QImages and are
painted as large as the panel allows, so the person can watch the colors improve epoch by epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import imaging

_GAP = 6
_GROUP_GAP = 22
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
        self.columns = ["Gray input"] + (["Before"] if with_before else []) + [
            "Starting model" if epoch == 0 else "Now", "Original"]
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

    def _layout(self) -> tuple[float, int, float, float]:
        """(cell side, sample groups per line, left x, top y of the first line).

        Each sample is a group of images side by side; on a wide panel several groups share a line
        when that makes every image bigger.
        """
        fm = QFontMetrics(self.font())
        caption = fm.height() + 8
        header = fm.height() + 6
        cols, n = len(self.columns), len(self.rows)
        best = (0.0, 1)
        for groups in range(1, n + 1):
            lines = math.ceil(n / groups)
            avail_w = self.width() - 2 * _MARGIN - groups * (cols - 1) * _GAP - (groups - 1) * _GROUP_GAP
            avail_h = self.height() - caption - _MARGIN - lines * header - (lines - 1) * _GAP
            cell = min(_MAX_CELL, avail_w / (groups * cols), avail_h / lines)
            if cell > best[0] + 0.5:
                best = (cell, groups)
        cell, groups = max(16.0, best[0]), best[1]
        width = groups * (cols * cell + (cols - 1) * _GAP) + (groups - 1) * _GROUP_GAP
        return cell, groups, (self.width() - width) / 2, caption

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        if not self.rows:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect().adjusted(20, 0, -20, 0),
                       int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                       "Validation photos appear here after each epoch: the gray input, the model's colors "
                       "now, and the original, so you can watch the colors improve.")
            p.end()
            return
        cell, groups, left, top = self._layout()
        fm = QFontMetrics(self.font())
        header = fm.height() + 6
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        p.drawText(QRectF(_MARGIN, 4, self.width() - 2 * _MARGIN, fm.height() + 2),
                   int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), self.caption)
        p.setFont(self.font())
        frame = QPen(pal.color(QPalette.ColorRole.Mid))
        cols = len(self.columns)
        group_w = cols * cell + (cols - 1) * _GAP
        for r, (_, images) in enumerate(self.rows):
            line, g = divmod(r, groups)
            x0 = left + g * (group_w + _GROUP_GAP)
            y = top + line * (header + cell + _GAP)
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            for c, title in enumerate(self.columns):  # over every group, so each reads on its own
                text = fm.elidedText(title, Qt.TextElideMode.ElideRight, int(cell))
                p.drawText(QRectF(x0 + c * (cell + _GAP), y, cell, header - 2),
                           int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom), text)
            y += header
            for c, image in enumerate(images):
                x = x0 + c * (cell + _GAP)
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
