"""Generated color photos for tests, benchmarks and smoke runs (no real photos needed).

Each picture is a little scene drawn in Lab whose colors follow its lightness and texture, so
even a tiny network learns something in a few steps: a bright blue sky gradient on top, mid-gray
green ground, dark red and bright yellow shapes, plus mild noise. Deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..color.spaces import lab_to_rgb

# (L range, a, b) of the scene's materials.
SKY = ((72.0, 88.0), -8.0, -38.0)
GROUND = ((42.0, 58.0), -42.0, 38.0)
RED = ((28.0, 40.0), 58.0, 42.0)
YELLOW = ((86.0, 94.0), -4.0, 78.0)


def synthetic_photo(rng: np.random.Generator, height: int = 96, width: int = 128) -> np.ndarray:
    """One H×W×3 uint8 scene."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    lab = np.zeros((3, height, width), np.float32)
    horizon = height * rng.uniform(0.35, 0.65)
    sky = yy < horizon + 4.0 * np.sin(xx / width * rng.uniform(2, 8) + rng.uniform(0, 6.28))
    t = yy / max(1.0, horizon)
    lab[0] = np.where(sky, SKY[0][1] - (SKY[0][1] - SKY[0][0]) * t, 0.0)
    ground_l = GROUND[0][0] + (GROUND[0][1] - GROUND[0][0]) * (0.5 + 0.5 * np.sin(xx / rng.uniform(3, 9)))
    lab[0] = np.where(sky, lab[0], ground_l)
    lab[1] = np.where(sky, SKY[1], GROUND[1])
    lab[2] = np.where(sky, SKY[2], GROUND[2])
    for _ in range(int(rng.integers(2, 5))):
        (lo, hi), a, b = (RED, YELLOW)[int(rng.integers(0, 2))]
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        r = rng.uniform(0.08, 0.22) * min(height, width)
        if rng.random() < 0.5:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        else:
            mask = (np.abs(yy - cy) < r) & (np.abs(xx - cx) < r * rng.uniform(0.6, 1.6))
        lab[0][mask] = rng.uniform(lo, hi)
        lab[1][mask] = a
        lab[2][mask] = b
    lab[0] += rng.normal(0.0, 1.0, (height, width)).astype(np.float32)
    rgb = lab_to_rgb(torch.from_numpy(lab))
    return (rgb.permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)


def write_synthetic_photos(
    folder: Path | str, count: int, size: tuple[int, int] = (96, 128), seed: int = 0,
    subfolders: int = 0, fmt: str = "png",
) -> list[Path]:
    """Write `count` scenes as PNG (lossless, default) or JPEG; optionally spread over subfolders."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        sub = folder / f"set{i % subfolders:02d}" if subfolders else folder
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"scene{i:04d}.{fmt}"
        img = Image.fromarray(synthetic_photo(rng, *size))
        img.save(path, **({"quality": 92} if fmt == "jpg" else {}))
        out.append(path)
    return out
