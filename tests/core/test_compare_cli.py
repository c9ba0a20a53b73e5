"""`chroma compare`: one labelled sheet of a photo through several models; bad input named, never a traceback."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from ml_core.cli import main
from ml_core.commands.compare import model_list
from ml_core.evaluation.contact_sheet import SheetTile, compose_sheet


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sheet_has_the_gray_photo_and_one_colored_tile_per_model(tmp_path, fixture_photos, builtin_models,
                                                                 capsys) -> None:
    photo = next(p for p in fixture_photos if p.name.startswith("landscape"))
    before = _digest(photo)
    out = tmp_path / "sheet.png"
    assert main(["compare", str(photo), "--models", "default,fast", "-o", str(out), "--tile", "128"]) == 0
    sheet = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert sheet.shape[1] > 3 * sheet.shape[0] // 2  # three tiles side by side
    thirds = np.array_split(sheet[8:8 + 128], 3, axis=1)
    spread = [np.abs(t - t.mean(axis=2, keepdims=True)).mean() for t in thirds]
    assert spread[0] < 1.0 and min(spread[1:]) > 3.0  # gray input, then two colored results
    assert _digest(photo) == before
    assert "2 of 2 models" in capsys.readouterr().err


def test_a_model_that_cannot_load_gets_an_empty_tile_and_the_rest_render(tmp_path, fixture_photos, builtin_models,
                                                                         capsys) -> None:
    out = tmp_path / "sheet.jpg"
    assert main(["compare", str(fixture_photos[0]), "--models", "fast,no-such-model", "-o", str(out),
                 "--tile", "96"]) == 1
    err = capsys.readouterr().err
    assert "no-such-model" in err and "Traceback" not in err and "1 of 2 models" in err
    assert out.exists()


@pytest.mark.parametrize(("argv", "says"), [
    (["--models", "a,,b"], "--models: empty name"),
    (["--models", "a,b,c,d,e,f,g"], "at most 6"),
    (["--models", "fast,fast"], "fast given twice"),
    (["--models", "fast", "-o", "sheet.tiff"], "a sheet is .jpg or .png"),
    (["--models", "fast", "--tile", "5000"], "--tile must be 64..1024"),
])
def test_bad_options_are_named_before_any_work(tmp_path, fixture_photos, argv, says, capsys) -> None:
    assert main(["compare", str(fixture_photos[0]), *argv]) == 2
    assert says in capsys.readouterr().err


def test_the_photo_itself_is_never_the_sheet(tmp_path, fixture_photos, builtin_models, capsys) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(fixture_photos[0].read_bytes())
    before = _digest(photo)
    assert main(["compare", str(photo), "--models", "fast", "-o", str(photo), "--overwrite"]) == 2
    assert _digest(photo) == before
    assert "photo.jpg" in capsys.readouterr().err


def test_an_unreadable_photo_is_named(tmp_path, capsys) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    assert main(["compare", str(bad), "--models", "fast"]) == 2
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "Traceback" not in err


def test_model_list_keeps_the_order_given() -> None:
    assert model_list(" b, a ,c") == ["b", "a", "c"]


def test_sheet_columns_align_photos_of_different_shapes() -> None:
    wide, tall = np.full((50, 200, 3), 200, np.uint8), np.full((200, 50, 3), 40, np.uint8)
    sheet = compose_sheet([[wide, tall], [SheetTile(tall, "x"), SheetTile(None, "y", "failed: why")]],
                          titles=("first", "second"), tile_height=64, gap=4)
    arr = np.asarray(sheet)
    assert sheet.width == 4 + 256 + 4 + 64 + 4  # each column as wide as its widest tile
    assert arr.dtype == np.uint8 and arr.shape[2] == 3
    with pytest.raises(ValueError, match="at least one tile"):
        compose_sheet([])
