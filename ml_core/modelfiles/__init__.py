"""Model files on disk: the safetensors format, its metadata checks, plain-words descriptions, the store.

Empty on purpose: importing the package loads nothing (torch-free modules stay torch-free)."""
