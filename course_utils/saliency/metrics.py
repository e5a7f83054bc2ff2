"""Saliency metrics, as the field computes them.

Salient-object segmentation (显著性物体分割) compares a saliency map with a
ground-truth object ``mask``:

* :func:`mae` -- mean absolute error (Perazzi et al., CVPR 2012);
* :func:`f_measure`, :func:`f_measure_curve`, :func:`adaptive_threshold` --
  ``F = (1 + beta^2) P R / (beta^2 P + R)`` with ``beta^2 = 0.3`` (Achanta et
  al., CVPR 2009), at the adaptive threshold ``min(2 mean(S), 1)`` and over
  the 256 thresholds of an 8-bit map (mean and max F);
* :func:`s_measure` -- structure measure (Fan et al., ICCV 2017);
* :func:`e_measure`, :func:`e_measure_curve` -- enhanced-alignment measure
  (Fan et al., IJCAI 2018);
* :func:`evaluate_sod` -- all of them for one map, :func:`evaluate_sod_dataset` for a
  data set (averaged as the benchmarks do).

Fixation prediction (注视点预测) compares a saliency map with eye fixations:

* :func:`nss` -- normalised scanpath saliency (Peters et al., 2005);
* :func:`auc_judd` -- area under the ROC curve, Judd et al.'s variant (ICCV 2009);
* :func:`cc` -- Pearson's linear correlation with a fixation density map.

Inputs: ``saliency`` is a float ``(H, W)`` map in [0, 1] (divide an 8-bit map
by 255 first: nothing is silently rescaled); ``mask`` and ``fixations`` are
``(H, W)`` bool arrays of the same shape.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import check_choice, check_number, check_probability
from course_utils.images import check_mask

__all__ = [
    "BETA2",
    "check_saliency",
    "mae",
    "adaptive_threshold",
    "precision_recall",
    "f_measure",
    "f_measure_curve",
    "s_measure",
    "e_measure",
    "e_measure_curve",
    "evaluate_sod",
    "evaluate_sod_dataset",
    "nss",
    "auc_judd",
    "cc",
]

BETA2 = 0.3
"""``beta^2`` of the F-measure: precision weighs more than recall (Achanta et al. 2009)."""

_EPS = np.finfo(np.float64).eps


def check_saliency(saliency: np.ndarray, name: str = "saliency") -> np.ndarray:
    """Check that ``saliency`` is a non-empty 2-D float map with values in [0, 1]; return it as float64.

    Raises
    ------
    TypeError
        If it is not a NumPy float array (an 8-bit map must be divided by 255 first).
    ValueError
        If it is not 2-D, is empty, has NaN/inf or values outside [0, 1].
    """
    if not isinstance(saliency, np.ndarray):
        raise TypeError(f"{name} must be a numpy float array of shape (H, W), got {type(saliency).__name__}")
    if not np.issubdtype(saliency.dtype, np.floating):
        hint = " (divide an 8-bit map by 255)" if saliency.dtype == np.uint8 else ""
        raise TypeError(f"{name} must be a float map in [0, 1], got dtype {saliency.dtype}{hint}")
    if saliency.ndim != 2:
        raise ValueError(f"{name} must have shape (H, W), got {saliency.shape}")
    if saliency.size == 0:
        raise ValueError(f"{name} is empty: shape {saliency.shape}")
    if not np.all(np.isfinite(saliency)):
        raise ValueError(f"{name} has NaN or infinite values")
    lo, hi = float(saliency.min()), float(saliency.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got values in [{lo:.4g}, {hi:.4g}]")
    return saliency.astype(np.float64, copy=False)


def _pair(saliency: np.ndarray, mask: np.ndarray, mask_name: str = "mask", *,
          require_positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    sal = check_saliency(saliency)
    check_mask(mask, mask_name)
    if mask.shape != sal.shape:
        raise ValueError(f"saliency has shape {sal.shape} but {mask_name} has shape {mask.shape}: "
                         "resize the map to the mask's size first")
    if require_positive and not mask.any():
        raise ValueError(f"{mask_name} is empty (no True pixel): the metric is undefined without positives")
    return sal, mask


def mae(saliency: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute error ``mean |S - G|`` between a saliency map and a mask (lower is better).

    Parameters
    ----------
    saliency : ndarray, shape (H, W), float in [0, 1]
    mask : ndarray, shape (H, W), bool

    Returns
    -------
    float in [0, 1]
    """
    sal, mask = _pair(saliency, mask)
    return float(np.mean(np.abs(sal - mask)))


def adaptive_threshold(saliency: np.ndarray) -> float:
    """The adaptive threshold of Achanta et al. 2009: twice the map's mean, at most 1."""
    return float(min(2.0 * check_saliency(saliency).mean(), 1.0))


def _threshold(sal: np.ndarray, threshold) -> float:
    if isinstance(threshold, str):
        check_choice(threshold, "threshold", ("adaptive",))
        return float(min(2.0 * sal.mean(), 1.0))
    return check_probability(threshold, "threshold")


def _f_from_pr(precision, recall, beta2: float):
    precision = np.asarray(precision, dtype=np.float64)
    recall = np.asarray(recall, dtype=np.float64)
    num = (1.0 + beta2) * precision * recall
    den = beta2 * precision + recall
    return np.where(num > 0, num / np.where(den > 0, den, 1.0), 0.0)


def _check_beta2(beta2: float) -> float:
    # beyond 1e6 the F-measure is recall to six digits; (1 + beta2) must stay finite
    return check_number(beta2, "beta2", 0.0, 1e6, open_min=True)


def precision_recall(saliency: np.ndarray, mask: np.ndarray, threshold: float | str = "adaptive") -> tuple[float, float]:
    """Precision and recall of the binary map ``saliency >= threshold`` against ``mask``.

    Precision is 0 when no pixel is predicted salient.

    Raises
    ------
    ValueError
        If ``mask`` is empty (recall is undefined), or the shapes differ.
    """
    sal, mask = _pair(saliency, mask, require_positive=True)
    binary = sal >= _threshold(sal, threshold)
    tp = np.count_nonzero(binary & mask)
    predicted = np.count_nonzero(binary)
    return (tp / predicted if predicted else 0.0), tp / np.count_nonzero(mask)


def f_measure(saliency: np.ndarray, mask: np.ndarray, threshold: float | str = "adaptive", *,
              beta2: float = BETA2) -> float:
    """The F-measure ``(1 + beta^2) P R / (beta^2 P + R)`` of ``saliency >= threshold``.

    Parameters
    ----------
    saliency : ndarray, shape (H, W), float in [0, 1]
    mask : ndarray, shape (H, W), bool, with at least one True pixel
    threshold : float in [0, 1] or "adaptive"
        ``"adaptive"``: ``min(2 mean(saliency), 1)`` (Achanta et al. 2009).
    beta2 : float
        ``beta^2``; 0.3 in the saliency literature (precision matters more).

    Returns
    -------
    float in [0, 1]; 0 when nothing is predicted or nothing is hit.
    """
    beta2 = _check_beta2(beta2)
    p, r = precision_recall(saliency, mask, threshold)
    return float(_f_from_pr(p, r, beta2))


def _cumulative_counts(sal: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For thresholds k = 0..255 on the 8-bit map ``floor(255 S)``: (#mask pixels >= k, #other pixels >= k)."""
    q = np.floor(sal * 255.0).astype(np.int64)
    fg = np.bincount(q[mask], minlength=256)
    bg = np.bincount(q[~mask], minlength=256)
    return np.cumsum(fg[::-1])[::-1], np.cumsum(bg[::-1])[::-1]


def f_measure_curve(saliency: np.ndarray, mask: np.ndarray, *, beta2: float = BETA2
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F-measure at the 256 thresholds of an 8-bit map.

    The map is quantised as the benchmarks do, ``q = floor(255 S)``, and
    binarised at ``q >= k`` for ``k = 0, ..., 255``; ``F.max()`` is the
    "max F" and ``F.mean()`` the "mean F" that papers report.

    Returns
    -------
    precision, recall, f : ndarray, shape (256,), float64
        Entry ``k`` belongs to threshold ``k / 255``.
    """
    beta2 = _check_beta2(beta2)
    sal, mask = _pair(saliency, mask, require_positive=True)
    tp, fp = _cumulative_counts(sal, mask)
    predicted = tp + fp
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    recall = tp / np.count_nonzero(mask)
    return precision, recall, _f_from_pr(precision, recall, beta2)


def _ssim_region(x: np.ndarray, y: np.ndarray) -> float:
    """The S-measure's SSIM of one quadrant (Fan et al. 2017, Eq. 3-4), without the constants C1, C2."""
    n = x.size
    mx, my = x.mean(), y.mean()
    vx = np.sum((x - mx) ** 2) / (n - 1 + _EPS)
    vy = np.sum((y - my) ** 2) / (n - 1 + _EPS)
    cxy = np.sum((x - mx) * (y - my)) / (n - 1 + _EPS)
    alpha = 4.0 * mx * my * cxy
    beta = (mx**2 + my**2) * (vx + vy)
    if alpha != 0:
        return float(alpha / (beta + _EPS))
    return 1.0 if beta == 0 else 0.0


def _object_score(x: np.ndarray) -> float:
    """``O = 2 mean / (mean^2 + 1 + std + eps)`` of the map values inside one region."""
    mean = x.mean()
    std = x.std(ddof=1) if x.size > 1 else 0.0
    return float(2.0 * mean / (mean**2 + 1.0 + std + _EPS))


def s_measure(saliency: np.ndarray, mask: np.ndarray, *, alpha: float = 0.5) -> float:
    """Structure measure ``S = alpha S_o + (1 - alpha) S_r`` (Fan et al., ICCV 2017).

    ``S_o`` (object-aware) compares the distributions of map values inside
    the object and inside the background with the ideal ones (all 1 / all 0);
    ``S_r`` (region-aware) splits map and mask into four quadrants at the
    mask's centroid and averages an SSIM per quadrant, weighted by area.  An
    all-background mask gives ``1 - mean(S)``, an all-object one ``mean(S)``
    (the paper's special cases).

    Parameters
    ----------
    saliency : ndarray, shape (H, W), float in [0, 1]
    mask : ndarray, shape (H, W), bool
    alpha : float in [0, 1]
        Weight of the object-aware term (0.5 in the paper).

    Returns
    -------
    float in [0, 1]
    """
    alpha = check_probability(alpha, "alpha")
    sal, mask = _pair(saliency, mask)
    fg_fraction = mask.mean()
    if fg_fraction == 0:
        return float(1.0 - sal.mean())
    if fg_fraction == 1:
        return float(sal.mean())
    so = fg_fraction * _object_score(sal[mask]) + (1 - fg_fraction) * _object_score(1.0 - sal[~mask])
    h, w = mask.shape
    rows, cols = np.nonzero(mask)
    # Centroid, rounded half away from zero, as a 1-based split index (the authors' MATLAB code).
    cy = int(np.floor(rows.mean() + 0.5)) + 1
    cx = int(np.floor(cols.mean() + 0.5)) + 1
    sr = 0.0
    for r0, r1 in ((0, cy), (cy, h)):
        for c0, c1 in ((0, cx), (cx, w)):
            if r1 > r0 and c1 > c0:
                weight = (r1 - r0) * (c1 - c0) / (h * w)
                sr += weight * _ssim_region(sal[r0:r1, c0:c1], mask[r0:r1, c0:c1].astype(np.float64))
    return float(max(0.0, alpha * so + (1 - alpha) * sr))


def _enhanced_sum(tp, fp, n_fg: int, n: int):
    """Sum over pixels of the enhanced alignment matrix of a binary map with ``tp``/``fp`` counts.

    A binary map and a binary mask have only four kinds of pixel (map 1/0 x
    mask 1/0); each kind has one value of the alignment matrix, so the sum
    is four products of a count and a value.
    """
    tp = np.asarray(tp, dtype=np.float64)
    fp = np.asarray(fp, dtype=np.float64)
    predicted = tp + fp
    if n_fg == 0:
        return n - predicted  # all-background mask: the enhanced matrix is 1 - map
    if n_fg == n:
        return predicted
    fn = n_fg - tp
    tn = n - predicted - fn
    mean_map, mean_gt = predicted / n, n_fg / n
    total = np.zeros_like(tp)
    for count, map_value, gt_value in ((tp, 1.0, 1.0), (fp, 1.0, 0.0), (fn, 0.0, 1.0), (tn, 0.0, 0.0)):
        a = map_value - mean_map  # the bias-removed map value phi_FM
        b = gt_value - mean_gt  # and the bias-removed mask value phi_GT
        xi = 2.0 * a * b / (a * a + b * b + _EPS)  # the alignment matrix
        total = total + count * (1.0 + xi) ** 2 / 4.0  # the enhanced alignment matrix f(xi)
    return total


def e_measure(saliency: np.ndarray, mask: np.ndarray, threshold: float | str = "adaptive") -> float:
    """Enhanced-alignment measure of ``saliency >= threshold`` (Fan et al., IJCAI 2018).

    With ``phi = x - mean(x)`` for the binary map and the mask, the alignment
    matrix is ``xi = 2 phi_GT phi_FM / (phi_GT^2 + phi_FM^2)`` and
    ``E = mean((1 + xi)^2 / 4)``: it captures pixel-level matching and
    image-level statistics at once.  (The authors' code divides the sum by
    ``H W - 1`` instead of ``H W``; the difference is below ``1 / (H W)``.)

    Parameters
    ----------
    saliency : ndarray, shape (H, W), float in [0, 1]
    mask : ndarray, shape (H, W), bool
    threshold : float in [0, 1] or "adaptive"

    Returns
    -------
    float in [0, 1]
    """
    sal, mask = _pair(saliency, mask)
    binary = sal >= _threshold(sal, threshold)
    tp = np.count_nonzero(binary & mask)
    fp = np.count_nonzero(binary & ~mask)
    return float(_enhanced_sum(tp, fp, int(np.count_nonzero(mask)), mask.size) / mask.size)


def e_measure_curve(saliency: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The E-measure at the 256 thresholds of the 8-bit map ``floor(255 S)`` (as :func:`f_measure_curve`).

    Returns
    -------
    ndarray, shape (256,), float64 (entry ``k``: threshold ``k / 255``)
    """
    sal, mask = _pair(saliency, mask)
    tp, fp = _cumulative_counts(sal, mask)
    return _enhanced_sum(tp, fp, int(np.count_nonzero(mask)), mask.size) / mask.size


def evaluate_sod(saliency: np.ndarray, mask: np.ndarray, *, beta2: float = BETA2) -> dict[str, float]:
    """Every salient-object metric of one map, as a dict.

    Keys: ``MAE``, ``adpF``, ``meanF``, ``maxF``, ``S``, ``adpE``, ``meanE``, ``maxE``.
    ``maxF`` / ``maxE`` here are this image's best threshold; for a data set
    use :func:`evaluate_sod_dataset`, which takes the best *common* threshold.
    """
    _, _, f = f_measure_curve(saliency, mask, beta2=beta2)
    e = e_measure_curve(saliency, mask)
    return {
        "MAE": mae(saliency, mask),
        "adpF": f_measure(saliency, mask, "adaptive", beta2=beta2),
        "meanF": float(f.mean()),
        "maxF": float(f.max()),
        "S": s_measure(saliency, mask),
        "adpE": e_measure(saliency, mask, "adaptive"),
        "meanE": float(e.mean()),
        "maxE": float(e.max()),
    }


def evaluate_sod_dataset(saliency_maps, masks, *, beta2: float = BETA2) -> dict[str, float]:
    """The salient-object metrics of a data set, aggregated as the benchmarks do.

    ``MAE``, ``S``, ``adpF`` and ``adpE`` are averaged over the images.  The
    F-measure and E-measure curves (one value per threshold ``k / 255``) are
    averaged over the images first; ``meanF`` / ``meanE`` are the means of
    those curves and ``maxF`` / ``maxE`` their maxima, i.e. the score at the
    single threshold that is best for the whole data set (not each image's
    own best threshold).

    Parameters
    ----------
    saliency_maps : sequence of ndarray, shape (H_i, W_i), float in [0, 1]
    masks : sequence of ndarray, shape (H_i, W_i), bool (each with an object)

    Returns
    -------
    dict
        ``MAE``, ``adpF``, ``meanF``, ``maxF``, ``S``, ``adpE``, ``meanE``, ``maxE`` (floats) and
        ``precision``, ``recall`` (the mean PR curve, arrays of shape (256,)).
    """
    saliency_maps, masks = _as_list(saliency_maps, "saliency_maps"), _as_list(masks, "masks")
    beta2 = _check_beta2(beta2)
    if len(saliency_maps) != len(masks):
        raise ValueError(f"saliency_maps has {len(saliency_maps)} maps but masks has {len(masks)} masks")
    if not masks:
        raise ValueError("saliency_maps and masks are empty: expected at least one pair")
    keys = ("MAE", "adpF", "S", "adpE")
    sums = dict.fromkeys(keys, 0.0)
    precision, recall, f_curve, e_curve = (np.zeros(256) for _ in range(4))
    for sal, mask in zip(saliency_maps, masks):
        p, r, f = f_measure_curve(sal, mask, beta2=beta2)
        precision += p
        recall += r
        f_curve += f
        e_curve += e_measure_curve(sal, mask)
        sums["MAE"] += mae(sal, mask)
        sums["adpF"] += f_measure(sal, mask, "adaptive", beta2=beta2)
        sums["S"] += s_measure(sal, mask)
        sums["adpE"] += e_measure(sal, mask, "adaptive")
    n = len(masks)
    f_curve, e_curve = f_curve / n, e_curve / n
    return {
        "MAE": sums["MAE"] / n,
        "adpF": sums["adpF"] / n,
        "meanF": float(f_curve.mean()),
        "maxF": float(f_curve.max()),
        "S": sums["S"] / n,
        "adpE": sums["adpE"] / n,
        "meanE": float(e_curve.mean()),
        "maxE": float(e_curve.max()),
        "precision": precision / n,
        "recall": recall / n,
    }


def _as_list(value, name: str) -> list:
    if isinstance(value, (str, bytes, dict, set, np.ndarray)) and not (isinstance(value, np.ndarray) and value.ndim == 3):
        raise ValueError(f"{name} must be a sequence of 2-D arrays, got {type(value).__name__}")
    try:
        return list(value)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of 2-D arrays, got {type(value).__name__}") from None


def _is_constant(x: np.ndarray) -> bool:
    """Whether ``x`` is constant up to rounding: its spread is below float64 noise on its magnitude.

    ``np.std`` of a constant float map is not exactly 0 (``np.full(9, 0.1).std()`` is 1.4e-17), and
    dividing by it turns rounding noise into scores of +-1.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0 or x.max() == x.min():
        return True
    return bool(x.std() <= 1e-12 * max(float(np.abs(x).max()), 1e-300))


def nss(saliency: np.ndarray, fixations: np.ndarray) -> float:
    """Normalised scanpath saliency: the mean of the standardised map at the fixated pixels.

    ``NSS = mean_{fixations} (S - mean(S)) / std(S)``; 0 is chance, higher is
    better (Peters, Iyer, Itti & Koch, Vision Research 2005).

    Parameters
    ----------
    saliency : ndarray, shape (H, W), float in [0, 1]
    fixations : ndarray, shape (H, W), bool
        The fixation map: True where an observer fixated.

    Raises
    ------
    ValueError
        If there is no fixation, the map is constant, or the shapes differ.
    """
    sal, fixations = _pair(saliency, fixations, "fixations", require_positive=True)
    std = sal.std()
    if _is_constant(sal):
        raise ValueError("saliency is constant: NSS is undefined (its standard deviation is 0)")
    return float(((sal[fixations] - sal.mean()) / std).mean())


def auc_judd(saliency: np.ndarray, fixations: np.ndarray) -> float:
    """Area under the ROC curve, Judd et al.'s variant (ICCV 2009; the MIT saliency benchmark's AUC-Judd).

    The thresholds are the map's values at the fixated pixels.  At each, the
    true-positive rate is the fraction of fixations at or above it and the
    false-positive rate the fraction of non-fixated pixels at or above it;
    the curve through (0, 0), these points and (1, 1) is integrated with the
    trapezoid rule.  0.5 is chance, 1 is perfect.

    Ties: fixations with equal map values give one point (all of them count
    at that threshold).  The MIT benchmark's code instead adds a tiny random
    jitter to the map and steps through fixations one by one; both agree
    when the fixated values are distinct, and this version needs no
    randomness (it equals pysaliency's AUC-Judd without jitter).

    Parameters
    ----------
    saliency : ndarray, shape (H, W), float in [0, 1]
    fixations : ndarray, shape (H, W), bool, with at least one fixation and one non-fixated pixel

    Returns
    -------
    float in [0, 1]
    """
    sal, fixations = _pair(saliency, fixations, "fixations", require_positive=True)
    n_fix = int(np.count_nonzero(fixations))
    n_pixels = sal.size
    if n_fix == n_pixels:
        raise ValueError("fixations covers every pixel: AUC is undefined without non-fixated pixels")
    positives = np.sort(sal[fixations])
    negatives = np.sort(sal[~fixations])
    thresholds = np.unique(positives)[::-1]  # distinct fixated values, highest first
    tp = (n_fix - np.searchsorted(positives, thresholds, side="left")) / n_fix  # fixations >= t
    fp = (len(negatives) - np.searchsorted(negatives, thresholds, side="left")) / len(negatives)
    tp = np.concatenate([[0.0], tp, [1.0]])
    fp = np.concatenate([[0.0], fp, [1.0]])
    return float(np.trapezoid(tp, fp))


def cc(saliency: np.ndarray, density: np.ndarray) -> float:
    """Pearson's linear correlation coefficient between a saliency map and a fixation density map.

    Both are standardised (zero mean, unit variance) and ``CC = mean(S' D')``;
    in [-1, 1], 1 is perfect.

    Parameters
    ----------
    saliency : ndarray, shape (H, W), float in [0, 1]
    density : ndarray, shape (H, W), float, non-negative
        The empirical saliency map: fixations blurred by a Gaussian (see
        :func:`course_utils.saliency.fixations.fixation_density`); any scale.

    Raises
    ------
    ValueError
        If the shapes differ or either map is constant.
    """
    sal = check_saliency(saliency)
    if not isinstance(density, np.ndarray) or not np.issubdtype(density.dtype, np.floating) or density.ndim != 2:
        raise TypeError(f"density must be a 2-D float array, got {getattr(density, 'dtype', type(density).__name__)} "
                        f"of shape {getattr(density, 'shape', None)}")
    if density.shape != sal.shape:
        raise ValueError(f"saliency has shape {sal.shape} but density has shape {density.shape}")
    if not np.all(np.isfinite(density)) or density.min() < 0:
        raise ValueError("density must be finite and non-negative")
    den = density.astype(np.float64)
    if den.max() > 0:
        den = den / den.max()  # CC is scale-free; scaled, a huge density cannot overflow its variance
    if _is_constant(sal) or _is_constant(den):
        raise ValueError("CC is undefined for a constant map (saliency or density has zero variance)")
    a = (sal - sal.mean()) / sal.std()
    b = (den - den.mean()) / den.std()
    return float(np.mean(a * b))
