""""About N minutes" -> a number of optimizer steps, from speeds measured on this computer.

ml_core's trainer takes epochs or steps (its learning-rate schedule needs the total up front), so
the window turns a time budget into steps before starting: a short speed test (a few real steps
and one small validation through the same Trainer, see jobs.measure_speed) gives the seconds per
step and per validation photo, and `plan_steps` fits whole epochs, then a last partial epoch, into
the time left. It is an estimate: other programs using the CPU make the real run slower or faster.
Pure arithmetic here, so it is tested without Qt or torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SpeedSample:
    """What the speed test measured."""

    seconds_per_step: float  # one optimizer step at the real batch size and image size
    validation_seconds_per_photo: float  # forward pass plus metrics, per validation photo
    setup_seconds: float  # loading the model, checking photos, color prior: repeated by the real run
    probe_seconds: float  # how long the whole speed test took


@dataclass(frozen=True)
class BudgetPlan:
    minutes: float
    steps: int
    epochs: int
    steps_per_epoch: int
    batch_size: int
    estimated_seconds: float
    sample: SpeedSample

    @property
    def photos_per_second(self) -> float:
        return self.batch_size / self.sample.seconds_per_step if self.sample.seconds_per_step > 0 else 0.0

    def describe(self) -> str:
        epochs = f"{self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        return (f"About {self.minutes:g} min ≈ {self.steps} steps ({epochs}) at the measured "
                f"{self.photos_per_second:.1f} photos/s (an estimate)")


def plan_steps(budget_seconds: float, seconds_per_step: float, validation_seconds: float,
               steps_per_epoch: int, fixed_seconds: float = 0.0) -> tuple[int, float]:
    """Steps that fit in `budget_seconds`, and the estimated duration of that many.

    `validation_seconds` is one validation pass (after every epoch, including a last partial one);
    `fixed_seconds` is spent once (setup, the starting model's validation). Always at least 1 step:
    a budget too small for anything still trains a little rather than refusing.
    """
    spe = max(1, int(steps_per_epoch))
    step = max(1e-6, float(seconds_per_step))
    val = max(0.0, float(validation_seconds))
    available = float(budget_seconds) - float(fixed_seconds)
    epoch_cost = spe * step + val
    full = max(0, int(available // epoch_cost))
    left = available - full * epoch_cost
    partial = int((left - val) // step) if left > val else 0
    partial = max(0, min(partial, spe - 1))
    steps = max(1, full * spe + partial)
    return steps, estimate_seconds(steps, step, val, spe, fixed_seconds)


def estimate_seconds(steps: int, seconds_per_step: float, validation_seconds: float, steps_per_epoch: int,
                     fixed_seconds: float = 0.0) -> float:
    epochs = math.ceil(steps / max(1, steps_per_epoch))
    return fixed_seconds + steps * seconds_per_step + epochs * validation_seconds


def make_plan(minutes: float, sample: SpeedSample, train_images: int, val_images: int, batch_size: int,
              fine_tune: bool) -> BudgetPlan:
    """The plan for the real run; the speed test's own time counts against the budget."""
    batch = max(1, min(batch_size, train_images)) if train_images else max(1, batch_size)
    spe = max(1, train_images // batch) if train_images else 1
    validation = sample.validation_seconds_per_photo * val_images
    fixed = sample.setup_seconds + (validation if fine_tune else 0.0)
    budget = minutes * 60.0 - sample.probe_seconds
    steps, estimated = plan_steps(budget, sample.seconds_per_step, validation, spe, fixed)
    return BudgetPlan(minutes=minutes, steps=steps, epochs=math.ceil(steps / spe), steps_per_epoch=spe,
                      batch_size=batch, estimated_seconds=estimated + sample.probe_seconds, sample=sample)
