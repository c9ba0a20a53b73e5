"""The words a model family uses to say what its settings accept from a model file.

Why a module of its own: each family states its rules beside its constructor (`config_rules` in
`ml_core/models/<family>.py`), and `meta.py` applies them to a stranger's file. Both import this
small, torch-free vocabulary, so the family modules need not import the metadata checker and the
checker stays importable without torch. A rule takes (value, field) and returns the value to
use, or raises `MetadataError(field, reason)` which the model file loader turns into a message
naming the file and the key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..io.safe_text import shown

Rule = Callable[[Any, str], Any]


class MetadataError(ValueError):
    """One metadata field that cannot be used: `field` is its dotted path, e.g. "config.width"
    ("" when the reason already says what is wrong with the whole, e.g. "not a Chroma model file")."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason

    def describe(self) -> str:
        return f"metadata field {self.field!r} {self.reason}" if self.field else self.reason


def check_integer(value: Any, field: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi]; bool is an int subclass in Python, but `true` is not a size."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MetadataError(field, f"must be a whole number from {lo} to {hi}, got {shown(value)}")
    if not lo <= value <= hi:
        raise MetadataError(field, f"must be from {lo} to {hi}, got {shown(value)}")
    return value


def check_real(value: Any, field: str, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite number between lo and hi (each end open or closed)."""
    span = f"{'above' if lo_open else 'from'} {lo:g} {'and below' if hi_open else 'to'} {hi:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetadataError(field, f"must be a number {span}, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise MetadataError(field, f"must be a number {span}, got an enormous one") from None
    below = number <= lo if lo_open else number < lo
    above = number >= hi if hi_open else number > hi
    if not math.isfinite(number) or below or above:
        raise MetadataError(field, f"must be a number {span}, got {shown(value)}")
    return number


def check_choice(value: Any, field: str, choices: tuple[Any, ...]) -> Any:
    """One of `choices`, of the same type (1.0 is not the choice 1, `true` is not 1)."""
    if isinstance(value, bool) or value not in choices or type(value) is not type(choices[0]):
        raise MetadataError(field, f"must be one of {', '.join(map(repr, choices))}, got {shown(value)}")
    return value


def integer(lo: int, hi: int) -> Rule:
    return lambda v, f: check_integer(v, f, lo, hi)


def real(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> Rule:
    return lambda v, f: check_real(v, f, lo, hi, lo_open, hi_open)


def choice(*choices: Any) -> Rule:
    return lambda v, f: check_choice(v, f, choices)


def optional(rule: Rule) -> Rule:
    """`rule`, or null (the constructor's own default)."""
    return lambda v, f: None if v is None else rule(v, f)


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise MetadataError(field, f"must be true or false, got {shown(value)}")
    return value


def _spaces() -> tuple[str, ...]:
    from ..color.spaces import COLOR_SPACES  # only when a file is checked: the names live with the math

    return tuple(sorted(COLOR_SPACES))


def _kinds() -> tuple[str, ...]:
    from ..models.base import OUTPUT_KINDS

    return tuple(OUTPUT_KINDS)


def space(value: Any, field: str) -> str:
    """A color space Chroma implements."""
    return check_choice(value, field, _spaces())


def output_kind(value: Any, field: str) -> str:
    """An output head Chroma implements."""
    return check_choice(value, field, _kinds())


SCALE = real(0.0, 4.0, lo_open=True)  # a channel multiplier: 1.0 is the published network


def generic(value: Any, field: str) -> Any:
    """For a family that states no rules: scalars only, each kept as the type it is (a width of 3
    must not reach a constructor as 3.0), numbers within ±4096."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    number = check_real(value, field, -4096, 4096)
    return value if isinstance(value, int) else number
