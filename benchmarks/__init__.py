"""Benchmarks: our implementations against reference libraries, measured in the same run.

Each ``benchmarks/bench_<topic>.py`` defines ``BENCHMARKS``, a list of
:class:`benchmarks.core.Benchmark`.  Run them with ``python -m benchmarks``
(``--json``, ``--only NAME``, ``--tiny``).
"""
