"""Grading a lesson in class with the real nbgrader: metadata stamping, release, autograde of three submissions.

The lesson graded is 02_graph_cuts (small, and it holds an exercise with registered delegating
answers); the instructor notebook is copied into a temporary folder and stamped there, never in
place.
"""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from course_utils.exercises import all_exercises
from course_utils.exercises.nbgrader import (MARKER, build_course, nbgrader_available, stamp_file, stamp_notebook,
                                             autograder_source)
from course_utils.exercises.notebook import find_exercise_cells, is_autograder_cell, student_notebook
from tests.notebook_utils import NOTEBOOKS, ROOT, read

pytestmark = pytest.mark.skipif(not nbgrader_available(),
                                reason="nbgrader is not installed (make install installs it with the dev extra)")

LESSON = ROOT / "notebooks" / "02_graph_cuts.ipynb"
EXERCISES = all_exercises()


# --- the metadata -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stamping_marks_solution_test_and_read_only_cells_and_is_idempotent(path, tmp_path):
    from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())
    assert stamp_file(copy) is False, f"{path.name} is committed without its nbgrader metadata: stamp it"
    # from the notebook without any nbgrader metadata or test cells, stamping gives the committed one back
    bare = nbformat.read(copy, as_version=4)
    bare.cells = [c for c in bare.cells if not is_autograder_cell(c)]
    for cell in bare.cells:
        cell.metadata.pop("nbgrader", None)
    nbformat.write(bare, copy)
    assert stamp_file(copy) is True
    once = copy.read_bytes()
    assert stamp_file(copy) is False and copy.read_bytes() == once, "a second run changed the notebook"
    nb = nbformat.read(copy, as_version=4)
    nbformat.validate(nb)
    MetadataValidatorV3().validate_nb(nb)  # nbgrader's own check: grade ids, points, unique ids
    exercises = find_exercise_cells(nb, copy)
    assert [e.exercise_id for e in exercises] == [e.exercise_id for e in find_exercise_cells(read(path), path)]
    for ec in exercises:
        meta = nb.cells[ec.cell_index].metadata["nbgrader"]
        assert meta["solution"] and not meta["grade"] and not meta["locked"]
        test = nb.cells[ec.cell_index + 1]
        assert is_autograder_cell(test) and test.metadata["nbgrader"]["locked"]
        assert test.metadata["nbgrader"]["points"] > 0
        assert test.source == autograder_source(ec.exercise_id, ec.func_name)
        assert test.outputs == []  # silent when the solution is correct: nbval compares no output
    exercise_cells = {ec.cell_index for ec in exercises}
    for index, cell in enumerate(nb.cells):
        if index not in exercise_cells and not is_autograder_cell(cell):
            assert cell.metadata["nbgrader"]["locked"] and not cell.metadata["nbgrader"]["solution"]
    # every other cell keeps its source, outputs and order
    original = [c for c in read(path).cells if not is_autograder_cell(c)]
    kept = [c for c in nb.cells if not is_autograder_cell(c)]
    assert [(c.source, c.get("outputs")) for c in kept] == [(c.source, c.get("outputs")) for c in original]
    # the student notebook leaves nbgrader out
    student = student_notebook(nb, copy)
    assert not any(is_autograder_cell(c) or "nbgrader" in c.metadata for c in student.cells)
    assert len(student.cells) == len(original)


def test_stamping_keeps_points_an_instructor_set():
    nb = stamp_notebook(read(LESSON), LESSON)
    test = next(c for c in nb.cells if is_autograder_cell(c))
    test.metadata["nbgrader"]["points"] = 7
    again = stamp_notebook(nb, LESSON)
    assert next(c for c in again.cells if is_autograder_cell(c)).metadata["nbgrader"]["points"] == 7
    assert sum(is_autograder_cell(c) for c in again.cells) == len(find_exercise_cells(nb, LESSON))


def test_the_test_cell_is_silent_when_correct_and_explains_otherwise():
    from course_utils.exercises import grade
    from course_utils.exercises.lesson02 import _augment, _bfs_parents

    def max_flow(capacity, source, sink):
        flow, residual = _augment(capacity, source, sink)
        return flow, _bfs_parents(residual, source) >= 0

    assert grade("02.max_flow", max_flow) is None
    with pytest.raises(AssertionError, match=r"Exercise 2\.\d \(max_flow\).*write it yourself"):
        grade("02.max_flow", EXERCISES["02.max_flow"].delegating[0])

    def stub(capacity, source, sink):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="Not attempted"):
        grade("02.max_flow", stub)


# --- the real nbgrader: release and autograde ---------------------------------------------------

def _nbgrader(course, *args, timeout: float = 150, tries: int = 4):
    """Run ``nbgrader ARGS`` in ``course``; on a hang, kill it (its kernels follow) and run it again.

    Lesson 2's three submissions autograde in well under a minute. Once in many runs, on a loaded
    machine, nbgrader and its kernel were seen idle, each waiting for the other's message, until the
    timeout: that is a jupyter start-up race, not a verdict on the notebooks, so it gets more tries
    (``autograde --force`` starts over); it once hung twice in a row on a quiet machine, so four tries
    of 150 s (the same 10 min at most). A hang on every try, or any failure, fails the test.
    """
    import os
    import signal

    env = dict(os.environ, PATH=os.pathsep.join([str(sys.executable).rsplit("/", 1)[0], os.environ.get("PATH", "")]))
    for attempt in range(1, tries + 1):
        proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=course, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # nbgrader; its kernels exit when their parent is gone
            out, err = proc.communicate()
            if attempt < tries:
                continue
            raise AssertionError(f"nbgrader {' '.join(args)} hung {tries} times ({timeout} s each):\n"
                                 + (out or "")[-3000:] + (err or "")[-3000:]) from None
        assert proc.returncode == 0, (out or "")[-3000:] + (err or "")[-3000:]
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _delegating_submission(source_nb, exercise_id: str):
    """The instructor solutions, except that ``exercise_id``'s answer is a registered delegating answer."""
    nb = nbformat.from_dict(json.loads(json.dumps(source_nb)))
    delegating = EXERCISES[exercise_id].delegating[0]
    module = delegating.__module__
    for ec in find_exercise_cells(nb):
        if ec.exercise_id == exercise_id:
            lines = ec.source.splitlines()
            at = max(i for i, line in enumerate(lines) if line.lstrip().startswith("check("))
            lines.insert(at, f"from {module} import {delegating.__name__} as {ec.func_name}")
            nb.cells[ec.cell_index].source = "\n".join(lines)
            return nb
    raise AssertionError(f"{exercise_id} is not in the notebook")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One course folder, lesson 02 released, three submissions autograded in one nbgrader run."""
    course = tmp_path_factory.mktemp("course")
    lines = build_course([LESSON], course)
    assert any(line.startswith("released") for line in lines), lines
    lesson = LESSON.stem
    source = nbformat.read(course / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    released = course / "release" / lesson / f"{lesson}.ipynb"
    delegated = next(e.exercise_id for e in find_exercise_cells(source) if EXERCISES[e.exercise_id].delegating)
    submissions = {
        "released": nbformat.read(released, as_version=4),
        "solutions": source,
        "delegating": _delegating_submission(source, delegated),
    }
    for student, nb in submissions.items():
        folder = course / "submitted" / student / lesson
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{lesson}.ipynb")
    _nbgrader(course, "autograde", lesson, "--force")
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in submissions:
            submission = gb.find_submission(lesson, student)
            scores[student] = {g.name: (g.score, g.max_score) for g in submission.notebooks[0].grades}
    return course, lesson, delegated, scores, source


def test_release_clears_solutions_and_keeps_the_checks(graded):
    course, lesson, _, _, source = graded
    released = nbformat.read(course / "release" / lesson / f"{lesson}.ipynb", as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert "### BEGIN SOLUTION" not in text and "raise NotImplementedError()" in text
    for ec in find_exercise_cells(source):
        assert f'grade("{ec.exercise_id}", {ec.func_name})' in text
        assert f'check("{ec.exercise_id}", {ec.func_name})' in text
    assert json.loads((course / MARKER).read_text())["files"], "the course folder is not claimed"


def test_autograde_gives_nothing_for_the_unmodified_release(graded):
    _, _, _, scores, source = graded
    tests = [f"test_{ec.exercise_id.replace('.', '_')}" for ec in find_exercise_cells(source)]
    released = scores["released"]
    assert set(tests) <= set(released), released
    assert all(released[t][0] == 0 and released[t][1] > 0 for t in tests), released


def test_autograde_gives_full_points_for_the_solutions(graded):
    _, _, _, scores, _ = graded
    solutions = scores["solutions"]
    assert solutions and all(score == max_score and max_score > 0 for score, max_score in solutions.values()), solutions


def test_autograde_gives_nothing_for_a_delegating_answer_and_full_points_for_the_rest(graded):
    _, _, delegated, scores, _ = graded
    cell = f"test_{delegated.replace('.', '_')}"
    got = scores["delegating"]
    assert got[cell][0] == 0, got
    assert all(score == max_score for cid, (score, max_score) in got.items() if cid != cell), got
    assert len(got) >= 2, "the lesson needs a second exercise to show the rest keeps full points"


def test_rebuilding_keeps_the_course_and_refuses_an_edited_source(graded, tmp_path):
    course, lesson, _, _, _ = graded
    source = course / "source" / lesson / f"{lesson}.ipynb"
    build_course([LESSON], course, release=False)  # unchanged: fine
    source.write_text(source.read_text().replace("Autograded test", "Autograded check"))
    with pytest.raises(FileExistsError, match="changed since"):
        build_course([LESSON], course, release=False)
    assert "Autograded check" in source.read_text()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        build_course([LESSON], foreign, release=False)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_make_assignments_target_builds_every_lesson():
    makefile = (ROOT / "Makefile").read_text()
    target = makefile.split("\nassignments:", 1)[1].split("\n\n", 1)[0]
    assert "course_utils.exercises assignments" in target and "build/nbgrader" in target
