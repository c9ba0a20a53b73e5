"""A U-Net colorizer with a choice of head: the family of the built-in models.

A strided stem puts the expensive early layers at 1/2 or 1/4 resolution: chroma varies slowly,
and the measured cost of full-resolution first layers (~6 images/s training at 128² here) is
what makes a CPU U-Net slow. Dilated bottleneck convolutions and a pooled global-context vector
(Iizuka et al.'s idea, in a cheap form) give every pixel a view of the whole scene.
"""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..color.levels import stretch_levels
from ..modelfiles.rules import boolean, choice, integer, output_kind, space
from ._registry import register
from .base import ColorModel, conv_bn_relu


@register
class UNet(ColorModel):
    arch = "unet"
    description = "U-Net with strided stem, dilated bottleneck and global context; ab, ab-bin or per-channel-bin head"
    test_configs = tuple(dict(width=8, depth=2, head=h) for h in ("ab", "bins313", "bins_per_channel"))
    bench_configs = (dict(width=32, head="bins313"), dict(width=32, head="ab"))
    # width × bins is bounded by the parameter count (modelfiles.meta.check_size).
    config_rules = {"width": integer(1, 512), "depth": integer(1, 5), "stem_stride": choice(1, 2, 4),
                    "head": output_kind, "color_space": space, "bins": integer(2, 256), "global_context": boolean,
                    "hint_input": boolean, "input_levels": boolean}

    def __init__(
        self,
        *,
        width: int = 32,
        depth: int = 3,
        stem_stride: int = 2,
        head: str = "bins313",
        color_space: str = "lab",
        bins: int = 20,
        global_context: bool = True,
        hint_input: bool = False,
        input_levels: bool = False,
    ) -> None:
        if stem_stride not in (1, 2, 4):
            raise ValueError("stem_stride must be 1, 2 or 4")
        if not 1 <= depth <= 5:
            raise ValueError("depth must be between 1 and 5")
        config = dict(width=width, depth=depth, stem_stride=stem_stride, head=head, color_space=color_space,
                      bins=bins, global_context=global_context)
        if hint_input:
            # Only hint models record the key, so every existing model file's config (and card) is unchanged.
            if color_space != "lab":
                raise ValueError("hint_input needs color_space 'lab' (hints are CIE a*b*)")
            config["hint_input"] = True
        if input_levels:
            # Recorded only when on, like hint_input: older model files keep their exact config.
            config["input_levels"] = True
        super().__init__(space=color_space, output_kind=head, bins=bins, config=config)
        self.size_multiple = stem_stride * 2**depth  # type: ignore[misc]
        self.output_stride = stem_stride  # type: ignore[misc]
        self.hint_input = bool(hint_input)
        self.input_levels = bool(input_levels)
        # Hint models see L plus Zhang et al.'s (2017) sparse hint map: a/110, b/110 and a mask.
        stem: list[nn.Module] = [conv_bn_relu(self.in_channels, width, stride=min(stem_stride, 2))]
        stem.append(conv_bn_relu(width, width, stride=2 if stem_stride == 4 else 1))
        self.stem = nn.Sequential(*stem)
        channels = [width]
        self.down = nn.ModuleList()
        for _ in range(depth):
            cin, cout = channels[-1], min(channels[-1] * 2, width * 8)
            self.down.append(nn.Sequential(conv_bn_relu(cin, cout, stride=2), conv_bn_relu(cout, cout)))
            channels.append(cout)
        c = channels[-1]
        self.bottleneck = nn.Sequential(conv_bn_relu(c, c, dilation=2), conv_bn_relu(c, c, dilation=4))
        self.context = nn.Sequential(nn.Linear(c, c), nn.ReLU(inplace=True)) if global_context else None
        self.up = nn.ModuleList()
        for skip in reversed(channels[:-1]):
            self.up.append(nn.Sequential(conv_bn_relu(c + skip, skip), conv_bn_relu(skip, skip)))
            c = skip
        self.head = nn.Conv2d(c, self.out_channels, 1)

    @property
    def accepts_hints(self) -> bool:
        return self.hint_input

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        """`lum` (B, in_channels, H, W): normalized L, then for hint models the hint map channels.

        With `input_levels` the L channel is first stretched to the full range (ml_core.color.levels),
        so faded and toned prints reach the network as the full-range photo they once were.
        """
        if self.input_levels:
            lum = (torch.cat((stretch_levels(lum[:, :1]), lum[:, 1:]), dim=1) if lum.shape[1] > 1
                   else stretch_levels(lum))
        return self.network(lum)

    def network(self, lum: torch.Tensor) -> torch.Tensor:
        """`forward` after the input levels: what an ONNX graph holds, since the levels' area average
        has no ONNX operator for run-time sizes (the ONNX engine stretches in numpy first)."""
        x = self.stem(lum)
        skips = [x]
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = self.bottleneck(x)
        if self.context is not None:
            x = x + self.context(x.mean(dim=(2, 3)))[:, :, None, None]
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat((x, skip), dim=1))
        return self.head(x)

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        for part in (self.stem, self.down, self.bottleneck):
            yield from part.parameters()
