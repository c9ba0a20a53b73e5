"""Inside `retained_heap` a training step's freed tensors are reused without page faults; after
it, the process gives memory back as before."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest
import torch

from ml_core.training import memory
from ml_core.training.memory import retained_heap

pytestmark = pytest.mark.skipif(memory._libc() is None, reason="glibc's mallopt only (Linux)")


_SIZES_MB = (40, 48, 36)  # above 32 MiB, where glibc always maps and unmaps (its dynamic threshold's cap)
_PAGES = 3 * sum(_SIZES_MB) * (1 << 20) // resource.getpagesize()


def _faults_of_steps() -> int:
    """Page faults of three "steps" that allocate, fill and free a few activations, measured after
    six such steps: the heap reaches its steady state in three or four."""
    def step() -> float:
        xs = [torch.ones(mb << 18) for mb in _SIZES_MB]
        return sum(float(x[0]) for x in xs)

    for _ in range(6):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        step()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _measure_in_this_process() -> dict[str, float]:
    default_faults = _faults_of_steps()
    with retained_heap() as active:
        inside_faults = _faults_of_steps()
        kept = _resident_mb()
    return {"active": float(active), "default": default_faults, "inside": inside_faults,
            "returned_mb": kept - _resident_mb(), "holders": memory._holders}


def test_freed_tensors_are_reused_without_page_faults_only_inside() -> None:
    """Measured in a fresh process: malloc's thresholds and transparent huge pages are process-wide,
    and tests that ran before in the same process (training, other allocators) change them."""
    proc = subprocess.run([sys.executable, __file__], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["active"] == 1.0
    assert got["default"] > 0.9 * _PAGES  # by default every step maps its memory anew
    assert got["inside"] < 0.2 * _PAGES
    assert got["returned_mb"] > 0.5 * max(_SIZES_MB)  # on exit the kept memory goes back to the system
    assert got["holders"] == 0


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / (1 << 20)


def test_nested_runs_keep_the_setting_until_the_last_one_ends() -> None:
    with retained_heap():
        with retained_heap() as inner:
            assert inner
        assert _faults_of_steps() < 0.2 * _PAGES  # the outer run still trains
    assert memory._holders == 0


def test_does_nothing_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    with retained_heap() as active:
        assert not active


if __name__ == "__main__":  # the fresh process of the first test
    print(json.dumps(_measure_in_this_process()))
