"""Training files: atomic saves, readable errors for damaged files, the architecture a file fits.

* :func:`save_atomic` -- ``torch.save`` through a temporary file and a rename;
* :func:`torch_load` -- ``torch.load`` on the CPU; a truncated or corrupt file raises a ValueError naming it;
* :func:`architecture_signature` -- a short hash of a network's class and parameter shapes;
* :func:`load_training_checkpoint` -- a per-epoch checkpoint of :func:`course_utils.train.loop.fit`,
  refused if it was saved from another architecture;
* :func:`unwrap` -- the network inside a ``DistributedDataParallel`` wrapper.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import nn

__all__ = ["architecture_signature", "load_training_checkpoint", "save_atomic", "torch_load", "unwrap"]


def architecture_signature(net: nn.Module) -> str:
    """A short hash of the network's class and parameter/buffer names and shapes."""
    parts = [type(net).__name__] + [f"{k}:{tuple(v.shape)}" for k, v in net.state_dict().items()]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def unwrap(net: nn.Module) -> nn.Module:
    return net.module if hasattr(net, "module") and isinstance(net.module, nn.Module) else net


def save_atomic(obj: dict, path: Path) -> None:
    """``torch.save(obj, path)`` through a temporary file and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    tmp.replace(path)


def torch_load(path: Path, what: str) -> object:
    """``torch.load(path)`` on the CPU; an unreadable (truncated, corrupt, empty) file raises ValueError naming it."""
    import pickle
    import zipfile

    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, ValueError, AttributeError,
            ImportError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{what} {path} cannot be read ({reason}); it may be truncated or corrupt: "
                         "delete it (training starts again)") from err


def load_training_checkpoint(path: Path, net: nn.Module) -> dict:
    state = torch_load(path, "checkpoint")
    if not isinstance(state, dict) or "arch" not in state:
        raise ValueError(f"checkpoint {path} is not a segcourse training checkpoint")
    if state["arch"] != architecture_signature(unwrap(net)):
        raise ValueError(
            f"checkpoint {path} was saved from another architecture ({state.get('arch_name', '?')}); "
            f"it does not fit {type(unwrap(net)).__name__}: use another checkpoint path"
        )
    return state
