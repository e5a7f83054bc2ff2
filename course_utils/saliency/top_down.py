"""Top-down (自上而下), task-driven (任务驱动) saliency: a class prior steers a bottom-up map.

Bottom-up maps answer "what stands out?"; a task asks "where is the car?". The
simplest task-driven model learns, from labelled images, how likely a colour is to
belong to the target class, ``P(class | colour)``, and weighs the bottom-up map with
it (the "top-down" feature weighting of Navalpakkam & Itti, CVPR 2006, and the
class-specific priors of Torralba et al., Psychological Review 2006, in their simplest
form: one colour histogram).

The prior is learnt from a segmentation data set's labels (e.g. the course's
synthetic VOC scenes, :func:`course_utils.data.voc.draw_scene`): per colour-histogram
cell, the fraction of its labelled pixels that belong to the class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils._shared import check_int, check_number

__all__ = ["ClassColourPrior", "fit_class_prior", "class_prior_map", "task_driven_map"]


@dataclass(frozen=True)
class ClassColourPrior:
    """``P(class | colour cell)`` over ``bins**3`` RGB cells: ``probability`` (bins**3,) float64 in [0, 1]."""

    class_id: int
    bins: int
    probability: np.ndarray
    base_rate: float


def _cells(image: np.ndarray, bins: int) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) uint8 RGB array, got {image.dtype} {image.shape}")
    idx = (image.astype(np.int64) * bins) // 256
    return (idx[..., 0] * bins + idx[..., 1]) * bins + idx[..., 2]


def fit_class_prior(images, labels, class_id: int, *, bins: int = 8, smoothing: float = 5.0,
                    ignore_index: int = 255) -> ClassColourPrior:
    """Learn ``P(class | colour)`` from labelled images.

    Parameters
    ----------
    images : ndarray, shape (N, H, W, 3), uint8, or a sequence of (H, W, 3) uint8
    labels : ndarray, shape (N, H, W), int, or a sequence of (H, W)
        Class ids; ``ignore_index`` pixels are left out.
    class_id : int
        The target class.
    bins : int
        Levels per channel (``bins**3`` cells).
    smoothing : float
        Pseudo-count: a cell seen ``n`` times gets ``(n_class + smoothing * base_rate) / (n + smoothing)``,
        so rare colours fall back to the class's overall share ``base_rate``.

    Returns
    -------
    ClassColourPrior
    """
    bins = check_int(bins, "bins", 2, 64)
    smoothing = check_number(smoothing, "smoothing", minimum=0.0)
    if len(images) == 0 or len(images) != len(labels):
        raise ValueError(f"images and labels must be non-empty and as many, got {len(images)} and {len(labels)}")
    total = np.zeros(bins**3)
    hits = np.zeros(bins**3)
    for image, label in zip(images, labels):
        label = np.asarray(label)
        cells = _cells(image, bins)
        if label.shape != cells.shape:
            raise ValueError(f"labels {label.shape} do not match their image {cells.shape}")
        keep = label != ignore_index
        total += np.bincount(cells[keep], minlength=bins**3)
        hits += np.bincount(cells[keep & (label == class_id)], minlength=bins**3)
    if total.sum() == 0:
        raise ValueError("every pixel is ignore_index: nothing to learn from")
    base_rate = float(hits.sum() / total.sum())
    if base_rate == 0:
        raise ValueError(f"class_id={class_id} occurs in none of the labels")
    probability = (hits + smoothing * base_rate) / (total + smoothing) if smoothing else \
        np.divide(hits, total, out=np.full(bins**3, base_rate), where=total > 0)
    return ClassColourPrior(int(class_id), bins, probability, base_rate)


def class_prior_map(image: np.ndarray, prior: ClassColourPrior) -> np.ndarray:
    """``P(class | colour)`` at every pixel: ``(H, W)`` float32 in [0, 1]."""
    return prior.probability[_cells(image, prior.bins)].astype(np.float32)


def task_driven_map(bottom_up: np.ndarray, prior_map: np.ndarray, *, weight: float = 0.5) -> np.ndarray:
    """Combine a bottom-up map with a class prior: ``bottom_up**(1 - weight) * prior**weight``, rescaled to [0, 1].

    A weighted geometric mean: a pixel must both stand out and look like the target
    (``weight = 0``: the bottom-up map alone; ``1``: the prior alone).

    Parameters
    ----------
    bottom_up, prior_map : ndarray, shape (H, W), float in [0, 1]
    weight : float in [0, 1]

    Returns
    -------
    ndarray, shape (H, W), float32 in [0, 1]
    """
    weight = check_number(weight, "weight", minimum=0.0, maximum=1.0)
    bottom_up, prior_map = np.asarray(bottom_up, np.float64), np.asarray(prior_map, np.float64)
    if bottom_up.shape != prior_map.shape or bottom_up.ndim != 2:
        raise ValueError(f"bottom_up {bottom_up.shape} and prior_map {prior_map.shape} must be the same (H, W)")
    if bottom_up.min() < 0 or prior_map.min() < 0:
        raise ValueError("bottom_up and prior_map must be non-negative")
    combined = bottom_up ** (1 - weight) * prior_map**weight
    top = combined.max()
    return (combined / top if top > 0 else combined).astype(np.float32)
