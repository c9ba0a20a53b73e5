"""Colorizing: the torch engine, the full-resolution recombination kernel, the files-to-files loop, ONNX.

Empty on purpose: importing the package loads nothing (torch-free modules stay torch-free)."""
