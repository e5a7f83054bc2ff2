"""Every exercise: the solution passes, the stub is 'not attempted' with its hint, wrong answers fail."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from course_utils.exercises import all_exercises, run_check
from course_utils.exercises.core import CORRECT, INCORRECT, NOT_ATTEMPTED
from course_utils.exercises.notebook import BEGIN, END, find_exercise_cells, make_stub_source
from tests.notebook_utils import NOTEBOOKS, ROOT, exec_cell, read, setup_source

EXERCISES = all_exercises()
CELLS = [(path, cell) for path in NOTEBOOKS for cell in find_exercise_cells(read(path), path)]


def _id(item):
    path, cell = item
    return f"{path.stem}:{cell.exercise_id}"


def test_every_exercise_is_in_exactly_one_notebook_and_registered():
    ids = [cell.exercise_id for _, cell in CELLS]
    assert len(ids) == len(set(ids)), f"an exercise id is used twice: {ids}"
    assert set(ids) == set(EXERCISES), (
        f"registered but in no notebook: {sorted(set(EXERCISES) - set(ids))}; "
        f"in a notebook but not registered: {sorted(set(ids) - set(EXERCISES))}"
    )
    for path, cell in CELLS:
        assert cell.exercise_id.split(".")[0] == path.name[:2], f"{cell.exercise_id} lives in {path.name}"


@pytest.mark.parametrize("item", CELLS, ids=_id)
def test_solution_passes(item):
    path, cell = item
    ns = exec_cell(setup_source(read(path)), cell.source)
    result = run_check(cell.exercise_id, ns[cell.func_name])
    assert result.status == CORRECT, str(result)


@pytest.mark.parametrize("item", CELLS, ids=_id)
def test_stub_is_not_attempted_with_hint(item):
    path, cell = item
    hint = EXERCISES[cell.exercise_id].hint
    stub = make_stub_source(cell.source, hint, cell.exercise_id)
    assert BEGIN not in stub and END not in stub and "NotImplementedError" in stub
    ns = exec_cell(setup_source(read(path)), stub)
    result = run_check(cell.exercise_id, ns[cell.func_name])
    assert result.status == NOT_ATTEMPTED, str(result)
    assert hint in result.message


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_typical_wrong_answers_fail_with_a_reason(exercise_id):
    ex = EXERCISES[exercise_id]
    assert len(ex.wrong_answers) >= 2
    for wrong in ex.wrong_answers:
        result = run_check(exercise_id, wrong)
        assert result.status == INCORRECT, f"{wrong.__name__}: {result}"
        assert len(result.message) > 10 and "Traceback" not in result.message


def test_check_explains_crashes_and_non_functions():
    any_id = next(iter(EXERCISES))
    result = run_check(any_id, 42)
    assert result.status == INCORRECT and "function" in result.message

    def crash(*args, **kwargs):
        raise ZeroDivisionError("boom")

    result = run_check(any_id, crash)
    assert result.status == INCORRECT and "ZeroDivisionError" in result.message
    with pytest.raises(KeyError, match="unknown"):
        run_check("99.nope", crash)


def test_stub_markers_must_balance():
    with pytest.raises(ValueError, match="without"):
        make_stub_source(f"def f():\n    {BEGIN}\n    return 1\n", "h", "00.x")
    with pytest.raises(ValueError, match="without"):
        make_stub_source(f"def f():\n    {END}\n", "h", "00.x")


def test_student_command_writes_stubbed_notebooks(tmp_path):
    out = tmp_path / "student"
    proc = subprocess.run([sys.executable, "-m", "course_utils.exercises", "student", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    written = sorted(out.glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    for instructor, student in zip(NOTEBOOKS, written):
        nb = json.loads(student.read_text())
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in nb["cells"]]
        text = "\n".join(sources)
        assert BEGIN not in text and END not in text
        for cell in find_exercise_cells(read(instructor), instructor):
            solution = cell.source.split(BEGIN)[1].split(END)[0].strip()
            assert solution not in text, f"{student.name} leaks the solution of {cell.exercise_id}"
            assert f"Exercise {cell.exercise_id}:" in text
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                assert c["outputs"] == [] and c["execution_count"] is None
    # Running it again replaces its own files, but never a file it did not write.
    foreign = out / NOTEBOOKS[0].name
    foreign.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    proc = subprocess.run([sys.executable, "-m", "course_utils.exercises", "student", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "not a student notebook" in proc.stderr
    assert json.loads(foreign.read_text())["cells"] == []


def test_student_lesson0_runs_to_its_exercise_and_says_not_attempted(tmp_path):
    """The generated lesson-0 notebook executes; its check prints the hint instead of a solution."""
    from nbclient import NotebookClient

    out = tmp_path / "student"
    subprocess.run([sys.executable, "-m", "course_utils.exercises", "student", "--out", str(out),
                    str(NOTEBOOKS[0])], cwd=ROOT, check=True, capture_output=True)
    nb = read(out / NOTEBOOKS[0].name)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "⏳ Not attempted" in outputs and "Hint:" in outputs
    assert "✅ Correct" not in outputs
