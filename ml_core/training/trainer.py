"""Training and fine-tuning: `Trainer(config, callbacks, cancel).run() -> TrainResult`.

One loop serves the window (callbacks with everything a GUI draws), the CLI (`chroma train`) and
multi-process training under torchrun (DistributedDataParallel; see ml_core.training.distributed).

Guarantees:
- Deterministic: the model init, the shuffling (seed, epoch) and every sample's augmentation
  (seed, epoch, index) are seeded, so the same seed and data give the same loss curve on CPU.
- Resumable: a checkpoint (model, optimizer, RNG state, class-rebalancing weights, position within
  the epoch, history) is written atomically at every epoch end and when cancelled; `resume`
  continues from it and reaches the same weights as an uninterrupted run.
- Never saves a broken model: a NaN/Inf loss or gradient stops with TrainingDiverged.
- The best model by the validation metric is a normal model file (in the user's store, or at an
  explicit output path) with a training summary in its metadata and a NAME.md card beside it.

Callbacks run on the training thread; a GUI forwards them to its UI thread (Qt signals).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..cancel import Cancelled, CancelToken
from ..evaluation.metrics import MetricAccumulator, gray_baseline
from ..guidance.hint_maps import no_hint_maps, simulate_hint_maps, widen_for_hints, with_hint_maps
from ..modelfiles.modelfile import ModelFileError, info_for, load_model, save_model
from ..modelfiles.store import ModelStore, validate_name
from ..models import ColorModel, create
from . import card as cardmod
from .checkpoint import (
    CHECKPOINT_FILE,
    RUN_FILE,
    CheckpointError,
    load_checkpoint,
    read_json,
    run_dir,
    save_checkpoint,
    write_json,
)
from .config import DEFAULT_EPOCHS, SELECT_METRICS, NotEnoughPhotos, TrainConfig, TrainError
from .data import (
    Augment,
    PhotoDataset,
    PhotoItem,
    PhotoSet,
    _hash01,
    epoch_batches,
    prepare_batch,
    scan_photos,
    source_weights,
    split_photos,
)
from .degrade import Damage
from .distributed import DistContext, init_distributed
from .events import (
    EpochSummary,
    EventCallbacks,
    RunStart,
    SampleTriplet,
    StepProgress,
    TrainCallbacks,
    TrainEvent,
    TrainResult,
)
from .losses import (
    Criterion,
    LRSchedule,
    TrainingDiverged,
    check_loss_name,
    clip_and_check,
    default_lr,
    estimate_ab_counts,
    make_optimizer,
    rebalance_weights,
)
from .memory import retained_heap

__all__ = [
    "NotEnoughPhotos", "TrainConfig", "Trainer", "TrainCallbacks", "TrainError", "TrainingDiverged", "RunStart",
    "StepProgress", "EpochSummary", "SampleTriplet", "TrainResult", "EventCallbacks", "TrainEvent",
]


def validation_split(items: Sequence[PhotoItem], cfg: TrainConfig) -> tuple[list[PhotoItem], list[PhotoItem]]:
    """The run's (training, validation) photos: deterministic in the photos and the config alone.

    Public so that tools which must not touch the photos a model trained on (temperature
    calibration, reports) can rebuild exactly the run's validation set.
    """
    train_items, val_items = split_photos(items, cfg.val_fraction, cfg.seed, cfg.val_by_folder)
    if cfg.max_val_images is not None and len(val_items) > cfg.max_val_images:
        # Validation costs time every epoch: keep a seeded subset. With a per-file split the rest
        # goes back to training; with a per-folder split it stays out (near-duplicates of the
        # validation photos must not be trained on).
        order = sorted(range(len(val_items)), key=lambda i: _hash01(cfg.seed + 2, val_items[i].rel))
        keep = set(order[: cfg.max_val_images])
        kept = {val_items[i].path for i in keep}
        if not cfg.val_by_folder:
            train_paths = {it.path for it in train_items} | {it.path for it in val_items if it.path not in kept}
            train_items = [it for it in items if it.path in train_paths]
        val_items = [it for it in val_items if it.path in kept]
    return list(train_items), list(val_items)


def warm_start(model: ColorModel, source: str, store: ModelStore | None = None) -> None:
    """Copy every parameter and buffer of model file `source` (store name or path) into `model`.

    Why: a new configuration of the same network (e.g. input levels switched on) can continue
    from weights already trained instead of from scratch; shapes must match exactly, or
    ValueError says which do not.
    """
    donor = (store or ModelStore()).load(source).model.state_dict()
    own = model.state_dict()
    missing = sorted(set(own) - set(donor))
    mismatched = sorted(k for k in own if k in donor and donor[k].shape != own[k].shape)
    if missing or mismatched:
        raise ValueError(f"cannot start from {source}: its weights do not fit this architecture "
                         f"(missing {missing[:3]}, other shapes {mismatched[:3]})")
    model.load_state_dict({k: donor[k].to(own[k].dtype) for k in own})


class _Callbacks:
    def __init__(self, callbacks: TrainCallbacks | Sequence[TrainCallbacks] | None) -> None:
        if callbacks is None:
            self.items: list[Any] = []
        elif isinstance(callbacks, (list, tuple)):
            self.items = list(callbacks)
        else:
            self.items = [callbacks]

    def __getattr__(self, name: str):
        def call(*args: Any) -> None:
            for cb in self.items:
                fn = getattr(cb, name, None)
                if fn is not None:
                    fn(*args)

        return call


def _clean_floats(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, (float, np.floating)):
            v = float(v)
            out[k] = None if not math.isfinite(v) else v
        else:
            out[k] = v
    return out


@dataclass
class _Position:
    """Where a run is: what a checkpoint stores to continue from exactly this point."""

    step: int = 0  # optimizer steps done
    epoch: int = 0  # epochs done
    batch: int = 0  # batches done in the current epoch
    loss_sum: float = 0.0  # the current epoch's training losses so far (for its mean)
    loss_n: int = 0

    def next_epoch(self) -> None:
        self.epoch += 1
        self.batch, self.loss_sum, self.loss_n = 0, 0.0, 0


@dataclass
class _Validation:
    loss: float | None
    plain_loss: float | None  # without class rebalancing: comparable with the training steps' plain_loss
    metrics: dict[str, float]
    samples: list[SampleTriplet]


def _default_workers() -> int:
    """Training reads small cached thumbnails (~1 ms per crop): on ≤ 4 cores a worker process
    costs more in CPU contention than it saves (see bench/bench_train.py)."""
    cpus = os.cpu_count() or 1
    return 0 if cpus <= 4 else min(4, cpus // 4)


# --------------------------------------------------------------------------- trainer


class Trainer:
    """Runs one training run. `run()` returns a TrainResult or raises TrainError/TrainingDiverged.

    The cancel token stops the run within one step (a checkpoint is written first); pause/resume
    on the token block the loop between steps. `Trainer.for_run(name)` resumes a saved run.
    """

    def __init__(
        self, config: TrainConfig, callbacks: TrainCallbacks | Sequence[TrainCallbacks] | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.config = config
        self.callbacks = _Callbacks(callbacks)
        self.token = cancel or CancelToken()

    @classmethod
    def for_run(
        cls, run_name: str, callbacks: TrainCallbacks | Sequence[TrainCallbacks] | None = None,
        cancel: CancelToken | None = None, **runtime: Any,
    ) -> "Trainer":
        """A trainer that resumes the saved run `run_name` (runtime fields such as workers may be overridden)."""
        try:
            meta = read_json(run_dir(run_name) / RUN_FILE)
        except CheckpointError as exc:
            raise TrainError(f"cannot resume run {run_name!r}: {exc}") from None
        cfg = TrainConfig.from_dict(meta.get("config", {}))
        cfg.resume = True
        cfg.run_name = run_name
        for key, value in runtime.items():
            if key not in TrainConfig.RUNTIME_FIELDS:
                raise TrainError(f"{key} cannot be changed when resuming "
                                 f"(only {', '.join(TrainConfig.RUNTIME_FIELDS)})")
            setattr(cfg, key, value)
        return cls(cfg, callbacks, cancel)

    # Convenience for a GUI that holds the trainer rather than the token.
    def cancel(self) -> None:
        self.token.cancel()

    def pause(self) -> None:
        self.token.pause()

    def resume(self) -> None:
        self.token.resume()

    def run(self) -> TrainResult:
        ctx = init_distributed(self.config.device)
        try:
            with retained_heap():  # no page faults for the step's tensors (training/memory.py)
                return _Run(self, ctx).execute()
        finally:
            ctx.close()


class _Run:
    """State of one execution of a Trainer (kept apart so a Trainer object stays a plain handle)."""

    def __init__(self, trainer: Trainer, ctx: DistContext) -> None:
        self.trainer = trainer
        self.ctx = ctx
        self.token = trainer.token
        self.cb = trainer.callbacks if ctx.is_main else _Callbacks(None)
        self.cfg = dataclasses.replace(trainer.config)
        self.store = ModelStore()

    # ---------------------------------------------------------------- setup

    def _resolve_names(self) -> tuple[str, Path, str]:
        cfg = self.cfg
        try:
            if cfg.output:
                out = Path(cfg.output)
                if out.suffix != ".safetensors":
                    out = out.with_name(out.name + ".safetensors")
                name = out.stem
            else:
                base = validate_name(cfg.name)
                name = base
                if not cfg.overwrite:
                    taken = set(self.store.names())
                    n = 2
                    while name in taken or run_dir(name).exists():
                        name = f"{base}-{n}"
                        n += 1
                out = self.store.user_model_path(name)
        except ValueError as exc:
            raise TrainError(str(exc)) from None
        run = cfg.run_name or name
        if not cfg.overwrite and (run_dir(run) / RUN_FILE).exists():
            if cfg.run_name:
                raise TrainError(f"a training run named {run!r} already exists; resume it or choose another name")
            base_run, n = run, 2
            while run_dir(run).exists():
                run = f"{base_run}-{n}"
                n += 1
        return name, out, run

    def _train_size(self, model: ColorModel) -> int:
        if model.fixed_input is not None:
            if model.fixed_input != self.cfg.size and self.cfg.size != TrainConfig.size:
                self.cb.on_status(f"{model.arch} has a fixed input of {model.fixed_input}²; training at that size")
            return int(model.fixed_input)
        m = int(model.size_multiple)
        return max(m, int(round(self.cfg.size / m)) * m)

    def _scan(self, size: int) -> PhotoSet:
        cfg = self.cfg
        self.cb.on_status("scanning photos")

        def scan(progress: Any) -> PhotoSet:
            return scan_photos(cfg.data, size, min_side=cfg.min_side, workers=cfg.workers, progress=progress,
                               cancel=self.token if not self.ctx.distributed else None, mp_context=cfg.mp_context)

        photos = scan(self.cb.on_scan) if self.ctx.is_main else None
        self.ctx.barrier()  # rank 0 filled the cache; the others now read it
        if not self.ctx.is_main:
            photos = scan(None)
        assert photos is not None
        for path, reason in photos.problems:
            self.cb.on_status(f"warning: {path}: {reason}")
        return photos

    def _estimate_prior(self, model: ColorModel, items: list[PhotoItem], size: int, cache_side: int) -> torch.Tensor:
        cfg = self.cfg
        self.cb.on_status("estimating the color prior for class rebalancing")
        chosen = sorted(items, key=lambda it: (_hash01(cfg.seed + 1, it.rel), it.rel))[: cfg.prior_images]
        ds = PhotoDataset(chosen, size, train=False, cache_side=cache_side)
        bins = model.ab_bins()
        small = max(1, size // 4)

        def maps() -> Iterable[torch.Tensor]:
            for start in range(0, len(ds), 32):
                rgb = torch.stack([ds[i][0] for i in range(start, min(len(ds), start + 32))])
                _, _, chroma = prepare_batch(rgb, None, model.space)
                yield F.adaptive_avg_pool2d(chroma, (small, small))

        return estimate_ab_counts(maps(), bins)

    # ---------------------------------------------------------------- the run, step by step

    def execute(self) -> TrainResult:
        """Open the run, build what it needs, then train epoch by epoch (see the named steps)."""
        self._open_run()
        self._build_model()
        try:
            self._prepare_data()
        except Cancelled:
            return self._cancelled_before_start()
        self._build_loss()
        self._build_optimizer()
        pos = self._restore()
        self._make_datasets()
        return self._train(pos)

    def _open_run(self) -> None:
        """Where the run lives: its names and folder, and on resume the checkpoint to continue from.

        Resuming takes the saved config (only the runtime fields come from the caller), so a
        resumed run trains exactly what the interrupted one would have.
        """
        cfg, ctx = self.cfg, self.ctx
        if cfg.threads:
            torch.set_num_threads(int(cfg.threads))
        cfg.check()
        self.t_start = time.perf_counter()
        self.ckpt: dict[str, Any] | None = None
        self.saved_meta: dict[str, Any] = {}
        if cfg.resume:
            run_name = cfg.run_name or cfg.name
            rdir = run_dir(run_name)
            try:
                meta = read_json(rdir / RUN_FILE)
                saved = TrainConfig.from_dict(meta["config"])
                self.ckpt = load_checkpoint(rdir / CHECKPOINT_FILE)
            except (CheckpointError, KeyError) as exc:
                raise TrainError(f"cannot resume run {run_name!r}: {exc}") from None
            for key in TrainConfig.RUNTIME_FIELDS:
                setattr(saved, key, getattr(cfg, key))
            saved.resume, saved.run_name = True, run_name
            self.cfg = saved
            self.saved_meta = meta
            model_name, output_path = meta["model_name"], Path(meta["output_path"])
        else:
            names = self._resolve_names() if ctx.is_main else None
            model_name, output_path, run_name = ctx.broadcast_object(names)
            rdir = run_dir(run_name)
        self.model_name, self.output_path, self.run_name, self.rdir = model_name, output_path, run_name, rdir
        self.card_path = output_path.with_suffix(".md")
        self.ckpt_path = rdir / CHECKPOINT_FILE

    def _build_model(self) -> None:
        """The model (from the checkpoint's architecture, the base file, or the architecture),
        widened for hints if asked, and what it inherits from its base (render size, temperature)."""
        cfg, ckpt, meta = self.cfg, self.ckpt, self.saved_meta
        torch.manual_seed(cfg.seed)
        base_info = None
        try:
            if ckpt is not None:
                model = create(str(ckpt["arch"]), **json.loads(str(ckpt["arch_config"])))
            elif cfg.base:
                loaded = self.store.load(cfg.base)
                model, base_info = loaded.model, loaded.info
            else:
                model = create(str(cfg.arch), **cfg.arch_config)
                if cfg.init_from:
                    self._init_weights(model, cfg.init_from)
        except ModelFileError as exc:
            raise TrainError(f"cannot load the base model: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise TrainError(f"cannot build {cfg.arch or 'the model'}: {exc}") from None
        if cfg.hint_input and not model.accepts_hints:
            try:
                model = widen_for_hints(model)  # step 0 predicts exactly what the base does
            except ValueError as exc:
                raise TrainError(f"cannot add hint input: {exc}") from None
        if cfg.select_metric.startswith("hint_") and not model.accepts_hints:
            raise TrainError(f"--select {cfg.select_metric} needs a hint model (--hint-input)")
        self.model = model
        self.fine_tune = bool(cfg.base)
        if ckpt is not None:
            self.work_size = int(meta.get("work_size") or model.default_work_size)
            self.base_description = str(meta.get("base_description", ""))
        else:
            self.work_size = int(cfg.work_size or (base_info.work_size if base_info else model.default_work_size))
            self.base_description = base_info.description if base_info else ""
        # A fine-tune (hint models included: they start as their base) keeps its base's calibrated
        # annealed-mean temperature, so "Try it" differs from the base by what training changed and
        # not by a different vividness; the library default applies only to models without one.
        self.base_temperature = (meta.get("base_temperature") if ckpt is not None
                                 else base_info.temperature if base_info is not None else None)
        self.size = self._train_size(model)
        self.loss_name = check_loss_name(model.output_kind, cfg.loss)

    def _prepare_data(self) -> None:
        """Scan the photos, split them, and size the run: batch, steps per epoch, total steps."""
        cfg, ctx = self.cfg, self.ctx
        photos = self.photos = self._scan(self.size)
        train_items, val_items = validation_split(photos.items, cfg)
        self.train_items, self.val_items = train_items, val_items
        if len(train_items) < 2 * ctx.world_size:
            raise NotEnoughPhotos(len(photos.items), len(train_items), photos.skipped)
        batch = self.batch = min(cfg.batch_size, len(train_items) // ctx.world_size)
        if batch < cfg.batch_size:
            self.cb.on_status(f"only {len(train_items)} training photos: batch size reduced to {batch}")
        spe = self.spe = len(train_items) // (batch * ctx.world_size)
        self.total = int(cfg.steps) if cfg.steps else int(cfg.epochs or DEFAULT_EPOCHS) * spe
        self.epochs = math.ceil(self.total / spe)
        listing = "\n".join(it.path for it in train_items + val_items)
        self.fingerprint = hashlib.sha256(listing.encode()).hexdigest()[:16]
        if self.ckpt is not None and self.ckpt.get("data_fingerprint") != self.fingerprint:
            self.cb.on_status("warning: the photos changed since this run started; the resumed run will differ")

    def _build_loss(self) -> None:
        """The loss, with the class-rebalancing prior for ab-bin classification (estimated once per
        run from the training photos and kept in the checkpoint, so a resume uses the same)."""
        cfg, ckpt, model = self.cfg, self.ckpt, self.model
        counts = weights = None
        if model.output_kind == "bins313" and cfg.rebalance:
            if ckpt is not None and isinstance(ckpt.get("class_weights"), torch.Tensor):
                counts, weights = ckpt.get("prior_counts"), ckpt["class_weights"]
            else:
                counts = self._estimate_prior(model, self.train_items, self.size, self.photos.cache_side)
                weights = rebalance_weights(counts, model.ab_bins(), cfg.rebalance_lambda)
        self.prior_counts, self.class_weights = counts, weights
        self.criterion = Criterion(model, self.loss_name, weights, cfg.huber_delta, self.ctx.device)

    def _build_optimizer(self) -> None:
        """Trainable parameters on the device (DDP-wrapped when distributed), optimizer, schedule."""
        cfg, ctx, model = self.cfg, self.ctx, self.model
        device = ctx.device
        if cfg.freeze_encoder:
            for p in model.encoder_parameters():
                p.requires_grad_(False)
        self.frozen_norms = [
            m for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.weight is not None and not m.weight.requires_grad
        ]
        model.to(device)
        self.channels_last = device.type == "cpu"
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        if self.ckpt is not None:
            model.load_state_dict(self.ckpt["model"])
        self._set_train_mode()
        net: nn.Module = model
        if ctx.distributed:
            net = nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
        self.net = net
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.lr = float(cfg.lr or default_lr(cfg.optimizer, self.fine_tune))
        try:
            self.optimizer = make_optimizer(cfg.optimizer, self.params, self.lr, cfg.weight_decay, cfg.momentum)
        except ValueError as exc:
            raise TrainError(str(exc)) from None
        self.warmup = cfg.warmup_steps if cfg.warmup_steps is not None else min(100, self.total // 20)
        self.schedule = LRSchedule(cfg.schedule, self.lr, self.total, self.warmup)
        self.autocast_on = bool(cfg.bf16) and device.type in ("cpu", "cuda")

    def _restore(self) -> _Position:
        """Where training starts: step 0, or the checkpoint's position, optimizer, RNG and history.
        Writes run.json, so from here on the run is listed (and resumable once checkpointed)."""
        ckpt = self.ckpt
        pos = _Position()
        self.history: list[dict[str, Any]] = []
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.best_metrics: dict[str, float] = {}
        self.model_saved = False
        self.elapsed0 = 0.0
        if ckpt is not None:
            self.optimizer.load_state_dict(ckpt["optimizer"])
            torch.set_rng_state(ckpt["torch_rng"])
            device = self.ctx.device
            if device.type == "cuda" and isinstance(ckpt.get("cuda_rng"), torch.Tensor):
                torch.cuda.set_rng_state(ckpt["cuda_rng"], device)
            pos = _Position(step=int(ckpt["step"]), epoch=int(ckpt["epoch"]), batch=int(ckpt["batch"]),
                            loss_sum=float(ckpt["epoch_loss_sum"]), loss_n=int(ckpt["epoch_loss_n"]))
            self.history = json.loads(str(ckpt["history"]))
            self.best_value = None if ckpt.get("best_value") is None else float(ckpt["best_value"])
            self.best_epoch = None if ckpt.get("best_epoch") is None else int(ckpt["best_epoch"])
            self.best_metrics = json.loads(str(ckpt.get("best_metrics", "{}")))
            self.model_saved = bool(ckpt.get("model_saved", False)) and self.output_path.is_file()
            self.elapsed0 = float(ckpt.get("elapsed", 0.0))
        self.meta = {
            "config": self.cfg.to_dict(), "model_name": self.model_name, "output_path": str(self.output_path),
            "work_size": self.work_size, "base_description": self.base_description,
            **({"base_temperature": self.base_temperature} if self.base_temperature is not None else {}),
            "status": "running", "message": "", "data": self.photos.summary(),
            "train_images": len(self.train_items), "val_images": len(self.val_items),
        }
        self._write_meta(pos.step, pos.epoch)
        return pos

    def _make_datasets(self) -> None:
        cfg, photos = self.cfg, self.photos
        self.sample_weights = source_weights(self.train_items, float(cfg.source_balance))
        self.train_ds = PhotoDataset(
            self.train_items, self.size, train=True, seed=cfg.seed, cache_side=photos.cache_side,
            augment=Augment(crop=cfg.crop, scale=tuple(cfg.crop_scale), flip=cfg.flip,
                            lightness_jitter=cfg.lightness_jitter),
        )
        self.val_ds = PhotoDataset(self.val_items, self.size, train=False, cache_side=photos.cache_side)
        self.workers = _default_workers() if cfg.workers is None else max(0, int(cfg.workers))

    def _announce_start(self, pos: _Position) -> None:
        model, ctx = self.model, self.ctx
        n_params = sum(p.numel() for p in model.parameters())
        self.n_params, self.n_trainable = n_params, sum(p.numel() for p in self.params)
        self.cb.on_start(RunStart(
            run_name=self.run_name, run_dir=self.rdir, model_name=self.model_name, output_path=self.output_path,
            resumed=self.ckpt is not None, arch=model.arch, parameters=n_params,
            trainable_parameters=self.n_trainable, image_size=self.size, batch_size=self.batch,
            world_size=ctx.world_size, device=str(ctx.device), epochs=self.epochs, steps_per_epoch=self.spe,
            total_steps=self.total, start_step=pos.step, train_images=len(self.train_items),
            val_images=len(self.val_items), data=self.photos.summary(),
        ))

    def _train(self, pos: _Position) -> TrainResult:
        """Epoch 0 (the starting model, when asked), then every epoch; a cancel or divergence is
        saved where it happened. `pos` is what a checkpoint stores, so a resume starts from it."""
        cfg, ctx = self.cfg, self.ctx
        self._announce_start(pos)
        self.val_seconds = 0.0
        self.step_time: float | None = None
        self.active = 0.0  # seconds of work in this session
        validate_first = cfg.validate_first if cfg.validate_first is not None else self.fine_tune
        status = "completed"
        try:
            if self.ckpt is None and validate_first and self.val_items:
                self._validate_start()
            while pos.epoch < self.epochs:
                t_epoch = time.perf_counter()
                self._train_epoch(pos)
                self._finish_epoch(pos, t_epoch)
        except Cancelled:
            status = "cancelled"
            if ctx.is_main:
                self._save_checkpoint(pos, "cancel")
            ctx.barrier()
        except TrainingDiverged as exc:
            if ctx.is_main:
                self.meta.update(status="failed", message=str(exc))
                self._write_meta(pos.step, pos.epoch)
            raise
        return self._finish(status, pos)

    def _validate_start(self) -> None:
        """Epoch 0: the starting model on the validation photos, the line a fine-tune must beat."""
        t0 = time.perf_counter()
        val = self._validate()
        self.val_seconds = time.perf_counter() - t0
        self.active += self.val_seconds
        self.history.append(_clean_floats({"epoch": 0, "step": 0, "train_loss": None, "val_loss": val.loss,
                                           **val.metrics}))
        self.cb.on_epoch(EpochSummary(
            epoch=0, epochs=self.epochs, step=0, total_steps=self.total, train_loss=None, val_loss=val.loss,
            metrics=val.metrics, is_best=False, best_epoch=None, best_value=None, select_metric=self.cfg.select_metric,
            samples=val.samples, seconds=self.val_seconds, elapsed=self._elapsed(), eta_seconds=self._eta(0, 0),
            model_path=None, checkpoint_path=None, val_plain_loss=val.plain_loss,
        ))

    def _train_epoch(self, pos: _Position) -> None:
        """The epoch's remaining batches (all of them, unless resumed mid-epoch), one step each."""
        cfg, ctx = self.cfg, self.ctx
        batches = epoch_batches(len(self.train_items), self.batch, cfg.seed, pos.epoch, ctx.rank, ctx.world_size,
                                weights=self.sample_weights)
        n_batches = min(len(batches), self.total - pos.epoch * self.spe)
        if pos.batch >= n_batches:
            return
        loader = torch.utils.data.DataLoader(
            self.train_ds, batch_sampler=batches[pos.batch:n_batches], num_workers=self.workers,
            generator=torch.Generator(), pin_memory=ctx.device.type == "cuda",
            multiprocessing_context=cfg.mp_context if self.workers else None,
        )
        for rgb, gamma, _ in loader:
            self._check_cancel()
            t0 = time.perf_counter()
            lr_now = self.schedule.apply(self.optimizer, pos.step)
            loss_value, plain = self._train_step(rgb, gamma, pos.step, lr_now)
            pos.step += 1
            pos.batch += 1
            pos.loss_sum += loss_value
            pos.loss_n += 1
            dt = time.perf_counter() - t0
            self.active += dt
            self.step_time = dt if self.step_time is None else 0.9 * self.step_time + 0.1 * dt
            self.cb.on_step(StepProgress(
                step=pos.step, total_steps=self.total, epoch=pos.epoch + 1, epochs=self.epochs, batch=pos.batch,
                batches=n_batches, loss=loss_value, lr=lr_now,
                images_per_second=self.batch * ctx.world_size / max(dt, 1e-9), elapsed=self._elapsed(),
                eta_seconds=self._eta(pos.step, pos.epoch), plain_loss=plain,
            ))

    def _finish_epoch(self, pos: _Position, t_epoch: float) -> None:
        """Validate, keep the model if it is the best so far, checkpoint, and report the epoch."""
        cfg, ctx = self.cfg, self.ctx
        self._check_cancel()
        t_val = time.perf_counter()
        train_loss = pos.loss_sum / max(1, pos.loss_n)
        val = self._validate() if self.val_items else _Validation(None, None, {}, [])
        self.val_seconds = time.perf_counter() - t_val
        self.active += self.val_seconds
        if val.loss is not None and not math.isfinite(val.loss):
            raise TrainingDiverged(
                f"the validation loss became {val.loss} after epoch {pos.epoch + 1}; stopped without saving "
                f"a broken model. Try a lower learning rate (it was {self.lr:.3g})."
            )
        self.history.append(_clean_floats({"epoch": pos.epoch + 1, "step": pos.step, "train_loss": train_loss,
                                           "val_loss": val.loss, **val.metrics}))
        value = self._select_value(train_loss, val.loss, val.metrics)
        is_best = self._is_better(value)
        pos.next_epoch()
        if is_best:
            self.best_value, self.best_epoch = value, pos.epoch
            self.best_metrics = _clean_floats({"val_loss": val.loss, "train_loss": train_loss, **val.metrics})
            if ctx.is_main:
                self._save_model(pos.step, pos.epoch)
            self.model_saved = True
        if ctx.is_main:
            self._save_checkpoint(pos, "epoch")
        ctx.barrier()
        self.cb.on_epoch(EpochSummary(
            epoch=pos.epoch, epochs=self.epochs, step=pos.step, total_steps=self.total, train_loss=train_loss,
            val_loss=val.loss, metrics=val.metrics, is_best=is_best, best_epoch=self.best_epoch,
            best_value=self.best_value, select_metric=cfg.select_metric, samples=val.samples,
            seconds=time.perf_counter() - t_epoch, elapsed=self._elapsed(), eta_seconds=self._eta(pos.step, pos.epoch),
            model_path=self.output_path if self.model_saved else None, checkpoint_path=self.ckpt_path,
            val_plain_loss=val.plain_loss,
        ))

    def _finish(self, status: str, pos: _Position) -> TrainResult:
        """The run's end (completed or cancelled): final model metadata, run.json, the result."""
        ctx = self.ctx
        if ctx.is_main:
            if self.model_saved and status == "completed":
                self._finalize_model(pos.step, pos.epoch)
            self.meta["status"] = status
            self._write_meta(pos.step, pos.epoch)
        result = TrainResult(
            status=status, model_name=self.model_name, model_path=self.output_path if self.model_saved else None,
            card_path=self.card_path if self.model_saved else None, run_name=self.run_name, run_dir=self.rdir,
            checkpoint_path=self.ckpt_path if self.ckpt_path.exists() else None, epochs_completed=pos.epoch,
            steps_completed=pos.step, total_steps=self.total, best_epoch=self.best_epoch, best_value=self.best_value,
            select_metric=self.cfg.select_metric, metrics=dict(self.best_metrics), history=list(self.history),
            seconds=self._elapsed(), is_main=ctx.is_main,
        )
        self.cb.on_finish(result)
        return result

    # ---------------------------------------------------------------- pieces

    def _init_weights(self, model: ColorModel, source: str) -> None:
        try:
            warm_start(model, source, self.store)
        except ValueError as exc:
            raise TrainError(str(exc)) from None

    def _cancelled_before_start(self) -> TrainResult:
        """Cancelled while scanning photos: nothing was trained, nothing is written."""
        result = TrainResult(
            status="cancelled", model_name=self.model_name, model_path=None, card_path=None, run_name=self.run_name,
            run_dir=self.rdir, checkpoint_path=None, epochs_completed=0, steps_completed=0, total_steps=0,
            best_epoch=None, best_value=None, select_metric=self.cfg.select_metric, metrics={}, history=[],
            seconds=time.perf_counter() - self.t_start, is_main=self.ctx.is_main,
        )
        self.cb.on_finish(result)
        return result

    def _set_train_mode(self) -> None:
        self.model.train()
        for m in self.frozen_norms:
            m.eval()  # frozen encoder: keep its BatchNorm statistics too

    def _check_cancel(self) -> None:
        if self.ctx.distributed:
            if self.ctx.any(self.token.cancelled):
                raise Cancelled()
        else:
            self.token.checkpoint()  # blocks while paused; step timing starts after it

    def _inputs(self, rgb: torch.Tensor, gamma: torch.Tensor | None,
                damage_generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        dev = self.ctx.device
        damage_config = Damage(p=float(self.cfg.damage)) if damage_generator is not None else None
        inp, lum, chroma = prepare_batch(rgb.to(dev, non_blocking=True), None if gamma is None else gamma.to(dev),
                                         self.model.space, damage_generator, damage_config)
        if self.channels_last:
            inp = inp.contiguous(memory_format=torch.channels_last)
        return inp, lum, chroma

    def _hint_generator(self, *key: int) -> torch.Generator:
        """A CPU generator seeded by (run seed, rank, *key): the simulated hints of a training step
        (key = step) or a validation batch are the same on every run and after a resume."""
        seed = int(self.cfg.seed)
        for part in (self.ctx.rank, *key):
            seed = (seed * 1_000_003 + int(part)) % (1 << 62)
        return torch.Generator().manual_seed(seed)

    def _add_hints(self, inp: torch.Tensor, chroma: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Hint models: append simulated hint maps (or zero maps when `generator` is None)."""
        if not self.model.accepts_hints:
            return inp
        if generator is None:
            maps = no_hint_maps(inp.shape[0], *inp.shape[-2:], like=inp)
        else:
            maps = simulate_hint_maps(chroma, generator)
        out = with_hint_maps(inp, maps)
        return out.contiguous(memory_format=torch.channels_last) if self.channels_last else out

    def _train_step(self, rgb: torch.Tensor, gamma: torch.Tensor, step: int, lr: float) -> tuple[float, float]:
        """One optimizer step; returns (the loss, the loss without class rebalancing)."""
        damage_generator = self._hint_generator(2, step) if self.cfg.damage > 0 else None
        inp, _, chroma = self._inputs(rgb, gamma, damage_generator)
        inp = self._add_hints(inp, chroma, self._hint_generator(0, step))
        with torch.autocast(self.ctx.device.type, dtype=torch.bfloat16, enabled=self.autocast_on):
            raw = self.net(inp)
        loss, plain = self.criterion.with_plain(raw.float(), chroma)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        value, plain_value = float(loss.detach()), float(plain)
        if self.ctx.distributed:
            reduced = self.ctx.all_reduce_sum(torch.tensor([v if math.isfinite(v) else float("nan")
                                                            for v in (value, plain_value)]))
            value, plain_value = (float(v) / self.ctx.world_size for v in reduced)
        clip_and_check(self.params, self.cfg.grad_clip, value, step + 1, lr)
        self.optimizer.step()
        return value, plain_value

    def _render(self, raw: torch.Tensor, lum: torch.Tensor) -> np.ndarray:
        """Head output -> 8-bit RGB (B, H, W, 3) with the crop's own lightness."""
        chroma, _ = self.model.decode(raw.float(), self.cfg.temperature)
        chroma = F.interpolate(chroma, size=lum.shape[-2:], mode="bilinear", align_corners=False)
        rgb = self.model.space.merge(lum.float(), chroma)
        return (rgb.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()

    @torch.no_grad()
    def _validate(self) -> _Validation:
        ctx, ds = self.ctx, self.val_ds
        self.model.eval()
        try:
            shard = list(range(ctx.rank, len(ds), ctx.world_size))
            acc = MetricAccumulator(with_ssim=False)
            loss_sum = plain_sum = 0.0
            # Hint models are validated twice: with no hints (comparable with the base model; these
            # are the numbers that pick the best epoch) and with a fixed seeded set of simulated hints
            # (key: the batch's position), reported as hint_* metrics. Both are deterministic.
            hinted = self.model.accepts_hints
            hint_acc = MetricAccumulator(with_ssim=False, with_gray=False) if hinted else None
            hint_loss_sum = 0.0
            for start in range(0, len(shard), self.batch):
                if not ctx.distributed:
                    self.token.checkpoint()
                idx = shard[start : start + self.batch]
                rgb = torch.stack([ds[i][0] for i in idx])
                inp, lum, chroma = self._inputs(rgb, None)
                with torch.autocast(ctx.device.type, dtype=torch.bfloat16, enabled=self.autocast_on):
                    raw = self.model(self._add_hints(inp, chroma, None))
                raw = raw.float()
                loss, plain = self.criterion.with_plain(raw, chroma)
                loss_sum += float(loss) * len(idx)
                plain_sum += float(plain) * len(idx)
                preds = self._render(raw, lum)
                truths = rgb.permute(0, 2, 3, 1).numpy()
                for p, t in zip(preds, truths):
                    acc.add(p, t)
                if hint_acc is not None:
                    with torch.autocast(ctx.device.type, dtype=torch.bfloat16, enabled=self.autocast_on):
                        raw_h = self.model(self._add_hints(inp, chroma, self._hint_generator(1, start))).float()
                    hint_loss_sum += float(self.criterion(raw_h, chroma)) * len(idx)
                    for p, t in zip(self._render(raw_h, lum), truths):
                        hint_acc.add(p, t)
            state = ctx.all_reduce_sum(torch.cat((torch.tensor([loss_sum, float(len(shard)), plain_sum],
                                                               dtype=torch.float64),
                                                  acc.state_tensor())))
            acc.load_state_tensor(state[3:])
            n = max(1.0, float(state[1]))
            val_loss, plain_loss = float(state[0] / n), float(state[2] / n)
            summary = acc.summary()
            metrics = {k: float(summary[k]) for k in ("psnr", "auc", "auc_rebalanced", "ab_mse", "colorfulness",
                                                      "colorfulness_truth", "colorfulness_ratio", "gray_psnr",
                                                      "gray_auc", "gray_auc_rebalanced", "gray_ab_mse")}
            metrics["images"] = int(summary["images"])
            if hint_acc is not None:
                hstate = ctx.all_reduce_sum(torch.cat((torch.tensor([hint_loss_sum], dtype=torch.float64),
                                                       hint_acc.state_tensor())))
                hint_acc.load_state_tensor(hstate[1:])
                hs = hint_acc.summary()
                metrics["hint_val_loss"] = float(hstate[0] / max(1.0, float(state[1])))
                metrics.update({f"hint_{k}": float(hs[k]) for k in ("psnr", "auc", "auc_rebalanced", "ab_mse")})
            samples: list[SampleTriplet] = []
            if ctx.is_main and self.cfg.preview_count > 0:
                idx = list(range(min(self.cfg.preview_count, len(ds))))
                rgb = torch.stack([ds[i][0] for i in idx])
                inp, lum, chroma = self._inputs(rgb, None)
                with torch.autocast(ctx.device.type, dtype=torch.bfloat16, enabled=self.autocast_on):
                    raw = self.model(self._add_hints(inp, chroma, None))
                preds = self._render(raw, lum)
                for j, i in enumerate(idx):
                    truth = rgb[j].permute(1, 2, 0).numpy().copy()
                    samples.append(SampleTriplet(ds.items[i].rel, gray_baseline(truth), preds[j], truth))
            return _Validation(val_loss, plain_loss, metrics, samples)
        finally:
            self._set_train_mode()

    def _select_value(self, train_loss: float, val_loss: float | None, metrics: dict[str, float]) -> float:
        key = self.cfg.select_metric
        if val_loss is None:
            return train_loss  # no validation set: the training loss is all there is
        return val_loss if key == "val_loss" else float(metrics.get(key, float("nan")))

    def _is_better(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.best_value is None:
            return True
        mode = "min" if self.val_items == [] or SELECT_METRICS[self.cfg.select_metric] == "min" else "max"
        return value < self.best_value if mode == "min" else value > self.best_value

    def _elapsed(self) -> float:
        return self.elapsed0 + self.active

    def _eta(self, step: int, epoch_done: int) -> float:
        remaining_steps = max(0, self.total - step)
        remaining_vals = max(0, self.epochs - epoch_done) if self.val_items else 0
        per_step = self.step_time or 0.0
        return remaining_steps * per_step + remaining_vals * self.val_seconds

    # ---------------------------------------------------------------- files

    def _write_meta(self, step: int, epoch: int) -> None:
        if not self.ctx.is_main:
            return
        self.meta["progress"] = {"step": step, "epoch": epoch, "total_steps": self.total, "epochs": self.epochs}
        self.meta["updated"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_json(self.rdir / RUN_FILE, self.meta)

    def _save_checkpoint(self, pos: _Position, reason: str) -> None:
        model = self.model
        state: dict[str, Any] = {
            "arch": model.arch,
            "arch_config": json.dumps(model.config, sort_keys=True),
            "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "step": pos.step, "epoch": pos.epoch, "batch": pos.batch,
            "epoch_loss_sum": float(pos.loss_sum), "epoch_loss_n": int(pos.loss_n),
            "torch_rng": torch.get_rng_state(),
            "class_weights": self.class_weights, "prior_counts": self.prior_counts,
            "best_value": self.best_value, "best_epoch": self.best_epoch,
            "best_metrics": json.dumps(self.best_metrics), "model_saved": self.model_saved,
            "history": json.dumps(self.history), "elapsed": self._elapsed(),
            "data_fingerprint": self.fingerprint, "config": json.dumps(self.cfg.to_dict()),
        }
        if self.ctx.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.ctx.device)
        save_checkpoint(self.ckpt_path, state)
        self.meta["status"] = "running" if reason == "epoch" else "cancelled"
        self._write_meta(pos.step, pos.epoch)
        self.cb.on_checkpoint(self.ckpt_path, reason)

    def _training_summary(self, step: int, epoch: int) -> dict[str, Any]:
        cfg, photos = self.cfg, self.photos
        return {
            "base": cfg.base,
            "from_scratch": not self.fine_tune and not cfg.init_from,
            # A warm start's source, by file name only: the card must not print machine paths.
            **({"init_from": Path(cfg.init_from).name} if cfg.init_from else {}),
            "parameters": self.n_params,
            "trainable_parameters": self.n_trainable,
            "data": {
                "folders": [str(Path(f).resolve()) for f in cfg.data], "usable": len(photos.items),
                "train": len(self.train_items), "val": len(self.val_items), "skipped": dict(photos.skipped),
                "split": "subfolder" if cfg.val_by_folder else "file",
            },
            "settings": {
                "epochs": self.epochs, "steps": self.total, "batch_size": self.batch, "world_size": self.ctx.world_size,
                "image_size": self.size, "optimizer": cfg.optimizer, "lr": self.lr, "weight_decay": cfg.weight_decay,
                "schedule": cfg.schedule, "warmup_steps": self.warmup, "grad_clip": cfg.grad_clip,
                "loss": self.criterion.name + (" (class-rebalanced)" if self.class_weights is not None else ""),
                "rebalance_lambda": cfg.rebalance_lambda if self.class_weights is not None else None,
                "freeze_encoder": cfg.freeze_encoder, **({"hint_input": True} if cfg.hint_input else {}),
                "crop": cfg.crop, "lightness_jitter": cfg.lightness_jitter,
                "damage": cfg.damage, "source_balance": cfg.source_balance,
                "bf16": cfg.bf16, "device": str(self.ctx.device), "seed": cfg.seed,
            },
            "best": {"epoch": self.best_epoch, "metric": cfg.select_metric if self.val_items else "train_loss",
                     "value": self.best_value},
            "epochs_completed": epoch,
            "steps_completed": step,
            "seconds": round(self._elapsed(), 1),
            "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
            "history": self.history,
        }

    def _info(self, step: int, epoch: int, model: ColorModel | None = None):
        model = model or self.model
        description = self.cfg.description or (
            f"{self.model.arch} fine-tuned on {len(self.train_items)} photos" if self.fine_tune
            else f"{self.model.arch} trained on {len(self.train_items)} photos"
        )
        extra = {"temperature": float(self.base_temperature)} if self.base_temperature is not None else {}
        return info_for(model, self.model_name, self.work_size, description=description,
                        training=self._training_summary(step, epoch), metrics=dict(self.best_metrics), **extra)

    def _save_model(self, step: int, epoch: int) -> None:
        info = self._info(step, epoch)
        save_model(self.model, self.output_path, info)
        self._write_card(step, epoch, info)

    def _finalize_model(self, step: int, epoch: int) -> None:
        """Rewrite the best model's metadata and card with the whole run (total time, full history)."""
        loaded = load_model(self.output_path)
        info = self._info(step, epoch, loaded.model)
        save_model(loaded.model, self.output_path, info)
        self._write_card(step, epoch, info)

    def _write_card(self, step: int, epoch: int, info: Any) -> None:
        text = cardmod.render_card(info.name, info.arch, info.config, info.training, info.metrics, info.description)
        cardmod.write_card(self.card_path, text)


def list_runs():
    """Training runs on disk (most recent first), for a 'resume' list: see checkpoint.RunRecord."""
    from .checkpoint import list_runs as _list

    return _list()
