"""One numbering for the exercises: "Exercise 2.1 (max_flow)" in the notebook, the checks, the handout and nbgrader.

An exercise's id is ``"NN.name"`` (lesson ``NN``, a short name). Its display number ``"N.k"`` is
derived, never typed: ``N`` is the lesson (without the leading zero) and ``k`` the position of the
exercise among the exercise cells of the lesson's notebook (``notebooks/NN_*.ipynb``), counted by
the ``check("NN.name", ...)`` calls in its code cells, top to bottom. The same calls stand in the
instructor notebook and in the student notebook written from it, so a student's copy of the
course numbers its exercises as the instructor's does. An exercise that no notebook names (a check
tried outside the course folder) is numbered by the order its lesson module registers it.

The notebooks' markdown names each exercise by its label before the exercise cell, in the form
``Exercise N.k (name)``; a test (``tests/test_exercises.py``) keeps the two in step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from course_utils.paths import repo_root

__all__ = ["CHECK_CALL", "exercise_label", "exercise_number", "lesson_exercise_ids", "split_id"]

#: A ``check("NN.name", function)`` call at the start of a line (the exercise cell's last statement).
CHECK_CALL = re.compile(r"""^\s*check\(\s*["']([\w.\-]+)["']\s*,\s*([A-Za-z_]\w*)""", re.MULTILINE)


def split_id(exercise_id: str) -> tuple[int, str]:
    """``"02.max_flow"`` -> ``(2, "max_flow")``; a ValueError naming ``exercise_id`` otherwise."""
    lesson, sep, name = str(exercise_id).partition(".")
    if not sep or not lesson.isdigit() or not name:
        raise ValueError(f"exercise_id must look like 'NN.name' (two digits, a dot, a name), got {exercise_id!r}")
    return int(lesson), name


def _cell_sources(path: Path) -> Iterable[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            yield "".join(src) if isinstance(src, list) else src


@lru_cache(maxsize=None)
def _ids_in_folder(folder: str, lesson: int) -> tuple[str, ...]:
    """The exercise ids of lesson ``lesson`` in notebook order, from ``folder/NN_*.ipynb``."""
    candidates = sorted(Path(folder).glob(f"{lesson:02d}_*.ipynb"))
    # the lesson itself first; a copy kept beside it (``02_graph_cuts.new.ipynb``) only if it is alone
    candidates.sort(key=lambda p: p.name.count("."))
    for path in candidates:
        try:
            ids: list[str] = []
            for src in _cell_sources(path):
                for exercise_id, _ in CHECK_CALL.findall(src):
                    if exercise_id not in ids:
                        ids.append(exercise_id)
        except (OSError, ValueError):  # unreadable or not a notebook: try the next one
            continue
        if ids:
            return tuple(ids)
    return ()


def lesson_exercise_ids(lesson: int, folder: Path | str | None = None) -> tuple[str, ...]:
    """The ids of lesson ``lesson``'s exercises in the order its notebook sets them.

    Parameters
    ----------
    lesson : int
        The lesson number (``2`` for ``02_graph_cuts.ipynb``).
    folder : Path, optional
        The notebooks' folder (default ``<course>/notebooks``). The result is cached per folder.
    """
    folder = Path(folder) if folder is not None else repo_root() / "notebooks"
    return _ids_in_folder(str(folder.resolve()), int(lesson))


def exercise_number(exercise_id: str, folder: Path | str | None = None, registered: Sequence[str] = ()) -> str:
    """The display number ``"N.k"`` of ``exercise_id`` (``"02.max_flow"`` -> ``"2.1"``).

    ``k`` is the exercise's position in its lesson's notebook; an exercise no notebook holds is
    numbered by its place in ``registered`` (the registration order), after those the notebook holds.
    """
    lesson, _ = split_id(exercise_id)
    ids = list(lesson_exercise_ids(lesson, folder))
    if exercise_id not in ids:
        ids += [i for i in registered if i.startswith(f"{lesson:02d}.") and i not in ids]
    if exercise_id not in ids:
        ids.append(exercise_id)
    return f"{lesson}.{ids.index(exercise_id) + 1}"


def exercise_label(exercise_id: str, folder: Path | str | None = None, registered: Sequence[str] = ()) -> str:
    """The label every place shows: ``"Exercise 2.1 (max_flow)"`` (arguments as :func:`exercise_number`)."""
    _, name = split_id(exercise_id)
    return f"Exercise {exercise_number(exercise_id, folder, registered)} ({name})"
