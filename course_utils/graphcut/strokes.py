"""The user's marks (交互, interaction) as masks: brush strokes, and a simulated user's corrective clicks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils._shared import check_bytes, check_int
from course_utils.images import check_mask, check_size

__all__ = ["stroke_mask", "simulated_click"]


def stroke_mask(shape: tuple[int, int], points: Sequence[tuple[float, float]], *, width: int = 3,
                relative: bool = False) -> np.ndarray:
    """A brush stroke through ``points`` as an ``(H, W)`` bool mask.

    Parameters
    ----------
    shape : (H, W)
    points : sequence of (x, y)
        The stroke's polyline; one point draws a dot.  Pixel coordinates, or
        fractions of the width and height when ``relative``.
    width : int
        Brush width in pixels (>= 1).
    relative : bool
        Interpret ``points`` as fractions in [0, 1], so the same stroke fits
        any resolution of an image.
    """
    import cv2

    h, w = check_size(shape, "shape")
    check_bytes(float(h) * w, name="shape", value=shape, what="the stroke mask")
    width = check_int(width, "width", 1, 2**15)
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"points must be a non-empty sequence of (x, y), got {points!r}") from None
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise ValueError(f"points must be a non-empty sequence of (x, y), got {points!r}")
    if not np.all(np.isfinite(pts)):
        raise ValueError("points must be finite (x, y) coordinates")
    if relative:
        if (pts < 0).any() or (pts > 1).any():
            raise ValueError("relative points must lie in [0, 1]")
        pts = pts * [w - 1, h - 1]
    else:
        outside = (pts[:, 0] < -0.5) | (pts[:, 0] > w - 0.5) | (pts[:, 1] < -0.5) | (pts[:, 1] > h - 0.5)
        if outside.any():
            x, y = pts[np.argmax(outside)]
            raise ValueError(f"points must lie inside the {w}x{h} (W x H) image, but ({x:g}, {y:g}) does not; "
                             "points are (x, y) pixel coordinates (x = column), or fractions with relative=True")
    canvas = np.zeros((h, w), np.uint8)
    poly = np.round(pts).astype(np.int32).reshape(-1, 1, 2)
    if len(pts) == 1:
        cv2.circle(canvas, tuple(int(v) for v in poly[0, 0]), max(width // 2, 0), 1, -1)
    else:
        cv2.polylines(canvas, [poly], False, 1, thickness=int(width))
    return canvas.astype(bool)


def simulated_click(pred: np.ndarray, truth: np.ndarray, *, radius: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The correction a careful user would make next: one click in the largest error region.

    The click goes to the error pixel farthest from the region's border (the
    protocol of interactive-segmentation benchmarks, Xu et al. 2016): a
    foreground click where the object was missed, a background click where
    background was taken.

    Parameters
    ----------
    pred, truth : ndarray, shape (H, W), bool
    radius : int
        The click is a disk of this radius, kept inside the error region.

    Returns
    -------
    fg_strokes, bg_strokes : ndarray, shape (H, W), bool
        One of them holds the click, the other is empty (both empty if ``pred == truth``).
    """
    from scipy.ndimage import distance_transform_edt, label

    check_mask(pred, "pred")
    check_mask(truth, "truth", shape=pred.shape)
    fg = np.zeros(pred.shape, bool)
    bg = np.zeros(pred.shape, bool)
    best = None
    for missed, target in ((truth & ~pred, fg), (pred & ~truth, bg)):
        labels, count = label(missed)
        if count == 0:
            continue
        sizes = np.bincount(labels.ravel())[1:]
        region = labels == 1 + int(np.argmax(sizes))
        depth = distance_transform_edt(np.pad(region, 1))[1:-1, 1:-1]
        if best is None or sizes.max() > best[0]:
            best = (sizes.max(), region, depth, target)
    if best is None:
        return fg, bg
    _, region, depth, target = best
    cy, cx = np.unravel_index(int(np.argmax(depth)), depth.shape)
    yy, xx = np.mgrid[0:pred.shape[0], 0:pred.shape[1]]
    target |= ((yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2) & region
    return fg, bg
