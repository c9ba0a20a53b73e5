"""Model zoo: a registry of colorization families, each a ColorModel subclass.

`create(name, **config)` builds one; `available()` lists them. Families register themselves by
being imported here, so adding one is one module and one line.
"""

from __future__ import annotations

from typing import Any

from .base import OUTPUT_KINDS, ColorModel

_REGISTRY: dict[str, type[ColorModel]] = {}


def register(cls: type[ColorModel]) -> type[ColorModel]:
    if not cls.arch:
        raise ValueError(f"{cls.__name__} has no arch name")
    _REGISTRY[cls.arch] = cls
    return cls


def available() -> list[str]:
    return sorted(_REGISTRY)


def model_class(name: str) -> type[ColorModel]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; available: {', '.join(available())}") from None


def create(name: str, **config: Any) -> ColorModel:
    return model_class(name)(**config)


from . import eccv16, fusion, unet, vgg_chroma  # noqa: E402,F401  (each registers its family)

__all__ = ["ColorModel", "OUTPUT_KINDS", "available", "create", "model_class", "register"]
