"""Every lesson notebook runs in a real JupyterLab: no cell shows an error, every widget renders and reacts."""

from __future__ import annotations

import pytest

from course_utils.classroom import lesson_notebooks
from tests.browser.lab import check_notebook

NOTEBOOKS = lesson_notebooks()


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_runs_in_jupyterlab(path, chromium, lab_server, artifacts_dir, browser_log):
    report = check_notebook(chromium, lab_server, path.name, artifacts_dir)
    browser_log[path.stem] = {
        "seconds": round(report.seconds, 1),
        "code_cells": report.code_cells,
        "executed_cells": report.executed_cells,
        "closed_widgets": report.closed_widgets,
        "widgets": [{"cell": w.cell, "control": w.control, "problems": w.problems} for w in report.widgets],
        "screenshots": [p.name for p in report.screenshots],
        "problems": report.problems,
    }
    assert not report.problems, f"{path.name} in JupyterLab:\n" + "\n".join(report.problems) + \
        f"\n--- server log ---\n{lab_server.log_tail(2000)}"
    assert report.code_cells > 0 and report.executed_cells == report.code_cells
