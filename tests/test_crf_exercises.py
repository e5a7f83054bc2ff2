"""Lesson-6 exercise checks, called directly (test_exercises.py also runs them through notebook 06)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.exercises import all_exercises, run_check
from course_utils.exercises.core import CORRECT, INCORRECT, NOT_ATTEMPTED

IDS = ("06.mean_field_step", "06.potts_message", "06.train_ids")


def _solution_mean_field_step(unary, kernel, probs):
    return torch.softmax(-unary + kernel @ probs, dim=1)


def _solution_potts_message(filtered, weight):
    return weight * (filtered.sum(dim=1, keepdim=True) - filtered)


def _solution_train_ids(label_ids):
    from cityscapesscripts.helpers.labels import labels

    lut = np.full(256, 255, np.uint8)
    for lab in labels:
        if lab.id >= 0 and lab.trainId not in (-1, 255):
            lut[lab.id] = lab.trainId
    return lut[label_ids]


SOLUTIONS = {"06.mean_field_step": _solution_mean_field_step, "06.potts_message": _solution_potts_message,
             "06.train_ids": _solution_train_ids}


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
    from course_utils.exercises.lesson06 import _mean_field_case

    crf, unary, probs = _mean_field_case(0)
    assert isinstance(crf, ExactDenseCRF) and crf.params == CRFParams(w1=4.0, sigma_alpha=5.0, sigma_beta=20.0,
                                                                        w2=3.0, sigma_gamma=1.5)
    assert torch.allclose(crf.step(unary, probs)[1], _solution_mean_field_step(unary, crf.kernel.float(), probs),
                          atol=1e-5)
