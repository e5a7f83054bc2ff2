"""Finding exercises in instructor notebooks and writing the student versions.

Markers (nbgrader's syntax), inside a code cell::

    def colorize_labels(labels, palette):
        ### BEGIN SOLUTION
        return palette[labels]
        ### END SOLUTION

    check("00.colorize", colorize_labels)

In the student notebook the lines between the markers become a stub that
raises ``NotImplementedError`` with the exercise's hint; outputs are cleared.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

from course_utils.exercises.core import all_exercises

__all__ = [
    "BEGIN",
    "END",
    "ExerciseCell",
    "find_exercise_cells",
    "make_stub_source",
    "student_notebook",
    "write_student_notebooks",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_CHECK_CALL = re.compile(r"""^\s*check\(\s*["']([\w.\-]+)["']\s*,\s*([A-Za-z_]\w*)""", re.MULTILINE)


@dataclass(frozen=True)
class ExerciseCell:
    """One exercise cell: where it is, its id, the name of the function it checks, its source."""

    notebook: Path
    cell_index: int
    exercise_id: str
    func_name: str
    source: str


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def find_exercise_cells(nb, path: Path | str = "<notebook>") -> list[ExerciseCell]:
    """The exercise cells of a notebook (a dict as nbformat reads it).

    Raises
    ------
    ValueError
        If a cell has markers but no (or several) ``check("id", func)`` calls, or
        unbalanced markers.
    """
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        src = _source(cell)
        begins, ends = src.count(BEGIN), src.count(END)
        if begins == 0 and ends == 0:
            continue
        where = f"{path}, cell {index}"
        if begins != ends:
            raise ValueError(f"{where}: {begins} '{BEGIN}' but {ends} '{END}' markers")
        calls = _CHECK_CALL.findall(src)
        if len(calls) != 1:
            raise ValueError(f"{where}: an exercise cell needs exactly one check(\"id\", function) call, found {len(calls)}")
        exercise_id, func_name = calls[0]
        found.append(ExerciseCell(Path(path), index, exercise_id, func_name, src))
    return found


def make_stub_source(source: str, hint: str, exercise_id: str) -> str:
    """Replace every solution region of ``source`` by a ``NotImplementedError`` stub with ``hint``."""
    out, inside = [], False
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"exercise {exercise_id}: nested '{BEGIN}'")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            message = f"Exercise {exercise_id}: {hint}".replace("\\", "\\\\").replace('"', '\\"')
            out.append(f"{indent}# YOUR CODE HERE\n")
            out.append(f'{indent}raise NotImplementedError("{message}")\n')
        elif stripped == END:
            if not inside:
                raise ValueError(f"exercise {exercise_id}: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"exercise {exercise_id}: '{BEGIN}' without '{END}'")
    return "".join(out)


def student_notebook(nb, path: Path | str = "<notebook>"):
    """A copy of the instructor notebook ``nb`` with stubs for solutions and all outputs cleared."""

    exercises = all_exercises()
    student = copy.deepcopy(nb)
    stubs = {ec.cell_index: ec for ec in find_exercise_cells(nb, path)}
    for index, cell in enumerate(student["cells"]):
        if cell.get("cell_type") != "code":
            continue
        if index in stubs:
            ec = stubs[index]
            if ec.exercise_id not in exercises:
                raise KeyError(f"{path}, cell {index}: exercise {ec.exercise_id!r} has no registered check")
            cell["source"] = make_stub_source(ec.source, exercises[ec.exercise_id].hint, ec.exercise_id)
        cell["outputs"] = []
        cell["execution_count"] = None
    return student


def write_student_notebooks(notebooks: list[Path], out_dir: Path) -> list[Path]:
    """Write the student version of each instructor notebook into ``out_dir``; returns the paths.

    An existing file in ``out_dir`` is replaced only if it is a student notebook
    we wrote before (it carries ``segcourse_student`` metadata); anything else
    there is left alone and reported as an error.
    """
    import nbformat

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"notebook {path} does not exist")
        target = out_dir / path.name
        if target.resolve() == path.resolve():
            raise ValueError(f"out_dir {out_dir} is the instructor notebooks' folder: that would overwrite them")
        if target.is_dir():
            raise IsADirectoryError(f"{target} is a folder; refusing to write the student notebook there")
        if target.exists():
            try:
                old = nbformat.read(target, as_version=4)
            except Exception as err:  # nbformat raises several kinds for a damaged file
                raise FileExistsError(f"{target} exists and is not a readable notebook ({type(err).__name__}); "
                                      "refusing to overwrite it: move it away or choose another --out") from err
            if not old.metadata.get("segcourse_student"):
                raise FileExistsError(f"{target} exists and is not a student notebook written by this command; "
                                      "move it away or choose another --out")
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as err:  # nbformat raises several kinds (NotJSONError, ValidationError, KeyError, ...)
            raise ValueError(f"notebook {path} cannot be read ({type(err).__name__}); is it truncated or not a "
                             "notebook?") from err
        student = student_notebook(nb, path)
        student.metadata["segcourse_student"] = {"source": path.name}
        tmp = target.with_suffix(".ipynb.tmp")
        try:
            nbformat.write(student, tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(target)
    return written
