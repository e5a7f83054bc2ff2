"""Training recipe of the saliency net (:mod:`course_utils.nets.saliency`): per-pixel BCE, Adam, poly decay."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from course_utils._shared import check_int
from course_utils.data.loaders import saliency_loader
from course_utils.nets.saliency import SaliencyNet
from course_utils.train.loop import fit, poly_lr

__all__ = ["train_saliency_net"]


def train_saliency_net(net: SaliencyNet, images: np.ndarray, masks: np.ndarray, *, epochs: int, batch_size: int,
                       lr: float = 2e-3, device: torch.device | str = "cpu", seed: int = 0,
                       cpu_threads: int | None = None, log=print) -> list[float]:
    """Train ``net`` with per-pixel binary cross-entropy and Adam (``course_utils.train.fit``).

    Parameters
    ----------
    net : SaliencyNet
    images : ndarray, shape (N, H, W, 3), uint8
    masks : ndarray, shape (N, H, W), bool
    epochs, batch_size : int
    lr : float
        Adam's initial learning rate; it decays with the poly schedule.
    device : torch.device or str
    seed : int
        Seeds data order and flips (epoch ``e`` uses ``seed + e``).
    cpu_threads : int, optional
        On the CPU, train with this many torch threads (restored afterwards).
        The quick-mode net is tiny: one thread is nearly as fast as two and
        does not slow down tenfold when another program keeps the cores busy.
        None leaves torch's setting alone.
    log : callable or None
        Receives one line per epoch.

    Returns
    -------
    list of float
        The mean loss of each epoch.
    """
    if cpu_threads is not None:
        cpu_threads = check_int(cpu_threads, "cpu_threads", 1)
    loader = saliency_loader(images, masks, batch_size=batch_size)
    net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    scheduler = poly_lr(optimizer, max_steps=epochs * len(loader))
    threads = torch.get_num_threads()
    if cpu_threads is not None and torch.device(device).type == "cpu":
        torch.set_num_threads(cpu_threads)
    try:
        return fit(net, loader, F.binary_cross_entropy_with_logits, optimizer, epochs=epochs, device=device,
                   scheduler=scheduler, seed=seed, desc="saliency", log=log)
    finally:
        torch.set_num_threads(threads)
