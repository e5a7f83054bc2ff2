"""The FCN paper's training recipe: loss, parameter groups, SGD, staged training with a cache, scoring.

Long, Shelhamer & Darrell, CVPR 2015: per-pixel softmax cross-entropy with the void label
ignored, SGD with momentum 0.9 and weight decay 5e-4, biases at twice the learning rate, and
staged training (FCN-32s, then FCN-16s from it, then FCN-8s). The models are in
:mod:`course_utils.nets.fcn`, the loop in :mod:`course_utils.train`.

* :func:`fcn_loss`, :func:`fcn_param_groups`, :func:`train_fcn` -- one training run;
* :class:`FCNRun`, :func:`train_fcn_stage` -- one variant trained (or loaded from the cache),
  optionally from the previous stage's weights;
* :func:`evaluate_fcn` -- the paper's four scores of a net over a loader.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores
from course_utils.nets.fcn import FCN, VARIANTS, freeze_backbone, load_matching_weights
from course_utils.train import fit, poly_lr, train_cached
from course_utils.train.predict import predict_labels

__all__ = ["FCNRun", "evaluate_fcn", "fcn_loss", "fcn_param_groups", "train_fcn", "train_fcn_stage"]


def fcn_param_groups(net: nn.Module, lr: float, weight_decay: float = 5e-4) -> list[dict]:
    """SGD parameter groups as the FCN reference solver: biases at twice the rate, no weight decay on them.

    Frozen parameters (``requires_grad=False``: the last deconvolution, a fixed backbone) are
    left out.
    """
    if lr <= 0 or weight_decay < 0:
        raise ValueError(f"lr must be > 0 and weight_decay >= 0, got lr={lr}, weight_decay={weight_decay}")
    weights, biases = [], []
    for name, p in net.named_parameters():
        if not p.requires_grad:
            continue
        (biases if name.endswith("bias") or p.ndim == 1 else weights).append(p)
    return [{"params": weights, "lr": lr, "weight_decay": weight_decay},
            {"params": biases, "lr": 2 * lr, "weight_decay": 0.0}]


def fcn_loss(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = 255) -> torch.Tensor:
    """Per-pixel softmax cross-entropy, averaged over the labelled pixels (void = ``ignore_index``).

    The paper sums the loss over pixels (with a learning rate of 1e-4 for VGG16); we average it,
    which only rescales the learning rate.

    Parameters
    ----------
    logits : Tensor (N, C, H, W)
    labels : Tensor (N, H, W) int64
    """
    if logits.ndim != 4 or labels.ndim != 3 or logits.shape[0] != labels.shape[0] or logits.shape[2:] != labels.shape[1:]:
        raise ValueError(f"logits (N, C, H, W) and labels (N, H, W) must agree, got {tuple(logits.shape)} "
                         f"and {tuple(labels.shape)}")
    return nn.functional.cross_entropy(logits, labels, ignore_index=ignore_index)


def train_fcn(net: FCN, loader, *, epochs: int, lr: float, momentum: float = 0.9, weight_decay: float = 5e-4,
              schedule: str = "poly", device: torch.device | str = "cpu", checkpoint=None, seed: int = 0,
              desc: str = "FCN", log=print) -> list[float]:
    """Train an FCN with the paper's recipe: SGD with momentum 0.9, weight decay 5e-4, biases at 2x lr.

    Frozen parameters (the last deconvolution; the backbone of FCN-32s-fixed) are not updated.

    Parameters
    ----------
    net : FCN, already on ``device``
    loader : iterable of ``(images (N, 3, H, W), labels (N, H, W))`` batches
    epochs : int
    lr : float
        Base learning rate (for :func:`fcn_loss`, a per-pixel mean).
    schedule : {"poly", "fixed"}
        The paper keeps the rate fixed; "poly" (DeepLab) helps short runs.

    Returns
    -------
    list of float
        Mean training loss per epoch.
    """
    if schedule not in ("poly", "fixed"):
        raise ValueError(f"schedule={schedule!r}: expected 'poly' or 'fixed'")
    optimizer = torch.optim.SGD(fcn_param_groups(net, lr, weight_decay), lr=lr, momentum=momentum)
    scheduler = poly_lr(optimizer, epochs * len(loader)) if schedule == "poly" else None
    return fit(net, loader, fcn_loss, optimizer, epochs=epochs, device=device, scheduler=scheduler,
               checkpoint=checkpoint, seed=seed, desc=desc, log=log)


@torch.no_grad()
def evaluate_fcn(net: nn.Module, batches, num_classes: int = 21, *, device: torch.device | str | None = None,
             ignore_index: int = 255) -> dict:
    """The FCN paper's four scores of ``net`` over ``batches`` of ``(images, labels)``.

    Images of different sizes are fine with a batch size of 1 (real VOC).

    Returns
    -------
    dict
        :func:`course_utils.evaluate.segmentation_scores` plus ``"confusion"`` (C, C) int64.
    """
    cm = None
    for images, labels in batches:
        pred = predict_labels(net, images, batch_size=images.shape[0], device=device)
        part = confusion_matrix(labels.cpu(), pred, num_classes, ignore_index)
        cm = part if cm is None else cm + part
    if cm is None:
        raise ValueError("batches is empty")
    scores = segmentation_scores(cm)
    scores["confusion"] = cm
    return scores


@dataclass
class FCNRun:
    """One trained FCN variant: the net, its loss history, whether it came from the cache, and the
    settings that identify it (a later stage that starts from it includes them in its own)."""

    variant: str
    net: FCN
    history: list[float]
    from_cache: bool
    key: dict


def train_fcn_stage(build, loader, variant: str, *, epochs: int, lr: float, name: str, settings: dict,
                    init: FCNRun | None = None, device: torch.device | str = "cpu", cache_dir=None, log=print,
                    **train_kwargs) -> FCNRun:
    """Train one FCN variant (cached), optionally starting from a trained one (staged training).

    Parameters
    ----------
    build : callable
        ``build(variant) -> FCN`` for "32s", "16s", "8s" (on the CPU; moved to ``device`` here).
    loader : training batches (see :func:`train_fcn`)
    variant : {"32s", "16s", "8s", "32s-fixed"}
        "32s-fixed" is FCN-32s with a frozen backbone: only the scoring layer learns.
    epochs, lr : int, float
    name : str
        Prefix of the cache file.
    settings : dict
        Everything else that determines the result (data, sizes, widths), JSON-serialisable.
    init : FCNRun, optional
        Copy its weights first (FCN-16s from FCN-32s, FCN-8s from FCN-16s, as the paper); its key
        becomes part of this run's key, so retraining it retrains this one.
    **train_kwargs
        Passed to :func:`train_fcn` (momentum, weight_decay, schedule, ...).

    Returns
    -------
    FCNRun
    """
    if variant not in VARIANTS + ("32s-fixed",):
        raise ValueError(f"variant={variant!r}: expected one of {VARIANTS + ('32s-fixed',)}")
    net = build("32s" if variant == "32s-fixed" else variant)
    if variant == "32s-fixed":
        freeze_backbone(net)
    if init is not None:
        load_matching_weights(net, init.net)
    net = net.to(device)
    key = {**settings, "variant": variant, "epochs": epochs, "lr": lr,
           "recipe": {k: v for k, v in sorted(train_kwargs.items())}, "init": init.key if init is not None else None}

    def run():
        return train_fcn(net, loader, epochs=epochs, lr=lr, device=device, desc=f"FCN-{variant}", log=log,
                         **train_kwargs)

    history, cached = train_cached(net, f"{name}-{variant}", key, run, cache_dir=cache_dir)
    if log is not None:
        log(f"FCN-{variant}: {'loaded from cache' if cached else 'trained'}, final loss {history[-1]:.4f}")
    return FCNRun(variant, net, history, cached, key)
