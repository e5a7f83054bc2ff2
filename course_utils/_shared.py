"""Constants and argument checks used across the library (scikit-image's ``_shared`` is the model).

One definition of each, imported wherever it is needed:

* :data:`IMAGENET_MEAN`, :data:`IMAGENET_STD` -- the per-channel statistics every pretrained
  backbone here normalises with (RGB, images in [0, 1]);
* :data:`IGNORE_INDEX` -- the label value that is not scored (255, "void" in VOC and Cityscapes);
* :func:`as_generator` -- the one randomness policy: a ``numpy.random.Generator`` or a
  non-negative int seed;
* the argument checks, one message format (``"<name> must be <what>, got <value!r>"``, a
  ``ValueError``): :func:`check_int` (an int in a range; bools refused), :func:`check_number` (a
  finite real in a range), :func:`check_probability`, :func:`check_choice` (one of a fixed set),
  :func:`check_sequence` (a non-empty sequence, each item checked), :func:`check_array` (an array's
  dimensions, dtype kind and shape);
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

__all__ = ["IGNORE_INDEX", "IMAGENET_MEAN", "IMAGENET_STD", "MAX_BYTES_ENV", "as_generator", "check_array",
           "check_bytes", "check_choice", "check_int", "check_number", "check_palette", "check_probability",
           "check_sequence", "check_width", "format_bytes", "memory_budget"]

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


def _range_text(minimum, maximum, *, open_min: bool = False, open_max: bool = False) -> str:
    if minimum is not None and maximum is not None:
        return f" in {'(' if open_min else '['}{minimum:g}, {maximum:g}{')' if open_max else ']'}"
    if minimum is not None:
        return f" {'>' if open_min else '>='} {minimum:g}"
    if maximum is not None:
        return f" {'<' if open_max else '<='} {maximum:g}"
    return ""


def check_int(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (numpy ints accepted; bools, floats refused).

    Raises
    ------
    ValueError
        Naming the argument ``name``, if ``value`` is not such an int.
    """
    # the one place a bool is refused by hand: bool is a subclass of int
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
            or (minimum is not None and value < minimum) or (maximum is not None and value > maximum)):
        raise ValueError(f"{name} must be an int{_range_text(minimum, maximum)}, got {value!r}")
    return int(value)


def check_number(value, name: str, minimum: float | None = None, maximum: float | None = None, *,
                 open_min: bool = False, open_max: bool = False) -> float:
    """``value`` as a finite float in the range (``open_min``/``open_max``: that end excluded).

    Ints and numpy scalars are accepted; bools, NaN, infinities, strings and arrays are refused.

    Raises
    ------
    ValueError
        Naming ``name``, if ``value`` is not such a number.
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok:
        x = float(value)
        ok = (math.isfinite(x) and (minimum is None or (x > minimum if open_min else x >= minimum))
              and (maximum is None or (x < maximum if open_max else x <= maximum)))
    if not ok:
        where = _range_text(minimum, maximum, open_min=open_min, open_max=open_max)
        raise ValueError(f"{name} must be a finite number{where}, got {value!r}")
    return float(value)


def check_probability(value, name: str, *, open_min: bool = False, open_max: bool = False) -> float:
    """``value`` as a float in ``[0, 1]`` (either end excluded on request)."""
    return check_number(value, name, 0.0, 1.0, open_min=open_min, open_max=open_max)


def check_choice(value, name: str, choices) -> object:
    """``value`` if it is one of ``choices`` (compared with ``==``, types kept), else a ValueError."""
    choices = tuple(choices)
    if isinstance(value, bool) and not any(isinstance(c, bool) for c in choices):
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    try:
        found = value in choices
    except TypeError:  # an unhashable or incomparable value
        found = False
    if not found:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_sequence(value, name: str, item=None, *, min_length: int = 1, what: str = "items") -> tuple:
    """``value`` (a list, tuple or 1-D array; not a string) as a tuple of at least ``min_length`` items.

    Parameters
    ----------
    item : callable, optional
        Applied to each element as ``item(element, f"{name}[{i}]")`` (e.g. :func:`check_int` with
        bounds bound by a lambda); its return values make up the tuple.
    """
    if isinstance(value, (str, bytes, dict, set)) or not isinstance(value, (list, tuple, np.ndarray)) or (
            isinstance(value, np.ndarray) and value.ndim != 1):
        raise ValueError(f"{name} must be a list or tuple of {what}, got {value!r}")
    if len(value) < min_length:
        raise ValueError(f"{name} must hold at least {min_length} {what}, got {list(value)!r}")
    if item is None:
        return tuple(value)
    return tuple(item(v, f"{name}[{i}]") for i, v in enumerate(value))


_KINDS = {"b": "bool", "i": "signed int", "u": "unsigned int", "f": "float", "c": "complex"}


def check_array(value, name: str, *, ndim: int | tuple[int, ...] | None = None, kinds: str | None = None,
                shape: tuple | None = None, finite: bool = False) -> np.ndarray:
    """``value`` as a numpy array with the expected dimensions, dtype kinds and shape.

    Parameters
    ----------
    ndim : int or tuple of int, optional
        Allowed numbers of dimensions.
    kinds : str, optional
        Allowed dtype kinds, e.g. ``"iu"`` (integer labels), ``"f"``, ``"biuf"``.
    shape : tuple, optional
        Expected shape; ``None`` entries match any size.
    finite : bool
        Refuse NaN and infinities (float arrays).
    """
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except Exception as err:  # objects numpy cannot turn into an array
            raise ValueError(f"{name} must be an array, got {type(value).__name__}") from err
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if ndims is not None and value.ndim not in ndims:
        raise ValueError(f"{name} must be a {' or '.join(f'{n}-D' for n in ndims)} array, got shape {value.shape}")
    if kinds is not None and value.dtype.kind not in kinds:
        wanted = " or ".join(_KINDS.get(k, k) for k in kinds)
        raise ValueError(f"{name} must have a {wanted} dtype, got {value.dtype}")
    if shape is not None and (len(shape) != value.ndim or any(s is not None and s != v for s, v in zip(shape, value.shape))):
        expected = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {expected}, got {value.shape}")
    if finite and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
        raise ValueError(f"{name} must be finite (no NaN or infinity)")
    return value


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
