"""The guard keeps each exercise's reference implementations out of the answer's reach."""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.exercises.core import CORRECT, INCORRECT, all_exercises, run_check
from course_utils.exercises.guard import Delegated, guarded

EXERCISES = all_exercises()
GUARDED = sorted(k for k, ex in EXERCISES.items() if ex.forbidden)


@pytest.mark.parametrize("exercise_id", GUARDED)
def test_every_delegating_answer_is_rejected_with_one_plain_sentence(exercise_id):
    ex = EXERCISES[exercise_id]
    assert len(ex.delegating) >= 2
    for answer in ex.delegating:
        result = run_check(exercise_id, answer)
        assert result.status == INCORRECT, (answer.__name__, result)
        assert result.message.startswith("write it yourself: your answer calls "), result.message


def test_guard_restores_everything_and_is_not_swallowed():
    import sys

    import maxflow

    from course_utils.graphcut import flow_network

    original = flow_network.pymaxflow_max_flow

    def swallows(capacity, source, sink):
        try:
            return flow_network.pymaxflow_max_flow(capacity, source, sink)
        except Exception:  # a broad except must not hide the delegation
            return 0.0, np.zeros(len(capacity), bool)

    run = guarded(swallows, ["course_utils.graphcut.flow_network:pymaxflow_max_flow", "maxflow"])
    with pytest.raises(Delegated, match="pymaxflow_max_flow"):
        run(np.zeros((2, 2)), 0, 1)
    assert flow_network.pymaxflow_max_flow is original
    assert sys.modules["maxflow"] is maxflow


def test_guard_lets_allowed_code_run_and_the_solution_pass():
    from course_utils.exercises.lesson02 import _augment, _bfs_parents

    def edmonds_karp(capacity, source, sink):
        flow, residual = _augment(capacity, source, sink)
        return flow, _bfs_parents(residual, source) >= 0

    assert run_check("02.max_flow", edmonds_karp).status == CORRECT


def test_forbidden_entries_are_checked_up_front():
    with pytest.raises(ValueError, match="no attribute"):
        guarded(lambda: None, ["course_utils.graphcut.flow_network:no_such_function"])
