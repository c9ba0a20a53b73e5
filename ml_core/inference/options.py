"""What a person asks of one colorize call: render size, saturation, temperature, hints, reference.

Why a module of its own, without torch: `chroma colorize` builds these before it knows which
engine runs them, and the torch-free ONNX engine (ml_core.inference.onnx_engine) must be reachable
without `import torch` (2.3-2.9 s here) on the way to the first result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..guidance.hints import Hint, HintFile
    from ..guidance.reference import ReferencePalette


@dataclass
class ColorizeOptions:
    work_size: int | None = None  # long side the model sees ("render size"); None: the model's own
    saturation: float = 1.0
    temperature: float | None = None  # annealed mean, classification models only; None: the model's own
    output_max_side: int | None = None  # previews: produce at most this many pixels on the long side
    hints: "tuple[Hint, ...] | HintFile" = ()  # user color hints (ml_core.guidance.hints); a file may use pixel units
    reference: "ReferencePalette | None" = None  # a color photo whose palette to transfer
    reference_strength: float = 1.0  # 0 = the model's colors, 1 = the reference's
    # Spread hints over the prediction with edge-aware propagation (ml_core.guidance.propagation). A hint
    # model (model.accepts_hints) sees the hints either way; False shows what the network alone
    # does with them (benchmarks). For other models False means hints are ignored.
    propagate: bool = True

    @property
    def guided(self) -> bool:
        return bool(self.hints) or (self.reference is not None and self.reference_strength > 0)
