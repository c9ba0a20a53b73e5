"""ONNX export for runtimes without torch: the model plus its decoding, as one graph.

The graph takes normalized luminance (1, 1, H, W) and returns chroma in natural units at the
model's output resolution, so a runtime needs no Chroma code beyond the color conversion.

A hint model (`model.accepts_hints`) is exported with its four input channels as one input,
`lum_hints` (1, 4, H, W): normalized L, then hint a*/110, hint b*/110 and the 0/1 hint mask
(all zero for "no hints"; see ml_core.guidance.hint_maps). One tensor keeps the graph's signature the
same shape as the model's forward, and a runtime without hints just feeds zeros.

A model with input levels (`input_levels`, ml_core.color.levels) is exported without them: their
128x128 area average has no ONNX operator for sizes known only at run time, so the graph expects
L already stretched (ml_core.color.levels_np.stretch_levels; `levels_outside` says when).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from ..color.quantize import DEFAULT_TEMPERATURE
from ..io.atomic import atomic_path
from ..models import ColorModel


def levels_outside(model: ColorModel) -> bool:
    """Whether the graph of `model` expects its L input already stretched (see the module note)."""
    return bool(getattr(model, "input_levels", False))


class DecodedModel(nn.Module):
    def __init__(self, model: ColorModel, temperature: float = DEFAULT_TEMPERATURE) -> None:
        super().__init__()
        self.model = model
        self.temperature = temperature

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        raw = self.model.network(lum) if levels_outside(self.model) else self.model(lum)
        chroma, _ = self.model.decode(raw, self.temperature)
        return chroma


def export_onnx(model: ColorModel, out: Path | str, size: int = 256, temperature: float = DEFAULT_TEMPERATURE) -> Path:
    """Write `out` atomically; height and width stay dynamic unless the model needs a fixed input."""
    out = Path(out)
    model = model.eval()
    side = model.fixed_input or (size // model.size_multiple) * model.size_multiple
    example = torch.zeros(1, model.in_channels, side, side)
    wrapper = DecodedModel(model, temperature).eval()
    input_name = "lum_hints" if model.accepts_hints else "lum"
    dynamic = None if model.fixed_input else {input_name: {2: "height", 3: "width"}}
    with atomic_path(out) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            wrapper,
            (example,),
            str(tmp),
            input_names=[input_name],
            output_names=["chroma"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    return out
