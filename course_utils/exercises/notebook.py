"""Finding exercises in instructor notebooks and writing the student versions.

Markers (nbgrader's syntax), inside a code cell::

    def colorize_labels(labels, palette):
        ### BEGIN SOLUTION
        return palette[labels]
        ### END SOLUTION

    check("00.colorize", colorize_labels)

In the student notebook the lines between the markers become a stub that
raises ``NotImplementedError`` with the exercise's label and hint; outputs are cleared,
and nbgrader's autograded test cells and cell metadata (:mod:`course_utils.exercises.nbgrader`)
are left out: self-study has the instant ``check`` instead.

A student notebook is the student's work once they edit it. Each one we write records a hash of
what we wrote (``metadata.segcourse_student.sha256``); writing the student notebooks again replaces
a notebook only while it still has that content, and otherwise writes the new version beside it
(``02_graph_cuts.new.ipynb``) and says so.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from course_utils.exercises.core import all_exercises, label
from course_utils.exercises.numbering import CHECK_CALL

__all__ = [
    "BEGIN",
    "END",
    "ExerciseCell",
    "WrittenNotebook",
    "content_hash",
    "find_exercise_cells",
    "is_autograder_cell",
    "make_stub_source",
    "student_notebook",
    "write_student_notebooks",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_CHECK_CALL = CHECK_CALL
STUDENT_KEY = "segcourse_student"  # notebook metadata of a student notebook we wrote


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
            message = f"{label(exercise_id)}: {hint}".replace("\\", "\\\\").replace('"', '\\"')
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


def is_autograder_cell(cell) -> bool:
    """Whether ``cell`` is an nbgrader autograded test cell (``grade`` true, ``solution`` false)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def student_notebook(nb, path: Path | str = "<notebook>"):
    """A copy of the instructor notebook ``nb`` with stubs for solutions and all outputs cleared.

    nbgrader's autograded test cells are left out and its cell metadata removed: the student
    notebook is for self-study, where each exercise cell's ``check`` answers at once.
    """

    exercises = all_exercises()
    student = copy.deepcopy(nb)
    stubs = {ec.cell_index: ec for ec in find_exercise_cells(nb, path)}
    cells = []
    for index, cell in enumerate(student["cells"]):
        if is_autograder_cell(cell):
            continue
        cell.get("metadata", {}).pop("nbgrader", None)
        cells.append(cell)
        if cell.get("cell_type") != "code":
            continue
        if index in stubs:
            ec = stubs[index]
            if ec.exercise_id not in exercises:
                raise KeyError(f"{path}, cell {index}: exercise {ec.exercise_id!r} has no registered check")
            cell["source"] = make_stub_source(ec.source, exercises[ec.exercise_id].hint, ec.exercise_id)
        cell["outputs"] = []
        cell["execution_count"] = None
    student["cells"] = cells
    return student


def content_hash(nb) -> str:
    """SHA-256 of what a student can change in ``nb``: each cell's type, source, outputs and execution count.

    Cell ids and metadata (which JupyterLab rewrites when it merely opens and saves a notebook) and
    the notebook's metadata are left out.
    """
    cells = []
    for cell in nb["cells"]:
        src = cell.get("source", "")
        cells.append([cell.get("cell_type"), "".join(src) if isinstance(src, list) else src,
                      cell.get("outputs", []), cell.get("execution_count")])
    return hashlib.sha256(json.dumps(cells, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WrittenNotebook:
    """Where a student notebook was written; ``kept`` is the edited notebook left alone beside it (or None)."""

    path: Path
    kept: Path | None = None

    def message(self) -> str:
        """One line for the command's output."""
        if self.kept is None:
            return f"wrote {self.path}"
        return (f"kept {self.kept}: it holds the student's edits; wrote the new version beside it: "
                f"{self.path} (copy your answers across, or delete {self.kept.name} and run again)")


def _ours_unedited(target: Path) -> bool | None:
    """For an existing ``target``: True if it is a student notebook we wrote and nobody edited since,
    False if it is ours but edited (or written before the hash was recorded), None if it is not ours.

    Raises
    ------
    FileExistsError
        If ``target`` is not a readable notebook (we never overwrite what we cannot read).
    """
    import nbformat

    try:
        old = nbformat.read(target, as_version=4)
    except Exception as err:  # nbformat raises several kinds for a damaged file
        raise FileExistsError(f"{target} exists and is not a readable notebook ({type(err).__name__}); "
                              "refusing to overwrite it: move it away or choose another --out") from err
    meta = old.metadata.get(STUDENT_KEY)
    if not meta:
        return None
    recorded = meta.get("sha256") if isinstance(meta, dict) else None
    return recorded is not None and recorded == content_hash(old)


def _beside(target: Path) -> Path:
    """The first ``NAME.new.ipynb``, ``NAME.new-2.ipynb``, ... that is free or an unedited notebook of ours."""
    stem = target.name[: -len(".ipynb")]
    for k in range(1, 1000):
        candidate = target.with_name(f"{stem}.new.ipynb" if k == 1 else f"{stem}.new-{k}.ipynb")
        if not candidate.exists():
            return candidate
        if candidate.is_file():
            try:
                if _ours_unedited(candidate):
                    return candidate
            except FileExistsError:
                continue
    raise FileExistsError(f"{target}: 999 copies stand beside it already; tidy the folder and run again")


def write_student_notebooks(notebooks: list[Path], out_dir: Path) -> list[WrittenNotebook]:
    """Write the student version of each instructor notebook into ``out_dir``.

    A notebook already in ``out_dir`` is replaced only if it is a student notebook we wrote and it
    still has the content we wrote (its recorded hash). A student notebook that was edited (or
    executed) is kept, and the new version goes beside it as ``NAME.new.ipynb``. Anything else there
    (a file this command did not write) is refused with an error, before any file is written.

    Returns
    -------
    list of WrittenNotebook
        One per notebook: the path written and, where one was kept, the edited notebook.
    """
    import nbformat

    out_dir = Path(out_dir)
    plans: list[tuple[Path, Path, Path | None]] = []
    for path in notebooks:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"notebook {path} does not exist")
        target = out_dir / path.name
        if target.resolve() == path.resolve():
            raise ValueError(f"out_dir {out_dir} is the instructor notebooks' folder: that would overwrite them")
        if target.is_dir():
            raise IsADirectoryError(f"{target} is a folder; refusing to write the student notebook there")
        kept = None
        if target.exists():
            state = _ours_unedited(target)
            if state is None:
                raise FileExistsError(f"{target} exists and is not a student notebook written by this command; "
                                      "move it away or choose another --out")
            if state is False:
                kept, target = target, _beside(target)
        plans.append((path, target, kept))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, target, kept in plans:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as err:  # nbformat raises several kinds (NotJSONError, ValidationError, KeyError, ...)
            raise ValueError(f"notebook {path} cannot be read ({type(err).__name__}); is it truncated or not a "
                             "notebook?") from err
        student = student_notebook(nb, path)
        student.metadata[STUDENT_KEY] = {"source": path.name, "sha256": content_hash(student)}
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            nbformat.write(student, tmp)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(WrittenNotebook(target, kept))
    return written
