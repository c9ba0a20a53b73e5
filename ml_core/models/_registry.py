"""The model-family registry: architecture name -> ColorModel subclass.

Its own module so that family modules (`from ._registry import register`) and the package's
`__init__` import it without importing each other. Adding a family is one new module in this
folder that decorates its class with `@register`: `load_families()` imports every module here
whose name does not start with "_" (and `base`, which holds no family), so nothing else names it.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import ColorModel

_REGISTRY: dict[str, type["ColorModel"]] = {}
_NOT_FAMILIES = {"base"}


def register(cls: type["ColorModel"]) -> type["ColorModel"]:
    """Class decorator: make the family `cls.arch` buildable by name."""
    if not cls.arch:
        raise ValueError(f"{cls.__name__} has no arch name")
    _REGISTRY[cls.arch] = cls
    return cls


def load_families(package: str = __package__) -> list[str]:
    """Import every family module of `package` (each registers itself); returns their names.

    Why by listing the folder: a list of families kept by hand is one more place a new family
    must be added, and the one that gets forgotten.
    """
    pkg = importlib.import_module(package)
    names = [m.name for m in pkgutil.iter_modules(pkg.__path__)
             if not m.name.startswith("_") and m.name not in _NOT_FAMILIES]
    for name in names:
        importlib.import_module(f"{package}.{name}")
    return names


def available() -> list[str]:
    return sorted(_REGISTRY)


def model_class(name: str) -> type["ColorModel"]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; available: {', '.join(available())}") from None


def families() -> list[tuple[str, str]]:
    """(name, first line of its description) of every family, for the CLI's and window's lists."""
    return [(name, (_REGISTRY[name].description or name).splitlines()[0]) for name in available()]


def create(name: str, **config: Any) -> "ColorModel":
    return model_class(name)(**config)
