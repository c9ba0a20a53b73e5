"""Fading: black and white points restored, and gentle local contrast.

The levels are ml_core.color.levels.stretch_levels, the same robust-percentile stretch the network's
input gets (area-averaged, so dust and grain do not set the points; gain capped, so a real night
scene is lifted, not blown up), here applied to the photo itself and only partly, by strength.
Local contrast is CLAHE blended in at a low weight: enough to bring back mid-tone separation a
faded print lost, not enough to make halos.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..color.levels import levels_map, robust_points

# Where a faded print's black and white points are moved toward, L*: the darkest and lightest
# quarter of natural photos (BSDS500 tuning half: 1st-percentile black 3.5 at the 25th percentile
# of photos, 99th-percentile white 97.5 at the 75th). Points already past them are left alone, so
# a photo with a full range is not touched and a misty or low-key one is only pulled, not forced.
TARGET_BLACK = 3.5
TARGET_WHITE = 97.5
POINTS_MAX_SIDE = 512
# CLAHE share at strength 1. 0: on the tuning half a share of 0.25 lowered PSNR by 0.3-2.4 dB on
# clean and faded photos alike (bench notes in docs/eval/repair.md), so it ships switched off.
LOCAL_CONTRAST = 0.0
CLAHE_CLIP = 2.0


def restore_levels(lum: np.ndarray, strength: float = 0.5) -> np.ndarray:
    """`lum` (L*) with a lifted black point pulled down and a dulled white point pulled up, each by
    `0.2 + 0.6 × strength` of its distance past the targets (one linear map, gain capped).

    Why only part of the way: the clean photo's own range is unknown (natural photos' black points
    run from 2 to 23 L*), and on the tuning half about half-way (strength 0.5) gave the best mean
    PSNR over clean, lightly, moderately and heavily faded photos. The points are measured on a
    copy at most 512 pixels long (they come from a 128×128 average anyway), and the map is applied
    in place of stretch_levels' clamp to the new points: a photo keeps its deepest shadows and
    brightest highlights instead of having the last percent clipped flat.
    """
    lum = np.asarray(lum, dtype=np.float32)
    h, w = lum.shape
    step = max(1, min(h, w) // POINTS_MAX_SIDE)  # every step-th pixel: the points average 128×128 anyway
    small = lum[::step, ::step]
    f = min(1.0, POINTS_MAX_SIDE / max(small.shape))
    if f < 1.0:
        small = cv2.resize(small, (max(1, round(small.shape[1] * f)), max(1, round(small.shape[0] * f))),
                           interpolation=cv2.INTER_AREA)
    x = torch.from_numpy((small - 50.0) / 100.0)[None, None]
    black, white = (float(p) * 100.0 + 50.0 for p in robust_points(x))
    amount = 0.2 + 0.6 * strength
    new_black = black - amount * max(0.0, black - TARGET_BLACK)
    new_white = white + amount * max(0.0, TARGET_WHITE - white)
    if white - black < 1.0 or (new_black == black and new_white == white):
        return lum.copy()  # flat (nothing to stretch) or already full range
    mid, gain, center = (float(v) for v in levels_map(x, (new_black - 50.0) / 100.0, (new_white - 50.0) / 100.0))
    # (L - 50)/100 -> (x - mid) * gain + center -> * 100 + 50, folded into one multiply-add.
    scale = gain
    offset = (center - mid * gain) * 100.0 + 50.0 - 50.0 * gain
    return cv2.addWeighted(lum, float(scale), lum, 0.0, float(offset))  # one threaded pass


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
