"""Property suite (Hypothesis), algorithms: saliency maps and metrics, graph cuts, GrabCut, the dense CRF."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.property_utils import any_array, assert_finite, attempt, image_like

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 50),
                    st.sampled_from([0, 1e-300, 1e300, None, True, "1"]))


@st.composite
def saliency_and_mask(draw):
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    sal = draw(st.one_of(
        hnp.arrays(np.float64, (h, w), elements=st.floats(0, 1)),
        st.builds(lambda v: np.full((h, w), v), st.floats(0, 1)),
        any_array(min_dims=1, max_dims=3),
    ))
    mask = draw(st.one_of(
        hnp.arrays(np.bool_, (h, w)),
        st.just(np.zeros((h, w), bool)), st.just(np.ones((h, w), bool)),
        any_array(min_dims=1, max_dims=3),
    ))
    return sal, mask


@given(saliency_and_mask())
def test_sod_metrics(pair):
    from course_utils.saliency import metrics as m

    sal, mask = pair
    names = ["saliency", "mask", "fixations", "density"]
    for fn in (m.mae, m.f_measure, m.s_measure, m.e_measure, m.adaptive_threshold, m.precision_recall,
               m.f_measure_curve, m.e_measure_curve, m.evaluate_sod):
        args = (sal,) if fn is m.adaptive_threshold else (sal, mask)
        ok, out = attempt(fn, *args, names=names)
        if ok:
            assert_finite(out)
    for fn in (m.nss, m.auc_judd):
        ok, out = attempt(fn, sal, mask, names=names)
        if ok:
            assert_finite(out)
    density = mask.astype(np.float64) if isinstance(mask, np.ndarray) and mask.dtype == bool else mask
    ok, out = attempt(m.cc, sal, density, names=names)
    if ok:
        assert_finite(out) and -1 - 1e-9 <= out <= 1 + 1e-9


@given(image_like(max_side=10), st.integers(1, 20), st.floats(0.01, 1.0))
def test_bottom_up_saliency(image, levels, coverage):
    from course_utils.saliency import bottom_up as b

    for fn, kw in ((b.frequency_tuned, {}), (b.spectral_residual, {"size": (8, 8)}),
                   (b.histogram_contrast, {"levels": levels, "coverage": coverage}),
                   (b.region_contrast, {"levels": levels, "coverage": coverage, "min_size": 2})):
        ok, out = attempt(fn, image, **kw, names=["image", "levels", "coverage", "size", "min_size"])
        if ok:
            assert out.shape == image.shape[:2] and out.dtype == np.float32
            assert_finite(out)
            assert 0 <= out.min() <= out.max() <= 1


@given(image_like(max_side=8), NUMBERS, NUMBERS, NUMBERS, NUMBERS, NUMBERS, st.integers(-2, 3),
       st.sampled_from(["probs", "logits", "bad"]))
def test_dense_crf(image, w1, sa, sb, w2, sg, iterations, kind):
    from course_utils.crf import CRFParams, dense_crf

    ok, params = attempt(CRFParams, w1=w1, sigma_alpha=sa, sigma_beta=sb, w2=w2, sigma_gamma=sg,
                         names=["w1", "sigma_alpha", "sigma_beta", "w2", "sigma_gamma"])
    if not ok:
        params = None
    shape = image.shape[:2] if isinstance(image, np.ndarray) and image.ndim >= 2 else (3, 3)
    g = torch.Generator().manual_seed(0)
    scores = torch.randn((3, *shape), generator=g) * 5
    if kind == "probs":
        arg = {"probs": torch.softmax(scores, 0)}
    elif kind == "logits":
        arg = {"logits": scores}
    else:
        bad = scores.clone()
        if bad.numel():
            bad.view(-1)[0] = float("nan")
        arg = {"probs": bad}
    ok, result = attempt(dense_crf, image, params=params, iterations=iterations, **arg,
                         names=["image", "probs", "logits", "iterations", "params"])
    if ok:
        assert_finite(result.probs)
        assert torch.allclose(result.probs.sum(0), torch.ones(shape), atol=1e-4)


@given(any_array(min_dims=1, max_dims=4, max_side=5, dtypes=[np.float32, np.float64, np.int64]),
       st.integers(-1, 3))
def test_dense_crf_any_unaries(x, iterations):
    from course_utils.crf import dense_crf

    image = np.zeros((x.shape[-2] if x.ndim >= 2 else 1, x.shape[-1] if x.ndim >= 1 else 1, 3), np.uint8)
    for key in ("probs", "logits"):
        ok, result = attempt(dense_crf, image, **{key: x}, iterations=iterations,
                             names=["image", "probs", "logits", "iterations"])
        if ok:
            assert_finite(result.probs)


@given(image_like(max_side=8), NUMBERS, st.sampled_from([4, 8, 6, None]))
def test_smoothness_and_graph_cut(image, lam, connectivity):
    from course_utils.graphcut import graph_cut, smoothness_weights

    ok, sm = attempt(smoothness_weights, image, lam=lam, connectivity=connectivity,
                     names=["image", "lam", "connectivity"])
    if ok:
        assert_finite([w for w in sm.weights] if hasattr(sm, "weights") else [])
        h, w = image.shape[:2]
        unary = np.random.default_rng(0).random((h, w, 2))
        ok, cut = attempt(graph_cut, unary, sm, names=["unary", "smoothness"])
        assert ok and cut.mask.shape == (h, w)


@given(image_like(max_side=10), st.tuples(st.integers(-2, 12), st.integers(-2, 12), st.integers(-1, 12),
                                          st.integers(-1, 12)), st.integers(-1, 2))
def test_grabcut(image, rect, iterations):
    from course_utils.graphcut.grabcut import grabcut

    ok, result = attempt(grabcut, image, rect, iterations=iterations, n_components=2,
                         names=["image", "rect", "iterations", "trimap"])
    if ok:
        assert result.mask.shape == image.shape[:2] and result.mask.dtype == bool
        assert_finite(result.energies)


@given(st.tuples(st.integers(-1, 10), st.integers(-1, 10)),
       st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(-3, 12)), max_size=4),
       st.integers(-1, 4), st.booleans())
def test_stroke_mask(shape, points, width, relative):
    from course_utils.graphcut.strokes import stroke_mask

    ok, mask = attempt(stroke_mask, shape, points, width=width, relative=relative,
                       names=["shape", "points", "width", "relative"])
    if ok:
        assert mask.shape == shape and mask.dtype == bool and mask.any()  # a stroke is never silently empty


@given(any_array(min_dims=1, max_dims=3, max_side=6), any_array(min_dims=1, max_dims=3, max_side=6),
       st.integers(-1, 25))
def test_trimap_scores(labels_true, labels_pred, num_classes):
    from course_utils.evaluate.boundary import boundary_mask, trimap_scores

    ok, out = attempt(trimap_scores, labels_true, labels_pred, num_classes, widths=(1, 2),
                      names=["labels_true", "labels_pred", "num_classes", "widths"])
    if ok:
        assert_finite(out, allow_nan=True)
    ok, b = attempt(boundary_mask, labels_true, names=["labels"])
    if ok:
        assert b.dtype == bool and b.shape == labels_true.shape
