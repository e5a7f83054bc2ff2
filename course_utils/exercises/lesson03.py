"""Checks for lesson 03 (GrabCut): the GMM data term and the GrabCut loop itself."""

from __future__ import annotations

import numpy as np

from course_utils.data.samples import sample_image
from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import Incorrect, exercise
from course_utils.graphcut.grabcut import (GC_BGD, GC_FGD, GC_PR_FGD, PHOTO_RECTS, fit_colour_model,
                                           gmm_neg_log_likelihood, rect_from_fractions, rect_trimap)
from course_utils.graphcut.grabcut_hard import (REG_COVAR, ColourGMM, gmm_data_term, hard_grabcut_loop, initial_gmms,
                                                refit_gmm)
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


# Answers that hand the work to the library or SciPy instead of writing it (each must be rejected).
def _delegates_gmm_imported_name(colours, weights, means, covariances):
    return gmm_data_term(colours, ColourGMM(weights, means, covariances))


def _delegates_gmm_module_attribute(colours, weights, means, covariances):
    from course_utils.graphcut import grabcut_hard

    log_components = grabcut_hard.component_log_densities(colours, ColourGMM(weights, means, covariances))
    return -np.logaddexp.reduce(log_components, axis=1)


def _delegates_gmm_scipy(colours, weights, means, covariances):
    from scipy.stats import multivariate_normal

    density = sum(w * multivariate_normal(m, c).pdf(colours) for w, m, c in zip(weights, means, covariances))
    return -np.log(density)


@exercise(
    "03.gmm_data_term",
    hint="the cost is -log of a weighted SUM of K Gaussian densities; work with logs of each component "
         "(weight, normalisation with the determinant, Mahalanobis distance) and combine them with "
         "np.logaddexp.reduce, which avoids underflow.",
    wrong_answers=[_wrong_best_component_only, _wrong_no_weights, _wrong_no_determinant, _wrong_log_likelihood],
    success="D(z) = -log sum_k pi_k N(z | mu_k, Sigma_k): the t-link capacity of every pixel.",
    forbidden=("course_utils.graphcut.grabcut:gmm_neg_log_likelihood", "course_utils.graphcut.grabcut:grabcut_unary",
               "course_utils.graphcut.grabcut_hard:gmm_data_term",
               "course_utils.graphcut.grabcut_hard:component_log_densities",
               "sklearn.mixture", "scipy.stats:multivariate_normal"),
    delegating=[_delegates_gmm_imported_name, _delegates_gmm_module_attribute, _delegates_gmm_scipy],
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
_LOOP_PHOTOS = (("chelsea", 120), ("coffee", 96))  # photos, longest side: a few iterations move the cut
_LOOP_ITERATIONS = 4


def _loop_case(name: str, side: int):
    image = resize_longest_side(sample_image(name), side)
    rect = rect_from_fractions(image.shape[:2], PHOTO_RECTS[name])
    trimap = rect_trimap(image.shape[:2], rect)
    smoothness = smoothness_weights(image, lam=50.0, connectivity=8)
    colours = image_as_colours(image)
    fg, bg = initial_gmms(colours, trimap, n_components=5, rng=0)
    return colours, trimap, smoothness, fg, bg


def _refit(z, gmm, nearest_mean=False, regularise=True):
    weights, means, covariances = gmm
    if nearest_mean:
        k = np.argmin(((z[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    else:
        k = np.argmax(_log_components_safe(z, weights, means, covariances), axis=1)
    new = refit_gmm(z, k, len(weights))
    if not regularise:
        return new.weights, new.means, new.covariances - REG_COVAR * np.eye(3) * (new.weights > 0)[:, None, None]
    return new.weights, new.means, new.covariances


def _log_components_safe(z, weights, means, covariances):
    with np.errstate(divide="ignore"):
        return _log_components(z, weights, means, covariances)


def _loop(colours, trimap, smoothness, fg, bg, iterations, *, refit=True, on_rectangle=False, hard=True,
          data_only=False, nearest_mean=False):
    hard_fg, hard_bg = trimap == GC_FGD, trimap == GC_BGD
    start = (trimap == GC_FGD) | (trimap == GC_PR_FGD)
    mask, energies = start, []
    for _ in range(iterations):
        select = start if on_rectangle else mask
        if refit:
            fg = _refit(colours[select], fg, nearest_mean)
            bg = _refit(colours[~select], bg, nearest_mean)
        flat = colours.reshape(-1, 3)
        unary = np.stack([-np.logaddexp.reduce(_log_components_safe(flat, *bg), axis=1),
                          -np.logaddexp.reduce(_log_components_safe(flat, *fg), axis=1)], -1)
        unary = unary.reshape(mask.shape + (2,))
        if hard:
            unary = add_hard_constraints(unary, smoothness, hard_fg, hard_bg)
        cut = graph_cut(unary, smoothness)
        mask = cut.mask
        energies.append(cut.data_energy if data_only else cut.energy)
    return mask, energies


# Typical wrong answers for 03.grabcut_loop, kept beside the check.
def _wrong_models_never_refitted(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    return _loop(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations, refit=False)


def _wrong_refit_on_the_rectangle(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    return _loop(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations, on_rectangle=True)


def _wrong_no_hard_constraints(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    return _loop(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations, hard=False)


def _wrong_energy_without_smoothness(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    return _loop(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations, data_only=True)


def _wrong_assigns_to_the_nearest_mean(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    return _loop(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations, nearest_mean=True)


# Answers that hand the work to the library or OpenCV instead of writing it (each must be rejected).
def _delegates_imported_name(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    return hard_grabcut_loop(colours, trimap, smoothness, ColourGMM(*fg_gmm), ColourGMM(*bg_gmm), iterations)


def _delegates_module_attribute(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    from course_utils.graphcut import grabcut_hard

    mask = (trimap == GC_FGD) | (trimap == GC_PR_FGD)
    fg, bg, energies = ColourGMM(*fg_gmm), ColourGMM(*bg_gmm), []
    for _ in range(iterations):
        mask, energy, fg, bg = grabcut_hard.hard_grabcut_step(colours, mask, fg, bg, trimap, smoothness)
        energies.append(energy)
    return mask, energies


def _delegates_library_em(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    from course_utils.graphcut.grabcut import grabcut as library_grabcut

    run = library_grabcut(colours.astype(np.uint8), trimap=trimap, iterations=iterations)
    return run.mask, list(run.energies)


def _delegates_opencv(colours, trimap, smoothness, fg_gmm, bg_gmm, iterations):
    import cv2

    mask = trimap.astype(np.uint8).copy()
    cv2.grabCut(colours.astype(np.uint8)[..., ::-1].copy(), mask, None, np.zeros((1, 65)), np.zeros((1, 65)),
                iterations, cv2.GC_INIT_WITH_MASK)
    return (mask == GC_FGD) | (mask == GC_PR_FGD), [0.0] * iterations


@exercise(
    "03.grabcut_loop",
    hint="start from the rectangle as the segmentation; in every iteration, for each label separately, score "
         "its pixels under each of its components, give every pixel to its best component and re-estimate "
         "every component from its own pixels; then build both data terms from the new models, fix the "
         "user's pixels and cut; keep the mask and the cut's energy.",
    wrong_answers=[_wrong_models_never_refitted, _wrong_refit_on_the_rectangle, _wrong_no_hard_constraints,
                   _wrong_energy_without_smoothness, _wrong_assigns_to_the_nearest_mean],
    success="assign, re-fit, cut: the paper's iteration, with the same masks and energies as the library's.",
    forbidden=("course_utils.graphcut.grabcut:grabcut", "course_utils.graphcut.grabcut:grabcut_correct",
               "course_utils.graphcut.grabcut:fit_colour_model", "course_utils.graphcut.grabcut:grabcut_unary",
               "course_utils.graphcut.grabcut:gmm_neg_log_likelihood",
               "course_utils.graphcut.grabcut_hard:hard_grabcut_loop",
               "course_utils.graphcut.grabcut_hard:hard_grabcut_step",
               "course_utils.graphcut.grabcut_hard:refit_gmm", "course_utils.graphcut.grabcut_hard:assign_components",
               "course_utils.graphcut.grabcut_hard:gmm_data_term",
               "course_utils.graphcut.grabcut_hard:component_log_densities",
               "cv2:grabCut", "sklearn.mixture"),
    delegating=[_delegates_imported_name, _delegates_module_attribute, _delegates_library_em, _delegates_opencv],
)
def check_grabcut_loop(grabcut_loop) -> None:
    for name, side in _LOOP_PHOTOS:
        colours, trimap, smoothness, fg, bg = _loop_case(name, side)
        ref_mask, ref_energies = hard_grabcut_loop(colours, trimap, smoothness, fg, bg, _LOOP_ITERATIONS)
        given = colours.copy()
        got = call_answer(grabcut_loop, given, trimap.copy(), smoothness, fg.as_tuple(), bg.as_tuple(),
                          _LOOP_ITERATIONS)
        if not np.array_equal(given, colours):
            raise Incorrect("your function changed the colours it was given: work on copies")
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("grabcut_loop should return a tuple (mask, energies)")
        mask, energies = got
        if not isinstance(energies, (list, tuple, np.ndarray)) or len(energies) != _LOOP_ITERATIONS:
            raise Incorrect(f"energies should hold one energy per iteration ({_LOOP_ITERATIONS} on '{name}'), "
                            f"got {energies if not hasattr(energies, '__len__') else len(energies)}")
        expect_array(np.asarray(energies, dtype=np.float64), np.asarray(ref_energies),
                     f"the energies on the '{name}' photo", rtol=1e-6, atol=1e-6, index_names="iteration")
        expect_array(mask, ref_mask, f"the final mask on the '{name}' photo", index_names="pixel")
