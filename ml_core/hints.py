"""User color hints: "this spot is this color", stored so they outlive any one rendering.

A hint is a point (or a short stroke of points) in coordinates relative to the photo, 0..1 from
the left/top edge to the right/bottom edge, so the same hints steer a 600-pixel preview and the
full-resolution export alike. The color is kept as CIE Lab a*b*: the photo fixes lightness, the
person chooses chroma, which is also what Zhang et al. (2017) feed their user-guided network.

Hint files (`chroma colorize --hints hints.json`) are JSON:

    {"hints": [
        {"x": 0.42, "y": 0.61, "color": "#b0302a"},
        {"x": 0.10, "y": 0.20, "ab": [-12, -35], "radius": 0.01},
        {"points": [[0.5, 0.5], [0.55, 0.52]], "rgb": [40, 120, 60]}
     ],
     "units": "relative"}

`units` may be "pixels" (x, y in pixels of the photo as displayed, i.e. after EXIF rotation);
such files are resolved against each photo's size. A bare list is read as the `hints` list.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .color import lab_to_rgb, rgb_to_lab

DEFAULT_RADIUS = 0.006  # of the photo's long side: ~3 px at the 512-px guidance grid
MAX_RADIUS = 0.1
AB_LIMIT = 128.0


class HintError(ValueError):
    """A hint or hint file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Hint:
    """One user constraint. Immutable: editing makes a new hint, which is what undo needs."""

    points: tuple[tuple[float, float], ...]
    ab: tuple[float, float]
    radius: float = DEFAULT_RADIUS

    def __post_init__(self) -> None:
        if not self.points:
            raise HintError("a hint needs at least one point")
        for x, y in self.points:
            if not (math.isfinite(x) and math.isfinite(y)):
                raise HintError(f"hint point ({x}, {y}) is not a number")
        if not all(math.isfinite(v) and abs(v) <= AB_LIMIT for v in self.ab):
            raise HintError(f"hint color a*b* {self.ab} is outside ±{AB_LIMIT:g}")
        if not (0.0 < self.radius <= MAX_RADIUS):
            raise HintError(f"hint radius {self.radius} must be in (0, {MAX_RADIUS}] of the long side")

    @classmethod
    def at(cls, x: float, y: float, ab: Sequence[float], radius: float = DEFAULT_RADIUS) -> "Hint":
        return cls(((float(x), float(y)),), (float(ab[0]), float(ab[1])), float(radius))

    @classmethod
    def from_rgb(cls, points: Sequence[Sequence[float]], rgb: Sequence[int], radius: float = DEFAULT_RADIUS) -> "Hint":
        return cls(tuple((float(p[0]), float(p[1])) for p in points), rgb_to_ab(rgb), float(radius))

    @property
    def x(self) -> float:
        return self.points[0][0]

    @property
    def y(self) -> float:
        return self.points[0][1]

    def moved_by(self, dx: float, dy: float) -> "Hint":
        return replace(self, points=tuple((x + dx, y + dy) for x, y in self.points))

    def moved_to(self, x: float, y: float) -> "Hint":
        return self.moved_by(x - self.x, y - self.y)

    def with_ab(self, ab: Sequence[float]) -> "Hint":
        return replace(self, ab=(float(ab[0]), float(ab[1])))

    def display_rgb(self, lightness: float = 60.0) -> tuple[int, int, int]:
        """The hint's chroma at a given L* as 8-bit sRGB (the swatch a person sees)."""
        return ab_to_rgb(self.ab, lightness)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ab": [round(self.ab[0], 3), round(self.ab[1], 3)]}
        if len(self.points) == 1:
            out["x"], out["y"] = round(self.x, 6), round(self.y, 6)
        else:
            out["points"] = [[round(x, 6), round(y, 6)] for x, y in self.points]
        if self.radius != DEFAULT_RADIUS:
            out["radius"] = self.radius
        return out


def rgb_to_ab(rgb: Sequence[int]) -> tuple[float, float]:
    """8-bit sRGB -> its a*b*; the lightness of the chosen color is the photo's business."""
    if len(rgb) != 3 or not all(0 <= int(v) <= 255 for v in rgb):
        raise HintError(f"RGB color {list(rgb)} must be three values 0..255")
    t = torch.tensor([float(v) / 255.0 for v in rgb], dtype=torch.float64).view(3, 1, 1)
    lab = rgb_to_lab(t).view(3)
    return float(lab[1]), float(lab[2])


def ab_to_rgb(ab: Sequence[float], lightness: float = 60.0) -> tuple[int, int, int]:
    lab = torch.tensor([float(lightness), float(ab[0]), float(ab[1])], dtype=torch.float64).view(3, 1, 1)
    rgb = lab_to_rgb(lab).view(3)
    return tuple(int(round(float(v) * 255.0)) for v in rgb)  # type: ignore[return-value]


_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_color(entry: dict[str, Any]) -> tuple[float, float]:
    """The color of one JSON hint: "ab": [a, b], "rgb": [r, g, b], or "color": "#rrggbb"."""
    if "ab" in entry:
        ab = entry["ab"]
        if not (isinstance(ab, (list, tuple)) and len(ab) == 2 and all(isinstance(v, (int, float)) for v in ab)):
            raise HintError(f'"ab" must be two numbers, got {ab!r}')
        return float(ab[0]), float(ab[1])
    if "rgb" in entry:
        rgb = entry["rgb"]
        if not (isinstance(rgb, (list, tuple)) and all(isinstance(v, (int, float)) for v in rgb)):
            raise HintError(f'"rgb" must be three numbers 0..255, got {rgb!r}')
        return rgb_to_ab([int(round(v)) for v in rgb])
    if "color" in entry:
        m = _HEX.match(str(entry["color"]).strip())
        if not m:
            raise HintError(f'"color" must look like "#rrggbb", got {entry["color"]!r}')
        h = m.group(1)
        return rgb_to_ab([int(h[i:i + 2], 16) for i in (0, 2, 4)])
    raise HintError('each hint needs a color: "ab", "rgb" or "color"')


@dataclass
class HintFile:
    """Hints as read from JSON; pixel-unit files are resolved per photo by `for_size`."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    units: str = "relative"
    source: str = "<hints>"

    def for_size(self, width: int, height: int) -> tuple[Hint, ...]:
        sx, sy = (1.0 / max(width, 1), 1.0 / max(height, 1)) if self.units == "pixels" else (1.0, 1.0)
        offset = 0.5 if self.units == "pixels" else 0.0  # pixel (i, j) covers [i, i + 1): its center
        hints = []
        for i, entry in enumerate(self.entries):
            try:
                if "points" in entry:
                    raw = entry["points"]
                    if not isinstance(raw, list) or not raw:
                        raise HintError('"points" must be a non-empty list of [x, y]')
                    pts = [_point(p) for p in raw]
                elif "x" in entry and "y" in entry:
                    pts = [_point([entry["x"], entry["y"]])]
                else:
                    raise HintError('each hint needs "x" and "y", or "points"')
                points = tuple(((px + offset) * sx, (py + offset) * sy) for px, py in pts)
                radius = float(entry.get("radius", DEFAULT_RADIUS))
                hints.append(Hint(points, parse_color(entry), radius))
            except HintError as exc:
                raise HintError(f"{self.source}: hint {i + 1}: {exc}") from None
        return tuple(hints)


def _point(p: Any) -> tuple[float, float]:
    if not (isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p)):
        raise HintError(f"a point must be [x, y] numbers, got {p!r}")
    return float(p[0]), float(p[1])


def load_hint_file(path: Path) -> HintFile:
    """Read and check a hints JSON file; every problem raises HintError naming the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise HintError(f"{path}: cannot read hints: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HintError(f"{path}: not a JSON hints file: {exc}") from None
    if isinstance(data, list):
        data = {"hints": data}
    if not isinstance(data, dict) or not isinstance(data.get("hints"), list):
        raise HintError(f'{path}: expected {{"hints": [...]}} or a list of hints')
    units = data.get("units", "relative")
    if units not in ("relative", "pixels"):
        raise HintError(f'{path}: "units" must be "relative" or "pixels", got {units!r}')
    if not all(isinstance(e, dict) for e in data["hints"]):
        raise HintError(f"{path}: every hint must be a JSON object")
    hint_file = HintFile(list(data["hints"]), units, str(path))
    hint_file.for_size(1, 1)  # validate now, so a bad file fails before any photo is touched
    return hint_file


def resolve_hints(hints: "Sequence[Hint] | HintFile", width: int, height: int) -> tuple[Hint, ...]:
    """Relative hints as they are; a hint file in pixel units is placed on this photo's size."""
    if isinstance(hints, HintFile):
        return hints.for_size(width, height)
    return tuple(hints)


def hints_to_json(hints: Iterable[Hint]) -> str:
    return json.dumps({"units": "relative", "hints": [h.to_json() for h in hints]}, indent=2)


def save_hint_file(path: Path, hints: Iterable[Hint]) -> None:
    """Write hints as `chroma colorize --hints` reads them; atomic, so a crash leaves no half file."""
    from .atomic import atomic_write_text

    atomic_write_text(Path(path), hints_to_json(hints) + "\n")


def simulate_hints(rgb: np.ndarray, count: int, rng: np.random.Generator, radius: float = DEFAULT_RADIUS) -> tuple[Hint, ...]:
    """A simulated user (Zhang et al. 2017, §3.3): `count` hints at uniformly random spots, each with
    the true photo's mean a*b* over the hint's disc. The benchmark and tests use it to measure how
    much a given number of honest hints helps; nested (the first k of a larger draw are the k-hint set)
    when the same generator state is reused."""
    arr = np.asarray(rgb)
    h, w = arr.shape[:2]
    lab = rgb_to_lab(torch.from_numpy(arr[..., :3].astype(np.float32) / 255.0).permute(2, 0, 1))
    r_px = max(radius * max(h, w), 0.75)
    ys, xs = np.mgrid[0:h, 0:w]
    hints = []
    for _ in range(count):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        disc = torch.from_numpy((xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= r_px * r_px)
        if not bool(disc.any()):
            disc = torch.zeros(h, w, dtype=torch.bool)
            disc[min(int(cy), h - 1), min(int(cx), w - 1)] = True
        ab = lab[1:, disc].mean(dim=1)
        hints.append(Hint.at(cx / w, cy / h, (float(ab[0]), float(ab[1])), radius))
    return tuple(hints)
