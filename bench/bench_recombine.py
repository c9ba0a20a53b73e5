"""Full-resolution recombination alone: `python bench/bench_recombine.py` prints one row per input.

The step after the model that turns the photo's own lightness and the model's small a*b* map
into the full-size color photo (ml_core.inference.recombine). Rows: a 12 MP photo as color and as gray
input, with a*b* on a 64-pixel grid (the photo's own chroma, what a good model predicts; ~4 %
of the pixels need gamut mapping) and the same chroma doubled (a vivid model: ~30 %). Columns:
median seconds on one thread and on the kernel's own thread count, quiet and beside one
competing CPU-bound process the bench starts and stops itself, their ratio, and CPU seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import competitor, make_photo, print_table  # noqa: E402


def chroma_grid(pixels, side: int = 64):
    """a*b* of the photo on a grid of `side` pixels on the long side, as (2, h, w) float32."""
    import numpy as np
    from PIL import Image
    from skimage.color import rgb2lab

    h, w = pixels.shape[:2]
    s = side / max(h, w)
    small = np.asarray(Image.fromarray(pixels).resize((max(1, round(w * s)), max(1, round(h * s))),
                                                      Image.Resampling.BOX)) / 255.0
    return rgb2lab(small)[..., 1:].transpose(2, 0, 1).astype(np.float32)


def timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall seconds and median CPU seconds (all threads) of `repeat` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--photo", type=Path, default=None, help="default: a generated 12 MP JPEG")
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    from ml_core.inference import recombine as kernel

    photo = args.photo or make_photo(Path(tempfile.gettempdir()) / "chroma-bench" / "12mp.jpg")
    color = np.asarray(Image.open(photo).convert("RGB"))
    gray = np.asarray(Image.open(photo).convert("L"))
    ab = chroma_grid(color)
    threads = kernel.worker_count()
    rows = []
    for name, pixels, chroma in (("color, own chroma", color, ab), ("gray, own chroma", gray, ab),
                                 ("gray, chroma x2", gray, ab * 2)):
        row = {"input": name}
        for n in (1, threads):
            def run(n=n, pixels=pixels, chroma=chroma):
                return kernel.recombine_array(pixels, chroma, threads=n)
            run()  # tables, thread pool
            quiet, cpu = timed(run, args.repeat)
            with competitor():
                loaded, _ = timed(run, args.repeat)
            row[f"q{n}"], row[f"l{n}"], row[f"r{n}"] = f"{quiet:.3f}", f"{loaded:.3f}", f"{loaded / quiet:.1f}×"
            row[f"c{n}"] = f"{cpu:.3f}"
        rows.append(row)
    print(f"photo: {photo} ({color.shape[1]}×{color.shape[0]}), median of {args.repeat}; "
          f"loaded = beside one CPU-bound process; {threads} kernel threads")
    columns = [("input", "input")]
    for n in (1, threads):
        columns += [(f"q{n}", f"{n} thr quiet s"), (f"l{n}", "loaded"), (f"r{n}", "ratio"), (f"c{n}", "CPU s")]
    print_table(rows, columns)


if __name__ == "__main__":
    main()
