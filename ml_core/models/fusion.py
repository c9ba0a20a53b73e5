"""Iizuka, Simo-Serra & Ishikawa, "Let there be Color!" (SIGGRAPH 2016): global and local features fused.

Local features alone cannot tell a beach from a snowfield; the paper's answer is a global
feature vector computed from the whole scene and fused into every position. The layout follows
the paper at `width` 1.0 (0.25 trains on a laptop CPU):

- low-level network: six 3×3 convs, three of them strided, down to 1/8 resolution;
- mid-level network: two convs on the low-level features of the photo itself;
- global network: the SAME low-level network (shared weights) applied to a copy of the input
  resized to `global_size`², then four convs (two strided) and three fully connected layers to
  a 256·width vector, so the global view sees a fixed-size image whatever the photo's shape;
- fusion: the vector broadcast to every mid-level position, concatenated, 1×1 conv;
- colorization network: convs with two nearest-neighbour ×2 upsamplings, output at 1/2
  resolution (the engine upsamples chroma; luminance keeps full detail).

Departures: the scene-classification branch is omitted (our photos have no class labels), and
the published sigmoid output is replaced by a linear one on normalized chroma. Normalized chroma
is centred on gray in [-1, 1]; a sigmoid there saturates exactly at the vivid colors that a
regression loss already under-predicts, starving them of gradient, while a linear output lets
the loss act unattenuated (the engine clips out-of-gamut results when converting to RGB).
`head="bins313"` swaps the regression for Zhang et al.'s ab-bin classification.
"""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..modelfiles.rules import SCALE, integer, output_kind, space
from ._registry import register
from .base import ColorModel, conv_bn_relu, scaled_channels


@register
class Fusion(ColorModel):
    arch = "fusion"
    description = "Iizuka et al. 2016: shared low-level features, global scene vector fused into local features"
    size_multiple = 8
    default_work_size = 256
    output_stride = 2
    test_configs = (dict(width=0.1, head="ab", global_size=64),
                    *(dict(width=0.125, head=h, global_size=64) for h in ("ab", "bins313")),
                    dict(width=0.125, head="ab", color_space="yuv", global_size=64))
    bench_configs = (dict(width=0.25, head="ab"),)
    # global_size² × width is bounded by the parameter count (modelfiles.meta.check_size).
    config_rules = {"width": SCALE, "head": output_kind, "color_space": space, "global_size": integer(32, 1024)}

    def __init__(
        self, *, width: float = 1.0, head: str = "ab", color_space: str = "lab", global_size: int = 224
    ) -> None:
        if head not in ("ab", "bins313"):
            raise ValueError(f"fusion supports heads 'ab' and 'bins313', got {head!r}")
        if width <= 0:
            raise ValueError("width must be positive")
        if global_size < 32 or global_size % 32:
            raise ValueError("global_size must be a positive multiple of 32 (the global path downsamples 32x)")
        config = dict(width=width, head=head, color_space=color_space, global_size=global_size)
        super().__init__(space=color_space, output_kind=head, config=config)
        c64, c128, c256, c512, c1024 = (scaled_channels(n, width) for n in (64, 128, 256, 512, 1024))
        self.low = nn.Sequential(
            conv_bn_relu(1, c64, stride=2), conv_bn_relu(c64, c128),
            conv_bn_relu(c128, c128, stride=2), conv_bn_relu(c128, c256),
            conv_bn_relu(c256, c256, stride=2), conv_bn_relu(c256, c512),
        )
        self.mid = nn.Sequential(conv_bn_relu(c512, c512), conv_bn_relu(c512, c256))
        cells = (global_size // 32) ** 2
        self.global_convs = nn.Sequential(
            conv_bn_relu(c512, c512, stride=2), conv_bn_relu(c512, c512),
            conv_bn_relu(c512, c512, stride=2), conv_bn_relu(c512, c512),
        )
        self.global_fc = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c512 * cells, c1024), nn.ReLU(inplace=True),
            nn.Linear(c1024, c512), nn.ReLU(inplace=True),
            nn.Linear(c512, c256), nn.ReLU(inplace=True),
        )
        self.fuse = nn.Sequential(nn.Conv2d(2 * c256, c256, 1), nn.ReLU(inplace=True))
        self.colorize = nn.Sequential(
            conv_bn_relu(c256, c128),
            nn.Upsample(scale_factor=2, mode="nearest"),
            conv_bn_relu(c128, c64), conv_bn_relu(c64, c64),
            nn.Upsample(scale_factor=2, mode="nearest"),
            conv_bn_relu(c64, scaled_channels(32, width)),
        )
        # The paper's 3×3 output conv for regression; a 1×1 classifier for the 261 ab bins keeps
        # the widest layer cheap at 1/2 resolution.
        k = 3 if head == "ab" else 1
        self.head = nn.Conv2d(scaled_channels(32, width), self.out_channels, k, padding=k // 2)

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        """Normalized luminance (B, 1, H, W), H and W multiples of 8 -> head output at (H/2, W/2)."""
        local = self.low(lum)
        size = self.config["global_size"]
        small = lum if tuple(lum.shape[-2:]) == (size, size) else F.interpolate(
            lum, size=(size, size), mode="bilinear", align_corners=False)
        g = self.global_fc(self.global_convs(self.low(small)))
        mid = self.mid(local)
        fused = self.fuse(torch.cat((mid, g[:, :, None, None].expand(-1, -1, *mid.shape[-2:])), dim=1))
        return self.head(self.colorize(fused))

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        for part in (self.low, self.mid, self.global_convs, self.global_fc):
            yield from part.parameters()
