"""Training: config and events (torch-free), the trainer, data, losses, damage, checkpoints and model cards.

Empty on purpose: importing the package loads nothing (torch-free modules stay torch-free)."""
