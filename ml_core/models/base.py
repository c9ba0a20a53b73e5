"""What every model family declares, so the engine, trainer and exporter treat them alike.

A model maps normalized luminance (B, 1, H, W) to a raw head output at the same or a reduced
resolution: `ab` (B, 2, h, w) normalized chroma, `bins313` (B, Q, h, w) logits over ab bins, or
`bins_per_channel` (B, 2 * n, h, w) logits. Decoding to chroma is `ColorModel.decode`, once for
every family.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Iterator

import torch
from torch import nn

from ..color.quantize import ABBins, ChannelBins
from ..color.spaces import ColorSpace, color_space
from ..modelfiles.rules import Rule

OUTPUT_KINDS = ("ab", "bins313", "bins_per_channel")
HINT_CHANNELS = 3  # hint a/110, hint b/110, mask (Zhang et al. 2017)


class ColorModel(nn.Module):
    """Base class: subclasses set `arch`, build layers from keyword config, and implement forward."""

    arch: ClassVar[str] = ""
    description: ClassVar[str] = ""
    # Input size policy: a fixed side (the input is resized to it, e.g. a VGG trunk with a fully
    # connected head), or any size that is a multiple of `size_multiple`.
    fixed_input: ClassVar[int | None] = None
    size_multiple: ClassVar[int] = 8
    default_work_size: ClassVar[int] = 256
    # The head output is the input divided by this (a family whose output size does not follow
    # the input, e.g. a fully connected head, overrides `output_size` instead).
    output_stride: ClassVar[int] = 1
    # Tiny configurations (one per head or option worth covering, the smallest first) that the
    # tests and benchmarks build for every registered family; fast on a 2-core CPU. A family must
    # declare at least one: the model tests fail for a family without.
    test_configs: ClassVar[tuple[dict[str, Any], ...]] = ()
    # Configurations a laptop CPU can train, for bench/bench_train.py (empty: the published network).
    bench_configs: ClassVar[tuple[dict[str, Any], ...]] = ({},)
    # What each constructor keyword accepts from a model file, stated beside the constructor in
    # the words of ml_core.modelfiles.rules: a file is a stranger's, and its numbers are checked
    # before anything is built (modelfiles.meta.check_config reads this through the registry).
    # None: scalar values only, under the constructor's keyword names.
    config_rules: ClassVar[Mapping[str, Rule] | None] = None

    def __init__(self, *, space: str, output_kind: str, config: dict[str, Any], bins: int = 20) -> None:
        """`config` is exactly the subclass's constructor keywords: create(arch, **config) rebuilds it."""
        super().__init__()
        if output_kind not in OUTPUT_KINDS:
            raise ValueError(f"output kind must be one of {OUTPUT_KINDS}, got {output_kind!r}")
        self.space: ColorSpace = color_space(space)
        self.output_kind = output_kind
        if output_kind == "bins313" and space != "lab":
            raise ValueError("ab-bin classification (bins313) is defined in the Lab color space only")
        self.channel_bins = ChannelBins(bins) if output_kind == "bins_per_channel" else None
        self.config: dict[str, Any] = dict(config)

    @classmethod
    def prepare_tables(cls, config: dict[str, Any]) -> None:
        """Build, for real, the cached tables the constructor computes from `config`.

        Why: a model file's network is counted before it is built (modelfiles.meta.check_size)
        by running the constructor on torch's meta device, which lacks some operators the tables
        need; cached beforehand, the constructor only reads them there. Raises ValueError for a
        config the constructor would refuse. The shared ab-gamut table is built by the caller.
        """

    @property
    def accepts_hints(self) -> bool:
        """True for models trained to take a sparse hint map after L (see ml_core.guidance.hint_maps).

        Such a model's input has `in_channels` = 1 + 3: normalized L, hint a/110, hint b/110 and
        the hint mask; with no hints the three extra channels are zero.
        """
        return False

    @property
    def in_channels(self) -> int:
        return 1 + (HINT_CHANNELS if self.accepts_hints else 0)

    @property
    def out_channels(self) -> int:
        if self.output_kind == "ab":
            return 2
        if self.output_kind == "bins313":
            return self.ab_bins().count
        return 2 * self.channel_bins.count  # type: ignore[union-attr]

    def ab_bins(self) -> ABBins:
        """The ab bins this model classifies over; checkpoints that carry their own override this."""
        if not hasattr(self, "_ab_bins"):
            self._ab_bins = ABBins()
        return self._ab_bins

    def decode(self, raw: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Raw head output -> (chroma in the model's space, natural units; confidence in [0, 1] or None).

        One place turns every head into chroma, so the engine, trainer previews and ONNX export
        cannot disagree about what a model predicts.
        """
        if self.output_kind == "ab":
            return self.space.denormalize_chroma(raw), None
        if self.output_kind == "bins313":
            bins = self.ab_bins()
            return bins.annealed_mean(raw, temperature), bins.confidence(raw)
        cb = self.channel_bins
        assert cb is not None
        return self.space.denormalize_chroma(cb.annealed_mean(raw, temperature)), cb.confidence(raw)

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters frozen by 'freeze encoder' fine-tuning: the feature extractor, not the head."""
        raise NotImplementedError

    def input_size_for(self, height: int, width: int, work_size: int) -> tuple[int, int]:
        """The (h, w) the model runs at for a photo of (height, width) at a given render size.

        The long side becomes `work_size` so wide panoramas keep their aspect ratio, then sides
        round to the model's multiple; fixed-input models ignore the photo's shape.
        """
        if self.fixed_input is not None:
            return self.fixed_input, self.fixed_input
        scale = work_size / max(height, width)
        m = self.size_multiple

        def snap(side: int) -> int:
            return max(m, int(round(side * scale / m)) * m)

        return snap(height), snap(width)

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The head output's (h, w) for an input of (height, width)."""
        return height // self.output_stride, width // self.output_stride

    def describe(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "config": dict(self.config),
            "color_space": self.space.name,
            "output_kind": self.output_kind,
            "fixed_input": self.fixed_input,
            "size_multiple": self.size_multiple,
            "parameters": sum(p.numel() for p in self.parameters()),
        }


def scaled_channels(channels: int, width: float) -> int:
    """A published layer's channel count times a family's `width` multiplier, at least one: the
    thin networks a CPU can train keep the published shape."""
    return max(1, int(round(channels * width)))


def conv_bn_relu(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )
