"""Process-wide threading policy, applied by every entry point before torch loads.

Why: torch runs its operators on an OpenMP thread team, one thread per core. At the end of each
parallel region OpenMP threads *spin* (busy-wait) for their siblings before sleeping, for up to
~300,000 pause instructions with GNU libgomp (Linux) and 200 ms with LLVM/Intel libomp (macOS,
Windows). On a quiet machine that saves waking a sleeping thread for the next operator. On a
laptop where anything else wants a core (a browser, a compile, our own GUI thread, a decode
thread, a training run in the Training tab) every region waits for a thread that has been
descheduled while the spinning threads burn the very core it needs: a 12 MP colorize that takes
0.8 s quiet took 6.6-9.9 s beside one CPU-bound process on a 2-core Intel machine, and 2.5-31x
its quiet time on a 2-core AMD (bench/bench_inference.py --load --no-policy). With
`OMP_WAIT_POLICY=PASSIVE` waiting threads sleep at once, so a competitor costs about the core it
takes (same bench without --no-policy: 0.8-1.9x).

The intra-op thread count stays torch's default (one per physical core): a thread that loses its
core only delays its own share of the work, and training and the larger models need both cores.

The price, measured on a 2-core AMD VM: each parallel region now wakes a sleeping thread. The
torch version of `engine.recombine` ran many small ones (24 tiles x dozens of ops per 12 MP
photo), so quiet end to end went from 0.98 s to 1.66 s (recombine 0.55 -> 0.98 s). Spinning
variants (GOMP_SPINCOUNT 1k-100k) kept quiet speed but not loaded speed (2.3-4.6 s beside one
busy loop, passive 1.3-1.4 s), and without this policy a spinning neighbour (another torch job, a
test run) made the same photo take 5-47 s (1.0-1.9 s with it). So the recombination moved off
torch instead (ml_core.inference.recombine: numpy on plain threads that take bands from a shared counter,
no parallel regions; 0.44 CPU-s for 12 MP where one torch thread took 0.69), and what remains
under this policy is the model's few dozen regions per photo. The torch-free path
(ml_core.inference.onnx_engine) asks the same of onnxruntime through its session options.

OpenMP reads its environment once, when the library loads (`import torch`), so `configure()`
must run first thing in every entry point: `ml_core.cli.main` (the `chroma` command, CLI and
training), `python -m desktop_app`, and the bundle's entry. A value the user set is kept. Child
processes (DataLoader workers, `torchrun`, a relaunched CLI) inherit it through the environment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

# Settings every entry point applies unless the user chose otherwise.
THREADING_DEFAULTS: dict[str, str] = {
    "OMP_WAIT_POLICY": "PASSIVE",
}


def configure(environ: MutableMapping[str, str] | None = None) -> bool:
    """Apply the threading defaults; True if OpenMP will see them (torch not loaded yet).

    Idempotent and cheap (imports nothing heavy), so every entry point can call it.
    """
    env = os.environ if environ is None else environ
    for key, value in THREADING_DEFAULTS.items():
        env.setdefault(key, value)
    return "torch" not in sys.modules


_AUTOMATIC_THREADS: int | None = None


def set_threads(count: int | None) -> int:
    """Use `count` CPU threads for torch work on *this* thread (None or 0: torch's own choice, as
    at start-up); returns the number now in use. With OpenMP the count belongs to the calling
    thread, so a program with worker threads calls this at the start of each job that runs a
    model (it is cheap when nothing changes). Out-of-range counts are clamped to 1..os.cpu_count()."""
    global _AUTOMATIC_THREADS
    import torch

    if _AUTOMATIC_THREADS is None:
        _AUTOMATIC_THREADS = torch.get_num_threads()
    wanted = _AUTOMATIC_THREADS if not count else max(1, min(int(count), os.cpu_count() or 1))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return torch.get_num_threads()
