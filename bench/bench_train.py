"""Training speed: images/s per model family at 128² and 256² (batch 16), and data loading with a
cold and a warm thumbnail cache.

    python bench/bench_train.py                 # all families, fp32 and bf16, 300 photos
    python bench/bench_train.py --quick         # fewer steps/photos
    python bench/bench_train.py --full-width    # also the published full-width networks (slow)
    python bench/bench_train.py --step          # the default model's step: before/after issue 13.3

Throughput is batch / median step time. A training step here is batch preparation (sRGB ->
model space, channels-last) and then the packed trainer's own step (`ml_core.training.step`):
forward, the family's loss at its output resolution, backward, gradient clipping and an Adam
step, which is the folder trainer's step less its bookkeeping. Data loading reads real photos
(default ../shared/photos/train, never copied) into a temporary cache.

`--step` times the built-in default's architecture at the trainer's batch (32) and size (128²)
as the step ran before issue 13.3 and as it runs now (bench/_step_variants.py says what differs),
each in its own process, alternated; it prints images/s, the step's GFLOP/s as a fraction of the
machine's measured fp32 3×3 conv throughput, and the top operators of the current step.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import step_times  # noqa: E402

from ml_core.models import available, create, model_class  # noqa: E402
from ml_core.training.data import PhotoDataset, epoch_batches, prepare_batch, scan_photos  # noqa: E402
from ml_core.training.losses import Criterion, make_optimizer  # noqa: E402
from ml_core.training.step import optimizer_step  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"  # ../shared beside the repository


def train_speed(arch: str, config: dict, size: int, batch: int, steps: int, bf16: bool) -> float:
    torch.manual_seed(0)
    model = create(arch, **config)
    if model.fixed_input is not None:
        size = model.fixed_input
    model.train().to(memory_format=torch.channels_last)
    crit = Criterion(model)
    opt = make_optimizer("adam", model.parameters(), 1e-4)
    rgb = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    params = [p for p in model.parameters() if p.requires_grad]

    def step() -> None:
        inp, _, chroma = prepare_batch(rgb, None, model.space)
        inp = inp.contiguous(memory_format=torch.channels_last)
        optimizer_step(model, inp, chroma, crit, opt, params, bf16=bf16)

    times = step_times(step, steps)  # 2 warm-up steps: oneDNN primitives (and bf16 weight copies)
    return batch / statistics.median(times)  # the median resists other processes' bursts on a shared CPU


def sample_photos(root: Path, count: int) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        return []
    stride = max(1, len(files) // count)
    return files[::stride][:count]


def data_speed(files: list[Path], size: int, workers_list: list[int]) -> list[tuple[str, float]]:
    rows = []
    cache = Path(tempfile.mkdtemp(prefix="chroma-bench-cache-"))
    for f in files:  # measure decoding, not the disk: every variant sees the files in the OS cache
        f.read_bytes()
    try:
        for w in workers_list:
            shutil.rmtree(cache, ignore_errors=True)
            t0 = time.perf_counter()
            photos = scan_photos(files, size, cache_dir=cache, workers=w)
            rows.append((f"cold cache: scan (decode, checks, thumbnail), {w} workers",
                         len(files) / (time.perf_counter() - t0)))
        t0 = time.perf_counter()
        photos = scan_photos(files, size, cache_dir=cache)
        rows.append(("warm cache: scan", len(files) / (time.perf_counter() - t0)))
        assert photos.decoded == 0
        ds = PhotoDataset(photos.items, size, train=True, seed=0)
        for w in workers_list:
            batches = epoch_batches(len(ds), 16, seed=0, epoch=0)
            loader = torch.utils.data.DataLoader(ds, batch_sampler=batches, num_workers=w,
                                                 generator=torch.Generator())
            t0 = time.perf_counter()
            n = 0
            for rgb, _, _ in loader:
                n += rgb.shape[0]
            rows.append((f"warm cache: random crops + flip ({size}²), {w} workers", n / (time.perf_counter() - t0)))
        # Cold end to end: first epoch of a new data set = scan + crops.
        shutil.rmtree(cache, ignore_errors=True)
        t0 = time.perf_counter()
        photos = scan_photos(files, size, cache_dir=cache)
        ds = PhotoDataset(photos.items, size, train=True, seed=0)
        n = sum(ds[(0, i)][0].shape[0] > 0 for i in range(len(ds)))
        rows.append(("cold cache: first epoch end to end (scan + crops)", n / (time.perf_counter() - t0)))
        t0 = time.perf_counter()
        photos = scan_photos(files, size, cache_dir=cache)
        ds = PhotoDataset(photos.items, size, train=True, seed=0)
        n = sum(ds[(1, i)][0].shape[0] > 0 for i in range(len(ds)))
        rows.append(("warm cache: next run end to end (scan + crops)", n / (time.perf_counter() - t0)))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return rows


def _child(variant: str, spec: dict) -> dict:
    script = Path(__file__).resolve().parent / "_step_variants.py"
    proc = subprocess.run([sys.executable, str(script), variant, json.dumps(spec)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{variant} step failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def default_step(batch: int, size: int, steps: int, rounds: int) -> None:
    """Before/after images/s of the default model's training step and the share of conv peak it reaches."""
    from ml_core.modelfiles.store import ModelStore

    info = ModelStore().find("default").info
    spec = {"arch": info.arch, "config": info.config, "batch": batch, "size": size, "steps": steps, "profile": False}
    print(f"\nDefault model's training step ({info.arch} {json.dumps(info.config, sort_keys=True)}), batch {batch}, "
          f"{size}², fp32, channels-last; {rounds} alternated processes per variant × {steps} steps", flush=True)
    times: dict[str, list[float]] = {"before": [], "after": []}
    last: dict = {}
    for r in range(rounds):
        for variant in times:
            spec["profile"] = variant == "after" and r == rounds - 1
            last[variant] = _child(variant, spec)
            times[variant].extend(last[variant]["times"])
            # Printed as each process ends, so a run stopped early (a time limit) still tells something.
            print(f"  process {r + 1} {variant:<6}: median {last[variant]['median'] * 1e3:.0f} ms "
                  f"({batch / last[variant]['median']:.1f} images/s)", flush=True)
    peak = _child("peak", spec)
    conv, gflop = peak["conv"], peak["gflop"]
    print(f"threads {last['after']['threads']}, OMP_WAIT_POLICY={last['after']['omp_wait_policy'] or 'unset'}; "
          f"step work {gflop:.1f} GFLOP (forward + backward); measured 3×3 conv peak: forward "
          f"{conv['forward']:.0f} GFLOP/s, forward + backward {conv['train']:.0f} GFLOP/s")
    print(f"{'variant':<8} {'median ms':>10} {'images/s':>9} {'GFLOP/s':>8} {'of fwd peak':>12} "
          f"{'of fwd+bwd peak':>16}")
    for variant, ts in times.items():
        med = statistics.median(ts)
        rate = gflop / med
        print(f"{variant:<8} {med * 1e3:>10.0f} {batch / med:>9.1f} {rate:>8.0f} {rate / conv['forward']:>12.0%} "
              f"{rate / conv['train']:>16.0%}")
    speedup = statistics.median(times["before"]) / statistics.median(times["after"])
    print(f"after / before: {speedup:.2f}x images/s (medians of {len(times['after'])} steps each)")
    print("\nwhere an 'after' step's time goes (torch.profiler, self CPU time of the main thread):")
    for name, count, ms, share in last["after"]["profile"][:10]:
        print(f"  {name:<40} {count:>5} calls {ms:>8.1f} ms {share:>6.1%}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 timed steps, 100 photos")
    ap.add_argument("--steps", type=int, default=5, help="timed steps per measurement (after 2 warm-up steps)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1,
                    help="repeat each measurement and keep the best (on a shared machine, the least disturbed)")
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--families", default=",".join(available()))
    ap.add_argument("--no-bf16", action="store_true")
    ap.add_argument("--full-width", action="store_true", help="also the published full-width networks")
    ap.add_argument("--photos", type=Path, default=SHARED / "photos" / "train")
    ap.add_argument("--photo-count", type=int, default=300)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-data", action="store_true")
    ap.add_argument("--step", action="store_true",
                    help="only the default model's step before/after issue 13.3 (batch 32, 128²)")
    ap.add_argument("--rounds", type=int, default=2, help="--step: processes per variant, alternated")
    args = ap.parse_args()
    if args.step:
        default_step(32, 128, 3 if args.quick else args.steps, args.rounds)
        return 0
    steps = 2 if args.quick else args.steps
    sizes = [int(s) for s in args.sizes.split(",")]
    precisions = [False] if args.no_bf16 else [False, True]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")

    if not args.skip_train:
        print(f"\nTraining images/s (batch {args.batch}; forward + loss + backward + Adam; channels-last)")
        cols = [f"{s}² {'bf16' if bf else 'fp32'}" for s in sizes for bf in precisions]
        print(f"{'family':<11} {'config':<34} {'params':>9} " + " ".join(f"{c:>10}" for c in cols))
        for arch in args.families.split(","):
            if arch not in available():
                continue
            # Each family declares the configurations a laptop CPU can train; {} is the published network.
            configs = list(model_class(arch).bench_configs)
            if args.full_width and {} not in configs:
                configs.append({})
            for config in configs:
                model = create(arch, **config)
                params = sum(p.numel() for p in model.parameters())
                label = " ".join(f"{k}={v}" for k, v in config.items())
                if model.fixed_input:
                    label += f" (always {model.fixed_input}²)"
                cells = []
                for s in sizes:
                    for bf in precisions:
                        cells.append(max(train_speed(arch, config, s, args.batch, steps, bf)
                                         for _ in range(max(1, args.repeat))))
                print(f"{arch:<11} {label:<34} {params / 1e6:>8.2f}M " + " ".join(f"{c:>10.1f}" for c in cells),
                      flush=True)

    if not args.skip_data:
        files = sample_photos(args.photos, 100 if args.quick else args.photo_count)
        if not files:
            print(f"\nno photos under {args.photos}; skipping data loading")
            return 0
        size = 128
        workers = [0, min(2, os.cpu_count() or 1)]
        print(f"\nData loading: {len(files)} photos from {args.photos}, training size {size} (images/s)")
        runs = [data_speed(files, size, workers) for _ in range(max(1, args.repeat))]
        for i, (label, _) in enumerate(runs[0]):
            print(f"  {label:<58} {max(r[i][1] for r in runs):>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
