"""One training loop for every network in the course: :func:`fit`, and DeepLab's "poly" schedule :func:`poly_lr`.

:func:`fit` runs epochs of SGD-style training with a progress bar, saves a checkpoint after every
epoch and resumes from it: a resumed run ends with the same weights as an uninterrupted one,
because each epoch re-seeds the random number generators from ``seed + epoch`` (data order and
augmentation included). Mixed precision is used on CUDA when ``amp=True``. Under ``torchrun`` the
same loop trains a ``DistributedDataParallel`` network (:mod:`course_utils.train.distributed`):
rank 0 logs and writes checkpoints, every rank resumes from them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from pathlib import Path
from time import perf_counter

import numpy as np
import torch
from torch import nn

from course_utils._shared import check_int, check_number
from course_utils.env import get_device
from course_utils.train.checkpoint_io import architecture_signature, load_training_checkpoint, save_atomic, unwrap
from course_utils.train.distributed import barrier, is_distributed, rank0_exists

__all__ = ["fit", "poly_lr"]


def poly_lr(optimizer: torch.optim.Optimizer, max_steps: int, power: float = 0.9) -> torch.optim.lr_scheduler.LambdaLR:
    """DeepLab's "poly" schedule: ``lr = base_lr * (1 - step / max_steps) ** power``, stepped per batch."""
    max_steps = check_int(max_steps, "max_steps", 1)
    power = check_number(power, "power", 0)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - min(step, max_steps) / max_steps) ** power)


def _seed_epoch(seed: int, epoch: int) -> None:
    s = seed + epoch
    if is_distributed():  # each process draws its own dropout masks (the data order is the sampler's)
        import torch.distributed as dist

        s += 1_000_003 * dist.get_rank()
    random.seed(s)
    np.random.seed(s % 2**32)
    torch.manual_seed(s)


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
    curves: dict[str, list[float]] | None = None,
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
        It records the training time so far (``seconds``, summed over the processes that
        trained it; :func:`checkpoint_seconds`).
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
    curves : dict, optional
        ``{name: per-epoch figures}`` that ``on_epoch`` appends to (e.g. the validation loss): saved
        with the checkpoint and, on resuming, restored in place, so that a resumed run's curves hold
        every epoch. A checkpoint that lacks one of them is refused rather than resumed with a gap.

    Returns
    -------
    list of float
        Mean loss per epoch (over all processes under DDP), including epochs
        restored from the checkpoint.
    """
    from tqdm.auto import tqdm

    epochs = check_int(epochs, "epochs", 1)
    device = get_device(device, name="device")
    use_amp = amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    history: list[float] = []
    start = 0
    # wall time of the epochs so far, over every process that trained them (None: resumed from a checkpoint
    # that did not record it)
    seconds: float | None = 0.0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and rank0_exists(path):
        state = load_training_checkpoint(path, net)
        unwrap(net).load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if state.get("scaler") is not None and use_amp:
            scaler.load_state_dict(state["scaler"])
        history = list(state["history"])
        if curves is not None:
            saved = state.get("curves") or {}
            missing = sorted(set(curves) - set(saved))
            if missing:
                raise ValueError(f"checkpoint {path} records no per-epoch {missing}: a resumed run would lack "
                                 "their first epochs; delete it to train from the start")
            for name, values in curves.items():
                values[:] = [float(v) for v in saved[name]]
        start = state["epoch"] + 1
        seconds = state.get("seconds")
        if log and is_main:
            log(f"resumed from {path} after epoch {start}")
    net.train()
    for epoch in range(start, epochs):
        epoch_start = perf_counter()
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
        if is_distributed():
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
        if seconds is not None:
            seconds += perf_counter() - epoch_start
        if path is not None and is_main:
            save_atomic({
                "arch": architecture_signature(unwrap(net)),
                "arch_name": type(unwrap(net)).__name__,
                "net": unwrap(net).state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scaler": scaler.state_dict() if use_amp else None,
                "epoch": epoch,
                "history": history,
                "seconds": seconds,
                "curves": {k: list(v) for k, v in curves.items()} if curves is not None else None,
            }, path)
        barrier()  # no process starts the next epoch (or returns) before the checkpoint is complete
    return history


def checkpoint_seconds(path: str | Path) -> float | None:
    """Training wall time (s) that :func:`fit`'s checkpoint ``path`` records, summed over every process that
    trained it; None if the file is missing or the run was resumed from a checkpoint that did not record it."""
    path = Path(path)
    if not path.is_file():
        return None
    value = torch.load(path, map_location="cpu", weights_only=True).get("seconds")
    return None if value is None else float(value)
