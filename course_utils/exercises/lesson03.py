"""Checks for lesson 03 (GrabCut): the GMM data term and the GrabCut loop itself."""

from __future__ import annotations

import numpy as np

from course_utils.data.samples import sample_image
from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import Incorrect, exercise
from course_utils.graphcut.grabcut import (GC_BGD, GC_FGD, GC_PR_FGD, PHOTO_RECTS, fit_colour_model,
                                           gmm_neg_log_likelihood, grabcut, grabcut_unary, rect_from_fractions,
                                           rect_trimap)
from course_utils.graphcut.graph_cut import add_hard_constraints, graph_cut, image_as_colours, smoothness_weights
from course_utils.images import resize_longest_side


def _gmm_case(seed: int):
    rng = np.random.default_rng(seed)
    colours = np.concatenate([rng.multivariate_normal(rng.uniform(30, 220, 3), np.diag(rng.uniform(30, 400, 3)), 200)
                              for _ in range(4)])
    model = fit_colour_model(colours, n_components=3, em_steps=3, rng=seed)
    test = rng.uniform(0, 255, (25, 3))
    return test, model


def _log_components(colours, weights, means, covariances):
    diff = colours[:, None, :] - means[None]
    maha = np.einsum("nki,kij,nkj->nk", diff, np.linalg.inv(covariances), diff)
    return np.log(weights) - 0.5 * (3 * np.log(2 * np.pi) + np.log(np.linalg.det(covariances))) - 0.5 * maha


# Typical wrong answers, kept beside the check.
def _wrong_best_component_only(colours, weights, means, covariances):
    return -_log_components(colours, weights, means, covariances).max(axis=1)


def _wrong_no_weights(colours, weights, means, covariances):
    return -np.logaddexp.reduce(_log_components(colours, np.ones_like(weights), means, covariances), axis=1)


def _wrong_no_determinant(colours, weights, means, covariances):
    diff = colours[:, None, :] - means[None]
    maha = np.einsum("nki,kij,nkj->nk", diff, np.linalg.inv(covariances), diff)
    return -np.logaddexp.reduce(np.log(weights) - 1.5 * np.log(2 * np.pi) - 0.5 * maha, axis=1)


def _wrong_log_likelihood(colours, weights, means, covariances):
    return np.logaddexp.reduce(_log_components(colours, weights, means, covariances), axis=1)


@exercise(
    "03.gmm_data_term",
    hint="the cost is -log of a weighted SUM of K Gaussian densities; work with logs of each component "
         "(weight, normalisation with the determinant, Mahalanobis distance) and combine them with "
         "np.logaddexp.reduce, which avoids underflow.",
    wrong_answers=[_wrong_best_component_only, _wrong_no_weights, _wrong_no_determinant, _wrong_log_likelihood],
    success="D(z) = -log sum_k pi_k N(z | mu_k, Sigma_k): the t-link capacity of every pixel.",
)
def check_gmm_data_term(gmm_cost) -> None:
    for seed in (0, 1):
        colours, model = _gmm_case(seed)
        expected = gmm_neg_log_likelihood(colours, model)
        got = call_answer(gmm_cost, colours.copy(), model.weights_.copy(), model.means_.copy(),
                          model.covariances_.copy())
        expect_array(got, expected, "gmm_cost(colours, weights, means, covariances)", atol=1e-6, rtol=1e-7,
                     check_dtype=False, index_names="colour")


# ---------------------------------------------------------------- 03.grabcut_loop
_LOOP_PHOTOS = (("chelsea", 120), ("coffee", 96))  # photos, longest side: GrabCut converges in a few iterations
_LOOP_ITERATIONS = 4


def _loop_case(name: str, side: int):
    image = resize_longest_side(sample_image(name), side)
    rect = rect_from_fractions(image.shape[:2], PHOTO_RECTS[name])
    trimap = rect_trimap(image.shape[:2], rect)
    smoothness = smoothness_weights(image, lam=50.0, connectivity=8)
    return image, rect, trimap, smoothness


def _loop(colours, trimap, smoothness, iterations, *, refit=True, on_rectangle=False, hard=True,
          data_only=False, warm=True):
    hard_fg, hard_bg = trimap == GC_FGD, trimap == GC_BGD
    start = (trimap == GC_FGD) | (trimap == GC_PR_FGD)
    mask, fg_model, bg_model, energies = start, None, None, []
    for _ in range(iterations):
        if refit or fg_model is None:
            select = start if on_rectangle else mask
            fg_model = fit_colour_model(colours[select], previous=fg_model if warm else None)
            bg_model = fit_colour_model(colours[~select], previous=bg_model if warm else None)
        unary = grabcut_unary(colours, fg_model, bg_model)
        if hard:
            unary = add_hard_constraints(unary, smoothness, hard_fg, hard_bg)
        cut = graph_cut(unary, smoothness)
        mask = cut.mask
        energies.append(cut.data_energy if data_only else cut.energy)
    return mask, energies


# Typical wrong answers for 03.grabcut_loop, kept beside the check.
def _wrong_models_fitted_once(colours, trimap, smoothness, iterations):
    return _loop(colours, trimap, smoothness, iterations, refit=False)


def _wrong_refit_on_the_rectangle(colours, trimap, smoothness, iterations):
    return _loop(colours, trimap, smoothness, iterations, on_rectangle=True)


def _wrong_no_hard_constraints(colours, trimap, smoothness, iterations):
    return _loop(colours, trimap, smoothness, iterations, hard=False)


def _wrong_energy_without_smoothness(colours, trimap, smoothness, iterations):
    return _loop(colours, trimap, smoothness, iterations, data_only=True)


def _wrong_fresh_kmeans_every_time(colours, trimap, smoothness, iterations):
    return _loop(colours, trimap, smoothness, iterations, warm=False)


@exercise(
    "03.grabcut_loop",
    hint="start from the rectangle (probably-foreground pixels = True) with no models; in each iteration re-fit "
         "both GMMs on the current segmentation with fit_colour_model(colours[mask], previous=old_model) "
         "(and colours[~mask] for the background), compute grabcut_unary, fix the user's pixels with "
         "add_hard_constraints, cut with graph_cut, keep the cut's mask and its energy.",
    wrong_answers=[_wrong_models_fitted_once, _wrong_refit_on_the_rectangle, _wrong_no_hard_constraints,
                   _wrong_energy_without_smoothness, _wrong_fresh_kmeans_every_time],
    success="assign + re-fit, then cut: the same segmentation and energies as the library's grabcut.",
)
def check_grabcut_loop(grabcut_loop) -> None:
    for name, side in _LOOP_PHOTOS:
        image, rect, trimap, smoothness = _loop_case(name, side)
        reference = grabcut(image, rect, iterations=_LOOP_ITERATIONS, max_fit_pixels=None)
        got = call_answer(grabcut_loop, image_as_colours(image), trimap.copy(), smoothness, _LOOP_ITERATIONS)
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("grabcut_loop should return a tuple (mask, energies)")
        mask, energies = got
        if not isinstance(energies, (list, tuple, np.ndarray)) or len(energies) != _LOOP_ITERATIONS:
            raise Incorrect(f"energies should hold one energy per iteration ({_LOOP_ITERATIONS} on '{name}'), "
                            f"got {energies if not hasattr(energies, '__len__') else len(energies)}")
        expect_array(np.asarray(energies, dtype=np.float64), np.asarray(reference.energies),
                     f"the energies on the '{name}' photo", rtol=1e-6, atol=1e-6, index_names="iteration")
        expect_array(mask, reference.mask, f"the final mask on the '{name}' photo", index_names="pixel")
