"""Compose the built-in models' cards: intro, data and licenses, held-out metrics, training log.

    python scripts/write_builtin_cards.py --train-cards DIR --eval docs/eval/bsds500.json

DIR holds the cards the trainer wrote beside each model (`default.md`, `fast.md`); their settings
and per-epoch tables become each card's "Training log". The held-out table comes from
scripts/evaluate_builtin.py (which runs `chroma eval --json` on BSDS500).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml_core.limits import DEFAULT_TEMPERATURE  # noqa: E402
from ml_core.metric_table import comparison_table  # noqa: E402
from ml_core.modelfile import read_info  # noqa: E402

DATA = """\
## Data

Trained on `../shared/photos/train` (real color photos, short side 256 px or less) **except
BSDS500**, the source folder held out for validation and never trained on:

| source | photos | license as stated by the source |
|---|---:|---|
| intel_scenes (Intel Image Classification scenes, 150x150) | 7,500 | not stated; published by Intel for an \
Analytics Vidhya challenge, terms not checkable here |
| cats_dogs (Kaggle cats vs dogs subset) | 1,500 | not stated |
| utkface (UTKFace crop_part1 faces) | 1,500 | **non-commercial research only** (UTKFace authors) |
| imagenet_samples (one ImageNet image per class) | 853 | **ImageNet terms: non-commercial research and education** |
| debian_wallpapers (photographic wallpapers) | 32 | GPL-2+, CC-BY-4.0 / CC-BY-SA-4.0, CC-BY-SA-3.0 per package |
| opencv_samples (OpenCV sample photos) | 15 | BSD-3-Clause / Apache-2.0 (package) |
| *held out:* bsds500 (Berkeley Segmentation Dataset) | 411 | not stated for the images (repository code is MIT) |

Because part of the training data is licensed for non-commercial research only, treat these
weights as **research-only** until they are retrained on data with permissive licenses.
11,399 usable training-side photos (1 skipped as nearly gray): 11,099 trained on and 300 used
for choosing the best epoch (a seeded per-file split of the same sources).
"""


def held_out_table(results: dict[str, dict], names: dict[str, str]) -> str:
    return comparison_table(results, names, keys=("psnr", "ssim", "auc", "auc_rebalanced", "colorfulness_ratio"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-cards", type=Path, required=True)
    parser.add_argument("--eval", type=Path, default=REPO / "docs" / "eval" / "bsds500.json")
    parser.add_argument("--intro", type=Path, default=REPO / "docs" / "eval" / "card_intros.json",
                        help="JSON {model: {title, intro, names: {eval key: label}}}")
    args = parser.parse_args()
    results = json.loads(args.eval.read_text())
    intros = json.loads(args.intro.read_text())
    for model, meta in intros.items():
        target = REPO / "resources" / "models" / f"{model}.md"
        info = read_info(target.with_suffix(".safetensors"))
        train_card = (args.train_cards / f"{model}.md").read_text()
        log = train_card.split("\n", 1)[1]  # drop the trainer's title line
        rows = {k: results[k] for k in meta["compare"] if k in results}
        text = "\n\n".join([
            f"# {meta['title']}",
            meta["intro"],
            f"Architecture `{info.arch}` {json.dumps(info.config, sort_keys=True)}; color space {info.color_space}; "
            f"output {info.output_kind}; working size {info.work_size}; annealed-mean temperature "
            f"{info.temperature if info.temperature is not None else DEFAULT_TEMPERATURE} "
            "(calibrated on the held-out set, see below).",
            DATA,
            "## Held-out validation (BSDS500, never trained on)\n\nFrom `chroma eval --json` "
            "(via `scripts/evaluate_builtin.py`), each photo colorized from the gray print of its own lightness:\n\n"
            + held_out_table(rows, meta.get("names", {})) + "\n\n" + meta.get("notes", ""),
            "## Training log (written by `chroma train`)\n" + log.replace("\n# ", "\n### ").replace("\n## ", "\n### "),
        ])
        target.write_text(text.rstrip() + "\n", encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
