"""The library's own input probe (issue 25, item 5): inputs by class, every result classified.

Each public function is described once (:class:`Case`): a valid call, the kind of each argument,
and an *oracle* that checks a result against an independent computation (numpy, scipy, torch;
never the library). :func:`run_case` calls the function as given (the result must satisfy the
oracle) and then once per bad input of each argument's kind, drawn from these classes:

``dtype`` (wrong dtype or type), ``shape`` (wrong dimensions or size, another array's size),
``range`` (out of the documented range: negative, 0..255 floats, a probability above 1),
``empty`` (zero-size arrays, empty sequences), ``huge`` (sizes far beyond memory),
``nan`` (NaN and infinities), ``device`` (a tensor on torch's ``meta`` device),
``order`` (channels first instead of last, transposed pairs).

Every result is one of:

* **clear error**: ``ValueError``/``TypeError`` whose message names the argument;
* **correct**: a returned value that the oracle accepts;
* **other**: anything else (a result the oracle rejects or cannot judge, another exception, a
  warning, an error naming another argument, a call that runs past its time limit).

The kinds know nothing of the functions, so a new function is probed by describing its call.
"""

from __future__ import annotations

import math
import signal
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

HUGE = 10**9

CLEAR, CORRECT, OTHER = "clear error", "correct", "other"


def _img(h=12, w=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def bad_values(kind: str, valid):
    """``[(class, value), ...]``: inputs of ``kind`` that must be refused (``valid`` is the good one)."""
    import torch

    nan, inf = float("nan"), float("inf")
    common = [("dtype", "3"), ("dtype", None), ("dtype", object())]
    if kind == "image":  # (H, W, 3) uint8 or float in [0, 1]
        h, w = valid.shape[:2]
        return common + [("dtype", valid.astype(np.int64)), ("dtype", valid.astype(bool)),
                         ("dtype", valid.astype(np.complex64)), ("shape", valid[..., 0]), ("shape", valid[None]),
                         ("shape", np.concatenate([valid, valid[..., :1]], axis=2)),
                         ("order", np.ascontiguousarray(valid.transpose(2, 0, 1))),
                         ("range", valid.astype(np.float32)), ("range", valid.astype(np.float32) / 255 - 0.5),
                         ("empty", valid[:0]), ("empty", valid[:, :0]),
                         ("nan", np.where(np.arange(h * w).reshape(h, w, 1) == 3, nan, valid / 255.0)),
                         ("nan", np.full(valid.shape, inf))]
    if kind in ("mask", "fixations"):  # (H, W) bool, the image's size
        return common + [("dtype", valid.astype(np.float64)), ("dtype", valid.astype(np.uint8)),
                         ("shape", valid[None]), ("shape", valid[:-1]), ("shape", valid.ravel()),
                         ("empty", valid[:0])]
    if kind == "labels":  # (H, W) integer class ids, the image's size
        return common + [("dtype", valid.astype(np.float64) + 0.7), ("dtype", valid.astype(np.complex64)),
                         ("shape", np.stack([valid] * 3, axis=-1)), ("shape", valid[:-1]), ("shape", valid.ravel()),
                         ("empty", valid[:0]), ("range", valid - 7)]
    if kind == "saliency":  # (H, W) float in [0, 1]
        return common + [("dtype", (valid * 255).astype(np.uint8)), ("shape", valid[None]), ("shape", valid[:-1]),
                         ("range", valid * 255 + 2), ("range", valid - 1.5), ("empty", valid[:0]),
                         ("nan", np.where(valid > 0.5, nan, valid)), ("nan", np.full(valid.shape, inf))]
    if kind == "density":  # (H, W) float >= 0
        return common + [("shape", valid[:-1]), ("range", valid - 5.0), ("empty", valid[:0]),
                         ("nan", np.full(valid.shape, nan)), ("dtype", valid.astype(np.complex64))]
    if kind == "probs_tensor":  # (C, H, W) float tensor summing to 1 over C
        return common + [("range", valid * 3), ("nan", valid * nan), ("shape", valid[0]),
                         ("device", valid.to("meta")), ("dtype", valid.to(torch.int64)),
                         ("order", valid.permute(1, 2, 0).contiguous()), ("empty", valid[:, :0])]
    if kind == "float_tensor":  # any finite float tensor
        return common + [("nan", valid * nan), ("device", valid.to("meta")), ("empty", valid[..., :0]),
                         ("dtype", valid.to(torch.complex64))]
    if kind == "image_tensor":  # (3, H, W) float tensor in [0, 1]
        return common + [("range", valid * 255), ("nan", valid * nan), ("device", valid.to("meta")),
                         ("order", valid.permute(1, 2, 0).contiguous()), ("dtype", valid.to(torch.uint8)),
                         ("empty", valid[:, :0])]
    if kind.startswith("int"):  # int[lo,hi]
        lo, hi = _bounds(kind)
        out = common + [("dtype", True), ("dtype", 2.5), ("dtype", float(valid)), ("nan", nan), ("nan", inf),
                        ("dtype", [valid]), ("huge", 10**30)]
        if lo is not None:
            out.append(("range", lo - 1))
        if hi is not None:
            out.append(("range", hi + 1))
        return out
    if kind.startswith("num"):  # num[lo,hi] or num(lo,hi]: a finite real number
        lo, hi = _bounds(kind)
        out = common + [("dtype", True), ("dtype", [valid]), ("dtype", 1j), ("nan", nan), ("nan", inf), ("nan", -inf)]
        if lo is not None:
            out.append(("range", lo - 1e-3 if kind[3] == "[" else lo))
            out.append(("range", lo - 1e6))
        if hi is not None:
            out.append(("range", hi + 1e-3 if kind[-1] == "]" else hi))
            out.append(("huge", 1e308))
        return out
    if kind == "size":  # (H, W) pair of positive ints
        return common + [("empty", ()), ("shape", (4,)), ("shape", (4, 4, 4)), ("range", (0, 4)), ("range", (4, -1)),
                         ("dtype", (4.5, 4)), ("dtype", (True, 4)), ("dtype", "44"), ("huge", (HUGE, HUGE)),
                         ("nan", (nan, 4))]
    if kind == "scales":  # a non-empty sequence of positive numbers
        return common + [("empty", ()), ("range", (0.1, -0.1)), ("nan", (nan,)), ("nan", (inf,)),
                         ("dtype", "0.1"), ("dtype", (True,)), ("range", (0.0,))]
    if kind == "flag":
        return [("dtype", "yes"), ("dtype", None), ("dtype", 2)]
    if kind == "seed":
        return [("dtype", -1), ("dtype", 1.5), ("dtype", "0"), ("dtype", True)]
    raise KeyError(kind)


def _bounds(kind: str):
    inner = kind[kind.index(kind[3]) + 1:-1] if kind[3] in "[(" else ""
    lo, hi = (inner.split(",") + [""])[:2] if inner else ("", "")
    conv = int if kind.startswith("int") else float
    return (conv(lo) if lo.strip() else None, conv(hi) if hi.strip() else None)


@dataclass
class Case:
    """One public function, probed: ``call(**kwargs)`` must equal ``oracle(kwargs, result)``."""

    name: str
    call: Callable
    kwargs: dict
    kinds: dict  # argument -> kind (see bad_values)
    oracle: Callable | None = None  # (kwargs, result) -> bool
    valid: list = field(default_factory=list)  # extra valid kwargs updates, checked by the oracle
    skip: dict = field(default_factory=dict)  # argument -> classes not applicable
    optional: tuple = ()  # arguments for which None is a valid value (the default)


def _timeout(seconds: float):
    def handler(signum, frame):
        raise TimeoutError(f"ran past {seconds} s")

    return handler


def classify(case: Case, kwargs: dict, argument: str | None, limit: float = 90.0) -> tuple[str, str]:
    """Call ``case`` with ``kwargs``; return (class, detail)."""
    old = signal.signal(signal.SIGALRM, _timeout(limit))
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = case.call(**kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        if argument is None:
            return OTHER, f"valid call raised {type(err).__name__}: {message[:160]}"
        import re

        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(argument)}(?![A-Za-z0-9_])", message):
            return CLEAR, message[:100]
        return OTHER, f"{type(err).__name__} not naming {argument!r}: {message[:160]}"
    except BaseException as err:  # noqa: BLE001 - everything else is what the probe is looking for
        if isinstance(err, KeyboardInterrupt):
            raise
        return OTHER, f"{type(err).__name__}: {str(err)[:160]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    if case.oracle is None:
        return OTHER, "returned, and no oracle can judge it"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ok = bool(case.oracle(kwargs, result))
    except Exception as err:  # noqa: BLE001 - an oracle that cannot read the result: not correct
        ok, why = False, f"oracle failed: {type(err).__name__}: {err}"
    else:
        why = "returned a result the oracle rejects"
    if ok:
        return CORRECT, ""
    return OTHER, why if argument is None else f"{argument} accepted: {why}"


def run_case(case: Case) -> list[tuple[str, str, str, str]]:
    """``[(function, argument or "-", input class, verdict, detail)]`` for the case's valid and bad inputs."""
    rows = []
    for update in [{}] + list(case.valid):
        verdict, detail = classify(case, {**case.kwargs, **update}, None)
        rows.append((case.name, "-", "valid", verdict, detail))
    for argument, kind in case.kinds.items():
        for cls, value in bad_values(kind, case.kwargs[argument]):
            if cls in case.skip.get(argument, ()) or (value is None and argument in case.optional):
                continue
            verdict, detail = classify(case, {**case.kwargs, argument: value}, argument)
            rows.append((case.name, argument, cls, verdict, detail))
    return rows


def census(rows) -> Counter:
    return Counter(r[3] for r in rows)


def table(rows) -> str:
    """The census as text: counts per verdict, overall and per input class."""
    total = census(rows)
    classes = sorted({r[2] for r in rows})
    lines = [f"{'class':<8} " + " ".join(f"{v:>12}" for v in (CLEAR, CORRECT, OTHER)),
             *(f"{c:<8} " + " ".join(f"{sum(1 for r in rows if r[2] == c and r[3] == v):>12}" for v in (CLEAR, CORRECT, OTHER))
               for c in classes),
             f"{'total':<8} " + " ".join(f"{total[v]:>12}" for v in (CLEAR, CORRECT, OTHER)),
             f"{len({r[0] for r in rows})} functions, {len(rows)} calls"]
    return "\n".join(lines)


def close(a, b, tol=1e-6) -> bool:
    """``a`` equals ``b`` (an array of the same shape, or a scalar) within ``tol``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (b.ndim == 0 or a.shape == b.shape) and a.size > 0 and bool(np.allclose(a, b, atol=tol, rtol=tol))


__all__ = ["Case", "bad_values", "classify", "run_case", "census", "table", "close", "CLEAR", "CORRECT", "OTHER",
           "math", "time"]
