"""Fill masked pixels (scratches, dust) from their surroundings.

Method (chosen on the benchmark): normalized convolution, a Gaussian average of the unmasked
neighbours only. Across a thin line it interpolates the two sides (exact on a linear gradient),
costs two blurs whatever the mask, and never reads a damaged pixel. OpenCV's inpainting (Telea,
Navier-Stokes) is kept as an alternative the benchmark compares against.
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMA = 1.5  # pixels, at detection scale: a 4-pixel scratch is bridged by its two sides
WIDE_SIGMA = 6.0  # second pass for the rare spot wider than the first pass reaches
METHODS = ("average", "telea", "ns")


def fill(lum: np.ndarray, mask: np.ndarray, method: str = "average", scale: float = 1.0) -> np.ndarray:
    """`lum` (L*, float32) with `mask` pixels replaced from their unmasked surroundings.

    `scale`: the photo's size over the size the mask was detected at (≥ 1), so the fill reaches as
    far, relative to the photo, in a preview and in a full-size export. Unmasked pixels are
    returned unchanged (a copy).
    """
    if method not in METHODS:
        raise ValueError(f"fill method must be one of {', '.join(METHODS)}, got {method!r}")
    lum = np.asarray(lum, dtype=np.float32)
    out = lum.copy()
    if not mask.any():
        return out
    if method != "average":
        # cv2.inpaint wants 8 bits: fill a 0..255 copy and take back only the masked pixels, at
        # full precision from a 16-bit-style split (coarse + fine) would cost twice; 0.4 L* steps
        # are below what the eye sees in a filled scratch.
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        img8 = np.clip(lum * 2.55 + 0.5, 0, 255).astype(np.uint8)
        filled = cv2.inpaint(img8, mask.astype(np.uint8), max(3.0, 3.0 * scale), flag)
        out[mask] = filled[mask].astype(np.float32) / 2.55
        return out
    # The two blurs are the only full-image passes; everything else reads and writes the masked
    # pixels alone (a fraction of a percent of a photo), found once as a point list.
    pts = cv2.findNonZero(mask.view(np.uint8) if mask.dtype == bool else (mask != 0).view(np.uint8))
    pts = pts.reshape(-1, 2)
    xs, ys = pts[:, 0], pts[:, 1]
    keep = np.ones(lum.shape, np.float32)
    keep[ys, xs] = 0.0
    for sigma in (SIGMA * scale, WIDE_SIGMA * scale):
        num = cv2.GaussianBlur(out * keep, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        den = cv2.GaussianBlur(keep, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        d = den[ys, xs]
        reached = d > 1e-3
        rx, ry = xs[reached], ys[reached]
        out[ry, rx] = num[ry, rx] / d[reached]
        keep[ry, rx] = 1.0
        xs, ys = xs[~reached], ys[~reached]
        if len(xs) == 0:
            break
    return out
