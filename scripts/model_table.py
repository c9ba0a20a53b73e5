"""Every built-in model side by side: quality on held-out photos, washes on old prints, speed.

    python scripts/model_table.py --quality            # BSDS500 + old prints, per model (slow: minutes each)
    /work/runs/quiet.sh python scripts/model_table.py --speed   # 256² forward and 12 MP end to end
    python scripts/model_table.py                      # only redraw the table from stored results

Quality: `chroma eval`'s measures on BSDS500 (`../shared/photos/train/bsds500`, held out of every
built-in's training), each model at its own stored temperature, and the share of monotone
results on the 37 real old prints (`ml_core.evaluation.old_prints`). Speed: bench/bench_inference.py's
own child measurement (one process per model, so each starts cold and owns its memory). Each
model's results are kept in docs/eval/models/NAME.json with the SHA-256 of the file they were
measured on; a changed model file is measured again, an unchanged one is not. The table goes to
docs/eval/models.md and between the `model-table` markers in README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from ml_core.evaluation.old_prints import hue_spread, mean_chroma, wash_summary  # noqa: E402
from ml_core.inference.model_input import to_uint8  # noqa: E402
from ml_core.modelfiles.store import ModelStore  # noqa: E402

BSDS = SHARED / "photos" / "train" / "bsds500"
OLD_PRINTS = SHARED / "photos" / "old_bw"
RESULTS = REPO / "docs" / "eval" / "models"
TABLE = REPO / "docs" / "eval" / "models.md"
README = REPO / "README.md"
MARKERS = ("<!-- model-table -->", "<!-- /model-table -->")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save(name: str, record: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def measure_quality(name: str, limit: int | None) -> dict:
    from ml_core.evaluation.metrics import evaluate_files
    from ml_core.inference.engine import Colorizer
    from ml_core.io.imageio import collect_images, read_image

    colorizer = Colorizer(ModelStore().load(name))
    photos, _ = collect_images([BSDS])
    summary, _, skipped = evaluate_files(colorizer, photos[:limit] if limit else photos)
    spreads, chromas = [], []
    for path in sorted(p for p in OLD_PRINTS.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
        rgb = to_uint8(colorizer.colorize(read_image(path)).rgb)
        spreads.append(hue_spread(rgb))
        chromas.append(mean_chroma(rgb))
    return {"bsds500": {**summary, "skipped": len(skipped)}, "old_prints": wash_summary(spreads, chromas),
            "temperature": colorizer.default_temperature if colorizer.model.output_kind != "ab" else None}


def measure_speed(name: str) -> dict:
    bench = REPO / "bench" / "bench_inference.py"
    photo = Path(tempfile.gettempdir()) / "chroma-bench" / "12mp.jpg"
    sys.path.insert(0, str(REPO / "bench"))
    from _common import make_photo

    make_photo(photo)
    proc = subprocess.run([sys.executable, str(bench), "--child", name, "--photo", str(photo), "--repeat", "3"],
                          capture_output=True, text=True, check=True)
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    return {key: row[key] for key in ("gflops", "ms_256", "e2e_s", "preview_ms", "peak_rss_mb")}


def _cell(value: float | None, fmt: str) -> str:
    return "–" if value is None or (isinstance(value, float) and not np.isfinite(value)) else format(value, fmt)


def table(names: list[str]) -> str:
    rows, gray = [], None
    header = ("| model | what it is | PSNR dB | SSIM | AuC | AuC rebal. | colorfulness | monotone old prints | "
              "ms / 256² | 12 MP s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        rec = stored(name)
        q, o, s = rec.get("bsds500", {}), rec.get("old_prints", {}), rec.get("speed", {})
        if q and gray is None:
            gray = q
        washes = f"{o['monotone']} / {o['results']}" if o else "–"
        rows.append(f"| `{name}` | {rec.get('follows', '')} | {_cell(q.get('psnr'), '.2f')} | "
                    f"{_cell(q.get('ssim'), '.4f')} | {_cell(q.get('auc'), '.4f')} | "
                    f"{_cell(q.get('auc_rebalanced'), '.4f')} | {_cell(q.get('colorfulness_ratio'), '.3f')} | "
                    f"{washes} | {_cell(s.get('ms_256'), '.1f')} | {_cell(s.get('e2e_s'), '.2f')} |")
    if gray:
        rows.append(f"| gray (no color) | | {gray['gray_psnr']:.2f} | {gray['gray_ssim']:.4f} | "
                    f"{gray['gray_auc']:.4f} | {gray['gray_auc_rebalanced']:.4f} | 0 | | | |")
    images = gray.get("images", 0) if gray else 0
    return (f"Held-out BSDS500 ({images} photos, never trained on; each model at its stored temperature), "
            "monotone results (hue spread < 1.5) on the 37 real old prints in `../shared/photos/old_bw`, "
            "one 256² forward and a 12 MP JPEG end to end (decode, model, recombine, encode) on the "
            "2-core build machine. Produced by `scripts/model_table.py`.\n\n" + header + "\n" + "\n".join(rows) + "\n")


def write_table(text: str) -> None:
    TABLE.write_text("# Built-in models compared\n\n" + text)
    readme = README.read_text()
    if MARKERS[0] in readme and MARKERS[1] in readme:
        start = readme.index(MARKERS[0]) + len(MARKERS[0])
        end = readme.index(MARKERS[1])
        README.write_text(readme[:start] + "\n" + text + readme[end:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="default: every built-in model, in the store's order")
    ap.add_argument("--quality", action="store_true", help="measure BSDS500 and old prints where not stored")
    ap.add_argument("--speed", action="store_true", help="measure speed (run it on a quiet machine)")
    ap.add_argument("--force", action="store_true", help="measure again even when the model file is unchanged")
    ap.add_argument("--limit", type=int, default=None, help="only the first N BSDS500 photos (a quick look)")
    args = ap.parse_args()
    store = ModelStore()
    builtins = [e for e in store.entries() if e.builtin]
    names = args.models or [e.name for e in builtins]
    for name in names:
        entry = store.find(name)
        digest = sha256(entry.path)
        rec = stored(name)
        if rec.get("sha256") != digest:
            rec = {"sha256": digest}
        rec["follows"] = (entry.info.description or "").split(":")[0].strip()  # "Zhang et al. 2016 (seed 004)"
        if args.quality and (args.force or "bsds500" not in rec or args.limit):
            print(f"{name}: quality…", flush=True)
            rec.update(measure_quality(name, args.limit))
            if args.limit:
                print(json.dumps({k: rec[k] for k in ("bsds500", "old_prints")}, indent=1))
        if args.speed and (args.force or "speed" not in rec):
            print(f"{name}: speed…", flush=True)
            rec["speed"] = measure_speed(name)
        if not args.limit:
            save(name, rec)
    text = table([e.name for e in builtins])  # the table always shows every built-in
    print(text)
    if not args.limit:
        write_table(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
