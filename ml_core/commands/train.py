"""`chroma train DIR... --base MODEL | --arch NAME ...`: fine-tune or train a model on your photos.

Shows a live progress bar and a per-epoch table. Ctrl-C stops after the current step, writes a
checkpoint and exits; `--resume --out NAME` continues it. Under `torchrun --nproc_per_node N`
the same command trains with DistributedDataParallel (only rank 0 prints and writes).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from typing import Any

from tqdm import tqdm


def _kv(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune a model (or train one from scratch) on your color photos",
                       description="Train on color photos in DIR... (searched recursively). Ctrl-C saves a "
                                   "checkpoint; --resume continues it.")
    p.add_argument("inputs", nargs="*", metavar="DIR", help="folders (or files) of color photos")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--base", metavar="MODEL", help="model name or .safetensors file to fine-tune")
    what.add_argument("--arch", metavar="NAME",
                      help="architecture to train from scratch (see `chroma models architectures`)")
    p.add_argument("--set", dest="arch_config", action="append", type=_kv, default=[], metavar="KEY=VALUE",
                   help="architecture option for --arch, e.g. --set width=16 --set head=ab (repeatable)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, help="passes over the training photos (default 5)")
    budget.add_argument("--steps", type=int, help="optimizer steps instead of epochs")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: per optimizer, lower for fine-tuning)")
    p.add_argument("--optimizer", choices=("adam", "adamw", "adamax", "sgd"), default="adam")
    p.add_argument("--weight-decay", type=float, default=None)
    p.add_argument("--schedule", choices=("cosine", "step", "constant"), default="cosine")
    p.add_argument("--warmup", type=int, default=None, metavar="STEPS")
    p.add_argument("--grad-clip", type=float, default=5.0, help="max gradient norm (0 disables)")
    p.add_argument("--loss", choices=("mse", "huber", "ce"), default=None,
                   help="default: mse for ab heads, ce for bins")
    p.add_argument("--no-rebalance", action="store_true", help="bins313: plain cross-entropy without class rebalancing")
    p.add_argument("--size", type=int, default=128, help="training crop side in pixels")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--val-by-folder", action="store_true", help="split by subfolder so similar shots stay on one side")
    p.add_argument("--max-val", type=int, default=500, help="at most this many validation photos")
    p.add_argument("--freeze-encoder", action="store_true", help="train only the decoder/head")
    p.add_argument("--hint-input", action="store_true",
                   help="train a hint-conditioned model (Zhang et al. 2017): L plus a sparse map of color hints "
                        "simulated from each photo; a --base without hint input is widened so it starts out "
                        "predicting exactly what the base does")
    p.add_argument("--crop", choices=("resized", "short_side"), default="resized")
    p.add_argument("--lightness-jitter", type=float, default=0.0)
    p.add_argument("--no-flip", action="store_true")
    p.add_argument("--damage", type=float, default=0.0, metavar="SHARE",
                   help="share of training inputs given old-print damage (fading, grain, blur, scratches, dust, "
                        "JPEG, vignetting) so the model learns to look through it; the target colors stay clean")
    p.add_argument("--source-balance", type=float, default=0.0, metavar="B",
                   help="0 draws photos by file; 1 gives every source folder the same share; 0.5 a share "
                        "proportional to the square root of its size")
    p.add_argument("--init-from", metavar="MODEL", default=None,
                   help="with --arch: start from this model's weights (same shapes), e.g. to switch on "
                        "--set input_levels=true for a trained model")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--select", choices=("val_loss", "psnr", "auc", "auc_rebalanced", "ab_mse", "hint_val_loss",
                                        "hint_psnr", "hint_auc_rebalanced"), default="val_loss",
                   help="validation metric that picks the best epoch (hint_*: hint models, validated with a "
                        "fixed set of simulated hints)")
    p.add_argument("--out", metavar="NAME", default=None, help="model name in your store (also the run name)")
    p.add_argument("--output", metavar="PATH", default=None, help="write the model file here instead of the store")
    p.add_argument("--description", default="")
    p.add_argument("--overwrite", action="store_true", help="replace a model/run of the same name")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run named by --out")
    p.add_argument("--workers", type=int, default=None, help="data loader processes (default: automatic)")
    p.add_argument("--device", default="auto", help="auto (CUDA, then Apple MPS, then CPU), cpu, cuda, mps")
    p.add_argument("--bf16", action="store_true",
                   help="bf16 autocast: 2-3x faster on CPUs with AMX, slightly less exact")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


class _Console:
    """TrainCallbacks for a terminal: progress bar plus an epoch table."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: tqdm | None = None

    def _print(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def on_status(self, message: str) -> None:
        self._print(message)

    def on_scan(self, done: int, total: int) -> None:
        if done == total and total:
            self._print(f"checked {total} photos")

    def on_start(self, info: Any) -> None:
        skipped = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in info.data["skipped"].items() if n) or "none"
        self._print(
            f"{'resuming' if info.resumed else 'training'} {info.model_name} ({info.arch}, "
            f"{info.trainable_parameters:,}/{info.parameters:,} parameters trained) on {info.device}"
            + (f" x{info.world_size}" if info.world_size > 1 else "")
        )
        self._print(f"photos: {info.train_images} training, {info.val_images} validation; skipped: {skipped}")
        self._print(f"{info.total_steps} steps ({info.steps_per_epoch} per epoch, {info.epochs} "
                    f"epoch{'s' if info.epochs != 1 else ''}), batch {info.batch_size}, "
                    f"{info.image_size}x{info.image_size}; run folder {info.run_dir}")
        self._print(f"{'epoch':>5} {'train loss':>11} {'val loss':>10} {'PSNR':>7} {'gray':>7} {'AuC':>7} "
                    f"{'AuC rb':>7} {'color':>6} {'time':>7}")
        self.bar = tqdm(total=info.total_steps, initial=info.start_step, unit="step", disable=self.quiet,
                        file=sys.stderr, dynamic_ncols=True)

    def on_step(self, p: Any) -> None:
        if self.bar is not None:
            self.bar.update(p.step - self.bar.n)
            self.bar.set_postfix_str(f"epoch {p.epoch}/{p.epochs} loss {p.loss:.4f} lr {p.lr:.2e} "
                                     f"{p.images_per_second:.1f} img/s", refresh=False)

    def on_epoch(self, e: Any) -> None:
        m = e.metrics

        def f(v: Any, pat: str) -> str:
            return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else pat.format(v)

        best = " *" if e.is_best else ""
        self._print(
            f"{e.epoch:>5} {f(e.train_loss, '{:.4f}'):>11} {f(e.val_loss, '{:.4f}'):>10} "
            f"{f(m.get('psnr'), '{:.2f}'):>7} {f(m.get('gray_psnr'), '{:.2f}'):>7} {f(m.get('auc'), '{:.4f}'):>7} "
            f"{f(m.get('auc_rebalanced'), '{:.4f}'):>7} "
            f"{f(m.get('colorfulness_ratio'), '{:.2f}'):>6} {e.seconds:>6.0f}s{best}"
        )
        if "hint_psnr" in m:  # hint models: the same photos with a fixed set of simulated hints
            self._print(f"{'':>5} {'with hints':>11} {f(m.get('hint_val_loss'), '{:.4f}'):>10} "
                        f"{f(m.get('hint_psnr'), '{:.2f}'):>7} {'':>7} {f(m.get('hint_auc'), '{:.4f}'):>7} "
                        f"{f(m.get('hint_auc_rebalanced'), '{:.4f}'):>7}")

    def on_checkpoint(self, path: Any, reason: str) -> None:
        if reason == "cancel":
            self._print(f"checkpoint saved: {path}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _config_from_args(args: argparse.Namespace):
    from ..training.config import TrainConfig

    return TrainConfig(
        data=list(args.inputs), base=args.base, arch=args.arch, arch_config=dict(args.arch_config),
        epochs=args.epochs, steps=args.steps, batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
        weight_decay=args.weight_decay, schedule=args.schedule, warmup_steps=args.warmup,
        grad_clip=args.grad_clip or None, loss=args.loss, rebalance=not args.no_rebalance, size=args.size,
        val_fraction=args.val_fraction, val_by_folder=args.val_by_folder, max_val_images=args.max_val,
        freeze_encoder=args.freeze_encoder, hint_input=args.hint_input, crop=args.crop,
        lightness_jitter=args.lightness_jitter,
        damage=args.damage, source_balance=args.source_balance, init_from=args.init_from,
        flip=not args.no_flip, seed=args.seed, select_metric=args.select, name=args.out or _default_name(args),
        output=args.output, run_name=None, overwrite=args.overwrite, description=args.description,
        resume=False, workers=args.workers, device=args.device, bf16=args.bf16, threads=args.threads,
    )


def _default_name(args: argparse.Namespace) -> str:
    from pathlib import Path

    if args.base:
        return f"{Path(args.base).stem}-{'hints' if args.hint_input else 'tuned'}"
    return f"{args.arch or 'model'}-trained"


def run(args: argparse.Namespace) -> int:
    from ..cancel import CancelToken
    from ..training.checkpoint import CheckpointError
    from ..training.losses import TrainingDiverged
    from ..training.trainer import Trainer, TrainError

    token = CancelToken()
    console = _Console(args.quiet)
    try:
        if args.resume:
            if not args.out:
                print("error: --resume needs --out NAME (the run to continue)", file=sys.stderr)
                return 2
            runtime = {"workers": args.workers, "device": args.device, "threads": args.threads}
            trainer = Trainer.for_run(args.out, console, token, **runtime)
        else:
            if not args.inputs:
                print("error: give at least one folder of color photos", file=sys.stderr)
                return 2
            if not (args.base or args.arch):
                print("error: give --base MODEL to fine-tune or --arch NAME to train from scratch", file=sys.stderr)
                return 2
            trainer = Trainer(_config_from_args(args), console, token)
    except (CheckpointError, TrainError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    interrupts = 0

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts > 1:
            raise KeyboardInterrupt
        console._print("stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)")
        token.cancel()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = trainer.run()
    except TrainingDiverged as exc:
        console.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except TrainError as exc:
        console.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        console.close()
    if not result.is_main:
        return 0 if result.status == "completed" else 130
    if result.status == "cancelled":
        print(f"cancelled at step {result.steps_completed}/{result.total_steps}; resume with: "
              f"chroma train --resume --out {result.run_name}", file=sys.stderr)
        if result.model_path:
            print(f"best model so far: {result.model_path}", file=sys.stderr)
        return 130
    if result.model_path:
        value = "-" if result.best_value is None else f"{result.best_value:.4f}"
        print(f"saved {result.model_name}: {result.model_path} (best epoch {result.best_epoch}, "
              f"{result.select_metric} {value}); card: {result.card_path}")
    else:
        print("finished, but no epoch produced a usable model", file=sys.stderr)
        return 1
    return 0
