"""Choose a classification model's annealed-mean temperature on its run's own validation photos.

    python scripts/calibrate_temperature.py RUN_NAME [--model MODEL] [--temps 0.3,0.38,0.45,0.5,0.6]
                                            [--out docs/eval/NAME_temperature.json]

Why here and not on BSDS500: the temperature is a setting, and a setting chosen on the photos a
model is reported on flatters the report. The run's validation photos (rebuilt exactly from its
run.json by `ml_core.training.trainer.validation_split`) were never trained on and are not the held-out set
the model card reports.

Rule (2026-11-30): the product's targets, checked on these photos. Among the temperatures whose
colorfulness ratio lies in the band people find believable (0.9-1.05), those that keep PSNR at
or above the gray baseline's come first, and of them the one with the best class-rebalanced AuC
wins; if no temperature reaches the band, the one nearest it. The earlier rule ("the most vivid
T that keeps PSNR at gray, else the best PSNR") swung with PSNR shifts of a few hundredths of a
dB on 300 photos (run 4 of the default: T = 0.25 where run 3 got 0.45), and T moved the held-out
numbers more than training did.
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


COLORFULNESS_BAND = (0.9, 1.05)


def choose(rows: list[dict]) -> dict:
    lo, hi = COLORFULNESS_BAND
    in_band = [r for r in rows if lo <= r["colorfulness_ratio"] <= hi]
    if not in_band:
        return min(rows, key=lambda r: min(abs(r["colorfulness_ratio"] - lo), abs(r["colorfulness_ratio"] - hi)))
    at_gray = [r for r in in_band if r["psnr"] >= r["gray_psnr"]]
    return max(at_gray or in_band, key=lambda r: (r["auc_rebalanced"], r["psnr"]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--model", default=None, help="model name or file (default: the run's name)")
    ap.add_argument("--temps", default="0.3,0.38,0.45,0.5,0.6,0.7")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--reuse", type=Path, default=None,
                    help="an earlier --out file of the same model: its temperatures are not measured again")
    args = ap.parse_args()
    photos = run_validation_photos(args.run)
    earlier = {r["temperature"]: r for r in json.loads(args.reuse.read_text())["rows"]} if args.reuse else {}
    rows = []
    for t in (float(v) for v in args.temps.split(",")):
        if t in earlier:
            rows.append(earlier[t])
            continue
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
