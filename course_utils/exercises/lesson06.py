"""Checks for lesson 06 (DeepLab + the fully connected CRF on Cityscapes-format scenes).

Exercises:

* ``06.mean_field_step``: one parallel mean-field update with an explicit kernel matrix;
* ``06.potts_message``: the Potts compatibility applied to the filtered marginals;
* ``06.train_ids``: Cityscapes label ids -> train ids (255 = ignore).
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


# ---------------------------------------------------------------- 06.train_ids


def _label_table() -> tuple[np.ndarray, np.ndarray]:
    from cityscapesscripts.helpers.labels import labels

    ids = np.array([lab.id for lab in labels if lab.id >= 0])
    train = np.array([lab.trainId if lab.trainId not in (-1, 255) else 255 for lab in labels if lab.id >= 0])
    return ids, train


def _wrong_identity(label_ids):
    return label_ids.astype(np.uint8)


def _wrong_ignore_zero(label_ids):
    ids, train = _label_table()
    lut = np.zeros(256, np.uint8)
    lut[ids] = np.where(train == 255, 0, train)
    return lut[label_ids]


def _wrong_category(label_ids):
    from cityscapesscripts.helpers.labels import labels

    lut = np.full(256, 255, np.uint8)
    for lab in labels:
        if lab.id >= 0:
            lut[lab.id] = lab.categoryId
    return lut[label_ids]


@exercise(
    "06.train_ids",
    hint="build a 256-entry lookup table from cityscapesscripts.helpers.labels (each label's id and trainId; "
         "classes not used for training become 255), then index it with the whole array at once.",
    wrong_answers=[_wrong_identity, _wrong_ignore_zero, _wrong_category],
    success="label ids (0..33) map to the 19 train ids; everything else to 255, which the loss and metrics ignore.",
)
def check_train_ids(to_train_ids) -> None:
    ids, train = _label_table()
    rng = np.random.default_rng(6)
    label_ids = rng.choice(ids, size=(9, 13)).astype(np.uint8)
    label_ids.flat[: len(ids)] = ids  # every label id appears
    got = call_answer(to_train_ids, label_ids.copy())
    lut = np.full(256, 255, np.uint8)
    lut[ids] = train
    expect_array(got, lut[label_ids], "to_train_ids(label_ids)", index_names="pixel")
