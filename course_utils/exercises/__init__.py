"""The exercise system: markers in instructor notebooks, checks, student notebooks.

In a notebook::

    from course_utils.exercises import check
    ...
    check("00.colorize", colorize_labels)
"""

from course_utils.exercises.core import (
    CheckResult,
    Exercise,
    Incorrect,
    all_exercises,
    check,
    exercise,
    run_check,
)

__all__ = ["CheckResult", "Exercise", "Incorrect", "all_exercises", "check", "exercise", "run_check"]
