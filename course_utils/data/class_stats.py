"""Class statistics of a segmentation dataset: pixel counts, image counts, frequencies, weights.

Segmentation datasets are imbalanced: in PASCAL VOC most pixels are
background, in Cityscapes road, building and vegetation cover most of every
frame while a traffic light or a bicycle covers a few hundred pixels.  These
counts are ``t_i``, the pixels of class ``i``, in the FCN paper's metrics
(:mod:`course_utils.evaluate.segmentation`): pixel accuracy and frequency-weighted IU weigh
each class by ``t_i`` and so are dominated by the frequent classes, while mean
accuracy and mean IU weigh every class equally.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from course_utils._shared import check_bytes, check_int

__all__ = [
    "class_pixel_counts",
    "class_image_counts",
    "class_frequencies",
    "median_frequency_weights",
]


def _as_list(labels) -> list[np.ndarray]:
    if isinstance(labels, np.ndarray):
        return [labels]
    if isinstance(labels, (str, bytes, dict)):
        raise ValueError(f"labels must be an (H, W) integer array or an iterable of them, got {type(labels).__name__}")
    try:
        return list(labels)
    except TypeError:
        raise ValueError(f"labels must be an (H, W) integer array or an iterable of them, "
                         f"got {type(labels).__name__}") from None


def _check(labels: np.ndarray, num_classes: int, ignore_index: int | None, name: str) -> np.ndarray:
    if not isinstance(labels, np.ndarray) or labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must be an (H, W) integer array, got {type(labels).__name__} "
                         f"with shape {getattr(labels, 'shape', None)}")
    valid = labels != ignore_index if ignore_index is not None else np.ones(labels.shape, bool)
    bad = valid & ((labels < 0) | (labels >= num_classes))
    if bad.any():
        raise ValueError(f"{name} holds the label {int(labels[bad][0])}, outside 0..{num_classes - 1}"
                         + (f" and not the ignore index {ignore_index}" if ignore_index is not None else ""))
    return labels[valid].astype(np.int64)


def _check_num_classes(num_classes) -> int:
    num_classes = check_int(num_classes, "num_classes", 1)
    check_bytes(8.0 * num_classes, name="num_classes", value=num_classes, what="the per-class counts")
    return num_classes


def class_pixel_counts(labels: np.ndarray | Iterable[np.ndarray], num_classes: int,
                       ignore_index: int | None = 255) -> np.ndarray:
    """Pixels of each class over one label map or a collection of them.

    Parameters
    ----------
    labels : (H, W) int array, or an iterable of them (sizes may differ)
    num_classes : int
        ``C``; labels must lie in ``[0, C)`` apart from ``ignore_index``.
    ignore_index : int or None
        Pixels with this value (VOC's border, Cityscapes' void) are not counted.

    Returns
    -------
    ndarray, (C,), int64
        ``t_i`` for each class ``i`` (zero for absent classes).

    Raises
    ------
    ValueError
        On a label outside ``[0, C)`` (other than the ignore index), or a
        non-2-D / non-integer map, naming which map.
    """
    num_classes = _check_num_classes(num_classes)
    counts = np.zeros(num_classes, dtype=np.int64)
    for k, lab in enumerate(_as_list(labels)):
        counts += np.bincount(_check(lab, num_classes, ignore_index, f"labels[{k}]"), minlength=num_classes)
    return counts


def class_image_counts(labels: np.ndarray | Iterable[np.ndarray], num_classes: int,
                       ignore_index: int | None = 255) -> np.ndarray:
    """In how many label maps each class occurs (at least one pixel): ``(C,)`` int64."""
    num_classes = _check_num_classes(num_classes)
    counts = np.zeros(num_classes, dtype=np.int64)
    for k, lab in enumerate(_as_list(labels)):
        counts += np.bincount(_check(lab, num_classes, ignore_index, f"labels[{k}]"), minlength=num_classes) > 0
    return counts


def class_frequencies(pixel_counts: np.ndarray) -> np.ndarray:
    """Fraction of the (non-ignored) pixels in each class: ``t_i / sum_k t_k``, ``(C,)`` float64.

    Raises
    ------
    ValueError
        If ``pixel_counts`` is not 1-D, is negative, or sums to zero.
    """
    counts = np.asarray(pixel_counts)
    if counts.ndim != 1 or (counts < 0).any():
        raise ValueError(f"pixel_counts must be a 1-D array of non-negative counts, got shape {counts.shape}")
    total = counts.sum()
    if total == 0:
        raise ValueError("pixel_counts sums to zero: no labelled pixel was counted")
    return counts.astype(np.float64) / float(total)


def median_frequency_weights(labels: np.ndarray | Iterable[np.ndarray], num_classes: int,
                             ignore_index: int | None = 255) -> np.ndarray:
    """Median frequency balancing class weights (Eigen & Fergus, ICCV 2015; used by SegNet).

    ``freq(c) = pixels of class c / labelled pixels of the images where c occurs``
    and ``w_c = median(freq) / freq(c)``: rare classes get weights above 1,
    frequent ones below 1 (a weighted cross-entropy then counts every class
    about equally, as mean IU does).  Classes that never occur get weight 0.

    Parameters
    ----------
    labels, num_classes, ignore_index
        As in :func:`class_pixel_counts`.

    Returns
    -------
    ndarray, (C,), float64
    """
    num_classes = _check_num_classes(num_classes)
    counts = np.zeros(num_classes, dtype=np.float64)
    present = np.zeros(num_classes, dtype=np.float64)
    for k, lab in enumerate(_as_list(labels)):
        per_image = np.bincount(_check(lab, num_classes, ignore_index, f"labels[{k}]"), minlength=num_classes)
        counts += per_image
        present[per_image > 0] += per_image.sum()
    occurs = counts > 0
    if not occurs.any():
        raise ValueError("labels hold no labelled pixel: no class occurs")
    freq = np.zeros(num_classes)
    freq[occurs] = counts[occurs] / present[occurs]
    weights = np.zeros(num_classes)
    weights[occurs] = np.median(freq[occurs]) / freq[occurs]
    return weights
