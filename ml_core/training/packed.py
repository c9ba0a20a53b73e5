"""A training corpus packed into one small file, decoded once into (GPU) memory and augmented there.

Why: on a GPU the network is so fast that decoding JPEGs and cropping them in Python worker
processes becomes the bottleneck, and a borrowed accelerator may come with minutes, not hours.
Packing the corpus once (square JPEG thumbnails of every photo, with its source folder, in one
safetensors file that loads without executing code) makes it small enough to carry to another
machine (≤ 60 MiB for the 14k-photo corpus at 144 px), and decoding it once onto the device lets
every crop, flip, damage and color conversion of a batch run there as batched tensor ops.

`pack_corpus` writes the file; `PackedCorpus` holds the decoded photos and draws augmented
batches; training on it is `ml_core.training.packed_train`.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from ..io.atomic import atomic_write_bytes
from .data import LOW_CHROMA, TINT_SPREAD, color_stats, walk_inputs

PACK_FORMAT = "chroma-pack"
PACK_VERSION = 1
DEFAULT_SIDE = 144
DEFAULT_MAX_MIB = 60.0


class PackError(ValueError):
    """A pack cannot be written or read; the message names the file and the problem."""


@dataclass(frozen=True)
class PackSummary:
    path: Path
    photos: int
    sources: list[str]
    side: int
    quality: int
    bytes: int
    skipped: dict[str, int]


def _square(path: str, side: int) -> np.ndarray:
    """The photo upright, short side scaled to `side`, center square: (side, side, 3) uint8."""
    with Image.open(path) as img:
        img.draft("RGB", (side * 2, side * 2))  # JPEG: decode at a reduced scale, much faster
        img = ImageOps.exif_transpose(img).convert("RGB")
        scale = side / min(img.size)
        w, h = max(side, round(img.width * scale)), max(side, round(img.height * scale))
        img = img.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=2.0)
        x0, y0 = (w - side) // 2, (h - side) // 2
        return np.asarray(img.crop((x0, y0, x0 + side, y0 + side)))


def _jpeg(pixels: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=quality, subsampling=0)
    return buf.getvalue()


def pack_corpus(
    inputs: Iterable[str], out: str | Path, *, side: int = DEFAULT_SIDE, max_mib: float = DEFAULT_MAX_MIB,
    exclude: Sequence[str] = (), quality: int = 90, progress: Callable[[int, int], None] | None = None,
) -> PackSummary:
    """Pack the color photos under `inputs` into `out`, lowering JPEG quality until it fits `max_mib`.

    The source of a photo is its first-level folder under the input (what `--source-balance`
    evens out); folders named in `exclude` (e.g. a held-out set) are left out. Nearly gray and
    single-tint photos are skipped by the same thresholds the folder trainer uses.
    """
    if not 32 <= side <= 1024:
        raise PackError(f"{out}: side must be between 32 and 1024 pixels, got {side}")
    if not max_mib > 0:
        raise PackError(f"{out}: size limit must be positive, got {max_mib}")
    candidates, _, problems = walk_inputs(inputs)
    excluded = set(exclude)
    pixels: list[np.ndarray] = []
    source_names: list[str] = []
    source_ids: list[int] = []
    skipped = {"unreadable": len(problems), "gray_or_tinted": 0, "excluded": 0}
    for i, (path, rel, root) in enumerate(candidates):
        head, sep, _ = rel.partition("/")
        source = f"{Path(root).name}/{head}" if sep else Path(root).name
        if head in excluded or Path(root).name in excluded:
            skipped["excluded"] += 1
            continue
        try:
            sq = _square(path, side)
        except (OSError, ValueError, Image.DecompressionBombError):
            skipped["unreadable"] += 1
            continue
        stats = color_stats(sq)
        if stats["chroma95"] < LOW_CHROMA or stats["tint95"] < TINT_SPREAD:
            skipped["gray_or_tinted"] += 1
            continue
        if source not in source_names:
            source_names.append(source)
        pixels.append(sq)
        source_ids.append(source_names.index(source))
        if progress is not None:
            progress(i + 1, len(candidates))
    if not pixels:
        raise PackError(f"{out}: no usable color photos under {', '.join(map(str, inputs))}")
    budget = int(max_mib * 1024 * 1024)
    q = int(quality)
    while True:
        blobs = [_jpeg(p, q) for p in pixels]
        total = sum(len(b) for b in blobs)
        if total <= budget * 0.98 or q <= 40:
            break
        q = max(40, q - max(2, int(math.ceil(10 * math.log(total / budget) / math.log(1.3)))))
    if total > budget:
        raise PackError(f"{out}: {len(pixels)} photos need {total / 2**20:.1f} MiB even at JPEG quality {q}; "
                        f"use a smaller --side or a larger limit")
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)
    tensors = {
        "jpeg": torch.from_numpy(np.frombuffer(b"".join(blobs), dtype=np.uint8).copy()),
        "offsets": torch.from_numpy(offsets),
        "source": torch.tensor(source_ids, dtype=torch.int32),
    }
    meta = {"format": PACK_FORMAT, "version": PACK_VERSION, "side": side, "quality": q, "sources": source_names,
            "skipped": skipped}
    data = save(tensors, metadata={"chroma_pack": json.dumps(meta)})
    atomic_write_bytes(Path(out), data)
    return PackSummary(Path(out), len(pixels), source_names, side, q, len(data), skipped)


class PackedCorpus:
    """Every photo of a pack decoded into one uint8 tensor (N, 3, S, S) on `device`."""

    def __init__(self, photos: torch.Tensor, source: torch.Tensor, sources: list[str], side: int) -> None:
        self.photos = photos
        self.source = source
        self.sources = sources
        self.side = side

    def __len__(self) -> int:
        return int(self.photos.shape[0])

    @classmethod
    def load(cls, path: str | Path, device: torch.device | str = "cpu") -> "PackedCorpus":
        path = Path(path)
        try:
            tensors = load_file(str(path))
            with safe_open(str(path), "pt") as f:
                meta = json.loads((f.metadata() or {})["chroma_pack"])
        except (OSError, KeyError, ValueError, RuntimeError, SafetensorError) as exc:
            raise PackError(f"{path}: not a readable Chroma pack ({exc})") from None
        if meta.get("format") != PACK_FORMAT or meta.get("version") != PACK_VERSION:
            raise PackError(f"{path}: not a Chroma pack of version {PACK_VERSION}")
        side = meta.get("side")
        if not isinstance(side, int) or not 32 <= side <= 1024:
            raise PackError(f"{path}: side {side!r} is out of range")
        blob, offsets, source = tensors["jpeg"].numpy(), tensors["offsets"].tolist(), tensors["source"]
        n = len(offsets) - 1
        if n < 1 or source.shape != (n,) or offsets[0] != 0 or offsets[-1] != blob.size or \
                any(b < a for a, b in zip(offsets, offsets[1:])):
            raise PackError(f"{path}: the photo index is inconsistent")
        if int(source.min()) < 0 or int(source.max()) >= len(meta.get("sources", [])):
            raise PackError(f"{path}: a photo names a source the pack does not list")
        photos = torch.empty(n, 3, side, side, dtype=torch.uint8)
        for i in range(n):
            with Image.open(io.BytesIO(blob[offsets[i] : offsets[i + 1]].tobytes())) as img:
                arr = np.asarray(img.convert("RGB"))
            if arr.shape != (side, side, 3):
                raise PackError(f"{path}: photo {i} is {arr.shape[1]}×{arr.shape[0]}, not {side}×{side}")
            photos[i] = torch.from_numpy(arr.copy()).permute(2, 0, 1)
        return cls(photos.to(device), source.long().to(device), list(meta["sources"]), side)

    def split(self, val_count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Seeded (train indices, validation indices): validation photos are never drawn for training."""
        g = torch.Generator().manual_seed(int(seed))
        order = torch.randperm(len(self), generator=g)
        val_count = max(0, min(int(val_count), len(self) - 2))
        return order[val_count:].to(self.photos.device), order[:val_count].to(self.photos.device)

    def weights(self, indices: torch.Tensor, balance: float) -> torch.Tensor:
        """Sampling weights of `indices` ∝ n_source^-balance (see data.source_weights)."""
        if not 0.0 <= balance <= 1.0:
            raise ValueError(f"source balance must be in [0, 1], got {balance}")
        src = self.source[indices]
        counts = torch.bincount(src, minlength=len(self.sources)).float()
        return counts[src].pow(-balance)

    def batch(self, indices: torch.Tensor, out_size: int, generator: torch.Generator,
              scale: tuple[float, float] = (0.35, 1.0), flip: bool = True) -> torch.Tensor:
        """Random resized square crops (area share in `scale`) with flips of photos `indices`:
        uint8 (B, 3, out, out), computed on the photos' device in one `grid_sample`."""
        b = int(indices.numel())
        dev = self.photos.device
        src = self.photos[indices].float()
        area = scale[0] + (scale[1] - scale[0]) * torch.rand(b, generator=generator, device=dev)
        half = area.sqrt()  # crop side as a share of the photo side (square crops)
        cx = (torch.rand(b, generator=generator, device=dev) * 2 - 1) * (1 - half)
        cy = (torch.rand(b, generator=generator, device=dev) * 2 - 1) * (1 - half)
        sx = half
        if flip:
            sx = torch.where(torch.rand(b, generator=generator, device=dev) < 0.5, -half, half)
        theta = torch.zeros(b, 2, 3, device=dev)
        theta[:, 0, 0], theta[:, 0, 2] = sx, cx
        theta[:, 1, 1], theta[:, 1, 2] = half, cy
        grid = F.affine_grid(theta, [b, 3, out_size, out_size], align_corners=False)
        out = F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=False)
        return out.round().clamp(0, 255).to(torch.uint8)

    def center(self, indices: torch.Tensor, out_size: int) -> torch.Tensor:
        """The whole photos of `indices` resized to out_size: uint8 (B, 3, out, out), for validation."""
        x = F.interpolate(self.photos[indices].float(), size=(out_size, out_size), mode="area")
        return x.round().clamp(0, 255).to(torch.uint8)
