"""Tests for ml_core.io.imageio. Every image is generated in tmp_path; no binary fixtures."""

from __future__ import annotations

import io
import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageFile, ImageOps
from PIL.JpegImagePlugin import get_sampling

from ml_core.io import imageio as mio
from ml_core.io.imageio import (
    DEFAULT_MAX_PIXELS,
    EXPORT_FORMATS,
    SUPPORTED_SUFFIXES,
    ExportError,
    ImageReadError,
    LoadedImage,
    collect_images,
    default_export_name,
    export_image,
    image_from_pil,
    is_supported_path,
    read_image,
    read_image_bytes,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared/photos/fixtures"


def photo(h: int = 48, w: int = 64, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus a little noise: close enough to a photo for lossy codecs."""
    y, x = np.mgrid[0:h, 0:w]
    noise = np.random.default_rng(seed).integers(0, 8, (h, w, 3))
    rgb = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 127 // (w + h)], -1)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def save(arr_or_img, path: Path, **params) -> Path:
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(arr_or_img)
    img.save(path, **params)
    return path


def pil(path: Path, read):
    """Look at a file with Pillow and close it again (no ResourceWarnings)."""
    with Image.open(path) as im:
        return read(im)


def exif_with(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    exif.get_ifd(0x8769)[0x9003] = "2001:02:03 04:05:06"
    if orientation is not None:
        exif[0x0112] = orientation
    return exif.tobytes()


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize(("suffix", "lossless"), [
    (".png", True), (".bmp", True), (".tif", True), (".gif", True),
    (".jpg", False), (".webp", False),
])
def test_rgb_read_round_trip(tmp_path: Path, suffix: str, lossless: bool) -> None:
    arr = photo()
    if suffix == ".gif":  # GIF is a palette format: keep within 256 colours so it is exact
        arr = (arr // 64 * 64).astype(np.uint8)
    path = save(arr, tmp_path / f"a{suffix}")
    img = read_image(path)
    assert img.pixels.shape == (48, 64, 3) and img.pixels.dtype == np.uint8
    assert img.bit_depth == 8 and img.alpha is None and not img.is_grayscale
    assert img.size == (64, 48) and img.path == path and img.pixels.flags.c_contiguous
    assert img.source_format == pil(path, lambda im: im.format)
    diff = np.abs(img.pixels.astype(int) - arr).mean()
    assert diff == 0 if lossless else diff < 6


def test_grayscale_stays_2d(tmp_path: Path) -> None:
    gray = photo()[..., 0]
    for name in ("g.png", "g.jpg"):
        img = read_image(save(gray, tmp_path / name))
        assert img.is_grayscale and img.pixels.shape == (48, 64) and img.pixels.dtype == np.uint8
    assert np.array_equal(read_image(tmp_path / "g.png").pixels, gray)


def test_one_pixel_wide_gray_stays_2d(tmp_path: Path) -> None:
    column = np.arange(10, dtype=np.uint8).reshape(10, 1)
    assert read_image(save(column, tmp_path / "col.png")).pixels.shape == (10, 1)
    with_alpha = read_image(save(np.dstack([column, column]), tmp_path / "cola.png"))
    assert with_alpha.pixels.shape == (10, 1) and with_alpha.alpha.shape == (10, 1)


def test_mode_1_becomes_gray(tmp_path: Path) -> None:
    bw = Image.fromarray(photo()[..., 0] > 128)
    img = read_image(save(bw, tmp_path / "bw.png"))
    assert img.is_grayscale and set(np.unique(img.pixels)) <= {0, 255}


def test_16bit_gray_png_keeps_values(tmp_path: Path) -> None:
    arr = np.array([[0, 1000, 30000], [40000, 65535, 257]], np.uint16)
    path = save(Image.fromarray(arr), tmp_path / "g16.png")
    img = read_image(path)
    assert img.pixels.dtype == np.uint16 and img.bit_depth == 16 and img.is_grayscale
    assert np.array_equal(img.pixels, arr)


@pytest.mark.parametrize("planar", [False, True])
def test_16bit_rgb_tiff_keeps_uint16(tmp_path: Path, planar: bool) -> None:
    arr = np.random.default_rng(1).integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    path = tmp_path / "deep.tif"
    if planar:
        tifffile.imwrite(path, np.moveaxis(arr, -1, 0), photometric="rgb", planarconfig="separate")
    else:
        tifffile.imwrite(path, arr, photometric="rgb", compression="zlib")
    img = read_image(path)
    assert img.pixels.dtype == np.uint16 and img.bit_depth == 16
    assert np.array_equal(img.pixels, arr)


def test_16bit_rgba_tiff_with_orientation(tmp_path: Path) -> None:
    arr = np.random.default_rng(2).integers(0, 65536, (20, 30, 4), dtype=np.uint16)
    path = tmp_path / "deep.tif"
    tifffile.imwrite(path, arr, photometric="rgb", extrasamples=("unassalpha",),
                     extratags=[(274, "H", 1, 6, True)])
    img = read_image(path)
    assert img.size == (20, 30)  # rotated by 90 degrees
    assert np.array_equal(img.pixels, np.rot90(arr[..., :3], -1))
    assert np.array_equal(img.alpha, np.rot90(arr[..., 3], -1))


def test_palette_with_transparency_keeps_alpha(tmp_path: Path) -> None:
    idx = np.zeros((10, 12), np.uint8)
    idx[:, 6:] = 1
    pal = Image.fromarray(idx, "L").convert("P")
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    save(pal, tmp_path / "p.png", transparency=0)
    img = read_image(tmp_path / "p.png")
    assert img.pixels.shape == (10, 12, 3)
    assert (img.alpha[:, :6] == 0).all() and (img.alpha[:, 6:] == 255).all()
    assert (img.pixels[:, 6:] == [0, 0, 255]).all()


def test_gray_palette_becomes_2d(tmp_path: Path) -> None:
    gray = photo()[..., 1]
    img = read_image(save(Image.fromarray(gray).convert("P"), tmp_path / "gp.gif"))
    assert img.is_grayscale and np.array_equal(img.pixels, gray)


def test_rgba_png_alpha_survives_export(tmp_path: Path) -> None:
    rgb = photo()
    alpha = np.tile(np.arange(64, dtype=np.uint8) * 4, (48, 1))
    img = read_image(save(np.dstack([rgb, alpha]), tmp_path / "in.png"))
    assert np.array_equal(img.alpha, alpha) and np.array_equal(img.pixels, rgb)
    out = export_image(img.pixels, tmp_path / "out.png", alpha=img.alpha)
    back = read_image(out)
    assert np.array_equal(back.alpha, alpha) and np.array_equal(back.pixels, rgb)


def test_cmyk_jpeg_reads_as_rgb(tmp_path: Path) -> None:
    cmyk = Image.fromarray(photo()).convert("CMYK")
    path = save(cmyk, tmp_path / "c.jpg", quality=95)
    img = read_image(path)
    assert img.pixels.shape == (48, 64, 3) and img.pixels.dtype == np.uint8
    assert np.array_equal(img.pixels, pil(path, lambda im: np.array(im.convert("RGB"))))


def test_cmyk_with_unusable_icc_falls_back(tmp_path: Path) -> None:
    cmyk = Image.fromarray(photo()).convert("CMYK")
    path = save(cmyk, tmp_path / "c.jpg", icc_profile=b"junk" * 40)
    img = read_image(path)
    assert img.pixels.shape == (48, 64, 3) and img.icc_profile is None


@pytest.mark.parametrize("mode", ["YCbCr", "LAB", "HSV", "RGBX"])
def test_other_color_modes_become_rgb(mode: str) -> None:
    img = image_from_pil(Image.fromarray(photo()).convert(mode))
    assert img.pixels.shape == (48, 64, 3) and img.pixels.dtype == np.uint8


def test_mode_i_and_f_scale_to_uint16() -> None:
    kept = image_from_pil(Image.fromarray(np.array([[0, 500], [65535, 7]], np.int32), "I"))
    assert kept.pixels.dtype == np.uint16 and kept.pixels.tolist() == [[0, 500], [65535, 7]]
    wide = image_from_pil(Image.fromarray(np.array([[-100, 0], [100, 100]], np.int32), "I"))
    assert wide.pixels.tolist() == [[0, 32768], [65535, 65535]]
    unit = image_from_pil(Image.fromarray(np.array([[0.0, 0.5], [1.0, np.nan]], np.float32), "F"))
    assert unit.pixels.tolist() == [[0, 32768], [65535, 0]] and unit.bit_depth == 16


def test_exif_orientation_6_jpeg(tmp_path: Path) -> None:
    arr = photo(40, 60)
    path = save(arr, tmp_path / "o.jpg", quality=95, exif=exif_with(6))
    img = read_image(path)
    assert img.size == (40, 60)  # portrait after rotation
    expected = pil(path, lambda im: np.array(ImageOps.exif_transpose(im)))
    assert np.array_equal(img.pixels, expected)
    exif = Image.Exif()
    exif.load(img.exif)
    assert exif[0x0112] == 1 and exif[0x010F] == "TestCam"
    out = export_image(img.pixels, tmp_path / "o_out.jpg", exif=img.exif)
    exif, size = pil(out, lambda im: (im.getexif(), im.size))
    assert exif[0x0112] == 1 and size == (40, 60)
    assert exif.get_ifd(0x8769)[0x9003] == "2001:02:03 04:05:06"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_matches_pillow(tmp_path: Path, orientation: int) -> None:
    arr = np.dstack([photo(6, 9, seed=orientation), np.full((6, 9), 200, np.uint8)])
    path = save(arr, tmp_path / "o.png", exif=exif_with(orientation))
    img = read_image(path)
    expected = pil(path, lambda im: np.array(ImageOps.exif_transpose(im)))
    assert np.array_equal(img.pixels, expected[..., :3])
    assert np.array_equal(img.alpha, expected[..., 3])


def test_export_never_rotates_twice(tmp_path: Path) -> None:
    """Even EXIF that still says 'rotate' is reset: exported pixels are upright already."""
    out = export_image(photo(), tmp_path / "x.png", exif=exif_with(8))
    assert pil(out, lambda im: im.getexif()[0x0112]) == 1


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp", "tiff"])
def test_icc_and_exif_survive_export(tmp_path: Path, fmt: str) -> None:
    icc = srgb_icc()
    out = export_image(photo(), tmp_path / "meta", fmt, exif=exif_with(1), icc_profile=icc)
    assert out.suffix == EXPORT_FORMATS[fmt]
    img = read_image(out)
    assert img.icc_profile == icc
    exif = Image.Exif()
    exif.load(img.exif if fmt != "tiff" else pil(out, lambda im: im.getexif().tobytes()))
    assert exif[0x010F] == "TestCam"


def test_gray_icc_is_not_put_on_rgb_export(tmp_path: Path) -> None:
    gray_icc = bytearray(srgb_icc())
    gray_icc[16:20] = b"GRAY"
    out = export_image(photo(), tmp_path / "x.png", icc_profile=bytes(gray_icc))
    assert "icc_profile" not in pil(out, lambda im: im.info)


# --------------------------------------------------------------------------- read errors


def assert_read_error(path: Path, *words: str, **kwargs) -> ImageReadError:
    with pytest.raises(ImageReadError) as info:
        read_image(path, **kwargs)
    err = info.value
    assert str(err) == f"{path}: {err.reason}" and err.path == path and path.name in str(err)
    for word in words:
        assert word in err.reason
    return err


def test_truncated_jpeg(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(photo(120, 160)).save(buf, "JPEG")
    path = tmp_path / "half.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert not ImageFile.LOAD_TRUNCATED_IMAGES
    assert_read_error(path, "truncated")


def test_truncated_png(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(photo()).save(buf, "PNG")
    path = tmp_path / "half.png"
    path.write_bytes(buf.getvalue()[:-200])
    assert_read_error(path, "truncated")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    assert_read_error(path, "empty")


def test_text_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture\n" * 10)
    assert_read_error(path, "not a recognized image")


def test_missing_file(tmp_path: Path) -> None:
    assert_read_error(tmp_path / "nope.jpg", "not found")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    assert_read_error(folder, "folder")


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(photo(), tmp_path / "locked.png")

    def denied(*args, **kwargs):  # chmod does not stop root, so simulate the OS refusing
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mio, "open", denied, raising=False)
    assert_read_error(path, "permission denied")


def test_too_large_is_refused_before_decoding(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(photo(200, 300), tmp_path / "big.png")
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(1))
    assert_read_error(path, "is 0.1 megapixels; the limit is 0.1 megapixels", max_pixels=50_000)
    assert not decoded


def test_too_large_message_and_bytes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.fromarray(photo(120, 100)).save(buf, "PNG")  # 12 000 pixels
    with pytest.raises(ImageReadError, match="is 0.0 megapixels; the limit is 0.0 megapixels"):
        read_image_bytes(buf.getvalue(), "clip.png", max_pixels=10_000)


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_header(tmp_path: Path) -> None:
    """Far above Pillow's own limit too: its DecompressionBombError becomes our message."""
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(50_000, 50_000))
    assert_read_error(path, "is 2500.0 megapixels; the limit is 100.0 megapixels")
    path.write_bytes(png_header_only(12_000, 10_000))  # 120 MP: between ours and Pillow's
    assert_read_error(path, "is 120.0 megapixels; the limit is 100.0 megapixels")


def test_pillow_limit_only_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    mio._allow_pillow_pixels(5000)
    assert Image.MAX_IMAGE_PIXELS == 5000
    mio._allow_pillow_pixels(10)
    assert Image.MAX_IMAGE_PIXELS == 5000


def test_zero_size_image() -> None:
    with pytest.raises(ImageReadError, match="no pixels"):
        image_from_pil(Image.new("RGB", (0, 5)), "clip.png")


def test_errors_are_picklable() -> None:
    err = pickle.loads(pickle.dumps(ImageReadError("a.jpg", "bad")))
    assert (err.path, err.reason, str(err)) == (Path("a.jpg"), "bad", "a.jpg: bad")
    exp = pickle.loads(pickle.dumps(ExportError("b.png", "full")))
    assert isinstance(exp, OSError) and str(exp) == "b.png: full"


def test_source_file_is_never_modified(tmp_path: Path) -> None:
    path = save(photo(), tmp_path / "orig.jpg", exif=exif_with(6))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read_image(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_read_bytes_and_from_pil() -> None:
    buf = io.BytesIO()
    Image.fromarray(photo()).save(buf, "PNG")
    img = read_image_bytes(buf.getvalue(), "pasted.png")
    assert img.path is None and np.array_equal(img.pixels, photo())
    with pytest.raises(ImageReadError, match="^pasted.png: file is empty"):
        read_image_bytes(b"", "pasted.png")
    clip = image_from_pil(Image.fromarray(np.dstack([photo(), photo()[..., 0]])))
    assert clip.source_format == "" and clip.alpha is not None and clip.path is None


# --------------------------------------------------------------------------- HEIC and fixtures


def test_heic_read(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    assert {".heic", ".heif"} <= SUPPORTED_SUFFIXES
    path = tmp_path / "phone.heic"
    pillow_heif.from_pillow(Image.fromarray(photo())).save(path, quality=90)
    img = read_image(path)
    assert img.source_format == "HEIF" and img.pixels.shape == (48, 64, 3)
    assert np.abs(img.pixels.astype(int) - photo()).mean() < 8


def test_real_fixture_photos() -> None:
    photos = sorted(FIXTURES.glob("*.jpg"))
    if not photos:
        pytest.skip(f"no fixture photos in {FIXTURES}")
    for path in photos:
        img = read_image(path)
        assert img.pixels.dtype == np.uint8, path
        assert img.pixels.ndim == 3 and img.pixels.shape[2] == 3, path


# --------------------------------------------------------------------------- collecting


def test_collect_images(tmp_path: Path) -> None:
    root = tmp_path / "scans"
    for rel in ["b.JPG", "a10.png", "a2.png", "notes.txt", ".hidden.png", "sub/c.tif",
                "sub/deep/d.webp", ".git/e.png", "sub/.cache/f.png"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"x")
    (tmp_path / "loose.bmp").write_bytes(b"x")
    (tmp_path / "readme.md").write_bytes(b"x")
    inputs = [root, tmp_path / "loose.bmp", tmp_path / "readme.md", tmp_path / "ghost.png",
              root / "a2.png"]  # a2 again: listed once
    images, problems = collect_images(inputs)
    assert [p.relative_to(tmp_path).as_posix() for p in images] == [
        "scans/a2.png", "scans/a10.png", "scans/b.JPG", "scans/sub/c.tif", "scans/sub/deep/d.webp",
        "loose.bmp"]
    assert [(p.name, "supported" in r or "exist" in r) for p, r in problems] == [
        ("readme.md", True), ("ghost.png", True)]
    flat, _ = collect_images([root], recursive=False)
    assert [p.name for p in flat] == ["a2.png", "a10.png", "b.JPG"]
    assert collect_images([str(root)]) == collect_images([root])  # strings work, deterministic


def test_is_supported_path() -> None:
    assert is_supported_path("A.JPEG") and is_supported_path(Path("x/y.tiff"))
    assert not is_supported_path("a.txt") and not is_supported_path("jpg")
    assert all(s == s.lower() and s.startswith(".") for s in SUPPORTED_SUFFIXES)
    assert DEFAULT_MAX_PIXELS == 100_000_000


# --------------------------------------------------------------------------- exporting


def test_default_export_name() -> None:
    assert default_export_name(Path("/p/IMG_1.JPG")) == "IMG_1_color.png"
    assert default_export_name(Path("a.tif"), "{name}-{model}.{ext}", "jpeg", model="eccv/16") == \
        "a-eccv_16.tif.jpg"
    assert default_export_name(Path("a.png"), fmt="tiff") == "a_color.tif"
    with pytest.raises(ValueError, match="model"):
        default_export_name(Path("a.png"), "{name}_{model}")
    with pytest.raises(ValueError):
        default_export_name(Path("a.png"), fmt="gif")


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp", "tiff"])
def test_export_round_trip(tmp_path: Path, fmt: str) -> None:
    arr = photo()
    out = export_image(arr, tmp_path / f"out{EXPORT_FORMATS[fmt]}")
    assert out == tmp_path / f"out{EXPORT_FORMATS[fmt]}" and no_temp_files(tmp_path)
    back = read_image(out)
    diff = np.abs(back.pixels.astype(int) - arr).mean()
    assert diff == 0 if fmt in ("png", "tiff") else diff < 6
    if os.name == "posix":  # permissions follow the umask, not the 0600 of a temp file
        umask = os.umask(0)
        os.umask(umask)
        assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_export_format_and_suffix(tmp_path: Path) -> None:
    assert export_image(photo(), tmp_path / "a.jpeg").suffix == ".jpeg"
    assert export_image(photo(), tmp_path / "b.jpg", "png").name == "b.jpg.png"
    assert pil(export_image(photo(), tmp_path / "c.TIFF"), lambda im: im.format) == "TIFF"
    with pytest.raises(ExportError, match="unsupported export format"):
        export_image(photo(), tmp_path / "d.gif")
    with pytest.raises(ValueError):
        export_image(photo().astype(np.float32), tmp_path / "e.png")
    with pytest.raises(ValueError):
        export_image(photo(), tmp_path / "f.png", alpha=np.zeros((2, 2), np.uint8))
    assert not (tmp_path / "e.png").exists() and not (tmp_path / "f.png").exists()


def test_jpeg_quality_and_subsampling(tmp_path: Path) -> None:
    hi = export_image(photo(), tmp_path / "hi.jpg", quality=95, alpha=np.zeros((48, 64), np.uint8))
    lo = export_image(photo(), tmp_path / "lo.jpg", quality=60)
    assert pil(hi, get_sampling) == 0 and pil(lo, get_sampling) != 0
    assert pil(hi, lambda im: im.mode) == "RGB"  # alpha dropped for JPEG
    assert hi.stat().st_size > lo.stat().st_size


def test_16bit_export_to_8bit_formats_rounds(tmp_path: Path) -> None:
    deep = np.full((8, 8, 3), 0, np.uint16)
    deep[..., 0], deep[..., 1], deep[..., 2] = 128, 129, 65535
    out = export_image(deep, tmp_path / "d.webp", quality=100)
    px = pil(out, np.array)
    assert abs(int(px[0, 0, 0]) - 0) <= 2 and abs(int(px[0, 0, 2]) - 255) <= 2
    assert mio._to_uint8(np.array([128, 129, 65535, 32767], np.uint16)).tolist() == [0, 1, 255, 127]


DEEP_CASES = [((30, 40, 3), False), ((30, 40, 3), True), ((30, 40), False), ((30, 40), True)]


def deep_image(shape: tuple[int, ...], with_alpha: bool, seed: int):
    rng = np.random.default_rng(seed)
    alpha = rng.integers(0, 65536, shape[:2], dtype=np.uint16) if with_alpha else None
    return rng.integers(0, 65536, shape, dtype=np.uint16), alpha


def assert_same_alpha(got: np.ndarray | None, expected: np.ndarray | None) -> None:
    assert (got is None and expected is None) or np.array_equal(got, expected)


@pytest.mark.parametrize(("shape", "with_alpha"), DEEP_CASES)
def test_16bit_png_export_round_trip(tmp_path: Path, shape, with_alpha: bool) -> None:
    arr, alpha = deep_image(shape, with_alpha, 3)
    icc = srgb_icc() if arr.ndim == 3 else None
    out = export_image(arr, tmp_path / "deep.png", alpha=alpha, icc_profile=icc, exif=exif_with(3))
    back = read_image(out)
    assert back.bit_depth == 16 and np.array_equal(back.pixels, arr)
    assert_same_alpha(back.alpha, alpha)
    assert back.icc_profile == icc and back.exif is not None
    # Independent check with Pillow's own decoder: 16-bit gray exactly, colour as its high bytes.
    decoded = pil(out, np.array)
    if arr.ndim == 2 and alpha is None:
        assert np.array_equal(decoded, arr)
    else:
        assert np.array_equal(decoded[..., 0], (arr[..., 0] if arr.ndim == 3 else arr) >> 8)


@pytest.mark.parametrize(("shape", "with_alpha"), DEEP_CASES)
def test_16bit_tiff_export_round_trip(tmp_path: Path, shape, with_alpha: bool) -> None:
    arr, alpha = deep_image(shape, with_alpha, 4)
    icc = srgb_icc() if arr.ndim == 3 else None
    out = export_image(arr, tmp_path / "deep.tif", alpha=alpha, icc_profile=icc)
    stored = tifffile.imread(out)
    assert np.array_equal(stored, arr if alpha is None else np.dstack([arr, alpha]))
    back = read_image(out)
    assert back.bit_depth == 16 and np.array_equal(back.pixels, arr)
    assert_same_alpha(back.alpha, alpha)
    assert back.icc_profile == icc


def test_truncated_16bit_tiff(tmp_path: Path) -> None:
    buf = io.BytesIO()
    tifffile.imwrite(buf, deep_image((64, 80, 3), False, 5)[0], photometric="rgb")
    path = tmp_path / "cut.tif"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert_read_error(path, "truncated")


def test_export_never_overwrites_source(tmp_path: Path) -> None:
    src = save(photo(), tmp_path / "orig.png")
    original = src.read_bytes()
    for dest in (src, tmp_path / "." / "orig.png", tmp_path / "sub" / ".." / "orig.png"):
        with pytest.raises(ExportError, match="original"):
            export_image(photo() // 2, dest, overwrite=True, source=src)
    link = tmp_path / "hard.png"
    os.link(src, link)
    with pytest.raises(ExportError, match="original"):
        export_image(photo() // 2, link, overwrite=True, source=src)
    assert src.read_bytes() == original and no_temp_files(tmp_path)


def test_export_refuses_existing_unless_overwrite(tmp_path: Path) -> None:
    dest = tmp_path / "new" / "deeper" / "out.png"  # parents are created
    export_image(photo(), dest)
    first = dest.read_bytes()
    with pytest.raises(ExportError, match="already exists") as info:
        export_image(photo() // 2, dest)
    assert info.value.path == dest and dest.read_bytes() == first
    export_image(photo() // 2, dest, overwrite=True)
    assert dest.read_bytes() != first and no_temp_files(dest.parent)


def test_export_to_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "looks_like.png").mkdir()
    with pytest.raises(ExportError, match="folder"):
        export_image(photo(), tmp_path / "looks_like.png", overwrite=True)


def test_no_clobber_race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file that appears while encoding is still not overwritten."""
    dest = tmp_path / "race.png"
    real_save = Image.Image.save

    def save_and_race(self, fp, *args, **kwargs):
        dest.write_bytes(b"someone else's")
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save_and_race)
    with pytest.raises(ExportError, match="already exists"):
        export_image(photo(), dest)
    assert dest.read_bytes() == b"someone else's" and no_temp_files(tmp_path)


def test_failed_export_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = export_image(photo(), tmp_path / "keep.png")
    previous = dest.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ExportError, match="No space left on device"):
        export_image(photo() // 2, dest, overwrite=True)
    assert dest.read_bytes() == previous and no_temp_files(tmp_path)
    with pytest.raises(ExportError):
        export_image(photo(), tmp_path / "fresh.jpg")
    assert not (tmp_path / "fresh.jpg").exists() and no_temp_files(tmp_path)


def test_ml_core_imageio_does_not_import_qt() -> None:
    source = Path(mio.__file__).read_text()
    assert "PySide" not in source and "PyQt" not in source


def test_loaded_image_properties() -> None:
    img = LoadedImage(np.zeros((3, 5), np.uint8), None, 8, None, None, "PNG", None)
    assert (img.width, img.height, img.size, img.is_grayscale) == (5, 3, (5, 3), True)


def test_every_file_error_is_a_path_error_with_path_and_reason_and_survives_pickling():
    from ml_core.errors import PathError
    from ml_core.modelfiles.modelfile import ModelFileError
    from ml_core.training.checkpoint import CheckpointError

    for cls, kind in ((ImageReadError, ValueError), (ExportError, OSError), (ModelFileError, ValueError),
                      (CheckpointError, ValueError)):
        error = cls("/photos/a.jpg", "file is empty (0 bytes)")
        assert isinstance(error, PathError) and isinstance(error, kind), cls
        assert str(error) == "/photos/a.jpg: file is empty (0 bytes)" and error.path == Path("/photos/a.jpg")
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is cls and (again.path, again.reason, str(again)) == (error.path, error.reason, str(error))


@pytest.mark.parametrize("name,fmt", [("scan.JPG", "jpg"), ("a.jpeg", "jpg"), ("phone.heic", "jpg"),
                                      ("b.png", "png"), ("c.tif", "tiff"), ("d.TIFF", "tiff"),
                                      ("e.webp", "webp"), ("f.bmp", "png"), ("g.gif", "png"), ("noext", "png")])
def test_export_format_matches_the_input(name: str, fmt: str) -> None:
    assert mio.export_format_for(Path("/photos") / name) == fmt


def test_lossless_exports_are_compressed_and_exact(tmp_path: Path) -> None:
    """PNG and 16-bit TIFF are written compressed (a fast zlib level, TIFF with its predictor)."""
    rng = np.random.default_rng(7)
    yy, xx = np.indices((120, 160))
    smooth = ((yy * 300 + xx * 200)[..., None] + rng.integers(0, 4, (120, 160, 3))).astype(np.uint16)
    for arr, fmt in (((smooth >> 8).astype(np.uint8), "png"), (smooth, "png"), (smooth, "tiff")):
        out = export_image(arr, tmp_path / f"x{arr.dtype}.{fmt}", fmt)
        assert out.stat().st_size < arr.nbytes / 2, (fmt, arr.dtype)
        back = read_image(out).pixels
        assert back.dtype == arr.dtype and np.array_equal(back, arr)
    with tifffile.TiffFile(out) as tif:  # the last one: the 16-bit TIFF
        assert tif.pages[0].predictor == 2
