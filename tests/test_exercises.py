"""Every exercise: the solution passes, the stub is 'not attempted' with its hint, wrong answers fail."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from course_utils.exercises import all_exercises, label, run_check
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


def _solution_lines(source: str) -> int:
    """Lines of code between the solution markers (blank lines and comments not counted)."""
    inside, count = False, 0
    for line in source.splitlines():
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside and line.strip() and not line.strip().startswith("#"):
            count += 1
    return count


def test_the_exercises_give_real_work_in_every_lesson():
    """At least 26 exercises, at most 5 with a solution under 3 lines, and in each lesson 1-8 one of 8+ lines."""
    lengths = {cell.exercise_id: _solution_lines(cell.source) for _, cell in CELLS}
    assert len(lengths) >= 26, f"{len(lengths)} exercises: {sorted(lengths)}"
    short = sorted(i for i, n in lengths.items() if n < 3)
    assert len(short) <= 5, f"{len(short)} exercises with a solution under 3 lines: {short}"
    for lesson in range(1, 9):
        longest = max((n for i, n in lengths.items() if int(i[:2]) == lesson), default=0)
        assert longest >= 8, f"lesson {lesson}: its longest solution has {longest} lines, expected 8 or more"


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
            assert f"{label(cell.exercise_id)}:" in text
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                assert c["outputs"] == [] and c["execution_count"] is None
    # Running it again replaces its own (unedited) files, but never a file it did not write.
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


# --- one numbering: "Exercise N.k (name)" ---------------------------------------------------------

def test_labels_number_each_lessons_exercises_in_notebook_order():
    for path in NOTEBOOKS:
        cells = find_exercise_cells(read(path), path)
        lesson = int(path.name[:2])
        for k, cell in enumerate(cells, start=1):
            name = cell.exercise_id.split(".", 1)[1]
            assert label(cell.exercise_id) == f"Exercise {lesson}.{k} ({name})"
    result = run_check(CELLS[0][1].exercise_id, 42)
    assert f"[{label(CELLS[0][1].exercise_id)}]" in str(result)


def _label_pattern(exercise_id: str):
    import re

    number, name = re.match(r"Exercise (\d+\.\d+) \((\w+)\)", label(exercise_id)).groups()
    return re.compile(rf"Exercise\s+{re.escape(number)}\s*\(\s*`?{re.escape(name)}`?\s*\)")


@pytest.mark.parametrize("item", CELLS, ids=_id)
def test_the_notebook_names_the_exercise_by_its_label_before_its_cell(item):
    """The markdown between the previous exercise cell and this one says "Exercise N.k (name)"."""
    path, cell = item
    nb = read(path)
    previous = [c.cell_index for _, c in CELLS if c.notebook == cell.notebook and c.cell_index < cell.cell_index]
    start = max(previous, default=-1) + 1
    markdown = [c.source for c in nb.cells[start:cell.cell_index] if c.cell_type == "markdown"]
    pattern = _label_pattern(cell.exercise_id)
    assert any(pattern.search(text) for text in markdown), (
        f"{path.name}: no markdown cell before cell {cell.cell_index} names the exercise "
        f"'{label(cell.exercise_id)}' (write it in its heading, e.g. '### {label(cell.exercise_id)}: ...')")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_other_exercise_numbering_in_the_notebook(path):
    """Every "Exercise N.k" the prose mentions is one of the lesson's labels; no "Exercise 01.name" style."""
    import re

    nb = read(path)
    lesson = int(path.name[:2])
    numbers = {label(c.exercise_id).split()[1] for c in find_exercise_cells(nb, path)}
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    old_style = re.findall(r"Exercise\s+\d\d\.\w+", text)
    assert not old_style, f"{path.name} uses exercise ids as numbers: {old_style}; write 'Exercise N.k (name)'"
    for number in re.findall(r"Exercise\s+(\d+\.\d+)", text):
        if int(number.split(".")[0]) == lesson:
            assert number in numbers, f"{path.name} mentions Exercise {number}, but its exercises are {sorted(numbers)}"


# --- no answer before its exercise ------------------------------------------------------------------

def _normal(line: str) -> str:
    return "".join(line.split())


def _key_lines(source: str) -> list[str]:
    """The solution's lines that give it away: between the markers, >= 15 characters, not a bare return."""
    import re

    region = source.split(BEGIN, 1)[1].split(END, 1)[0]
    keys = []
    for line in region.splitlines():
        text = " ".join(line.split())
        if len(text) < 15 or text.startswith("#"):
            continue
        if re.fullmatch(r"return [\w.]+(, [\w.]+)*", text):
            continue
        keys.append(_normal(text))
    return keys


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory):
    from course_utils.exercises.notebook import write_student_notebooks

    out = tmp_path_factory.mktemp("students")
    write_student_notebooks(NOTEBOOKS, out)
    return out


@pytest.mark.parametrize("item", CELLS, ids=_id)
def test_no_cell_before_an_exercise_shows_its_key_lines(item, student_folder):
    path, cell = item
    student = read(student_folder / path.name)
    call = f'check("{cell.exercise_id}"'
    at = next(i for i, c in enumerate(student.cells) if c.cell_type == "code" and call in c.source.replace("'", '"'))
    keys = _key_lines(cell.source)
    leaks = []
    for index, earlier in enumerate(student.cells[:at]):
        flat = _normal(earlier.source)
        leaks += [(index, key) for key in keys if key in flat]
    assert not leaks, (f"{path.name}: cells before {label(cell.exercise_id)} show its answer: "
                       + "; ".join(f"cell {i}: {k}" for i, k in leaks))


# --- student notebooks are never overwritten once edited ----------------------------------------------

def _run_student(out, *notebooks):
    """``python -m course_utils.exercises student --out OUT NB...``, run in this process (fast): exit status, output."""
    import contextlib
    import io
    from types import SimpleNamespace

    from course_utils.exercises.__main__ import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["student", "--out", str(out), *[str(n) for n in notebooks]])
    return SimpleNamespace(returncode=code, stdout=stdout.getvalue(), stderr=stderr.getvalue())


def test_regenerating_keeps_a_notebook_the_student_edited(tmp_path):
    import nbformat
    from nbformat.v4 import new_output

    out = tmp_path / "student"
    lesson = NOTEBOOKS[0]
    assert _run_student(out, lesson).returncode == 0
    target = out / lesson.name
    # Unedited: a rerun replaces it in place, nothing written beside it.
    proc = _run_student(out, lesson)
    assert proc.returncode == 0 and f"wrote {target}" in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == [lesson.name]
    # Edit it as JupyterLab does: a cell's source, outputs and execution counts, metadata, saved by nbformat.
    nb = nbformat.read(target, as_version=4)
    exercise = next(c for c in nb.cells if c.cell_type == "code" and "NotImplementedError" in c.source)
    exercise.source = exercise.source.replace("raise NotImplementedError", "my_answer = 42  # raise NotImplementedError")
    count = 0
    for c in nb.cells:
        if c.cell_type == "code":
            count += 1
            c.execution_count = count
            c.outputs = [new_output("stream", name="stdout", text=f"run {count}\n")]
            c.metadata["execution"] = {"iopub.status.idle": "2026-12-06T00:00:00Z"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nbformat.write(nb, target)
    edited = target.read_bytes()
    proc = _run_student(out, lesson)
    assert proc.returncode == 0, proc.stderr
    beside = out / lesson.name.replace(".ipynb", ".new.ipynb")
    assert target.read_bytes() == edited, "the student's edited notebook was overwritten"
    assert "my_answer = 42" in nbformat.read(target, as_version=4).cells[nb.cells.index(exercise)].source
    assert beside.is_file() and f"kept {target}" in proc.stdout and str(beside) in proc.stdout
    fresh = nbformat.read(beside, as_version=4)
    assert "my_answer" not in "".join(c.source for c in fresh.cells)
    # A third run replaces the (unedited) new version and still keeps the edit.
    proc = _run_student(out, lesson)
    assert proc.returncode == 0 and target.read_bytes() == edited
    assert sorted(p.name for p in out.iterdir()) == sorted([lesson.name, beside.name])
    # Only running the cells (outputs, no edit to a source) also counts as the student's: kept.
    nb2 = nbformat.read(beside, as_version=4)
    nb2.cells[1].outputs = [new_output("stream", name="stdout", text="ran\n")] if nb2.cells[1].cell_type == "code" else []
    nb2.cells[1].source += "\n# note" if nb2.cells[1].cell_type != "code" else ""
    nbformat.write(nb2, beside)
    kept = beside.read_bytes()
    assert _run_student(out, lesson).returncode == 0
    assert beside.read_bytes() == kept and (out / lesson.name.replace(".ipynb", ".new-2.ipynb")).is_file()


def test_a_damaged_or_foreign_file_is_never_replaced(tmp_path):
    out = tmp_path / "student"
    out.mkdir()
    damaged = out / NOTEBOOKS[0].name
    damaged.write_text('{"cells": [')
    proc = _run_student(out, NOTEBOOKS[0])
    assert proc.returncode == 2 and "not a readable notebook" in proc.stderr
    assert damaged.read_text() == '{"cells": ['


class _Anonymous:
    """Expression shapes with the variables' names taken out: ``(n + 2 * p - k) % s`` == ``(a + 2 * b - c) % d``."""

    @staticmethod
    def parse(code: str) -> list:
        import ast
        import textwrap

        try:
            return [ast.parse(textwrap.dedent(code))]
        except SyntaxError:  # a fragment (a markdown snippet, part of a block): line by line
            trees = []
            for line in code.splitlines():
                try:
                    trees.append(ast.parse(line.strip()))
                except SyntaxError:
                    continue
            return trees

    @classmethod
    def shapes(cls, code: str, min_nodes: int = 7) -> dict[str, str]:
        """Each expression of ``code`` with at least ``min_nodes`` nodes: its shape -> its text."""
        import ast
        import copy

        class Rename(ast.NodeTransformer):
            def visit_Name(self, node):
                return ast.copy_location(ast.Name(id="_", ctx=ast.Load()), node)

        kinds = (ast.BinOp, ast.Call, ast.Compare, ast.BoolOp, ast.Subscript, ast.UnaryOp)
        small = (ast.operator, ast.expr_context, ast.cmpop, ast.unaryop, ast.boolop)
        out = {}
        for tree in cls.parse(code):
            for node in ast.walk(tree):
                if isinstance(node, kinds) and sum(not isinstance(n, small) for n in ast.walk(node)) >= min_nodes:
                    out[ast.dump(Rename().visit(copy.deepcopy(node)), annotate_fields=False)] = ast.unparse(node)
        return out


def _code_in(cell) -> list[str]:
    import re

    if cell.cell_type == "code":
        return [cell.source]
    return re.findall(r"```(?:python)?\n(.*?)```", cell.source, re.S) + re.findall(r"`([^`\n]+)`", cell.source)


@pytest.mark.parametrize("item", CELLS, ids=_id)
def test_no_cell_before_an_exercise_computes_its_key_expressions(item, student_folder):
    """The same computation under other names counts too: ``(n + 2 * p - k) % s`` gives away ``output_padding``."""
    path, cell = item
    student = read(student_folder / path.name)
    call = f'check("{cell.exercise_id}"'
    at = next(i for i, c in enumerate(student.cells) if c.cell_type == "code" and call in c.source.replace("'", '"'))
    keys = _Anonymous.shapes(cell.source.split(BEGIN, 1)[1].split(END, 1)[0])
    leaks = []
    for index, earlier in enumerate(student.cells[:at]):
        for code in _code_in(earlier):
            leaks += [(index, text, keys[shape]) for shape, text in _Anonymous.shapes(code).items() if shape in keys]
    assert not leaks, (f"{path.name}: cells before {label(cell.exercise_id)} compute its answer: "
                       + "; ".join(f"cell {i}: `{t}` (the solution's `{k}`)" for i, t, k in leaks))
