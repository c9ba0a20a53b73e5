"""What defines a training run, and the error types of training: torch-free.

`TrainConfig` is what the window builds from its setup panel and what `run.json` stores; the
window imports it (and the errors) without paying for torch, which `ml_core.training.trainer` needs. The
callbacks and the events they carry are in `train_events`, also torch-free.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..evaluation.metric_table import SELECT_METRICS  # what can pick the best epoch: "min" lower wins, "max" higher
from ..limits import DEFAULT_TEMPERATURE

# Reasons a file is left out of training, in the order they are reported. Here, torch-free, so the
# model card writer and the window's scan summary can name them without loading the data module.
REASONS = ("not_image", "corrupt", "too_small", "grayscale", "low_chroma")
REASON_LABELS = {
    "not_image": "not an image file",
    "corrupt": "corrupt or unreadable",
    "too_small": "too small",
    "grayscale": "grayscale",
    "low_chroma": "nearly gray or tinted monochrome",
}

DEFAULT_EPOCHS = 5

__all__ = ["DEFAULT_EPOCHS", "REASONS", "REASON_LABELS", "NotEnoughPhotos", "SELECT_METRICS", "TrainConfig",
           "TrainError"]


class TrainError(RuntimeError):
    """Training cannot start or continue (bad settings, no usable photos, missing run...)."""


class NotEnoughPhotos(TrainError):
    """Too few usable photos to train on (each process needs at least two for a batch).

    Its own type because a window answers it differently from a bad setting: by pointing at the
    photos (add more, see what was skipped), not at the options.
    """

    def __init__(self, usable: int, train: int, skipped: dict[str, int]) -> None:
        self.usable, self.train, self.skipped = usable, train, dict(skipped)
        reasons = ", ".join(f"{n} {r}" for r, n in skipped.items() if n) or "none"
        super().__init__(f"not enough usable photos: {usable} found ({train} for training), skipped: {reasons}")


# --------------------------------------------------------------------------- configuration


@dataclass
class TrainConfig:
    """Everything that defines a training run. JSON-serializable (saved as run.json)."""

    data: list[str] = field(default_factory=list)  # folders (searched recursively) and/or files
    # What to train: a model file to fine-tune (store name or path), or an architecture from scratch.
    base: str | None = None
    arch: str | None = None
    arch_config: dict[str, Any] = field(default_factory=dict)
    # Budget: `steps` wins over `epochs`; neither: DEFAULT_EPOCHS epochs.
    epochs: int | None = None
    steps: int | None = None
    batch_size: int = 16  # per process
    lr: float | None = None  # None: per optimizer, lower when fine-tuning (losses.default_lr)
    optimizer: str = "adam"  # adam | adamw | adamax | sgd
    weight_decay: float | None = None  # None: per optimizer (sgd 4e-5, adamw 1e-2, else 0)
    momentum: float = 0.9  # SGD
    schedule: str = "cosine"  # cosine | step | constant
    warmup_steps: int | None = None  # None: 5 % of the steps, at most 100
    grad_clip: float | None = 5.0  # max gradient norm; None/0 disables
    loss: str | None = None  # ab: mse | huber; bins: ce (None: mse / ce)
    huber_delta: float = 0.1
    rebalance: bool = True  # bins313: Zhang et al.'s class rebalancing
    rebalance_lambda: float = 0.5
    prior_images: int = 256  # training crops used to estimate the ab prior
    size: int = 128  # training crop side (rounded to the model's multiple; fixed-input models use theirs)
    val_fraction: float = 0.1
    val_by_folder: bool = False  # split by first-level subfolder (near-duplicates stay on one side)
    max_val_images: int | None = 500
    freeze_encoder: bool = False
    # Train a hint-conditioned model (Zhang et al. 2017): a base without hint input is widened
    # (ml_core.guidance.hint_maps.widen_for_hints), and every batch gets simulated hints from its true colors.
    hint_input: bool = False
    seed: int = 0
    # Augmentation
    crop: str = "resized"  # resized | short_side (keeps the aspect ratio)
    crop_scale: tuple[float, float] = (0.35, 1.0)
    flip: bool = True
    lightness_jitter: float = 0.0  # e.g. 0.15: input gamma in [e^-0.15, e^0.15]
    damage: float = 0.0  # share of training inputs given old-print damage (ml_core.training.degrade); 0 = off
    source_balance: float = 0.0  # 0: draw photos by file; 1: every source folder equally (data.source_weights)
    init_from: str | None = None  # --arch runs: start from this model file's weights (same shapes)
    min_side: int | None = None  # photos with a shorter short side are skipped (None: size / 2)
    # Output
    name: str = "my-model"  # model name in the user's store (made unique unless overwrite)
    output: str | None = None  # explicit model file path instead of the store
    run_name: str | None = None  # run folder name (default: the model name)
    overwrite: bool = False
    description: str = ""
    work_size: int | None = None  # render size stored in the model (None: base model's / architecture's)
    select_metric: str = "val_loss"  # val_loss | psnr | auc | auc_rebalanced | ab_mse
    validate_first: bool | None = None  # validate the starting model (epoch 0); None: when fine-tuning
    preview_count: int = 4
    temperature: float = DEFAULT_TEMPERATURE  # decoding of classification heads for previews/metrics
    # Runtime (not part of what is trained; may differ when resuming)
    resume: bool = False
    workers: int | None = None  # DataLoader workers (None: automatic)
    mp_context: str | None = None  # e.g. "spawn" when the host process has threads (GUI)
    device: str = "auto"  # auto | cpu | cuda | mps
    bf16: bool = False  # bf16 autocast (fast on CPUs with AMX/AVX512-BF16 and on recent GPUs)
    threads: int | None = None  # torch intra-op threads

    RUNTIME_FIELDS = ("resume", "workers", "mp_context", "device", "threads", "preview_count")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["crop_scale"] = list(self.crop_scale)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        if "crop_scale" in kwargs:
            kwargs["crop_scale"] = tuple(kwargs["crop_scale"])
        return cls(**kwargs)

    def check(self) -> None:
        """Raise TrainError for settings that cannot work, with the reason.

        The architecture and optimizer lists live beside torch code; they are imported here, when a
        run is about to start, so that importing this module stays cheap for the window.
        """
        from ..models import available
        from .losses import OPTIMIZERS, SCHEDULES

        problems = []
        if not self.resume:
            if not self.data:
                problems.append("no data folders given")
            if bool(self.base) == bool(self.arch):
                problems.append("give either a base model to fine-tune or an architecture to train from scratch")
            if self.arch and self.arch not in available():
                problems.append(f"unknown architecture {self.arch!r} (available: {', '.join(available())})")
        if self.epochs is not None and self.epochs < 1:
            problems.append("epochs must be at least 1")
        if self.steps is not None and self.steps < 1:
            problems.append("steps must be at least 1")
        if self.batch_size < 2:
            problems.append("batch size must be at least 2 (BatchNorm needs 2 samples)")
        if self.lr is not None and not self.lr > 0:
            problems.append("learning rate must be positive")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}")
        if not 0.0 <= self.val_fraction < 1.0:
            problems.append("validation fraction must be in [0, 1)")
        if self.size < 16:
            problems.append("image size must be at least 16")
        if self.select_metric not in SELECT_METRICS:
            problems.append(f"select metric must be one of {', '.join(SELECT_METRICS)}")
        if self.crop not in ("resized", "short_side"):
            problems.append("crop must be 'resized' or 'short_side'")
        if not (isinstance(self.damage, (int, float)) and 0.0 <= self.damage <= 1.0):
            problems.append("damage must be a share in [0, 1]")
        if not (isinstance(self.source_balance, (int, float)) and 0.0 <= self.source_balance <= 1.0):
            problems.append("source balance must be in [0, 1]")
        if self.init_from and not self.arch and not self.resume:
            problems.append("init-from starts an --arch run from another model's weights; "
                            "with --base, fine-tune instead")
        if problems:
            raise TrainError("; ".join(problems))
