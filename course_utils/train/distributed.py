"""Data-parallel training on several processes (GPUs or nodes) with no change to the training code.

Launched by ``torchrun``, each process reads ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` from the environment, joins the process group (NCCL on CUDA,
Gloo on the CPU), wraps its network in ``DistributedDataParallel`` (gradients
are averaged across processes after every backward pass, so all replicas keep
identical weights) and reads its own shard of every epoch through a
``DistributedSampler``. Started as a plain ``python`` process, the same code
runs with one replica.

Every process gets ``global_batch / world_size`` samples per step; rank 0 alone
logs, writes checkpoints and predictions.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from course_utils._shared import check_int
from course_utils.env import get_device

__all__ = [
    "DistInfo",
    "init_distributed",
    "is_distributed",
    "barrier",
    "rank0_exists",
    "cleanup_distributed",
    "wrap_ddp",
    "make_loader",
    "replica_max_difference",
]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: ``rank`` of ``world_size`` processes, on ``device``."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def is_distributed() -> bool:
    """Whether a process group with more than one process is running."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def init_distributed(device: str | torch.device | None = None) -> DistInfo:
    """Join the process group that ``torchrun`` describes in the environment, or run alone.

    Parameters
    ----------
    device : str or torch.device, optional
        Used when running alone (default :func:`course_utils.env.get_device`).
        Under ``torchrun`` each process takes ``cuda:LOCAL_RANK`` when CUDA is
        available and the CPU otherwise.
    """
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo(0, 1, 0, get_device(None if device is None else str(device)))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    wanted = torch.device(device) if device is not None else None
    use_cuda = torch.cuda.is_available() and (wanted is None or wanted.type == "cuda")
    if use_cuda:
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"LOCAL_RANK={local_rank} but this node has {torch.cuda.device_count()} GPU(s): "
                               "start at most one process per GPU (torchrun --nproc_per_node)")
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():  # long timeout: rank 0 alone writes the predictions at the end
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", timeout=datetime.timedelta(hours=2))
    return DistInfo(rank, world, local_rank, dev)


def barrier() -> None:
    """Wait for every process (no-op when running alone)."""
    import torch.distributed as dist

    if is_distributed():
        dist.barrier()


def rank0_exists(path: Path) -> bool:
    """Whether ``path`` exists, as rank 0 sees it (every rank gets the same answer under DDP).

    A rank that cannot see a file rank 0 sees raises: checkpoints and caches must lie
    on storage that every node shares.
    """
    exists = path.exists()
    if not is_distributed():
        return exists
    import torch.distributed as dist

    flag = [exists]
    dist.broadcast_object_list(flag, src=0)
    if flag[0] and not exists:
        raise FileNotFoundError(f"rank {dist.get_rank()} cannot see {path}, which rank 0 wrote: put checkpoints "
                                "and the data folder on storage shared by all nodes")
    return bool(flag[0])


def cleanup_distributed() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_ddp(net: nn.Module, info: DistInfo) -> nn.Module:
    """``DistributedDataParallel(net)`` with synchronised BatchNorm on CUDA; ``net`` itself when alone.

    On the CPU (Gloo) PyTorch has no synchronised BatchNorm, so each process
    normalises with the statistics of its own part of the batch.
    """
    if info.world_size <= 1:
        return net
    from torch.nn.parallel import DistributedDataParallel

    if info.device.type == "cuda":
        net = nn.SyncBatchNorm.convert_sync_batchnorm(net)
        return DistributedDataParallel(net, device_ids=[info.device.index], output_device=info.device.index)
    return DistributedDataParallel(net)


def make_loader(dataset, *, global_batch: int, info: DistInfo, seed: int, shuffle: bool = True, workers: int = 0):
    """A DataLoader over this process's shard: ``global_batch / world_size`` samples per step.

    A ``DistributedSampler`` is used with one replica too, so a single process
    and ``N`` processes visit the same samples in the same global order: step
    ``k`` of the single process covers exactly the union of step ``k`` of the
    ``N`` processes (the permutation of epoch ``e`` is drawn from ``seed + e``).

    Raises
    ------
    ValueError
        If ``global_batch`` is not a multiple of the number of processes, or the
        dataset is smaller than one global batch.
    """
    from torch.utils.data import DataLoader, DistributedSampler

    global_batch = check_int(global_batch, "global_batch", 1)
    if global_batch % info.world_size:
        raise ValueError(f"global_batch={global_batch} is not divisible by the {info.world_size} processes")
    if len(dataset) < global_batch:
        raise ValueError(f"the dataset has {len(dataset)} samples, fewer than one global batch ({global_batch})")
    sampler = DistributedSampler(dataset, num_replicas=info.world_size, rank=info.rank, shuffle=shuffle,
                                 seed=seed, drop_last=True)
    return DataLoader(dataset, batch_size=global_batch // info.world_size, sampler=sampler, drop_last=True,
                      num_workers=workers, pin_memory=info.device.type == "cuda",
                      persistent_workers=False)


def replica_max_difference(net: nn.Module) -> float:
    """The largest absolute difference between this process's parameters and rank 0's (0.0 when alone)."""
    import torch.distributed as dist

    if not is_distributed():
        return 0.0
    flat = torch.cat([p.detach().reshape(-1).float() for p in net.parameters()])
    ref = flat.clone()
    dist.broadcast(ref, src=0)
    diff = (flat - ref).abs().max()
    dist.all_reduce(diff, op=dist.ReduceOp.MAX)
    return float(diff)
