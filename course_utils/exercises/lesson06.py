"""Checks for lesson 06 (the fully connected CRF on its own).

Exercises:

* ``06.mean_field``: mean-field inference with an explicit kernel matrix and a label compatibility
  (Potts or graded), from the unaries' softmax through ``iterations`` parallel updates;
* ``06.mean_field_formula``: one mean-field step written from the formula (unary, both Gaussian
  kernels' message, Potts compatibility, normalisation), checked against the exact O(N^2)
  :class:`~course_utils.crf.exact.ExactDenseCRF` on tiny images.

The Cityscapes label-id exercise moved with the DeepLab part to lesson 07.
"""

from __future__ import annotations

import numpy as np
import torch

from course_utils.crf.dense_crf import CRFParams, unary_from_probs
from course_utils.crf.exact import ExactDenseCRF
from course_utils.data.samples import sample_image
from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import exercise
from course_utils.images import resize_image

# ---------------------------------------------------------------- 06.mean_field
#
# Mean field with the kernel matrix given: start from the unaries alone, then `iterations` parallel
# updates, each applying the label compatibility to the kernel message (what 06.potts_message and
# 06.mean_field_step asked separately before). With the Potts compatibility it is the library's
# update (the reward form differs by a per-pixel constant, which the softmax removes).


def _mean_field_case(seed: int):
    """A tiny real case: a 6x8 crop of a photo, its exact CRF kernel matrix, unaries and a current Q."""

    image = resize_image(sample_image("chelsea"), (6, 8))
    crf = ExactDenseCRF(image, CRFParams(w1=4.0, sigma_alpha=5.0, sigma_beta=20.0, w2=3.0, sigma_gamma=1.5))
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(2.0 * torch.randn(48, 3, generator=g), dim=1)
    unary = unary_from_probs(torch.softmax(torch.randn(48, 3, generator=g), dim=1))
    return crf, unary, probs


def potts_matrix(num_classes: int, weight: float = 1.0) -> torch.Tensor:
    """The Potts compatibility ``mu(l, l') = weight * [l != l']`` as a (C, C) float32 matrix."""
    return weight * (1.0 - torch.eye(num_classes))


def _graded_compatibility() -> torch.Tensor:
    """A symmetric, non-Potts compatibility: confusing class 0 with 1 is cheap, with 2 dear."""
    return torch.tensor([[0.0, 0.3, 1.5], [0.3, 0.0, 1.0], [1.5, 1.0, 0.0]])


def _mean_field_loop(unary, kernel, compatibility, iterations, *, start="unary", sign=1.0, dim=1, steps=None,
                     transpose=False):
    """Mean field; the keyword arguments each break one thing (for the wrong answers)."""
    n, c = unary.shape
    q = torch.softmax(-unary, dim=1) if start == "unary" else torch.full((n, c), 1.0 / c)
    mu = compatibility.t() if transpose else compatibility
    for _ in range(iterations if steps is None else steps):
        message = kernel @ q
        q = torch.softmax(-unary - sign * message @ mu.t(), dim=dim)
    return q


def _wrong_uniform_start(unary, kernel, compatibility, iterations):  # Q_0 uniform, not softmax(-theta)
    return _mean_field_loop(unary, kernel, compatibility, iterations, start="uniform")


def _wrong_reward_with_mu(unary, kernel, compatibility, iterations):  # the cost added with the wrong sign
    return _mean_field_loop(unary, kernel, compatibility, iterations, sign=-1.0)


def _wrong_softmax_over_pixels(unary, kernel, compatibility, iterations):
    return _mean_field_loop(unary, kernel, compatibility, iterations, dim=0)


def _wrong_one_step_only(unary, kernel, compatibility, iterations):
    return _mean_field_loop(unary, kernel, compatibility, iterations, steps=1)


def _wrong_compatibility_ignored(unary, kernel, compatibility, iterations):  # Potts whatever mu says
    return _mean_field_loop(unary, kernel, potts_matrix(unary.shape[1]), iterations)


def _dummy_row_image(n: int) -> np.ndarray:
    return np.zeros((1, n, 3), np.uint8)


def _delegates_exact_crf(unary, kernel, compatibility, iterations):
    crf = ExactDenseCRF(_dummy_row_image(unary.shape[0]))  # the library's CRF, its kernel swapped for ours
    crf.kernel = kernel.double()
    q = torch.softmax(-unary, dim=1)
    for _ in range(iterations):
        q = crf.step(unary, q)[1]
    return q


def _delegates_module_attribute(unary, kernel, compatibility, iterations):
    import importlib

    module = importlib.import_module("course_utils.crf.dense_crf")  # the module (the package re-exports a function)

    crf = module.DenseCRF(_dummy_row_image(unary.shape[0]))
    crf.message = lambda q: kernel @ q
    q = torch.softmax(-unary, dim=1)
    for _ in range(iterations):
        q = crf.step(unary, q)[1]
    return q


def _delegates_exact_dense_crf(unary, kernel, compatibility, iterations):
    from course_utils.crf.exact import exact_dense_crf

    n, c = unary.shape
    probs = torch.softmax(-unary, dim=1).t().reshape(c, 1, n)
    return exact_dense_crf(_dummy_row_image(n), probs, iterations=iterations).probs.reshape(c, n).t()


_CRF_FORBIDDEN = ("course_utils.crf.exact:ExactDenseCRF", "course_utils.crf.exact:exact_dense_crf",
                  "course_utils.crf.exact:exact_filter", "course_utils.crf.exact:gaussian_kernel_matrix",
                  "course_utils.crf.dense_crf:DenseCRF", "course_utils.crf.dense_crf:dense_crf",
                  "course_utils.crf.permutohedral:PermutohedralLattice")


@exercise(
    "06.mean_field",
    hint="start from the distribution the unaries alone give (a softmax over the classes of minus theta); then, "
         "`iterations` times: the message of every pixel for every class is the kernel-weighted sum of the current "
         "Q; the compatibility turns the messages into a cost per class (class l pays mu(l, l') for the message "
         "of class l'); the new Q is a softmax over the classes of minus (unary + cost).",
    wrong_answers=[_wrong_uniform_start, _wrong_reward_with_mu, _wrong_softmax_over_pixels, _wrong_one_step_only,
                   _wrong_compatibility_ignored],
    success="mean field: Q_i(l) proportional to exp(-theta_i(l) - sum_l' mu(l, l') sum_j k_ij Q_j(l')), all pixels "
            "in parallel; with the Potts mu it is the library's update.",
    forbidden=_CRF_FORBIDDEN,
    delegating=[_delegates_exact_crf, _delegates_module_attribute, _delegates_exact_dense_crf],
)
def check_mean_field(mean_field) -> None:
    for seed, iterations in ((0, 1), (1, 4)):
        crf, unary, _ = _mean_field_case(seed)
        kernel = crf.kernel.to(torch.float32)
        got = call_answer(mean_field, unary.clone(), kernel.clone(), potts_matrix(3), iterations)
        if isinstance(got, torch.Tensor) and got.dtype == torch.float64:
            got = got.to(torch.float32)
        expected = torch.softmax(-unary, dim=1)
        for _ in range(iterations):  # the library's update with the same kernel
            expected = crf.step(unary, expected)[1]
        expect_array(got, expected, f"mean_field(unary, kernel, Potts, iterations={iterations})", atol=1e-5,
                     rtol=1e-4, index_names="(pixel, class)")
    crf, unary, _ = _mean_field_case(2)
    kernel, mu = crf.kernel.to(torch.float32), _graded_compatibility()
    got = call_answer(mean_field, unary.clone(), kernel.clone(), mu.clone(), 3)
    if isinstance(got, torch.Tensor) and got.dtype == torch.float64:
        got = got.to(torch.float32)
    expect_array(got, _mean_field_loop(unary, kernel, mu, 3), "mean_field(unary, kernel, a graded (non-Potts) "
                 "compatibility, iterations=3)", atol=1e-5, rtol=1e-4, index_names="(pixel, class)")


# ---------------------------------------------------------------- 06.mean_field_formula
#
# The student writes one mean-field step from the lecture's formula, with nothing precomputed:
#   kernel  k_ij = w1 exp(-|p_i-p_j|^2/(2 sa^2) - |I_i-I_j|^2/(2 sb^2)) + w2 exp(-|p_i-p_j|^2/(2 sg^2)),  j != i
#   message m_i(l) = sum_j k_ij Q_j(l)
#   Potts   cost_i(l) = sum_l' mu(l, l') m_i(l') = sum_l' m_i(l') - m_i(l)
#   update  Q_i(l) = exp(-theta_i(l) - cost_i(l)) / Z_i
# The reference is the exact O(N^2) CRF with the lecture's plain kernels (no normalisation,
# no j = i term): ExactDenseCRF(..., normalization="none", include_self=False). The notebook does not
# show this call before the exercise.


def _formula_cases() -> list[tuple[np.ndarray, torch.Tensor, torch.Tensor, object]]:
    """Tiny real cases: photo crops (not square, so a transposed pixel order shows), unaries, a current Q."""
    from course_utils.crf.dense_crf import CRFParams, unary_from_probs
    from course_utils.data.samples import sample_image
    from course_utils.images import resize_image

    cases = []
    for seed, (name, size, classes) in enumerate((("chelsea", (6, 9), 3), ("astronaut", (7, 5), 4))):
        image = resize_image(sample_image(name), size)
        n = size[0] * size[1]
        g = torch.Generator().manual_seed(60 + seed)
        probs = torch.softmax(1.5 * torch.randn(n, classes, generator=g), dim=1)
        unary = unary_from_probs(torch.softmax(torch.randn(n, classes, generator=g), dim=1))
        params = CRFParams(w1=0.6, sigma_alpha=2.5, sigma_beta=40.0, w2=0.4, sigma_gamma=1.2)
        cases.append((image, unary, probs, params))
    return cases


def _formula_reference(image, unary, probs, params) -> torch.Tensor:
    from course_utils.crf.exact import ExactDenseCRF

    crf = ExactDenseCRF(image, params, normalization="none", include_self=False)
    return crf.step(unary, probs)[1]


def _formula_step(image, unary, probs, params, *, keep_self=False, potts_sign=1.0, colour_scale=1.0,
                  two=2.0, pixel_order="rows", softmax_dim=1, unary_sign=-1.0) -> torch.Tensor:
    """A parametrised mean-field step: the defaults are right; each wrong answer changes one thing."""
    h, w = image.shape[:2]
    if pixel_order == "rows":
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    else:  # column by column: positions no longer match the pixels' (row-major) order
        xs, ys = torch.meshgrid(torch.arange(w), torch.arange(h), indexing="ij")
    pos = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).to(torch.float64)
    rgb = torch.as_tensor(np.asarray(image), dtype=torch.float64).reshape(-1, 3) * colour_scale
    d_pos = torch.cdist(pos, pos) ** 2
    d_rgb = torch.cdist(rgb, rgb) ** 2
    kernel = (params.w1 * torch.exp(-d_pos / (two * params.sigma_alpha ** 2) - d_rgb / (two * params.sigma_beta ** 2))
              + params.w2 * torch.exp(-d_pos / (two * params.sigma_gamma ** 2)))
    if not keep_self:
        kernel.fill_diagonal_(0.0)
    message = kernel @ probs.to(torch.float64)
    cost = message.sum(dim=1, keepdim=True) - message
    return torch.softmax(unary_sign * unary.to(torch.float64) - potts_sign * cost, dim=softmax_dim).to(torch.float32)


def _wrong_self_term(image, unary, probs, params):  # j = i kept: each pixel votes for its own current label
    return _formula_step(image, unary, probs, params, keep_self=True)


def _wrong_potts_reward_disagreement(image, unary, probs, params):  # the Potts cost added with the wrong sign
    return _formula_step(image, unary, probs, params, potts_sign=-1.0)


def _wrong_colours_in_0_1(image, unary, probs, params):  # sigma_beta is in 0-255 units
    return _formula_step(image, unary, probs, params, colour_scale=1.0 / 255.0)


def _wrong_no_factor_two(image, unary, probs, params):  # exp(-d^2 / sigma^2)
    return _formula_step(image, unary, probs, params, two=1.0)


def _wrong_pixel_order(image, unary, probs, params):  # positions listed column by column
    return _formula_step(image, unary, probs, params, pixel_order="columns")


def _wrong_normalised_over_pixels(image, unary, probs, params):
    return _formula_step(image, unary, probs, params, softmax_dim=0)


def _delegates_formula_exact_crf(image, unary, probs, params):
    crf = ExactDenseCRF(image, params, normalization="none", include_self=False)
    return crf.step(unary, probs)[1]


def _delegates_formula_module_attribute(image, unary, probs, params):
    from course_utils.crf import exact

    return exact.ExactDenseCRF(image, params, normalization="none", include_self=False).step(unary, probs)[1]


def _delegates_formula_kernel_matrix(image, unary, probs, params):
    from course_utils.crf.exact import gaussian_kernel_matrix

    h, w = image.shape[:2]
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    pos = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).double()
    rgb = torch.as_tensor(image).reshape(-1, 3).double()
    kernel = (params.w1 * gaussian_kernel_matrix(torch.cat([pos / params.sigma_alpha, rgb / params.sigma_beta], 1))
              + params.w2 * gaussian_kernel_matrix(pos / params.sigma_gamma))
    kernel.fill_diagonal_(0.0)
    message = kernel @ probs.double()
    return torch.softmax(-unary.double() + message, dim=1).float()


@exercise(
    "06.mean_field_formula",
    hint="list each pixel's position (x, y) and colour (r, g, b, 0-255) in the same order as the rows of unary "
         "(row by row); build the N x N matrix of both weighted Gaussian kernels, leaving out j = i; multiply it "
         "with Q to get every pixel's message per class; the Potts cost of class l is the message of all the "
         "other classes; the new Q is a softmax over the classes of minus (unary + Potts cost).",
    wrong_answers=[_wrong_self_term, _wrong_potts_reward_disagreement, _wrong_colours_in_0_1, _wrong_no_factor_two,
                   _wrong_pixel_order, _wrong_normalised_over_pixels],
    success="one mean-field step from the formula equals the exact O(N^2) CRF's update; the library does the same "
            "with the permutohedral lattice in O(N).",
    forbidden=_CRF_FORBIDDEN,
    delegating=[_delegates_formula_exact_crf, _delegates_formula_module_attribute, _delegates_formula_kernel_matrix],
)
def check_mean_field_formula(mean_field_step_from_formula) -> None:
    for k, (image, unary, probs, params) in enumerate(_formula_cases()):
        h, w = image.shape[:2]
        expected = _formula_reference(image, unary, probs, params)
        got = call_answer(mean_field_step_from_formula, image.copy(), unary.clone(), probs.clone(), params)
        if isinstance(got, torch.Tensor) and got.dtype == torch.float64:
            got = got.to(torch.float32)
        expect_array(got, expected, f"mean_field_step_from_formula on a {h}x{w} image (case {k + 1})",
                     atol=1e-5, rtol=1e-4, index_names="(pixel, class)")
        # three steps in a row (the output is the next step's input) still follow the exact CRF
        q_got, q_exp = probs, probs
        for _ in range(3):
            q_got = call_answer(mean_field_step_from_formula, image.copy(), unary.clone(), q_got.clone(), params)
            if isinstance(q_got, torch.Tensor) and q_got.dtype == torch.float64:
                q_got = q_got.to(torch.float32)
            q_exp = _formula_reference(image, unary, q_exp, params)
        expect_array(q_got, q_exp, f"three steps of mean_field_step_from_formula on a {h}x{w} image (case {k + 1})",
                     atol=1e-4, rtol=1e-3, index_names="(pixel, class)")
