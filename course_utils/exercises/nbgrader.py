"""Grading the lessons in class with nbgrader (0.9.x): cell metadata, autograded test cells, the course folder.

Three things make an instructor notebook an nbgrader source notebook (:func:`stamp_notebook`):

* each exercise cell (the one with ``### BEGIN SOLUTION`` / ``### END SOLUTION``) becomes a
  solution cell (``solution: true``, ``grade: false``, ``locked: false``);
* right after it stands an autograded test cell, locked, worth :data:`DEFAULT_POINTS` points
  (points an instructor set by hand are kept), that runs ``grade("NN.name", function)``: silent
  when the answer is correct, ``AssertionError`` with the plain-words reason otherwise, so the
  notebook's outputs stay the same when it runs with the solutions (nbval);
* every other cell is read-only (``locked: true``).

Stamping is idempotent: a second run changes nothing. ``python -m course_utils.exercises
nbgrader-metadata notebooks/*.ipynb`` stamps the instructor notebooks in place (re-execute them
afterwards: the test cells are new code cells).

:func:`build_course` (``make assignments``) writes an nbgrader course folder::

    build/nbgrader/
        nbgrader_config.py              course id, execution timeout, the student stub
        source/<lesson>/<lesson>.ipynb  the stamped instructor notebook
        release/<lesson>/<lesson>.ipynb nbgrader generate_assignment: solutions cleared
        gradebook.db                    nbgrader's SQLite gradebook (created by nbgrader)

and runs ``nbgrader generate_assignment`` for every lesson. It claims the folder with a marker
(``.segcourse-nbgrader``, which records a hash of each file it wrote) and never overwrites a file
someone else changed: an instructor's edited source notebook or config is refused or kept, and the
gradebook, ``submitted/``, ``autograded/`` and ``feedback/`` are nbgrader's to write.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from course_utils.exercises.core import label
from course_utils.exercises.notebook import find_exercise_cells

__all__ = [
    "DEFAULT_POINTS",
    "MARKER",
    "SCHEMA_VERSION",
    "build_course",
    "nbgrader_available",
    "stamp_file",
    "stamp_notebook",
    "autograder_source",
]

SCHEMA_VERSION = 3  # nbgrader 0.9's cell metadata schema
DEFAULT_POINTS = 1
MARKER = ".segcourse-nbgrader"
COURSE_ID = "segcourse"
_TEST_PREFIX = "test_"


def nbgrader_available() -> bool:
    """Whether nbgrader can be imported (``make install`` installs it with the dev extra)."""
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        return False
    return True


def _slug(exercise_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", exercise_id)


def autograder_source(exercise_id: str, func_name: str) -> str:
    """The source of the autograded test cell of ``exercise_id`` checking the function ``func_name``."""
    return (f"# Autograded test of {label(exercise_id)} (nbgrader): silent when your answer is correct.\n"
            "from course_utils.exercises import grade\n\n"
            f'grade("{exercise_id}", {func_name})')


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: int | float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points if points is not None else DEFAULT_POINTS
    return meta


def _is_our_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution") \
        and str(meta.get("grade_id", "")).startswith(_TEST_PREFIX)


def stamp_notebook(nb, path: Path | str = "<notebook>"):
    """A copy of ``nb`` with nbgrader's cell metadata and an autograded test cell after each exercise.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        An instructor notebook (v4). It is not modified.
    path : Path or str
        Its name, for messages.

    Returns
    -------
    nbformat.NotebookNode
        The stamped notebook. Stamping it again returns an equal notebook.
    """
    from nbformat.v4 import new_code_cell

    exercises = {ec.cell_index: ec for ec in find_exercise_cells(nb, path)}
    old_tests = {cell["metadata"]["nbgrader"]["grade_id"]: cell for cell in nb["cells"] if _is_our_test_cell(cell)}
    cells = []
    used_ids: set[str] = set()
    for index, cell in enumerate(nb["cells"]):
        if _is_our_test_cell(cell):
            continue  # put back (or dropped) right after its exercise below
        cell = copy.deepcopy(cell)
        if index in exercises:
            ec = exercises[index]
            cell.setdefault("metadata", {})["nbgrader"] = _meta(f"ex_{_slug(ec.exercise_id)}", solution=True)
            cells.append(cell)
            test_id = f"{_TEST_PREFIX}{_slug(ec.exercise_id)}"
            old = old_tests.get(test_id)
            points = old["metadata"]["nbgrader"].get("points") if old is not None else None
            test = new_code_cell(autograder_source(ec.exercise_id, ec.func_name))
            test["id"] = f"grade-{_slug(ec.exercise_id)}".replace("_", "-")[:64]
            test["metadata"] = {"nbgrader": _meta(test_id, grade=True, locked=True, points=points)}
            if old is not None:  # keep what executing the notebook stored (an empty output, its count)
                test["outputs"] = old.get("outputs", [])
                test["execution_count"] = old.get("execution_count")
                for key, value in old.get("metadata", {}).items():
                    if key != "nbgrader":
                        test["metadata"][key] = value
            cells.append(test)
            used_ids.add(test_id)
            continue
        meta = cell.setdefault("metadata", {})
        existing = meta.get("nbgrader", {})
        grade_id = existing.get("grade_id") or f"cell_{cell.get('id') or index}"
        if existing.get("solution") or existing.get("grade"):  # an exercise cell that lost its markers
            grade_id = f"cell_{cell.get('id') or index}"
        meta["nbgrader"] = _meta(str(grade_id), locked=True)
        cells.append(cell)
    stamped = copy.deepcopy(nb)
    stamped["cells"] = cells
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in cells]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"{path}: nbgrader grade ids {dup} are used twice; give those cells distinct ids")
    return stamped


def _text(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def stamp_file(path: Path | str) -> bool:
    """Stamp the notebook at ``path`` in place (:func:`stamp_notebook`); True if it changed.

    The file is rewritten only when stamping changes it, atomically.
    """
    import nbformat

    from course_utils.cli import write_text_atomic

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook {path} does not exist")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several kinds (NotJSONError, ValidationError, ...)
        raise ValueError(f"notebook {path} cannot be read ({type(err).__name__}); is it truncated?") from err
    new = _text(stamp_notebook(nb, path))
    if new == _text(nb):
        return False
    write_text_atomic(path, new)
    return True


# ---------------------------------------------------------------- the course folder
_CONFIG = '''# nbgrader configuration of the segcourse course folder (written by `make assignments`).
# Edit it freely: `make assignments` keeps a changed file as it is.
c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "{course_id}"
c.CourseDirectory.root = "."
# Lessons run in quick mode on a CPU in minutes; one cell may take a while (training demos).
c.Execute.timeout = 900
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
'''


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _claim(out_dir: Path) -> dict:
    """Create or reclaim ``out_dir``; the manifest of files we wrote. Refuses a foreign non-empty folder."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"out_dir {out_dir} exists and is not a folder")
    marker = out_dir / MARKER
    if out_dir.is_dir() and not marker.is_file() and any(out_dir.iterdir()):
        raise FileExistsError(f"out_dir {out_dir} is not empty and was not written by `assignments`; refusing to "
                              "write an nbgrader course into it: choose another --out or an empty folder")
    manifest: dict = {"written_by": "python -m course_utils.exercises assignments", "files": {}}
    if marker.is_file():
        try:
            manifest = json.loads(marker.read_text(encoding="utf-8"))
            manifest.setdefault("files", {})
        except ValueError as err:
            raise ValueError(f"{marker} is damaged ({err}); it records which files this command wrote: "
                             "restore it or choose another --out") from err
    out_dir.mkdir(parents=True, exist_ok=True)
    return manifest


def _write_claimed(out_dir: Path, rel: str, data: bytes, manifest: dict, *, keep_edited: bool) -> str:
    """Write ``out_dir/rel`` unless someone changed the file we wrote; returns what happened."""
    from course_utils.cli import write_bytes_atomic

    target = out_dir / rel
    if target.exists():
        current = _sha(target.read_bytes()) if target.is_file() else None
        if current == _sha(data):
            manifest["files"][rel] = current
            return "unchanged"
        if current is None or manifest["files"].get(rel) != current:
            if keep_edited:
                return "kept (edited since it was written)"
            raise FileExistsError(f"{target} was changed since `assignments` wrote it (or was not written by it); "
                                  "refusing to overwrite it: move it away and run again")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, data)
    manifest["files"][rel] = _sha(data)
    return "wrote"


def _nbgrader(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # nbgrader runs the `alembic` command of its own environment (the gradebook's migrations)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)


def build_course(notebooks: Sequence[Path], out_dir: Path, *, release: bool = True) -> list[str]:
    """Write an nbgrader course folder for ``notebooks`` into ``out_dir`` and release each lesson.

    Parameters
    ----------
    notebooks : sequence of Path
        Instructor notebooks; each becomes the assignment named after its stem
        (``source/02_graph_cuts/02_graph_cuts.ipynb``), stamped by :func:`stamp_notebook`.
    out_dir : Path
        The course folder (``build/nbgrader``), claimed with :data:`MARKER`.
    release : bool
        Run ``nbgrader generate_assignment`` for each lesson (into ``release/``).

    Returns
    -------
    list of str
        One line per file or step, for the command's output.

    Raises
    ------
    RuntimeError
        If ``nbgrader generate_assignment`` fails (its last lines are in the message).
    """
    import nbformat

    from course_utils.cli import write_text_atomic

    notebooks = [Path(p) for p in notebooks]
    if not notebooks:
        raise ValueError("notebooks is empty: expected at least one lesson notebook")
    for path in notebooks:
        if not path.is_file():
            raise FileNotFoundError(f"notebook {path} does not exist")
    if release and not nbgrader_available():
        raise RuntimeError("nbgrader is not installed: `make install` installs it (pip install 'nbgrader>=0.9,<0.10')")
    out_dir = Path(out_dir)
    manifest = _claim(out_dir)
    lines = []
    try:
        state = _write_claimed(out_dir, "nbgrader_config.py", _CONFIG.format(course_id=COURSE_ID).encode(), manifest,
                               keep_edited=True)
        lines.append(f"{state} {out_dir / 'nbgrader_config.py'}")
        for path in notebooks:
            try:
                nb = nbformat.read(path, as_version=4)
            except Exception as err:  # nbformat raises several kinds
                raise ValueError(f"notebook {path} cannot be read ({type(err).__name__})") from err
            rel = f"source/{path.stem}/{path.stem}.ipynb"
            state = _write_claimed(out_dir, rel, _text(stamp_notebook(nb, path)).encode("utf-8"), manifest,
                                   keep_edited=False)
            lines.append(f"{state} {out_dir / rel}")
    finally:
        write_text_atomic(out_dir / MARKER, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    if release:
        for path in notebooks:
            done = _nbgrader(["generate_assignment", path.stem, "--force"], out_dir)
            if done.returncode != 0:
                tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
                raise RuntimeError(f"nbgrader generate_assignment {path.stem} failed in {out_dir}:\n{tail}")
            lines.append(f"released {out_dir / 'release' / path.stem / (path.stem + '.ipynb')}")
    return lines
