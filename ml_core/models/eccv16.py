"""Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016), exactly as published.

The module layout (`model1`..`model8`, `model_out`) and every index inside the Sequentials copy
the authors' PyTorch port, so their released checkpoint loads key for key (see
`load_official_checkpoint`) and our own trained files stay interchangeable with it. `width`
scales every channel count: 1.0 is the published 32 M-parameter network (~84 GFLOPs at 256²,
far too slow to train on a laptop CPU), 0.25 is a narrow variant that is.

The network predicts 1/4-resolution logits over Q ab bins. `model_out` is the authors' 1×1
conv whose weights are the bin centers / 110; it is never trained, but it is where an imported
checkpoint carries its own 313 centers, so decoding always uses the centers the head was trained
against (`ab_bins`).
"""

from __future__ import annotations

import functools
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import torch
from torch import nn

from ..color.quantize import BIN_SIZE, ABBins, gamut_bin_centers
from ..modelfiles.rules import SCALE, integer
from ._registry import register
from .base import ColorModel, scaled_channels

if TYPE_CHECKING:
    from ..modelfiles.modelfile import LoadedModel

OFFICIAL_CLASSES = 313
AB_SCALE = 110.0  # the authors' ab normalization, baked into model_out's weights


@functools.lru_cache(maxsize=8)
def _bin_centers(classes: int) -> torch.Tensor:
    gamut = gamut_bin_centers()
    if classes < gamut.shape[0]:
        raise ValueError(f"classes must be at least the {gamut.shape[0]} in-gamut ab bins, got {classes}")
    need = classes - gamut.shape[0]
    cells = torch.round(gamut / BIN_SIZE).long()  # integer grid units: exact, tie-free distances
    margin = 2
    while True:
        lo, hi = cells.min(0).values - margin, cells.max(0).values + margin
        a, b = torch.meshgrid(torch.arange(lo[0], hi[0] + 1), torch.arange(lo[1], hi[1] + 1), indexing="ij")
        grid = torch.stack((a.reshape(-1), b.reshape(-1)), dim=1)
        d2 = (grid[:, None, :] - cells[None, :, :]).square().sum(-1).min(1).values
        cand, d2 = grid[d2 > 0], d2[d2 > 0]
        # Sort by (distance, a, b): lexsort via stable sorts from the least significant key.
        order = torch.argsort(cand[:, 1], stable=True)
        order = order[torch.argsort(cand[order, 0], stable=True)]
        order = order[torch.argsort(d2[order], stable=True)]
        chosen, chosen_d2 = cand[order[:need]], d2[order[:need]]
        # Every cell within `margin` of the gamut set lies in the box, so the pick is exact
        # once the farthest chosen cell is no farther than the margin.
        if need == 0 or chosen_d2.max() <= margin * margin:
            break
        margin *= 2
    allc = torch.cat((cells, chosen))
    order = torch.argsort(allc[:, 1], stable=True)
    order = order[torch.argsort(allc[order, 0], stable=True)]  # a then b, as the gamut set
    return (allc[order] * BIN_SIZE).float()


def eccv16_bin_centers(classes: int = OFFICIAL_CLASSES) -> torch.Tensor:
    """(classes, 2) ab centers: our in-gamut bins, padded with the nearest grid cells.

    The authors' 313 bins come from a looser gamut hull than our computed 261, so a fresh model
    with the published head width gets the grid cells (multiples of 10) closest to our set,
    chosen deterministically by distance, then a, then b; all sorted by a then b.
    """
    return _bin_centers(int(classes)).clone()


def _block(cin: int, cout: int, convs: int, last_stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """conv, ReLU, ... , BatchNorm: the authors' index layout (conv at even, ReLU at odd indices)."""
    layers: list[nn.Module] = []
    for i in range(convs):
        stride = last_stride if i == convs - 1 else 1
        layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, stride=stride, padding=dilation, dilation=dilation),
                   nn.ReLU(inplace=True)]
    layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers)


@register
class ECCV16(ColorModel):
    arch = "eccv16"
    description = "Zhang et al. 2016 (ECCV16): VGG-style encoder with dilated convs, 313-way ab classification"
    size_multiple = 8
    default_work_size = 256
    output_stride = 4
    test_configs = (dict(width=0.05, classes=313), dict(width=0.125))
    bench_configs = (dict(width=0.25),)
    config_rules = {"width": SCALE, "classes": integer(1, 1024)}

    def __init__(self, *, width: float = 1.0, classes: int = OFFICIAL_CLASSES) -> None:
        if width <= 0:
            raise ValueError("width must be positive")
        centers = eccv16_bin_centers(classes)  # validates classes before building anything
        super().__init__(space="lab", output_kind="bins313", config=dict(width=width, classes=classes))
        c1, c2, c3, c4, c8 = (scaled_channels(n, width) for n in (64, 128, 256, 512, 256))
        self.model1 = _block(1, c1, 2, last_stride=2)
        self.model2 = _block(c1, c2, 2, last_stride=2)
        self.model3 = _block(c2, c3, 3, last_stride=2)
        self.model4 = _block(c3, c4, 3)
        self.model5 = _block(c4, c4, 3, dilation=2)
        self.model6 = _block(c4, c4, 3, dilation=2)
        self.model7 = _block(c4, c4, 3)
        self.model8 = nn.Sequential(
            nn.ConvTranspose2d(c4, c8, 4, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c8, c8, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c8, c8, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c8, classes, 1),
        )
        self.model_out = nn.Conv2d(classes, 2, 1, bias=False)
        with torch.no_grad():
            self.model_out.weight.copy_((centers / AB_SCALE).T[:, :, None, None])
        self.model_out.weight.requires_grad_(False)

    @classmethod
    def prepare_tables(cls, config: dict[str, Any]) -> None:
        eccv16_bin_centers(int(config.get("classes", OFFICIAL_CLASSES)))  # cached per class count

    @property
    def out_channels(self) -> int:
        return int(self.config["classes"])

    def ab_bins(self) -> ABBins:
        """The centers stored in model_out, so imported checkpoints decode with their own bins."""
        return ABBins(self.model_out.weight.detach()[:, :, 0, 0].T.float() * AB_SCALE)

    def forward(self, lum: torch.Tensor) -> torch.Tensor:
        """Normalized L (B, 1, H, W) -> bin logits (B, Q, H/4, W/4); softmax/model_out are decode's job."""
        x = lum
        for block in (self.model1, self.model2, self.model3, self.model4, self.model5, self.model6,
                      self.model7, self.model8):
            x = block(x)
        return x

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        for block in (self.model1, self.model2, self.model3, self.model4, self.model5, self.model6, self.model7):
            yield from block.parameters()


def _unwrap(sd: Any, path: Path | str) -> dict[str, torch.Tensor]:
    from ..modelfiles.modelfile import ModelFileError

    for key in ("state_dict", "model"):
        if isinstance(sd, Mapping) and key in sd and isinstance(sd[key], Mapping):
            sd = sd[key]
            break
    if not isinstance(sd, Mapping):
        raise ModelFileError(path, f"expected a state dict of tensors, found {type(sd).__name__}")
    out: dict[str, torch.Tensor] = {}
    for key, value in sd.items():
        name = str(key)
        name = name[len("module."):] if name.startswith("module.") else name
        if not isinstance(value, torch.Tensor):
            raise ModelFileError(path, f"{name} is a {type(value).__name__}, not a tensor")
        out[name] = value
    return out


def _convert(sd: Any, path: Path | str) -> tuple[dict[str, torch.Tensor], ECCV16]:
    from ..modelfiles.modelfile import ModelFileError

    tensors = _unwrap(sd, path)
    out_w = tensors.get("model_out.weight")
    classes = int(out_w.shape[1]) if out_w is not None and out_w.ndim == 4 else OFFICIAL_CLASSES
    try:
        model = ECCV16(width=1.0, classes=classes)
    except ValueError as exc:
        raise ModelFileError(path, f"model_out.weight has {classes} bins: {exc}") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    wrong = [f"{k} is {list(tensors[k].shape)}, expected {list(v.shape)}"
             for k, v in expected.items() if k in tensors and tensors[k].shape != v.shape]
    def names(keys: list[str]) -> str:
        return ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")

    problems = ([f"missing {names(missing)}"] if missing else []) + \
               ([f"unexpected {names(extra)}"] if extra else []) + wrong[:8]
    if problems:
        raise ModelFileError(path, "not the Zhang et al. ECCV16 layout: " + "; ".join(problems))
    converted = {k: tensors[k].detach().to(dtype=v.dtype, device="cpu").clone() for k, v in expected.items()}
    if not all(torch.isfinite(v).all() for v in converted.values() if v.is_floating_point()):
        raise ModelFileError(path, "weights contain NaN or infinite values")
    return converted, model


def convert_official_state_dict(sd: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The authors' state dict (plain, {"state_dict": ...}/{"model": ...}, or "module."-prefixed)
    -> our ECCV16 state dict at width 1.0; names any missing, unexpected or misshapen tensor."""
    return _convert(sd, "<state dict>")[0]


def load_official_checkpoint(path: Path | str) -> "LoadedModel":
    """Import the authors' released .pth as a model ready to run or save as a Chroma file.

    Loaded with `weights_only=True`: a .pth is a pickle, and a pickle from the internet that
    needs to construct arbitrary objects is refused instead of executed.
    """
    from ..modelfiles.modelfile import LoadedModel, ModelFileError, info_for

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "no such checkpoint file")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(
            path, f"refused: the checkpoint contains Python objects other than tensors, and loading them "
                  f"would run code from the file ({first})") from None
    except (RuntimeError, OSError, EOFError, ValueError, AttributeError, ImportError) as exc:
        raise ModelFileError(path, f"not a readable PyTorch checkpoint ({exc})") from None
    converted, model = _convert(sd, path)
    model.load_state_dict(converted)
    model.eval()
    info = info_for(
        model, path.stem, 256,
        description="Zhang et al. ECCV16 'Colorful Image Colorization', official weights (313 ab bins)",
        training={"source": "Zhang et al. 2016 official release", "imported_from": path.name},
    )
    return LoadedModel(model=model, info=info, path=None)
