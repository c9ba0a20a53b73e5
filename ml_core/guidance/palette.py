"""A small palette of likely colors for one spot, for a person about to place a hint.

A classification model predicts a whole distribution over a*b* bins at every pixel; the annealed
mean shown in the preview is one summary of it. The other peaks are exactly the alternatives a
person may be looking for (the car was red, or blue), so the palette lists the distribution's
distinct modes, most probable first.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .hints import ab_to_rgb

MODE_SEPARATION = 22.0  # a*b* distance below which two suggestions count as the same color
MODE_SMOOTHING = 8.0  # σ (a*b*) over which neighbouring bins pool their probability
# Regression models give one color; these chroma gains offer its muted and vivid versions.
_REGRESSION_GAINS = (1.0, 1.6, 2.2, 0.5)


@dataclass(frozen=True)
class ColorSuggestion:
    ab: tuple[float, float]
    probability: float | None  # None when the model gives no distribution
    rgb: tuple[int, int, int]  # how the color looks at the spot's lightness
    label: str


def swatch_lightness(lightness: float) -> float:
    """Swatches are drawn at the spot's own L*, lifted out of near-black and near-white where
    every chroma looks alike, so a person can still tell the suggestions apart."""
    return min(max(lightness, 35.0), 85.0)


def suggest_from_distribution(probs: torch.Tensor, centers: torch.Tensor, predicted: torch.Tensor,
                              lightness: float, count: int = 6) -> list[ColorSuggestion]:
    """probs (Q,) over bin centers (Q, 2) -> up to `count` distinct modes; the shown color first."""
    centers = centers.float()
    probs = probs.float() / probs.sum().clamp(min=1e-12)
    d2 = torch.cdist(centers, centers).square()
    pooled = torch.exp(-d2 / (2 * MODE_SMOOTHING ** 2)) @ probs
    swatch = swatch_lightness(lightness)
    out = [ColorSuggestion(_tuple(predicted), None, ab_to_rgb(_tuple(predicted), swatch), "current")]
    taken = [predicted.float()]
    for q in torch.argsort(pooled, descending=True).tolist():
        if len(out) >= count:
            break
        # the mode's color: the probability-weighted mean of the bins pooled into it
        near = torch.exp(-d2[q] / (2 * MODE_SMOOTHING ** 2)) * probs
        ab = (near[:, None] * centers).sum(0) / near.sum().clamp(min=1e-12)
        if any(float((ab - t).norm()) < MODE_SEPARATION for t in taken):
            continue
        taken.append(ab)
        mass = float(near.sum())  # probability within about one bin of the mode
        out.append(ColorSuggestion(_tuple(ab), mass, ab_to_rgb(_tuple(ab), swatch), f"{mass:.0%} likely"))
    return out


def suggest_without_distribution(predicted: torch.Tensor, lightness: float, count: int = 6) -> list[ColorSuggestion]:
    out = []
    for gain in _REGRESSION_GAINS[:count]:
        ab = _tuple(predicted.float() * gain)
        label = "current" if gain == 1.0 else ("more vivid" if gain > 1 else "muted")
        out.append(ColorSuggestion(ab, None, ab_to_rgb(ab, swatch_lightness(lightness)), label))
    return out


def _tuple(ab: torch.Tensor) -> tuple[float, float]:
    return float(ab[0]), float(ab[1])
