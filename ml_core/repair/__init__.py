"""Repair before color: scratches and dust, grain, fading of old prints (issue 19). No Qt.

The API a window panel, the command line and the batch path call:

    settings = RepairSettings(scratches=True, scratches_strength=0.5, grain=True, ...)
    result = repair_lightness(lum, settings)      # lum: H×W float L* 0..100
    result.lightness, result.mask                 # repaired L*, bool mask for "show mask"
    mask = damage_mask(lum, settings)             # the mask alone (cheaper)
    pixels, result = repair_pixels(pixels, settings)  # photo pixels in, repaired pixels out

One module per job: scratches (detection -> mask), fill, grain, fading, noise (the grain level
the others scale by), convert (pixels <-> L*, the print's tint). Methods were chosen by
measurement: bench/bench_repair.py, docs/eval/repair.md.
"""

from .settings import TOOLS, RepairSettings

__all__ = [
    "TOOLS", "RepairResult", "RepairSettings", "damage_mask", "lightness_from_pixels",
    "pixels_from_lightness", "repair_files", "repair_lightness", "repair_pixels",
]

# The filters (OpenCV, torch) load on first use, so the command line can check `--repair`
# settings without loading them (`chroma` parses its arguments torch-free).
_LAZY = {
    "RepairResult": "pipeline", "damage_mask": "pipeline", "repair_lightness": "pipeline",
    "repair_pixels": "pipeline", "lightness_from_pixels": "convert", "pixels_from_lightness": "convert",
    "repair_files": "files",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
