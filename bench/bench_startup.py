"""Start-up: `python bench/bench_startup.py` prints seconds from process start to a colorized file.

Rows, each a fresh process per run (median of --repeat):
* `import torch` alone: the floor of any path that loads torch.
* `chroma colorize SMALL -o DIR`: the CLI as users run it (torch model).
* torch-free path: read, colorize with the store's default model as an ONNX graph on
  onnxruntime (ml_core.inference.onnx_engine), write the JPEG. The graph is written once, before timing,
  into a temporary folder (never into the model store).
* `import onnxruntime` alone.
"""

from __future__ import annotations

import argparse
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

FAST = """
import sys
from ml_core import runtime
runtime.configure()
from ml_core.io.imageio import export_image, read_image
from ml_core.inference.onnx_engine import OnnxColorizer
image = read_image(sys.argv[1])
colorizer = OnnxColorizer.open(sys.argv[2], graph=sys.argv[3])
assert colorizer is not None, "graph not usable"
export_image(colorizer.colorize(image.pixels), sys.argv[4], "jpg", overwrite=True)
assert "torch" not in sys.modules
"""


def wall(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--photo", type=Path, default=None, help="a small photo (default: a fixture)")
    args = parser.parse_args()
    photo = args.photo or sorted(FIXTURES.glob("*.jpg"))[0]

    from ml_core.inference.engine import Colorizer
    from ml_core.inference.onnx_engine import write_graph
    from ml_core.modelfiles.store import ModelStore

    store = ModelStore()
    entry = store.find(store.default_name())
    loaded = store.load(entry.name)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        graph = write_graph(loaded, entry.path, Colorizer(loaded).default_temperature, out=Path(tmp) / "g.onnx")
        py = sys.executable
        cases = [
            ("import torch", [py, "-c", "import torch"]),
            ("chroma colorize (torch)", [py, "-m", "ml_core.cli", "colorize", str(photo), "-o", tmp, "--overwrite"]),
            ("torch-free: read, ONNX model, recombine, write", [py, "-c", FAST, str(photo), str(entry.path),
                                                               str(graph), str(Path(tmp) / "fast.jpg")]),
            ("import onnxruntime", [py, "-c", "import onnxruntime"]),
        ]
        for name, cmd in cases:
            rows.append({"what": name, "s": f"{wall(cmd, args.repeat):.2f}"})
    print(f"photo: {photo}, model: {entry.name}, median of {args.repeat} fresh processes")
    print_table(rows, [("what", "from process start"), ("s", "seconds")])


if __name__ == "__main__":
    main()
