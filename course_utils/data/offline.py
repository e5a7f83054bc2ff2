"""The offline default datasets: every ``course_utils.data`` module that defines
``prepare_offline(root: Path, full: bool) -> Path`` contributes one.

``prepare_offline`` must be idempotent: when its dataset is already complete
under ``root`` it returns at once, and it never overwrites a user's files.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["offline_preparers", "prepare_all"]


def offline_preparers() -> dict[str, Callable[[Path, bool], Path]]:
    """``{module name: prepare_offline}`` for each data module that has one."""
    found = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name == "offline":
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        prepare = getattr(module, "prepare_offline", None)
        if callable(prepare):
            found[info.name] = prepare
    return found


def prepare_all(root: Path, full: bool = False, only: list[str] | None = None) -> dict[str, Path]:
    """Prepare every offline dataset (or those named in ``only``) under ``root``."""
    preparers = offline_preparers()
    if only:
        unknown = sorted(set(only) - set(preparers))
        if unknown:
            raise ValueError(f"only={unknown}: unknown datasets; valid: {sorted(preparers)}")
        preparers = {k: v for k, v in preparers.items() if k in only}
    return {name: prepare(Path(root), full) for name, prepare in preparers.items()}
