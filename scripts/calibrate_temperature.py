"""Choose a classification model's annealed-mean temperature on its run's own validation photos.

    python scripts/calibrate_temperature.py RUN_NAME [--model MODEL] [--temps 0.3,0.38,0.45,0.5,0.6]
                                            [--out docs/eval/NAME_temperature.json]

Why here and not on BSDS500: the temperature is a setting, and a setting chosen on the photos a
model is reported on flatters the report. The run's validation photos (rebuilt exactly from its
run.json by `ml_core.training.trainer.validation_split`) were never trained on and are not the held-out set
the model card reports.

Rule: the most vivid temperature whose PSNR is at or above the gray baseline's and whose
colorfulness ratio is at most 1.05; if none keeps PSNR at gray, the one with the best PSNR.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ml_core.io.paths import runs_dir  # noqa: E402
from ml_core.training.data import scan_photos  # noqa: E402
from ml_core.training.trainer import TrainConfig, validation_split  # noqa: E402


def run_validation_photos(run_name: str) -> list[str]:
    meta = json.loads((runs_dir() / run_name / "run.json").read_text())
    cfg = TrainConfig.from_dict(meta["config"])
    photos = scan_photos(cfg.data, cfg.size, min_side=cfg.min_side)
    _, val = validation_split(photos.items, cfg)
    return [it.path for it in val]


def evaluate(model: str, photos: list[str], temperature: float) -> dict:
    cmd = [sys.executable, "-m", "ml_core.cli", "eval", *photos, "--model", model, "--json", "--quiet",
           "--temperature", str(temperature)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(proc.stdout)


def choose(rows: list[dict]) -> dict:
    ok = [r for r in rows if r["psnr"] >= r["gray_psnr"] and r["colorfulness_ratio"] <= 1.05]
    if ok:
        return min(ok, key=lambda r: r["temperature"])
    return max(rows, key=lambda r: r["psnr"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--model", default=None, help="model name or file (default: the run's name)")
    ap.add_argument("--temps", default="0.3,0.38,0.45,0.5,0.6,0.7")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    photos = run_validation_photos(args.run)
    rows = []
    for t in (float(v) for v in args.temps.split(",")):
        m = evaluate(args.model or args.run, photos, t)
        row = {"temperature": t, **{k: m[k] for k in ("psnr", "gray_psnr", "auc_rebalanced", "gray_auc_rebalanced",
                                                       "colorfulness_ratio")}}
        rows.append(row)
        print(f"T={t:.2f}  PSNR {row['psnr']:.2f} (gray {row['gray_psnr']:.2f})  AuC-rb {row['auc_rebalanced']:.4f}  "
              f"colorfulness {row['colorfulness_ratio']:.3f}", flush=True)
    best = choose(rows)
    print(f"chosen temperature: {best['temperature']}")
    if args.out:
        args.out.write_text(json.dumps({"run": args.run, "photos": len(photos), "rows": rows,
                                        "chosen": best["temperature"]}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
