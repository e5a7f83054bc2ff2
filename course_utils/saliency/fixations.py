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
generates fixations from a model of where observers look.  The course's model
is :func:`observer_prior`: computed from the *image* alone, never from the
object mask, it mixes the centre bias that every real data set shows, a
bottom-up (data-driven, 数据驱动) centre-surround contrast map in CIE Lab at
three scales (sharpened, so that a few salient points draw most fixations) and
a uniform share of fixations anywhere (noise, exploration).  Fixations then land
on the object only where the object is what stands out, and some land on
distractors, texture and the middle of the frame, as in real recordings.

:func:`attention_prior` (a smoothed object mask plus the centre bias) is kept
for comparison: fixations drawn from it follow the mask by construction, which
turns fixation prediction into object segmentation in disguise.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import as_generator, check_array, check_bytes, check_int, check_number, check_sequence
from course_utils.images import check_image, check_mask, check_size, to_float

__all__ = ["observer_prior", "contrast_map", "centre_bias", "attention_prior", "simulate_eye_tracking", "fixation_map",
           "fixation_density"]


def _check_shape(shape) -> tuple[int, int]:
    size = check_size(shape, "shape")
    check_bytes(8.0 * size[0] * size[1], name="shape", value=shape, what="an (H, W) float64 map")
    return size


def _check_points(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    points = check_array(points, "points")
    if points.ndim != 2 or points.shape[1] != 2 or points.dtype.kind not in "iu":
        raise ValueError(f"points must be an (N, 2) int array of (row, col), got shape {points.shape} dtype {points.dtype}")
    if len(points) and ((points.min(axis=0) < 0).any() or (points.max(axis=0) >= np.array(shape)).any()):
        raise ValueError(f"points has a (row, col) outside the image of shape {shape}")
    return points


_MAX_OBSERVERS = 10**6


def _check_center_sigma(value) -> float:
    # below 1e-6 of the side the Gaussian underflows to 0/0 everywhere but the centre pixel
    return check_number(value, "center_sigma", 1e-6, 1e6)


def centre_bias(shape: tuple[int, int], *, center_sigma: float = 0.3) -> np.ndarray:
    """A central Gaussian over an ``(H, W)`` grid, summing to 1 (the centre bias of free viewing).

    Parameters
    ----------
    shape : (int, int)
    center_sigma : float
        Standard deviation as a fraction of each side.
    """
    h, w = _check_shape(shape)
    center_sigma = _check_center_sigma(center_sigma)
    rows = (np.arange(h) - (h - 1) / 2) / (center_sigma * h)
    cols = (np.arange(w) - (w - 1) / 2) / (center_sigma * w)
    centre = np.exp(-0.5 * (rows[:, None] ** 2 + cols[None, :] ** 2))
    return centre / centre.sum()


def contrast_map(image: np.ndarray, *, scales: tuple[float, ...] = (0.04, 0.08, 0.16),
                 centre_scale: float = 0.012) -> np.ndarray:
    """Bottom-up centre-surround contrast: where colour or lightness differs from its surroundings.

    For each CIE Lab channel and each surround scale ``s`` (a fraction of the
    longer side), ``|G_c * I - G_s * I|`` with Gaussians of ``centre_scale`` and
    ``s``; the channels are summed (Euclidean) and the scales averaged, in the
    spirit of Itti, Koch & Niebur (PAMI 1998).  Computed from the pixels only.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        RGB, uint8 or float in [0, 1].
    scales : tuple of float
        Surround standard deviations, fractions of the longer side.
    centre_scale : float
        Centre standard deviation, fraction of the longer side.

    Returns
    -------
    ndarray, shape (H, W), float64 in [0, 1] (max 1 unless the image is flat)
    """
    from scipy import ndimage
    from skimage.color import rgb2lab

    check_image(image)
    scales = check_sequence(scales, "scales", lambda s, n: check_number(s, n, 0.0, 10.0, open_min=True),
                            what="positive fractions of the longer side")
    centre_scale = check_number(centre_scale, "centre_scale", 0.0, 10.0)
    lab = rgb2lab(to_float(image))
    side = max(lab.shape[:2])
    centre = np.stack([ndimage.gaussian_filter(lab[..., c], centre_scale * side) for c in range(3)], axis=-1)
    total = np.zeros(lab.shape[:2])
    for s in scales:
        surround = np.stack([ndimage.gaussian_filter(lab[..., c], s * side, mode="reflect") for c in range(3)], -1)
        total += np.sqrt(((centre - surround) ** 2).sum(axis=-1))
    top = total.max()
    return total / top if top > 0 else total


def observer_prior(image: np.ndarray, *, centre_weight: float = 0.3, contrast_weight: float = 0.55,
                   uniform_weight: float = 0.15, sharpness: float = 3.0, center_sigma: float = 0.3) -> np.ndarray:
    """Where free-viewing observers look in ``image``: centre bias + bottom-up contrast + noise.

    ``P = centre_weight * centre + contrast_weight * C**sharpness / sum + uniform_weight / (H W)``
    with ``C`` the :func:`contrast_map` (raising it to ``sharpness`` concentrates
    the contrast share on a few salient points) and ``centre`` the
    :func:`centre_bias`.  It never looks at an object mask: fixations drawn from
    it land on the object only as far as the object stands out.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    centre_weight, contrast_weight, uniform_weight : float
        Non-negative shares of the fixations (normalised to sum to 1).
    sharpness : float
        Exponent applied to the contrast map (>= 1: peakier).
    center_sigma : float
        See :func:`centre_bias`.

    Returns
    -------
    ndarray, shape (H, W), float64, summing to 1
    """
    check_image(image)
    weights = np.array([check_number(centre_weight, "centre_weight", 0.0, 1e6),
                        check_number(contrast_weight, "contrast_weight", 0.0, 1e6),
                        check_number(uniform_weight, "uniform_weight", 0.0, 1e6)])
    if weights.sum() <= 0:
        raise ValueError("centre_weight, contrast_weight and uniform_weight must not all be zero, got 0, 0, 0")
    sharpness = check_number(sharpness, "sharpness", 0.0, 100.0, open_min=True)
    center_sigma = _check_center_sigma(center_sigma)
    weights = weights / weights.sum()
    contrast = contrast_map(image) ** sharpness
    shape = contrast.shape
    prior = weights[0] * centre_bias(shape, center_sigma=center_sigma) + weights[2] / contrast.size
    if contrast.sum() > 0:
        prior = prior + weights[1] * contrast / contrast.sum()
    else:
        prior = prior + weights[1] / contrast.size
    return prior / prior.sum()


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
    object_weight = check_number(object_weight, "object_weight", 0.0, 1.0)
    center_sigma = _check_center_sigma(center_sigma)
    if blur_sigma is not None:
        blur_sigma = check_number(blur_sigma, "blur_sigma", 0.0, 1e6)
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
        Number of observers (PASCAL-S had 8), at most a million.
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
    prior = check_array(prior, "prior", ndim=2, kinds="iuf", finite=True).astype(np.float64)
    if prior.size == 0 or prior.min() < 0 or not prior.sum() > 0 or not np.isfinite(prior.sum()):
        raise ValueError("prior must be a non-empty 2-D array of finite non-negative values, not all zero")
    # one Python step per observer (a real study has tens): a million is far beyond any session
    observers = check_int(observers, "observers", 1, _MAX_OBSERVERS)
    fixations_per_observer = check_int(fixations_per_observer, "fixations_per_observer", 1)
    # the (row, col) int64 points and their per-observer temporaries, bounded before the loop
    name, value = (("observers", observers) if observers >= fixations_per_observer
                   else ("fixations_per_observer", fixations_per_observer))
    check_bytes(48.0 * observers * fixations_per_observer + 8.0 * prior.size, name=name, value=value,
                what=f"{observers} observers x {fixations_per_observer} fixations")
    h, w = prior.shape
    # rng.choice(p.size, p=p) draws uniforms and searches the normalised cumulative sum: the same
    # draws, with the sum computed once instead of once per observer
    cdf = (prior / prior.sum()).ravel().cumsum()
    cdf /= cdf[-1]
    points = []
    for _ in range(observers):
        first = rng.normal([(h - 1) / 2, (w - 1) / 2], [0.05 * h, 0.05 * w])
        points.append(np.clip(np.round(first), 0, [h - 1, w - 1]).astype(np.int64)[None])
        flat = cdf.searchsorted(rng.random(fixations_per_observer - 1), side="right")
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
    sigma = 0.03 * max(shape) if sigma is None else check_number(sigma, "sigma", 0.0, 1e6, open_min=True)
    counts = np.zeros(shape, dtype=np.float64)
    np.add.at(counts, (points[:, 0], points[:, 1]), 1.0)
    density = ndimage.gaussian_filter(counts, sigma, mode="constant")
    return density / density.max()
