"""The region one hint will color, as plain data a window can draw: a mask and its outline.

Why: a person cannot see a hint's reach until the photo re-renders, and then only as a color
change that may be subtle. The window shows, while a hint is hovered or dragged, the outline of
the region that hint may change (issue 14). That region is the hint's gate from the solver
itself (`propagation.region_gates`: the same costs, reach and cut-off), so the outline cannot
drift from what rendering does. It is computed here, without Qt, and handed over as numpy
arrays in relative photo coordinates, so the window only maps them to the screen.

The gate is soft (a plateau, then a steep fall); the region is where it is at least
REGION_LEVEL, and the outline is that level's contour by marching squares on the gate itself
(scikit-image), so it is smooth at any zoom instead of a staircase of grid pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .hint_regions import RegionCosts
from .hints import Hint
from .propagation import PropagationSettings, region_gates

REGION_LEVEL = 0.5  # a pixel is in a hint's region where its gate is at least this


@dataclass(frozen=True)
class HintRegion:
    """`mask` (h, w) bool on the guidance grid; `outline`: closed polylines, each (n, 2) of relative
    (x, y) in 0..1 of the photo's width and height, tracing the mask's boundary (holes included)."""

    mask: np.ndarray
    outline: tuple[np.ndarray, ...]

    @property
    def share(self) -> float:
        """The part of the photo the hint may change (0..1)."""
        return float(self.mask.mean()) if self.mask.size else 0.0


def hint_region(lightness: torch.Tensor, model_ab: torch.Tensor, hint: Hint,
                distribution: torch.Tensor | None = None, settings: PropagationSettings | None = None,
                costs: RegionCosts | None = None) -> HintRegion:
    """L* (h, w) and the model's a*b* (2, h, w) on the guidance grid (what `propagate_hints` gets)
    -> the region `hint` may change. A gate depends on its own hint only, so the photo's other
    hints are not needed; with legacy settings (no regions) a hint may act everywhere. `costs`
    (propagation.gate_costs of the same inputs) saves two thirds of the work on repeated calls."""
    h, w = lightness.shape
    gates = region_gates(lightness, model_ab, (hint,), settings, distribution, costs)
    gate = np.ones((h, w), np.float32) if gates is None else gates[0].float().numpy()
    return HintRegion(gate >= REGION_LEVEL, outline_of(gate))


def outline_of(gate: np.ndarray, level: float = REGION_LEVEL) -> tuple[np.ndarray, ...]:
    """Closed contours of `gate` (h, w) at `level`, in relative (x, y).

    The gate is padded with a ring of zeros first, so a region that reaches the photo's edge is
    closed along it (marching squares leaves contours open at the array's border). A grid
    pixel's center is at ((col + 0.5) / w, (row + 0.5) / h); the padding's half pixel is clipped
    back onto the photo's edge.
    """
    from skimage import measure  # here: scikit-image is only needed once someone asks for an outline

    h, w = gate.shape
    padded = np.pad(np.asarray(gate, dtype=np.float64), 1, constant_values=0.0)
    lines = []
    for contour in measure.find_contours(padded, level):
        rows, cols = contour[:, 0] - 1.0, contour[:, 1] - 1.0
        xy = np.stack(((cols + 0.5) / w, (rows + 0.5) / h), axis=1)
        lines.append(np.clip(xy, 0.0, 1.0).astype(np.float32))
    return tuple(lines)
