"""Hostile hint files for `chroma colorize --hints` (issue 12: findings 4 and 7).

Every file is generated here: wrong types ("radius": "big", null, NaN), coordinates outside the
photo, keys the format does not know, 100,000-deep nesting, and files built to make the work
explode (100,000-point strokes, 10,000 hints). Each is refused before any photo is touched, with
exit code 2, a message naming the file and the entry, and no traceback; the photos are
byte-identical afterwards. Files within the bounds are colorized with bounded work.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import write_tiny_model
from PIL import Image

from ml_core.cli import main
from ml_core.guidance import propagation
from ml_core.guidance.hints import (
    MAX_HINTS,
    MAX_PATH,
    MAX_POINTS,
    MAX_RADIUS,
    MAX_STROKE_POINTS,
    Hint,
    HintError,
    HintFile,
    load_hint_file,
    parse_hints,
)


@pytest.fixture
def tiny_model() -> str:
    return write_tiny_model(width=4, depth=1, stem_stride=4)


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "in" / "photo.png"
    path.parent.mkdir()
    Image.new("L", (40, 30), 120).save(path)
    return path


def hint_file(tmp_path: Path, content: Any, raw: str | None = None) -> Path:
    path = tmp_path / "hostile.hints.json"
    path.write_text(raw if raw is not None else json.dumps(content), encoding="utf-8")
    return path


def colorize(capsys, photo: Path, hints: Path, model: str, *extra: str) -> tuple[int, str, str]:
    argv = ["colorize", str(photo), "-o", str(photo.parent.parent / "out"), "--model", model, "--hints", str(hints),
            "--quiet", *extra]
    try:
        code = main(argv)
    except BaseException as exc:  # noqa: BLE001 - an escaping exception is the user's traceback
        pytest.fail(f"chroma colorize raised {type(exc).__name__}: {exc}")
    out = capsys.readouterr()
    return code, out.out, out.err


def one(entry: dict[str, Any]) -> dict[str, Any]:
    return {"hints": [{"x": 0.5, "y": 0.5, "color": "#aa2222"}, entry]}


GOOD = {"x": 0.5, "y": 0.5, "color": "#aa2222"}

# (id, file content, words the message must hold); entry problems are in hint 2 of `one(...)`.
BAD_FILES: list[tuple[str, Any, str]] = [
    ("radius-string", one({**GOOD, "radius": "big"}), '"radius" must be a number'),
    ("radius-null", one({**GOOD, "radius": None}), '"radius" must be a number'),
    ("radius-bool", one({**GOOD, "radius": True}), '"radius" must be a number'),
    ("radius-zero", one({**GOOD, "radius": 0}), '"radius" must be above 0'),
    ("radius-negative", one({**GOOD, "radius": -0.1}), '"radius" must be above 0'),
    ("radius-large", one({**GOOD, "radius": MAX_RADIUS * 2}), f"at most {MAX_RADIUS}"),
    ("radius-list", one({**GOOD, "radius": [0.1]}), '"radius" must be a number'),
    ("rgb-two", one({"x": 0.5, "y": 0.5, "rgb": [1, 2]}), '"rgb" must be a list of 3 numbers'),
    ("rgb-string", one({"x": 0.5, "y": 0.5, "rgb": "red"}), '"rgb" must be a list of 3 numbers'),
    ("rgb-bool", one({"x": 0.5, "y": 0.5, "rgb": [True, 0, 0]}), '"rgb" must be a number'),
    ("rgb-range", one({"x": 0.5, "y": 0.5, "rgb": [0, 0, 300]}), "0..255"),
    ("rgb-nested", one({"x": 0.5, "y": 0.5, "rgb": [[1], [2], [3]]}), '"rgb" must be a number'),
    ("ab-string", one({"x": 0.5, "y": 0.5, "ab": ["a", 1]}), '"ab" must be a number'),
    ("ab-range", one({"x": 0.5, "y": 0.5, "ab": [500, 0]}), "outside"),
    ("ab-bigint", one({"x": 0.5, "y": 0.5, "ab": [10**400, 0]}), "far too large"),
    ("color-number", one({"x": 0.5, "y": 0.5, "color": 123456}), "#rrggbb"),
    ("color-bad", one({"x": 0.5, "y": 0.5, "color": "#zzzzzz"}), "#rrggbb"),
    ("two-colors", one({"x": 0.5, "y": 0.5, "color": "#aa2222", "rgb": [1, 2, 3]}), "one color"),
    ("no-color", one({"x": 0.5, "y": 0.5}), "needs a color"),
    ("x-right", one({**GOOD, "x": 5}), "outside the photo"),
    ("y-above", one({**GOOD, "y": -3}), "outside the photo"),
    ("x-just-past", one({**GOOD, "x": 1.0001}), "outside the photo"),
    ("stroke-outside", one({"points": [[0.5, 0.5], [0.5, 2]], "color": "#aa2222"}), "outside the photo"),
    ("pixel-negative", {"units": "pixels", "hints": [{"x": -1, "y": 3, "color": "#aa2222"}]}, "outside the photo"),
    ("x-string", one({**GOOD, "x": "0.5"}), "x must be a number"),
    ("x-null", one({**GOOD, "x": None}), "x must be a number"),
    ("x-deep", one({**GOOD, "x": json.loads("[" * 500 + "]" * 500)}), "x must be a number, got [[[...]]]"),
    ("x-only", one({"x": 0.5, "color": "#aa2222"}), '"x" and "y"'),
    ("x-and-points", one({**GOOD, "points": [[0.1, 0.1]]}), "not both"),
    ("points-empty", one({"points": [], "color": "#aa2222"}), "non-empty list"),
    ("points-flat", one({"points": [0.1, 0.2], "color": "#aa2222"}), "a point must be [x, y]"),
    ("points-short", one({"points": [[0.1]], "color": "#aa2222"}), "a point must be [x, y]"),
    ("points-bool", one({"points": [[True, 0.1]], "color": "#aa2222"}), "x must be a number"),
    ("entry-units", one({**GOOD, "units": "pixels"}), "unknown key 'units'"),
    ("entry-typo", one({"x": 0.5, "y": 0.5, "colour": "#aa2222"}), "unknown key 'colour'"),
    ("entry-number", {"hints": [GOOD, 5]}, "must be a JSON object"),
    ("entry-list", {"hints": [GOOD, [0.5, 0.5]]}, "must be a JSON object"),
    ("file-key", {"hints": [GOOD], "version": 2}, "unknown key 'version'"),
    ("units-bad", {"hints": [GOOD], "units": "inches"}, '"units" must be'),
    ("units-number", {"hints": [GOOD], "units": 5}, '"units" must be'),
    ("hints-dict", {"hints": GOOD}, "expected"),
    ("top-number", 5, "expected"),
    ("top-null", None, "expected"),
    ("top-string", "hints", "expected"),
    ("too-many-hints", {"hints": [GOOD] * (MAX_HINTS + 1)}, f"at most {MAX_HINTS:,}"),
    ("long-stroke", one({"points": [[0.5, 0.5]] * 100_000, "color": "#aa2222"}),
     f"100,000 points; at most {MAX_STROKE_POINTS:,}"),
    ("many-points", {"hints": [{"points": [[0.5, 0.5]] * MAX_STROKE_POINTS, "color": "#aa2222"}] * 11},
     f"more than {MAX_POINTS:,} points"),
    ("zigzag", {"hints": [{"points": [[0.0, 0.0], [1.0, 1.0]] * 80, "color": "#aa2222"}]}, "photo sides"),
]
RAW_FILES: list[tuple[str, str, str]] = [
    ("rgb-nan", '{"hints": [{"x": 0.5, "y": 0.5, "rgb": [NaN, 0, 0]}]}', "NaN is not a number"),
    ("radius-infinity", '{"hints": [{"x": 0.5, "y": 0.5, "color": "#aa2222", "radius": Infinity}]}',
     "Infinity is not a number"),
    ("x-overflow", '{"hints": [{"x": 1e400, "y": 0.5, "color": "#aa2222"}]}', "finite"),
    ("deep", '{"hints": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ("not-json", "{hints", "not a JSON hints file"),
    ("empty", "", "not a JSON hints file"),
    ("huge-int", '{"hints": [{"x": ' + "9" * 5000 + ', "y": 0.5, "color": "#aa2222"}]}', "JSON"),
]


def _entry_named(content: Any, words: str) -> str:
    """The entry a message must name: hint 2 for `one(...)` files, none for file-level problems."""
    if isinstance(content, dict) and isinstance(content.get("hints"), list) and len(content["hints"]) == 2 \
            and content["hints"][0] == GOOD and "units" not in content:
        return "hint 2"
    return ""


@pytest.mark.parametrize("content,words", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_hint_files_are_refused_naming_file_and_entry(tmp_path, photo, tiny_model, capsys, content, words):
    path = hint_file(tmp_path, content)
    before = photo.read_bytes()
    code, out, err = colorize(capsys, photo, path, tiny_model)
    assert code == 2
    assert str(path) in err and words in err, err
    assert _entry_named(content, words) in err
    assert "Traceback" not in out + err
    assert photo.read_bytes() == before and not (tmp_path / "out").exists()


@pytest.mark.parametrize("raw,words", [c[1:] for c in RAW_FILES], ids=[c[0] for c in RAW_FILES])
def test_malformed_hint_json_is_refused_naming_the_file(tmp_path, photo, tiny_model, capsys, raw, words):
    path = hint_file(tmp_path, None, raw=raw)
    code, out, err = colorize(capsys, photo, path, tiny_model)
    assert code == 2 and str(path) in err and words in err and "Traceback" not in out + err, err
    assert not (tmp_path / "out").exists()


def test_unreadable_hint_files_are_refused(tmp_path, photo, tiny_model, capsys) -> None:
    not_utf8 = tmp_path / "latin1.json"
    not_utf8.write_bytes(b'{"hints": [{"x": 0.5, "y": 0.5, "color": "\xff"}]}')
    folder = tmp_path / "folder.json"
    folder.mkdir()
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (17 * 1024 * 1024))
    for path, words in ((not_utf8, "UTF-8"), (folder, "cannot read"), (tmp_path / "missing.json", "cannot read"),
                        (huge, "too large")):
        code, out, err = colorize(capsys, photo, path, tiny_model)
        assert code == 2 and str(path) in err and words in err and "Traceback" not in out + err


def test_a_byte_order_mark_is_fine(tmp_path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"hints": [GOOD]}).encode())
    assert len(load_hint_file(path).for_size(10, 10)) == 1


def test_pixel_hints_past_the_edge_fail_that_photo_and_the_batch_goes_on(tmp_path, tiny_model, capsys) -> None:
    """A pixel-unit file is placed per photo: x = 40 is past a 40-wide photo's edge, inside a 100-wide one."""
    src = tmp_path / "in"
    src.mkdir()
    Image.new("L", (40, 30), 120).save(src / "narrow.png")
    Image.new("L", (100, 100), 120).save(src / "wide.png")
    before = {p.name: p.read_bytes() for p in src.iterdir()}
    path = hint_file(tmp_path, {"units": "pixels", "hints": [{"x": 40, "y": 10, "color": "#aa2222"}]})
    out_dir = tmp_path / "out"
    code = main(["colorize", str(src), "-o", str(out_dir), "--model", tiny_model, "--hints", str(path), "--json",
                 "--quiet"])
    captured = capsys.readouterr()
    records = {Path(r["source"]).name: r for r in map(json.loads, captured.out.splitlines())}
    assert code == 1
    error = records["narrow.png"]["error"]
    assert not records["narrow.png"]["ok"] and str(path) in error and "hint 1" in error and "outside" in error
    assert records["wide.png"]["ok"] and (out_dir / "wide_color.png").exists()
    assert "Traceback" not in captured.out + captured.err
    assert {p.name: p.read_bytes() for p in src.iterdir()} == before


def test_pixel_hints_on_the_last_pixel_are_inside(tmp_path) -> None:
    path = hint_file(tmp_path, {"units": "pixels", "hints": [{"x": 39, "y": 29, "color": "#aa2222"}]})
    (hint,) = load_hint_file(path).for_size(40, 30)
    assert 0 < hint.x < 1 and 0 < hint.y < 1
    with pytest.raises(HintError, match="hint 1: pixel"):
        load_hint_file(path).for_size(39, 30)


def test_hostile_hint_file_prints_no_traceback_in_a_real_process(tmp_path, photo, tiny_model) -> None:
    path = hint_file(tmp_path, None, raw='{"hints": ' + "[" * 100_000 + "]" * 100_000 + "}")
    proc = subprocess.run([sys.executable, "-m", "ml_core.cli", "colorize", str(photo), "-o", str(tmp_path / "out"),
                           "--model", tiny_model, "--hints", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and str(path) in proc.stderr and "Traceback" not in proc.stdout + proc.stderr


# --- bounded work (finding 4) ---------------------------------------------------------------------

@pytest.fixture
def disc_count(monkeypatch) -> list[int]:
    """Counts the discs the rasterizer places (its work), by wrapping the function that lays them out."""
    counts: list[int] = []
    original = propagation._disc_centers

    def counting(*args, **kwargs):
        centers = original(*args, **kwargs)
        counts.append(len(centers))
        return centers

    monkeypatch.setattr(propagation, "_disc_centers", counting)
    return counts


def test_a_100000_point_stroke_is_refused_before_any_work(tmp_path, photo, tiny_model, capsys, disc_count) -> None:
    points = [[0.5 + 0.4 * math.cos(i / 50), 0.5 + 0.4 * math.sin(i / 50)] for i in range(100_000)]
    path = hint_file(tmp_path, {"hints": [{"points": points, "color": "#aa2222"}]})
    code, out, err = colorize(capsys, photo, path, tiny_model)
    assert code == 2 and str(path) in err and "hint 1" in err and "100,000 points" in err
    assert disc_count == []  # refused up front: nothing was rasterized


def test_the_largest_allowed_file_is_colorized_with_bounded_work(tmp_path, photo, tiny_model, capsys,
                                                                 disc_count) -> None:
    """MAX_POINTS points in maximal strokes just under MAX_PATH photo sides, thin and wide: accepted,
    and the rasterizer places a bounded number of discs (work ∝ discs × rows per disc)."""
    strokes, n = [], MAX_POINTS // MAX_STROKE_POINTS
    per_stroke = MAX_PATH * 0.95 / n
    for k in range(n):
        step = per_stroke / (MAX_STROKE_POINTS - 1)
        pts = [[0.5 + 0.3 * math.cos(i * step / 0.3), 0.5 + 0.3 * math.sin(i * step / 0.3)]
               for i in range(MAX_STROKE_POINTS)]
        strokes.append({"points": pts, "color": "#aa2222", "radius": MAX_RADIUS if k % 2 else 0.0001})
    path = hint_file(tmp_path, {"hints": strokes})
    code, out, err = colorize(capsys, photo, path, tiny_model)
    assert code == 0, err
    # the 40×30 photo's guidance grid is its own size; each level re-rasterizes on a smaller grid
    long_side = 40
    bound_per_level = MAX_POINTS + MAX_PATH * long_side / 0.5
    assert sum(disc_count) <= bound_per_level * 4, sum(disc_count)


def test_a_thousand_single_hints_rasterize_in_one_pass_each(disc_count) -> None:
    hints = tuple(Hint.at((i % 40 + 0.5) / 40, (i // 40 + 0.5) / 25, (20.0, -10.0)) for i in range(MAX_HINTS))
    mask, target = propagation.rasterize_hints(hints, 384, 512)
    assert len(disc_count) == MAX_HINTS and sum(disc_count) == MAX_HINTS  # one disc each, one pass each
    assert float(mask.sum()) > MAX_HINTS and torch.isfinite(target).all()


def test_a_max_points_stroke_costs_its_length_not_its_points(disc_count) -> None:
    """1,000 points jittering inside one pixel: a thousand discs, not a thousand windows of work."""
    stroke = Hint(tuple((0.5 + 1e-4 * (i % 2), 0.5) for i in range(MAX_STROKE_POINTS)), (10.0, 10.0), MAX_RADIUS)
    mask, _ = propagation.rasterize_hints((stroke,), 384, 512)
    assert sum(disc_count) == MAX_STROKE_POINTS
    assert 0 < float(mask.sum()) < math.pi * (MAX_RADIUS * 512 + 2) ** 2


# --- property: any JSON either loads into valid hints or raises HintError -------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
ENTRY_KEYS = st.sampled_from(["x", "y", "points", "radius", "ab", "rgb", "color", "units", "bogus"])
NUMBER = st.one_of(st.floats(-2, 2), st.integers(-5, 300), st.floats())
ENTRY = st.one_of(
    st.dictionaries(ENTRY_KEYS, st.one_of(JSON, NUMBER, st.lists(NUMBER, max_size=4),
                                          st.lists(st.lists(NUMBER, max_size=3), max_size=4)), max_size=5),
    st.builds(lambda x, y, color, extra: {"x": x, "y": y, **color, **extra}, NUMBER, NUMBER,
              st.sampled_from([{"color": "#123456"}, {"rgb": [1, 2, 3]}, {"ab": [5, -5]}]),
              st.dictionaries(ENTRY_KEYS, st.one_of(JSON, NUMBER), max_size=1)),
)
HINT_FILES = st.one_of(
    JSON,
    st.lists(ENTRY, max_size=4),
    st.builds(lambda hints, units: {"hints": hints, **units}, st.lists(ENTRY, max_size=4),
              st.sampled_from([{}, {"units": "relative"}, {"units": "pixels"}, {"units": None}])),
)


def _valid(hint: Hint) -> bool:
    return (all(0.0 <= v <= 1.0 for p in hint.points for v in p) and 0.0 < hint.radius <= MAX_RADIUS
            and all(math.isfinite(v) and abs(v) <= 128 for v in hint.ab))


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(HINT_FILES)
def test_any_json_is_a_valid_hint_file_or_a_hint_error(data) -> None:
    try:
        hint_file = parse_hints(data, "prop.json")
    except HintError as exc:
        assert "prop.json" in str(exc)
        return
    assert isinstance(hint_file, HintFile)
    try:
        hints = hint_file.for_size(64, 48)
    except HintError as exc:  # pixel coordinates past this photo's edge
        assert hint_file.units == "pixels" and "prop.json" in str(exc) and "outside" in str(exc)
        return
    assert all(_valid(h) for h in hints)
