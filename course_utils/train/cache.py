"""The notebooks' training cache: a run with the same settings trains once, later calls load its weights.

:func:`train_cached` keys a run by its settings (JSON) and the network's architecture
(:func:`course_utils.train.checkpoint_io.architecture_signature`); the files lie in
:func:`checkpoint_dir`. The notebooks and ``python -m course_utils.train deeplab`` share it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from torch import nn

from course_utils.paths import data_root
from course_utils.train.checkpoint_io import architecture_signature, save_atomic, torch_load, unwrap
from course_utils.train.distributed import barrier, rank0_exists

__all__ = ["checkpoint_dir", "train_cached"]


def checkpoint_dir() -> Path:
    """``<data root>/checkpoints``, where cached notebook trainings are kept."""

    return data_root() / "checkpoints"


def train_cached(net: nn.Module, name: str, settings: dict, train: Callable[[], list[float]],
                 cache_dir: str | Path | None = None, *, is_main: bool = True) -> tuple[list[float], bool]:
    """Run ``train()`` once per (network, settings); later calls load the saved weights.

    Parameters
    ----------
    net : nn.Module
        The network ``train()`` trains in place; on a cache hit its weights are loaded.
    name : str
        A readable prefix for the cache file.
    settings : dict
        Everything that determines the result (sizes, epochs, lr, seed, data), JSON-serialisable.
    train : callable
        Trains ``net`` and returns the loss history.
    is_main : bool
        Whether this process writes the cache file (rank 0 under DDP; all ranks read it).

    Returns
    -------
    (history, from_cache)
    """
    try:
        key_text = json.dumps(settings, sort_keys=True)
    except TypeError as err:
        raise TypeError(f"settings must be JSON-serialisable: {err}") from err
    key = hashlib.sha1((key_text + architecture_signature(unwrap(net))).encode()).hexdigest()[:12]
    folder = Path(cache_dir) if cache_dir is not None else checkpoint_dir()
    path = folder / f"{name}-{key}.pt"
    if rank0_exists(path):
        state = torch_load(path, "cached training")
        if not isinstance(state, dict) or "net" not in state or "history" not in state:
            raise ValueError(f"cached training {path} is not a segcourse cache file: delete it (training starts again)")
        unwrap(net).load_state_dict(state["net"])
        return list(state["history"]), True
    barrier()  # every process has seen the cache miss before rank 0 may write the file
    history = train()
    if is_main:
        save_atomic({"net": unwrap(net).state_dict(), "history": history, "settings": settings}, path)
    barrier()
    return history, False
