"""The before/after view: shared zoom and pan, split slider, 100 %, overlay."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QColor, QPixmap

from desktop_app.colorize.compare_view import CompareView, ViewMode


def pixmap(color: str, size: QSize = QSize(800, 600)) -> QPixmap:
    pix = QPixmap(size)
    pix.fill(QColor(color))
    return pix


def make_view(qtbot) -> CompareView:
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    view.set_images(pixmap("gray"), pixmap("orange"), pixmap("magenta"), original_size=(1600, 1200))
    return view


def test_fit_zoom_and_pan_are_shared_by_both_halves(qtbot) -> None:
    view = make_view(qtbot)
    left, right = view.panes()
    assert left.width() == right.width()
    fit = view.scale()
    pad = 2 * 12  # a fitted photo keeps a small margin
    assert view.is_fit() and abs(fit - min((left.width() - pad) / 800, (left.height() - pad) / 600)) < 1e-6
    view.zoom_in()
    assert view.scale() > fit and not view.is_fit()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(200, 200))
    qtbot.mouseMove(view, QPoint(150, 180))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(150, 180))
    moved = view.center()
    assert moved != QPointF(400, 300)
    # the image rectangle sits at the same place relative to each pane: one shared transform
    assert view._image_rect(left).topLeft() - left.topLeft() == view._image_rect(right).topLeft() - right.topLeft()
    view.zoom_fit()
    assert view.is_fit() and view.center() == QPointF(400, 300)


def test_actual_size_is_relative_to_the_photo_not_the_preview(qtbot) -> None:
    view = make_view(qtbot)
    view.zoom_actual()
    assert abs(view.zoom_percent() - 100.0) < 1e-6
    assert abs(view.scale() * view.devicePixelRatioF() - 2.0) < 1e-6  # preview is half the photo's size


def test_split_mode_drags_the_divider(qtbot) -> None:
    view = make_view(qtbot)
    view.set_mode(ViewMode.SPLIT)
    assert len(view.panes()) == 1 and view.split_fraction() == 0.5
    x = int(view.split_x())
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(x, 250))
    qtbot.mouseMove(view, QPoint(x + 180, 250))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(x + 180, 250))
    visible = view._visible_image(view.panes()[0])  # the divider lives on the photo, not the margins
    assert abs(view.split_fraction() - (x + 180 - visible.left()) / visible.width()) < 0.01


def test_wheel_zoom_keeps_the_point_under_the_cursor(qtbot) -> None:
    from PySide6.QtCore import QPointF as P
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view = make_view(qtbot)
    view.set_mode(ViewMode.SPLIT)
    view.zoom_in()
    view.zoom_in()  # now larger than the view both ways (a photo that fits stays centred instead)
    pane = view.panes()[0]
    pos = P(300, 200)
    before = (pos - view._image_rect(pane).topLeft()) / view.scale()
    event = QWheelEvent(pos, view.mapToGlobal(pos), QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    after = (pos - view._image_rect(pane).topLeft()) / view.scale()
    assert abs(before.x() - after.x()) < 0.5 and abs(before.y() - after.y()) < 0.5


def test_painting_uses_a_cached_scaled_pixmap_when_zoomed_out(qtbot) -> None:
    view = make_view(qtbot)
    view.grab()
    qtbot.waitUntil(lambda: "color" in view._cache, timeout=2000)
    target, cached = view._cache["color"]
    assert cached.width() == round(800 * target)  # sized for the screen, not the full preview
    view.set_overlay_visible(True)
    assert view.overlay_visible()
    view.grab()


def test_a_click_on_the_photo_reports_where_for_future_color_hints(qtbot) -> None:
    view = make_view(qtbot)
    left = view.panes()[0]
    rect = view._image_rect(left)
    point = QPoint(int(rect.left() + rect.width() / 4), int(rect.top() + rect.height() / 2))
    with qtbot.waitSignal(view.photo_clicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
    x, y = clicked.args
    assert abs(x - 0.25) < 0.01 and abs(y - 0.5) < 0.01
