"""Device choice and multi-process training (PyTorch DistributedDataParallel).

`chroma train` runs as one process by default. Started by `torchrun` (which sets RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT), the same command joins a process group: gloo on CPU,
nccl on CUDA GPUs (one per local rank). Only rank 0 writes checkpoints, models and output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist


def mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(preference: str = "auto", local_rank: int = 0, world_size: int = 1) -> torch.device:
    """'auto': CUDA (this rank's GPU) if present, else Apple MPS (single process), else CPU."""
    pref = (preference or "auto").lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % max(1, torch.cuda.device_count()))
        if mps_available() and world_size == 1:
            return torch.device("mps")
        return torch.device("cpu")
    if pref == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("CUDA was requested but no CUDA device is available")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if pref == "mps" and not mps_available():
        raise ValueError("Apple MPS was requested but is not available")
    return torch.device(pref)


@dataclass
class DistContext:
    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    backend: str | None = None
    owns_group: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def _comm_device(self) -> torch.device:
        return self.device if self.backend == "nccl" else torch.device("cpu")

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def all_reduce_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Sum a float tensor over ranks (returned on the CPU, float64)."""
        t = values.detach().double().cpu()
        if not self.distributed:
            return t
        dev = self._comm_device()
        buf = t.to(dev) if self.backend != "nccl" else t.float().to(dev)
        dist.all_reduce(buf, op=dist.ReduceOp.SUM)
        return buf.double().cpu()

    def any(self, flag: bool) -> bool:
        if not self.distributed:
            return bool(flag)
        return bool(self.all_reduce_sum(torch.tensor([1.0 if flag else 0.0]))[0] > 0)

    def broadcast_object(self, obj: Any) -> Any:
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0, device=self._comm_device() if self.backend == "nccl" else None)
        return box[0]

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self.owns_group = False


def init_distributed(device_preference: str = "auto") -> DistContext:
    """Join the torchrun process group if there is one; otherwise a single-process context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not dist.is_available():
        return DistContext(device=pick_device(device_preference))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    device = pick_device(device_preference, local_rank, world)
    if device.type == "mps":
        device = torch.device("cpu")  # no MPS collective backend
    backend = "nccl" if device.type == "cuda" else "gloo"
    owns = False
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, init_method="env://", rank=rank, world_size=world)
        owns = True
    return DistContext(world_size=world, rank=rank, local_rank=local_rank, device=device, backend=backend,
                       owns_group=owns)
