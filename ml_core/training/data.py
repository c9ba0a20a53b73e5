"""Training data: photos from the user's folders, scanned once, cached small, cropped per step.

Scanning (`scan_photos`) walks the folders recursively and decides for every file whether it can
teach color: files that are not images, are corrupt, too small, or already gray / near gray (or
tinted monochrome like sepia) are skipped and counted by reason. Each usable photo is decoded
once and downscaled so its short side is a little above the training size; the thumbnail is kept
as an .npy under the per-user cache dir, keyed by (resolved path, file size, mtime, side), so a
second run (or the next epoch's DataLoader workers) never decodes a JPEG again. Nothing is ever
written into the user's folders.

`split_photos` makes a deterministic train/validation split from a seed (per file, or per
first-level subfolder so near-duplicate shots stay on one side). `PhotoDataset` returns 8-bit RGB
crops: random resized crops with flips for training (the random parameters come from
(seed, epoch, index), so they do not depend on worker count or order, which is what makes a
resumed run identical), a deterministic center crop for validation. `prepare_batch` turns a batch
into the model's input (normalized luminance, optionally with a lightness jitter that leaves the
colors alone) and the chroma target in the model's color space.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch
from PIL import Image, ImageOps

from ..cancel import CancelToken
from ..color.spaces import ColorSpace, rgb_to_lab
from ..io import paths
from ..io.atomic import atomic_write_bytes
from ..io.walk import find_files, unsupported_type
from .config import REASON_LABELS, REASONS  # noqa: F401  (defined torch-free; callers import them here too)
from .degrade import Damage, damage

CACHE_VERSION = 1
CACHE_FOLDER = "thumbs"


GRAY_SPREAD = 3.0  # 99th percentile of max(R,G,B) - min(R,G,B) at or below this: a gray photo saved as RGB
LOW_CHROMA = 6.0  # 95th percentile of ab chroma below this: nearly gray
TINT_SPREAD = 2.0  # 95th percentile distance of ab from the photo's mean hue ray: sepia, cyanotype...

_JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}


def cache_side_for(size: int) -> int:
    """Short side of the cached thumbnail for a training size: ~1.25x, rounded up to 32."""
    return int(math.ceil(size * 1.25 / 32.0) * 32)


def default_min_side(size: int) -> int:
    """Photos with a shorter short side than this are 'too small' (they would be upscaled > 2x)."""
    return max(32, size // 2)


def thumbs_dir() -> Path:
    return paths.user_cache_dir() / CACHE_FOLDER


# --------------------------------------------------------------------------- scan records


@dataclass(frozen=True)
class PhotoItem:
    """One usable training photo."""

    path: str  # the photo
    rel: str  # path relative to its input folder, '/'-separated (the file name for single files)
    root: str  # the input folder (or file) it was found under
    thumb: str  # cached thumbnail (.npy, H×W×3 uint8)
    width: int  # original pixel size (upright)
    height: int

    @property
    def group(self) -> str:
        """First-level subfolder under its input folder (the file itself when directly inside)."""
        head, sep, _ = self.rel.partition("/")
        return f"{Path(self.root).name}/{head if sep else self.rel}"


@dataclass
class PhotoSet:
    """The result of a scan: usable photos plus what was skipped and why."""

    items: list[PhotoItem]
    skipped: dict[str, int]
    skipped_files: list[tuple[str, str, str]]  # (path, reason, detail)
    roots: list[str]
    cache_side: int
    min_side: int
    seconds: float = 0.0
    decoded: int = 0  # files decoded in this scan (cache misses)
    problems: list[tuple[str, str]] = field(default_factory=list)  # inputs that do not exist etc.

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> dict[str, Any]:
        return {
            "folders": list(self.roots),
            "usable": len(self.items),
            "skipped": dict(self.skipped),
            "problems": [f"{p}: {r}" for p, r in self.problems],
            "cache_side": self.cache_side,
            "min_side": self.min_side,
            "scan_seconds": round(self.seconds, 3),
            "decoded": self.decoded,
        }


def walk_inputs(
    inputs: Iterable[str | os.PathLike],
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Folders (recursive) and files -> (candidates (path, rel, root), not-images (path, detail), problems).

    The walk is the one colorize uses (`io.walk.find_files`: hidden files and folders ignored,
    links to folders not followed, link loops and unreadable folders named in `problems`), in
    the files-first order training has always scanned in: a seeded run orders its photos by
    this list, so the order must not change under a trained model.
    """
    from ..io.imageio import is_supported_path  # imported where used, as everywhere in this module

    found = find_files(inputs, order="files_first")
    candidates: list[tuple[str, str, str]] = []
    not_images: list[tuple[str, str]] = []
    for file in found.files:
        if is_supported_path(file.path):
            candidates.append((file.path, file.rel, file.root))
        else:
            not_images.append((file.path, unsupported_type(file.path)))
    return candidates, not_images, found.problems


def _cache_key(path: str, st: os.stat_result, cache_side: int) -> str:
    resolved = os.path.realpath(path)
    text = f"v{CACHE_VERSION}\0{resolved}\0{st.st_size}\0{st.st_mtime_ns}\0{cache_side}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _cache_paths(key: str, cache_dir: Path) -> tuple[Path, Path]:
    folder = cache_dir / key[:2]
    return folder / f"{key}.npy", folder / f"{key}.json"


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:
        return 1


def _decode_small(path: str, target_short: int) -> tuple[np.ndarray, int, int]:
    """Decode a photo at no less than `target_short` on its short side -> (pixels, width, height).

    JPEGs (the common case, and the expensive one for 12-megapixel camera files) use libjpeg's
    DCT scaling (Pillow's draft mode) to decode at 1/2, 1/4 or 1/8 size directly; everything else
    goes through imageio.read_image (16-bit, CMYK, palettes, EXIF orientation...).
    """
    from ..io.imageio import ImageReadError, read_image

    if Path(path).suffix.lower() in _JPEG_SUFFIXES:
        try:
            with Image.open(path) as img:
                if img.format == "JPEG" and img.mode in ("RGB", "L"):
                    w, h = img.size
                    orientation = _orientation(img)
                    scale = target_short / max(1, min(w, h))
                    if scale < 1.0:
                        img.draft(img.mode, (max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))))
                    img.load()
                    if orientation != 1:
                        img = ImageOps.exif_transpose(img)
                    if orientation in (5, 6, 7, 8):
                        w, h = h, w
                    return np.asarray(img), w, h
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise ImageReadError(path, f"the file is truncated or corrupt ({exc})") from None
    loaded = read_image(path)
    pixels = loaded.pixels
    if pixels.dtype == np.uint16:
        pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return pixels, loaded.width, loaded.height


def _resize_short(pixels: np.ndarray, side: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    if min(h, w) <= side:
        return np.ascontiguousarray(pixels)
    s = side / min(h, w)
    size = (max(side, round(w * s)), side) if h < w else (side, max(side, round(h * s)))
    img = Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)
    return np.asarray(img)


def color_stats(pixels: np.ndarray) -> dict[str, float]:
    """How colorful a photo is: channel spread, chroma and single-hue spread on a ≤64 px copy."""
    img = Image.fromarray(pixels)
    if max(img.size) > 64:
        img = img.resize(
            (max(1, round(img.width * 64 / max(img.size))), max(1, round(img.height * 64 / max(img.size)))),
            Image.Resampling.BOX,
        )
    small = np.asarray(img)
    spread = small.max(axis=2).astype(np.int16) - small.min(axis=2).astype(np.int16)
    t = torch.from_numpy(small.copy()).permute(2, 0, 1).float() / 255.0
    ab = rgb_to_lab(t)[1:].reshape(2, -1)
    chroma = ab.norm(dim=0)
    mean = ab.mean(dim=1)
    u = mean / mean.norm().clamp(min=1e-6)
    proj = (u[:, None] * ab).sum(dim=0)
    perp = (ab - u[:, None] * proj).norm(dim=0)
    ray = torch.where(proj >= 0, perp, chroma)  # distance from the half-line of the mean hue
    return {
        "spread99": float(np.percentile(spread, 99)),
        "chroma95": float(torch.quantile(chroma, 0.95)),
        "tint95": float(torch.quantile(ray, 0.95)),
    }


def inspect_photo(path: str, cache_side: int, cache_dir: Path | None = None) -> dict[str, Any]:
    """Facts about one photo, from the cache or by decoding it once (and then caching them).

    Returns {"status": "ok"|"corrupt"|"grayscale", "detail", "width", "height", color stats...,
    "thumb": path of the .npy or None}. Thresholds are applied by the caller, so changing them
    never needs a new decode.
    """
    from ..io.imageio import ImageReadError

    cache_dir = cache_dir or thumbs_dir()
    try:
        st = os.stat(path)
    except OSError as exc:
        return {"status": "corrupt", "detail": exc.strerror or str(exc), "thumb": None}
    key = _cache_key(path, st, cache_side)
    npy, meta_path = _cache_paths(key, cache_dir)
    try:
        facts = json.loads(meta_path.read_text(encoding="utf-8"))
        if facts.get("status") != "ok" or npy.is_file():
            facts["thumb"] = str(npy) if facts.get("status") == "ok" else None
            facts["cached"] = True
            return facts
    except (OSError, ValueError):
        pass
    facts: dict[str, Any]
    try:
        pixels, width, height = _decode_small(path, cache_side)
    except ImageReadError as exc:
        facts = {"status": "corrupt", "detail": exc.reason}
    except Exception as exc:  # any decoder failure is this file's problem, never the whole scan's
        facts = {"status": "corrupt", "detail": f"{type(exc).__name__}: {exc}"}
    else:
        facts = {"width": int(width), "height": int(height)}
        if pixels.ndim == 2:
            facts.update(status="grayscale", detail="stored as a grayscale image")
        else:
            pixels = pixels[..., :3]
            thumb = _resize_short(pixels, cache_side)
            stats = color_stats(thumb)
            facts.update(stats)
            if stats["spread99"] <= GRAY_SPREAD:
                facts.update(status="grayscale", detail="RGB file with gray pixels")
            else:
                facts.update(status="ok", detail="")
                buf = io.BytesIO()
                np.save(buf, np.ascontiguousarray(thumb), allow_pickle=False)
                atomic_write_bytes(npy, buf.getvalue(), durable=False)
    atomic_write_bytes(meta_path, json.dumps(facts).encode("utf-8"), durable=False)
    facts["thumb"] = str(npy) if facts["status"] == "ok" else None
    facts["cached"] = False
    return facts


def _verdict(facts: dict[str, Any], min_side: int, low_chroma: float, tint_spread: float) -> tuple[str, str]:
    """('ok', '') or (reason, detail)."""
    status = facts.get("status")
    if status != "ok":
        return (status if status in REASONS else "corrupt"), facts.get("detail", "")
    w, h = facts["width"], facts["height"]
    if min(w, h) < min_side:
        return "too_small", f"{w}×{h} pixels; the short side must be at least {min_side}"
    if facts["chroma95"] < low_chroma:
        return "low_chroma", f"almost no color (95th percentile chroma {facts['chroma95']:.1f})"
    if facts["tint95"] < tint_spread:
        return "low_chroma", f"a single tint, like sepia (hue spread {facts['tint95']:.1f})"
    return "ok", ""


class _InspectJobs(torch.utils.data.Dataset):
    """Scan work as a Dataset so DataLoader workers decode photos in parallel."""

    def __init__(self, jobs: Sequence[str], cache_side: int, cache_dir: Path) -> None:
        self.jobs = list(jobs)
        self.cache_side = cache_side
        self.cache_dir = cache_dir

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, i: int) -> tuple[int, dict[str, Any]]:
        return i, inspect_photo(self.jobs[i], self.cache_side, self.cache_dir)


def _first(batch: list) -> Any:
    return batch[0]


def default_workers(jobs: int | None = None) -> int:
    """Worker processes for decoding: one per core beyond the first, at most 4, none for tiny jobs."""
    cpus = os.cpu_count() or 1
    if jobs is not None and jobs < 16:
        return 0
    return max(0, min(4, cpus))


def scan_photos(
    inputs: Iterable[str | os.PathLike],
    size: int,
    *,
    min_side: int | None = None,
    low_chroma: float = LOW_CHROMA,
    tint_spread: float = TINT_SPREAD,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
    mp_context: str | None = None,
) -> PhotoSet:
    """Find the usable photos under `inputs` for training at `size` (see the module docstring)."""
    t0 = time.perf_counter()
    cache_dir = Path(cache_dir) if cache_dir else thumbs_dir()
    side = cache_side_for(size)
    min_side = default_min_side(size) if min_side is None else int(min_side)
    roots = [os.fspath(i) for i in inputs]
    candidates, not_images, problems = walk_inputs(roots)
    skipped = dict.fromkeys(REASONS, 0)
    skipped_files: list[tuple[str, str, str]] = []
    for path, detail in not_images:
        skipped["not_image"] += 1
        skipped_files.append((path, "not_image", detail))

    results: list[dict[str, Any] | None] = [None] * len(candidates)
    total = len(candidates)
    done = 0
    misses: list[int] = []
    # Cache hits are a stat and a small JSON read: do them here, send only misses to workers.
    for i, (path, _, _) in enumerate(candidates):
        try:
            st = os.stat(path)
            npy, meta = _cache_paths(_cache_key(path, st, side), cache_dir)
            facts = json.loads(meta.read_text(encoding="utf-8"))
            if facts.get("status") == "ok" and not npy.is_file():
                raise FileNotFoundError(npy)
            facts["thumb"] = str(npy) if facts.get("status") == "ok" else None
            results[i] = facts
            done += 1
        except (OSError, ValueError):
            misses.append(i)
    if progress:
        progress(done, total)
    if misses:
        nw = default_workers(len(misses)) if workers is None else max(0, int(workers))
        nw = min(nw, len(misses))
        jobs = _InspectJobs([candidates[i][0] for i in misses], side, cache_dir)
        loader = torch.utils.data.DataLoader(
            jobs, batch_size=1, shuffle=False, num_workers=nw, collate_fn=_first,
            multiprocessing_context=mp_context if nw else None,
        )
        for j, facts in loader:
            if cancel is not None:
                cancel.checkpoint()
            results[misses[j]] = facts
            done += 1
            if progress and (done % 16 == 0 or done == total):
                progress(done, total)
    items: list[PhotoItem] = []
    for (path, rel, root), facts in zip(candidates, results):
        assert facts is not None
        reason, detail = _verdict(facts, min_side, low_chroma, tint_spread)
        if reason == "ok":
            items.append(PhotoItem(path, rel, root, facts["thumb"], facts["width"], facts["height"]))
        else:
            skipped[reason] += 1
            skipped_files.append((path, reason, detail))
    return PhotoSet(
        items=items, skipped=skipped, skipped_files=skipped_files, roots=roots, cache_side=side,
        min_side=min_side, seconds=time.perf_counter() - t0, decoded=len(misses), problems=problems,
    )


# --------------------------------------------------------------------------- split


def _hash01(seed: int, key: str) -> float:
    digest = hashlib.sha256(f"{seed}\0{key}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_photos(
    items: Sequence[PhotoItem], val_fraction: float, seed: int = 0, by_folder: bool = False
) -> tuple[list[PhotoItem], list[PhotoItem]]:
    """Deterministic (train, validation) split.

    Files (or, with `by_folder`, first-level subfolders) are ordered by a seeded hash of their
    path relative to the input folder, and taken for validation until the fraction is reached;
    the split survives moving the folder and adding photos moves few others. Each side keeps the
    items' original order.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"validation fraction must be in [0, 1), got {val_fraction}")
    n = len(items)
    if n == 0 or val_fraction == 0.0:
        return list(items), []
    groups: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        key = it.group if by_folder else f"{Path(it.root).name}/{it.rel}"
        groups.setdefault(key, []).append(i)
    if len(groups) < 2:
        return list(items), []
    target = max(1, round(n * val_fraction))
    order = sorted(groups, key=lambda g: (_hash01(seed, g), g))
    val_idx: set[int] = set()
    for g in order[:-1]:  # at least one group stays in training
        if len(val_idx) >= target:
            break
        val_idx.update(groups[g])
    train = [it for i, it in enumerate(items) if i not in val_idx]
    val = [it for i, it in enumerate(items) if i in val_idx]
    return train, val


# --------------------------------------------------------------------------- dataset


@dataclass(frozen=True)
class Augment:
    """Training-time augmentation.

    crop: "resized" = random resized crop (area fraction in `scale`, aspect in `ratio`, then a
    square output), "short_side" = an aspect-preserving crop (scale the short side by a
    random factor in [1, 1/scale_short], then a random square crop). `lightness_jitter` j draws a
    gamma in [e^-j, e^j] applied to the input lightness only, so colors (the target) are unchanged.
    """

    crop: str = "resized"
    scale: tuple[float, float] = (0.35, 1.0)
    ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0)
    scale_short: float = 0.8
    flip: bool = True
    lightness_jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.crop not in ("resized", "short_side"):
            raise ValueError(f"crop must be 'resized' or 'short_side', got {self.crop!r}")


def load_thumb(item: PhotoItem, cache_side: int | None = None) -> np.ndarray:
    """The cached thumbnail; re-created from the photo if the cache was cleared meanwhile."""
    try:
        return np.load(item.thumb, allow_pickle=False)
    except (OSError, ValueError):
        side = cache_side or max(64, min(item.width, item.height))
        facts = inspect_photo(item.path, side, Path(item.thumb).parent.parent)
        if facts.get("status") != "ok":
            raise RuntimeError(f"{item.path}: no longer readable ({facts.get('detail')})") from None
        return np.load(facts["thumb"], allow_pickle=False)


def center_box(h: int, w: int) -> tuple[float, float, float, float]:
    side = min(h, w)
    x0, y0 = (w - side) / 2.0, (h - side) / 2.0
    return x0, y0, x0 + side, y0 + side


def random_box(h: int, w: int, rng: np.random.Generator, aug: Augment) -> tuple[float, float, float, float]:
    if aug.crop == "short_side":
        side = min(h, w) * rng.uniform(aug.scale_short, 1.0)
        x0 = rng.uniform(0.0, w - side)
        y0 = rng.uniform(0.0, h - side)
        return x0, y0, x0 + side, y0 + side
    area = h * w
    log_lo, log_hi = math.log(aug.ratio[0]), math.log(aug.ratio[1])
    for _ in range(10):
        target = area * rng.uniform(aug.scale[0], aug.scale[1])
        ratio = math.exp(rng.uniform(log_lo, log_hi))
        cw = math.sqrt(target * ratio)
        ch = math.sqrt(target / ratio)
        if cw <= w and ch <= h:
            x0 = rng.uniform(0.0, w - cw)
            y0 = rng.uniform(0.0, h - ch)
            return x0, y0, x0 + cw, y0 + ch
    return center_box(h, w)


class PhotoDataset(torch.utils.data.Dataset):
    """8-bit RGB square crops of cached photos.

    Index with `i` or with `(epoch, i)` (what `EpochBatches` yields): each sample's random crop,
    flip and jitter come from a generator seeded by (seed, epoch, i) alone. Returns
    (rgb uint8 (3, S, S), gamma float32 scalar, i).
    """

    def __init__(
        self, items: Sequence[PhotoItem], size: int, *, train: bool, seed: int = 0,
        augment: Augment | None = None, cache_side: int | None = None,
    ) -> None:
        self.items = list(items)
        self.size = int(size)
        self.train = train
        self.seed = int(seed)
        self.augment = augment or Augment()
        self.cache_side = cache_side

    def __len__(self) -> int:
        return len(self.items)

    def crop(self, index: int, epoch: int = 0) -> tuple[np.ndarray, float]:
        item = self.items[index]
        thumb = load_thumb(item, self.cache_side)
        h, w = thumb.shape[:2]
        gamma = 1.0
        flip = False
        if self.train:
            rng = np.random.default_rng([self.seed, epoch, index])
            box = random_box(h, w, rng, self.augment)
            flip = self.augment.flip and bool(rng.random() < 0.5)
            if self.augment.lightness_jitter > 0:
                j = self.augment.lightness_jitter
                gamma = math.exp(rng.uniform(-j, j))
        else:
            box = center_box(h, w)
        img = Image.fromarray(thumb).resize((self.size, self.size), Image.Resampling.BILINEAR, box=box)
        if flip:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return np.asarray(img), gamma

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, int]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        arr, gamma = self.crop(int(index), int(epoch))
        rgb = torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
        return rgb, torch.tensor(gamma, dtype=torch.float32), int(index)


def epoch_permutation(n: int, seed: int, epoch: int) -> list[int]:
    g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    return torch.randperm(n, generator=g).tolist()


def source_weights(items: Sequence[PhotoItem], balance: float) -> list[float] | None:
    """Per-photo sampling weights that even out sources: weight ∝ n_source^-balance.

    Why: in the shipped corpus one source (150 px scene photos) is more than half of the files,
    so batches drawn by file are mostly landscapes. `balance` 0 draws by file (None: plain
    permutation), 1 gives every source (first-level folder, `PhotoItem.group`) the same share,
    0.5 gives each a share ∝ √n — small sources are seen more often without being memorized.
    """
    if not 0.0 <= balance <= 1.0:
        raise ValueError(f"source balance must be in [0, 1], got {balance}")
    if balance == 0.0 or not items:
        return None
    counts: dict[str, int] = {}
    for it in items:
        counts[it.group] = counts.get(it.group, 0) + 1
    return [counts[it.group] ** -balance for it in items]


def epoch_batches(
    n: int, batch_size: int, seed: int, epoch: int, rank: int = 0, world_size: int = 1,
    weights: Sequence[float] | None = None,
) -> list[list[tuple[int, int]]]:
    """This rank's batches of (epoch, index) keys for one epoch; incomplete global batches are dropped.

    Global batch g is permutation[g·B·W : (g+1)·B·W] and rank r takes its r-th slice of B, so every
    rank runs the same number of steps and the union over ranks is what one process would see
    with batch B·W. With `weights` the epoch is n draws with replacement, each index with
    probability ∝ its weight (seeded by seed and epoch alone, so a resumed run draws the same).
    """
    if weights is None:
        perm = epoch_permutation(n, seed, epoch)
    else:
        if len(weights) != n:
            raise ValueError(f"{len(weights)} weights for {n} photos")
        g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch) + 7_919)
        perm = torch.multinomial(torch.tensor(weights, dtype=torch.float64), n, replacement=True, generator=g).tolist()
    per_step = batch_size * world_size
    steps = n // per_step
    out = []
    for g_ in range(steps):
        start = g_ * per_step + rank * batch_size
        out.append([(epoch, i) for i in perm[start : start + batch_size]])
    return out


def prepare_batch(
    rgb: torch.Tensor, gamma: torch.Tensor | None, space: ColorSpace,
    damage_generator: torch.Generator | None = None, damage_config: Damage | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """uint8 RGB (B, 3, S, S) -> (model input (B, 1, S, S), luminance, chroma (B, 2, S, S) natural units).

    The lightness jitter bends the input's tone curve (L' = 100·(L/100)^γ, or Y^γ in YUV), keeping
    black, white and the target colors where they are. With `damage_generator`, old-print damage
    (ml_core.training.degrade) is applied to the input too; the returned luminance and chroma stay clean.
    """
    x = rgb.float() / 255.0
    lum, chroma = space.split(x)
    lum_in = lum
    if gamma is not None and bool((gamma != 1.0).any()):
        g = gamma.to(lum.dtype).view(-1, 1, 1, 1)
        if space.name == "lab":
            lum_in = 100.0 * (lum.clamp(min=0.0) / 100.0) ** g
        else:
            lum_in = lum.clamp(min=0.0) ** g
    if damage_generator is not None:
        lum_in = damage(lum_in, damage_generator, 100.0 if space.name == "lab" else 1.0, damage_config)
    return space.normalize_lum(lum_in), lum, chroma
