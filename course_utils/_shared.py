"""Constants and argument checks used across the library (scikit-image's ``_shared`` is the model).

One definition of each, imported wherever it is needed:

* :data:`IMAGENET_MEAN`, :data:`IMAGENET_STD` -- the per-channel statistics every pretrained
  backbone here normalises with (RGB, images in [0, 1]);
* :data:`IGNORE_INDEX` -- the label value that is not scored (255, "void" in VOC and Cityscapes);
* :func:`as_generator` -- the one randomness policy: a ``numpy.random.Generator`` or a
  non-negative int seed;
* :func:`check_int` -- an int argument with a lower bound (kernel sizes, strides, paddings);
* :func:`check_width` -- a network's channel-width multiplier;
* :func:`check_palette` -- a ``(K, 3)`` uint8 colour table.

This module imports numpy only.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["IGNORE_INDEX", "IMAGENET_MEAN", "IMAGENET_STD", "as_generator", "check_int", "check_palette", "check_width"]

#: ImageNet's per-channel mean and standard deviation (RGB, images in [0, 1]).
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: Label value left out of losses and scores (VOC's boundary "void", Cityscapes' unlabelled classes).
IGNORE_INDEX = 255


def as_generator(rng) -> np.random.Generator:
    """``rng`` as a ``numpy.random.Generator``: a Generator is returned as is, an int seeds a new one.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        A generator (shared state: the caller's stream advances) or a non-negative int seed
        (``numpy.random.default_rng(seed)``: the same seed gives the same draws).

    Raises
    ------
    TypeError
        If ``rng`` is anything else (a bool, a float, a negative int, ``None``).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator or a non-negative int seed, got {rng!r}")


def check_int(value, name: str, minimum: int) -> int:
    """``value`` as an int ``>= minimum`` (numpy ints accepted, bools refused).

    Raises
    ------
    ValueError
        Naming the argument ``name``, if ``value`` is not such an int.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_width(width, maximum: float = math.inf) -> float:
    """A network's width multiplier (1.0 = the paper's channel counts) as a float in ``(0, maximum]``.

    Raises
    ------
    ValueError
        If ``width`` is not a finite real number in ``(0, maximum]``.
    """
    if (isinstance(width, bool) or not isinstance(width, (int, float)) or not math.isfinite(width)
            or not 0 < width <= maximum):
        bound = "a positive number" if maximum == math.inf else f"a number in (0, {maximum:g}]"
        raise ValueError(f"width must be {bound} (1.0 = the paper's channel counts), got {width!r}")
    return float(width)


def check_palette(palette) -> np.ndarray:
    """``palette`` as a ``(K, 3)`` uint8 array (one RGB colour per label value).

    Raises
    ------
    ValueError
        If it has another shape or dtype.
    """
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] != 3 or palette.dtype != np.uint8:
        raise ValueError(f"palette must be a (K, 3) uint8 array, got shape {palette.shape} dtype {palette.dtype}")
    return palette
