"""Drawing and hit-testing color hints over the preview, in widget coordinates.

The compare view owns the geometry (zoom, pan, panes); it hands this module a function mapping a
hint's relative photo coordinates to widget points, so markers sit on the same photo spot in
side-by-side and split mode and at any zoom. Markers are drawn at a fixed screen size, since
they are handles to grab, not part of the photo. A hovered hint's region outline is drawn under
the markers, as a thin light line with a dark casing and a faint veil inside, so it reads on
light and dark photos alike without hiding the colors it outlines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF, QTransform

if TYPE_CHECKING:
    from ml_core.guidance.hints import Hint

MARKER_RADIUS = 7.0
SELECTED_RADIUS = 9.0
GRAB_RADIUS = 11.0  # a press this close to a marker grabs it
_STROKE_WIDTH = 5.0
_SELECTION = QColor(255, 196, 0)
_OUTLINE_VEIL = QColor(255, 255, 255, 36)  # inside a hovered hint's region

ToWidget = Callable[[float, float], QPointF]


@lru_cache(maxsize=512)
def hint_color(ab: tuple[float, float]) -> QColor:
    """The hint's chroma at a mid lightness, as a person would name the color (ml_core converts)."""
    from ml_core.guidance.hints import ab_to_rgb

    return QColor(*ab_to_rgb(ab, 60.0))


def hint_at(hints: Sequence["Hint"], to_widget: ToWidget, pos: QPointF, radius: float = GRAB_RADIUS) -> int:
    """Index of the marker under `pos` (the topmost, i.e. the latest, wins); -1 if none."""
    best, best_d = -1, radius
    for i, hint in enumerate(hints):
        d = _distance(to_widget(hint.x, hint.y), pos)
        if d <= best_d:
            best, best_d = i, d
    return best


def paint_hints(p: QPainter, clip: QRectF, hints: Sequence["Hint"], to_widget: ToWidget, selected: int,
                moved: tuple[int, float, float] | None = None) -> None:
    """All hints, strokes first then markers, clipped to one pane; `moved` draws a hint being dragged."""
    p.save()
    p.setClipRect(clip)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    for i, hint in enumerate(hints):
        dx = dy = 0.0
        if moved is not None and moved[0] == i:
            dx, dy = moved[1] - hint.x, moved[2] - hint.y
        points = [to_widget(x + dx, y + dy) for x, y in hint.points]
        color = hint_color(hint.ab)
        if len(points) > 1:
            _paint_stroke(p, points, color, i == selected)
        _paint_marker(p, points[0], color, i == selected)
    p.restore()


def outline_path(outline: Sequence) -> QPainterPath:
    """Closed polylines of relative (x, y) -> one path in the unit square (even-odd: holes stay
    holes). Built once per outline; painting only scales it onto the photo."""
    path = QPainterPath()
    path.setFillRule(Qt.FillRule.OddEvenFill)
    for line in outline:
        if len(line) >= 3:
            path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in line]))
            path.closeSubpath()
    return path


def paint_outline(p: QPainter, clip: QRectF, path: QPainterPath, image_rect: QRectF) -> None:
    """A region outline (unit-square path) over the photo drawn in `image_rect`; the line keeps its
    screen width at any zoom (cosmetic pens)."""
    p.save()
    p.setClipRect(clip)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setTransform(QTransform.fromTranslate(image_rect.left(), image_rect.top())
                   .scale(image_rect.width(), image_rect.height()), True)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(_OUTLINE_VEIL)
    p.drawPath(path)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for color, width in ((QColor(0, 0, 0, 150), 3.5), (QColor(255, 255, 255, 235), 1.5)):
        pen = QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        pen.setCosmetic(True)
        p.setPen(pen)
        p.drawPath(path)
    p.restore()


def paint_stroke_preview(p: QPainter, clip: QRectF, points: Sequence[QPointF]) -> None:
    """The stroke being painted, before its color is known: a neutral dashed line."""
    if len(points) < 2:
        return
    p.save()
    p.setClipRect(clip)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(0, 0, 0, 140), _STROKE_WIDTH + 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.drawPolyline(list(points))
    p.setPen(QPen(QColor(255, 255, 255), _STROKE_WIDTH - 1, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.drawPolyline(list(points))
    p.restore()


def paint_pending(p: QPainter, clip: QRectF, center: QPointF) -> None:
    """A hint waiting for its first color (the model's suggestion is on its way): an empty ring."""
    p.save()
    p.setClipRect(clip)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(QPen(QColor(0, 0, 0, 150), 4))
    p.drawEllipse(center, MARKER_RADIUS, MARKER_RADIUS)
    p.setPen(QPen(QColor(255, 255, 255), 2, Qt.PenStyle.DotLine))
    p.drawEllipse(center, MARKER_RADIUS, MARKER_RADIUS)
    p.restore()


def _paint_stroke(p: QPainter, points: list[QPointF], color: QColor, selected: bool) -> None:
    path = QPainterPath(points[0])
    for point in points[1:]:
        path.lineTo(point)
    p.setBrush(Qt.BrushStyle.NoBrush)
    casing = _SELECTION if selected else QColor(255, 255, 255)
    p.setPen(QPen(QColor(0, 0, 0, 120), _STROKE_WIDTH + 4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                  Qt.PenJoinStyle.RoundJoin))
    p.drawPath(path)
    p.setPen(QPen(casing, _STROKE_WIDTH + 2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    p.drawPath(path)
    p.setPen(QPen(color, _STROKE_WIDTH - 1, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    p.drawPath(path)


def _paint_marker(p: QPainter, center: QPointF, color: QColor, selected: bool) -> None:
    """Filled with the hint color inside a white ring with a dark rim: readable on any photo."""
    r = SELECTED_RADIUS if selected else MARKER_RADIUS
    if selected:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(_SELECTION.red(), _SELECTION.green(), _SELECTION.blue(), 110))
        p.drawEllipse(center, r + 6, r + 6)
    p.setBrush(color)
    p.setPen(QPen(QColor(0, 0, 0, 170), 4.5))
    p.drawEllipse(center, r, r)
    p.setPen(QPen(_SELECTION if selected else QColor(255, 255, 255), 2.5))
    p.drawEllipse(center, r, r)


def _distance(a: QPointF, b: QPointF) -> float:
    d = a - b
    return (d.x() ** 2 + d.y() ** 2) ** 0.5
