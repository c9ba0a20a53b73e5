"""Fading: black and white points restored, and gentle local contrast.

The levels are ml_core.levels.stretch_levels, the same robust-percentile stretch the network's
input gets (area-averaged, so dust and grain do not set the points; gain capped, so a real night
scene is lifted, not blown up), here applied to the photo itself and only partly, by strength.
Local contrast is CLAHE blended in at a low weight: enough to bring back mid-tone separation a
faded print lost, not enough to make halos.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..levels import robust_points, stretch_levels

# Where a faded print's black and white points are moved toward, L*: the darkest and lightest
# quarter of natural photos (BSDS500 tuning half: 1st-percentile black 3.5 at the 25th percentile
# of photos, 99th-percentile white 97.5 at the 75th). Points already past them are left alone, so
# a photo with a full range is not touched and a misty or low-key one is only pulled, not forced.
TARGET_BLACK = 3.5
TARGET_WHITE = 97.5
# CLAHE share at strength 1. 0: on the tuning half a share of 0.25 lowered PSNR by 0.3-2.4 dB on
# clean and faded photos alike (bench notes in docs/eval/repair.md), so it ships switched off.
LOCAL_CONTRAST = 0.0
CLAHE_CLIP = 2.0


def restore_levels(lum: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """`lum` (L*) with a lifted black point pulled down and a dulled white point pulled up, each by
    `0.2 + 0.6 × strength` of its distance past the targets (one linear map, gain capped).

    Why only part of the way: the clean photo's own range is unknown (natural photos' black points
    run from 2 to 23 L*), and on the tuning half half-way (strength 0.5) gave the best mean PSNR
    over clean, lightly, moderately and heavily faded photos."""
    lum = np.asarray(lum, dtype=np.float32)
    x = torch.from_numpy((lum - 50.0) / 100.0)[None, None]
    black, white = (float(p) * 100.0 + 50.0 for p in robust_points(x))
    amount = 0.2 + 0.6 * strength
    new_black = black - amount * max(0.0, black - TARGET_BLACK)
    new_white = white + amount * max(0.0, TARGET_WHITE - white)
    if white - black < 1.0 or (new_black == black and new_white == white):
        return lum.copy()  # flat (nothing to stretch) or already full range
    out = stretch_levels(x, (new_black - 50.0) / 100.0, (new_white - 50.0) / 100.0)[0, 0].numpy()
    return out * 100.0 + 50.0


def local_contrast(lum: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """CLAHE on 16-bit lightness, blended in at LOCAL_CONTRAST × strength."""
    weight = LOCAL_CONTRAST * strength
    if weight <= 0 or float(lum.max()) - float(lum.min()) < 1.0:
        return np.asarray(lum, dtype=np.float32).copy()
    lum = np.asarray(lum, dtype=np.float32)
    h, w = lum.shape
    tiles = (max(1, round(w / 256)), max(1, round(h / 256)))  # ~256-px tiles whatever the size
    tiles = (min(tiles[0], 16), min(tiles[1], 16))
    u16 = np.clip(lum * 655.35 + 0.5, 0, 65535).astype(np.uint16)
    eq = cv2.createCLAHE(clipLimit=CLAHE_CLIP, tileGridSize=tiles).apply(u16).astype(np.float32) / 655.35
    return lum + weight * (eq - lum)


def restore_fading(lum: np.ndarray, strength: float = 0.5) -> np.ndarray:
    return local_contrast(restore_levels(lum, strength), strength)
