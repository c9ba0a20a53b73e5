"""The live loss plot: training loss per step (raw and smoothed) and validation loss per epoch.

Both curves are the same measure, the loss without class rebalancing (ml_core's `plain_loss`),
so a validation curve above or rising away from the training curve means what a person expects
(overfitting). The rebalanced loss the trainer optimizes is not comparable across photo sets: its
weights come from the training photos' colors, and photos with other colors score far higher.

pyqtgraph is imported when the plot is first shown, not when the window is built, so launching
Chroma does not pay for it. Points arrive at any rate (tiny models do dozens of steps a second);
they are stored at once and drawn at most ~8 times a second.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from ..widgets.labels import dim

TRAIN_COLOR = QColor(64, 144, 235)
VAL_COLOR = QColor(235, 130, 40)
_REDRAW_MS = 250
_SMOOTHING = 0.9  # exponential moving average of the per-step loss


class LossPlot(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self.val_steps: list[float] = []
        self.val_losses: list[float] = []
        self.resumed_at: int | None = None
        self._plot = None  # pyqtgraph PlotWidget, made on first show
        self._curves: dict[str, object] = {}
        self._marker = None
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(_REDRAW_MS)
        self._redraw.timeout.connect(self._draw)
        self.placeholder = QLabel("The loss curves appear here once training starts:\n"
                                  "they should go down as the model learns your photos' colors.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        dim(self.placeholder)
        self.legend = QLabel(
            f'<span style="color:{TRAIN_COLOR.name()}">&#9473;&#9473;</span>&nbsp;training loss (each step, '
            f'and smoothed)'
            f'&nbsp;&nbsp;&nbsp;<span style="color:{VAL_COLOR.name()}">&#9473;&#9679;&#9473;</span>&nbsp;validation '
            f'loss (after each epoch)')
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip(
            "Both curves are the same measure (the loss without class rebalancing), so they can be compared:\n"
            "validation rising while training keeps falling means the model is memorizing your photos (overfitting).")
        self.legend.hide()
        self._stack = QStackedLayout()
        self._stack.addWidget(self.placeholder)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(self.legend)
        outer.addLayout(self._stack)
        self.setMinimumHeight(180)

    # ------------------------------------------------------------------ data

    @property
    def point_count(self) -> int:
        """Training points plus validation points received so far."""
        return len(self.losses) + len(self.val_losses)

    def clear(self) -> None:
        self.steps.clear()
        self.losses.clear()
        self.smoothed.clear()
        self.val_steps.clear()
        self.val_losses.clear()
        self.resumed_at = None
        self._schedule()

    def set_resumed_at(self, step: int) -> None:
        self.resumed_at = step if step > 0 else None
        self._schedule()

    def add_step(self, step: int, loss: float) -> None:
        if not math.isfinite(loss):
            return
        prev = self.smoothed[-1] if self.smoothed else loss
        self.steps.append(float(step))
        self.losses.append(float(loss))
        self.smoothed.append(_SMOOTHING * prev + (1 - _SMOOTHING) * loss if self.smoothed else loss)
        self._schedule()

    def add_validation(self, step: int, loss: float | None) -> None:
        if loss is None or not math.isfinite(loss):
            return
        self.val_steps.append(float(step))
        self.val_losses.append(float(loss))
        self._schedule()

    def curve_data(self, name: str) -> tuple[list[float], list[float]]:
        """What the plot shows for 'train', 'smoothed' or 'val' (after the next redraw)."""
        curve = self._curves.get(name)
        if curve is None:
            return [], []
        x, y = curve.getData()
        return ([] if x is None else list(x)), ([] if y is None else list(y))

    # ------------------------------------------------------------------ drawing

    def _schedule(self) -> None:
        if self._plot is not None and not self._redraw.isActive():
            self._redraw.start()

    def _ensure_plot(self) -> None:
        if self._plot is not None:
            return
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True)
        plot = pg.PlotWidget()
        plot.setMenuEnabled(False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "step")
        plot.setLabel("left", "loss")
        plot.getPlotItem().getViewBox().setMouseEnabled(x=False, y=False)  # a live view, not a tool
        plot.getPlotItem().hideButtons()
        raw = QColor(TRAIN_COLOR)
        raw.setAlpha(70)
        self._curves["train"] = plot.plot([], [], pen=pg.mkPen(raw, width=1))
        self._curves["smoothed"] = plot.plot([], [], pen=pg.mkPen(TRAIN_COLOR, width=2))
        self._curves["val"] = plot.plot([], [], pen=pg.mkPen(VAL_COLOR, width=2), symbol="o", symbolSize=7,
                                        symbolBrush=VAL_COLOR, symbolPen=pg.mkPen(VAL_COLOR))
        self._marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(QColor(150, 150, 150), width=1,
                                                                                style=Qt.PenStyle.DashLine))
        self._marker.setVisible(False)
        plot.addItem(self._marker)
        self._plot = plot
        self._stack.addWidget(plot)
        self._apply_palette()

    def _apply_palette(self) -> None:
        if self._plot is None:
            return
        import pyqtgraph as pg

        pal = self.palette()
        self._plot.setBackground(pal.color(QPalette.ColorRole.Base))
        text = pal.color(QPalette.ColorRole.Text)
        for side in ("left", "bottom"):
            axis = self._plot.getPlotItem().getAxis(side)
            axis.setPen(pg.mkPen(pal.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))

    def _draw(self) -> None:
        if self._plot is None:
            return
        has_data = bool(self.losses or self.val_losses)
        self._stack.setCurrentWidget(self._plot if has_data else self.placeholder)
        self.legend.setVisible(has_data)
        self._curves["train"].setData(self.steps, self.losses)
        self._curves["smoothed"].setData(self.steps, self.smoothed)
        self._curves["val"].setData(self.val_steps, self.val_losses)
        if self.resumed_at is not None:
            self._marker.setValue(self.resumed_at)
        self._marker.setVisible(self.resumed_at is not None)

    def flush(self) -> None:
        """Draw now (tests and screenshots)."""
        self._ensure_plot()
        self._redraw.stop()
        self._draw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._plot is None:
            self._ensure_plot()
            self._draw()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)
