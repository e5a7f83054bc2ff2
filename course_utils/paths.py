"""Where the course keeps its data, checkpoints and outputs."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_ENV", "repo_root", "data_root"]

DATA_ENV = "SEGCOURSE_DATA"


def repo_root() -> Path:
    """The folder that holds ``course_utils`` (the course checkout)."""
    return Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The offline data folder: ``$SEGCOURSE_DATA`` or ``<repo>/data``.

    The folder is created if it does not exist.
    """
    raw = os.environ.get(DATA_ENV, "").strip()
    root = Path(raw).expanduser() if raw else repo_root() / "data"
    root.mkdir(parents=True, exist_ok=True)
    return root
