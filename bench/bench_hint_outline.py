"""How long the window waits for a hint's region outline (issue 14): `python bench/bench_hint_outline.py`.

Two costs, as the window pays them (desktop_app.colorize.region_jobs): the first outline on a
photo runs the model (`Colorizer.guidance_inputs`, at the preview size); every later one while
the hint is hovered or dragged only recomputes that hint's gate (`GuidanceInputs.region`). The
second is what a drag feels like; the column "uncached" recomputes the photo's hint-independent
costs each time too (how the first version did it), measured in the same run. Prints a table of
medians over --repeat runs; the built-in default model, a fixture photo resized to a 4:3 preview
of each size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import FIXTURES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--sides", default="1024,1600", help="preview long sides")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--photo", default="astronaut")
    args = parser.parse_args()

    from ml_core.guidance.hint_outline import hint_region
    from ml_core.guidance.hints import Hint
    from ml_core.inference.engine import ColorizeOptions, Colorizer
    from ml_core.modelfiles.store import ModelStore

    colorizer = Colorizer(ModelStore().load(args.model))
    source = Image.open(FIXTURES / f"{args.photo}.jpg").convert("L")
    hint = Hint.at(0.47, 0.30, (18.0, 20.0))
    print(f"model {args.model}, photo {args.photo}, medians of {args.repeat}")
    print(f"{'preview':>8} | {'first outline (model + region) ms':>34} | {'next outline ms':>15} | "
          f"{'uncached ms':>11} | region %")
    print("-" * 92)
    for side in (int(s) for s in args.sides.split(",")):
        pixels = np.asarray(source.resize((side, side * 3 // 4), Image.Resampling.BICUBIC))
        options = ColorizeOptions(hints=(hint,), output_max_side=side)
        first, later, uncached = [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            inputs = colorizer.guidance_inputs(pixels, options)
            region = inputs.region(hint)
            first.append(time.perf_counter() - t0)
            moved = hint.moved_by(0.01, 0.0)
            t1 = time.perf_counter()
            inputs.region(moved)
            later.append(time.perf_counter() - t1)
            t2 = time.perf_counter()
            hint_region(inputs.lightness, inputs.prior, moved, inputs.distribution)
            uncached.append(time.perf_counter() - t2)
        ms = [1000 * statistics.median(t) for t in (first, later, uncached)]
        print(f"{side:>8} | {ms[0]:>34.0f} | {ms[1]:>15.0f} | {ms[2]:>11.0f} | {100 * region.share:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
