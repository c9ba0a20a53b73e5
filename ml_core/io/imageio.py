"""Robust reading and exporting of photos.

Everything the colorizer touches goes through here so the rest of the app sees one
predictable shape: numpy pixels already turned upright, 8 or 16 bits kept as they were,
metadata kept aside for the export.  Exports are atomic and never replace the original,
because losing someone's only copy of a family photo is the one bug this app must not have.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import re
import stat
import string
import struct
import threading
import zlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from ..errors import PathError
from ..limits import EXPORT_FORMATS  # stated once, torch-free, for the CLI's choices
from .atomic import temp_path_beside
from .walk import find_files

try:  # Pillow can be built without LittleCMS; CMYK then falls back to a plain conversion.
    from PIL import ImageCms
except ImportError:  # pragma: no cover - depends on the Pillow build
    ImageCms = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_MAX_PIXELS", "EXPORT_FORMATS", "MAX_EXPORT_ICC", "PATTERN_FIELDS", "SUPPORTED_SUFFIXES",
    "ExportError", "ImageReadError", "LoadedImage", "check_destination", "check_pattern", "collect_images",
    "default_export_name", "export_format_for", "export_image", "file_identity", "image_from_pil",
    "is_supported_path", "read_image", "read_image_bytes",
]

_log = logging.getLogger(__name__)
StrPath = Union[str, "os.PathLike[str]"]

DEFAULT_MAX_PIXELS = 100_000_000

# Decided from the installed package list, not by importing it: importing pillow_heif costs
# ~80 ms at start-up, so the opener is registered on the first read instead (_register_heif).
_HEIF_INSTALLED = importlib.util.find_spec("pillow_heif") is not None
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif"}
    | ({".heic", ".heif"} if _HEIF_INSTALLED else set())
)
_FORMAT_ALIASES = {"png": "png", "jpg": "jpg", "jpeg": "jpg", "jpe": "jpg", "webp": "webp",
                   "tif": "tiff", "tiff": "tiff"}
_FORMAT_LIST = ", ".join(EXPORT_FORMATS)
_PIL_FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "tiff": "TIFF"}
_EXIF_HEADER = b"Exif\x00\x00"
_ORIENTATION = 0x0112
_MAX_JPEG_EXIF = 65533  # one APP1 segment; Pillow refuses anything larger
# Pillow refuses to open a PNG whose decompressed iCCP (or text) chunk exceeds
# PngImagePlugin.MAX_TEXT_CHUNK (1 MiB): a profile above that is left out of exports, so every
# file we write opens in Pillow (and whatever else uses its defaults)...
MAX_EXPORT_ICC = 1_000_000
# ...while reading accepts what a JPEG can carry (255 APP2 segments), so a photo with a big
# profile is not called corrupt. Text chunks stay bounded by Pillow's MAX_TEXT_MEMORY in total.
_MAX_READ_ICC = 255 * 65519 + 1024
PATTERN_FIELDS = ("name", "ext", "model")  # what an export file name pattern may use
# zlib level for PNG and compressed TIFF, chosen by bench/bench_export.py --sweep on a 12 MP
# colorized photo: level 2 writes an 8-bit PNG in 0.63 CPU-s at 9.1 MB, level 6 (Pillow's
# default, used before) in 2.1 s at 9.5 MB (Pillow's filter choice makes 4-6 no smaller); level
# 0 still costs 0.35 s and 36 MB. 16-bit: 0.9 s / 26 MB against 2.7 s / 24 MB at level 6.
LOSSLESS_LEVEL = 2


class ImageReadError(PathError, ValueError):
    """A photo could not be read; the reason is meant to be shown to the user as is."""


class ExportError(PathError, OSError):
    """A result could not be written (or writing it would have destroyed something)."""


@dataclass
class LoadedImage:
    """Decoded pixels plus the metadata an export should carry over."""

    pixels: np.ndarray
    alpha: np.ndarray | None
    bit_depth: int
    exif: bytes | None
    icc_profile: bytes | None
    source_format: str
    path: Path | None
    frames: int = 1  # animated GIF / multi-page TIFF: only the first frame is in `pixels`

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def is_grayscale(self) -> bool:
        return self.pixels.ndim == 2


# --------------------------------------------------------------------------- reading


def is_supported_path(path: StrPath) -> bool:
    """Cheap suffix test so file dialogs and folder scans need not open every file."""
    return Path(path).suffix.lower() in SUPPORTED_SUFFIXES


def read_image(path: StrPath, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read a photo from disk, turning every failure into one ImageReadError with a clear reason."""
    path = Path(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ImageReadError(path, "is a folder, not an image file")
        if not stat.S_ISREG(st.st_mode):
            raise ImageReadError(path, "is not a regular file")
        if st.st_size == 0:
            raise ImageReadError(path, "file is empty (0 bytes)")
        with open(path, "rb") as fp:  # read-only: the original is never written to
            return _decode(fp, path, path, max_pixels)
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    except OSError as exc:
        raise ImageReadError(path, exc.strerror or str(exc)) from exc


def read_image_bytes(data: bytes, name: str = "<memory>",
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read dropped/pasted/downloaded bytes with the same rules as files; `name` labels errors."""
    if not data:
        raise ImageReadError(name, "file is empty (0 bytes)")
    return _decode(io.BytesIO(data), Path(name), None, max_pixels)


def image_from_pil(img: Image.Image, path: StrPath | None = None) -> LoadedImage:
    """Normalise an already-open Pillow image (e.g. from the clipboard) like a file read."""
    shown = Path(path) if path is not None else Path("<image>")
    try:
        img.load()
    except Exception as exc:
        raise _decode_error(shown, exc, DEFAULT_MAX_PIXELS) from exc
    _check_size(img.size, shown, None)
    return _build(img, Path(path) if path is not None else None, None)


def _decode(fp: BinaryIO, shown: Path, source: Path | None, max_pixels: int) -> LoadedImage:
    _register_heif()
    _allow_pillow_pixels(max_pixels)
    _allow_png_icc()
    try:
        img = Image.open(fp)  # reads the header only
    except Exception as exc:
        # Pillow cannot open some TIFFs at all (e.g. 16-bit gray with alpha); tifffile can.
        if _is_tiff(fp) and (loaded := _read_tiff16(fp, shown, source, max_pixels)):
            return loaded
        raise _decode_error(shown, exc, max_pixels) from exc
    with img:
        _check_size(img.size, shown, max_pixels)  # before any pixel is decoded
        if img.format == "TIFF" and 16 in _tiff_bits(img):
            if loaded := _read_tiff16(fp, shown, source, max_pixels):
                return loaded
        png16 = _png16_rawmode(img)
        frames = _frame_count(img, shown)
        try:
            img.load()
        except Exception as exc:
            raise _decode_error(shown, exc, max_pixels) from exc
        loaded = _build(img, source, _read_png16(fp, img, png16) if png16 else None)
        loaded.frames = frames
        return loaded


def _frame_count(img: Image.Image, shown: Path) -> int:
    """Frames or pages in the file, so a caller can say that only the first was used.

    Counting walks the frame headers without decoding pixels. A file damaged after its first
    frame still gives that frame (counted as one), as it did before frames were counted.
    """
    try:
        n = int(getattr(img, "n_frames", 1) or 1)
        if img.tell() != 0:
            img.seek(0)
    except Exception as exc:
        _log.warning("could not count the frames of %s (%s); using the first", shown, exc)
        with contextlib.suppress(Exception):
            img.seek(0)
        return 1
    return max(n, 1)


def _check_size(size: tuple[int, int], shown: Path, max_pixels: int | None) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise ImageReadError(shown, f"image has no pixels ({w}×{h})")
    if max_pixels is not None and w * h > max_pixels:
        raise ImageReadError(shown, _too_large(w * h, max_pixels))


def _too_large(pixels: int, max_pixels: int) -> str:
    return f"is {pixels / 1e6:.1f} megapixels; the limit is {max_pixels / 1e6:.1f} megapixels"


def _decode_error(shown: Path, exc: BaseException, max_pixels: int) -> ImageReadError:
    if isinstance(exc, Image.DecompressionBombError):
        found = re.search(r"\((\d+) pixels\)", str(exc))
        reason = (_too_large(int(found.group(1)), max_pixels) if found
                  else f"is larger than the limit of {max_pixels / 1e6:.1f} megapixels")
        return ImageReadError(shown, reason)
    if isinstance(exc, UnidentifiedImageError):
        if shown.suffix.lower() in {".heic", ".heif"} and not _register_heif():
            return ImageReadError(shown, "reading HEIC/HEIF photos needs the pillow-heif package")
        return ImageReadError(shown, "not a recognized image format (or the file is damaged)")
    if isinstance(exc, MemoryError):
        return ImageReadError(shown, "not enough memory to decode this image")
    # Deliberately no ImageFile.LOAD_TRUNCATED_IMAGES: half a photo silently padded with grey
    # would be colorized and exported as if it were fine.
    return ImageReadError(shown, f"the file is truncated or corrupt ({exc})")


_PILLOW_LIMIT_LOCK = threading.Lock()


def _allow_png_icc() -> None:
    """Let Pillow read PNG profiles as large as a JPEG may carry; only ever raised, like the pixels."""
    with _PILLOW_LIMIT_LOCK:
        if PngImagePlugin.MAX_TEXT_CHUNK < _MAX_READ_ICC:
            PngImagePlugin.MAX_TEXT_CHUNK = _MAX_READ_ICC


def _allow_pillow_pixels(max_pixels: int) -> None:
    """Let our own limit, not Pillow's ~89 MP default, decide what is too large.

    Pillow only reads the module-global Image.MAX_IMAGE_PIXELS, so it cannot be set per call.
    Setting and restoring it around each call would race with other threads; instead it is only
    ever *raised* (under a lock) to the largest limit requested, never lowered, so no thread can
    see a limit below its own. The real per-call limit is _check_size on the header. Pillow then
    warns only above our limit (where we raise anyway) and its DecompressionBombError (at twice
    the limit) is converted to our error in _decode_error.
    """
    with _PILLOW_LIMIT_LOCK:
        current = Image.MAX_IMAGE_PIXELS
        if current is not None and current < max_pixels:
            Image.MAX_IMAGE_PIXELS = max_pixels


@cache
def _register_heif() -> bool:
    if not _HEIF_INSTALLED:
        return False
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception as exc:  # broken binary wheel: report HEIC files as unreadable, not crash
        _log.warning("pillow-heif is installed but could not be loaded: %s", exc)
        return False
    return True


def _is_tiff(fp: BinaryIO) -> bool:
    fp.seek(0)
    return fp.read(4) in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _tiff_bits(img: Image.Image) -> tuple[int, ...]:
    bits = img.tag_v2.get(258, (8,))
    return bits if isinstance(bits, tuple) else (bits,)


def _read_tiff16(fp: BinaryIO, shown: Path, source: Path | None,
                 max_pixels: int) -> LoadedImage | None:
    """16-bit TIFF through tifffile: Pillow silently keeps only 8 bits of RGB (and cannot open
    gray with alpha). None means "let Pillow try", e.g. for LZW, which needs imagecodecs here."""
    try:
        import tifffile

        fp.seek(0)
        with tifffile.TiffFile(fp) as tif:
            page = tif.pages[0]
            if page.bitspersample != 16 or page.photometric not in (1, 2):  # gray, RGB
                return None
            _check_size((page.imagewidth, page.imagelength), shown, max_pixels)
            arr, axes, frames = page.asarray(), page.axes, len(tif.pages)
            color = 3 if page.photometric == 2 else 1
            extras = tuple(page.extrasamples or ())
            tags = {code: page.tags[code].value for code in (274, 34675) if code in page.tags}
    except ImageReadError:
        raise
    except Exception as exc:
        _log.warning("tifffile could not read %s (%s); trying Pillow", shown, exc)
        return None
    if arr.dtype != np.uint16:
        return None
    if arr.ndim == 2:
        arr = arr[..., None]
    elif axes.startswith("S"):  # planar storage: samples first
        arr = np.moveaxis(arr, 0, -1)
    has_alpha = arr.shape[-1] > color and extras[:1] in ((1,), (2,))  # (un)associated alpha
    icc = tags.get(34675)
    loaded = _loaded(*_split(arr, color, has_alpha), int(tags.get(274, 1)), None,
                     bytes(icc) if icc else None, "TIFF", source)
    loaded.frames = frames
    return loaded


def _png16_rawmode(img: Image.Image) -> str | None:
    if img.format != "PNG" or getattr(img, "is_animated", False) or len(img.tile) != 1:
        return None
    rawmode = img.tile[0][3]
    return rawmode if rawmode in ("RGB;16B", "RGBA;16B", "LA;16B") else None


def _read_png16(fp: BinaryIO, img: Image.Image, rawmode: str) -> np.ndarray | None:
    """Recover all 16 bits of an RGB(A) or gray+alpha PNG that Pillow decoded to 8.

    Pillow keeps the high byte of each big-endian sample. Decoding the same stream again with
    its little-endian unpacker keeps the *low* byte instead (for gray+alpha, the plain "RGBA"
    unpacker hands over all four bytes), so passes through Pillow's own C decoder (filters,
    interlacing, CRCs) give the full values without a hand-written decoder.
    A transparent-colour tRNS chunk is ignored on this path; 16-bit PNGs use real alpha.
    """
    try:
        fp.seek(0)
        with Image.open(fp) as low:
            tile = low.tile[0]
            low_raw = "RGBA" if rawmode == "LA;16B" else rawmode.replace(";16B", ";16L")
            low.tile = [tile._replace(args=low_raw) if hasattr(tile, "_replace")
                        else (*tile[:3], low_raw)]
            low.load()
            lo = np.array(low)
        if rawmode == "LA;16B":  # bytes per pixel: gray high, gray low, alpha high, alpha low
            return (lo[..., 0::2].astype(np.uint16) << 8) | lo[..., 1::2]
        hi = np.array(img)
        return (hi.astype(np.uint16) << 8) | lo if hi.shape == lo.shape else None
    except Exception as exc:  # depends on Pillow internals: fall back to 8 bits, never fail
        _log.warning("could not read all 16 bits of a PNG (%s); using 8 bits", exc)
        return None


def _build(img: Image.Image, source: Path | None, deep: np.ndarray | None) -> LoadedImage:
    exif, orientation = _exif_and_orientation(img)
    icc = img.info.get("icc_profile") or None
    if deep is not None:  # 16-bit PNG: gray+alpha, RGB or RGBA
        pixels, alpha = _split(deep, 3 if deep.shape[-1] >= 3 else 1, deep.shape[-1] in (2, 4))
    else:
        pixels, alpha, icc = _pil_to_arrays(img, icc)
    return _loaded(pixels, alpha, orientation, exif, icc, img.format or "", source)


def _split(arr: np.ndarray, color: int, has_alpha: bool) -> tuple[np.ndarray, np.ndarray | None]:
    pixels = arr[..., 0] if color == 1 else arr[..., :color]
    return pixels, (arr[..., color] if has_alpha else None)


def _loaded(pixels: np.ndarray, alpha: np.ndarray | None, orientation: int, exif: bytes | None,
            icc: bytes | None, source_format: str, source: Path | None) -> LoadedImage:
    pixels = np.ascontiguousarray(_apply_orientation(pixels, orientation))
    if alpha is not None:
        alpha = np.ascontiguousarray(_apply_orientation(alpha, orientation))
    return LoadedImage(pixels=pixels, alpha=alpha, bit_depth=16 if pixels.dtype == np.uint16 else 8,
                       exif=exif, icc_profile=icc, source_format=source_format, path=source)


def _pil_to_arrays(img: Image.Image, icc: bytes | None
                   ) -> tuple[np.ndarray, np.ndarray | None, bytes | None]:
    mode = img.mode
    gray_palette = False
    if mode.startswith("I;16"):
        return np.array(img).astype(np.uint16), None, icc  # also normalises I;16B byte order
    if mode in ("I", "F"):
        return _scale_to_uint16(np.array(img)), None, icc
    if mode in ("P", "PA"):
        gray_palette = _palette_is_gray(img)
        has_alpha = (mode == "PA" or "transparency" in img.info
                     or (img.palette is not None and img.palette.mode == "RGBA"))
        img = img.convert("RGBA" if has_alpha else "RGB")
    elif mode in ("L", "RGB") and "transparency" in img.info:  # tRNS colour key -> real alpha
        img = img.convert("LA" if mode == "L" else "RGBA")
    elif mode == "CMYK":
        img, icc = _cmyk_to_rgb(img, icc)
    elif mode not in ("L", "LA", "RGB", "RGBA"):  # 1, La, RGBa, RGBX, YCbCr, LAB, HSV, ...
        img = img.convert({"1": "L", "La": "LA", "RGBa": "RGBA"}.get(mode, "RGB"))
    arr = np.array(img)
    alpha = None
    if img.mode in ("LA", "RGBA"):
        arr, alpha = arr[..., :-1], arr[..., -1]
    if gray_palette or img.mode == "LA":  # grayscale stays 2-D, even when it came as a palette
        arr = arr[..., 0]
    return arr, alpha, icc


def _palette_is_gray(img: Image.Image) -> bool:
    palette = img.getpalette("RGB")
    if not palette:
        return False
    rgb = np.asarray(palette).reshape(-1, 3)
    return bool((rgb == rgb[:, :1]).all())


def _scale_to_uint16(arr: np.ndarray) -> np.ndarray:
    """Map 32-bit integer/float pixels (modes I and F) onto uint16.

    Integers within 0..65535 are almost always 16-bit data that a decoder widened, so they are
    kept as they are. Floats carry no bit depth, so their range says which convention the file
    follows: within 0..1 the usual normalised one, within 0..255 8-bit codes (kept as 16-bit
    values they would come out almost black), within 0..65535 16-bit codes. Anything else
    (negative or huge values from scientific files) has no absolute meaning as a photo, so its
    actual range is stretched to 0..65535 rather than clipped into a blown-out image.
    """
    values = arr.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(arr.shape, np.uint16)
    lo, hi = float(values[finite].min()), float(values[finite].max())
    values[~finite] = lo
    if arr.dtype.kind == "f" and lo >= 0 and hi <= 1:
        values *= 65535
    elif arr.dtype.kind == "f" and lo >= 0 and hi <= 255:
        values *= 257  # 255 -> 65535, exactly as 8-bit codes widen to 16 bits
    elif lo < 0 or hi > 65535:
        values = (values - lo) * (65535 / (hi - lo)) if hi > lo else np.zeros_like(values)
    return np.clip(np.rint(values), 0, 65535).astype(np.uint16)


def _cmyk_to_rgb(img: Image.Image, icc: bytes | None) -> tuple[Image.Image, bytes | None]:
    """CMYK -> sRGB, colour-managed when the file says how its inks look.

    The result is sRGB, which is what untagged RGB means, so the CMYK profile is dropped
    (carrying it over would mis-tag the RGB pixels).
    """
    if icc and ImageCms is not None:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"),
                                             outputMode="RGB"), None
        except Exception as exc:  # broken/unsupported profile: the plain formula is still fine
            _log.warning("CMYK colour management failed (%s); converting without it", exc)
    return img.convert("RGB"), None


# EXIF orientation -> (transpose, flip rows, flip columns); same results as ImageOps.exif_transpose
# but done on numpy so that the tifffile and 16-bit PNG paths share it.
_ORIENT_OPS = {2: (False, False, True), 3: (False, True, True), 4: (False, True, False),
               5: (True, False, False), 6: (True, False, True), 7: (True, True, True),
               8: (True, True, False)}


def _apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    transpose, flip_rows, flip_cols = _ORIENT_OPS.get(orientation, (False, False, False))
    if transpose:
        arr = arr.swapaxes(0, 1)
    if flip_rows:
        arr = arr[::-1]
    if flip_cols:
        arr = arr[:, ::-1]
    return arr


def _exif_and_orientation(img: Image.Image) -> tuple[bytes | None, int]:
    try:
        orientation = int(img.getexif().get(_ORIENTATION, 1))
    except Exception:  # malformed EXIF must not make a readable photo unreadable
        orientation = 1
    raw = img.info.get("exif")
    return (_reset_orientation(raw) if isinstance(raw, bytes) and raw else None), orientation


def _reset_orientation(raw: bytes) -> bytes | None:
    """Set the orientation tag to 1 in place, because the pixels are already upright.

    Patching the one value (instead of re-serialising with Pillow) keeps maker notes and every
    other offset byte-identical. Malformed EXIF gives None: dropping it is safer than exporting
    an orientation that would rotate the picture a second time.
    """
    body = bytearray(raw[len(_EXIF_HEADER):] if raw.startswith(_EXIF_HEADER) else raw)
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(body[:2])]
        (ifd,) = struct.unpack_from(order + "I", body, 4)
        (count,) = struct.unpack_from(order + "H", body, ifd)
        for entry in range(ifd + 2, ifd + 2 + 12 * count, 12):
            tag, kind, n = struct.unpack_from(order + "HHI", body, entry)
            if tag == _ORIENTATION and kind == 3 and n == 1:  # SHORT, stored inline
                struct.pack_into(order + "H", body, entry + 8, 1)
    except (KeyError, struct.error):
        return None
    return _EXIF_HEADER + bytes(body)


# --------------------------------------------------------------------------- collecting


def collect_images(inputs: Iterable[StrPath], recursive: bool = True
                   ) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Expand what the user dropped or typed into a deterministic list of photos.

    The walk is the one training uses too (`walk.find_files`), in a person's reading order; in
    folders only photo suffixes count, so notes beside the photos are not problems, while a file
    named directly that is not a photo is one. Problems are returned rather than raised so a
    batch can start with what is usable and still tell the user what was left out.
    """
    found = find_files([Path(item) for item in inputs], wanted=is_supported_path, recursive=recursive)
    return [Path(file.path) for file in found.files], [(Path(path), reason) for path, reason in found.problems]


# --------------------------------------------------------------------------- exporting


def check_pattern(pattern: str, fields: Iterable[str] = PATTERN_FIELDS) -> None:
    """Refuse a file name pattern that cannot make a plain file name in the output folder.

    Checked once before any work, so a typo costs a message, not a batch of tracebacks. A
    pattern names a file, never a path: separators and a leading dot (hidden files, `..`) are
    refused rather than quietly rewritten into a name the person did not ask for.
    """
    known = tuple(fields)
    allowed = ", ".join("{" + f + "}" for f in known)
    if not pattern.strip():
        raise ValueError(f"the file name pattern is empty; use e.g. {{name}}_color ({allowed})")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"invalid file name pattern {pattern!r}: {exc}; fields are {allowed}") from None
    for literal, field_name, spec, conversion in parts:
        if any(sep in literal for sep in ("/", "\\")):
            raise ValueError(f"invalid file name pattern {pattern!r}: it names a file, not a path "
                             "(no / or \\)")
        if field_name is None:
            continue
        if field_name not in known:
            shown = "{" + field_name + "}" if field_name else "{}"
            raise ValueError(f"invalid file name pattern {pattern!r}: unknown field {shown}; "
                             f"fields are {allowed}")
        if spec or conversion:
            raise ValueError(f"invalid file name pattern {pattern!r}: write fields plainly, "
                             f"as {allowed}")
    if pattern.lstrip().startswith("."):
        raise ValueError(f"invalid file name pattern {pattern!r}: a name starting with '.' "
                         "would be hidden (or point outside the folder)")


def default_export_name(source: StrPath, pattern: str = "{name}_color", fmt: str = "png",
                        **fields: object) -> str:
    """File name for a result, from a user-editable pattern, safe on every OS."""
    source = Path(source)
    key = _FORMAT_ALIASES.get(fmt.lower().lstrip("."))
    if key is None:
        raise ValueError(f"unsupported export format {fmt!r}; use one of {_FORMAT_LIST}")
    check_pattern(pattern, ("name", "ext", *fields))
    try:
        stem = pattern.format_map({"name": source.stem, "ext": source.suffix[1:], **fields})
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ValueError(f"invalid file name pattern {pattern!r}: {exc!r}") from None
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", stem).strip().rstrip(". ") or "image"
    return stem + EXPORT_FORMATS[key]


# Lossy inputs stay lossy (a phone's HEIC becomes JPEG), lossless ones stay lossless; formats
# few programs write (BMP, GIF) become PNG, lossless and read everywhere.
_MATCHING_FORMAT = {".jpg": "jpg", ".jpeg": "jpg", ".jpe": "jpg", ".png": "png", ".tif": "tiff",
                    ".tiff": "tiff", ".webp": "webp", ".heic": "jpg", ".heif": "jpg"}


def export_format_for(source: StrPath) -> str:
    """The export format matching a photo's own, so a JPEG comes back a JPEG (at the export
    quality, 4:4:4 from 90 up) and not a PNG six times its size that takes ten times longer
    to write; PNG, TIFF and WebP stay what they are, anything else becomes PNG."""
    return _MATCHING_FORMAT.get(Path(source).suffix.lower(), "png")


def export_image(rgb: np.ndarray, dest: StrPath, fmt: str | None = None, *, quality: int = 92,
                 alpha: np.ndarray | None = None, exif: bytes | None = None,
                 icc_profile: bytes | None = None, source: StrPath | None = None,
                 overwrite: bool = False,
                 protected: Collection[tuple[int, int]] = frozenset()) -> Path:
    """Write a result atomically and return where it went.

    The suffix matching `fmt` is appended when `dest` has another one, hence the return value.
    Bad arrays are programming errors (ValueError); everything about the destination is an
    ExportError for the user. The original (`source`) is never replaced, even with overwrite,
    and neither is any file in `protected` (file_identity of every input of the same batch:
    one photo's output name may well be another input's name).
    """
    dest = Path(dest)
    key = _FORMAT_ALIASES.get((fmt if fmt is not None else dest.suffix).lower().lstrip("."))
    if key is None:
        raise ExportError(dest, f"unsupported export format {fmt or dest.suffix or '(none)'}; "
                                f"use one of {_FORMAT_LIST}")
    if _FORMAT_ALIASES.get(dest.suffix.lower().lstrip(".")) != key:
        dest = dest.with_name(dest.name + EXPORT_FORMATS[key])
    if key in ("jpg", "webp") and not 1 <= quality <= 100:  # lossless formats ignore it
        raise ValueError(f"quality must be 1..100, got {quality}")
    pixels, alpha = _checked_arrays(rgb, alpha)
    write = _encoder(key, pixels, alpha, quality, exif, icc_profile)

    check_destination(dest, source, overwrite, protected)
    _make_folder(dest.parent)
    try:
        _atomic_write(dest, write, overwrite)
    except ExportError:
        raise
    except OSError as exc:
        raise ExportError(dest, exc.strerror or str(exc)) from exc
    except Exception as exc:  # encoder failures, e.g. WebP's 16383-pixel side limit
        raise ExportError(dest, f"could not encode {key.upper()}: {exc}") from exc
    return dest


def check_destination(dest: Path, source: StrPath | None = None, overwrite: bool = False,
                      protected: Collection[tuple[int, int]] = frozenset()) -> None:
    """Raise the ExportError writing `dest` would meet; cheap, so a batch can ask before the work.

    Never the original (`source`) nor any `protected` input, even with overwrite.
    """
    if source is not None and _same_file(dest, Path(source)):
        raise ExportError(dest, "is the original photo; originals are never overwritten")
    if protected and file_identity(dest) in protected:
        raise ExportError(dest, "is one of the photos being colorized; inputs are never overwritten")
    if dest.is_dir():
        raise ExportError(dest, "is a folder")
    if not overwrite and os.path.lexists(dest):
        raise ExportError(dest, "already exists")


def file_identity(path: StrPath) -> tuple[int, int] | None:
    """(device, inode) of an existing file, following links; None when there is none.

    Hard links and links to an input share it, so comparing identities protects what comparing
    names would miss, in O(1) per output however large the batch.
    """
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _make_folder(folder: Path) -> None:
    """Create the output folder, saying so plainly when a file sits where a folder must be."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        reason = ("the output folder is a file, not a folder" if blocker == folder
                  else f"is a file, so the output folder {folder} cannot be created")
        raise ExportError(blocker, reason) from None
    except OSError as exc:
        raise ExportError(folder, f"cannot create the output folder ({exc.strerror or exc})") from exc


def _checked_arrays(rgb: np.ndarray, alpha: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    pixels = np.asarray(rgb)
    ok_shape = pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)
    if pixels.dtype not in (np.uint8, np.uint16) or not ok_shape or pixels.size == 0:
        raise ValueError("expected H×W×3 (or H×W) uint8/uint16 pixels, "
                         f"got {pixels.shape} {pixels.dtype}")
    if alpha is None:
        return pixels, None
    alpha = np.asarray(alpha)
    if alpha.shape != pixels.shape[:2] or alpha.dtype not in (np.uint8, np.uint16):
        raise ValueError("alpha must be H×W uint8/uint16 matching the pixels, "
                         f"got {alpha.shape} {alpha.dtype}")
    if alpha.dtype != pixels.dtype:
        alpha = _to_uint8(alpha) if pixels.dtype == np.uint8 else alpha.astype(np.uint16) * 257
    return pixels, alpha


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)  # round(v / 257)


def _encoder(key: str, pixels: np.ndarray, alpha: np.ndarray | None, quality: int,
             exif: bytes | None, icc: bytes | None) -> Callable[[BinaryIO], None]:
    # A gray or CMYK profile attached to RGB pixels would make viewers misrender them, and one
    # above MAX_EXPORT_ICC would make the PNG unreadable to Pillow's default limits.
    if icc and (icc[16:20] != (b"RGB " if pixels.ndim == 3 else b"GRAY") or len(icc) > MAX_EXPORT_ICC):
        icc = None
    # The pixels we are given are upright, so any orientation tag must say so.
    exif = _reset_orientation(exif) if exif else None
    deep = pixels.dtype == np.uint16
    if key == "png" and deep:
        return lambda f: _write_png16(f, _stack(pixels, alpha), icc, exif)
    if key == "tiff" and deep:  # EXIF is not carried here: tifffile has no simple way to write it
        return lambda f: _write_tiff16(f, pixels, alpha, icc)
    if key == "jpg":
        # JPEG has no alpha. Dropping it (not compositing) keeps the colours the model produced;
        # callers who want a background can composite before exporting.
        alpha = None
        if exif and len(exif) > _MAX_JPEG_EXIF:
            exif = None
    img = Image.fromarray(_stack(_to_uint8(pixels), None if alpha is None else _to_uint8(alpha)))
    params: dict[str, object] = {}
    if exif:
        params["exif"] = exif
    if icc:
        params["icc_profile"] = icc
    if key == "jpg":
        params.update(quality=quality, optimize=False)  # optimize is slow for little gain
        if quality >= 90:
            params["subsampling"] = 0  # 4:4:4: chroma is the whole point of a colorizer
    elif key == "webp":
        params["quality"] = quality
    elif key == "png":
        params["compress_level"] = LOSSLESS_LEVEL
    # 8-bit TIFF stays uncompressed (12 MP: 0.07 s, 36 MB; deflate would write 15 MB in 0.9 s):
    # Pillow's libtiff (compressing) path fails on EXIF sub-IFDs, which camera and scanner
    # files nearly always carry, and uncompressed TIFF is what archival users expect anyway.
    return lambda f: img.save(f, format=_PIL_FORMATS[key], **params)


def _stack(pixels: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    return pixels if alpha is None else np.dstack([pixels, alpha])


def _write_png16(f: BinaryIO, arr: np.ndarray, icc: bytes | None, exif: bytes | None) -> None:
    """Minimal 16-bit PNG writer: Pillow cannot write 16-bit RGB(A) PNG at all."""
    h, w = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else arr.shape[2]

    def chunk(kind: bytes, data: bytes) -> None:
        f.write(struct.pack(">I", len(data)) + kind)
        f.write(data)
        f.write(struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))))

    rows = arr.astype(">u2").reshape(h, -1).view(np.uint8)
    filtered = np.empty((h, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = 2  # "Up" filter: vectorises in numpy and compresses photos well
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    f.write(b"\x89PNG\r\n\x1a\n")
    chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, {1: 0, 2: 4, 3: 2, 4: 6}[channels], 0, 0, 0))
    if icc:
        chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc))
    if exif:
        chunk(b"eXIf", exif[len(_EXIF_HEADER):] if exif.startswith(_EXIF_HEADER) else exif)
    compressor = zlib.compressobj(LOSSLESS_LEVEL)
    band = max(1, (1 << 22) // filtered.shape[1])  # stream ~4 MB at a time to bound memory
    for start in range(0, h, band):
        data = compressor.compress(filtered[start:start + band])
        if data:
            chunk(b"IDAT", data)
    chunk(b"IDAT", compressor.flush())
    chunk(b"IEND", b"")


def _write_tiff16(f: BinaryIO, pixels: np.ndarray, alpha: np.ndarray | None,
                  icc: bytes | None) -> None:
    import tifffile

    tifffile.imwrite(f, _stack(pixels, alpha),
                     photometric="rgb" if pixels.ndim == 3 else "minisblack",
                     extrasamples=("unassalpha",) if alpha is not None else None,
                     # Horizontal differencing makes photos ~30 % smaller and zlib faster
                     # (12 MP: 39 MB in 1.7 s without it at level 6, 26 MB in 0.9 s with it
                     # at LOSSLESS_LEVEL); strips let tifffile compress on several threads.
                     compression="zlib", compressionargs={"level": LOSSLESS_LEVEL}, predictor=True,
                     rowsperstrip=256, maxworkers=min(4, os.cpu_count() or 1),
                     iccprofile=icc, metadata=None)


def _same_file(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        if os.path.samefile(a, b):  # catches hard links and case-insensitive file systems
            return True
    try:
        return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())
    except (OSError, RuntimeError):
        return os.path.normcase(a.absolute()) == os.path.normcase(b.absolute())


def _atomic_write(dest: Path, write: Callable[[BinaryIO], None], overwrite: bool) -> None:
    """Write beside `dest`, then rename, so a crash or full disk never leaves half a file."""
    # Not tempfile.mkstemp: its 0600 mode would end up on the exported photo. Exclusive
    # creation ("x") lets the user's umask decide, as for any other file they create.
    tmp = temp_path_beside(dest)  # atomic.remove_stale_temp_files knows this naming after a kill -9
    f = open(tmp, "xb")
    try:
        with f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, dest)
        else:
            _publish_new(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # make the rename itself durable
        with contextlib.suppress(OSError):
            dir_fd = os.open(dest.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _publish_new(tmp: Path, dest: Path) -> None:
    """Rename without clobbering a file that appeared meanwhile (another export, another app)."""
    try:
        os.link(tmp, dest)  # atomic "create only if absent"
    except FileExistsError:
        raise ExportError(dest, "already exists") from None
    except OSError:  # no hard links here (FAT, some network shares): check, then rename
        if os.path.lexists(dest):
            raise ExportError(dest, "already exists") from None
        os.replace(tmp, dest)
        return
    with contextlib.suppress(OSError):
        os.unlink(tmp)
