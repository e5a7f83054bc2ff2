"""One training loop for every network in the course.

:func:`fit` runs epochs of SGD-style training with a progress bar, saves a
checkpoint after every epoch and resumes from it: a resumed run ends with the
same weights as an uninterrupted one, because each epoch re-seeds the random
number generators from ``seed + epoch`` (data order and augmentation included).
Mixed precision is used on CUDA when ``amp=True``. Under ``torchrun`` the same
loop trains a ``DistributedDataParallel`` network (see :mod:`course_utils.train.distributed`):
rank 0 logs and writes checkpoints, every rank resumes from them.

:func:`train_cached` wraps a training run so that a notebook re-run with the
same settings loads the saved weights instead of training again.

The recipes, one module per network family, build on this loop:

fcn
    The FCN paper's loss, SGD recipe and staged training (lesson 4).
deeplab
    DeepLab on Cityscapes / MiniCity, with its command line
    ``python -m course_utils.train deeplab ...`` (lesson 7).
saliency
    The saliency net's training (lesson 1).
record
    Shipping a ``--recipe course`` run as a course checkpoint
    (``python -m course_utils.train record {deeplab,fcn} ...``).
distributed
    ``torchrun`` / DistributedDataParallel helpers.

Running and scoring a trained network is :mod:`course_utils.evaluate.predict` and
:mod:`course_utils.evaluate.checkpoints`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_utils.env import get_device
from course_utils.paths import data_root

__all__ = ["architecture_signature", "checkpoint_dir", "fit", "poly_lr", "save_atomic", "train_cached"]


def _distributed() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _barrier() -> None:
    if _distributed():
        import torch.distributed as dist

        dist.barrier()


def _rank0_exists(path: Path) -> bool:
    """Whether ``path`` exists, as rank 0 sees it (every rank gets the same answer under DDP).

    A rank that cannot see a file rank 0 sees raises: checkpoints and caches must lie
    on storage that every node shares.
    """
    exists = path.exists()
    if not _distributed():
        return exists
    import torch.distributed as dist

    flag = [exists]
    dist.broadcast_object_list(flag, src=0)
    if flag[0] and not exists:
        raise FileNotFoundError(f"rank {dist.get_rank()} cannot see {path}, which rank 0 wrote: put checkpoints "
                                "and the data folder on storage shared by all nodes")
    return bool(flag[0])


def poly_lr(optimizer: torch.optim.Optimizer, max_steps: int, power: float = 0.9) -> torch.optim.lr_scheduler.LambdaLR:
    """DeepLab's "poly" schedule: ``lr = base_lr * (1 - step / max_steps) ** power``, stepped per batch."""
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    if power < 0:
        raise ValueError(f"power must be >= 0, got {power}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - min(step, max_steps) / max_steps) ** power)


def architecture_signature(net: nn.Module) -> str:
    """A short hash of the network's class and parameter/buffer names and shapes."""
    parts = [type(net).__name__] + [f"{k}:{tuple(v.shape)}" for k, v in net.state_dict().items()]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def _seed_epoch(seed: int, epoch: int) -> None:
    s = seed + epoch
    if _distributed():  # each process draws its own dropout masks (the data order is the sampler's)
        import torch.distributed as dist

        s += 1_000_003 * dist.get_rank()
    random.seed(s)
    np.random.seed(s % 2**32)
    torch.manual_seed(s)


def _unwrap(net: nn.Module) -> nn.Module:
    return net.module if hasattr(net, "module") and isinstance(net.module, nn.Module) else net


def save_atomic(obj: dict, path: Path) -> None:
    """``torch.save(obj, path)`` through a temporary file and a rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    torch.save(obj, tmp)
    tmp.replace(path)


def _torch_load(path: Path, what: str) -> object:
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


def _load_checkpoint(path: Path, net: nn.Module) -> dict:
    state = _torch_load(path, "checkpoint")
    if not isinstance(state, dict) or "arch" not in state:
        raise ValueError(f"checkpoint {path} is not a segcourse training checkpoint")
    if state["arch"] != architecture_signature(_unwrap(net)):
        raise ValueError(
            f"checkpoint {path} was saved from another architecture ({state.get('arch_name', '?')}); "
            f"it does not fit {type(_unwrap(net)).__name__}: use another checkpoint path"
        )
    return state


def fit(
    net: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    device: torch.device | str = "cpu",
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    checkpoint: str | Path | None = None,
    seed: int = 0,
    amp: bool = True,
    desc: str = "train",
    is_main: bool = True,
    log: Callable[[str], None] | None = print,
    on_epoch: Callable[[int], None] | None = None,
) -> list[float]:
    """Train ``net`` for ``epochs`` epochs; return the mean training loss of each epoch.

    Parameters
    ----------
    net : nn.Module
        Already on ``device`` (or wrapped in DistributedDataParallel).
    loader : iterable of ``(inputs, targets)``
        Batches; tensors are moved to ``device``. If ``loader.sampler`` has
        ``set_epoch`` (``DistributedSampler``), it is called every epoch, and so
        is ``loader.dataset.set_epoch`` (per-epoch augmentation seeds).
    loss_fn : callable
        ``loss_fn(net(inputs), targets) -> scalar tensor``.
    scheduler : LR scheduler, optional
        Stepped after every batch (e.g. :func:`poly_lr`).
    checkpoint : path, optional
        Saved after every epoch (by the main process only); if it exists when
        ``fit`` starts, training resumes after its last completed epoch (on every process).
    seed : int
        Epoch ``e`` re-seeds Python, NumPy and torch with ``seed + e`` (plus an
        offset per rank under DDP, so that processes draw different dropout masks).
    amp : bool
        Mixed precision (float16 autocast + gradient scaling) on CUDA; ignored on the CPU.
    is_main : bool
        Whether this process logs and writes checkpoints (rank 0 under DDP).
    on_epoch : callable, optional
        ``on_epoch(epoch)`` after each completed epoch (0-based), before the checkpoint is
        written, e.g. to record a validation loss; it must leave ``net`` in training mode.

    Returns
    -------
    list of float
        Mean loss per epoch (over all processes under DDP), including epochs
        restored from the checkpoint.
    """
    from tqdm.auto import tqdm

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    device = get_device(device, name="device")
    use_amp = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history: list[float] = []
    start = 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and _rank0_exists(path):
        state = _load_checkpoint(path, net)
        _unwrap(net).load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler") is not None and use_amp:
            scaler.load_state_dict(state["scaler"])
        history = list(state["history"])
        start = state["epoch"] + 1
        if log and is_main:
            log(f"resumed from {path} after epoch {start}")
    net.train()
    for epoch in range(start, epochs):
        _seed_epoch(seed, epoch)
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        dataset = getattr(loader, "dataset", None)
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        total, count = 0.0, 0
        bar = tqdm(loader, desc=f"{desc} {epoch + 1}/{epochs}", leave=False, disable=True if not is_main else None)
        for inputs, targets in bar:
            inputs = inputs.to(device, non_blocking=True)
            targets = targets.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                loss = loss_fn(net(inputs), targets)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at epoch {epoch + 1}: lower the learning rate")
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if scheduler is not None:
                scheduler.step()
            total += float(loss.detach()) * inputs.shape[0]
            count += inputs.shape[0]
            bar.set_postfix(loss=f"{total / count:.4f}")
        if count == 0:
            raise ValueError("loader yielded no batch")
        if _distributed():
            import torch.distributed as dist

            sums = torch.tensor([total, float(count)], dtype=torch.float64, device=device)
            dist.all_reduce(sums)
            total, count = float(sums[0]), int(sums[1])
        history.append(total / count)
        if log and is_main:
            log(f"{desc} epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f}")
        if on_epoch is not None:
            on_epoch(epoch)
            net.train()
        if path is not None and is_main:
            save_atomic({
                "arch": architecture_signature(_unwrap(net)),
                "arch_name": type(_unwrap(net)).__name__,
                "net": _unwrap(net).state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scaler": scaler.state_dict() if use_amp else None,
                "epoch": epoch,
                "history": history,
            }, path)
        _barrier()  # no process starts the next epoch (or returns) before the checkpoint is complete
    return history


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
    key = hashlib.sha1((key_text + architecture_signature(_unwrap(net))).encode()).hexdigest()[:12]
    folder = Path(cache_dir) if cache_dir is not None else checkpoint_dir()
    path = folder / f"{name}-{key}.pt"
    if _rank0_exists(path):
        state = _torch_load(path, "cached training")
        if not isinstance(state, dict) or "net" not in state or "history" not in state:
            raise ValueError(f"cached training {path} is not a segcourse cache file: delete it (training starts again)")
        _unwrap(net).load_state_dict(state["net"])
        return list(state["history"]), True
    _barrier()  # every process has seen the cache miss before rank 0 may write the file
    history = train()
    if is_main:
        save_atomic({"net": _unwrap(net).state_dict(), "history": history, "settings": settings}, path)
    _barrier()
    return history, False
