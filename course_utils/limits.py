"""How much memory one call may ask for: size-like arguments are checked against it before allocating.

A careless argument (``levels=1000`` colour bins per channel, ``num_classes=10**6``, a
network ``width=100``, the convolution matrix of a 1000x1000 input) can ask for
terabytes; without a check, the machine swaps or the kernel kills the process (and the
notebook's kernel with it). Functions that allocate from a size-like argument call
:func:`check_bytes` first, which raises a ``ValueError`` naming the argument and the
bytes it would need.

The budget is half of this machine's physical memory, or ``$SEGCOURSE_MAX_BYTES``
(bytes, e.g. ``4e9``) when set.
"""

from __future__ import annotations

import os

__all__ = ["MAX_BYTES_ENV", "memory_budget", "check_bytes", "format_bytes"]

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
