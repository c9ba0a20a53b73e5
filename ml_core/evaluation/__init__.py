"""Quality metrics and the one table that names them.

Empty on purpose: importing the package loads nothing (torch-free modules stay torch-free)."""
