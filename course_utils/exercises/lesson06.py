"""Checks for lesson 06 (the fully connected CRF on its own).

Exercises:

* ``06.potts_message``: the Potts compatibility applied to the filtered marginals;
* ``06.mean_field_step``: one parallel mean-field update with an explicit kernel matrix;
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

# ---------------------------------------------------------------- 06.mean_field_step


def _mean_field_case(seed: int):
    """A tiny real case: a 6x8 crop of a photo, its exact CRF kernel matrix, unaries and a current Q."""

    image = resize_image(sample_image("chelsea"), (6, 8))
    crf = ExactDenseCRF(image, CRFParams(w1=4.0, sigma_alpha=5.0, sigma_beta=20.0, w2=3.0, sigma_gamma=1.5))
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(2.0 * torch.randn(48, 3, generator=g), dim=1)
    unary = unary_from_probs(torch.softmax(torch.randn(48, 3, generator=g), dim=1))
    return crf, unary, probs


def _wrong_sign(unary, kernel, probs):  # Potts as a penalty for agreeing
    return torch.softmax(-unary - kernel @ probs, dim=1)


def _wrong_softmax_axis(unary, kernel, probs):  # normalised over pixels instead of classes
    return torch.softmax(-unary + kernel @ probs, dim=0)


def _wrong_no_unary(unary, kernel, probs):
    return torch.softmax(kernel @ probs, dim=1)


def _wrong_unary_sign(unary, kernel, probs):  # energies used as scores
    return torch.softmax(unary + kernel @ probs, dim=1)


@exercise(
    "06.mean_field_step",
    hint="every pixel's new distribution is a softmax over the classes of a score: minus its unary energy, plus "
         "the kernel-weighted sum of the other pixels' current probabilities for that class.",
    wrong_answers=[_wrong_sign, _wrong_softmax_axis, _wrong_no_unary, _wrong_unary_sign],
    success="one mean-field step: Q_i(l) is proportional to exp(-theta_i(l) + sum_j k_ij Q_j(l)).",
)
def check_mean_field_step(mean_field_step) -> None:
    for seed in (0, 1):
        crf, unary, probs = _mean_field_case(seed)
        kernel = crf.kernel.to(torch.float32)
        got = call_answer(mean_field_step, unary.clone(), kernel.clone(), probs.clone())
        if isinstance(got, torch.Tensor) and got.dtype == torch.float64:
            got = got.to(torch.float32)
        expected = crf.step(unary, probs)[1]  # the library's update with the same kernel
        expect_array(got, expected, "mean_field_step(unary, kernel, probs)", atol=1e-5, rtol=1e-4,
                     index_names="(pixel, class)")


# ---------------------------------------------------------------- 06.potts_message


def potts_matrix(num_classes: int, weight: float) -> torch.Tensor:
    """The Potts compatibility ``mu(l, l') = weight * [l != l']`` as a (C, C) float32 matrix."""
    return weight * (1.0 - torch.eye(num_classes))


def _wrong_agreement(filtered, weight):  # the reward form: right up to a constant, but not mu applied
    return weight * filtered


def _wrong_includes_diagonal(filtered, weight):
    return weight * filtered.sum(dim=1, keepdim=True).expand_as(filtered).clone()


def _wrong_negative(filtered, weight):
    return -weight * filtered


@exercise(
    "06.potts_message",
    hint="for label l, add up the filtered values of every OTHER label, times the weight; the sum over all labels "
         "is one reduction, the label itself is one subtraction.",
    wrong_answers=[_wrong_agreement, _wrong_includes_diagonal, _wrong_negative],
    success="the Potts cost of label l is w times the mass on the other labels: sum_l' mu(l, l') (K Q)(l').",
)
def check_potts_message(potts_message) -> None:
    g = torch.Generator().manual_seed(6)
    for n, c, w in ((7, 3, 2.0), (12, 5, 0.5)):
        filtered = torch.rand(n, c, generator=g) * 3.0
        got = call_answer(potts_message, filtered.clone(), w)
        expected = filtered @ potts_matrix(c, w).t()
        expect_array(got, expected, f"potts_message(filtered {n}x{c}, weight={w})", atol=1e-5, rtol=1e-5,
                     index_names="(pixel, label)")


# ---------------------------------------------------------------- 06.mean_field_formula
#
# The student writes one mean-field step from the lecture's formula, with nothing precomputed:
#   kernel  k_ij = w1 exp(-|p_i-p_j|^2/(2 sa^2) - |I_i-I_j|^2/(2 sb^2)) + w2 exp(-|p_i-p_j|^2/(2 sg^2)),  j != i
#   message m_i(l) = sum_j k_ij Q_j(l)
#   Potts   cost_i(l) = sum_l' mu(l, l') m_i(l') = sum_l' m_i(l') - m_i(l)
#   update  Q_i(l) = exp(-theta_i(l) - cost_i(l)) / Z_i
# The reference is the exact O(N^2) CRF with the lecture's plain kernels (no normalisation,
# no j = i term): ExactDenseCRF(..., normalization="none", include_self=False).


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
