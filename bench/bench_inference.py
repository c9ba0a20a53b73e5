"""Inference speed and memory: `python bench/bench_inference.py` prints one row per model.

Columns: GFLOPs of one 256² forward, its time and achieved GFLOP/s, then end-to-end seconds and
peak RSS for colorizing a 12-megapixel JPEG (decode -> model -> recombine -> encode JPEG), and
preview latency at screen size. Every model runs in its own subprocess so peak RSS is its own.

`--load` measures what a busy laptop sees: each model's 12 MP end to end and preview run quiet,
then again beside one competing CPU-bound process (a Python busy loop the bench starts and stops
itself), and the table shows both medians and their ratio. The child applies the same threading
policy as every Chroma entry point (`ml_core.runtime`), so the numbers are what users get;
`--no-policy` leaves torch's own defaults, to see what the policy buys.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import competitor, make_photo, parse_model_spec, print_table  # noqa: E402

DEFAULT_SPECS = [
    "default",
    "fast",
    'unet:{"width":32,"depth":3,"stem_stride":2,"head":"bins313"}',
    'unet:{"width":24,"depth":3,"stem_stride":4,"head":"ab"}',
    'eccv16:{"width":1.0}',
    'eccv16:{"width":0.25,"classes":313}',
    'fusion:{"width":0.5}',
    'vgg_chroma:{"width":0.5}',
]


def _load(spec: str):
    from ml_core.modelfiles.modelfile import LoadedModel, info_for
    from ml_core.modelfiles.store import ModelStore
    from ml_core.models import create

    arch, cfg = parse_model_spec(spec)
    if not cfg:
        return ModelStore().load(arch)
    model = create(arch, **cfg).eval()
    return LoadedModel(model=model, info=info_for(model, arch))


def e2e_child(spec: str, photo: Path, repeat: int) -> dict:
    """12 MP end-to-end seconds and preview ms, every sample (no FLOP counting: faster to start)."""
    from ml_core.inference.engine import ColorizeOptions, Colorizer
    from ml_core.io.imageio import export_image, read_image

    colorizer = Colorizer(_load(spec))
    e2e, preview = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            t = time.perf_counter()
            image = read_image(photo)
            result = colorizer.colorize(image)
            export_image(result.rgb, Path(tmp) / f"out{i}.jpg", "jpg", quality=92, exif=image.exif,
                         icc_profile=image.icc_profile)
            e2e.append(time.perf_counter() - t)
        image = read_image(photo)
        for _ in range(repeat):
            t = time.perf_counter()
            colorizer.colorize(image, ColorizeOptions(output_max_side=1280))
            preview.append(time.perf_counter() - t)
    return {"e2e": e2e, "preview": preview}


def child(spec: str, photo: Path, repeat: int) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ml_core.inference.engine import ColorizeOptions, Colorizer
    from ml_core.io.imageio import export_image, read_image

    loaded = _load(spec)
    colorizer = Colorizer(loaded)
    model = colorizer.model
    side = model.fixed_input or 256
    x = torch.zeros(1, 1, side, side).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        with FlopCounterMode(display=False) as counter:
            model(x)
        gflops = counter.get_total_flops() / 1e9
        model(x)
        times = []
        for _ in range(max(repeat, 3)):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    forward = min(times)
    e2e, parts = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):
            t = time.perf_counter()
            image = read_image(photo)
            t_read = time.perf_counter() - t
            result = colorizer.colorize(image)
            t2 = time.perf_counter()
            export_image(result.rgb, Path(tmp) / f"out{i}.jpg", "jpg", quality=92, exif=image.exif,
                         icc_profile=image.icc_profile)
            total = time.perf_counter() - t
            if not e2e or total < min(e2e):
                parts = {"read": t_read, **result.timings, "encode": time.perf_counter() - t2}
            e2e.append(total)
        preview = []
        image = read_image(photo)
        for _ in range(max(repeat, 3)):
            t = time.perf_counter()
            colorizer.colorize(image, ColorizeOptions(output_max_side=1280))
            preview.append(time.perf_counter() - t)
    return {
        "model": spec if len(spec) < 48 else spec[:45] + "...",
        "gflops": round(gflops, 2),
        "ms_256": round(forward * 1000, 1),
        "gflops_per_s": round(gflops / forward, 1),
        "e2e_s": round(min(e2e), 3),
        "parts": " ".join(f"{k}={v:.2f}" for k, v in parts.items()),
        "preview_ms": round(min(preview) * 1000),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _run_child(spec: str, photo: Path, repeat: int, mode: str, policy: bool) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, mode, spec, "--photo", str(photo), "--repeat", str(max(1, repeat)),
         *([] if policy else ["--no-policy"])],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise RuntimeError(last[:80])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def load_rows(specs: list[str], photo: Path, repeat: int, policy: bool) -> list[dict]:
    """Quiet and loaded medians per model, both measured in this same run so the ratio is fair."""
    rows = []
    for spec in specs:
        try:
            quiet = _run_child(spec, photo, repeat, "--e2e-child", policy)
            with competitor():
                loaded = _run_child(spec, photo, repeat, "--e2e-child", policy)
        except RuntimeError as exc:
            rows.append({"model": spec[:48], "e2e_quiet": f"skipped: {exc}"})
            continue
        q_e2e, l_e2e = statistics.median(quiet["e2e"]), statistics.median(loaded["e2e"])
        q_prev, l_prev = statistics.median(quiet["preview"]), statistics.median(loaded["preview"])
        rows.append({
            "model": spec if len(spec) < 48 else spec[:45] + "...",
            "e2e_quiet": f"{q_e2e:.2f}", "e2e_loaded": f"{l_e2e:.2f}", "e2e_ratio": f"{l_e2e / q_e2e:.1f}×",
            "prev_quiet": f"{q_prev * 1000:.0f}", "prev_loaded": f"{l_prev * 1000:.0f}",
            "prev_ratio": f"{l_prev / q_prev:.1f}×",
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=None, help="store names or arch:{json config}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--photo", type=Path, default=None, help="photo to colorize (default: a generated 12 MP JPEG)")
    parser.add_argument("--load", action="store_true",
                        help="12 MP end to end and preview, quiet and beside one competing CPU-bound process")
    parser.add_argument("--no-policy", action="store_true",
                        help="leave torch's threading defaults (no ml_core.runtime), for comparison")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--e2e-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.no_policy:
        from ml_core import runtime

        runtime.configure()  # as every entry point does, before anything imports torch
    photo = args.photo or make_photo(Path(tempfile.gettempdir()) / "chroma-bench" / "12mp.jpg")
    if args.child:
        print(json.dumps(child(args.child, photo, args.repeat)))
        return
    if args.e2e_child:
        print(json.dumps(e2e_child(args.e2e_child, photo, args.repeat)))
        return
    if args.load:
        rows = load_rows(args.models or DEFAULT_SPECS[:2], photo, args.repeat, not args.no_policy)
        print(f"photo: {photo} (12 MP JPEG unless --photo), median of {args.repeat}; "
              f"loaded = beside one CPU-bound process on {os.cpu_count()} CPUs; "
              + ("torch's threading defaults" if args.no_policy else "ml_core.runtime threading policy"))
        print_table(
            rows,
            [("model", "model"), ("e2e_quiet", "12MP e2e s quiet"), ("e2e_loaded", "loaded"), ("e2e_ratio", "ratio"),
             ("prev_quiet", "preview ms quiet"), ("prev_loaded", "loaded"), ("prev_ratio", "ratio")],
        )
        return
    rows = []
    for spec in args.models or DEFAULT_SPECS:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", spec, "--photo", str(photo), "--repeat", str(args.repeat),
             *(["--no-policy"] if args.no_policy else [])],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            rows.append({"model": spec[:48], "parts": f"skipped: {last[:80]}"})
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"photo: {photo} (12 MP JPEG unless --photo), best of {args.repeat}")
    print_table(
        rows,
        [("model", "model"), ("gflops", "GFLOPs@256²"), ("ms_256", "ms/256²"), ("gflops_per_s", "GFLOP/s"),
         ("e2e_s", "12MP e2e s"), ("peak_rss_mb", "peak RSS MB"), ("preview_ms", "preview ms"),
         ("parts", "breakdown s")],
    )


if __name__ == "__main__":
    main()
