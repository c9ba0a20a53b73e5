"""Helpers shared by the benchmarks: test photos made on the fly, model specs, table printing."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "photos" / "fixtures"


def make_photo(path: Path, width: int = 4000, height: int = 3000, gray: bool = False) -> Path:
    """A real fixture photo upscaled to the target size (real texture for the JPEG codec), or noise."""
    if path.exists():
        return path
    sources = sorted(FIXTURES.glob("*.jpg"))
    if sources:
        img = Image.open(sources[0]).convert("RGB").resize((width, height), Image.Resampling.BICUBIC)
    else:
        rng = np.random.default_rng(0)
        img = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    if gray:
        img = img.convert("L")
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, quality=92)
    return path


def make_mosaic(path: Path, width: int = 4000, height: int = 3000) -> Path:
    """Real photos at their own scale, tiled to the target size: the fine texture (film grain,
    JPEG noise) of a camera photo, which an upscaled small photo lacks. Encoders' speed and
    file size depend on it: PNG of an upscaled photo is ~3x smaller and faster than of this."""
    if path.exists():
        return path
    sources = sorted((FIXTURES.parent / "old_bw").glob("*.jpg")) + sorted(FIXTURES.glob("*.jpg"))
    canvas = Image.new("RGB", (width, height))
    x = y = row_h = 0
    for src in sources * 8:
        img = Image.open(src).convert("RGB")
        if x + img.width > width:
            x, y, row_h = 0, y + row_h, 0
        if y >= height:
            break
        canvas.paste(img, (x, y))
        x, row_h = x + img.width, max(row_h, img.height)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, quality=92)
    return path


# One CPU-bound process, the way another program (a browser tab, a compile) takes a core. It
# exits by itself once orphaned, so a killed bench cannot leave it spinning.
BUSY_LOOP = """
import os
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(200_000):
        pass
"""


@contextlib.contextmanager
def competitor(active: bool = True) -> Iterator[None]:
    """Run the body beside one competing CPU-bound process (none when not `active`), always stopped."""
    if not active:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP], stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.3)  # let it reach the scheduler's steady state before measuring
        yield
    finally:
        proc.kill()
        proc.wait()


def parse_model_spec(spec: str) -> tuple[str, dict]:
    """'unet:{"width":16}' -> ("unet", {"width": 16}); a bare name is a store model."""
    if ":" in spec:
        arch, cfg = spec.split(":", 1)
        return arch, json.loads(cfg)
    return spec, {}


def print_table(rows: list[dict], columns: list[tuple[str, str]]) -> None:
    header = [title for _, title in columns]
    body = [[str(r.get(key, "")) for key, _ in columns] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for b in body:
        print("  ".join(c.ljust(w) for c, w in zip(b, widths)))


def step_times(step, steps: int, warmup: int = 2) -> list[float]:
    """Seconds of each of `steps` calls of `step()`, after `warmup` untimed calls (oneDNN builds its
    primitives, caches fill). Benches report medians of these: a median resists other processes'
    bursts on a shared CPU."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times
