"""The JupyterLab check catches what it must: a widget that raises, one that never changes,
one that does not render, and a cell error; it passes a working slider and drop-down, and
leaves alone widgets the code closed (a finished progress bar)."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.browser.lab import check_notebook

SETUP = """\
import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from course_utils.viz.widgets import interactive_figure


def draw_line(k):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, k])
    ax.set_title(f"k = {k}")
    return fig
"""

GOOD = "interactive_figure(draw_line, k=widgets.IntSlider(value=3, min=0, max=10, description='k'))"

RAISES = """\
def draw_raises(k):
    if k != 3:
        raise RuntimeError("deliberately broken widget")
    return draw_line(k)

interactive_figure(draw_raises, k=widgets.IntSlider(value=3, min=0, max=10, description='k'))
"""

CONSTANT = """\
def draw_constant(k):
    return draw_line(1)  # ignores k: moving the slider changes nothing

interactive_figure(draw_constant, k=widgets.IntSlider(value=3, min=0, max=10, description='k'))
"""

NOT_RENDERED = """\
display({"application/vnd.jupyter.widget-view+json":
         {"model_id": "0123456789abcdef0123456789abcdef", "version_major": 2, "version_minor": 0},
         "text/plain": "a widget whose model does not exist"}, raw=True)
"""

DROPDOWN = ("interactive_figure(lambda name: draw_line(len(name)), "
            "name=widgets.Dropdown(options=['ab', 'abcd'], value='ab', description='name'))")

CLOSED = """\
from tqdm.notebook import tqdm
for _ in tqdm(range(3), leave=False, disable=False):  # a progress bar that closes itself
    pass
gone = widgets.IntSlider(description='closed')
display(gone)
gone.close()
"""

ERROR_CELL = 'raise ValueError("deliberate cell error")'


@pytest.fixture
def widget_check_notebook(lab_server):
    nb = new_notebook(cells=[new_markdown_cell("# Widget checks"), new_code_cell(SETUP), new_code_cell(GOOD),
                             new_code_cell(RAISES), new_code_cell(CONSTANT), new_code_cell(NOT_RENDERED),
                             new_code_cell(DROPDOWN), new_code_cell(CLOSED), new_code_cell(ERROR_CELL), new_code_cell("print('not run')")])
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    path = lab_server.root / "zz_widget_checks.ipynb"
    nbformat.write(nb, path)
    yield path.name
    path.unlink()


@pytest.mark.timeout(900)
def test_check_reports_broken_widgets_and_errors(widget_check_notebook, chromium, lab_server, tmp_path):
    report = check_notebook(chromium, lab_server, widget_check_notebook, tmp_path, react_timeout_s=20)
    assert len(report.widgets) == 5, report.problems
    assert report.closed_widgets == 2, "a closed progress bar and a closed slider are not checked"
    good, raises, constant, missing, dropdown = report.widgets
    assert good.ok and good.control.startswith("slider 3 -> 4"), good
    assert dropdown.ok and "abcd" in dropdown.control, dropdown
    assert raises.problems and "show an error" in raises.problems[0], raises
    assert constant.problems and "did not change" in constant.problems[0], constant
    assert missing.problems and "did not render" in missing.problems[0], missing
    assert any("ValueError: deliberate cell error" in e for e in report.cell_errors), report.cell_errors
    assert any("code cells ran" in e for e in report.cell_errors), report.cell_errors
    assert (tmp_path / "zz_widget_checks-widget1.png").stat().st_size > 1000
    assert (tmp_path / "zz_widget_checks-failed.png").exists()
    # The lesson test fails on exactly these problems.
    assert len(report.problems) == len(report.cell_errors) + 3
