"""Fixtures of the browser tests: a JupyterLab server and Debian's Chromium, always cleaned up.

The tests in this folder are marked ``browser`` and skipped unless ``SEGCOURSE_BROWSER=1``
(``make test-browser`` sets it), so ``make test`` does not start a browser.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from course_utils.classroom import lesson_notebooks
from course_utils.paths import repo_root
from tests.browser.lab import LabServer, launch_chromium

BROWSER_ENV = "SEGCOURSE_BROWSER"
HERE = Path(__file__).resolve().parent
ARTIFACTS = repo_root() / "artifacts" / "browser"


def browser_enabled() -> bool:
    return os.environ.get(BROWSER_ENV, "") == "1"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not browser_enabled():
                item.add_marker(pytest.mark.skip(reason=f"browser test: run `make test-browser` ({BROWSER_ENV}=1)"))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``artifacts/browser/`` (gitignored), emptied of the previous run's screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser_log(artifacts_dir):
    """Per-notebook results, written to ``artifacts/browser/report.json`` at the end of the session."""
    entries: dict = {}
    yield entries
    (artifacts_dir / "report.json").write_text(json.dumps(entries, indent=1, default=str))


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory):
    """JupyterLab on 127.0.0.1 (random port and token) serving copies of the lesson notebooks."""
    root = tmp_path_factory.mktemp("lab-root")
    for path in lesson_notebooks():
        shutil.copy2(path, root / path.name)
    server = LabServer(root, tmp_path_factory.mktemp("lab-scratch"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = None
    try:
        browser = launch_chromium(playwright)
        yield browser
    finally:
        if browser is not None:
            browser.close()
        playwright.stop()
