"""The default model's training step as it was before issue 13.3 and as it is now, for bench_train --step.

Why a child process per measurement: one of the changes (`ml_core.training.memory.retained_heap`)
sets process-wide malloc thresholds that cannot be fully undone, so "before" and "after" each
run in a fresh interpreter, alternated by the parent so a change of machine load hits both.

"before" puts back what the step did until then, written out here (not kept in ml_core): the
cross-entropy through autograd's log_softmax over the channels of the (B, Q, h, w) logits, the
input levels' black and white points by a full sort, Adam's per-tensor loop, glibc's default
malloc thresholds. Everything else (model, data preparation, clipping) is the library's own code.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import step_times  # noqa: E402

from ml_core import runtime  # noqa: E402

runtime.configure()  # the threading policy `chroma train` runs under, set before torch loads

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ml_core.color import levels  # noqa: E402
from ml_core.color.levels_np import HIGH_PERCENTILE, LOW_PERCENTILE, POOLED_SIDE  # noqa: E402
from ml_core.models import create  # noqa: E402
from ml_core.training import losses  # noqa: E402
from ml_core.training.data import prepare_batch  # noqa: E402
from ml_core.training.losses import Criterion, make_optimizer  # noqa: E402
from ml_core.training.memory import retained_heap  # noqa: E402
from ml_core.training.step import optimizer_step  # noqa: E402


def _sorted_points(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Before: the robust black and white points by sorting every pooled value."""
    b = x.shape[0]
    small = F.adaptive_avg_pool2d(x, (min(POOLED_SIDE, x.shape[-2]), min(POOLED_SIDE, x.shape[-1]))).reshape(b, -1)
    ordered, _ = torch.sort(small, dim=1)
    n = ordered.shape[1]
    i_lo, i_hi = int(round(LOW_PERCENTILE * (n - 1))), int(round(HIGH_PERCENTILE * (n - 1)))
    return ordered[:, i_lo].view(b, 1, 1, 1), ordered[:, i_hi].view(b, 1, 1, 1)


def _autograd_ce_terms(logits: torch.Tensor, ab: torch.Tensor, encoder: Any,
                       class_weights: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Before: log_softmax over dim 1 of (B, Q, h, w), gather, autograd for the gradient."""
    idx, wts = encoder(ab.float())
    logp = torch.log_softmax(logits.float(), dim=1)
    ce = -(wts * logp.gather(1, idx)).sum(dim=1)
    plain = ce.mean()
    if class_weights is None:
        return plain, plain
    return (ce * class_weights.to(ce.device)[idx[:, 0]]).mean(), plain


def _use_before() -> None:
    levels.robust_points = _sorted_points
    losses._ab_bins_ce_terms = _autograd_ce_terms


def measure(variant: str, arch: str, config: dict, batch: int, size: int, steps: int,
            profile: bool) -> dict[str, Any]:
    """Step times (s) of `steps` steps after two warm-up steps, and optionally a top-op profile."""
    torch.manual_seed(0)
    model = create(arch, **config).train().to(memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    weights = torch.rand(model.out_channels, generator=torch.Generator().manual_seed(0)) + 0.5
    crit = Criterion(model, class_weights=weights)
    if variant == "before":
        _use_before()
        opt: torch.optim.Optimizer = torch.optim.Adam(params, lr=1e-4)
    else:
        opt = make_optimizer("adam", params, 1e-4)
    rgb = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))

    def step() -> None:
        inp, _, chroma = prepare_batch(rgb, None, model.space)
        optimizer_step(model, inp.contiguous(memory_format=torch.channels_last), chroma, crit, opt, params,
                       bf16=False)

    with retained_heap() if variant == "after" else _nothing():
        # 3 warm-up steps: oneDNN primitives, and the kept heap reaches its steady state
        times = step_times(step, steps, warmup=3)
        out: dict[str, Any] = {"times": times, "threads": torch.get_num_threads(),
                               "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}
        if profile:
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as torch_profile

            with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
                step()
            rows = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
            total = sum(e.self_cpu_time_total for e in rows)
            out["profile"] = [(e.key, e.count, e.self_cpu_time_total / 1e3, e.self_cpu_time_total / total)
                              for e in rows[:12]]
    return out


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def step_gflop(arch: str, config: dict, batch: int, size: int) -> float:
    """Floating-point work of one step's forward and backward (FlopCounterMode: convolutions and
    matrix products, the arithmetic a conv peak can be compared with)."""
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = create(arch, **config).train().to(memory_format=torch.channels_last)
    crit = Criterion(model)
    rgb = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8)
    inp, _, chroma = prepare_batch(rgb, None, model.space)
    with FlopCounterMode(display=False) as counter:
        crit(model(inp.contiguous(memory_format=torch.channels_last)), chroma).backward()
    return counter.get_total_flops() / 1e9


def conv_peak(batch: int, repeat: int = 5) -> dict[str, float]:
    """The machine's fp32 3×3 convolution throughput (GFLOP/s), channels-last, at the default
    model's widest layer shapes: forward alone, and forward + backward (input and weight
    gradients, 3× the forward's work) as a training step runs it. Best of `repeat`."""
    best_f = best_fb = 0.0
    for c, side in ((192, 16), (384, 8)):
        conv = torch.nn.Conv2d(c, c, 3, padding=1, bias=False).to(memory_format=torch.channels_last)
        x = torch.randn(batch, c, side, side).contiguous(memory_format=torch.channels_last).requires_grad_(True)
        flop = 2.0 * batch * c * c * 9 * side * side
        grad = torch.randn(batch, c, side, side).contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            conv(x)
            for _ in range(repeat):
                t0 = time.perf_counter()
                conv(x)
                best_f = max(best_f, flop / (time.perf_counter() - t0) / 1e9)
        conv(x).backward(grad)
        for _ in range(repeat):
            t0 = time.perf_counter()
            conv(x).backward(grad)
            best_fb = max(best_fb, 3 * flop / (time.perf_counter() - t0) / 1e9)
    return {"forward": best_f, "train": best_fb}


def main() -> int:
    """Child entry: argv = variant ("before", "after" or "peak"), JSON of {arch, config, batch, size,
    steps, profile}; prints one JSON line."""
    variant, spec = sys.argv[1], json.loads(sys.argv[2])
    if variant == "peak":
        print(json.dumps({"conv": conv_peak(spec["batch"]),
                          "gflop": step_gflop(spec["arch"], spec["config"], spec["batch"], spec["size"])}))
        return 0
    out = measure(variant, spec["arch"], spec["config"], spec["batch"], spec["size"], spec["steps"], spec["profile"])
    out["median"] = statistics.median(out["times"])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
