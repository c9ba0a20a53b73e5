"""What a person tells the colorizer: hints, their maps and regions, propagation, palettes, reference photos.

Empty on purpose: importing the package loads nothing (torch-free modules stay torch-free)."""
