"""The exercise system: markers in instructor notebooks, checks, student notebooks.

In a notebook::

    from course_utils.exercises import check
    ...
    check("00.colorize", colorize_labels)   # prints: ✅ Correct [Exercise 0.1 (colorize)]: ...

and, in a class graded with nbgrader, in the locked test cell after it::

    grade("00.colorize", colorize_labels)   # silent when correct, AssertionError otherwise
"""

from course_utils.exercises.core import (
    CheckResult,
    Exercise,
    Incorrect,
    all_exercises,
    check,
    exercise,
    grade,
    label,
    run_check,
)

__all__ = ["CheckResult", "Exercise", "Incorrect", "all_exercises", "check", "exercise", "grade", "label", "run_check"]
