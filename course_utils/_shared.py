"""Constants and argument checks used across the library (scikit-image's ``_shared`` is the model).

One definition of each, imported wherever it is needed:

* :data:`IMAGENET_MEAN`, :data:`IMAGENET_STD` -- the per-channel statistics every pretrained
  backbone here normalises with (RGB, images in [0, 1]);
* :data:`IGNORE_INDEX` -- the label value that is not scored (255, "void" in VOC and Cityscapes);
* :func:`as_generator` -- the one randomness policy: a ``numpy.random.Generator`` or a
  non-negative int seed;
* :func:`check_int` -- an int argument with a lower bound (kernel sizes, strides, paddings);
* :func:`check_width` -- a network's channel-width multiplier;
* :func:`check_palette` -- a ``(K, 3)`` uint8 colour table;
* :func:`check_bytes`, :func:`memory_budget` -- how much memory one call may ask for: size-like
  arguments (``levels``, ``num_classes``, a network's ``width``, an input size) are checked against
  it before allocating, with an error naming the argument and the bytes it would need (half the
  physical memory, or ``$SEGCOURSE_MAX_BYTES``).

This module imports numpy (and the standard library) only.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["IGNORE_INDEX", "IMAGENET_MEAN", "IMAGENET_STD", "MAX_BYTES_ENV", "as_generator", "check_bytes", "check_int",
           "check_palette", "check_width", "format_bytes", "memory_budget"]

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


def check_width(width, maximum: float = math.inf, *, params_at_width_1: float | None = None) -> float:
    """A network's width multiplier (1.0 = the paper's channel counts) as a float in ``(0, maximum]``.

    Parameters
    ----------
    params_at_width_1 : float, optional
        The network's parameter count at width 1: parameters grow as ``width**2``, so the float32
        weights of ``width`` are checked against :func:`memory_budget` before anything is built.

    Raises
    ------
    ValueError
        If ``width`` is not a finite real number in ``(0, maximum]``, or its weights would not fit.
    """
    if (isinstance(width, bool) or not isinstance(width, (int, float)) or not math.isfinite(width)
            or not 0 < width <= maximum):
        bound = "a positive number" if maximum == math.inf else f"a number in (0, {maximum:g}]"
        raise ValueError(f"width must be {bound} (1.0 = the paper's channel counts), got {width!r}")
    if params_at_width_1 is not None:
        check_bytes(4.0 * params_at_width_1 * float(width) ** 2, name="width", value=width,
                    what="the network's parameters")
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


# ------------------------------------------------------------------------------- memory bounds
MAX_BYTES_ENV = "SEGCOURSE_MAX_BYTES"
_FALLBACK = 8 * 2**30  # when the physical memory cannot be read


def memory_budget() -> int:
    """The most bytes one call may allocate: ``$SEGCOURSE_MAX_BYTES``, else half the physical memory."""
    value = os.environ.get(MAX_BYTES_ENV, "").strip()
    if value:
        try:
            budget = int(float(value))
        except ValueError:
            raise ValueError(f"environment variable {MAX_BYTES_ENV}={value!r} is not a number of bytes") from None
        if budget <= 0:
            raise ValueError(f"environment variable {MAX_BYTES_ENV}={value!r} must be positive")
        return budget
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        total = 2 * _FALLBACK
    return max(total // 2, 2**28)


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style text."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


def check_bytes(nbytes: float, *, name: str, value, what: str) -> None:
    """Raise ``ValueError`` if ``nbytes`` (what ``name=value`` makes the call allocate) exceeds the budget.

    Parameters
    ----------
    nbytes : number
        The bytes the call would allocate (an estimate of its largest arrays; may be a float).
    name, value :
        The argument responsible, for the message (``"levels"``, ``1000``).
    what : str
        What would be allocated (``"the 1000**3 colour bins"``).
    """
    budget = memory_budget()
    if nbytes > budget:
        raise ValueError(f"{name}={value!r} would allocate about {format_bytes(nbytes)} for {what}, more than the "
                         f"{format_bytes(budget)} one call may use (half this machine's memory; "
                         f"${MAX_BYTES_ENV} changes it): choose a smaller {name}")
