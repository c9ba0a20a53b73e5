"""Icons: the app icon from resources/icons, and small line icons drawn in code.

Drawing the action icons with QPainter (instead of shipping a theme) keeps them crisp at any
scale, matching the palette's text colour in light and dark mode, and identical on every OS.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap

from ml_core.io.paths import resources_dir

_SIDE = 32  # logical icon size we draw at (rendered at 2× for HiDPI)


def app_icon_path():
    return resources_dir() / "icons" / "chroma.svg"


@cache
def app_icon() -> QIcon:
    path = app_icon_path()
    icon = QIcon(str(path)) if path.is_file() else QIcon()
    return icon if not icon.isNull() else _drawn("wheel", QColor(90, 90, 90).rgba())


def icon(name: str) -> QIcon:
    """A line icon in the current palette's text colour."""
    color = QGuiApplication.palette().color(QPalette.ColorRole.WindowText)
    return _drawn(name, color.rgba())


def file_icon(failed: bool = False) -> QIcon:
    return _drawn("broken" if failed else "photo", (QColor(214, 57, 57) if failed else QColor(140, 140, 150)).rgba())


@cache
def _drawn(name: str, rgba: int) -> QIcon:
    color = QColor.fromRgba(rgba)
    pixmap = QPixmap(_SIDE * 2, _SIDE * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(color, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    _PAINTERS.get(name, _paint_photo)(p, color)
    p.end()
    return QIcon(pixmap)


def _polyline(p: QPainter, points: list[tuple[float, float]], closed: bool = False) -> None:
    """Icons are mostly straight strokes: one call per outline instead of a moveTo/lineTo ladder."""
    path = QPainterPath()
    path.moveTo(*points[0])
    for x, y in points[1:]:
        path.lineTo(x, y)
    if closed:
        path.closeSubpath()
    p.drawPath(path)


def _paint_open(p: QPainter, c: QColor) -> None:
    _polyline(p, [(4, 9), (12, 9), (14, 11), (27, 11), (27, 25), (4, 25)], closed=True)
    p.drawLine(QPointF(4, 15), QPointF(27, 15))


def _paint_folder_plus(p: QPainter, c: QColor) -> None:
    _paint_open(p, c)
    p.drawLine(QPointF(15.5, 17), QPointF(15.5, 23))
    p.drawLine(QPointF(12.5, 20), QPointF(18.5, 20))


def _paint_paste(p: QPainter, c: QColor) -> None:
    p.drawRoundedRect(QRectF(7, 7, 18, 21), 2, 2)
    p.drawRoundedRect(QRectF(12, 4, 8, 5), 1.5, 1.5)
    for y in (15, 19, 23):
        p.drawLine(QPointF(11, y), QPointF(21, y))


def _paint_side(p: QPainter, c: QColor) -> None:
    p.drawRoundedRect(QRectF(3, 8, 12, 16), 2, 2)
    p.drawRoundedRect(QRectF(17, 8, 12, 16), 2, 2)
    p.fillRect(QRectF(18, 9, 10, 14), QColor(c.red(), c.green(), c.blue(), 90))


def _paint_split(p: QPainter, c: QColor) -> None:
    p.drawRoundedRect(QRectF(4, 7, 24, 18), 2, 2)
    p.fillRect(QRectF(16, 8, 11, 16), QColor(c.red(), c.green(), c.blue(), 90))
    p.drawLine(QPointF(16, 4), QPointF(16, 28))
    p.setBrush(c)
    p.drawEllipse(QPointF(16, 16), 2.5, 2.5)


def _paint_grid(p: QPainter, c: QColor) -> None:
    for x, y in ((4, 6), (17, 6), (4, 17), (17, 17)):
        p.drawRoundedRect(QRectF(x, y, 11, 9), 1.5, 1.5)
    p.fillRect(QRectF(18, 7, 9, 7), QColor(c.red(), c.green(), c.blue(), 90))
    p.fillRect(QRectF(5, 18, 9, 7), QColor(c.red(), c.green(), c.blue(), 90))


def _paint_fit(p: QPainter, c: QColor) -> None:
    for x, y, dx, dy in ((5, 5, 1, 1), (27, 5, -1, 1), (5, 27, 1, -1), (27, 27, -1, -1)):
        p.drawLine(QPointF(x, y), QPointF(x + 7 * dx, y))
        p.drawLine(QPointF(x, y), QPointF(x, y + 7 * dy))
    p.drawRect(QRectF(11, 11, 10, 10))


def _paint_actual(p: QPainter, c: QColor) -> None:
    font = QFont()
    font.setPixelSize(13)
    font.setBold(True)
    p.setFont(font)
    p.drawText(QRectF(0, 0, _SIDE, _SIDE), Qt.AlignmentFlag.AlignCenter, "1:1")
    p.drawRoundedRect(QRectF(3, 6, 26, 20), 3, 3)


def _magnifier(p: QPainter) -> None:
    p.drawEllipse(QPointF(13, 13), 8, 8)
    p.drawLine(QPointF(19, 19), QPointF(27, 27))


def _paint_zoom_in(p: QPainter, c: QColor) -> None:
    _magnifier(p)
    p.drawLine(QPointF(9, 13), QPointF(17, 13))
    p.drawLine(QPointF(13, 9), QPointF(13, 17))


def _paint_zoom_out(p: QPainter, c: QColor) -> None:
    _magnifier(p)
    p.drawLine(QPointF(9, 13), QPointF(17, 13))


def _paint_confidence(p: QPainter, c: QColor) -> None:
    p.drawEllipse(QPointF(16, 16), 11, 11)
    p.setBrush(QColor(255, 40, 150, 170))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QPointF(19, 13), 5, 5)
    p.setPen(QPen(c, 2.0))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(QPointF(16, 16), 5, 5)


def _paint_tray(p: QPainter) -> None:
    """The open box under the export and import arrows."""
    _polyline(p, [(5, 16), (5, 27), (27, 27), (27, 16)])


def _paint_export(p: QPainter, c: QColor) -> None:
    p.drawLine(QPointF(16, 4), QPointF(16, 19))
    p.drawLine(QPointF(10, 10), QPointF(16, 4))
    p.drawLine(QPointF(22, 10), QPointF(16, 4))
    _paint_tray(p)


def _paint_export_all(p: QPainter, c: QColor) -> None:
    _paint_export(p, c)
    p.drawLine(QPointF(9, 23), QPointF(23, 23))


def _paint_import(p: QPainter, c: QColor) -> None:
    p.drawLine(QPointF(16, 4), QPointF(16, 19))
    p.drawLine(QPointF(10, 13), QPointF(16, 19))
    p.drawLine(QPointF(22, 13), QPointF(16, 19))
    _paint_tray(p)


def _paint_model(p: QPainter, c: QColor) -> None:
    for y in (8, 16, 24):
        p.drawEllipse(QPointF(8, y), 2.5, 2.5)
    for y in (12, 20):
        p.drawEllipse(QPointF(24, y), 2.5, 2.5)
    for y0 in (8, 16, 24):
        for y1 in (12, 20):
            p.drawLine(QPointF(10.5, y0), QPointF(21.5, y1))


def _paint_info(p: QPainter, c: QColor) -> None:
    p.drawEllipse(QPointF(16, 16), 11, 11)
    p.drawLine(QPointF(16, 14), QPointF(16, 22))
    p.drawPoint(QPointF(16, 10))


def _paint_remove(p: QPainter, c: QColor) -> None:
    p.drawLine(QPointF(9, 9), QPointF(23, 23))
    p.drawLine(QPointF(23, 9), QPointF(9, 23))


def _paint_photo(p: QPainter, c: QColor) -> None:
    p.drawRoundedRect(QRectF(4, 6, 24, 20), 2, 2)
    _polyline(p, [(6, 24), (13, 15), (18, 21), (21, 18), (26, 24)])
    p.drawEllipse(QPointF(21, 11), 2, 2)


def _paint_broken(p: QPainter, c: QColor) -> None:
    _polyline(p, [(4, 6), (28, 6), (28, 14), (22, 18), (16, 14), (10, 19), (4, 15)], closed=True)
    _polyline(p, [(4, 20), (10, 24), (16, 19), (22, 23), (28, 19), (28, 27), (4, 27)], closed=True)


def _paint_wheel(p: QPainter, c: QColor) -> None:
    p.setBrush(QColor(150, 150, 150))
    p.drawEllipse(QPointF(16, 16), 12, 12)


def _paint_hints(p: QPainter, c: QColor) -> None:
    """A color marker with a short painted stroke: the hint tool."""
    p.drawPolyline([QPointF(5, 26), QPointF(10, 21), QPointF(14, 23)])
    p.setBrush(QColor(226, 74, 60))
    p.drawEllipse(QPointF(20, 12), 7, 7)


def _paint_undo(p: QPainter, c: QColor) -> None:
    path = QPainterPath()
    path.moveTo(9, 13)
    path.cubicTo(QPointF(16, 7), QPointF(27, 10), QPointF(25, 22))
    p.drawPath(path)
    p.drawPolyline([QPointF(8, 6), QPointF(8, 13.5), QPointF(15.5, 13.5)])


def _paint_redo(p: QPainter, c: QColor) -> None:
    p.translate(32, 0)
    p.scale(-1, 1)
    _paint_undo(p, c)


_PAINTERS = {
    "open": _paint_open, "folder": _paint_folder_plus, "paste": _paint_paste, "side": _paint_side,
    "split": _paint_split, "grid": _paint_grid, "fit": _paint_fit, "actual": _paint_actual, "zoom_in": _paint_zoom_in,
    "zoom_out": _paint_zoom_out, "confidence": _paint_confidence, "export": _paint_export,
    "export_all": _paint_export_all, "model": _paint_model, "import": _paint_import, "info": _paint_info,
    "remove": _paint_remove,
    "photo": _paint_photo, "broken": _paint_broken, "wheel": _paint_wheel,
    "hints": _paint_hints, "undo": _paint_undo, "redo": _paint_redo,
}
