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

An entry may also say how far it reaches: "reach": "small" | "object" (the default: stops at the
edges of the thing it is on) | "wide" (spreads over the photo wherever edges let it).

`units` may be "pixels" (x, y in pixels of the photo as displayed, i.e. after EXIF rotation);
such files are resolved against each photo's size. A bare list is read as the `hints` list.

A hint file is input from anywhere, so it is read strictly (`parse_hints`): a wrong type, NaN,
a key the format does not know or a point outside the photo is refused, naming the file and the
entry, and the work a file can ask for is bounded (MAX_HINTS, MAX_STROKE_POINTS, MAX_POINTS,
MAX_PATH) so any file that passes is rendered in seconds.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..io.safe_text import clean_text, shown

DEFAULT_RADIUS = 0.006  # of the photo's long side: ~3 px at the 512-px guidance grid
# How far a hint may act (ml_core.guidance.hint_regions): "object" stops at the thing it was put on,
# "small" at about half that distance, "wide" spreads wherever edges let it (before issue 14),
# for the rare hint that should tint a whole scene.
REACHES = ("small", "object", "wide")
DEFAULT_REACH = "object"
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
    reach: str = DEFAULT_REACH

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
        if self.reach not in REACHES:
            raise HintError(f"hint reach {shown(self.reach)} must be one of {', '.join(REACHES)}")

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

    def with_reach(self, reach: str) -> "Hint":
        return replace(self, reach=reach)

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
        if self.reach != DEFAULT_REACH:
            out["reach"] = self.reach
        return out


def rgb_to_ab(rgb: Sequence[int]) -> tuple[float, float]:
    """8-bit sRGB -> its a*b*; the lightness of the chosen color is the photo's business."""
    if len(rgb) != 3 or not all(0 <= int(v) <= 255 for v in rgb):
        raise HintError(f"RGB color {list(rgb)} must be three values 0..255")
    import torch  # here, not at the top: reading and writing hints must not load torch

    from ..color.spaces import rgb_to_lab

    t = torch.tensor([float(v) / 255.0 for v in rgb], dtype=torch.float64).view(3, 1, 1)
    lab = rgb_to_lab(t).view(3)
    return float(lab[1]), float(lab[2])


def ab_to_rgb(ab: Sequence[float], lightness: float = 60.0) -> tuple[int, int, int]:
    import torch  # here, not at the top: reading and writing hints must not load torch

    from ..color.spaces import lab_to_rgb

    lab = torch.tensor([float(lightness), float(ab[0]), float(ab[1])], dtype=torch.float64).view(3, 1, 1)
    rgb = lab_to_rgb(lab).view(3)
    return tuple(int(round(float(v) * 255.0)) for v in rgb)  # type: ignore[return-value]


_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")

# Bounds on one hint file, so any file that passes is colorized in seconds (a 100,000-point
# stroke once ran for ten minutes): a person in the window paints strokes of at most 64 points.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_HINTS = 1_000  # entries per file
MAX_STROKE_POINTS = 1_000  # points in one stroke
MAX_POINTS = 10_000  # points in the whole file
MAX_PATH = 100.0  # total length of all strokes, in photo sides (relative units)
COLOR_KEYS = ("ab", "rgb", "color")
ENTRY_KEYS = frozenset(("x", "y", "points", "radius", "reach") + COLOR_KEYS)
FILE_KEYS = frozenset(("hints", "units"))
UNITS = ("relative", "pixels")


def _number(value: Any, what: str) -> float:
    """A finite JSON number (not true/false, which Python would count as 1/0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HintError(f"{what} must be a number, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        raise HintError(f"{what} is far too large") from None
    if not math.isfinite(number):
        raise HintError(f"{what} must be a finite number, got {shown(value)}")
    return number


def _numbers(value: Any, count: int, what: str) -> list[float]:
    if not isinstance(value, list) or len(value) != count:
        raise HintError(f"{what} must be a list of {count} numbers, got {shown(value)}")
    return [_number(v, what) for v in value]


def parse_color(entry: dict[str, Any]) -> tuple[float, float]:
    """The color of one JSON hint: exactly one of "ab": [a, b], "rgb": [r, g, b], "color": "#rrggbb"."""
    given = [k for k in COLOR_KEYS if k in entry]
    if not given:
        raise HintError('each hint needs a color: "ab", "rgb" or "color"')
    if len(given) > 1:
        raise HintError(f"a hint has one color, got {', '.join(map(repr, given))}")
    if "ab" in entry:
        a, b = _numbers(entry["ab"], 2, '"ab"')
        if max(abs(a), abs(b)) > AB_LIMIT:
            raise HintError(f'"ab" {shown(entry["ab"])} is outside ±{AB_LIMIT:g}')
        return a, b
    if "rgb" in entry:
        rgb = _numbers(entry["rgb"], 3, '"rgb"')
        if not all(0.0 <= v <= 255.0 for v in rgb):
            raise HintError(f'"rgb" values must be 0..255, got {shown(entry["rgb"])}')
        return rgb_to_ab([int(round(v)) for v in rgb])
    color = entry["color"]
    m = _HEX.match(color.strip()) if isinstance(color, str) else None
    if not m:
        raise HintError(f'"color" must look like "#rrggbb", got {shown(color)}')
    h = m.group(1)
    return rgb_to_ab([int(h[i:i + 2], 16) for i in (0, 2, 4)])


@dataclass(frozen=True)
class HintSpec:
    """One checked entry of a hint file, still in the file's units (pixels need the photo's size)."""

    number: int  # 1-based, as messages name it
    points: tuple[tuple[float, float], ...]
    ab: tuple[float, float]
    radius: float
    reach: str = DEFAULT_REACH


def _point(p: Any, units: str) -> tuple[float, float]:
    if not isinstance(p, list) or len(p) != 2:
        raise HintError(f"a point must be [x, y] numbers, got {shown(p)}")
    return _coordinate(p[0], "x", units), _coordinate(p[1], "y", units)


def _coordinate(value: Any, axis: str, units: str) -> float:
    v = _number(value, axis)
    if units == "relative" and not 0.0 <= v <= 1.0:
        edge = "left to right" if axis == "x" else "top to bottom"
        raise HintError(f"{axis} = {v:g} is outside the photo (relative {axis} runs 0..1, {edge})")
    if v < 0.0:
        raise HintError(f"{axis} = {v:g} is outside the photo (pixel coordinates start at 0)")
    return v


def _entry_points(entry: dict[str, Any], units: str) -> tuple[tuple[float, float], ...]:
    if "points" in entry:
        if "x" in entry or "y" in entry:
            raise HintError('a hint is a point ("x", "y") or a stroke ("points"), not both')
        raw = entry["points"]
        if not isinstance(raw, list) or not raw:
            raise HintError(f'"points" must be a non-empty list of [x, y], got {shown(raw)}')
        if len(raw) > MAX_STROKE_POINTS:
            raise HintError(f"a stroke has {len(raw):,} points; at most {MAX_STROKE_POINTS:,} are allowed")
        return tuple(_point(p, units) for p in raw)
    if "x" in entry and "y" in entry:
        return ((_coordinate(entry["x"], "x", units), _coordinate(entry["y"], "y", units)),)
    raise HintError('each hint needs "x" and "y", or "points"')


def parse_entry(entry: Any, number: int, units: str) -> HintSpec:
    """One JSON hint -> HintSpec; HintError (without the file and entry, which the caller adds)."""
    if not isinstance(entry, dict):
        raise HintError(f"must be a JSON object, got {shown(entry)}")
    unknown = sorted(clean_text(str(k))[:40] for k in entry if k not in ENTRY_KEYS)
    if unknown:
        raise HintError(f"unknown key {', '.join(map(repr, unknown))} (a hint has \"x\" and \"y\" or \"points\", "
                        f"one of \"color\", \"rgb\", \"ab\", and optionally \"radius\" and \"reach\")")
    points = _entry_points(entry, units)
    ab = parse_color(entry)
    radius = _number(entry["radius"], '"radius"') if "radius" in entry else DEFAULT_RADIUS
    if not 0.0 < radius <= MAX_RADIUS:
        raise HintError(f'"radius" must be above 0 and at most {MAX_RADIUS} of the long side, got {radius:g}')
    reach = entry.get("reach", DEFAULT_REACH)
    if not isinstance(reach, str) or reach not in REACHES:
        raise HintError(f'"reach" must be one of {", ".join(map(repr, REACHES))}, got {shown(reach)}')
    return HintSpec(number, points, ab, radius, reach)


def path_length(points: Sequence[tuple[float, float]]) -> float:
    return sum(math.hypot(x1 - x0, y1 - y0) for (x0, y0), (x1, y1) in zip(points, points[1:]))


def check_work(specs: Iterable[HintSpec], source: str) -> None:
    """Refuse a file whose strokes, all together, are longer than MAX_PATH photo sides.

    Rasterizing costs one disc per half radius of stroke length, so length, not point count, is
    what a hostile file would inflate. Points here are relative (0..1 across the photo).
    """
    total = 0.0
    for spec in specs:
        total += path_length(spec.points)
        if total > MAX_PATH:
            raise HintError(f"{source}: hint {spec.number}: the strokes up to here are {total:.0f} photo sides "
                            f"long in all; at most {MAX_PATH:g} are allowed")


@dataclass
class HintFile:
    """Hints as read from JSON, every entry checked; pixel-unit files are placed per photo by `for_size`."""

    specs: tuple[HintSpec, ...] = ()
    units: str = "relative"
    source: str = "<hints>"

    def for_size(self, width: int, height: int) -> tuple[Hint, ...]:
        """The hints on a photo of width × height; a pixel outside that photo is refused, naming the entry."""
        if self.units == "relative":
            return tuple(Hint(s.points, s.ab, s.radius, s.reach) for s in self.specs)
        w, h = max(int(width), 1), max(int(height), 1)
        placed = []
        for spec in self.specs:
            for x, y in spec.points:
                if x > w - 1 or y > h - 1:
                    raise HintError(f"{self.source}: hint {spec.number}: pixel ({x:g}, {y:g}) is outside the "
                                    f"{w}×{h} photo (x runs 0..{w - 1}, y 0..{h - 1})")
            # pixel (i, j) covers [i, i + 1): its center is the spot
            points = tuple(((x + 0.5) / w, (y + 0.5) / h) for x, y in spec.points)
            placed.append(replace(spec, points=points))
        check_work(placed, self.source)
        return tuple(Hint(s.points, s.ab, s.radius, s.reach) for s in placed)


def parse_hints(data: Any, source: str = "<hints>") -> HintFile:
    """A parsed JSON value -> HintFile, or HintError naming `source` and the entry. Nothing else.

    The format: {"hints": [...], "units": "relative" | "pixels"}, or a bare list of hints. Keys
    the format does not know are errors, not silently ignored, so a typo cannot change a photo.
    """
    if isinstance(data, list):
        data = {"hints": data}
    if not isinstance(data, dict) or not isinstance(data.get("hints"), list):
        raise HintError(f'{source}: expected {{"hints": [...]}} or a list of hints, got {shown(data)}')
    unknown = sorted(clean_text(str(k))[:40] for k in data if k not in FILE_KEYS)
    if unknown:
        raise HintError(f'{source}: unknown key {", ".join(map(repr, unknown))} (a hint file has "hints" '
                        f'and optionally "units")')
    units = data.get("units", "relative")
    if not isinstance(units, str) or units not in UNITS:
        raise HintError(f'{source}: "units" must be "relative" or "pixels", got {shown(units)}')
    entries = data["hints"]
    if len(entries) > MAX_HINTS:
        raise HintError(f"{source}: {len(entries):,} hints; at most {MAX_HINTS:,} are allowed in one file")
    specs, total_points = [], 0
    for number, entry in enumerate(entries, start=1):
        try:
            spec = parse_entry(entry, number, units)
            total_points += len(spec.points)
            if total_points > MAX_POINTS:
                raise HintError(f"the file has more than {MAX_POINTS:,} points in all")
            Hint(spec.points if units == "relative" else ((0.0, 0.0),), spec.ab, spec.radius)  # the same checks
        except HintError as exc:
            raise HintError(f"{source}: hint {number}: {exc}") from None
        specs.append(spec)
    if units == "relative":
        check_work(specs, source)
    return HintFile(tuple(specs), units, source)


def load_hint_file(path: Path) -> HintFile:
    """Read and check a hints JSON file; every problem raises HintError naming the file (and entry)."""
    from ..io.json_file import JsonFileError, read_json_file

    path = Path(path)
    try:
        data = read_json_file(path, max_bytes=MAX_FILE_BYTES, kind="JSON hints file", reading="hints")
    except FileNotFoundError as exc:
        raise HintError(f"{path}: cannot read hints: {exc.strerror or exc}") from None
    except JsonFileError as exc:
        raise HintError(str(exc)) from None
    return parse_hints(data, str(path))


def resolve_hints(hints: "Sequence[Hint] | HintFile", width: int, height: int) -> tuple[Hint, ...]:
    """Relative hints as they are; a hint file in pixel units is placed on this photo's size."""
    if isinstance(hints, HintFile):
        return hints.for_size(width, height)
    return tuple(hints)


def hints_to_json(hints: Iterable[Hint]) -> str:
    return json.dumps({"units": "relative", "hints": [h.to_json() for h in hints]}, indent=2)


def save_hint_file(path: Path, hints: Iterable[Hint]) -> None:
    """Write hints as `chroma colorize --hints` reads them; atomic, so a crash leaves no half file."""
    from ..io.atomic import atomic_write_text

    atomic_write_text(Path(path), hints_to_json(hints) + "\n")


def simulate_hints(rgb: np.ndarray, count: int, rng: np.random.Generator,
                   radius: float = DEFAULT_RADIUS) -> tuple[Hint, ...]:
    """A simulated user (Zhang et al. 2017, §3.3): `count` hints at uniformly random spots, each with
    the true photo's mean a*b* over the hint's disc. The benchmark and tests use it to measure how
    much a given number of honest hints helps; nested (the first k of a larger draw are the k-hint set)
    when the same generator state is reused."""
    import torch  # here, not at the top: reading and writing hints must not load torch

    from ..color.spaces import rgb_to_lab

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
