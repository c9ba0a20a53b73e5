"""Model zoo: a registry of colorization families, each a ColorModel subclass in its own module.

`create(name, **config)` builds one; `available()` lists them. Every module in this folder (but
`base` and private ones) is a family that registers itself (see `_registry`), so adding one is
one new file.
"""

from __future__ import annotations

from ._registry import available, create, families, load_families, model_class, register
from .base import OUTPUT_KINDS, ColorModel

load_families()

__all__ = [
    "ColorModel", "OUTPUT_KINDS", "available", "create", "families", "load_families", "model_class", "register",
]
