"""Simulated corrective strokes: what a user draws where GrabCut went wrong.

Interactive-segmentation benchmarks simulate the user from the ground truth
(Xu et al., CVPR 2016, for clicks; :func:`course_utils.graphcut.strokes.simulated_click`).
A stroke carries more than a click: the user drags the brush along the wrong region.
:func:`simulated_stroke` draws it along the medial axis (skeleton) of the largest error
region, so thin missed parts (a limb, a handle) get a stroke along their whole length.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import check_int
from course_utils.images import check_mask

__all__ = ["largest_error_region", "simulated_stroke"]


def largest_error_region(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, bool]:
    """The largest connected region (8-connected) where ``pred`` and ``truth`` disagree.

    Parameters
    ----------
    pred, truth : ndarray, shape (H, W), bool

    Returns
    -------
    region : ndarray, shape (H, W), bool
        Empty when ``pred == truth``.
    missed : bool
        True when the region is object that ``pred`` missed (it needs a foreground stroke),
        False when it is background that ``pred`` took.
    """
    from scipy.ndimage import label

    check_mask(pred, "pred")
    check_mask(truth, "truth", shape=pred.shape)
    best, best_size, missed = np.zeros(pred.shape, bool), 0, False
    for error, is_missed in ((truth & ~pred, True), (pred & ~truth, False)):
        labels, count = label(error, structure=np.ones((3, 3)))
        if count == 0:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        if sizes.max() > best_size:
            best, best_size, missed = labels == 1 + int(np.argmax(sizes)), int(sizes.max()), is_missed
    return best, missed


def simulated_stroke(pred: np.ndarray, truth: np.ndarray, *, width: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """One corrective stroke along the medial axis of the largest error region.

    The skeleton of the region (scikit-image's ``skeletonize``) is the path a user's brush
    follows through it; it is thickened to ``width`` pixels and kept inside the region, so
    the stroke never marks a pixel with the wrong label.

    Parameters
    ----------
    pred, truth : ndarray, shape (H, W), bool
        The current segmentation and the ground truth.
    width : int
        Brush width in pixels (odd values centre it on the skeleton).

    Returns
    -------
    fg_strokes, bg_strokes : ndarray, shape (H, W), bool
        One holds the stroke, the other is empty (both empty when ``pred == truth``).
    """
    from scipy.ndimage import binary_dilation
    from skimage.morphology import skeletonize

    width = check_int(width, "width", 1)
    region, missed = largest_error_region(pred, truth)
    stroke = skeletonize(region)
    if width > 1:
        stroke = binary_dilation(stroke, np.ones((width, width), bool)) & region
    empty = np.zeros(pred.shape, bool)
    return (stroke, empty) if missed else (empty, stroke)
