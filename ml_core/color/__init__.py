"""Color science: sRGB/CIELAB/YUV conversion, ab quantization and its gamut table, input levels.

Empty on purpose: importing the package loads nothing (torch-free modules stay torch-free)."""
