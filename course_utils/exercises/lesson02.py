"""Checks for lesson 02 (interactive graph cuts): max-flow by hand, the smoothness weights and the data terms."""

from __future__ import annotations

from collections import deque

import numpy as np

from course_utils.exercises.compare import call_answer, expect_array, expect_close
from course_utils.exercises.core import Incorrect, exercise
from course_utils.graphcut.flow_network import (cut_capacity, grid_capacity_matrix, pymaxflow_max_flow,
                                                random_capacity_matrix)
from course_utils.graphcut.graph_cut import (add_hard_constraints, beta_from_image, histogram_data_terms,
                                             lecture_example_3x3, smoothness_weights)


def _image_case(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (5, 7, 3))  # not square, to catch swapped axes
    base[:, 4:] = base[:, 4:] // 4 + 180  # a brighter region: some contrast, some similar neighbours
    return base.astype(np.uint8)


# Typical wrong answers for 02.smoothness_weights, kept beside the check.
def _wrong_abs_difference(image, lam, beta):
    right = lam * np.exp(-beta * np.abs(image[:, 1:] - image[:, :-1]).sum(-1))
    down = lam * np.exp(-beta * np.abs(image[1:] - image[:-1]).sum(-1))
    return right, down


def _wrong_no_lambda(image, lam, beta):
    right = np.exp(-beta * ((image[:, 1:] - image[:, :-1]) ** 2).sum(-1))
    down = np.exp(-beta * ((image[1:] - image[:-1]) ** 2).sum(-1))
    return right, down


def _wrong_swapped(image, lam, beta):
    right = lam * np.exp(-beta * ((image[:, 1:] - image[:, :-1]) ** 2).sum(-1))
    down = lam * np.exp(-beta * ((image[1:] - image[:-1]) ** 2).sum(-1))
    return down, right


def _wrong_grows_with_contrast(image, lam, beta):
    right = lam * (1 - np.exp(-beta * ((image[:, 1:] - image[:, :-1]) ** 2).sum(-1)))
    down = lam * (1 - np.exp(-beta * ((image[1:] - image[:-1]) ** 2).sum(-1)))
    return right, down


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_smoothness_imported_name(image, lam, beta):
    sm = smoothness_weights(image, lam=lam, connectivity=4, beta=beta)
    return sm.weights[0][:, :-1], sm.weights[1][:-1, :]


def _delegates_smoothness_module_attribute(image, lam, beta):
    import importlib

    gc = importlib.import_module("course_utils.graphcut.graph_cut")  # the module (the package re-exports the function)

    sm = gc.smoothness_weights(image, lam=lam, connectivity=4, beta=beta)
    return sm.weights[0][:, :-1], sm.weights[1][:-1, :]


@exercise(
    "02.smoothness_weights",
    hint="similar neighbours must get a large weight and neighbours across a colour edge a small one, scaled by "
         "lam; you need every pixel's squared colour distance (all three channels) to its right neighbour and to "
         "the one below, which shifted slices give without a loop.",
    wrong_answers=[_wrong_abs_difference, _wrong_no_lambda, _wrong_swapped, _wrong_grows_with_contrast],
    success="similar neighbours are expensive to separate, so the cut runs along colour edges.",
    forbidden=("course_utils.graphcut.graph_cut:smoothness_weights",),
    delegating=[_delegates_smoothness_imported_name, _delegates_smoothness_module_attribute],
)
def check_smoothness_weights(smoothness_4) -> None:
    for seed, lam in ((0, 5.0), (1, 0.7)):
        image = _image_case(seed)
        colours = image.astype(np.float64)
        beta = beta_from_image(image, connectivity=4)
        expected = smoothness_weights(image, lam=lam, connectivity=4, beta=beta)
        got = call_answer(smoothness_4, colours.copy(), lam, beta)
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("smoothness_4 should return a tuple (right, down) of two arrays")
        right, down = got
        expect_array(right, expected.weights[0][:, :-1], "right (weights to the right neighbour)", atol=1e-9,
                     check_dtype=False, index_names="pixel")
        expect_array(down, expected.weights[1][:-1, :], "down (weights to the neighbour below)", atol=1e-9,
                     check_dtype=False, index_names="pixel")


def _seed_case(seed: int):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (6, 9, 3)).astype(np.uint8)
    image[:, :4] = image[:, :4] // 3  # darker on the left
    fg = np.zeros((6, 9), bool)
    bg = np.zeros((6, 9), bool)
    fg[1:4, 5:8] = True
    bg[:, 0] = True
    return image, fg, bg


def _costs(image, fg_seeds, bg_seeds, bins, *, smoothing=1.0, normalise=True, sign=-1.0, from_all=False,
           added=False):
    idx = np.minimum((image * (bins / 256.0)).astype(np.int64), bins - 1)
    a, b, c = idx[..., 0], idx[..., 1], idx[..., 2]
    cells = a + b + c if added else (a * bins + b) * bins + c  # added: different colours share a cell
    out = []
    for seeds in (bg_seeds, fg_seeds):
        counts = np.bincount((cells if from_all else cells[seeds]).ravel(), minlength=bins**3) + smoothing
        with np.errstate(divide="ignore"):
            out.append(sign * np.log(counts / counts.sum() if normalise else counts)[cells])
    return np.stack(out, axis=-1)


# Typical wrong answers for 02.data_terms.
def _wrong_no_smoothing(image, fg_seeds, bg_seeds, bins):
    return _costs(image, fg_seeds, bg_seeds, bins, smoothing=0.0)


def _wrong_not_normalised(image, fg_seeds, bg_seeds, bins):
    return _costs(image, fg_seeds, bg_seeds, bins, normalise=False)


def _wrong_positive_log(image, fg_seeds, bg_seeds, bins):
    return _costs(image, fg_seeds, bg_seeds, bins, sign=1.0)


def _wrong_counts_all_pixels(image, fg_seeds, bg_seeds, bins):
    return _costs(image, fg_seeds, bg_seeds, bins, from_all=True)


def _wrong_labels_swapped(image, fg_seeds, bg_seeds, bins):
    return _costs(image, fg_seeds, bg_seeds, bins)[..., ::-1]


def _wrong_cells_added(image, fg_seeds, bg_seeds, bins):
    return _costs(image, fg_seeds, bg_seeds, bins, added=True)


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_data_imported_name(image, fg_seeds, bg_seeds, bins):
    return histogram_data_terms(image.astype(np.uint8), fg_seeds, bg_seeds, bins=bins, smoothing=1.0)


def _delegates_data_module_attribute(image, fg_seeds, bg_seeds, bins):
    import importlib

    gc = importlib.import_module("course_utils.graphcut.graph_cut")  # the module (the package re-exports the function)

    cells = gc.colour_cells(image.astype(np.uint8), bins=bins)
    out = []
    for seeds in (bg_seeds, fg_seeds):
        counts = np.bincount(cells[seeds], minlength=bins**3) + 1.0
        out.append(-np.log(counts / counts.sum())[cells])
    return np.stack(out, axis=-1)


@exercise(
    "02.data_terms",
    hint="give every pixel the number of its colour cell (each channel cut into bins equal intervals of 0-255, "
         "the three interval indices combined into one number below bins**3); count how often each cell occurs "
         "among a label's seeds, add 1 to every count so no colour is impossible, divide by the total, and "
         "take minus the log at each pixel's cell. Channel 0 is the background.",
    wrong_answers=[_wrong_no_smoothing, _wrong_not_normalised, _wrong_positive_log, _wrong_counts_all_pixels,
                   _wrong_labels_swapped, _wrong_cells_added],
    success="a pixel pays little for a label whose seeds share its colour: -ln Pr(I_p | seeds).",
    forbidden=("course_utils.graphcut.graph_cut:histogram_data_terms", "course_utils.graphcut.graph_cut:colour_cells",
               "course_utils.graphcut.graph_cut:segment_with_seeds"),
    delegating=[_delegates_data_imported_name, _delegates_data_module_attribute],
)
def check_data_terms(data_terms) -> None:
    for seed, bins in ((0, 4), (1, 8)):
        image, fg, bg = _seed_case(seed)
        expected = histogram_data_terms(image, fg, bg, bins=bins, smoothing=1.0)
        with np.errstate(divide="ignore"):
            got = call_answer(data_terms, image.astype(np.float64), fg.copy(), bg.copy(), bins)
        if isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.floating) and np.isinf(got).any():
            raise Incorrect("the costs contain infinity: a colour no seed has gets probability 0 "
                            "(add 1 to every count)")
        expect_array(got, expected, f"data_terms(image, fg_seeds, bg_seeds, bins={bins})", atol=1e-9,
                     check_dtype=False, index_names="pixel")


# ---------------------------------------------------------------- 02.max_flow
def _lecture_network():
    """The lecture's 3x3 graph (lambda = 2, 8 neighbours, seeds fixed) as a capacity matrix, F = 9, B = 10."""
    ex = lecture_example_3x3()
    smoothness = smoothness_weights(ex.image, lam=2.0, connectivity=8)
    unary = add_hard_constraints(ex.unary, smoothness, ex.fg_seeds, ex.bg_seeds)
    return grid_capacity_matrix(unary, smoothness), 9, 10, ex.expected


def _random_networks():
    """Small random directed networks (node 0 = source, last node = sink), fixed seeds."""
    return [(random_capacity_matrix(n, density=d, rng=seed), 0, n - 1)
            for seed, (n, d) in enumerate([(4, 0.6), (5, 0.5), (6, 0.5), (7, 0.4), (8, 0.45), (9, 0.35),
                                           (10, 0.3), (8, 0.6)])]


def _bfs_parents(residual, source):
    n = len(residual)
    parent = np.full(n, -1)
    parent[source] = source
    queue = deque([source])
    while queue:
        u = queue.popleft()
        for v in np.flatnonzero(residual[u] > 1e-12):
            if parent[v] < 0:
                parent[v] = u
                queue.append(v)
    return parent


def _path_to(parent, source, sink):
    path, v = [], sink
    while v != source:
        path.append((parent[v], v))
        v = parent[v]
    return path


def _augment(capacity, source, sink, *, reverse=True, paths=None, bottleneck=min):
    residual = np.array(capacity, dtype=float)
    flow, done = 0.0, 0
    while paths is None or done < paths:
        parent = _bfs_parents(residual, source)
        if parent[sink] < 0:
            break
        path = _path_to(parent, source, sink)
        push = bottleneck(residual[u, v] for u, v in path)
        for u, v in path:
            residual[u, v] -= push
            if reverse:
                residual[v, u] += push
        flow += push
        done += 1
    return flow, residual


# Typical wrong answers for 02.max_flow, kept beside the check.
def _wrong_one_path_only(capacity, source, sink):
    flow, residual = _augment(capacity, source, sink, paths=1)
    return flow, _bfs_parents(residual, source) >= 0


def _wrong_no_reverse_edges(capacity, source, sink):
    flow, residual = _augment(capacity, source, sink, reverse=False)
    return flow, _bfs_parents(residual, source) >= 0


def _wrong_cut_in_the_original_graph(capacity, source, sink):
    flow, _ = _augment(capacity, source, sink)
    return flow, _bfs_parents(np.array(capacity, dtype=float), source) >= 0


def _wrong_pushes_the_widest_edge(capacity, source, sink):
    flow, residual = _augment(capacity, source, sink, paths=1000, bottleneck=max)
    return flow, _bfs_parents(np.clip(residual, 0, None), source) >= 0


def _wrong_changes_the_input(capacity, source, sink):
    flow, residual = _augment(capacity, source, sink)
    capacity[...] = residual  # works on the caller's matrix instead of a copy
    return flow, _bfs_parents(residual, source) >= 0


# Answers that hand the work to a reference instead of writing it (each must be rejected).
def _delegates_imported_name(capacity, source, sink):
    return pymaxflow_max_flow(capacity, source, sink)


def _delegates_module_attribute(capacity, source, sink):
    from course_utils.graphcut import flow_network

    return flow_network.pymaxflow_max_flow(capacity, source, sink)


def _delegates_pymaxflow(capacity, source, sink):
    import maxflow

    n = len(capacity)
    g = maxflow.Graph[float]()
    nodes = g.add_nodes(n)
    for u in range(n):
        for v in range(n):
            if capacity[u, v] > 0 and u != source and v != sink and u != sink and v != source:
                g.add_edge(nodes[u], nodes[v], capacity[u, v], 0)
    return g.maxflow(), np.zeros(n, bool)


def _check_network(max_flow, capacity, source, sink, name):
    given = capacity.copy()
    got = call_answer(max_flow, given, source, sink)
    if not np.array_equal(given, capacity):
        raise Incorrect(f"on {name} your function changed the capacity matrix it was given: work on a copy "
                        "(residual = capacity.copy())")
    if not isinstance(got, tuple) or len(got) != 2:
        raise Incorrect("max_flow should return a tuple (flow, source_side)")
    flow, side = got
    expected_flow, _ = pymaxflow_max_flow(capacity, source, sink)
    expect_close(flow, expected_flow, f"the flow on {name}", rel_tol=1e-9, abs_tol=1e-9)
    side = np.asarray(side)
    if side.dtype != bool or side.shape != (len(capacity),):
        raise Incorrect(f"source_side on {name} should be a bool array of shape ({len(capacity)},), "
                        f"got {side.dtype} {side.shape}")
    if not side[source] or side[sink]:
        raise Incorrect(f"on {name} the source must be on the source side and the sink must not")
    cost = cut_capacity(capacity, side)
    if not np.isclose(cost, expected_flow, rtol=1e-9, atol=1e-9):
        raise Incorrect(f"on {name} your cut costs {cost:.6g} but the maximum flow is {expected_flow:.6g}: "
                        "the source side is what the source still reaches in the residual graph")
    return side


@exercise(
    "02.max_flow",
    hint="keep a residual copy of the capacities; repeat: breadth-first search from the source over edges with "
         "residual > 0 (remember each node's parent); stop when the sink is not reached; otherwise walk back "
         "from the sink, push the smallest residual on that path, subtract it along the path and add it on the "
         "reverse edges. The nodes the last search reached are the source side.",
    wrong_answers=[_wrong_one_path_only, _wrong_no_reverse_edges, _wrong_cut_in_the_original_graph,
                   _wrong_pushes_the_widest_edge, _wrong_changes_the_input],
    success="max-flow = min-cut: the flow you pushed equals the cost of the cut it leaves, as PyMaxflow finds.",
    forbidden=("maxflow", "course_utils.graphcut.flow_network:pymaxflow_max_flow",
               "course_utils.graphcut.augmenting_paths:edmonds_karp_steps",
               "course_utils.graphcut.graph_cut:graph_cut", "course_utils.graphcut.graph_cut:segment_with_seeds"),
    delegating=[_delegates_imported_name, _delegates_module_attribute, _delegates_pymaxflow],
)
def check_max_flow(max_flow) -> None:
    capacity, source, sink, expected = _lecture_network()
    side = _check_network(max_flow, capacity, source, sink, "the lecture's 3x3 graph")
    _, reference = pymaxflow_max_flow(capacity, source, sink)
    expect_array(side[:9].reshape(3, 3), reference[:9].reshape(3, 3),
                 "the pixels on the source (F) side of the lecture's graph", index_names="pixel")
    for k, (capacity, source, sink) in enumerate(_random_networks()):
        _check_network(max_flow, capacity, source, sink, f"random network {k} ({len(capacity)} nodes)")
