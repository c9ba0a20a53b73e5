"""Start-up: `python bench/bench_startup.py` prints seconds from process start to a colorized file.

Rows, each a fresh process per run (median of --repeat), `chroma colorize SMALL -o DIR` as users
run it unless said otherwise, with a per-user cache of its own (never the real one):
* `import torch` alone: the floor of any path that loads torch.
* first run: no ONNX graph cached yet, so torch colorizes, then caches the graph (once per model file).
* torch path: onnxruntime hidden from the process, so nothing is cached or used (the path before
  the graph cache existed, and what a machine without onnxruntime gets).
* graph cached: the torch-free path (ml_core.inference.fast_path), every run after the first.
* `import onnxruntime` alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import FIXTURES, print_table  # noqa: E402

HIDE_ORT = "import sys; sys.modules['onnxruntime'] = None; from ml_core.cli import main; sys.exit(main(sys.argv[1:]))"


def wall(cmd: list[str], repeat: int, cache: Path | None = None) -> float:
    """Median seconds of `cmd` in fresh processes; `cache` None: an empty cache folder for each run."""
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as fresh:
            env = {**os.environ, "CHROMA_CACHE_DIR": str(cache or fresh)}
            t = time.perf_counter()
            subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, env=env)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--photo", type=Path, default=None, help="a small photo (default: a fixture)")
    args = parser.parse_args()
    photo = args.photo or sorted(FIXTURES.glob("*.jpg"))[0]

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        py = sys.executable
        colorize = ["colorize", str(photo), "-o", tmp, "--overwrite", "--quiet"]
        cache = Path(tmp) / "cache"
        env = {**os.environ, "CHROMA_CACHE_DIR": str(cache)}
        subprocess.run([py, "-m", "ml_core.cli", *colorize], cwd=REPO, check=True, capture_output=True, env=env)
        cases = [
            ("import torch", [py, "-c", "import torch"], None),
            ("chroma colorize, first run (torch, then caches the graph)", [py, "-m", "ml_core.cli", *colorize], None),
            ("chroma colorize, torch path (no onnxruntime)", [py, "-c", HIDE_ORT, *colorize], None),
            ("chroma colorize, graph cached (no torch)", [py, "-m", "ml_core.cli", *colorize], cache),
            ("import onnxruntime", [py, "-c", "import onnxruntime"], None),
        ]
        for name, cmd, cached in cases:
            rows.append({"what": name, "s": f"{wall(cmd, args.repeat, cached):.2f}"})
    print(f"photo: {photo}, model: the store's default, median of {args.repeat} fresh processes")
    print_table(rows, [("what", "from process start"), ("s", "seconds")])


if __name__ == "__main__":
    main()
