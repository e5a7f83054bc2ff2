"""Timing helpers and the benchmark registry."""

from __future__ import annotations

import importlib
import pkgutil
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

__all__ = ["Row", "Benchmark", "median_time", "compare", "all_benchmarks"]


@dataclass
class Row:
    """One line of the table: our time, the reference's, their ratio and how well the outputs agree."""

    name: str
    ours_s: float
    reference: str
    reference_s: float | None
    ratio: float | None  # ours_s / reference_s (< 1: we are faster)
    agreement: float | None  # a similarity of the two outputs (IoU, fraction of equal labels, ...)
    device: str
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Benchmark:
    """A named benchmark; ``run(tiny)`` returns a :class:`Row` (``tiny``: a seconds-long smoke size)."""

    name: str
    run: Callable[[bool], Row]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, device: str = "cpu") -> tuple[float, object]:
    """Median wall time of ``fn()`` in seconds over ``repeats`` runs after ``warmup`` runs; and its last output."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats}, {warmup}")
    out = None
    for _ in range(warmup):
        out = fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def compare(name: str, ours: Callable[[], object], reference: Callable[[], object] | None, reference_name: str,
            agreement: Callable[[object, object], float] | None = None, *, repeats: int = 5, warmup: int = 1,
            device: str = "cpu", note: str = "") -> Row:
    """Time ``ours`` and ``reference`` in this process, alternating nothing, and build a :class:`Row`."""
    ours_s, ours_out = median_time(ours, repeats, warmup, device)
    if reference is None:
        return Row(name, ours_s, reference_name, None, None, None, device, note)
    ref_s, ref_out = median_time(reference, repeats, warmup, device)
    agree = agreement(ours_out, ref_out) if agreement is not None else None
    return Row(name, ours_s, reference_name, ref_s, ours_s / ref_s if ref_s > 0 else None, agree, device, note)


def all_benchmarks() -> dict[str, Benchmark]:
    """Every benchmark of every ``benchmarks/bench_*.py`` module, by name."""
    import benchmarks as package

    found: dict[str, Benchmark] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for bench in getattr(module, "BENCHMARKS", []):
            if bench.name in found:
                raise ValueError(f"benchmark name {bench.name!r} is defined twice")
            found[bench.name] = bench
    return found
