"""Compose the built-in models' cards: intro, data and licenses, held-out metrics, training log.

    python scripts/write_builtin_cards.py --train-cards DIR --eval docs/eval/bsds500.json [--only NAME]

DIR holds the cards the trainer wrote beside each model (`default.md`, `fast.md`); their settings
and per-epoch tables become each card's "Training log". The held-out table comes from
scripts/evaluate_builtin.py (which runs `chroma eval --json` on BSDS500). Each model's entry in
docs/eval/card_intros.json names its data section (a Markdown file under docs/eval/cards/), because
models trained at different times saw different corpora, and says how its temperature was chosen.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml_core.evaluation.metric_table import comparison_table  # noqa: E402
from ml_core.limits import DEFAULT_TEMPERATURE  # noqa: E402
from ml_core.modelfiles.modelfile import read_info  # noqa: E402


def held_out_table(results: dict[str, dict], names: dict[str, str]) -> str:
    return comparison_table(results, names, keys=("psnr", "ssim", "auc", "auc_rebalanced", "colorfulness_ratio"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-cards", type=Path, required=True)
    parser.add_argument("--eval", type=Path, default=REPO / "docs" / "eval" / "bsds500.json")
    parser.add_argument("--intro", type=Path, default=REPO / "docs" / "eval" / "card_intros.json",
                        help="JSON {model: {title, intro, names: {eval key: label}}}")
    parser.add_argument("--only", default=None, help="write this model's card only")
    args = parser.parse_args()
    results = json.loads(args.eval.read_text())
    intros = json.loads(args.intro.read_text())
    for model, meta in intros.items():
        if args.only and model != args.only:
            continue
        target = REPO / "resources" / "models" / f"{model}.md"
        if not target.with_suffix(".safetensors").exists():
            print(f"skipped {model}: resources/models/{model}.safetensors is not trained yet")
            continue
        parts = [meta["data"]] if isinstance(meta["data"], str) else meta["data"]  # e.g. sources + sampling
        data = "\n".join((args.intro.parent / part).read_text(encoding="utf-8").rstrip() + "\n" for part in parts)
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
            f"({meta['temperature_note']}).",
            data,
            "## Held-out validation (BSDS500, never trained on)\n\nFrom `chroma eval --json` "
            "(via `scripts/evaluate_builtin.py`), each photo colorized from the gray print of its own lightness:\n\n"
            + held_out_table(rows, meta.get("names", {})) + "\n\n" + meta.get("notes", ""),
            "## Training log (written by `chroma train`)\n" + log.replace("\n# ", "\n### ").replace("\n## ", "\n### "),
        ])
        target.write_text(text.rstrip() + "\n", encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
