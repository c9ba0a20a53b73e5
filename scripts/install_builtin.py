"""Install a trained model as a built-in: fp16 storage, calibrated temperature, checked output.

    python scripts/install_builtin.py TRAINED.safetensors NAME --temperature T [--description TEXT]

Writes resources/models/NAME.safetensors (weights stored as float16, half the bundle size) and
verifies that colorizing the fixture photos with it matches the float32 original to within one
8-bit level on average (fp16 storage must not change what people see).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml_core.inference.engine import ColorizeOptions, Colorizer  # noqa: E402
from ml_core.io.imageio import read_image  # noqa: E402
from ml_core.modelfiles.modelfile import load_model, save_model  # noqa: E402

FIXTURES = REPO.parent / "shared" / "photos" / "fixtures"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trained", type=Path)
    parser.add_argument("name")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--description", default=None)
    args = parser.parse_args()
    original = load_model(args.trained)
    info = original.info
    info.name = args.name
    info.placeholder = False
    if args.temperature is not None:
        info.temperature = args.temperature
    if args.description:
        info.description = args.description
    target = REPO / "resources" / "models" / f"{args.name}.safetensors"
    save_model(original.model, target, info, half=True)
    installed = load_model(target)
    full, half = Colorizer(original), Colorizer(installed)
    diffs = []
    for photo in sorted(FIXTURES.glob("*.jpg")):
        image = read_image(photo)
        opts = ColorizeOptions(temperature=info.temperature)
        a, b = full.colorize(image, opts).rgb.astype(int), half.colorize(image, opts).rgb.astype(int)
        diffs.append((np.abs(a - b).mean(), np.abs(a - b).max()))
    mean = float(np.mean([d[0] for d in diffs]))
    worst = int(max(d[1] for d in diffs))
    print(f"installed {target} ({target.stat().st_size / 1e6:.1f} MB); "
          f"fp16 vs fp32 output: mean |diff| {mean:.3f}, max {worst} levels")
    if mean > 1.0:
        sys.exit("fp16 storage changes the output too much; keep float32")


if __name__ == "__main__":
    main()
