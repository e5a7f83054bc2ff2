"""Capacity matrices for the hand-written max-flow of lesson 2, and PyMaxflow as their reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from course_utils.graphcut.flow_network import (cut_capacity, grid_capacity_matrix, pymaxflow_max_flow,
                                                random_capacity_matrix)
from course_utils.graphcut.graph_cut import (add_hard_constraints, graph_cut, labeling_energy, lecture_example_3x3,
                                             smoothness_weights)


def _brute_force_min_cut(capacity, source, sink):
    n = len(capacity)
    inner = [v for v in range(n) if v not in (source, sink)]
    best = np.inf
    for bits in itertools.product([False, True], repeat=len(inner)):
        side = np.zeros(n, bool)
        side[source] = True
        side[inner] = bits
        best = min(best, cut_capacity(capacity, side))
    return best


def test_lecture_graph_cut_capacity_is_the_energy_and_pymaxflow_agrees():
    ex = lecture_example_3x3()
    sm = smoothness_weights(ex.image, lam=2.0, connectivity=8)
    unary = add_hard_constraints(ex.unary, sm, ex.fg_seeds, ex.bg_seeds)
    capacity = grid_capacity_matrix(unary, sm)
    assert capacity.shape == (11, 11) and np.allclose(capacity[:9, :9], capacity[:9, :9].T)
    rng = np.random.default_rng(0)
    for _ in range(20):  # any labelling: its cut costs exactly its energy
        mask = rng.random((3, 3)) < 0.5
        side = np.concatenate([mask.ravel(), [True, False]])
        assert np.isclose(cut_capacity(capacity, side), labeling_energy(mask, unary, sm))
    flow, side = pymaxflow_max_flow(capacity, 9, 10)
    result = graph_cut(unary, sm)
    assert np.isclose(flow, result.flow) and np.isclose(flow, result.energy)
    assert np.array_equal(side[:9].reshape(3, 3), ex.expected) and side[9] and not side[10]


@pytest.mark.parametrize("seed", range(6))
def test_pymaxflow_reference_matches_brute_force_min_cut(seed):
    n = 4 + seed % 4
    capacity = random_capacity_matrix(n, density=0.5, rng=seed)
    capacity[0, n - 1] = 1.5 if seed % 2 else 0.0  # a direct source -> sink edge sometimes
    flow, side = pymaxflow_max_flow(capacity, 0, n - 1)
    assert np.isclose(flow, _brute_force_min_cut(capacity, 0, n - 1))
    assert np.isclose(cut_capacity(capacity, side), flow)


def test_random_capacity_matrix_is_seeded_and_checked():
    a, b = random_capacity_matrix(6, rng=3), random_capacity_matrix(6, rng=3)
    assert np.array_equal(a, b) and (np.diag(a) == 0).all() and (a >= 0).all()
    with pytest.raises(ValueError, match="n_nodes"):
        random_capacity_matrix(1)
    with pytest.raises(ValueError, match="source and sink"):
        pymaxflow_max_flow(a, 2, 2)
    with pytest.raises(ValueError, match="non-negative"):
        pymaxflow_max_flow(-a, 0, 5)
    with pytest.raises(ValueError, match="source_side"):
        cut_capacity(a, np.ones(5, bool))
