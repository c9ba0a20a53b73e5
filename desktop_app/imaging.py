"""numpy pixels -> QImage for display, done in workers (QImage, unlike QPixmap, is thread-safe).

Only display conversions live here (dtype, buffer wrapping, scaling for the screen); every
colour and model computation happens in ml_core. A QImage built on a numpy buffer borrows it, so
every function returns an image that owns its pixels (a copy or a freshly scaled image) and can
outlive the array.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QImage

THUMB_SIZE = QSize(224, 168)  # thumbnail box in device pixels (2× the filmstrip cell)
# Uncertainty overlay: transparent where the model is sure, warm magenta where it is not.
_OVERLAY_RGB = (255, 40, 150)
_OVERLAY_MAX_ALPHA = 150  # even "completely unsure" leaves the photo visible underneath


def _display_bytes(pixels: np.ndarray) -> np.ndarray:
    """8 bits per channel for the screen (16-bit photos keep all their bits for export)."""
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        return (pixels >> 8).astype(np.uint8)
    raise ValueError(f"cannot display {pixels.dtype} pixels")


def borrowed_qimage(pixels: np.ndarray) -> QImage:
    """A QImage viewing `pixels` (H×W gray or H×W×3 RGB). Valid only while `pixels` lives."""
    arr = np.ascontiguousarray(_display_bytes(pixels))
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        fmt, bpl = QImage.Format.Format_Grayscale8, w
    elif arr.ndim == 3 and arr.shape[2] == 3:
        fmt, bpl = QImage.Format.Format_RGB888, 3 * w
    else:
        raise ValueError(f"expected H×W or H×W×3 pixels, got {arr.shape}")
    image = QImage(arr.data, w, h, bpl, fmt)
    image._keepalive = arr  # type: ignore[attr-defined]  # guards the buffer for the caller
    return image


def to_qimage(pixels: np.ndarray) -> QImage:
    """An owning QImage of `pixels`."""
    return borrowed_qimage(pixels).copy()


def scaled_to(image: QImage, size: QSize) -> QImage:
    """Exactly `size`, smooth; always a new image that owns its pixels."""
    if image.size() == size:
        return image.copy()
    return image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)


def gray_display(pixels: np.ndarray, size: QSize) -> QImage:
    """The original as the model sees it (lightness only), at the preview's size."""
    image = scaled_to(borrowed_qimage(pixels), size)
    if image.format() != QImage.Format.Format_Grayscale8:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return image


def thumbnail(image: QImage, box: QSize = THUMB_SIZE) -> QImage:
    return image.scaled(box, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


# Below this spread (in confidence) a photo's map is called flat: stretching it would paint noise.
_MIN_SPREAD = 0.08


def uncertainty_overlay(confidence: np.ndarray, size: QSize) -> tuple[QImage, tuple[float, float]]:
    """Confidence map (h×w in [0, 1], model resolution) -> (ARGB overlay of `size`, shown range).

    Scaled per photo, because a model is rarely "completely unsure" anywhere: the median..98th
    percentile of its doubt on this photo spans transparent..full tint, so the surer half of the
    photo stays clear and the overlay shows where it hesitates most *on this photo*, rather than
    a near-uniform wash. The range (as confidence,
    most-sure first) goes to the legend, so the scaling is never hidden. A nearly flat map is
    widened to _MIN_SPREAD around its middle, so even doubt stays pale. This is display contrast
    only: the confidence itself comes from ml_core.
    """
    unsure = 1.0 - np.asarray(confidence, dtype=np.float32)
    lo, hi = (float(v) for v in np.percentile(unsure, (50.0, 98.0)))
    if hi - lo < _MIN_SPREAD:
        middle = min(max((hi + lo) / 2, _MIN_SPREAD / 2), 1.0 - _MIN_SPREAD / 2)
        lo, hi = middle - _MIN_SPREAD / 2, middle + _MIN_SPREAD / 2
    scaled = np.clip((unsure - lo) / (hi - lo) * 255.0, 0, 255).astype(np.uint8)
    indexed_pixels = np.ascontiguousarray(scaled)
    h, w = indexed_pixels.shape
    indexed = QImage(indexed_pixels.data, w, h, w, QImage.Format.Format_Indexed8)
    indexed.setColorTable(overlay_colors())
    argb = indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)  # owns its pixels
    image = argb.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return image, (1.0 - lo, 1.0 - hi)


def overlay_colors() -> list[int]:
    """The overlay's 256-step ramp (also drawn in the legend): clear where sure, magenta where unsure.
    Quadratic, so mild doubt barely tints and real hesitation stands out."""
    r, g, b = _OVERLAY_RGB
    return [QColor(r, g, b, round((i / 255) ** 2 * _OVERLAY_MAX_ALPHA)).rgba() for i in range(256)]
