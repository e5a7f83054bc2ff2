"""Accuracy near object boundaries: the "trimap" evaluation of DeepLab.

Chen, Papandreou, Kokkinos, Murphy & Yuille, "Semantic Image Segmentation with
Deep Convolutional Nets and Fully Connected CRFs", ICLR 2015, section 4.1 (after
Kohli, Ladický & Torr, 2009): the scores are computed only on the pixels of a
narrow band around the ground truth's boundaries, for several band widths.  The
fully connected CRF matters most there: it moves the coarse network's blurred
boundaries onto the image edges, so the gain is largest for narrow bands.

Definitions used here:

* a **boundary pixel** of a label map is one whose label differs from one of its
  4 neighbours (ignore pixels included: the ignore band around VOC objects is itself
  boundary);
* the **band of width w** holds the pixels whose Euclidean distance to the nearest
  boundary pixel is at most ``w`` (``w = 0``: the boundary pixels themselves);
* the scores are the FCN paper's (:mod:`course_utils.evaluate.segmentation`) over the band's pixels,
  ignore pixels excluded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils._shared import check_number, check_sequence
from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores

__all__ = ["boundary_mask", "trimap_band", "trimap_scores", "pooled_trimap_scores", "DEFAULT_TRIMAP_WIDTHS"]

DEFAULT_TRIMAP_WIDTHS: tuple[int, ...] = (0, 1, 2, 3, 5, 8, 12, 16, 20, 30, 40)


def _labels_array(labels, name: str) -> np.ndarray:
    try:
        import torch

        if isinstance(labels, torch.Tensor):
            labels = labels.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor of shape (H, W) or (N, H, W), "
                        f"got {type(labels).__name__}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class ids, got dtype {labels.dtype}")
    if labels.ndim not in (2, 3) or labels.shape[-1] == 0 or labels.shape[-2] == 0:
        raise ValueError(f"{name} must have shape (H, W) or (N, H, W), got {labels.shape}")
    return labels


def boundary_mask(labels) -> np.ndarray:
    """Pixels whose label differs from one of their 4 neighbours.

    Parameters
    ----------
    labels : ndarray or tensor, (H, W) or (N, H, W), int
        Ground-truth label map(s); the ignore value counts as a label of its own.

    Returns
    -------
    ndarray of bool, same shape
        True on both sides of every label change.
    """
    lab = _labels_array(labels, "labels")
    edge = np.zeros(lab.shape, dtype=bool)
    dy = lab[..., 1:, :] != lab[..., :-1, :]
    dx = lab[..., :, 1:] != lab[..., :, :-1]
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    return edge


def trimap_band(labels, width: float) -> np.ndarray:
    """The band of pixels within Euclidean distance ``width`` (pixels) of a boundary pixel.

    Parameters
    ----------
    labels : ndarray or tensor, (H, W) or (N, H, W), int
    width : float
        Band half-width in pixels, >= 0 (0: the boundary pixels only).

    Returns
    -------
    ndarray of bool, same shape as ``labels``
        Empty (all False) for an image without any boundary.
    """
    from scipy.ndimage import distance_transform_edt

    width = check_number(width, "width (pixels)", 0)
    edge = boundary_mask(labels)
    flat = edge.reshape(-1, *edge.shape[-2:])
    band = np.zeros_like(flat)
    for k, e in enumerate(flat):
        if e.any():
            band[k] = distance_transform_edt(~e) <= width
    return band.reshape(edge.shape)


def trimap_scores(labels_true, labels_pred, num_classes: int, widths: Sequence[float] = DEFAULT_TRIMAP_WIDTHS,
                  ignore_index: int = 255) -> dict[str, np.ndarray]:
    """Pixel accuracy and mean IoU inside boundary bands of several widths (DeepLab's trimap).

    Parameters
    ----------
    labels_true : ndarray or tensor, (H, W) or (N, H, W), int
        Ground truth; ``ignore_index`` pixels are never counted (but their edges are boundaries).
    labels_pred : same shape
        Prediction.
    num_classes : int
    widths : sequence of float
        Band widths in pixels (a list or tuple; a string is refused).
    ignore_index : int

    Returns
    -------
    dict of ndarray, each of shape (len(widths),)
        ``width``; ``pixel_acc`` and ``mean_iu`` (fractions; NaN where a band holds no labelled
        pixel); ``pixels``: the number of labelled pixels in each band. Over ``N`` frames the
        bands' confusion matrices are summed first (pooled), as :func:`pooled_trimap_scores` does.
    """
    t = _labels_array(labels_true, "labels_true")
    p = _labels_array(labels_pred, "labels_pred")
    if t.shape != p.shape:
        raise ValueError(f"labels_true has shape {t.shape} but labels_pred has shape {p.shape}")
    widths = _check_widths(widths)
    return _scores_of_bands(widths, _band_confusions(t, p, num_classes, widths, ignore_index))


def pooled_trimap_scores(labels_true: Sequence, labels_pred: Sequence, num_classes: int,
                         widths: Sequence[float] = DEFAULT_TRIMAP_WIDTHS, ignore_index: int = 255) -> dict[str, np.ndarray]:
    """:func:`trimap_scores` over frames of any sizes: each band's confusion matrices summed over the frames.

    Parameters
    ----------
    labels_true, labels_pred : sequences of (H_i, W_i) int arrays
        Frame ``i``'s truth and prediction (the same shape; frames may differ in size).

    Returns
    -------
    dict of ndarray
        As :func:`trimap_scores`; for frames of one size, exactly its result on the stacked frames.
    """
    if isinstance(labels_true, np.ndarray) or isinstance(labels_pred, np.ndarray):
        raise ValueError("labels_true and labels_pred must be sequences of frames (a list or tuple of arrays)")
    if len(labels_true) != len(labels_pred) or len(labels_true) == 0:
        raise ValueError(f"labels_true and labels_pred must be non-empty sequences of the same length, got "
                         f"{len(labels_true)} and {len(labels_pred)} frames")
    widths = _check_widths(widths)
    total = None
    for k, (truth, pred) in enumerate(zip(labels_true, labels_pred)):
        t = _labels_array(truth, f"labels_true[{k}]")
        p = _labels_array(pred, f"labels_pred[{k}]")
        if t.ndim != 2 or t.shape != p.shape:
            raise ValueError(f"frame {k}: labels_true and labels_pred must be (H, W) of one shape, got {t.shape} "
                             f"and {p.shape}")
        cms = _band_confusions(t, p, num_classes, widths, ignore_index)
        total = cms if total is None else [a + b for a, b in zip(total, cms)]
    return _scores_of_bands(widths, total)


def _check_widths(widths) -> list[float]:
    return list(check_sequence(widths, "widths", lambda w, name: check_number(w, name, 0),
                               what="band widths (pixels, >= 0)"))


def _band_confusions(t: np.ndarray, p: np.ndarray, num_classes: int, widths: list[float],
                     ignore_index: int) -> list[np.ndarray]:
    """The confusion matrix of the labelled pixels inside each band (one per width)."""
    return [confusion_matrix(np.where(trimap_band(t, w), t, ignore_index), p, num_classes, ignore_index=ignore_index)
            for w in widths]


def _scores_of_bands(widths: list[float], cms: list[np.ndarray]) -> dict[str, np.ndarray]:
    acc, miou, count = [], [], []
    for cm in cms:
        n = int(cm.sum())
        count.append(n)
        if n == 0:
            acc.append(np.nan)
            miou.append(np.nan)
            continue
        scores = segmentation_scores(cm)
        acc.append(scores["pixel_acc"])
        miou.append(scores["mean_iu"])
    return {"width": np.array(widths), "pixel_acc": np.array(acc), "mean_iu": np.array(miou),
            "pixels": np.array(count, dtype=np.int64)}
