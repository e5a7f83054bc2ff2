"""Helpers for the notebook tests: reading lessons and running exercise cells outside Jupyter."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def read(path: Path):
    return nbformat.read(path, as_version=4)


def setup_source(nb) -> str:
    """The source of a notebook's first code cell (its setup: imports and seeding)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            return cell.source
    raise AssertionError("notebook has no code cell")


def exec_cell(setup: str, source: str) -> dict:
    """Run the setup cell then ``source`` in a fresh namespace (printing silenced); return the namespace."""
    namespace: dict = {"__name__": "__exercise__"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(setup, "<setup cell>", "exec"), namespace)
        exec(compile(source, "<exercise cell>", "exec"), namespace)
    return namespace
