"""Exercises and their checks: three outcomes and plain-words reasons.

An exercise is a function the student writes in a notebook cell, between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` in the instructor notebook.
The cell ends with ``check("<id>", <function>)``, which calls the check
registered under ``<id>`` with the student's function and prints one of:

* not attempted (the stub still raises ``NotImplementedError``; the hint is shown),
* incorrect, with the reason in plain words (wrong shape, values differ at ...),
* correct.

Every message names the exercise by its label, "Exercise 2.1 (max_flow)"
(:mod:`course_utils.exercises.numbering`). In a class graded with nbgrader, the
autograded test cell after each exercise calls :func:`grade`, which runs the same
check and raises ``AssertionError`` with the same reason unless the answer is correct.

Checks live in ``course_utils/exercises/lessonNN.py``, each with the typical
wrong answers it must reject kept beside it (``wrong_answers``); the test
suite proves that the solution passes, the stub is "not attempted", and each
wrong answer is "incorrect".
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.exercises.guard import Delegated, Guard, guarded
from course_utils.exercises.numbering import exercise_label

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOT_ATTEMPTED",
    "CheckResult",
    "Incorrect",
    "Exercise",
    "exercise",
    "run_check",
    "check",
    "grade",
    "label",
    "all_exercises",
]

CORRECT = "correct"
INCORRECT = "incorrect"
NOT_ATTEMPTED = "not attempted"


class Incorrect(Exception):
    """Raised by a check with the plain-words reason the answer is wrong."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``status`` is one of correct / incorrect / not attempted."""

    exercise_id: str
    status: str
    message: str

    @property
    def label(self) -> str:
        """The exercise's label, ``"Exercise 2.1 (max_flow)"``."""
        return label(self.exercise_id)

    def __str__(self) -> str:
        icon = {CORRECT: "✅ Correct", INCORRECT: "❌ Not yet", NOT_ATTEMPTED: "⏳ Not attempted"}[self.status]
        return f"{icon} [{self.label}]: {self.message}"


@dataclass(frozen=True)
class Exercise:
    """One exercise: its id, the check, a hint that does not give the answer away, wrong answers."""

    exercise_id: str
    check: Callable[[object], None]
    hint: str
    wrong_answers: Sequence[Callable] = field(default_factory=tuple)
    success: str = "well done."
    forbidden: Sequence[str] = field(default_factory=tuple)
    delegating: Sequence[Callable] = field(default_factory=tuple)


_REGISTRY: dict[str, Exercise] = {}


def exercise(exercise_id: str, *, hint: str, wrong_answers: Sequence[Callable] = (),
             success: str = "well done.", forbidden: Sequence[str] = (),
             delegating: Sequence[Callable] = ()) -> Callable:
    """Decorator registering ``check(answer) -> None`` (raising :class:`Incorrect`) as an exercise.

    Parameters
    ----------
    exercise_id : str
        ``"NN.name"``: the lesson number and a short name, e.g. ``"00.colorize"``.
    hint : str
        Shown when the student has not attempted it yet (the stub's message).
    wrong_answers : sequence of callables
        Typical mistakes that the check must reject (tested).
    forbidden : sequence of str
        What the answer must not call while it runs (:mod:`course_utils.exercises.guard`): the
        library's own implementation and the reference packages, as ``"module:attribute"`` or
        ``"module"``. An answer that reaches one is incorrect ("write it yourself: ...").
    delegating : sequence of callables
        Answers that call a forbidden implementation instead of writing the algorithm, in different
        forms (an imported name, a module attribute, an import inside the function); the tests prove
        each is rejected. Required (at least two) when ``forbidden`` is given.
    """
    if not isinstance(exercise_id, str) or re.fullmatch(r"\d\d\.[A-Za-z_]\w*", exercise_id) is None:
        raise ValueError(f"exercise_id must look like 'NN.name' (two digits, a dot, a Python name), got {exercise_id!r}")
    if len(wrong_answers) < 2:
        raise ValueError(f"exercise {exercise_id!r}: keep at least two typical wrong answers beside it")

    if forbidden and len(delegating) < 2:
        raise ValueError(f"exercise {exercise_id!r}: keep at least two delegating answers beside its forbidden list")

    def register(check_fn: Callable[[object], None]) -> Callable[[object], None]:
        if exercise_id in _REGISTRY and _REGISTRY[exercise_id].check.__qualname__ != check_fn.__qualname__:
            raise ValueError(f"exercise id {exercise_id!r} is registered twice")
        _REGISTRY[exercise_id] = Exercise(exercise_id, check_fn, hint, tuple(wrong_answers), success,
                                          tuple(forbidden), tuple(delegating))
        return check_fn

    return register


def all_exercises() -> dict[str, Exercise]:
    """Every registered exercise, importing each ``lessonNN`` module of this package first."""
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("lesson"):
            importlib.import_module(f"{__package__}.{info.name}")
    return dict(sorted(_REGISTRY.items()))


def _get(exercise_id: str) -> Exercise:
    exercises = _REGISTRY if exercise_id in _REGISTRY else all_exercises()
    if exercise_id not in exercises:
        raise KeyError(f"exercise_id={exercise_id!r} is unknown; known: {', '.join(exercises)}")
    return exercises[exercise_id]


def label(exercise_id: str) -> str:
    """The label of ``exercise_id`` everywhere: ``"Exercise 2.1 (max_flow)"`` (lesson 2, its first exercise)."""
    return exercise_label(exercise_id, registered=list(_REGISTRY))


def run_check(exercise_id: str, answer: object) -> CheckResult:
    """Run the check of ``exercise_id`` on ``answer`` and return the :class:`CheckResult`.

    The answer runs under the exercise's guard (:mod:`course_utils.exercises.guard`): an answer
    that reaches a forbidden implementation is incorrect, even if it swallowed the guard's signal
    or the check stopped at another mistake first.
    """
    ex = _get(exercise_id)
    guard = Guard(tuple(ex.forbidden))
    try:
        ex.check(guarded(answer, guard))
    except Delegated as err:
        return CheckResult(exercise_id, INCORRECT, str(err))
    except NotImplementedError:
        return CheckResult(exercise_id, NOT_ATTEMPTED, f"replace the `raise NotImplementedError` line. Hint: {ex.hint}")
    except Incorrect as err:
        return CheckResult(exercise_id, INCORRECT, str(err))
    except Exception as err:  # the student's code crashed: say where, in plain words
        if guard.touched:
            return CheckResult(exercise_id, INCORRECT, f"write it yourself: your answer calls {guard.touched[0]}")
        return CheckResult(exercise_id, INCORRECT, f"your code raised {type(err).__name__}: {err}")
    if guard.touched:  # the answer swallowed the guard's signal
        return CheckResult(exercise_id, INCORRECT, f"write it yourself: your answer calls {guard.touched[0]}")
    return CheckResult(exercise_id, CORRECT, ex.success)


def check(exercise_id: str, answer: object) -> None:
    """Check the student's ``answer`` to ``exercise_id`` and print the outcome (for notebooks)."""
    print(run_check(exercise_id, answer))


def grade(exercise_id: str, answer: object) -> None:
    """The autograded test of ``exercise_id`` (nbgrader): silent when correct, else ``AssertionError``.

    The error carries the same plain-words outcome :func:`check` prints (not attempted, or why the
    answer is wrong), so the feedback nbgrader writes tells the student what to fix.

    Raises
    ------
    AssertionError
        Unless the answer is correct.
    """
    result = run_check(exercise_id, answer)
    if result.status != CORRECT:
        raise AssertionError(str(result))
