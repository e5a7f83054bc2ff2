"""Flow networks as capacity matrices: the s-t graph of lesson 2 for a hand-written max-flow.

Lesson 2's exercise pushes flow by hand: an augmenting-path algorithm
(Edmonds & Karp, J. ACM 1972: always augment along a *shortest* path, found by
breadth-first search, in the residual graph) on a dense ``(n, n)`` capacity
matrix.  This module builds such matrices and gives the reference answer:

* :func:`grid_capacity_matrix`: the s-t graph of a pixel grid (one node per
  pixel, row-major, then the source F and the sink B) from data terms and
  smoothness weights, as :mod:`course_utils.graphcut.graph_cut` cuts it;
* :func:`random_capacity_matrix`: small random directed networks;
* :func:`pymaxflow_max_flow`: PyMaxflow's (Boykov-Kolmogorov) flow value and
  source side, the reference the exercise is checked against;
* :func:`cut_capacity`: what a cut costs (the sum of the capacities of the
  edges from the source side to the sink side).

By the max-flow/min-cut theorem (Ford & Fulkerson 1956) the largest flow equals
the cheapest cut, and the nodes still reachable from the source in the residual
graph of a maximum flow form a minimum cut's source side.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import as_generator, check_int
from course_utils.graphcut.graph_cut import Smoothness, _dst, _src, _check_unary

__all__ = ["grid_capacity_matrix", "random_capacity_matrix", "pymaxflow_max_flow", "cut_capacity"]


def _check_capacity(capacity: np.ndarray, source: int, sink: int) -> np.ndarray:
    capacity = np.asarray(capacity, dtype=np.float64)
    if capacity.ndim != 2 or capacity.shape[0] != capacity.shape[1] or capacity.shape[0] < 2:
        raise ValueError(f"capacity must be a square (n, n) matrix with n >= 2, got shape {capacity.shape}")
    if not np.all(np.isfinite(capacity)) or (capacity < 0).any():
        raise ValueError("capacity must be finite and non-negative")
    n = capacity.shape[0]
    for name, node in (("source", source), ("sink", sink)):
        check_int(node, name, 0, n - 1)
    if source == sink:
        raise ValueError(f"source and sink must differ, both are {source}")
    return capacity


def grid_capacity_matrix(unary: np.ndarray, smoothness: Smoothness) -> np.ndarray:
    """The s-t graph of a pixel grid as a capacity matrix.

    Nodes ``0 .. H*W - 1`` are the pixels in row-major order, node ``H*W`` is
    the source F (foreground) and ``H*W + 1`` the sink B (background).  A pixel
    that ends on the sink side cuts its edge from F, so ``F -> p`` carries
    ``D_p(B)``; ``p -> B`` carries ``D_p(F)``.  Each n-link ``w_pq`` is an edge
    both ways.  The capacity of a cut is then exactly the energy of its
    labelling (:func:`course_utils.graphcut.graph_cut.labeling_energy`).

    Parameters
    ----------
    unary : ndarray, shape (H, W, 2), float
        Non-negative data terms, ``[..., 0]`` background and ``[..., 1]`` foreground.
    smoothness : Smoothness

    Returns
    -------
    ndarray, shape (H*W + 2, H*W + 2), float64
    """
    unary = _check_unary(unary, smoothness.shape).astype(np.float64)
    if (unary < 0).any():
        raise ValueError("unary must be non-negative to serve as capacities")
    h, w = smoothness.shape
    n = h * w
    capacity = np.zeros((n + 2, n + 2))
    source, sink = n, n + 1
    capacity[source, :n] = unary[..., 0].ravel()  # cut when p is background: pays D_p(B)
    capacity[:n, sink] = unary[..., 1].ravel()  # cut when p is foreground: pays D_p(F)
    index = np.arange(n).reshape(h, w)
    for (dy, dx), weight in zip(smoothness.offsets, smoothness.weights):
        p = index[_src(dy, h), _src(dx, w)].ravel()
        q = index[_dst(dy, h), _dst(dx, w)].ravel()
        wpq = weight[_src(dy, h), _src(dx, w)].ravel()
        capacity[p, q] += wpq
        capacity[q, p] += wpq
    return capacity


def random_capacity_matrix(n_nodes: int, *, density: float = 0.4, rng=0) -> np.ndarray:
    """A random directed network: each ordered pair gets an edge with probability ``density``.

    Capacities are uniform in (0, 10) (real numbers, so the minimum cut is
    unique in practice); no self-loops.  Node 0 is meant as the source and
    ``n_nodes - 1`` as the sink.

    Parameters
    ----------
    n_nodes : int
        At least 2.
    density : float in (0, 1]
    rng : int or numpy.random.Generator

    Returns
    -------
    ndarray, shape (n_nodes, n_nodes), float64
    """
    n_nodes = check_int(n_nodes, "n_nodes", 2)
    if not 0 < density <= 1:
        raise ValueError(f"density must lie in (0, 1], got {density!r}")
    rng = as_generator(rng)
    present = rng.random((n_nodes, n_nodes)) < density
    np.fill_diagonal(present, False)
    return np.where(present, rng.uniform(0.5, 10.0, (n_nodes, n_nodes)), 0.0)


def pymaxflow_max_flow(capacity: np.ndarray, source: int, sink: int) -> tuple[float, np.ndarray]:
    """The reference answer: PyMaxflow's maximum flow and the source side of a minimum cut.

    PyMaxflow's graphs have two terminals outside the node list, so the edges
    out of ``source`` become source t-links, the edges into ``sink`` sink
    t-links, and an edge straight from ``source`` to ``sink`` adds its capacity
    to the flow directly.

    Parameters
    ----------
    capacity : ndarray, shape (n, n), float
        ``capacity[u, v]``: the capacity of the edge ``u -> v`` (0: no edge).
    source, sink : int

    Returns
    -------
    flow : float
    source_side : ndarray, shape (n,), bool
        True for the nodes on the source side of the cut PyMaxflow returns
        (``source`` included, ``sink`` excluded).
    """
    import maxflow

    capacity = _check_capacity(capacity, source, sink)
    n = capacity.shape[0]
    inner = [v for v in range(n) if v not in (source, sink)]
    position = {v: k for k, v in enumerate(inner)}
    graph = maxflow.Graph[float]()
    nodes = graph.add_nodes(len(inner))
    for v in inner:
        to_source_side, to_sink = capacity[source, v], capacity[v, sink]
        if to_source_side or to_sink:
            graph.add_tedge(nodes[position[v]], to_source_side, to_sink)
    for u in inner:
        for v in inner:
            if u < v and (capacity[u, v] or capacity[v, u]):
                graph.add_edge(nodes[position[u]], nodes[position[v]], capacity[u, v], capacity[v, u])
    flow = graph.maxflow() + capacity[source, sink]
    side = np.zeros(n, bool)
    side[source] = True
    for v in inner:
        side[v] = graph.get_segment(nodes[position[v]]) == 0  # 0: source segment
    return float(flow), side


def cut_capacity(capacity: np.ndarray, source_side: np.ndarray) -> float:
    """The capacity of a cut: the sum over edges ``u -> v`` with ``u`` on the source side, ``v`` not.

    Parameters
    ----------
    capacity : ndarray, shape (n, n), float
    source_side : ndarray, shape (n,), bool
    """
    capacity = np.asarray(capacity, dtype=np.float64)
    side = np.asarray(source_side)
    if side.dtype != bool or side.shape != (capacity.shape[0],):
        raise ValueError(f"source_side must be a bool array of shape ({capacity.shape[0]},), "
                         f"got {side.dtype} {side.shape}")
    return float(capacity[np.ix_(side, ~side)].sum())
