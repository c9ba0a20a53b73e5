"""A VGG16 trunk with a fully connected head that predicts chroma at reduced resolution.

Chroma carries little spatial detail (UV at 33×33 for a 224×224 photo discards 85 % of it, with
no visible loss once recombined with full-resolution luminance), so a fully
connected head can predict the whole chroma plane at once from the 7×7 trunk features, every
output seeing the entire image. The price is a fixed 224×224 input (`fixed_input`): the engine
resizes to it and upsamples the prediction.

Layout: the 13 3×3 convs of VGG16 in five blocks (64-128-256-512-512 × `width`, optional
BatchNorm), each block ending in 2×2 max pooling; then dropout, FC `hidden`, LeakyReLU, dropout,
FC `hidden`, LeakyReLU, dropout, BatchNorm1d, FC to the chroma plane (as published). The
published head (1536 hidden units, 59 M parameters in all) is narrowed to 1024 × width by
default, 44 M at width 1.0. Departures:

- The output is linear rather than tanh: normalized chroma already lies in [-1, 1], and tanh's
  saturation starves the vivid colors a regression loss under-predicts of gradient.
- `head="bins_per_channel"` (classification per chroma channel) would need a 2·bins·33²-wide
  last layer (67 M weights); instead the FC layer emits an 8-channel code per chroma cell and a
  small conv decoder turns it into the 2·bins logits.
- ImageNet VGG16 weights are not bundled (they cannot be downloaded here and the trunk takes one
  luminance channel), so the model trains from scratch or fine-tunes an existing Chroma file.

BatchNorm1d in the head needs training batches of at least 2.
"""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..modelfiles.rules import SCALE, boolean, integer, optional, output_kind, real, space
from ._registry import register
from .base import ColorModel, scaled_channels

VGG16_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
INPUT = 224
BIN_CODE = 8  # channels per chroma cell emitted by the FC layer for the per-channel-bin head


@register
class VGGChroma(ColorModel):
    arch = "vgg_chroma"
    description = "VGG16 trunk with a fully connected head predicting 33×33 chroma, fixed 224 input"
    fixed_input = INPUT
    size_multiple = 32
    default_work_size = INPUT
    test_configs = (dict(width=0.05, chroma_size=8, hidden=16, color_space="yuv", head="bins_per_channel", bins=8),
                    *(dict(width=0.0625, head=h, chroma_size=9) for h in ("ab", "bins_per_channel")),
                    dict(width=0.0625, head="ab", color_space="lab"))
    bench_configs = (dict(width=0.25),)
    config_rules = {"width": SCALE, "chroma_size": integer(1, 128), "head": output_kind, "color_space": space,
                    "bins": integer(2, 256), "hidden": optional(integer(1, 65_536)), "batch_norm": boolean,
                    "dropout": real(0.0, 1.0, hi_open=True)}

    def __init__(
        self,
        *,
        width: float = 1.0,
        chroma_size: int = 33,
        head: str = "ab",
        color_space: str = "yuv",
        bins: int = 20,
        hidden: int | None = None,
        batch_norm: bool = True,
        dropout: float = 0.3,
    ) -> None:
        if head not in ("ab", "bins_per_channel"):
            raise ValueError(f"vgg_chroma supports heads 'ab' and 'bins_per_channel', got {head!r}")
        if width <= 0 or chroma_size < 1 or not 0.0 <= dropout < 1.0:
            raise ValueError("need width > 0, chroma_size >= 1 and 0 <= dropout < 1")
        hidden = int(hidden) if hidden is not None else max(16, int(round(1024 * width)))
        config = dict(width=width, chroma_size=chroma_size, head=head, color_space=color_space, bins=bins,
                      hidden=hidden, batch_norm=batch_norm, dropout=dropout)
        super().__init__(space=color_space, output_kind=head, bins=bins, config=config)
        layers: list[nn.Module] = []
        cin = 1
        for channels, convs in VGG16_BLOCKS:
            cout = scaled_channels(channels, width)
            for _ in range(convs):
                layers.append(nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(cout))
                layers.append(nn.ReLU(inplace=True))
                cin = cout
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        code = 2 if head == "ab" else BIN_CODE
        self.fc = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(cin * (INPUT // 32) ** 2, hidden), nn.LeakyReLU(0.01, inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.01, inplace=True), nn.Dropout(dropout),
            nn.BatchNorm1d(hidden),
            nn.Linear(hidden, code * chroma_size * chroma_size),
        )
        self.code = code
        self.decoder = None if head == "ab" else nn.Sequential(
            nn.Conv2d(code, 64, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(64, self.out_channels, 1))

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The fully connected head predicts chroma_size² whatever the input."""
        return self.config["chroma_size"], self.config["chroma_size"]

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        """Normalized luminance (B, 1, 224, 224) -> (B, C, chroma_size, chroma_size).

        Other sizes are resized to 224 first (the engine already does this via `fixed_input`).
        """
        if tuple(lum.shape[-2:]) != (INPUT, INPUT):
            lum = F.interpolate(lum, size=(INPUT, INPUT), mode="bilinear", align_corners=False)
        s = self.config["chroma_size"]
        x = self.fc(self.features(lum)).view(-1, self.code, s, s)
        return x if self.decoder is None else self.decoder(x)

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        yield from self.features.parameters()
