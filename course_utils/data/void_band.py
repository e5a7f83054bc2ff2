"""The "void" band of PASCAL VOC annotations: label 255 along every boundary between two labels.

Shared by the synthetic VOC generators (:mod:`course_utils.data.voc_clipart`,
:mod:`course_utils.data.voc_scenes`) and re-exported by :mod:`course_utils.data.voc`.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import IGNORE_INDEX, check_int

__all__ = ["add_void_band"]


def add_void_band(labels: np.ndarray, radius: int) -> np.ndarray:
    """Set to 255 every pixel within ``radius`` (Chebyshev distance) of a different label.

    The VOC annotations mark object outlines this way ("void", about 5 pixels wide at VOC's
    ~500-pixel image size).  ``radius=0`` returns a copy unchanged.
    """
    import cv2

    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be (H, W), got shape {labels.shape}")
    radius = check_int(radius, "radius", 0, 2**15)
    out = labels.astype(np.uint8).copy()
    if radius == 0:
        return out
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    hi = cv2.dilate(out, kernel, borderType=cv2.BORDER_REPLICATE)
    lo = cv2.erode(out, kernel, borderType=cv2.BORDER_REPLICATE)
    out[hi != lo] = IGNORE_INDEX
    return out
