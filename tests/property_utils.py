"""Shared pieces of the Hypothesis property suite (issue 16): profiles, input strategies, the verdict.

Every public function, given random shapes, dtypes, NaN/inf, empty and constant arrays, must
either return a finite, documented result or raise ``ValueError``/``TypeError`` whose message
names one of its arguments. Anything else (an ``IndexError`` from deep inside numpy, a
``ZeroDivisionError``, a ``RuntimeWarning`` about NaN, a NaN in the result) fails the test.

Profiles: ``ci`` (the default: few examples, derandomised so that ``make test`` is repeatable and
quick) and ``thorough`` (``HYPOTHESIS_PROFILE=thorough``: many random examples, for a hunt).
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
          HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=20, deadline=None, derandomize=True, database=None,
                          suppress_health_check=_QUIET, print_blob=True)
settings.register_profile("thorough", max_examples=400, deadline=None, database=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DTYPES = [np.uint8, np.int64, np.int32, np.float32, np.float64, np.bool_]


def _elements(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return st.floats(allow_nan=True, allow_infinity=True, width=32 if dtype.itemsize == 4 else 64)
    if dtype.kind == "b":
        return st.booleans()
    info = np.iinfo(dtype)
    return st.integers(max(info.min, -300), min(info.max, 300))


@st.composite
def any_array(draw, *, min_dims: int = 0, max_dims: int = 4, max_side: int = 6, dtypes=DTYPES):
    """Any small array: any of ``dtypes``, any shape (empty too), random or constant, NaN/inf in floats."""
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side))
    if draw(st.booleans()):  # constant
        return np.full(shape, draw(_elements(dtype)), dtype=dtype)
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype)))


@st.composite
def image_like(draw, *, max_side: int = 12):
    """Mostly RGB images (uint8, float in [0, 1]); sometimes broken (NaN, 0-255 floats, grey, empty, RGBA)."""
    kind = draw(st.sampled_from(["uint8", "float", "uint8", "float", "broken"]))
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    if kind == "uint8":
        if draw(st.booleans()):
            return np.full((h, w, 3), draw(st.integers(0, 255)), np.uint8)
        return draw(hnp.arrays(np.uint8, (h, w, 3)))
    if kind == "float":
        return draw(hnp.arrays(np.float64, (h, w, 3), elements=st.floats(0, 1)))
    return draw(st.one_of(
        any_array(min_dims=1, max_dims=4),
        hnp.arrays(np.float32, (h, w, 3), elements=st.floats(-2, 300, width=32)),
        hnp.arrays(np.float64, (h, w, 3), elements=st.floats(allow_nan=True, allow_infinity=True)),
        st.just(np.zeros((0, w, 3), np.uint8)),
        st.just(np.zeros((h, w, 4), np.uint8)),
        st.just(np.zeros((h, w), np.uint8)),
        st.sampled_from([None, 3, "image", [[1, 2, 3]]]),
    ))


# With SEGCOURSE_CENSUS=path.json, every call through attempt() is counted per module and outcome
# (the table of issue 16: inputs tried, clear errors, correct results; anything else fails the test).
_CENSUS: dict[str, dict[str, int]] = {}
if os.environ.get("SEGCOURSE_CENSUS"):
    import atexit
    import json

    def _write_census(path=os.environ["SEGCOURSE_CENSUS"]) -> None:
        old = {}
        if os.path.exists(path):
            with open(path) as f:
                old = json.load(f)
        for module, counts in _CENSUS.items():
            for outcome, n in counts.items():
                old.setdefault(module, {}).setdefault(outcome, 0)
                old[module][outcome] += n
        with open(path, "w") as f:
            json.dump(old, f, indent=1, sort_keys=True)

    atexit.register(_write_census)


def _count(fn, outcome: str) -> None:
    if os.environ.get("SEGCOURSE_CENSUS"):
        module = getattr(fn, "__module__", None) or type(fn).__module__
        counts = _CENSUS.setdefault(module, {})
        counts[outcome] = counts.get(outcome, 0) + 1


def _names_argument(message: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


def attempt(fn, *args, names, **kwargs):
    """``(True, result)``, or ``(False, None)`` after a ValueError/TypeError naming one of ``names``.

    Any other exception, a RuntimeWarning (numpy meeting NaN or dividing by 0) or an error that
    names no argument fails the calling test.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            result = fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        named = _names_argument(message, names)
        _count(fn, "clear error" if named else "unclear error")
        assert named, (
            f"{getattr(fn, '__name__', fn)} raised {type(err).__name__} naming none of {list(names)}: {message}")
        return False, None
    except BaseException:
        _count(fn, "crash")
        raise
    _count(fn, "result")
    return True, result


def assert_finite(value, what: str = "result", *, allow_nan: bool = False) -> None:
    """Every number in ``value`` (arrays, tensors, floats, containers) is finite (NaN allowed if said so)."""
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, dict):
        for k, v in value.items():
            assert_finite(v, f"{what}[{k!r}]", allow_nan=allow_nan)
        return
    if isinstance(value, (list, tuple)):
        for k, v in enumerate(value):
            assert_finite(v, f"{what}[{k}]", allow_nan=allow_nan)
        return
    if isinstance(value, (float, np.floating)) or (isinstance(value, np.ndarray) and value.dtype.kind in "fc"):
        arr = np.asarray(value)
        bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
        assert not bad.any(), f"{what} is not finite: {arr if arr.size < 20 else arr.ravel()[:20]}"
