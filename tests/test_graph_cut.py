"""Lesson 2: the s-t graph, its min cut against brute force and an independent max-flow, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.graphcut.graph_cut import (
    GridGraph,
    Smoothness,
    add_hard_constraints,
    beta_from_image,
    brute_force_minimum,
    energy_terms,
    graph_cut,
    histogram_data_terms,
    labeling_energy,
    lecture_example_3x3,
    segment_with_seeds,
    smoothness_weights,
)


def _reference_weights(image: np.ndarray, lam: float, connectivity: int, beta: float | None = None):
    """Per-pixel loops in OpenCV's calcBeta / calcNWeights style: {((i, j), (k, l)): weight}."""
    img = image.astype(np.float64)
    h, w = img.shape[:2]
    offsets = [(0, 1), (1, 0)] + ([(1, 1), (1, -1)] if connectivity == 8 else [])
    pairs = [((i, j), (i + dy, j + dx)) for i in range(h) for j in range(w) for dy, dx in offsets
             if 0 <= i + dy < h and 0 <= j + dx < w]
    if beta is None:
        total = sum(float(((img[p] - img[q]) ** 2).sum()) for p, q in pairs)
        beta = 0.0 if total == 0 else 1.0 / (2.0 * total / len(pairs))
    weights = {}
    for p, q in pairs:
        dist = np.hypot(q[0] - p[0], q[1] - p[1])
        weights[(p, q)] = lam / dist * np.exp(-beta * float(((img[p] - img[q]) ** 2).sum()))
    return beta, weights


@pytest.mark.parametrize("connectivity", [4, 8])
def test_beta_and_weights_match_a_per_pixel_loop(connectivity):
    rng = np.random.default_rng(connectivity)
    image = rng.integers(0, 256, (6, 5, 3)).astype(np.uint8)
    beta_ref, ref = _reference_weights(image, 7.5, connectivity)
    assert beta_from_image(image, connectivity=connectivity) == pytest.approx(beta_ref, rel=1e-12)
    sm = smoothness_weights(image, lam=7.5, connectivity=connectivity)
    assert sm.weights.shape == (connectivity // 2, 6, 5)
    got = {}
    for (dy, dx), weight in zip(sm.offsets, sm.weights):
        for i in range(6):
            for j in range(5):
                if 0 <= i + dy < 6 and 0 <= j + dx < 5:
                    got[((i, j), (i + dy, j + dx))] = weight[i, j]
                else:
                    assert weight[i, j] == 0.0
    assert got.keys() == ref.keys()
    assert np.allclose([got[k] for k in ref], [ref[k] for k in ref], rtol=1e-12)
    # a float image in [0, 1] gives the same weights (colours are compared in 0-255 units)
    as_float = smoothness_weights(image / 255.0, lam=7.5, connectivity=connectivity)
    assert np.allclose(as_float.weights, sm.weights)


def test_beta_is_opencvs_mean_over_eight_neighbours():
    # OpenCV divides the sum over left/up-left/up/up-right differences by 4WH - 3W - 3H + 2
    image = np.random.default_rng(1).integers(0, 256, (9, 7, 3)).astype(np.uint8)
    h, w = image.shape[:2]
    img = image.astype(np.float64)
    total = (((img[:, 1:] - img[:, :-1]) ** 2).sum() + ((img[1:] - img[:-1]) ** 2).sum()
             + ((img[1:, 1:] - img[:-1, :-1]) ** 2).sum() + ((img[1:, :-1] - img[:-1, 1:]) ** 2).sum())
    expected = 1.0 / (2.0 * total / (4 * w * h - 3 * w - 3 * h + 2))
    assert beta_from_image(image) == pytest.approx(expected, rel=1e-12)
    assert beta_from_image(np.full((4, 4, 3), 7, np.uint8)) == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_cut_energy_is_the_brute_force_minimum_and_equals_the_flow(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    image = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
    sm = smoothness_weights(image, lam=float(rng.uniform(0.5, 15)), connectivity=int(rng.choice([4, 8])))
    unary = rng.normal(0, 4, (h, w, 2))
    result = graph_cut(unary, sm)
    best_mask, best, energies = brute_force_minimum(unary, sm)
    assert result.energy == pytest.approx(best, abs=1e-9)
    assert result.flow == pytest.approx(best, abs=1e-9)  # max-flow = min-cut
    assert labeling_energy(result.mask, unary, sm) == pytest.approx(result.energy)
    assert result.data_energy + result.smoothness_energy == pytest.approx(result.energy)
    assert energies.shape == (2 ** (h * w),) and energies.min() == pytest.approx(best)
    if np.sum(np.isclose(energies, best)) == 1:  # unique minimum: the same labelling
        assert np.array_equal(result.mask, best_mask)


def test_dynamic_recuts_reuse_the_flow_and_stay_exact():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (3, 4, 3)).astype(np.uint8)
    sm = smoothness_weights(image, lam=6.0)
    graph = GridGraph(sm)
    unary = rng.normal(0, 4, (3, 4, 2))
    for step in range(6):
        unary = unary + rng.normal(0, 2 if step % 2 else 0.3, unary.shape)  # small and large changes
        result = graph.cut(unary)
        _, best, _ = brute_force_minimum(unary, sm)
        assert result.energy == pytest.approx(best, abs=1e-9)
        assert result.flow == pytest.approx(best, abs=1e-8)
    assert graph.cuts == 6


def test_graph_cut_agrees_with_scipys_independent_max_flow():
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import maximum_flow

    rng = np.random.default_rng(5)
    h, w = 12, 15
    image = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
    sm = Smoothness(smoothness_weights(image, lam=20.0).offsets,
                    np.round(smoothness_weights(image, lam=20.0).weights))  # integer capacities for scipy
    unary = rng.integers(0, 40, (h, w, 2)).astype(np.float64)
    ours = graph_cut(unary, sm)
    n = h * w
    s, t = n, n + 1
    rows, cols, caps = [], [], []
    idx = np.arange(n).reshape(h, w)
    for (dy, dx), weight in zip(sm.offsets, sm.weights):
        for i in range(h):
            for j in range(w):
                if 0 <= i + dy < h and 0 <= j + dx < w and weight[i, j] > 0:
                    a, b = idx[i, j], idx[i + dy, j + dx]
                    rows += [a, b]
                    cols += [b, a]
                    caps += [int(weight[i, j])] * 2
    rows += [s] * n + list(range(n))
    cols += list(range(n)) + [t] * n
    caps += list(unary[..., 0].astype(int).ravel()) + list(unary[..., 1].astype(int).ravel())
    graph = csr_array((np.array(caps, np.int32), (rows, cols)), shape=(n + 2, n + 2))
    flow = maximum_flow(graph, s, t).flow_value
    assert ours.flow == pytest.approx(flow)
    assert ours.energy == pytest.approx(flow)


def test_lecture_example_three_regimes_of_lambda():
    ex = lecture_example_3x3()
    assert ex.image.shape == (3, 3, 3) and ex.image.dtype == np.uint8
    masks = {}
    for lam in (0.0, 2.0, 50.0):
        sm = smoothness_weights(ex.image, lam=lam)
        unary = add_hard_constraints(ex.unary, sm, ex.fg_seeds, ex.bg_seeds)
        result = graph_cut(unary, sm)
        best_mask, best, _ = brute_force_minimum(unary, sm)
        assert result.energy == pytest.approx(best)
        masks[lam] = result.mask
    assert np.array_equal(masks[2.0], ex.expected)  # F F B / F F B / F B B
    assert masks[0.0][1, 1] == False and masks[0.0].sum() == 4  # noqa: E712  data terms alone: centre is B
    assert masks[50.0].sum() == 1 and masks[50.0][0, 0]  # over-smoothing shrinks to the seed


def test_hard_constraints_hold_and_keep_the_energy_of_obeying_labellings():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (3, 4, 3)).astype(np.uint8)
    sm = smoothness_weights(image, lam=30.0)
    unary = rng.normal(0, 1, (3, 4, 2))
    fg = np.zeros((3, 4), bool)
    bg = np.zeros((3, 4), bool)
    fg[0, 0] = fg[2, 3] = True
    bg[1, 1] = True
    fixed = add_hard_constraints(unary, sm, fg, bg)
    result = graph_cut(fixed, sm)
    assert result.mask[fg].all() and not result.mask[bg].any()
    obeying = result.mask
    assert labeling_energy(obeying, fixed, sm) == pytest.approx(labeling_energy(obeying, unary, sm))
    _, best, energies = brute_force_minimum(fixed, sm)
    assert result.energy == pytest.approx(best)
    assert not np.shares_memory(fixed, unary)


def test_histogram_data_terms_are_negative_log_probabilities():
    rng = np.random.default_rng(0)
    image = np.zeros((20, 20, 3), np.uint8)
    image[:, 10:] = (200, 30, 30)
    image[:, :10] = (20, 40, 200)
    fg = np.zeros((20, 20), bool)
    bg = np.zeros((20, 20), bool)
    fg[5:8, 14:17] = True
    bg[5:8, 2:5] = True
    unary = histogram_data_terms(image, fg, bg, bins=4, smoothing=1.0)
    # the seed colour's probability: (9 seeds + 1) / (9 + 64 bins)
    assert unary[0, 15, 1] == pytest.approx(-np.log(10 / 73))
    assert unary[0, 15, 0] == pytest.approx(-np.log(1 / 73))
    assert (unary[:, 10:, 1] < unary[:, 10:, 0]).all() and (unary[:, :10, 0] < unary[:, :10, 1]).all()
    # probabilities over all 64 cells sum to 1
    cells = np.stack(np.meshgrid(*[np.arange(4) * 64 + 32] * 3, indexing="ij"), -1).reshape(8, 8, 3).astype(np.uint8)
    noise = rng.integers(0, 2, (8, 8, 3)).astype(np.uint8)
    big = np.concatenate([cells + noise, image[:8, :8]], axis=1)
    seeds_f = np.zeros(big.shape[:2], bool)
    seeds_b = np.zeros(big.shape[:2], bool)
    seeds_f[0, 8] = seeds_b[1, 8] = True
    probs = np.exp(-histogram_data_terms(big, seeds_f, seeds_b, bins=4)[:, :8, 1])
    assert probs.sum() == pytest.approx(1.0)


def test_segment_with_seeds_finds_a_noisy_object():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:60, 0:80]
    truth = (yy - 30) ** 2 / 18**2 + (xx - 40) ** 2 / 25**2 < 1
    image = np.where(truth[..., None], [210, 120, 40], [50, 90, 150]) + rng.normal(0, 35, (60, 80, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    fg = np.zeros_like(truth)
    bg = np.zeros_like(truth)
    fg[28:32, 30:50] = True
    bg[:3] = True
    bg[:, :3] = True
    noisy = segment_with_seeds(image, fg, bg, lam=0.0)
    smooth = segment_with_seeds(image, fg, bg, lam=10.0)
    iou = lambda m: (m & truth).sum() / (m | truth).sum()  # noqa: E731
    assert iou(smooth.mask) > 0.95
    assert iou(smooth.mask) > iou(noisy.mask) + 0.03  # smoothness removes the speckle
    assert smooth.mask[fg].all() and not smooth.mask[bg].any()


def test_energy_terms_count_each_cut_edge_once():
    image = np.zeros((2, 2, 3), np.uint8)
    sm = smoothness_weights(image, lam=2.0, connectivity=8)  # uniform image: beta = 0, all weights lam / dist
    unary = np.zeros((2, 2, 2))
    mask = np.array([[True, False], [False, False]])
    data, smooth = energy_terms(mask, unary, sm)
    assert data == 0.0
    assert smooth == pytest.approx(2.0 + 2.0 + 2.0 / np.sqrt(2))  # right, down, diagonal
    assert sm.neighbour_sums()[0, 0] == pytest.approx(smooth)


def test_bad_input_gives_clear_errors():
    image = np.zeros((5, 6, 3), np.uint8)
    fg = np.zeros((5, 6), bool)
    bg = np.zeros((5, 6), bool)
    fg[0, 0] = bg[4, 5] = True
    with pytest.raises(ValueError, match="image.*grey"):
        segment_with_seeds(np.zeros((5, 6), np.uint8), fg, bg)
    with pytest.raises(ValueError, match="fg_seeds has shape"):
        segment_with_seeds(image, np.zeros((6, 5), bool), bg)
    with pytest.raises(TypeError, match="bg_seeds must have dtype bool"):
        segment_with_seeds(image, fg, bg.astype(np.uint8))
    with pytest.raises(ValueError, match="fg_seeds marks no pixel"):
        segment_with_seeds(image, np.zeros((5, 6), bool), bg)
    with pytest.raises(ValueError, match="bg_seeds marks no pixel"):
        segment_with_seeds(image, fg, np.zeros((5, 6), bool))
    with pytest.raises(ValueError, match="overlap"):
        segment_with_seeds(image, fg, fg.copy())
    with pytest.raises(ValueError, match="connectivity"):
        smoothness_weights(image, connectivity=6)
    with pytest.raises(ValueError, match="lam"):
        smoothness_weights(image, lam=-1.0)
    sm = smoothness_weights(image)
    with pytest.raises(ValueError, match="unary"):
        graph_cut(np.zeros((5, 6)), sm)
    with pytest.raises(ValueError, match="unary has NaN"):
        graph_cut(np.full((5, 6, 2), np.nan), sm)
    with pytest.raises(ValueError, match="max_pixels"):
        brute_force_minimum(np.zeros((5, 6, 2)), sm)
    with pytest.raises(ValueError, match="non-negative"):
        Smoothness(sm.offsets, -sm.weights - 1)
    with pytest.raises(ValueError, match="bins"):
        histogram_data_terms(image, fg, bg, bins=1)
