"""Train on a packed corpus for a fixed time budget: the accelerator path of `chroma train`.

Why a second loop beside `ml_core.training.trainer.Trainer`: the folder trainer is built for a person's
photos on a laptop (scan, cache, resume, live previews, epochs). A borrowed GPU for fifteen
minutes wants the opposite trade: the whole corpus resident on the device, every augmentation a
batched tensor op there, a schedule measured in seconds rather than steps (cosine over the time
budget, so the run ends annealed whenever the budget ends), and fp16 weights plus a model card
written to one folder at the end — and every few minutes, so a run cut short still leaves a model.

It reuses everything that defines the model: the architectures, `prepare_batch` (colour
conversion and old-print damage), the class-rebalanced loss, optimizers, model files and cards.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..evaluation.metrics import MetricAccumulator
from ..modelfiles.modelfile import info_for, save_model
from ..models import create
from . import card as cardmod
from .data import prepare_batch
from .degrade import Damage
from .losses import Criterion, check_loss_name, estimate_ab_counts, make_optimizer, rebalance_weights
from .memory import retained_heap
from .packed import PackedCorpus
from .step import optimizer_step
from .trainer import warm_start


@dataclass
class PackedTrainConfig:
    pack: str
    out_dir: str
    name: str = "packed-model"
    arch: str = "unet"
    arch_config: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None  # model file (or store name) whose weights start the run
    minutes: float = 10.0  # wall-clock budget for training steps (validation and saving excluded)
    batch_size: int = 64
    size: int = 128
    lr: float = 1e-3
    optimizer: str = "adamw"
    warmup_seconds: float = 20.0
    damage: float = 0.5
    source_balance: float = 0.5
    val_photos: int = 256
    save_every_minutes: float = 3.0
    temperature: float = 0.38
    seed: int = 0
    device: str = "auto"
    bf16: bool = True  # autocast on CUDA (ignored on CPU: fp32, since most CPUs lack bf16 units)
    description: str = ""

    def check(self) -> None:
        problems = []
        if not self.minutes > 0:
            problems.append("minutes must be positive")
        if self.batch_size < 2:
            problems.append("batch size must be at least 2")
        if self.size < 16:
            problems.append("crop size must be at least 16")
        if not self.lr > 0:
            problems.append("learning rate must be positive")
        if not 0.0 <= self.damage <= 1.0:
            problems.append("damage must be a share in [0, 1]")
        if not 0.0 <= self.source_balance <= 1.0:
            problems.append("source balance must be in [0, 1]")
        if self.val_photos < 0:
            problems.append("validation photos must be 0 or more")
        if problems:
            raise ValueError("; ".join(problems))


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _cosine(lr: float, t: float, budget: float, warmup: float) -> float:
    """Learning rate at `t` seconds into a `budget`-second run: linear warm-up, then cosine to 0."""
    if t < warmup:
        return lr * max(t, 1e-3) / warmup
    frac = min(1.0, (t - warmup) / max(1e-6, budget - warmup))
    return lr * 0.5 * (1.0 + math.cos(math.pi * frac))


def train_packed(cfg: PackedTrainConfig, log: Callable[[str], None] = print) -> Path:
    """Run the budgeted training; returns the written model file (fp16) in `cfg.out_dir`."""
    with retained_heap():  # on a CPU run, no page faults for the step's tensors (training/memory.py)
        return _train_packed(cfg, log)


def _train_packed(cfg: PackedTrainConfig, log: Callable[[str], None]) -> Path:
    cfg.check()
    device = _device(cfg.device)
    torch.manual_seed(cfg.seed)
    t_load = time.perf_counter()
    corpus = PackedCorpus.load(cfg.pack, device)
    train_idx, val_idx = corpus.split(cfg.val_photos, cfg.seed)
    weights = corpus.weights(train_idx, cfg.source_balance)
    log(f"pack: {len(corpus)} photos from {len(corpus.sources)} sources decoded on {device} in "
        f"{time.perf_counter() - t_load:.1f} s; {len(train_idx)} training, {len(val_idx)} validation")

    model = create(cfg.arch, **cfg.arch_config)
    if cfg.init_from:
        warm_start(model, cfg.init_from)
    size = max(model.size_multiple, round(cfg.size / model.size_multiple) * model.size_multiple)
    model.to(device)
    channels_last = True
    model.to(memory_format=torch.channels_last)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    damage_gen = torch.Generator(device=device).manual_seed(cfg.seed + 1)

    # Class-rebalancing prior from 512 training crops (as the folder trainer does with its crops).
    weights_ce = None
    loss_name = check_loss_name(model.output_kind, None)
    if model.output_kind == "bins313":
        probe = train_idx[torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(cfg.seed))[:512]
                          .to(device)]
        small = max(1, size // 4)

        def maps():
            for start in range(0, len(probe), 128):
                rgb = corpus.center(probe[start : start + 128], size)
                _, _, chroma = prepare_batch(rgb, None, model.space)
                yield F.adaptive_avg_pool2d(chroma, (small, small)).cpu()

        counts = estimate_ab_counts(maps(), model.ab_bins())
        weights_ce = rebalance_weights(counts, model.ab_bins())
    criterion = Criterion(model, loss_name, weights_ce, 0.1, device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(cfg.optimizer, params, cfg.lr, None, 0.9)
    autocast = cfg.bf16 and device.type == "cuda"
    damage_cfg = Damage(p=cfg.damage)
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{cfg.name}.safetensors"

    budget = cfg.minutes * 60.0
    step, seen, trained_seconds = 0, 0, 0.0
    history: list[dict[str, Any]] = []
    last_save = time.perf_counter()
    loss_avg = None
    model.train()
    while trained_seconds < budget:
        t0 = time.perf_counter()
        pick = train_idx[torch.multinomial(weights, cfg.batch_size, replacement=True, generator=gen)]
        rgb = corpus.batch(pick, size, gen)
        inp, _, chroma = prepare_batch(rgb, None, model.space, damage_gen if cfg.damage > 0 else None, damage_cfg)
        if channels_last:
            inp = inp.contiguous(memory_format=torch.channels_last)
        lr = _cosine(cfg.lr, trained_seconds, budget, min(cfg.warmup_seconds, budget / 10))
        for group in optimizer.param_groups:
            group["lr"] = lr
        value = float(optimizer_step(model, inp, chroma, criterion, optimizer, params, bf16=autocast))
        if not math.isfinite(value):
            raise FloatingPointError(f"the loss became {value} at step {step}; nothing was saved from this step on")
        loss_avg = value if loss_avg is None else 0.98 * loss_avg + 0.02 * value
        step += 1
        seen += cfg.batch_size
        trained_seconds += time.perf_counter() - t0
        if step % 100 == 0:
            log(f"step {step}  {trained_seconds:6.0f}/{budget:.0f} s  loss {loss_avg:.4f}  lr {lr:.2e}  "
                f"{seen / max(trained_seconds, 1e-6):.0f} img/s")
        if time.perf_counter() - last_save > cfg.save_every_minutes * 60.0 and trained_seconds < budget:
            _write(model, path, cfg, corpus, step, seen, trained_seconds, history, {}, len(train_idx), len(val_idx),
                   size)
            last_save = time.perf_counter()
            model.train()
    metrics = _validate(model, corpus, val_idx, size, criterion, cfg.temperature, autocast) if len(val_idx) else {}
    history.append({"step": step, "train_loss": loss_avg, **metrics})
    log(f"done: {step} steps, {seen} crops in {trained_seconds:.0f} s; validation {json.dumps(metrics)}")
    _write(model, path, cfg, corpus, step, seen, trained_seconds, history, metrics, len(train_idx), len(val_idx), size)
    return path


@torch.no_grad()
def _validate(model, corpus: PackedCorpus, val_idx: torch.Tensor, size: int, criterion: Criterion,
              temperature: float, autocast: bool) -> dict[str, float]:
    """Validation loss and colour metrics on whole (resized) validation photos, clean input."""
    model.eval()
    acc = MetricAccumulator(with_ssim=False)
    loss_sum = 0.0
    for start in range(0, len(val_idx), 64):
        rgb = corpus.center(val_idx[start : start + 64], size)
        inp, lum, chroma = prepare_batch(rgb, None, model.space)
        with torch.autocast(inp.device.type, dtype=torch.bfloat16, enabled=autocast):
            raw = model(inp.contiguous(memory_format=torch.channels_last))
        raw = raw.float()
        loss_sum += float(criterion(raw, chroma)) * rgb.shape[0]
        ab, _ = model.decode(raw, temperature)
        ab = F.interpolate(ab, size=lum.shape[-2:], mode="bilinear", align_corners=False)
        pred = (model.space.merge(lum, ab).clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        for p, t in zip(pred, rgb.permute(0, 2, 3, 1).cpu().numpy()):
            acc.add(p, t)
    s = acc.summary()
    out = {k: float(s[k]) for k in ("psnr", "gray_psnr", "auc", "auc_rebalanced", "gray_auc_rebalanced",
                                     "colorfulness_ratio")}
    out["val_loss"] = loss_sum / len(val_idx)
    return out


def _write(model, path: Path, cfg: PackedTrainConfig, corpus: PackedCorpus, step: int, seen: int, seconds: float,
           history: list, metrics: dict, n_train: int, n_val: int, size: int) -> None:
    """fp16 model file and its card, both atomic: a run cut short leaves the last complete pair."""
    device_name = torch.cuda.get_device_name(0) if next(model.parameters()).is_cuda else "cpu"
    training = {
        "base": cfg.init_from, "from_scratch": cfg.init_from is None,
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "data": {"folders": [f"pack {Path(cfg.pack).name}: " + ", ".join(corpus.sources)], "usable": len(corpus),
                 "train": n_train, "val": n_val, "skipped": {}, "split": "seeded per photo"},
        "settings": {"steps": step, "crops": seen, "batch_size": cfg.batch_size, "image_size": size,
                     "optimizer": cfg.optimizer, "lr": cfg.lr, "schedule": "cosine over the time budget",
                     "budget_minutes": cfg.minutes, "damage": cfg.damage, "source_balance": cfg.source_balance,
                     "bf16": cfg.bf16, "device": device_name, "seed": cfg.seed},
        "steps_completed": step, "seconds": round(seconds, 1),
        "finished": datetime.now().astimezone().isoformat(timespec="seconds"), "history": history,
        "packed_config": asdict(cfg),
    }
    info = info_for(model, cfg.name, None, description=cfg.description or f"{model.arch} trained on a packed corpus",
                    training=training, metrics=metrics, temperature=float(cfg.temperature))
    save_model(model, path, info, half=True)
    text = cardmod.render_card(info.name, info.arch, info.config, training, metrics, info.description)
    cardmod.write_card(path.with_suffix(".md"), text)
