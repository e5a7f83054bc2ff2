"""Lint: lesson notebooks are committed executed, with the plain kernel, solutions and no stubs."""

from __future__ import annotations

import re

import pytest

from course_utils.exercises.notebook import find_exercise_cells
from tests.notebook_utils import NOTEBOOKS, read

LESSONS = ["00_getting_started", "01_saliency", "02_graph_cuts", "03_grabcut", "04_fcn_deconvolution",
           "05_dilated_convolution", "06_dense_crf", "07_deeplab_cityscapes", "08_datasets"]
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_notebook_names_are_lessons():
    assert NOTEBOOKS, "no lesson notebooks found"
    for path in NOTEBOOKS:
        assert path.stem in LESSONS, f"{path.name} is not one of the course's lessons {LESSONS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_executed_in_order(path):
    nb = read(path)
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    assert counts, f"{path.name} has no code"
    assert None not in counts, f"{path.name} has unexecuted code cells: run `make execute NB={path}`"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name} was not executed top to bottom in a fresh kernel"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_kernel_and_no_errors(path):
    nb = read(path)
    spec = nb.metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", f"{path.name} has kernelspec {spec}: use the plain python3 kernel"
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{path.name} cell {index} stored an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_solutions_not_stubs(path):
    nb = read(path)
    find_exercise_cells(nb, path)  # markers balanced, one check per exercise cell
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert "# YOUR CODE HERE" not in cell.source, f"{path.name} cell {index} holds a student stub"
            assert "raise NotImplementedError" not in cell.source, f"{path.name} cell {index} holds a stub"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_shows_the_lecture_terms_in_chinese(path):
    text = "".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    assert CJK.search(text), f"{path.name} shows no Chinese term beside the English ones"
