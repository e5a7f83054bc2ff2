"""Lesson-6 (CRF) and lesson-7 (Cityscapes) exercise checks, called directly (test_exercises.py also runs them
through notebooks 06 and 07)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.exercises import all_exercises, run_check
from course_utils.exercises.core import CORRECT, INCORRECT, NOT_ATTEMPTED

IDS = ("06.mean_field", "06.mean_field_formula", "07.train_ids")


def _solution_mean_field(unary, kernel, compatibility, iterations):
    q = torch.softmax(-unary, dim=1)
    for _ in range(iterations):
        message = kernel @ q
        q = torch.softmax(-unary - message @ compatibility.T, dim=1)
    return q


def _solution_train_ids(label_ids):
    from cityscapesscripts.helpers.labels import labels

    lut = np.full(256, 255, np.uint8)
    for lab in labels:
        if lab.id >= 0 and lab.trainId not in (-1, 255):
            lut[lab.id] = lab.trainId
    return lut[label_ids]


def _solution_mean_field_formula(image, unary, probs, params):
    h, w = image.shape[:2]
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    pos = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).double()
    rgb = torch.as_tensor(image).reshape(-1, 3).double()
    d_pos, d_rgb = torch.cdist(pos, pos) ** 2, torch.cdist(rgb, rgb) ** 2
    kernel = (params.w1 * torch.exp(-d_pos / (2 * params.sigma_alpha ** 2) - d_rgb / (2 * params.sigma_beta ** 2))
              + params.w2 * torch.exp(-d_pos / (2 * params.sigma_gamma ** 2)))
    kernel.fill_diagonal_(0.0)
    message = kernel @ probs.double()
    cost = message.sum(dim=1, keepdim=True) - message
    return torch.softmax(-unary.double() - cost, dim=1).float()


SOLUTIONS = {"06.mean_field": _solution_mean_field, "06.mean_field_formula": _solution_mean_field_formula, "07.train_ids": _solution_train_ids}


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_passes_and_wrong_answers_fail(exercise_id):
    exercises = all_exercises()
    assert run_check(exercise_id, SOLUTIONS[exercise_id]).status == CORRECT
    wrong = exercises[exercise_id].wrong_answers
    assert len(wrong) >= 2
    for answer in wrong:
        result = run_check(exercise_id, answer)
        assert result.status == INCORRECT, f"{answer.__name__}: {result}"


def test_stub_is_not_attempted():
    def stub(*args):
        raise NotImplementedError

    for exercise_id in IDS:
        assert run_check(exercise_id, stub).status == NOT_ATTEMPTED


def test_mean_field_check_uses_the_library_update():
    from course_utils.crf.dense_crf import CRFParams
    from course_utils.crf.exact import ExactDenseCRF
    from course_utils.exercises.lesson06 import _mean_field_case, potts_matrix

    crf, unary, probs = _mean_field_case(0)
    assert isinstance(crf, ExactDenseCRF) and crf.params == CRFParams(w1=4.0, sigma_alpha=5.0, sigma_beta=20.0,
                                                                        w2=3.0, sigma_gamma=1.5)
    # with the Potts compatibility, one update from Q is the library's step (cost form = reward form)
    q0 = torch.softmax(-unary, dim=1)
    assert torch.allclose(crf.step(unary, q0)[1], _solution_mean_field(unary, crf.kernel.float(), potts_matrix(3), 1),
                          atol=1e-5)


def test_mean_field_formula_reference_is_the_exact_crf_with_the_lecture_kernels():
    """The reference is the exact CRF with plain kernels and no j = i term; the library's default differs."""
    from course_utils.crf.exact import ExactDenseCRF
    from course_utils.exercises.lesson06 import _formula_cases, _formula_reference

    for image, unary, probs, params in _formula_cases():
        ref = _formula_reference(image, unary, probs, params)
        assert torch.allclose(ref, _solution_mean_field_formula(image, unary, probs, params), atol=1e-5)
        normalised = ExactDenseCRF(image, params).step(unary, probs)[1]  # pydensecrf's conventions
        assert not torch.allclose(ref, normalised, atol=1e-3)
