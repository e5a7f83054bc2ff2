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


# The lecture's terms each lesson must show beside the English ones (issue 15), and lesson 0's glossary.
LESSON_TERMS = {
    "00_getting_started": ["图像分割", "卷积化", "反卷积", "跳层结构", "转置卷积", "反池化", "上采样", "双线性插值",
                           "小数步长", "全连接条件随机场", "平均场", "孔算法", "稀疏特征提取", "稠密特征提取",
                           "数据驱动", "任务驱动", "眼动", "迭代", "能量", "Cityscapes 数据集"],
    "01_saliency": ["显著性检测", "显著性物体分割", "注视点预测", "自底而上", "自上而下", "数据驱动", "任务驱动", "眼动"],
    "02_graph_cuts": ["物体分割", "前景", "背景", "交互", "能量", "最小割", "最大流"],
    "03_grabcut": ["高斯混合模型", "迭代", "能量", "交互"],
    "05_dilated_convolution": ["膨胀卷积", "空洞卷积", "孔算法", "稀疏特征提取", "稠密特征提取", "上采样", "双线性插值",
                               "小数步长", "感受野", "空洞空间金字塔池化"],
    "08_datasets": ["语义分割数据集", "像素级标注", "多边形", "Cityscapes 数据集"],
}


@pytest.mark.parametrize("stem", sorted(LESSON_TERMS))
def test_lesson_terms_short_lesson_and_stated_goals(stem):
    path = next((p for p in NOTEBOOKS if p.stem == stem), None)
    assert path is not None, f"{stem}.ipynb is missing"
    nb = read(path)
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    missing = [term for term in LESSON_TERMS[stem] if term not in text]
    assert not missing, f"{path.name} does not show the lecture terms {missing}"
    assert "城市景观数据集" not in text, f"{path.name}: say 'Cityscapes 数据集', the dataset's usual name"
    # nbgrader's autograded test cells (one line after each exercise) do not count
    cells = [c for c in nb.cells if not (c.metadata.get("nbgrader", {}).get("grade")
                                         and not c.metadata.get("nbgrader", {}).get("solution"))]
    assert len(cells) <= 45, f"{path.name} has {len(cells)} cells: split it (about 45 at most)"
    assert "will be able to" in nb.cells[0].source, f"{path.name} should open with what the student will be able to do"


MEASURED = re.compile(r"\b\d+\.\d+\s?%")  # "18.7 %": a measured share, which a cell computes and renders


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_types_no_measured_percentage(path):
    """A percentage with decimals in a lesson's prose is a result, so it is rendered from the cell that computes
    it (``display(Markdown(f"..."))``, which nbval re-checks), never typed where it could drift."""
    nb = read(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found = MEASURED.findall(cell.source)
            assert not found, (f"{path.name} cell {index} types {found} in Markdown: render the figure from the "
                               "code that computes it")
