"""Process-wide threading policy, applied by every entry point before torch loads.

Why: torch runs its operators on an OpenMP thread team, one thread per core. At the end of each
parallel region OpenMP threads *spin* (busy-wait) for their siblings before sleeping, for up to
~300,000 pause instructions with GNU libgomp (Linux) and 200 ms with LLVM/Intel libomp (macOS,
Windows). On a quiet machine that saves a few microseconds per operator. On a laptop where
anything else wants a core (a browser, a compile, our own GUI thread, a decode thread, a
training run in the Training tab) every region waits for a thread that has been descheduled while
the spinning threads burn the very core it needs: a 12 MP colorize that takes 0.8 s quiet took
6.6-9.9 s beside one CPU-bound process on a 2-core machine (Intel, where `pause` is slow),
~2-4x on a 2-core AMD. With `OMP_WAIT_POLICY=PASSIVE` waiting threads sleep at once, so the cost
of a competitor is the core it takes, no more (bench/bench_inference.py --load measures this).

The intra-op thread count stays torch's default (one per physical core): fewer threads would
give up quiet-machine speed for nothing once waiting is passive, because a thread that loses its
core only delays its own share of the work.

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
