"""Checks for lesson 03 (GrabCut): the GMM data term."""

from __future__ import annotations

import numpy as np

from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import exercise
from course_utils.graphcut.grabcut import fit_colour_model, gmm_neg_log_likelihood


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
