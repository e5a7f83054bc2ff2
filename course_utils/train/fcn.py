"""The FCN paper's training recipe: loss, parameter groups, SGD, staged training with a cache, scoring.

Long, Shelhamer & Darrell, CVPR 2015: per-pixel softmax cross-entropy with the void label
ignored, SGD with momentum 0.9 and weight decay 5e-4, biases at twice the learning rate, and
staged training (FCN-32s, then FCN-16s from it, then FCN-8s). The models are in
:mod:`course_utils.nets.fcn`, the loop in :mod:`course_utils.train`.

* :func:`fcn_loss`, :func:`fcn_param_groups`, :func:`train_fcn` -- one training run;
* :class:`FCNRun`, :func:`train_fcn_stage` -- one variant trained (or loaded from the cache),
  optionally from the previous stage's weights;
* :data:`COURSE_FCN`, :func:`train_fcn_course` -- the recipe of the shipped FCN checkpoints
  (``python -m course_utils.train fcn --recipe course``), trained to convergence with a
  validation loss per epoch.

The paper's four scores of a net are :func:`course_utils.evaluate.checkpoints.evaluate_fcn` (of a
shipped checkpoint: :func:`~course_utils.evaluate.checkpoints.evaluate_fcn_checkpoint`); a run becomes
a checkpoint with :func:`course_utils.train.record.record_fcn`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from course_utils._shared import check_choice, check_int, check_number
from course_utils.cli import command, write_text_atomic
from course_utils.data.loaders import tensor_loader
from course_utils.data.voc import (COURSE_VOC, COURSE_VOC_SCENES, VOCSegmentationDataset, course_synthetic_root,
                                   images_to_tensor, load_arrays, synthetic_voc_parameters,
                                   voc_loaders)
from course_utils.env import cpu_threads, get_device
from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores
from course_utils.nets.fcn import FCN, VARIANTS, fcn_vgg16, freeze_backbone, load_matching_weights
from course_utils.paths import data_root
from course_utils.train.cache import train_cached
from course_utils.train.checkpoint_io import save_atomic
from course_utils.train.loop import checkpoint_seconds, fit, poly_lr
from course_utils.train.run_folder import claim_run_folder, code_commit, match_run_settings, write_provenance

__all__ = ["FCNRun", "fcn_loss", "fcn_param_groups", "train_fcn", "train_fcn_stage", "COURSE_FCN", "FCN_DATA",
           "STAGES", "STARTS_FROM", "course_fcn_data", "long_control_cycles", "train_fcn_course", "completed_stages",
           "save_stage",
           "fcn_architecture", "main"]


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
              desc: str = "FCN", log=print, on_epoch=None, curves=None) -> list[float]:
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
    on_epoch : callable, optional
        Passed to :func:`course_utils.train.fit` (e.g. to record a validation loss per epoch).
    checkpoint, curves : optional
        Passed to :func:`course_utils.train.fit`: the per-epoch checkpoint that a stopped run resumes
        from, and the figures ``on_epoch`` records, saved and restored with it.

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
               checkpoint=checkpoint, seed=seed, desc=desc, log=log, on_epoch=on_epoch, curves=curves)


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


# --------------------------------------------------------------------------- the course checkpoints

#: The recipe of the shipped FCN checkpoints (``--recipe course``): epochs per stage (16s starts
#: from the trained 32s, 8s from 16s; 32s-long continues the trained 32s as long as 16s and 8s took,
#: in the same poly cycles: the control that trains FCN-32s as long as FCN-8s in all), on the
#: synthetic VOC named by ``data`` (:data:`FCN_DATA`). The width and FCN-32s's epochs are the candidate
#: ``python -m course_utils.train fcn-select --data scenes`` chose on held-out training scenes by the rule of
#: :data:`course_utils.config.FCN_RECIPE_SELECTION` (w0.125-e60: held-out FCN-8s mean IU 46.9 %, the best of
#: the six; on a CPU, 2026-12-06/07); 16s, 8s, 32s-fixed and 32s-long as before.
COURSE_FCN: dict[str, Any] = {
    "epochs": {"32s": 60, "16s": 8, "8s": 8, "32s-fixed": 6, "32s-long": 16},
    "lr": 0.05,
    "batch_size": 20,  # the paper's minibatch
    "width": 0.125,
    "batch_norm": True,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "schedule": "poly",
    "seed": 0,
    "data": "scenes",
}

#: The course data each ``--data`` of the recipe trains on (:func:`course_utils.data.voc.course_synthetic_root`).
FCN_DATA: dict[str, dict] = {"clipart": COURSE_VOC, "scenes": COURSE_VOC_SCENES}

#: The order stages train in (a stage's starting weights are trained before it).
STAGES: tuple[str, ...] = ("32s", "16s", "8s", "32s-fixed", "32s-long")
#: The stage whose trained weights a stage starts from (the others start from scratch).
STARTS_FROM: dict[str, str] = {"16s": "32s", "8s": "16s", "32s-long": "32s"}


def _network(variant: str) -> str:
    """The FCN a stage trains: 32s-fixed and 32s-long are FCN-32s nets."""
    return "32s" if variant in ("32s-fixed", "32s-long") else variant


def course_fcn_data(style: str) -> dict[str, Any]:
    """The data parameters of the course's synthetic VOC ``style``, as a run records them
    (:func:`course_utils.data.voc.synthetic_voc_parameters` of its folder)."""
    c = FCN_DATA[check_choice(style, "data", list(FCN_DATA))]
    return {"style": style, "n_train": c["n_train"], "n_val": c["n_val"], "size": list(c["size"]), "seed": c["seed"],
            "max_objects": 4}


def long_control_cycles(epochs: dict[str, int]) -> list[int]:
    """The poly cycles of FCN-32s-long after its FCN-32s: one per later stage of the staged nets (16s, 8s)."""
    return [epochs["16s"], epochs["8s"]]


def train_fcn_course(root: str | Path | None = None, *, device=None, epochs: dict[str, int] | None = None,
                     seed: int | None = None, log=print, on_stage=None,
                     completed: dict[str, dict[str, Any]] | None = None,
                     heldout: int = 0, width: float | None = None,
                     checkpoints: str | Path | None = None, score_val: bool = True) -> dict[str, dict[str, Any]]:
    """Train the course's FCN stages (:data:`COURSE_FCN`) on the course's synthetic VOC.

    FCN-32s first, FCN-16s initialised from it, FCN-8s from FCN-16s, then FCN-32s-fixed (frozen
    backbone), then FCN-32s-long: the trained FCN-32s trained on through one poly cycle per later
    stage (as long as FCN-16s and FCN-8s), so that it has seen as many epochs, in the same schedule
    shape, as FCN-8s in all. After every epoch the validation loss and mean IU are recorded, so the
    curves show whether a stage has converged.

    Parameters
    ----------
    root : path, optional
        A folder holding a synthetic VOC (default: the recipe's data, ``course_synthetic_root(COURSE_FCN["data"])``).
    device : optional
        Default :func:`course_utils.env.get_device`.
    epochs : dict, optional
        Epochs per stage; default ``COURSE_FCN["epochs"]``. Stages left out are not trained; "32s-long"
        needs "32s", "16s" and "8s", and as many epochs as "16s" and "8s" together.
    seed : int, optional
        The training seed (initial weights, batch order); default ``COURSE_FCN["seed"]``, the shipped one.
    on_stage : callable, optional
        ``on_stage(variant, result)`` as soon as a stage is trained (e.g. to save it).
    completed : dict, optional
        Stages already trained (a resumed run): ``{variant: result}`` as this function returns them;
        they are not trained again, and later stages start from their nets.
    heldout : int
        Keep the last ``heldout`` training images out of training and record every stage's loss and
        mean IU on them per epoch too (``heldout_loss``, ``heldout_mean_iu``): the figures on which to
        choose a recipe (epochs, width) without looking at the validation split.
    width : float, optional
        Fraction of VGG16's channels; default ``COURSE_FCN["width"]`` (another width is a candidate recipe,
        :mod:`course_utils.train.fcn_select`, never a shipped one).
    checkpoints : path, optional
        A folder for every stage's per-epoch checkpoint (``fcn-<variant>.ckpt``; FCN-32s-long one per
        cycle), so that a run stopped inside a stage resumes after its last finished epoch, curves and
        training time included. The caller makes sure the folder holds no other run's checkpoints.
    score_val : bool
        Score the validation split after every epoch (``val_loss``, ``val_mean_iu``). False (needs ``heldout``)
        never touches it: a recipe chosen on held-out images then cannot have seen a validation figure.

    Returns
    -------
    dict
        ``{variant: {"net", "train_loss", "val_loss", "val_mean_iu", "seconds", "epochs", "seed", "device"}}``
        (32s-long also ``cycles``; without ``val_loss`` and ``val_mean_iu`` when not ``score_val``).
    """
    recipe = COURSE_FCN
    epochs = _check_stage_epochs(recipe["epochs"] if epochs is None else epochs, "epochs[")
    seed = recipe["seed"] if seed is None else check_int(seed, "seed", 0)
    device = torch.device(device) if device is not None else get_device()
    root = Path(root) if root is not None else course_synthetic_root(recipe["data"])
    heldout = check_int(heldout, "heldout", 0)
    if not isinstance(score_val, bool):
        raise TypeError(f"score_val must be True or False, got {score_val!r}")
    if not score_val and not heldout:
        raise ValueError("score_val=False needs heldout > 0: otherwise no image scores the stages")
    width = recipe["width"] if width is None else check_number(width, "width", 0.0, 1.0, open_min=True)
    train_loader, val_loader = voc_loaders(root, batch_size=recipe["batch_size"], in_memory=True)
    heldout_loader = None
    if heldout:
        images, labels = load_arrays(VOCSegmentationDataset(root, "train"))
        if heldout >= len(images):
            raise ValueError(f"heldout must be smaller than the {len(images)} training images of {root}, got {heldout}")
        x, y = images_to_tensor(images), torch.from_numpy(labels).long()
        train_loader = tensor_loader(x[:-heldout], y[:-heldout], recipe["batch_size"])
        heldout_loader = tensor_loader(x[-heldout:], y[-heldout:], recipe["batch_size"], shuffle=False, flip=False)

    def build(variant: str) -> FCN:
        torch.manual_seed(seed)
        return fcn_vgg16(variant, 21, width=width, batch_norm=recipe["batch_norm"])

    @torch.no_grad()
    def validate(net: FCN, loader=val_loader) -> tuple[float, float]:
        net.eval()
        total, count, cm = 0.0, 0, None
        for images, labels in loader:
            logits = net(images.to(device))
            total += float(fcn_loss(logits, labels.to(device))) * images.shape[0]
            count += images.shape[0]
            part = confusion_matrix(labels, logits.argmax(1).cpu(), 21, 255)
            cm = part if cm is None else cm + part
        return total / count, float(segmentation_scores(cm)["mean_iu"])

    results: dict[str, dict[str, Any]] = dict(completed or {})
    for variant in STAGES:
        if variant not in epochs or variant in results:  # left out, or trained by the resumed run
            continue
        net = build(_network(variant))
        if variant == "32s-fixed":
            freeze_backbone(net)
        elif STARTS_FROM.get(variant) in results:
            load_matching_weights(net, results[STARTS_FROM[variant]]["net"])
        # channels-last weights: oneDNN's (CPU) and cuDNN's faster convolution layout (python -m benchmarks
        # --only fcn_train_step_channels_last measures it), as train deeplab
        net = net.to(device, memory_format=torch.channels_last)
        figures: dict[str, list[float]] = {"val_loss": [], "val_mean_iu": []} if score_val else {}
        if heldout_loader is not None:
            figures.update(heldout_loss=[], heldout_mean_iu=[])

        def on_epoch(_epoch: int, net=net, figures=figures) -> None:
            if score_val:
                loss, miu = validate(net)
                figures["val_loss"].append(loss)
                figures["val_mean_iu"].append(miu)
            if heldout_loader is not None:
                loss, miu = validate(net, heldout_loader)
                figures["heldout_loss"].append(loss)
                figures["heldout_mean_iu"].append(miu)

        cycles = long_control_cycles(epochs) if variant == "32s-long" else [epochs[variant]]
        paths = [None if checkpoints is None else
                 Path(checkpoints) / (f"fcn-{variant}.ckpt" if i == 0 else f"fcn-{variant}-cycle{i + 1}.ckpt")
                 for i in range(len(cycles))]
        start = time.perf_counter()
        history: list[float] = []
        for cycle, path in zip(cycles, paths):  # each a poly schedule from the base rate, as each stage of the staged nets
            history += train_fcn(net, train_loader, epochs=cycle, lr=recipe["lr"], momentum=recipe["momentum"],
                                 weight_decay=recipe["weight_decay"], schedule=recipe["schedule"], device=device,
                                 seed=seed, desc=f"FCN-{variant}", log=None, on_epoch=on_epoch, checkpoint=path,
                                 curves=figures)
        seconds = time.perf_counter() - start
        if checkpoints is not None:  # every process's time, also that of a stopped one this run resumed
            recorded = [checkpoint_seconds(path) for path in paths]
            if all(s is not None for s in recorded):
                seconds = float(sum(recorded))
        held = {k: figures[k] for k in ("heldout_loss", "heldout_mean_iu") if k in figures}
        net.eval()
        if log is not None:
            name, key = ("val", "val") if score_val else ("held-out", "heldout")
            log(f"FCN-{variant}: {epochs[variant]} epochs in {seconds:.0f} s; train loss {history[-1]:.4f}, "
                f"{name} loss {figures[key + '_loss'][-1]:.4f}, {name} mean IU {figures[key + '_mean_iu'][-1]:.4f}")
        results[variant] = {"net": net, "train_loss": history, "seconds": seconds, "epochs": epochs[variant],
                            "seed": seed, "device": device.type}
        if score_val:
            results[variant].update(val_loss=figures["val_loss"], val_mean_iu=figures["val_mean_iu"])
        if variant == "32s-long":
            results[variant]["cycles"] = cycles
        if heldout_loader is not None:
            results[variant].update(held, heldout=heldout)
        if on_stage is not None:
            on_stage(variant, results[variant])
    return results


def _check_stage_epochs(epochs: dict, name: str) -> dict[str, int]:
    """Every stage's epoch count checked (a known stage, an int >= 1) before any stage trains."""
    if not isinstance(epochs, dict) or not epochs:
        raise ValueError(f"epochs must be a non-empty dict {{stage: epochs}} over {list(COURSE_FCN['epochs'])}, "
                         f"got {epochs!r}")
    label = (lambda v: f"{name}{v}") if name.endswith("-") else (lambda v: f"{name}{v!r}]")
    for variant in epochs:
        check_choice(variant, "an epochs stage", list(COURSE_FCN["epochs"]))
    checked = {v: check_int(e, label(v), 1) for v, e in epochs.items()}
    if "32s-long" in checked:
        missing = [v for v in ("32s", "16s", "8s") if v not in checked]
        if missing:
            raise ValueError(f"{label('32s-long')} needs the stages {missing} in the same run: FCN-32s-long continues "
                             "the run's FCN-32s as long as its FCN-16s and FCN-8s")
        if checked["32s-long"] != sum(long_control_cycles(checked)):
            raise ValueError(f"{label('32s-long')} must be {label('16s')} + {label('8s')} = "
                             f"{sum(long_control_cycles(checked))} (FCN-32s trained as long as FCN-8s in all), "
                             f"got {checked['32s-long']}")
    return checked


def fcn_architecture(variant: str) -> dict[str, Any]:
    """The registry's ``architecture`` of a course FCN stage (32s-fixed and 32s-long are FCN-32s nets)."""
    return {"builder": "fcn_vgg16", "args": [_network(variant)],
            "kwargs": {"num_classes": 21, "width": COURSE_FCN["width"], "batch_norm": COURSE_FCN["batch_norm"]}}


_COMMAND = "python -m course_utils.train fcn"


def _stage_net(variant: str, width: float | None = None) -> FCN:
    """An untrained course FCN of stage ``variant`` (32s-fixed and 32s-long are FCN-32s nets), of the
    recipe's width unless ``width`` is given (a candidate of :mod:`course_utils.train.fcn_select`)."""
    return fcn_vgg16(_network(variant), 21, width=COURSE_FCN["width"] if width is None else width,
                     batch_norm=COURSE_FCN["batch_norm"])


def save_stage(out: Path, variant: str, run: dict[str, Any], recipe: dict[str, Any],
               data: dict[str, Any]) -> dict[str, Any]:
    """Write a trained stage to ``out/fcn-<variant>.pt`` (its weights, figures, recipe and data, as
    :func:`completed_stages` reads them back); return its figures without the net."""
    record = {k: v for k, v in run.items() if k != "net"}
    save_atomic({"net": run["net"].state_dict(), **record, "recipe": recipe, "data": data}, out / f"fcn-{variant}.pt")
    return record


def completed_stages(out: Path, recipe: dict[str, Any], data: dict[str, Any],
                     epochs: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The stages an unfinished run folder already holds, checked against the run being resumed.

    Returns ``{variant: result}`` for :func:`train_fcn_course` (``completed``), nets in eval mode.

    Raises
    ------
    ValueError
        A stage file of another recipe, seed, data or epoch count (naming the file), or a stage whose
        starting stage is missing.
    """
    done: dict[str, dict[str, Any]] = {}
    keys = ("train_loss", "val_loss", "val_mean_iu", "seconds", "epochs", "seed", "cycles", "device", "heldout",
            "heldout_loss", "heldout_mean_iu")
    for variant in STAGES:
        path = out / f"fcn-{variant}.pt"
        if variant not in epochs or not path.is_file():
            continue
        state = torch.load(path, map_location="cpu", weights_only=False)
        theirs = {k: v for k, v in state.get("recipe", {}).items() if k != "epochs"}
        ours = {k: v for k, v in recipe.items() if k != "epochs"}
        if theirs != ours or state.get("data") != data or state.get("epochs") != epochs[variant]:
            raise ValueError(f"--out {out} holds {path.name} of another run (recipe {theirs}, data {state.get('data')}, "
                             f"{state.get('epochs')} epochs; this run: {ours}, {data}, {epochs[variant]} epochs): "
                             "choose another --out")
        start = STARTS_FROM.get(variant)
        if start is not None and start not in done:
            raise ValueError(f"--out {out} holds {path.name} but not fcn-{start}.pt, which it starts from: "
                             "choose another --out")
        net = _stage_net(variant, recipe.get("width"))
        net.load_state_dict(state["net"])
        done[variant] = {"net": net.eval(), **{k: state[k] for k in keys if k in state}}
    return done


@command
def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train fcn --recipe course [--data scenes] [--out DIR] ...``; returns the exit status.

    A folder of an unfinished run is resumed: the stages it holds (of the same recipe, seed, data and
    epochs) are loaded, a stage stopped partway resumes after its last finished epoch, the others are
    trained.
    """
    p = argparse.ArgumentParser(prog="python -m course_utils.train fcn",
                                description="Train the course's FCN-32s/16s/8s (staged), FCN-32s-fixed and the "
                                            "FCN-32s-long control.")
    p.add_argument("--recipe", choices=("course",), default="course")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--data", default=COURSE_FCN["data"],
                       help=f"the course's synthetic VOC: {' or '.join(FCN_DATA)} (default {COURSE_FCN['data']}, "
                            "the shipped checkpoints'), generated if missing")
    where.add_argument("--data-root", default=None, help="another VOC-layout root")
    p.add_argument("--data-workers", type=int, default=1, help="processes generating the synthetic VOC")
    p.add_argument("--out", default=None, help="folder for fcn-<variant>.pt and result.json")
    p.add_argument("--device", default=None)
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads (default: the cores no other process is busy on, at most 8)")
    p.add_argument("--seed", type=int, default=COURSE_FCN["seed"],
                   help=f"training seed (default {COURSE_FCN['seed']}, the shipped checkpoints')")
    p.add_argument("--heldout", type=int, default=0,
                   help="train without the last N training images and record every stage's curves on them too "
                        "(to choose a recipe without the validation split; such a run is never shipped)")
    for v in COURSE_FCN["epochs"]:
        p.add_argument(f"--epochs-{v}", type=int, default=None,
                       help=f"epochs of FCN-{v}" + (" (default: those of 16s and 8s together)" if v == "32s-long" else ""))
    args = p.parse_args(argv)
    code = code_commit()  # the code this process runs, read before a long run lets the checkout move on
    # zero is never replaced by a default, and every stage is checked before the first one trains
    given = {v: getattr(args, f"epochs_{v.replace('-', '_')}") for v in COURSE_FCN["epochs"]}
    epochs = {v: e if given[v] is None else given[v] for v, e in COURSE_FCN["epochs"].items()}
    if given["32s-long"] is None and isinstance(epochs["16s"], int) and isinstance(epochs["8s"], int):
        epochs["32s-long"] = epochs["16s"] + epochs["8s"]
    epochs = _check_stage_epochs(epochs, "--epochs-")
    seed = check_int(args.seed, "--seed", 0)
    style = check_choice(args.data, "--data", list(FCN_DATA))
    heldout = check_int(args.heldout, "--heldout", 0)
    workers = check_int(args.data_workers, "--data-workers", 1)
    if args.threads is not None:
        check_int(args.threads, "--threads", 1)
    device = get_device(args.device, name="--device") if args.device is not None else None
    if args.data_root is not None and not Path(args.data_root).is_dir():
        raise FileNotFoundError(f"--data-root {args.data_root} is not a folder")
    out = Path(args.out) if args.out else data_root() / "runs" / "fcn-course"
    claim_run_folder(out, _COMMAND, name="--out", finished="result.json")  # never a user's folder, nor a finished run
    root = Path(args.data_root) if args.data_root else course_synthetic_root(style, workers=workers)
    data = synthetic_voc_parameters(root) or {"root": str(root)}
    if heldout:
        data = {**data, "heldout": heldout}  # trained on fewer images: another dataset to record and resume
    recipe = {**COURSE_FCN, "epochs": epochs, "seed": seed, "data": data.get("style", str(root))}
    completed = completed_stages(out, recipe, data, epochs)
    match_run_settings(out, {"recipe": recipe, "data": data})  # the stages' epoch checkpoints resume this run only
    write_provenance(out, ["python", "-m", "course_utils.train", "fcn", *(sys.argv[2:] if argv is None else argv)],
                     code)
    torch.set_num_threads(cpu_threads(limit=8) if args.threads is None else args.threads)
    summary: dict[str, Any] = {v: {k: x for k, x in r.items() if k != "net"} for v, r in completed.items()}

    def save(variant: str, run: dict[str, Any]) -> None:
        summary[variant] = save_stage(out, variant, run, recipe, data)

    if completed:
        print(f"resuming {out}: {', '.join(f'FCN-{v}' for v in completed)} already trained")
    train_fcn_course(root, device=device, epochs=epochs, seed=seed, on_stage=save, completed=completed,
                     heldout=heldout, checkpoints=out)
    write_text_atomic(out / "result.json", json.dumps(summary, indent=1, default=float))
    return 0
