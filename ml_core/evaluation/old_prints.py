"""Results on real old prints, measured without ground truth: is the result one wash of color?

No color original exists for an old print, so what can be measured is the *hue spread* of a
result: the square root of the smaller eigenvalue of the covariance of its a*b* values, the
measure the training corpus used to drop sepia and single-tint photos. Below `MONOTONE_SPREAD`
the whole photo is one color family, the brown or pink wash people complain of; below
`NEAR_MONOTONE_SPREAD` it reads as one tint with touches of another (thresholds looked at on
`../shared/photos/old_bw`, 2026-11-29). The smaller eigenvalue measures spread in the second
direction, so a result of exactly two colors (one line in a*b*) also scores low; real photos
and real results have more than two.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PIL import Image
from skimage.color import rgb2lab

MONOTONE_SPREAD = 1.5
NEAR_MONOTONE_SPREAD = 2.5
_MEASURE_SIDE = 256  # the spread of a wash does not depend on resolution; this keeps it quick


def _ab(rgb: np.ndarray) -> np.ndarray:
    img = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    img.thumbnail((_MEASURE_SIDE, _MEASURE_SIDE))
    return rgb2lab(np.asarray(img, dtype=np.float32) / 255.0)[..., 1:]


def hue_spread(rgb: np.ndarray) -> float:
    """√(smaller eigenvalue) of the a*b* covariance of an 8-bit RGB result."""
    ab = _ab(rgb).reshape(-1, 2)
    return float(np.sqrt(max(np.linalg.eigvalsh(np.cov(ab.T))[0], 0.0)))


def mean_chroma(rgb: np.ndarray) -> float:
    """Mean a*b* distance from gray: how much color there is at all."""
    ab = _ab(rgb)
    return float(np.hypot(ab[..., 0], ab[..., 1]).mean())


def wash_summary(spreads: Iterable[float], chromas: Iterable[float]) -> dict[str, float | int]:
    """The counts a model card and the comparison table report for a set of results."""
    s, c = np.asarray(list(spreads), dtype=float), np.asarray(list(chromas), dtype=float)
    if s.size == 0:
        raise ValueError("no results to summarize")
    return {"results": int(s.size), "monotone": int((s < MONOTONE_SPREAD).sum()),
            "monotone_share": round(float((s < MONOTONE_SPREAD).mean()), 3),
            "near_monotone": int((s < NEAR_MONOTONE_SPREAD).sum()),
            "median_hue_spread": round(float(np.median(s)), 3),
            "median_chroma": round(float(np.median(c)), 2) if c.size else float("nan")}
