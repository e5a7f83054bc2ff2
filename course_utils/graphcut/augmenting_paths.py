"""Edmonds-Karp, step by step: every augmenting path and the residual graph it leaves.

J. Edmonds and R. M. Karp, "Theoretical improvements in algorithmic efficiency for
network flow problems", J. ACM 19(2), 1972.  Each step finds a *shortest* path
from the source to the sink over edges with residual capacity left (breadth-first
search), pushes the path's smallest residual (its bottleneck) along it, lowers the
residuals along the path and raises them on the reverse edges.  When the sink
cannot be reached any more, the flow is maximal and the nodes the source still
reaches are the source side of a minimum cut (Ford-Fulkerson: max-flow = min-cut).

Lesson 2 draws these steps on the lecture's 3x3 graph
(:func:`course_utils.viz.graphcut.draw_augmenting_step`); its exercise
``02.max_flow`` asks the student to write the algorithm, so this module is
forbidden there.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from course_utils.graphcut.flow_network import _check_capacity

__all__ = ["AugmentingStep", "MaxFlowSteps", "edmonds_karp_steps"]


@dataclass(frozen=True)
class AugmentingStep:
    """One augmentation: the path (node indices, source first), what it pushed, the residuals after it.

    ``residual`` is ``(n, n)`` float64: what can still go along each edge ``u -> v`` after this step;
    ``flow`` the total pushed so far.
    """

    path: tuple[int, ...]
    bottleneck: float
    residual: np.ndarray
    flow: float


@dataclass(frozen=True)
class MaxFlowSteps:
    """The whole run: ``steps`` in order, the maximum ``flow`` and the ``source_side`` of the minimum cut."""

    steps: tuple[AugmentingStep, ...]
    flow: float
    source_side: np.ndarray


def _shortest_path(residual: np.ndarray, source: int, sink: int, tol: float) -> tuple[np.ndarray, list[int] | None]:
    n = len(residual)
    parent = np.full(n, -1)
    parent[source] = source
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v in np.flatnonzero(residual[u] > tol):
            if parent[v] < 0:
                parent[v] = u
                queue.append(v)
    if parent[sink] < 0:
        return parent, None
    path, v = [sink], sink
    while v != source:
        v = int(parent[v])
        path.append(v)
    return parent, path[::-1]


def edmonds_karp_steps(capacity: np.ndarray, source: int, sink: int, *, tol: float = 1e-12) -> MaxFlowSteps:
    """Run Edmonds-Karp and keep every step.

    Parameters
    ----------
    capacity : ndarray, shape (n, n), float
        ``capacity[u, v]``: the capacity of the edge ``u -> v`` (0: no edge); not modified.
    source, sink : int
    tol : float
        Residuals at or below it count as used up (rounding).

    Returns
    -------
    MaxFlowSteps
        The steps (breadth-first search visits neighbours in index order, so the run is
        deterministic), the maximum flow and the source side of the minimum cut.
    """
    residual = _check_capacity(capacity, source, sink).astype(np.float64, copy=True)
    steps, flow = [], 0.0
    while True:
        parent, path = _shortest_path(residual, source, sink, tol)
        if path is None:
            return MaxFlowSteps(tuple(steps), flow, parent >= 0)
        edges = list(zip(path[:-1], path[1:]))
        push = float(min(residual[u, v] for u, v in edges))
        for u, v in edges:
            residual[u, v] -= push
            residual[v, u] += push
        flow += push
        steps.append(AugmentingStep(tuple(int(p) for p in path), push, residual.copy(), flow))
