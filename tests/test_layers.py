"""The library's layers (CONTRIBUTING.md, "The layers"): the import-linter contracts in pyproject.toml hold.

Base (env, config, paths, images, palettes, _shared) -> ops -> data -> nets -> algorithms
(saliency, graphcut, crf) -> evaluate -> train -> viz / exercises / classroom: no module imports
from a layer above it (function-local imports included), no import cycle inside a package.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.notebook_utils import ROOT

importlinter_cli = pytest.importorskip("importlinter.cli")


def test_import_contracts_are_kept():
    assert importlinter_cli.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_contract_catches_an_upward_import(tmp_path):
    # a copy of the library with one function-local upward import (ops -> train) must break the contract
    import shutil

    shutil.copytree(ROOT / "course_utils", tmp_path / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__", "_vendor", "weights"))
    (tmp_path / "course_utils" / "ops" / "_upward.py").write_text(textwrap.dedent("""
        def f():
            from course_utils.train import fit
            return fit
    """))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    proc = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                           "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"],
                          cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path), "PATH": ""})
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "course_utils.ops._upward -> course_utils.train" in proc.stdout


def test_packages_export_their_functions_and_stay_cheap():
    code = textwrap.dedent("""
        import sys
        import course_utils, course_utils.graphcut, course_utils.saliency, course_utils.evaluate, course_utils.data
        assert "torch" not in sys.modules, "a cheap package imported torch"
        from course_utils.graphcut import grabcut, graph_cut
        assert callable(grabcut) and callable(graph_cut)
        import course_utils.crf, course_utils.nets, course_utils.ops
        for pkg in (course_utils.graphcut, course_utils.saliency, course_utils.evaluate, course_utils.crf,
                    course_utils.nets, course_utils.ops):
            missing = [n for n in pkg.__all__ if not hasattr(pkg, n)]
            assert not missing, (pkg.__name__, missing)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
