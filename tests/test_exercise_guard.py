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


# --- every exercise keeps its reference out of reach ----------------------------------------------

# Exercises whose answer exists in no library function and no dependency, so there is nothing to
# forbid: id -> the reason. Keep it short; every other exercise declares `forbidden` and at least two
# `delegating` answers.
NO_REFERENCE: dict[str, str] = {}


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_every_exercise_forbids_its_reference_implementations(exercise_id):
    ex = EXERCISES[exercise_id]
    if exercise_id in NO_REFERENCE:
        assert len(NO_REFERENCE[exercise_id]) > 20, "say why nothing in the library computes this answer"
        return
    assert ex.forbidden, (f"{exercise_id} declares no `forbidden`: name the library functions and reference "
                          "packages that compute its answer (or add it to NO_REFERENCE with the reason)")
    assert len(ex.delegating) >= 2, f"{exercise_id} keeps fewer than two delegating answers beside its check"


# --- the three routes, for functions, closures, classes and objects --------------------------------

FORBID = ["course_utils.graphcut.flow_network:pymaxflow_max_flow", "maxflow"]
CAPACITY = np.array([[0, 3, 2, 0], [0, 0, 1, 2], [0, 0, 0, 3], [0, 0, 0, 0]], float)


def _notebook(source: str) -> dict:
    """Run ``source`` as a notebook cell would (its own global namespace)."""
    namespace: dict = {"__name__": "__main__", "np": np}
    exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


ROUTES = {
    "imported name": "from course_utils.graphcut.flow_network import pymaxflow_max_flow\n"
                     "def answer(c, s, t):\n    return pymaxflow_max_flow(c, s, t)\n",
    "module attribute": "from course_utils.graphcut import flow_network\n"
                        "def answer(c, s, t):\n    return flow_network.pymaxflow_max_flow(c, s, t)\n",
    "import inside": "def answer(c, s, t):\n    from course_utils.graphcut.flow_network import pymaxflow_max_flow as f\n"
                     "    return f(c, s, t)\n",
    "package import inside": "def answer(c, s, t):\n    import maxflow\n    g = maxflow.Graph[float]()\n    return 0.0\n",
    "package via importlib": "import importlib\ndef answer(c, s, t):\n"
                             "    return importlib.import_module('maxflow').Graph[float]()\n",
    "closure": "from course_utils.graphcut.flow_network import pymaxflow_max_flow\n"
               "def make():\n    f = pymaxflow_max_flow\n    def answer(c, s, t):\n        return f(c, s, t)\n"
               "    return answer\nanswer = make()\ndel pymaxflow_max_flow\n",
    "default argument": "from course_utils.graphcut.flow_network import pymaxflow_max_flow as _f\n"
                        "def answer(c, s, t, solver=_f):\n    return solver(c, s, t)\ndel _f\n",
    "helper function": "from course_utils.graphcut import flow_network\n"
                       "def helper(c, s, t):\n    return flow_network.pymaxflow_max_flow(c, s, t)\n"
                       "def answer(c, s, t):\n    return helper(c, s, t)\n",
    "class method": "from course_utils.graphcut.flow_network import pymaxflow_max_flow\n"
                    "class Solver:\n    def __init__(self, c):\n        self.c = c\n"
                    "    def run(self, s, t):\n        return pymaxflow_max_flow(self.c, s, t)\n"
                    "def answer(c, s, t):\n    return Solver(c).run(s, t)\n",
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_to_a_forbidden_function_trips_and_everything_is_restored(route):
    import sys

    import maxflow

    from course_utils.graphcut import flow_network

    original = flow_network.pymaxflow_max_flow
    ns = _notebook(ROUTES[route])
    before = dict(ns)
    run = guarded(ns["answer"], FORBID)
    with pytest.raises(Delegated, match="write it yourself: your answer calls (pymaxflow_max_flow|maxflow)"):
        run(CAPACITY.copy(), 0, 3)
    assert flow_network.pymaxflow_max_flow is original and sys.modules["maxflow"] is maxflow
    assert all(ns[k] is v for k, v in before.items()), "the notebook's namespace was not restored"
    answer = ns["answer"]
    for cell in answer.__closure__ or ():
        assert not getattr(cell.cell_contents, "__name__", "").startswith("tripwire")
    assert answer.__defaults__ in (None, before["answer"].__defaults__)
    assert original(CAPACITY.copy(), 0, 3)[0] == pytest.approx(5.0)  # the reference works again


def test_a_class_answer_and_an_object_answer_are_guarded_through_their_methods():
    import torch
    from torch import nn

    forbid = ["torch.nn.functional:conv_transpose2d", "torch.nn:ConvTranspose2d"]
    ns = _notebook(
        "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
        "class Up(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.w = nn.Parameter(torch.ones(1, 1, 2, 2))\n"
        "    def forward(self, x):\n        return F.conv_transpose2d(x, self.w, stride=2)\n"
        "class Layer(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.up = nn.ConvTranspose2d(1, 1, 2, stride=2)\n"
        "    def forward(self, x):\n        return self.up(x)\n"
        "class Mine(nn.Module):\n    def forward(self, x):\n        return x.repeat_interleave(2, -1).repeat_interleave(2, -2)\n")
    x = torch.ones(1, 1, 2, 2)
    up = guarded(ns["Up"], forbid)
    module = up()  # construction is fine: it does not touch anything forbidden
    assert isinstance(module, nn.Module) and isinstance(module, ns["Up"])
    with pytest.raises(Delegated, match="conv_transpose2d"):
        module(x)
    with pytest.raises(Delegated, match="ConvTranspose2d"):
        guarded(ns["Layer"], forbid)()
    layer = ns["Layer"]()  # an object built outside the guard: its calls are guarded
    obj = guarded(layer, forbid)
    assert isinstance(obj, nn.Module) and obj.up is layer.up
    with pytest.raises(Delegated, match="conv_transpose2d"):
        obj(x)
    assert guarded(ns["Mine"], forbid)()(x).shape == (1, 1, 4, 4)
    assert torch.nn.functional.conv_transpose2d(x, torch.ones(1, 1, 2, 2), stride=2).shape == (1, 1, 4, 4)
    assert isinstance(layer.up, nn.ConvTranspose2d)  # the real class is back


def test_a_forbidden_class_keeps_isinstance_working_while_guarded():
    from torch import nn

    conv = nn.ConvTranspose2d(1, 1, 2)

    def answer():
        return isinstance(conv, nn.ConvTranspose2d)

    assert guarded(answer, ["torch.nn:ConvTranspose2d"])() is True


def test_swallowing_the_guard_still_fails_and_a_crash_restores_everything():
    from course_utils.graphcut import flow_network

    original = flow_network.pymaxflow_max_flow

    def swallows_everything(capacity, source, sink):
        try:
            return flow_network.pymaxflow_max_flow(capacity, source, sink)
        except BaseException:  # noqa: BLE001 - what a determined student might write
            from course_utils.exercises.lesson02 import _augment, _bfs_parents

            flow, residual = _augment(capacity, source, sink)
            return flow, _bfs_parents(residual, source) >= 0

    result = run_check("02.max_flow", swallows_everything)
    assert result.status == INCORRECT and "write it yourself" in result.message, result

    def crashes(capacity, source, sink):
        raise ValueError("boom")

    result = run_check("02.max_flow", crashes)
    assert result.status == INCORRECT and "ValueError" in result.message
    assert flow_network.pymaxflow_max_flow is original


def test_the_loaded_modules_are_scanned_once_per_check():
    from course_utils.exercises.guard import Guard

    guard = Guard(FORBID)
    ns = _notebook("def answer(c, s, t):\n    return 1\n")
    run = guarded(ns["answer"], guard)
    run(CAPACITY, 0, 3)
    places = guard._module_places
    assert places is not None and any(p[0][2] == "pymaxflow_max_flow" for p in places)
    run(CAPACITY, 0, 3)
    assert guard._module_places is places, "the loaded modules were scanned again"


def test_a_closure_answer_is_rejected_by_the_check():
    ns = _notebook(ROUTES["closure"])
    result = run_check("02.max_flow", ns["answer"])
    assert result.status == INCORRECT and result.message == "write it yourself: your answer calls pymaxflow_max_flow"
