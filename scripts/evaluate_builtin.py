"""Held-out validation of models: `chroma eval --json` on BSDS500, gathered into one table.

    python scripts/evaluate_builtin.py default fast [more models...] [--out docs/eval/bsds500.json]

BSDS500 (../shared/photos/train/bsds500) is the source folder the built-in models never trained
on. Prints a Markdown table (the model cards carry it) and writes the raw JSON beside it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VALIDATION = REPO.parent / "shared" / "photos" / "train" / "bsds500"
COLUMNS = ("psnr", "ssim", "auc", "auc_rebalanced", "colorfulness_ratio")  # labels: ml_core.evaluation.metric_table


def evaluate(model: str, size: int | None) -> dict:
    cmd = [sys.executable, "-m", "ml_core.cli", "eval", str(VALIDATION), "--model", model, "--json", "--quiet"]
    if size:
        cmd += ["--size", str(size)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(proc.stdout)


def markdown(results: dict[str, dict]) -> str:
    from ml_core.evaluation.metric_table import comparison_table

    first = next(iter(results.values()))
    lines = [comparison_table(results, keys=COLUMNS)]
    lines.append(f"\n{first['images']} BSDS500 photos, each colorized from the gray print of its own lightness.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "eval" / "bsds500.json")
    args = parser.parse_args()
    results = {m: evaluate(m, args.size) for m in args.models}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    args.out.write_text(json.dumps({**previous, **results}, indent=2, sort_keys=True))
    print(markdown(results))


if __name__ == "__main__":
    main()
