"""Checking a model file's metadata before anything is built from it.

A model file is shared between strangers, so its JSON description is hostile input: a string
where a number belongs ("version": "9"), a network 200,000 channels wide (terabytes the moment
it is built), a render size of 100,000 pixels, a temperature of NaN. Every field is checked here
against a stated limit, before a single tensor is allocated, and a problem is reported as
`MetadataError(field, reason)`, which `modelfile` turns into a `ModelFileError` naming the file.

Limits (generous: every model Chroma trains or ships sits far inside them):

* version: a whole number 1..FORMAT_VERSION; work_size and temperature: the same bounds the
  command line and the window put on --size and --temperature (`ml_core.limits`), since a model's
  values are the defaults of those settings; temperature may also be null (the library default).
* config: per architecture, by the rules each family states beside its constructor
  (`config_rules` in `ml_core/models/<family>.py`, written in the words of `rules`), and the
  network it describes at most MAX_PARAMETERS weights, counted without allocating them
  (`estimated_parameters`).
* name / description: text up to MAX_NAME / MAX_DESCRIPTION characters, control characters
  removed (`safe_text`); metrics: up to MAX_METRICS numbers (or null); training: a JSON object
  nested at most MAX_DEPTH deep with at most MAX_VALUES values. Metrics and training numbers are
  only ever shown, so any float is allowed there (NaN means "not measured"); whole numbers stay
  within ±MAX_DISPLAY_INT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..io.safe_text import clean_text, clean_value, shown
from ..limits import MAX_TEMPERATURE, MAX_WORK_SIZE, MIN_TEMPERATURE, MIN_WORK_SIZE
from .rules import MetadataError, Rule, boolean, check_integer, generic, optional, output_kind, real, space

FORMAT = "chroma-model"
FORMAT_VERSION = 1
MAX_PARAMETERS = 250_000_000  # 1 GB of float32 weights; the largest shipped architecture has ~44 M
MAX_NAME, MAX_DESCRIPTION = 256, 10_000
MAX_METRICS = 1_000
MAX_DEPTH, MAX_VALUES = 16, 200_000
MAX_DISPLAY_INT = 10**15
MAX_TEXT = 100_000  # any one string inside training notes

REQUIRED = ("name", "arch", "config", "color_space", "output_kind", "work_size")


def _text(value: Any, field: str, limit: int, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise MetadataError(field, f"must be text, got {shown(value)}")
    if len(value) > limit:
        raise MetadataError(field, f"is {len(value):,} characters long; at most {limit:,} are allowed")
    return clean_text(value, multiline)


def check_config(arch: str, config: Any) -> dict[str, Any]:
    """The architecture's settings, each checked by the rules its family states beside its
    constructor (`config_rules`); unknown settings are errors.

    A family that states none still gets scalar values only, under its constructor's keyword
    names (`rules.generic`). The family is found through the registry, which imports torch: as
    before, that happens when a file is checked, not when this module is imported.
    """
    if not isinstance(config, dict):
        raise MetadataError("config", f"must be a JSON object, got {shown(config)}")
    from ..models import model_class

    cls = model_class(arch)
    rules: Mapping[str, Rule] = cls.config_rules if cls.config_rules is not None else _constructor_keywords(cls)
    out = {}
    for key, value in config.items():
        field = f"config.{clean_text(str(key))[:40]}"
        if key not in rules:
            raise MetadataError(field, f"is not a setting of architecture {arch!r} "
                                       f"(settings: {', '.join(sorted(rules))})")
        out[key] = rules[key](value, field)
    return out


def _constructor_keywords(cls: type) -> dict[str, Rule]:
    import inspect

    params = inspect.signature(cls.__init__).parameters
    return {name: generic for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def estimated_parameters(arch: str, config: dict[str, Any]) -> int | None:
    """How many weights `create(arch, **config)` would allocate, counted on the meta device (no memory).

    The constructors compute small color-gamut tables with operators the meta device lacks; those
    are cached, so they are built for real first (the shared gamut here, a family's own in its
    `prepare_tables`). None if the count cannot be made this way.
    """
    import torch

    from ..color.quantize import gamut_bin_centers
    from ..models import create, model_class

    gamut_bin_centers()
    try:
        model_class(arch).prepare_tables(config)  # a family's own tables (eccv16: its bin centers)
    except ValueError:
        return None  # the real constructor reports it
    try:
        with torch.device("meta"):
            model = create(arch, **config)
    except (NotImplementedError, RuntimeError, ValueError, TypeError):
        return None
    return sum(t.numel() for t in model.parameters()) + sum(t.numel() for t in model.buffers())


def check_size(arch: str, config: dict[str, Any]) -> None:
    count = estimated_parameters(arch, config)
    if count is not None and count > MAX_PARAMETERS:
        raise MetadataError("config", f"describes a {arch} network of {count:,} weights; at most "
                                      f"{MAX_PARAMETERS:,} are allowed")


def _display_number(value: Any, field: str) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_DISPLAY_INT:
        raise MetadataError(field, f"is a whole number beyond ±{MAX_DISPLAY_INT:.0e}")
    return value


def _check_notes(value: Any, field: str, depth: int, budget: list[int]) -> None:
    """Free-form training notes: bounded nesting, count and sizes (they are shown, never computed with)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise MetadataError("training", f"holds more than {MAX_VALUES:,} values")
    if depth > MAX_DEPTH:
        raise MetadataError(field, f"is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_notes(item, f"{field}.{clean_text(str(key))[:40]}", depth + 1, budget)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_notes(item, f"{field}[{i}]", depth + 1, budget)
    elif isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise MetadataError(field, f"is {len(value):,} characters long; at most {MAX_TEXT:,} are allowed")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        _display_number(value, field)
    elif value is not None and not isinstance(value, bool):
        raise MetadataError(field, f"is not a JSON value: {shown(value)}")


def check_training(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MetadataError("training", f"must be a JSON object, got {shown(value)}")
    _check_notes(value, "training", 0, [MAX_VALUES])
    return clean_value(value, multiline=False)


def check_metrics(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MetadataError("metrics", f"must be a JSON object of numbers, got {shown(value)}")
    if len(value) > MAX_METRICS:
        raise MetadataError("metrics", f"has {len(value):,} entries; at most {MAX_METRICS:,} are allowed")
    out = {}
    for key, number in value.items():
        field = f"metrics.{clean_text(str(key))[:40]}"
        if number is not None and (isinstance(number, bool) or not isinstance(number, (int, float))):
            raise MetadataError(field, f"must be a number or null, got {shown(number)}")
        out[clean_text(str(key))[:MAX_NAME]] = _display_number(number, field)
    return out


def check_metadata(raw: Any) -> dict[str, Any]:
    """A parsed metadata JSON value -> the ModelInfo fields, every one checked; else MetadataError.

    Keys this version does not know are ignored (never used), as a newer minor writer may add some.
    """
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise MetadataError("", "not a Chroma model file (metadata lacks the chroma-model format tag)")
    version = raw.get("version", FORMAT_VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise MetadataError("", f"made by a newer Chroma (format {version}); please update")
    check_integer(version, "version", 1, FORMAT_VERSION)
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise MetadataError("", f"metadata lacks {', '.join(missing)}")
    from ..models import available

    arch = raw["arch"]
    if not isinstance(arch, str) or arch not in available():
        raise MetadataError("arch", f"names unknown architecture {shown(arch)}; available: {', '.join(available())}")
    out: dict[str, Any] = {
        "name": _text(raw["name"], "name", MAX_NAME),
        "arch": arch,
        "config": check_config(arch, raw["config"]),
        "color_space": space(raw["color_space"], "color_space"),
        "output_kind": output_kind(raw["output_kind"], "output_kind"),
        "work_size": check_integer(raw["work_size"], "work_size", MIN_WORK_SIZE, MAX_WORK_SIZE),
        "description": _text(raw.get("description", ""), "description", MAX_DESCRIPTION, multiline=True),
        "training": check_training(raw.get("training", {})),
        "metrics": check_metrics(raw.get("metrics", {})),
        "placeholder": boolean(raw.get("placeholder", False), "placeholder"),
        "temperature": optional(real(MIN_TEMPERATURE, MAX_TEMPERATURE))(raw.get("temperature"), "temperature"),
    }
    return out
