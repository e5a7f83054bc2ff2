"""Comparisons that explain themselves: each raises :class:`Incorrect` with a plain-words reason."""

from __future__ import annotations

import math

import numpy as np

from course_utils.exercises.core import Incorrect

__all__ = ["expect_array", "expect_close", "expect_type", "call_answer"]


def _as_numpy(value):
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy(), "tensor"
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, np.ndarray):
        return value, "array"
    return None, type(value).__name__


def expect_array(got, expected, what: str = "the result", *, atol: float = 1e-6, rtol: float = 1e-5,
                 check_dtype: bool = True, index_names: str = "index") -> None:
    """Compare an array or tensor answer with the expected one, explaining the first difference.

    Reports, in order: wrong type, wrong shape (and whether it looks transposed),
    wrong dtype (when ``check_dtype``), NaNs, then the first position whose value differs.
    """
    exp, exp_kind = _as_numpy(expected)
    arr, kind = _as_numpy(got)
    if arr is None:
        raise Incorrect(f"{what} should be a {'torch tensor' if exp_kind == 'tensor' else 'numpy array'}, "
                        f"but it is {'None: did you forget to return it?' if got is None else kind}")
    if kind != exp_kind:
        want = "a torch tensor" if exp_kind == "tensor" else "a numpy array"
        raise Incorrect(f"{what} should be {want}, but it is a {'torch tensor' if kind == 'tensor' else 'numpy array'}")
    if arr.shape != exp.shape:
        msg = f"{what} has shape {arr.shape}, expected {exp.shape}"
        if arr.ndim == exp.ndim and sorted(arr.shape) == sorted(exp.shape):
            msg += " (are two axes swapped? check your transpose/permute)"
        raise Incorrect(msg)
    if check_dtype and arr.dtype != exp.dtype:
        raise Incorrect(f"{what} has dtype {arr.dtype}, expected {exp.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and np.isnan(arr).any() and not np.isnan(exp).any():
        raise Incorrect(f"{what} contains NaN values (a division by zero or log of 0?)")
    if arr.dtype == bool or exp.dtype == bool or np.issubdtype(exp.dtype, np.integer):
        differ = arr != exp
    else:
        differ = ~np.isclose(arr.astype(np.float64), exp.astype(np.float64), atol=atol, rtol=rtol, equal_nan=True)
    if differ.any():
        pos = tuple(int(i) for i in np.argwhere(differ)[0])
        where = f" at {index_names} {pos if len(pos) != 1 else pos[0]}" if pos else ""
        count = int(differ.sum())
        if exp.ndim >= 2 and arr.shape == exp.shape and _close(arr.swapaxes(-1, -2), exp, atol, rtol):
            raise Incorrect(f"{what} is transposed: swap its last two axes")
        raise Incorrect(f"{what} differs{where}: expected {exp[pos]!r}, got {arr[pos]!r} "
                        f"({count} of {differ.size} values differ)")


def _close(a, b, atol, rtol) -> bool:
    if a.shape != b.shape:
        return False
    try:
        return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), atol=atol, rtol=rtol))
    except (TypeError, ValueError):  # pragma: no cover
        return False


def expect_close(got, expected: float, what: str = "the result", *, rel_tol: float = 1e-6,
                 abs_tol: float = 1e-9) -> None:
    """Compare a scalar answer with ``expected`` (``math.isclose``)."""
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    try:
        import torch

        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
    except ImportError:  # pragma: no cover
        pass
    # an answer, not an argument: a wrong type is the student's mistake (Incorrect), not a ValueError
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise Incorrect(f"{what} should be a number, but it is "
                        f"{'None: did you forget to return it?' if got is None else type(got).__name__}")
    if math.isnan(float(got)):
        raise Incorrect(f"{what} is NaN (a division by zero?)")
    if not math.isclose(float(got), float(expected), rel_tol=rel_tol, abs_tol=abs_tol):
        raise Incorrect(f"{what} is {float(got):.6g}, expected {float(expected):.6g}")


def expect_type(got, expected_type, what: str = "the result") -> None:
    """Require ``isinstance(got, expected_type)``."""
    if not isinstance(got, expected_type):
        name = getattr(expected_type, "__name__", str(expected_type))
        raise Incorrect(f"{what} should be a {name}, but it is "
                        f"{'None: did you forget to return it?' if got is None else type(got).__name__}")


def call_answer(answer, *args, **kwargs):
    """Call the student's function, turning "it is not a function" into a plain-words reason."""
    if not callable(answer):
        raise Incorrect(f"pass your function itself to check(), not {type(answer).__name__}")
    return answer(*args, **kwargs)
