"""Segmentation metrics from a confusion matrix, as the FCN paper defines them.

With ``n_ij`` the number of pixels of class ``i`` predicted as class ``j``,
``t_i = sum_j n_ij`` the pixels of class ``i`` and ``n_cl`` the number of classes
(Long, Shelhamer & Darrell, *Fully Convolutional Networks for Semantic
Segmentation*, CVPR 2015, section 5):

* pixel accuracy      ``sum_i n_ii / sum_i t_i``
* mean accuracy       ``(1/n_cl) sum_i n_ii / t_i``
* mean IU             ``(1/n_cl) sum_i n_ii / (t_i + sum_j n_ji - n_ii)``
* frequency weighted  ``(sum_k t_k)^-1 sum_i t_i n_ii / (t_i + sum_j n_ji - n_ii)``

As in the paper's reference code, a class whose accuracy or IU is 0/0 (absent
from both ground truth and prediction) is left out of the means (NaN, then
``nanmean``).  Pixels whose ground truth is ``ignore_index`` are not counted.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import check_bytes, check_int

__all__ = ["confusion_matrix", "segmentation_scores", "format_scores"]


def _to_numpy(x, name: str) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    return x


def confusion_matrix(labels_true, labels_pred, num_classes: int, ignore_index: int = 255) -> np.ndarray:
    """Count pixels by (ground-truth class, predicted class).

    Parameters
    ----------
    labels_true, labels_pred : array or tensor of ints, same shape (any, e.g. (N, H, W))
        Ground truth (``ignore_index`` pixels are skipped) and prediction.
    num_classes : int
        Number of classes ``C``.

    Returns
    -------
    ndarray, shape (C, C), int64
        Row = ground truth, column = prediction.

    Raises
    ------
    ValueError
        On different shapes, or a label outside ``[0, C)`` (other than the ignore index).
    """
    num_classes = check_int(num_classes, "num_classes", 1)
    check_bytes(16.0 * float(num_classes) ** 2, name="num_classes", value=num_classes,
                what=f"a {num_classes}x{num_classes} int64 confusion matrix")
    t = _to_numpy(labels_true, "labels_true")
    p = _to_numpy(labels_pred, "labels_pred")
    if t.shape != p.shape:
        raise ValueError(f"labels_true has shape {t.shape} but labels_pred has shape {p.shape}")
    for arr, name in ((t, "labels_true"), (p, "labels_pred")):
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must hold integer class ids, got dtype {arr.dtype}")
    t = t.reshape(-1).astype(np.int64)
    p = p.reshape(-1).astype(np.int64)
    keep = t != ignore_index
    t, p = t[keep], p[keep]
    for arr, name in ((t, "labels_true"), (p, "labels_pred")):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            bad = arr[(arr < 0) | (arr >= num_classes)][0]
            raise ValueError(f"{name} has class id {bad}, outside [0, {num_classes}) and not the ignore index {ignore_index}")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def segmentation_scores(cm: np.ndarray) -> dict[str, object]:
    """The FCN paper's four scores (fractions in [0, 1]) and the per-class accuracy and IU.

    Returns
    -------
    dict
        ``pixel_acc``, ``mean_acc``, ``mean_iu``, ``fw_iu`` (floats) and ``class_acc``,
        ``class_iu`` (arrays of shape (C,), NaN for classes left out).
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square (C, C) confusion matrix, got shape {cm.shape}")
    if cm.size and cm.min() < 0:
        raise ValueError("cm has negative counts")
    if not np.issubdtype(cm.dtype, np.number) or np.iscomplexobj(cm):
        raise TypeError(f"cm must hold real pixel counts, got dtype {cm.dtype}")
    cm = cm.astype(np.float64)
    with np.errstate(over="ignore"):
        too_big = not np.isfinite(2 * cm.sum(dtype=np.float64))
    if not np.all(np.isfinite(cm)) or too_big:
        raise ValueError("cm must hold finite pixel counts (NaN, infinite or overflowing values found)")
    total = cm.sum()
    if total == 0:
        raise ValueError("cm is empty: no labelled pixel was counted")
    diag = np.diag(cm)
    t = cm.sum(axis=1)
    union = t + cm.sum(axis=0) - diag
    with np.errstate(divide="ignore", invalid="ignore"):
        class_acc = diag / t
        class_iu = diag / union
    freq = t / total
    valid = ~np.isnan(class_iu)
    return {
        "pixel_acc": float(diag.sum() / total),
        "mean_acc": float(np.nanmean(class_acc)),
        "mean_iu": float(np.nanmean(class_iu)),
        "fw_iu": float((freq[valid] * class_iu[valid]).sum()),
        "class_acc": class_acc,
        "class_iu": class_iu,
    }


def format_scores(scores: dict[str, object], name: str = "") -> str:
    """One table row in percent, in the lecture's order: pixel acc., mean acc., mean IU, f.w. IU."""
    values = [100 * scores[k] for k in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu")]
    return f"{name:<16}" + "".join(f"{v:>10.1f}" for v in values)
