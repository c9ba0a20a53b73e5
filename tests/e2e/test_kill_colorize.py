"""`kill -9` in the middle of `chroma colorize` (issue 12): whatever exists afterwards is whole,
originals are untouched, and the next run into the folder leaves no temp files behind.

Kill points are drawn from a seeded generator, counted from the moment the run has written its
first new output (so they land in the work, not in Python's start-up). What the process was
doing at that instant varies from machine to machine; the assertions hold for every instant.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")]

PHOTOS = 6
KILLS = 4




def make_photos(folder: Path) -> dict[str, bytes]:
    """Photos large enough that encoding one takes a while (a kill can land mid-write)."""
    folder.mkdir()
    rng = np.random.default_rng(12)
    for i in range(PHOTOS):
        pixels = rng.integers(0, 256, (360, 480), dtype=np.uint8)  # noise: slow to compress
        Image.fromarray(pixels).save(folder / f"photo_{i:02d}.png", compress_level=1)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def outputs(out: Path) -> list[Path]:
    return sorted(out.glob("*.png")) if out.is_dir() else []


def temp_files(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.name.endswith(".tmp")) if out.is_dir() else []


def start(src: Path, out: Path, model: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ml_core.cli", "colorize", str(src), "-o", str(out),
                             "--model", model, "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def kill_after_first_new_output(proc: subprocess.Popen, out: Path, delay: float) -> None:
    """Wait until this run has written something, then `delay` seconds more, then SIGKILL."""
    had = len(outputs(out))
    deadline = time.monotonic() + 300
    while proc.poll() is None and len(outputs(out)) <= had and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def assert_whole(out: Path) -> None:
    for path in outputs(out):
        with Image.open(path) as im:
            im.load()  # raises on a truncated or corrupt file
            assert im.size == (480, 360), path


def test_kill_9_mid_batch_leaves_only_whole_outputs_and_no_temp_files(tmp_path, tiny_model) -> None:
    src = tmp_path / "in"
    out = tmp_path / "out"
    originals = make_photos(src)
    rng = random.Random(20240611)
    left_behind = []
    for _ in range(KILLS):
        proc = start(src, out, tiny_model)
        kill_after_first_new_output(proc, out, rng.uniform(0.0, 0.6))
        assert "Traceback" not in proc.stderr.read()
        proc.stderr.close()
        left_behind += temp_files(out)  # a kill mid-write leaves one; the next run must remove it
        assert_whole(out)
        assert {p.name: p.read_bytes() for p in sorted(src.iterdir())} == originals
        if len(outputs(out)) == PHOTOS:
            break
    # The next run finishes the batch (earlier outputs are kept: "already exists") and removes
    # whatever temp files the killed runs left.
    proc = subprocess.run([sys.executable, "-m", "ml_core.cli", "colorize", str(src), "-o", str(out),
                           "--model", tiny_model, "--quiet"], capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    assert all("already exists" in line for line in proc.stderr.splitlines() if line.startswith("error:"))
    assert [p.name for p in outputs(out)] == [f"photo_{i:02d}_color.png" for i in range(PHOTOS)]
    assert_whole(out)
    assert temp_files(out) == [], f"left by kills: {left_behind}"
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in outputs(out)]
    assert {p.name: p.read_bytes() for p in sorted(src.iterdir())} == originals
