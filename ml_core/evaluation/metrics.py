"""Colorization quality metrics, each also computed for the gray baseline (a = b = 0).

- PSNR on 8-bit RGB (capped at 100 dB so identical images do not make a mean infinite);
- SSIM from scikit-image (RGB, `channel_axis`);
- AuC of the per-pixel ab error (Zhang et al. 2016): the fraction of pixels whose ab L2 error
  is at most t, averaged over t = 0, 1, ..., 150, so a perfect prediction scores 1.0; and its
  class-rebalanced variant, where each pixel is weighted by 1 / prior of its true ab bin (the
  prior is the evaluated set's own ab distribution, smoothed like the training prior);
- colorfulness (Hasler & Süsstrunk 2003) of the output and of the truth, and their ratio: a
  colorizer that plays safe with sepia scores well on PSNR but has a ratio far below 1;
- ab MSE: mean over pixels of the squared ab error, averaged over the two channels.

Lab comes from `ml_core.color.spaces` (float32 torch, the constants of skimage) so the metrics use the
same color science as training. `MetricAccumulator` keeps only sums and a small (bins x error)
histogram, so a data set of any size is evaluated in one streaming pass, and its state is a flat
tensor that distributed validation can all-reduce.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch
from skimage.metrics import structural_similarity

from ..color.quantize import BIN_SIZE, ABBins
from ..color.spaces import XYZ_FROM_RGB, linear_to_srgb, rgb_to_lab, srgb_to_linear

AUC_MAX_ERROR = 150  # thresholds 0..150 in ab units, as Zhang et al.
PSNR_CAP = 100.0
_BUCKETS = AUC_MAX_ERROR + 2  # bucket b holds errors in (b - 1, b]; the last one errors > 150

# Keys of MetricAccumulator.summary(), in table order.
SUMMARY_KEYS = (
    "psnr", "ssim", "auc", "auc_rebalanced", "ab_mse", "colorfulness", "colorfulness_truth", "colorfulness_ratio",
    "gray_psnr", "gray_ssim", "gray_auc", "gray_auc_rebalanced", "gray_ab_mse", "gray_colorfulness", "images",
)


def _tensor(arr: np.ndarray) -> torch.Tensor:
    arr = np.ascontiguousarray(arr)
    return torch.from_numpy(arr if arr.flags.writeable else arr.copy())


def _as_uint8_rgb(rgb: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"{what} must be an H×W×3 uint8 array, got {arr.shape} {arr.dtype}")
    return arr


def psnr(pred: np.ndarray, truth: np.ndarray) -> float:
    """PSNR in dB between two 8-bit images, capped at PSNR_CAP."""
    diff = pred.astype(np.float64) - truth.astype(np.float64)
    mse = float(np.mean(diff * diff))
    if mse <= 0.0:
        return PSNR_CAP
    return min(PSNR_CAP, 10.0 * math.log10(255.0 * 255.0 / mse))


def ssim(pred: np.ndarray, truth: np.ndarray) -> float:
    """Mean SSIM over RGB (scikit-image, 7×7 window, or the largest odd window a tiny image allows)."""
    side = min(pred.shape[0], pred.shape[1])
    win = min(7, side if side % 2 else side - 1)
    if win < 3:
        return float("nan")
    return float(structural_similarity(pred, truth, channel_axis=-1, data_range=255, win_size=win))


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk (2003) colorfulness M of an 8-bit RGB image (0 for gray, ~100+ for vivid)."""
    x = np.asarray(rgb, dtype=np.float64)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    sigma = math.sqrt(rg.var() + yb.var())
    mu = math.sqrt(rg.mean() ** 2 + yb.mean() ** 2)
    return sigma + 0.3 * mu


def lab_image(rgb: np.ndarray) -> torch.Tensor:
    """8-bit H×W×3 RGB -> Lab (3, H, W) float32."""
    t = _tensor(rgb).permute(2, 0, 1).float() / 255.0
    return rgb_to_lab(t)


def gray_image(rgb: np.ndarray) -> np.ndarray:
    """The 8-bit gray (H×W) that has the photo's luminance: what a black-and-white print shows.

    Its lightness is the photo's L* (to 8-bit rounding) and its chroma is zero, so it is both the
    engine's input for evaluation and the gray baseline's output.
    """
    arr = np.asarray(rgb)
    if arr.ndim == 2:
        return arr.astype(np.uint8) if arr.dtype == np.uint8 else arr
    scale = 65535.0 if arr.dtype == np.uint16 else 255.0
    lin = srgb_to_linear(_tensor(arr).float() / scale)
    y = lin @ XYZ_FROM_RGB[1].float()
    gray = linear_to_srgb(y.clamp(0.0, 1.0)) * 255.0 + 0.5
    return gray.clamp(0, 255).to(torch.uint8).numpy()


def gray_baseline(rgb: np.ndarray) -> np.ndarray:
    """The a = b = 0 prediction as 8-bit RGB (H×W×3)."""
    g = gray_image(rgb)
    return np.repeat(g[..., None], 3, axis=2)


@functools.lru_cache(maxsize=1)
def _metric_bins() -> tuple[ABBins, torch.Tensor, int]:
    """Default gamut bins plus a lookup table from the 10-unit ab grid cell to the nearest bin."""
    bins = ABBins()
    lo = -16
    cells = torch.arange(lo, -lo + 1, dtype=torch.float32) * BIN_SIZE
    a, b = torch.meshgrid(cells, cells, indexing="ij")
    grid = torch.stack((a.reshape(-1), b.reshape(-1)), dim=1)
    lut = torch.cdist(grid, bins.centers).argmin(dim=1).reshape(len(cells), len(cells))
    return bins, lut, lo


def true_ab_bins(ab: torch.Tensor) -> torch.Tensor:
    """Nearest gamut bin per pixel of ab (2, H, W) -> (H, W) long, through the grid lookup table."""
    _, lut, lo = _metric_bins()
    cell = torch.round(ab / BIN_SIZE).long().clamp(lo, -lo) - lo
    return lut[cell[0], cell[1]]


def _error_histogram(err: torch.Tensor, true_bin: torch.Tensor, q: int) -> torch.Tensor:
    """(Q, buckets) pixel counts by true bin and ceil(error) bucket, normalized to sum 1."""
    bucket = torch.ceil(err.reshape(-1).double()).clamp(0, _BUCKETS - 1).long()
    flat = true_bin.reshape(-1) * _BUCKETS + bucket
    hist = torch.bincount(flat, minlength=q * _BUCKETS).double().reshape(q, _BUCKETS)
    return hist / max(1, err.numel())


def auc_from_histogram(hist: torch.Tensor, class_weights: torch.Tensor | None = None) -> float:
    """AuC over thresholds 0..150 from a (Q, buckets) histogram, optionally weighting rows."""
    h = hist.double()
    if class_weights is not None:
        h = h * class_weights.double()[:, None]
    per_bucket = h.sum(dim=0)
    total = per_bucket.sum()
    if total <= 0:
        return float("nan")
    cdf = torch.cumsum(per_bucket, dim=0)[: AUC_MAX_ERROR + 1] / total
    return float(cdf.mean())


def rebalance_class_weights(hist: torch.Tensor, sigma: float = 5.0) -> torch.Tensor:
    """Per-bin weights ∝ 1 / p̃ with E_p̃[w] = 1, p̃ the Gaussian-smoothed (σ = 5) prior of the true bins.

    Zhang et al.'s λ = 0 case of the rebalancing weights; bins the data never comes near get 0
    (they hold no pixels, and 1 / 0 would poison the sums).
    """
    bins, _, _ = _metric_bins()
    counts = hist.sum(dim=1).double()
    if counts.sum() <= 0:
        return torch.ones_like(counts)
    p = counts / counts.sum()
    centers = bins.centers.double()
    kernel = torch.exp(-torch.cdist(centers, centers).square() / (2.0 * sigma * sigma))
    smoothed = kernel @ p
    smoothed = smoothed / smoothed.sum()
    w = torch.where(smoothed > 1e-12, 1.0 / smoothed.clamp(min=1e-12), torch.zeros_like(smoothed))
    return w / (smoothed * w).sum()


class MetricAccumulator:
    """Streaming metrics over image pairs, each image counting equally.

    `add(pred, truth)` takes 8-bit H×W×3 arrays of equal size and returns that image's metrics;
    `summary()` returns the data set's (see SUMMARY_KEYS). Per-image values are averaged, except
    the AuCs (from the pooled, per-image normalized error histogram, which for the unweighted AuC
    equals the mean of per-image AuCs) and the colorfulness ratio (ratio of the means).
    """

    _SCALARS = ("psnr", "ssim", "ab_mse", "colorfulness", "colorfulness_truth",
                "gray_psnr", "gray_ssim", "gray_ab_mse", "gray_colorfulness", "images", "ssim_images")

    def __init__(self, with_ssim: bool = True, with_gray: bool = True) -> None:
        self.with_ssim = with_ssim
        self.with_gray = with_gray
        bins, _, _ = _metric_bins()
        self.q = bins.count
        self.sums = dict.fromkeys(self._SCALARS, 0.0)
        self.hist = torch.zeros(self.q, _BUCKETS, dtype=torch.float64)
        self.gray_hist = torch.zeros(self.q, _BUCKETS, dtype=torch.float64)

    def add(self, pred: np.ndarray, truth: np.ndarray, truth_lab: torch.Tensor | None = None) -> dict[str, float]:
        pred = _as_uint8_rgb(pred, "prediction")
        truth = _as_uint8_rgb(truth, "truth")
        if pred.shape != truth.shape:
            raise ValueError(f"prediction {pred.shape} and truth {truth.shape} differ in size")
        t_lab = lab_image(truth) if truth_lab is None else truth_lab
        p_lab = lab_image(pred)
        true_bin = true_ab_bins(t_lab[1:])
        d2 = (p_lab[1:] - t_lab[1:]).square().sum(dim=0)
        hist = _error_histogram(d2.sqrt(), true_bin, self.q)
        out: dict[str, float] = {
            "psnr": psnr(pred, truth),
            "ab_mse": float(d2.double().mean()) / 2.0,
            "colorfulness": colorfulness(pred),
            "colorfulness_truth": colorfulness(truth),
            "auc": auc_from_histogram(hist),
        }
        if self.with_ssim:
            out["ssim"] = ssim(pred, truth)
        self.hist += hist
        if self.with_gray:
            gray = gray_baseline(truth)
            g_lab = lab_image(gray)
            g2 = (g_lab[1:] - t_lab[1:]).square().sum(dim=0)
            ghist = _error_histogram(g2.sqrt(), true_bin, self.q)
            self.gray_hist += ghist
            out["gray_psnr"] = psnr(gray, truth)
            out["gray_ab_mse"] = float(g2.double().mean()) / 2.0
            out["gray_auc"] = auc_from_histogram(ghist)
            out["gray_colorfulness"] = colorfulness(gray)
            if self.with_ssim:
                out["gray_ssim"] = ssim(gray, truth)
        for key in ("psnr", "ab_mse", "colorfulness", "colorfulness_truth", "gray_psnr", "gray_ab_mse",
                    "gray_colorfulness"):
            if key in out:
                self.sums[key] += out[key]
        if self.with_ssim and not math.isnan(out["ssim"]):
            self.sums["ssim"] += out["ssim"]
            self.sums["gray_ssim"] += out.get("gray_ssim", 0.0)
            self.sums["ssim_images"] += 1
        self.sums["images"] += 1
        return out

    # --- distributed reduction: the whole state as one flat float64 tensor -----------------------

    def state_tensor(self) -> torch.Tensor:
        scalars = torch.tensor([self.sums[k] for k in self._SCALARS], dtype=torch.float64)
        return torch.cat((scalars, self.hist.reshape(-1), self.gray_hist.reshape(-1)))

    def load_state_tensor(self, state: torch.Tensor) -> None:
        n = len(self._SCALARS)
        size = self.q * _BUCKETS
        state = state.double().cpu()
        self.sums = {k: float(state[i]) for i, k in enumerate(self._SCALARS)}
        self.hist = state[n : n + size].reshape(self.q, _BUCKETS).clone()
        self.gray_hist = state[n + size : n + 2 * size].reshape(self.q, _BUCKETS).clone()

    def summary(self) -> dict[str, Any]:
        n = int(self.sums["images"])
        nan = float("nan")

        def mean(key: str, count: float = n) -> float:
            return self.sums[key] / count if count else nan

        weights = rebalance_class_weights(self.hist)
        out: dict[str, Any] = {
            "psnr": mean("psnr"),
            "ssim": mean("ssim", self.sums["ssim_images"]) if self.with_ssim else nan,
            "auc": auc_from_histogram(self.hist),
            "auc_rebalanced": auc_from_histogram(self.hist, weights),
            "ab_mse": mean("ab_mse"),
            "colorfulness": mean("colorfulness"),
            "colorfulness_truth": mean("colorfulness_truth"),
        }
        truth_c = out["colorfulness_truth"]
        out["colorfulness_ratio"] = out["colorfulness"] / truth_c if n and truth_c > 0 else nan
        if self.with_gray:
            out.update(
                gray_psnr=mean("gray_psnr"),
                gray_ssim=mean("gray_ssim", self.sums["ssim_images"]) if self.with_ssim else nan,
                gray_auc=auc_from_histogram(self.gray_hist),
                gray_auc_rebalanced=auc_from_histogram(self.gray_hist, weights),
                gray_ab_mse=mean("gray_ab_mse"),
                gray_colorfulness=mean("gray_colorfulness"),
            )
        out["images"] = n
        return out


def evaluate_files(
    colorizer: Any,
    paths: list,
    work_size: int | None = None,
    temperature: float | None = None,
    progress: Any = None,
    cancel: Any = None,
) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[str, str]]]:
    """Colorize each photo from its own lightness with an engine Colorizer and compare with the photo.

    Returns (summary, per-image records, skipped (path, reason)). Photos that cannot be read or
    have no color (nothing to compare with) are skipped. `progress(done, total)` after each photo.
    """
    from ..inference.engine import ColorizeOptions
    from ..io.imageio import ImageReadError, LoadedImage, read_image

    options = ColorizeOptions(work_size=work_size)
    if temperature is not None:
        options.temperature = temperature
    acc = MetricAccumulator()
    records: list[dict[str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for i, path in enumerate(paths):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            loaded = read_image(path)
        except ImageReadError as exc:
            skipped.append((str(path), exc.reason))
            continue
        pixels = loaded.pixels
        if pixels.ndim == 2:
            skipped.append((str(path), "grayscale photo: no colors to compare with"))
            continue
        truth = pixels if pixels.dtype == np.uint8 else ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
        gray = gray_image(truth)
        source = LoadedImage(pixels=gray, alpha=None, bit_depth=8, exif=None, icc_profile=None,
                             source_format=loaded.source_format, path=loaded.path)
        result = colorizer.colorize(source, options, cancel)
        record = acc.add(result.rgb, truth)
        records.append({"path": str(path), "width": int(truth.shape[1]), "height": int(truth.shape[0]), **record})
        if progress is not None:
            progress(i + 1, len(paths))
    return acc.summary(), records, skipped
