"""Synthetic eye tracking for fixation prediction (注视点预测).

Real fixation data comes from eye-tracking experiments: observers look at each
image for a few seconds (PASCAL-S: 8 observers, 2 s per image, on 850 PASCAL
VOC 2010 images) and the tracker records where the gaze rested.  Two
representations are used by the metrics:

* the **fixation map**: a bool ``(H, W)`` array, True at fixated pixels
  (:func:`fixation_map`);
* the **fixation density map** (empirical saliency map): the fixation map
  blurred with a Gaussian of about one degree of visual angle
  (:func:`fixation_density`).

No eye-tracking data can be downloaded here, so :func:`simulate_eye_tracking`
generates fixations from an attention prior: a smoothed salient-object mask
plus the centre bias that every real data set shows (:func:`attention_prior`).
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import as_generator
from course_utils.images import check_mask

__all__ = ["attention_prior", "simulate_eye_tracking", "fixation_map", "fixation_density"]


def _check_shape(shape) -> tuple[int, int]:
    if (not isinstance(shape, (tuple, list)) or len(shape) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in shape)):
        raise ValueError(f"shape must be a pair of positive ints (H, W), got {shape!r}")
    return int(shape[0]), int(shape[1])


def _check_points(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 2 or not np.issubdtype(points.dtype, np.integer):
        raise ValueError(f"points must be an (N, 2) int array of (row, col), got shape {points.shape} dtype {points.dtype}")
    if len(points) and ((points.min(axis=0) < 0).any() or (points.max(axis=0) >= np.array(shape)).any()):
        raise ValueError(f"points has a (row, col) outside the image of shape {shape}")
    return points


def attention_prior(mask: np.ndarray, *, object_weight: float = 0.8, center_sigma: float = 0.3,
                    blur_sigma: float | None = None) -> np.ndarray:
    """Where observers tend to look: a smoothed object mask plus a central Gaussian.

    ``P = object_weight * blur(mask) / sum + (1 - object_weight) * centre / sum``,
    a probability distribution over pixels.

    Parameters
    ----------
    mask : ndarray, shape (H, W), bool
        The salient object (may be empty: then only the centre bias remains).
    object_weight : float in [0, 1]
        Share of the fixations drawn to the object.
    center_sigma : float
        Standard deviation of the centre bias, as a fraction of each side.
    blur_sigma : float, optional
        Gaussian blur of the mask in pixels (default: 3% of the longer side).

    Returns
    -------
    ndarray, shape (H, W), float64, summing to 1
    """
    from scipy import ndimage

    check_mask(mask, "mask")
    if mask.size == 0:
        raise ValueError(f"mask is empty: shape {mask.shape}")
    if not 0.0 <= object_weight <= 1.0:
        raise ValueError(f"object_weight must lie in [0, 1], got {object_weight!r}")
    if not (isinstance(center_sigma, (int, float, np.integer, np.floating)) and 1e-6 <= center_sigma < np.inf):
        raise ValueError(f"center_sigma must be a finite fraction of the image side >= 1e-6, got {center_sigma!r}")
    h, w = mask.shape
    rows = (np.arange(h) - (h - 1) / 2) / (center_sigma * h)
    cols = (np.arange(w) - (w - 1) / 2) / (center_sigma * w)
    log_centre = -0.5 * (rows[:, None] ** 2 + cols[None, :] ** 2)
    centre = np.exp(log_centre - log_centre.max())  # relative to the peak: a narrow centre never underflows to 0/0
    prior = (1.0 - object_weight) * centre / centre.sum()
    if mask.any() and object_weight > 0:
        sigma = 0.03 * max(h, w) if blur_sigma is None else blur_sigma
        obj = ndimage.gaussian_filter(mask.astype(np.float64), sigma) if sigma > 0 else mask.astype(np.float64)
        prior = prior + object_weight * obj / obj.sum()
    else:
        prior = centre / centre.sum()
    return prior / prior.sum()


def simulate_eye_tracking(prior: np.ndarray, *, observers: int = 8, fixations_per_observer: int = 6,
                          rng: np.random.Generator | int = 0) -> np.ndarray:
    """Draw synthetic fixations from an attention ``prior``, like an eye-tracking session.

    Every observer's first fixation lands near the image centre (where the
    gaze rests before the image appears); the others are drawn independently
    from ``prior``.

    Parameters
    ----------
    prior : ndarray, shape (H, W), float, non-negative, not all zero
        Unnormalised probability of fixating each pixel (e.g. :func:`attention_prior`).
    observers : int
        Number of observers (PASCAL-S had 8).
    fixations_per_observer : int
        Fixations recorded per observer (>= 1).
    rng : numpy Generator or int
        The random source.

    Returns
    -------
    ndarray, shape (observers * fixations_per_observer, 2), int64
        ``(row, col)`` of every fixation, observer by observer.
    """
    rng = as_generator(rng)
    prior = np.asarray(prior, dtype=np.float64)
    if prior.ndim != 2 or prior.size == 0 or not np.all(np.isfinite(prior)) or prior.min() < 0 or prior.sum() <= 0:
        raise ValueError("prior must be a non-empty 2-D array of finite non-negative values, not all zero")
    for name, value in (("observers", observers), ("fixations_per_observer", fixations_per_observer)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    h, w = prior.shape
    p = (prior / prior.sum()).ravel()
    points = []
    for _ in range(observers):
        first = rng.normal([(h - 1) / 2, (w - 1) / 2], [0.05 * h, 0.05 * w])
        points.append(np.clip(np.round(first), 0, [h - 1, w - 1]).astype(np.int64)[None])
        flat = rng.choice(p.size, size=fixations_per_observer - 1, p=p)
        points.append(np.stack(np.unravel_index(flat, (h, w)), axis=1).astype(np.int64))
    return np.concatenate(points, axis=0)


def fixation_map(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The bool fixation map ``(H, W)``: True at every fixated pixel (repeats collapse).

    Parameters
    ----------
    points : ndarray, shape (N, 2), int
        ``(row, col)`` of each fixation, inside ``shape``.
    shape : (int, int)
        ``(H, W)``.
    """
    shape = _check_shape(shape)
    points = _check_points(points, shape)
    out = np.zeros(shape, dtype=bool)
    out[points[:, 0], points[:, 1]] = True
    return out


def fixation_density(points: np.ndarray, shape: tuple[int, int], *, sigma: float | None = None) -> np.ndarray:
    """The fixation density map: fixations (repeats counted) blurred with a Gaussian, scaled to max 1.

    Parameters
    ----------
    points : ndarray, shape (N, 2), int
        ``(row, col)`` of each fixation.
    shape : (int, int)
        ``(H, W)``.
    sigma : float, optional
        Gaussian standard deviation in pixels; default 3% of the longer side
        (about one degree of visual angle in typical set-ups).

    Returns
    -------
    ndarray, shape (H, W), float64 in [0, 1]
    """
    from scipy import ndimage

    shape = _check_shape(shape)
    points = _check_points(points, shape)
    if len(points) == 0:
        raise ValueError("points is empty: a density map needs at least one fixation")
    sigma = 0.03 * max(shape) if sigma is None else float(sigma)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    counts = np.zeros(shape, dtype=np.float64)
    np.add.at(counts, (points[:, 0], points[:, 1]), 1.0)
    density = ndimage.gaussian_filter(counts, sigma, mode="constant")
    return density / density.max()
