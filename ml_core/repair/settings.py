"""What the repair step should do: each tool on or off, with a strength, checked on creation.

Why a flat frozen dataclass: the window's Repair panel, a saved session and the command line all
hold the same few numbers, and a bad value must be refused where it enters (naming the option),
not deep inside a filter.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

TOOLS = ("scratches", "grain", "fading")


@dataclass(frozen=True)
class RepairSettings:
    """Per-tool switch and strength (0 = gentlest, 1 = strongest; not "off": that is the switch).

    scratches: find thin bright/dark lines and specks that are not image structure, fill them.
        Strength is sensitivity: higher finds fainter damage (and risks touching more texture).
    grain: edge-preserving smoothing scaled to the noise measured in the photo; strength is how
        far past that noise level it smooths.
    fading: a lifted black point and a dull white point moved part of the way back (robust
        percentiles, as ml_core.color.levels does for the network); strength is how far. Local contrast
        (ml_core.repair.fading.local_contrast) exists but ships at share 0: it lowered PSNR on the benchmark.
    remove_tint: the output is neutral gray. Off, `chroma repair` keeps the print's own tone
        (sepia stays sepia); the colorizer always works from lightness alone, so it never sees it.
    """

    scratches: bool = True
    scratches_strength: float = 0.5
    grain: bool = True
    grain_strength: float = 0.5
    fading: bool = True
    fading_strength: float = 0.5
    remove_tint: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_strength"):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                        or not 0.0 <= float(value) <= 1.0:
                    raise ValueError(f"repair setting {f.name}: must be a number from 0 to 1, got {value!r}")
            elif not isinstance(value, bool):
                raise ValueError(f"repair setting {f.name}: must be true or false, got {value!r}")

    @property
    def any_enabled(self) -> bool:
        return self.scratches or self.grain or self.fading

    @classmethod
    def only(cls, tools: "str | tuple[str, ...] | list[str]", strength: float | None = None) -> "RepairSettings":
        """Settings with exactly `tools` on ("scratches,grain" or a sequence), for the command line.

        `strength`, when given, applies to every tool switched on; unknown names are refused with
        the list of known ones.
        """
        names = [t.strip().lower() for t in (tools.split(",") if isinstance(tools, str) else tools)]
        names = [n for n in names if n]
        unknown = [n for n in names if n not in TOOLS]
        if unknown:
            raise ValueError(f"unknown repair tool {unknown[0]!r}; choose from {', '.join(TOOLS)}")
        if not names:
            raise ValueError(f"no repair tool named; choose from {', '.join(TOOLS)}")
        values: dict[str, object] = {t: t in names for t in TOOLS}
        if strength is not None:
            values.update({f"{t}_strength": strength for t in names})
        return cls(**values)  # type: ignore[arg-type]

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RepairSettings":
        """From a saved session: unknown keys refused by name, missing keys take the defaults."""
        if not isinstance(data, dict):
            raise ValueError(f"repair settings must be a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        extra = sorted(set(data) - known)
        if extra:
            raise ValueError(f"unknown repair setting {extra[0]!r}")
        return cls(**data)
