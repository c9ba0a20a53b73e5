"""The Training tab: fine-tune a model on your own color photos (wraps ml_core's Trainer)."""

from .tab import TrainingTab

__all__ = ["TrainingTab"]
