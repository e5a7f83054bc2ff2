"""Saliency metrics: hand-computed small cases, the papers' special cases, and the maintained packages.

References used where installed: scikit-learn (ROC AUC), torchmetrics (MAE,
F-beta, Pearson), SciPy (Pearson).  pysodmetrics / pysaliency are not
dependencies; the cross-check against them is recorded in the lesson's report.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.saliency import metrics as M


def _case(seed: int, shape=(23, 31), ties: bool = False):
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    mask = ndimage.gaussian_filter(rng.random(shape), 3) > 0.5
    if not mask.any():
        mask[shape[0] // 2, shape[1] // 2] = True
    sal = ndimage.gaussian_filter(rng.random(shape) + 0.8 * mask, 1.5)
    sal = (sal - sal.min()) / (sal.max() - sal.min())
    if ties:
        sal = np.round(sal * 10) / 10
    return sal, mask


# --- salient-object metrics: hand-computed cases ----------------------------------------------

SAL = np.array([[0.9, 0.8, 0.1],
                [0.7, 0.2, 0.0],
                [0.6, 0.4, 0.3]])
GT = np.array([[1, 1, 0],
               [1, 0, 0],
               [0, 1, 0]], dtype=bool)


def test_mae_by_hand():
    # |0.9-1| + |0.8-1| + 0.1 + |0.7-1| + 0.2 + 0 + 0.6 + |0.4-1| + 0.3 = 2.4
    assert M.mae(SAL, GT) == pytest.approx(2.4 / 9)
    assert M.mae(GT.astype(float), GT) == 0.0


def test_f_measure_by_hand():
    # Threshold 0.5: predicted {0.9, 0.8, 0.7, 0.6}, 3 of them in the mask of 4 -> P = 3/4, R = 3/4.
    assert M.precision_recall(SAL, GT, 0.5) == (0.75, 0.75)
    assert M.f_measure(SAL, GT, 0.5) == pytest.approx(0.75)
    # Threshold 0.75: predicted {0.9, 0.8}: P = 1, R = 1/2, F = 1.3 * 0.5 / (0.3 + 0.5) = 0.8125.
    assert M.f_measure(SAL, GT, 0.75) == pytest.approx(1.3 * 0.5 / 0.8)
    # beta^2 = 1 is the F1 score 2PR / (P + R) = 2/3.
    assert M.f_measure(SAL, GT, 0.75, beta2=1.0) == pytest.approx(2 / 3)
    # Adaptive threshold: 2 * mean = 2 * 4.0 / 9 = 0.889 -> only 0.9 predicted: P = 1, R = 1/4.
    assert M.adaptive_threshold(SAL) == pytest.approx(8 / 9)
    assert M.f_measure(SAL, GT) == pytest.approx(1.3 * 0.25 / (0.3 + 0.25))
    # The adaptive threshold is capped at 1.
    assert M.adaptive_threshold(np.full((2, 2), 0.9)) == 1.0
    # Nothing predicted: precision 0 and F = 0 (not NaN).
    assert M.f_measure(np.zeros((3, 3)), GT, 0.5) == 0.0


def test_f_measure_curve_by_hand_and_thresholds_inclusive():
    p, r, f = M.f_measure_curve(SAL, GT)
    assert p.shape == r.shape == f.shape == (256,)
    # k = 0: everything predicted (P = 4/9, R = 1).  floor(255 * 0.9) = 229: at k = 229 only 0.9 is predicted.
    assert (p[0], r[0]) == (pytest.approx(4 / 9), 1.0)
    assert (p[229], r[229]) == (1.0, 0.25) and (p[230], r[230]) == (0.0, 0.0)
    # The best threshold keeps {0.9, 0.8, 0.7}: P = 1, R = 3/4, F = 1.3 * 0.75 / 1.05.
    assert f[230] == 0.0 and f.max() == pytest.approx(1.3 * 0.75 / 1.05) == M.f_measure(SAL, GT, 0.7)
    assert np.all(np.diff(r) <= 0)  # recall never grows with the threshold


def test_f_measure_agrees_with_torchmetrics_fbeta():
    torch = pytest.importorskip("torch")
    tm = pytest.importorskip("torchmetrics.functional.classification")
    for seed in range(5):
        sal, mask = _case(seed)
        for thr in (0.2, 0.5, 0.8):
            # torchmetrics binarises with preds > threshold; ours with >=: shift by a hair.
            ref = tm.binary_fbeta_score(torch.tensor(sal), torch.tensor(mask.astype(int)), beta=np.sqrt(0.3),
                                        threshold=thr - 1e-12)
            assert M.f_measure(sal, mask, thr) == pytest.approx(float(ref), abs=1e-6)


def test_mae_agrees_with_torchmetrics():
    torch = pytest.importorskip("torch")
    from torchmetrics.functional import mean_absolute_error

    sal, mask = _case(3)
    assert M.mae(sal, mask) == pytest.approx(float(mean_absolute_error(torch.tensor(sal), torch.tensor(mask * 1.0))))


def test_s_measure_special_cases_and_bounds():
    sal, mask = _case(1)
    # The paper's special cases: an all-background mask scores 1 - mean, an all-object mask mean.
    assert M.s_measure(sal, np.zeros_like(mask)) == pytest.approx(1 - sal.mean())
    assert M.s_measure(sal, np.ones_like(mask)) == pytest.approx(sal.mean())
    # A perfect map scores ~1 (eps in the formula); its inverse scores ~0.
    assert M.s_measure(mask.astype(float), mask) == pytest.approx(1.0, abs=1e-6)
    assert M.s_measure(1.0 - mask, mask) < 0.05
    assert 0.0 <= M.s_measure(sal, mask) <= 1.0
    with pytest.raises(ValueError, match="alpha"):
        M.s_measure(sal, mask, alpha=2)


def test_s_measure_by_hand_on_a_4x4():
    sal = np.array([[1.0, 1.0, 0, 0], [1.0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    mask = np.zeros((4, 4), bool)
    mask[:2, :2] = True
    # Object term: inside the object x = (1, 1, 1, 0.5): mean 0.875, sample std 0.25.
    o_fg = 2 * 0.875 / (0.875**2 + 1 + 0.25)
    o_bg = 2 * 1.0 / (1 + 1 + 0)  # background perfectly 0 -> 1 - x = 1 everywhere
    so = 0.25 * o_fg + 0.75 * o_bg
    # Region term: centroid (0.5, 0.5) rounds to 1 -> split after row 1 / column 1 (1-based 2 = 1 + 1).
    # Quadrants: [:2, :2] (the object), [:2, 2:], [2:, :2], [2:, 2:] (all zero, SSIM 1 by convention).
    x = sal[:2, :2].ravel()
    y = np.ones(4)
    mx, my = x.mean(), y.mean()
    vx = ((x - mx) ** 2).sum() / 3
    vy, cxy = 0.0, 0.0
    alpha = 4 * mx * my * cxy
    beta = (mx**2 + my**2) * (vx + vy)
    ssim_lt = 1.0 if (alpha == 0 and beta == 0) else (0.0 if alpha == 0 else alpha / beta)
    sr = 0.25 * ssim_lt + 0.25 + 0.25 + 0.25
    assert M.s_measure(sal, mask) == pytest.approx(0.5 * so + 0.5 * sr, abs=1e-9)


def test_e_measure_by_pixel_definition():
    """Our four-count formula equals the per-pixel definition of Fan et al. 2018."""
    for seed in range(4):
        sal, mask = _case(seed)
        for thr in (0.3, 0.6, "adaptive"):
            t = M.adaptive_threshold(sal) if thr == "adaptive" else thr
            fm = (sal >= t).astype(float)
            gt = mask.astype(float)
            a, b = fm - fm.mean(), gt - gt.mean()
            xi = 2 * a * b / (a * a + b * b + np.finfo(float).eps)
            expected = np.mean((1 + xi) ** 2 / 4)
            assert M.e_measure(sal, mask, thr) == pytest.approx(expected, rel=1e-12)
    # Perfect binary map: E = 1; the all-background special case: mean(1 - map).
    sal, mask = _case(0)
    assert M.e_measure(mask.astype(float), mask, 0.5) == pytest.approx(1.0)
    assert M.e_measure(sal, np.zeros_like(mask), 0.5) == pytest.approx(1 - (sal >= 0.5).mean())


def test_e_measure_curve_matches_thresholded_e_measure():
    sal, mask = _case(5, ties=True)
    curve = M.e_measure_curve(sal, mask)
    assert curve.shape == (256,)
    for k in (0, 51, 128, 200, 255):
        q = np.floor(sal * 255) >= k
        assert curve[k] == pytest.approx(M.e_measure(q.astype(float), mask, 0.5), rel=1e-12)


def test_evaluate_sod_keys_and_ranges():
    sal, mask = _case(2)
    scores = M.evaluate_sod(sal, mask)
    assert list(scores) == ["MAE", "adpF", "meanF", "maxF", "S", "adpE", "meanE", "maxE"]
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert scores["maxF"] >= scores["meanF"] and scores["maxE"] >= scores["meanE"]
    perfect = M.evaluate_sod(mask.astype(float), mask)
    assert perfect["MAE"] == 0 and perfect["maxF"] == pytest.approx(1) and perfect["S"] == pytest.approx(1, abs=1e-6)


def test_evaluate_sod_dataset_takes_the_best_common_threshold():
    cases = [_case(seed) for seed in range(4)]
    maps, masks = [c[0] for c in cases], [c[1] for c in cases]
    ds = M.evaluate_sod_dataset(maps, masks)
    per_image = [M.evaluate_sod(s, g) for s, g in cases]
    for key in ("MAE", "adpF", "meanF", "S", "adpE", "meanE"):
        assert ds[key] == pytest.approx(np.mean([p[key] for p in per_image]), abs=1e-12)
    f_mean = np.mean([M.f_measure_curve(s, g)[2] for s, g in cases], axis=0)
    e_mean = np.mean([M.e_measure_curve(s, g) for s, g in cases], axis=0)
    assert ds["maxF"] == pytest.approx(f_mean.max()) and ds["maxE"] == pytest.approx(e_mean.max())
    # One common threshold can never beat every image's own best one.
    assert ds["maxF"] <= np.mean([p["maxF"] for p in per_image]) + 1e-12
    assert ds["precision"].shape == ds["recall"].shape == (256,)
    with pytest.raises(ValueError, match="masks"):
        M.evaluate_sod_dataset(maps, masks[:-1])
    with pytest.raises(ValueError, match="empty"):
        M.evaluate_sod_dataset([], [])


# --- fixation metrics ----------------------------------------------------------------------------

def test_nss_by_hand():
    sal = np.array([[0.0, 0.5], [1.0, 0.5]])
    fix = np.array([[False, False], [True, False]])
    # mean 0.5, population std sqrt(0.125): NSS = 0.5 / sqrt(0.125) = sqrt(2)
    assert M.nss(sal, fix) == pytest.approx(np.sqrt(2))
    fix2 = np.array([[True, False], [True, False]])
    assert M.nss(sal, fix2) == pytest.approx(0.0)


def test_auc_judd_by_hand():
    sal = np.array([[0.9, 0.8, 0.1, 0.3]])
    fix = np.array([[True, False, False, True]])
    # Thresholds 0.9, 0.3: tp 1/2, 1; fp 0/2 (only 0.9 >= 0.9), 1/2 (0.8 >= 0.3).
    # Points (0,0), (0,.5), (.5,1), (1,1): area = 0 + (.5)(.5+1)/2 + .5 = 0.875.
    assert M.auc_judd(sal, fix) == pytest.approx(0.875)
    assert M.auc_judd(np.array([[1.0, 0.0, 0.0]]), np.array([[True, False, False]])) == pytest.approx(1.0)


def test_auc_judd_ties_count_together():
    sal = np.array([[0.5, 0.5, 0.5, 0.1]])
    fix = np.array([[True, False, True, False]])
    # One threshold (0.5): tp = 1, fp = 1/2 -> points (0,0), (.5,1), (1,1): area 0.75 (= sklearn's, ties as halves).
    assert M.auc_judd(sal, fix) == pytest.approx(0.75)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(fix.ravel(), sal.ravel()) == pytest.approx(0.75)


def test_auc_judd_agrees_with_sklearn_roc_auc():
    """Judd's curve only has points at fixated values: it is a chord above the full ROC, at most 1 / (2 N_fix) higher."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    for seed in range(6):
        sal, _ = _case(seed)
        fix = rng.random(sal.shape) < 0.05
        fix[0, 0] = True
        ours = M.auc_judd(sal, fix)
        ref = roc_auc_score(fix.ravel(), sal.ravel())
        assert ref - 1e-12 <= ours <= ref + 0.5 / fix.sum() + 1e-12


def test_cc_agrees_with_scipy_and_torchmetrics():
    from scipy.stats import pearsonr

    torch = pytest.importorskip("torch")
    from torchmetrics.functional import pearson_corrcoef

    sal, mask = _case(4)
    density = _case(7)[0]
    ours = M.cc(sal, density)
    assert ours == pytest.approx(pearsonr(sal.ravel(), density.ravel())[0], abs=1e-12)
    assert ours == pytest.approx(float(pearson_corrcoef(torch.tensor(sal.ravel()), torch.tensor(density.ravel()))), abs=1e-6)
    assert M.cc(sal, sal * 3.0) == pytest.approx(1.0)


# --- bad input --------------------------------------------------------------------------------

SOD_METRICS = [M.mae, M.f_measure, M.s_measure, M.e_measure, M.e_measure_curve, M.f_measure_curve, M.evaluate_sod]
FIX_METRICS = [M.nss, M.auc_judd]


@pytest.mark.parametrize("metric", SOD_METRICS + FIX_METRICS, ids=lambda f: f.__name__)
def test_map_and_mask_of_different_sizes_are_refused(metric):
    with pytest.raises(ValueError, match="shape"):
        metric(np.zeros((4, 5)), np.ones((5, 4), bool))


@pytest.mark.parametrize("metric", SOD_METRICS + FIX_METRICS, ids=lambda f: f.__name__)
def test_uint8_and_out_of_range_maps_are_refused(metric):
    mask = np.ones((3, 3), bool)
    with pytest.raises(TypeError, match="255"):
        metric(np.zeros((3, 3), np.uint8), mask)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metric(np.full((3, 3), 1.5), mask)
    with pytest.raises(ValueError, match="saliency"):
        metric(np.zeros((3, 3, 3)), mask)
    with pytest.raises(TypeError, match="bool"):
        metric(np.zeros((3, 3)), np.ones((3, 3), np.uint8))


@pytest.mark.parametrize("metric", [M.f_measure, M.f_measure_curve, M.evaluate_sod, M.precision_recall])
def test_empty_mask_is_refused_where_recall_is_undefined(metric):
    with pytest.raises(ValueError, match="mask is empty"):
        metric(np.random.default_rng(0).random((4, 4)), np.zeros((4, 4), bool))


@pytest.mark.parametrize("metric", FIX_METRICS, ids=lambda f: f.__name__)
def test_no_fixation_is_refused(metric):
    with pytest.raises(ValueError, match="fixations is empty"):
        metric(np.random.default_rng(0).random((4, 4)), np.zeros((4, 4), bool))


def test_zero_size_inputs_and_bad_parameters():
    with pytest.raises(ValueError, match="empty"):
        M.mae(np.zeros((0, 3)), np.zeros((0, 3), bool))
    sal, mask = _case(0)
    with pytest.raises(ValueError, match="threshold"):
        M.f_measure(sal, mask, threshold=1.5)
    with pytest.raises(ValueError, match="threshold"):
        M.e_measure(sal, mask, threshold="otsu")
    with pytest.raises(ValueError, match="beta2"):
        M.f_measure(sal, mask, beta2=0)
    with pytest.raises(ValueError, match="constant"):
        M.nss(np.full(mask.shape, 0.5), mask)
    with pytest.raises(ValueError, match="constant"):
        M.cc(np.full(mask.shape, 0.5), sal)
    with pytest.raises(ValueError, match="density"):
        M.cc(sal, sal[:-1])
    with pytest.raises(ValueError, match="every pixel"):
        M.auc_judd(sal, np.ones_like(mask))
