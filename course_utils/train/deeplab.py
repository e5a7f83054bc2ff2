"""Train DeepLab on Cityscapes (or the offline MiniCity), write official-format predictions, evaluate.

The recipe is DeepLab's (Chen et al., *DeepLab: Semantic Image Segmentation
with Deep Convolutional Nets, Atrous Convolution, and Fully Connected CRFs*,
TPAMI 2018): pixel-wise cross-entropy (ignore label 255), SGD with momentum
0.9 and weight decay 5e-4, the "poly" learning rate
``lr * (1 - step / max_steps) ** 0.9``, random scaling, cropping and flipping.
The course checkpoints' recipe (:data:`COURSE_DEEPLAB`) adds a class-weighted loss
(``class_weights="enet"``, :func:`enet_class_weights`). The networks come from :mod:`course_utils.nets.deeplab`:

``largefov``  DeepLab-LargeFOV: dilated VGG16, fc6 3x3 with rate 12.
``aspp``      DeepLab-ASPP on a dilated ResNet (ResNet-101 in full mode): four 3x3
              branches with rates 6, 12, 18, 24 whose class scores are summed.
``vgg_aspp``  DeepLab-ASPP-L: dilated VGG16 with four LargeFOV-style branches.
``largefov_wide``  the capacity control: LargeFOV with fc6/fc7 widened until it has as many
              parameters as ``vgg_aspp`` (one rate, ASPP-L's capacity).

Quick mode trains narrow networks (a fraction ``width`` of the channels, a
ResNet-18 instead of ResNet-101) from scratch at half resolution on a 2-core
CPU; full mode trains the paper's widths on full-size data on a GPU.

Python::

    net, history = train_deeplab("aspp")             # cached: a second call loads the weights
    scores = evaluate_deeplab(net, "aspp")           # {"mean_iou", "class_iou", "category_iou", ...}

Scoring a network with and without the dense CRF is :func:`course_utils.evaluate.checkpoints.score_with_crf`;
shipping a run as a checkpoint is :mod:`course_utils.train.record`.

Command line (one process, or one per GPU under torchrun)::

    python -m course_utils.train deeplab --model aspp [--epochs N] [--out DIR] ...
    torchrun --nproc_per_node 4 -m course_utils.train deeplab --model aspp
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from course_utils._shared import check_choice, check_int, check_number, check_sequence
from course_utils.cli import check_output_folder, command, write_text_atomic
from course_utils.config import setting
from course_utils.data.cityscapes import CityscapesSegmentation, labels_to_train_ids, list_frames, read_label_ids
from course_utils.data.minicity import course_minicity_root, offline_cityscapes_root
from course_utils.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, RandomScale
from course_utils.env import cpu_threads, get_device
from course_utils.evaluate.cityscapes import evaluate_cityscapes
from course_utils.evaluate.predict import predict_cityscapes
from course_utils.nets.deeplab import (capacity_matched_hidden_channels, deeplab_resnet_aspp, deeplab_vgg16_aspp,
                                      deeplab_vgg16_largefov)
from course_utils.paths import data_root
from course_utils.train.cache import train_cached
from course_utils.train.checkpoint_io import save_atomic
from course_utils.train.loop import checkpoint_seconds, fit, poly_lr
from course_utils.train.run_folder import claim_run_folder, code_commit, match_run_settings, write_provenance
from course_utils.train.distributed import (barrier, cleanup_distributed, init_distributed, is_distributed,
                                            make_loader, replica_max_difference, wrap_ddp)

__all__ = [
    "MODELS",
    "deeplab_settings",
    "build_deeplab",
    "train_deeplab",
    "evaluate_deeplab",
    "COURSE_DEEPLAB",
    "course_deeplab_overrides",
    "deeplab_architecture",
    "CLASS_WEIGHTINGS",
    "train_class_shares",
    "enet_class_weights",
    "main",
]

MODELS: dict[str, str] = {
    "largefov": "DeepLab-LargeFOV (dilated VGG16, fc6 rate 12)",
    "aspp": "DeepLab-ASPP (dilated ResNet, rates 6/12/18/24)",
    "vgg_aspp": "DeepLab-ASPP-L (dilated VGG16, rates 6/12/18/24)",
    "largefov_wide": "DeepLab-LargeFOV, head widened to ASPP-L's parameter count (capacity control)",
}

# Settings that do not change between quick and full mode.
_FIXED: dict[str, Any] = {
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "power": 0.9,
    "scale_range": (0.75, 1.25),
    "flip": True,
    "seed": 0,
    "dropout": 0.5,
    "batch_norm": True,
    "rate": 12,
    "rates": (6, 12, 18, 24),
    "amp": True,
    "train_images": None,  # None: every frame of the split
    "class_weights": "none",  # or "enet": weight each class by 1 / ln(1.02 + its pixel share)
}

_INT_KEYS = {"epochs", "batch_size", "depth", "seed", "rate", "workers"}


def _mode_defaults(model: str) -> dict[str, Any]:
    defaults = dict(_FIXED)
    defaults.update({
        "epochs": setting("cityscapes", "epochs"),
        "batch_size": setting("cityscapes", "batch_size"),
        "lr": setting("cityscapes", "lr"),
        "crop": tuple(setting("cityscapes", "crop_size")),
        "input_scale": setting("cityscapes", "input_scale"),
        "width": setting("cityscapes", "resnet_width" if model == "aspp" else "width"),
        "depth": setting("cityscapes", "resnet_depth"),
        "workers": setting("cityscapes", "workers"),
        "cache_frames": setting("cityscapes", "cache_frames"),
    })
    return defaults


def deeplab_settings(model: str = "largefov", **overrides: Any) -> dict[str, Any]:
    """Every setting of a training run: the mode's defaults, then ``overrides``.

    Parameters
    ----------
    model : {'largefov', 'aspp', 'vgg_aspp', 'largefov_wide'}
    **overrides
        Any of: ``epochs``, ``batch_size`` (global, over all processes), ``lr``,
        ``momentum``, ``weight_decay``, ``power`` (poly exponent), ``crop`` ((H, W)
        after scaling), ``input_scale`` (frames are resized by this when read),
        ``scale_range``, ``flip``, ``seed``, ``width`` (channel fraction), ``depth``
        (ResNet depth for ``aspp``), ``batch_norm`` (VGG16 with BatchNorm),
        ``dropout``, ``rate`` (LargeFOV fc6), ``rates`` (ASPP), ``amp``, ``workers``,
        ``cache_frames`` (keep decoded frames in memory), ``train_images`` (use the first
        N frames; None = all), ``class_weights`` (``"none"``, or ``"enet"`` for
        :func:`enet_class_weights` of the training frames' pixel shares). ``None`` keeps
        the default.

    Raises
    ------
    ValueError
        On an unknown model or setting, or a value of the wrong kind.
    """
    check_choice(model, "model", sorted(MODELS))
    settings = _mode_defaults(model)
    unknown = sorted(set(overrides) - set(settings))
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}; valid: {sorted(settings)}")
    settings.update({k: v for k, v in overrides.items() if v is not None})
    settings["model"] = model
    # checked, not converted: the values are recorded in settings.json as given (runs resume by them)
    for key in _INT_KEYS:
        check_int(settings[key], key, 1 if key in ("epochs", "batch_size", "depth", "rate") else 0)
    for key in ("lr", "width", "input_scale"):
        check_number(settings[key], key, 0, open_min=True)
    check_choice(settings["class_weights"], "class_weights", CLASS_WEIGHTINGS)
    crop = settings["crop"]
    if len(check_sequence(crop, "crop", lambda c, name: check_int(c, name, 1), what="(H, W) positive ints")) != 2:
        raise ValueError(f"crop must be (H, W) positive ints, got {crop!r}")
    settings["crop"] = tuple(crop)
    settings["scale_range"] = tuple(settings["scale_range"])
    settings["rates"] = tuple(settings["rates"])
    return settings


def _hidden_channels(settings: dict[str, Any], num_classes: int) -> int | None:
    """fc6/fc7 depth of a LargeFOV run: ASPP-L's parameter count for ``largefov_wide``, else the width's."""
    if settings["model"] != "largefov_wide":
        return None
    return capacity_matched_hidden_channels(num_classes, settings["width"], settings["rates"],
                                            batch_norm=settings["batch_norm"])


def build_deeplab(settings: dict[str, Any], num_classes: int = 19) -> nn.Module:
    """The network a settings dict describes (see :func:`deeplab_settings`)."""

    model = settings["model"]
    if model in ("largefov", "largefov_wide"):
        return deeplab_vgg16_largefov(num_classes, width=settings["width"], rate=settings["rate"],
                                      dropout=settings["dropout"], batch_norm=settings["batch_norm"],
                                      hidden_channels=_hidden_channels(settings, num_classes))
    if model == "vgg_aspp":
        return deeplab_vgg16_aspp(num_classes, width=settings["width"], rates=settings["rates"],
                                  dropout=settings["dropout"], batch_norm=settings["batch_norm"])
    if model == "aspp":
        return deeplab_resnet_aspp(num_classes, width=settings["width"], rates=settings["rates"],
                                   depth=settings["depth"])
    raise ValueError(f"model={model!r} is unknown; expected one of {sorted(MODELS)}")


def _train_dataset(root: Path, settings: dict[str, Any]):
    from torch.utils.data import Subset

    steps = [RandomScale(settings["scale_range"]), RandomCrop(settings["crop"])]
    if settings["flip"]:
        steps.append(RandomHorizontalFlip(0.5))
    dataset = CityscapesSegmentation(root, "train", scale=settings["input_scale"], transform=Compose(steps),
                                     seed=settings["seed"], cache=settings["cache_frames"])
    n = settings["train_images"]
    if settings["cache_frames"] and settings["workers"] > 0:
        # decode every frame once here: loader workers are forked each epoch and inherit the cache
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(dataset.load, range(len(dataset) if n is None else min(n, len(dataset)))))
    if n is not None:
        if n > len(dataset):
            raise ValueError(f"train_images={n} but {root} has {len(dataset)} training frames")
        subset = Subset(dataset, range(n))
        subset.set_epoch = dataset.set_epoch  # type: ignore[attr-defined]
        return subset
    return dataset


#: The loss weightings ``class_weights`` may name.
CLASS_WEIGHTINGS: tuple[str, ...] = ("none", "enet")


def train_class_shares(root: str | Path, frames: int | None = None, num_classes: int = 19) -> np.ndarray:
    """Each train id's share of the labelled pixels of the first ``frames`` training frames (all if None).

    Returns shape ``(num_classes,)``, summing to 1; pixels labelled 255 (ignore) are not counted.
    """
    files = list_frames(Path(root), "train")
    if frames is not None:
        files = files[:frames]
    if not files:
        raise ValueError(f"root={root} has no training frames to count classes on")
    counts = np.zeros(256, np.int64)
    for f in files:
        counts += np.bincount(labels_to_train_ids(read_label_ids(f.label_ids)).ravel(), minlength=256)
    total = counts[:num_classes].sum()
    if total == 0:
        raise ValueError(f"the training frames of {root} have no labelled pixels")
    return counts[:num_classes] / total


def enet_class_weights(shares: np.ndarray, c: float = 1.02) -> np.ndarray:
    """ENet's class weights ``1 / ln(c + share)`` (Paszke et al., 2016), shape of ``shares``.

    They lie between ``1 / ln(c + 1)`` (a class covering every pixel) and ``1 / ln(c)`` (a class never
    seen; about 50.5 for ``c = 1.02``), so a rare class weighs up to ~50x a dominant one, never more.
    """
    shares = np.asarray(shares, dtype=np.float64)
    if shares.ndim != 1 or not np.all(np.isfinite(shares)) or np.any(shares < 0) or np.any(shares > 1):
        raise ValueError(f"shares must be a 1-d array of pixel shares in [0, 1], got {shares!r}")
    if not c > 1:
        raise ValueError(f"c must be > 1 (so that every weight is positive and finite), got {c!r}")
    return 1.0 / np.log(c + shares)


def _loss_fn(root: Path, settings: dict[str, Any], device: torch.device) -> nn.Module:
    """Pixel-wise cross-entropy (ignore label 255), weighted per class if ``settings['class_weights']`` says so."""
    if settings["class_weights"] == "none":
        return nn.CrossEntropyLoss(ignore_index=255)
    weights = enet_class_weights(train_class_shares(root, settings["train_images"]))
    return nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32, device=device), ignore_index=255)


def _fingerprint(root: Path, split: str = "train") -> str:
    """A hash of the split's file names and sizes: the cache notices regenerated or other data."""

    h = hashlib.sha1()
    for f in list_frames(root, split):
        h.update(f"{f.stem}:{f.image.stat().st_size}:{f.label_ids.stat().st_size};".encode())
    return h.hexdigest()[:16]


def _default_out_dir(model: str) -> Path:
    return data_root() / "runs" / f"deeplab-{model}"


_COMMAND = "python -m course_utils.train deeplab"

# settings that do not change the trained weights (the cache and the run record ignore them)
_NO_EFFECT = ("workers", "cache_frames")


def _json_ready(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items() if k not in _NO_EFFECT}


def _claim_out_dir(out_dir: Path, settings: dict[str, Any], is_main: bool) -> Path:
    """Record the run's settings in ``out_dir/settings.json``; refuse a folder holding another run.

    Rank 0 checks and writes; under DDP every process gets its verdict (so all raise together).
    """

    error = None
    if is_main:
        try:
            # a folder of a user's files or of another command is refused; runs from before the marker resume
            claim_run_folder(out_dir, _COMMAND, name="out_dir (--out)", legacy="settings.json")
            match_run_settings(out_dir, _json_ready(settings), name="out_dir (--out)")
        except ValueError as err:
            error = str(err)
    if is_distributed():
        import torch.distributed as dist

        box = [error]
        dist.broadcast_object_list(box, src=0)
        error = box[0]
    if error:
        raise ValueError(error)
    return out_dir / "checkpoint.pt"


def train_deeplab(model: str = "largefov", data_root: str | Path | None = None, out_dir: str | Path | None = None, *,
                  cache: bool = True, device: str | torch.device | None = None, log=print, progress: bool = True,
                  provenance: tuple[list[str], tuple[str | None, bool | None]] | None = None,
                  **overrides: Any) -> tuple[nn.Module, list[float]]:
    """Train a DeepLab model (or load it from the cache) and return ``(net, history)``.

    Parameters
    ----------
    model : {'largefov', 'aspp', 'vgg_aspp', 'largefov_wide'}
    data_root : path, optional
        A Cityscapes root (default ``$CITYSCAPES_DATASET``, else MiniCity, generated if missing).
    out_dir : path, optional
        Where the per-epoch checkpoint (for resuming) and ``settings.json`` go
        (default ``<data root>/runs/deeplab-<model>``).
    cache : bool
        Load the weights of an earlier run with the same settings and data
        (:func:`course_utils.train.train_cached`); the notebook and the command
        line share this cache.
    device : optional
        Default :func:`course_utils.env.get_device`; under ``torchrun`` each process
        takes its own GPU (or the CPU).
    provenance : (argv, code), optional
        The arguments as run and :func:`code_commit`, written to ``out_dir/provenance.json`` as soon as the
        folder is claimed (:func:`write_provenance`): a run stopped and resumed later keeps the commit of
        every process that trained it, not only of the one that finished.
    **overrides
        Settings, see :func:`deeplab_settings`.

    Returns
    -------
    net : nn.Module
        The trained network (not wrapped), in eval mode, on the device.
    history : list of float
        Mean training loss per epoch.
    """

    settings = deeplab_settings(model, **overrides)
    info = init_distributed(device)
    root = offline_cityscapes_root(data_root)
    settings["data"] = f"{root.resolve()}#{_fingerprint(root)}"
    out = Path(out_dir) if out_dir is not None else _default_out_dir(model)
    torch.manual_seed(settings["seed"])
    # channels-last activations: oneDNN's (CPU) and cuDNN's (AMP) faster convolution layout
    net = build_deeplab(settings).to(info.device, memory_format=torch.channels_last)
    say = log if info.is_main else None

    # Claim the run folder first, on cache hits too: a folder recording other settings is refused
    # before anything (checkpoint, final weights, results) can be written into it.
    checkpoint = _claim_out_dir(out, settings, info.is_main)
    if provenance is not None and info.is_main:
        write_provenance(out, *provenance)

    def train() -> list[float]:
        dataset = _train_dataset(root, settings)
        loader = make_loader(dataset, global_batch=settings["batch_size"], info=info, seed=settings["seed"],
                             workers=settings["workers"])
        wrapped = wrap_ddp(net, info)
        optimizer = torch.optim.SGD(wrapped.parameters(), lr=settings["lr"], momentum=settings["momentum"],
                                    weight_decay=settings["weight_decay"])
        scheduler = poly_lr(optimizer, settings["epochs"] * len(loader), settings["power"])
        loss_fn = _loss_fn(root, settings, info.device)
        if say:
            say(f"training {MODELS[model]} on {len(dataset)} frames of {root} "
                f"({info.world_size} process(es), {info.device}, {settings['epochs']} epochs of {len(loader)} steps)")
        start = time.perf_counter()
        history = fit(wrapped, loader, loss_fn, optimizer, epochs=settings["epochs"], device=info.device,
                      scheduler=scheduler, checkpoint=checkpoint, seed=settings["seed"], amp=settings["amp"],
                      desc=model, is_main=info.is_main, log=say if progress else None)
        if say:
            say(f"trained in {time.perf_counter() - start:.1f} s")
        return history

    if cache:
        history, cached = train_cached(net, f"deeplab-{model}", _json_ready(settings), train, is_main=info.is_main)
        if cached and say:
            say(f"loaded the cached {MODELS[model]} (same settings and data)")
    else:
        history = train()
    net.eval()
    return net, history


def evaluate_deeplab(net: nn.Module, model: str = "largefov", data_root: str | Path | None = None,
                     out_dir: str | Path | None = None, *, split: str = "val", input_scale: float | None = None,
                     device: str | torch.device | None = None, progress: bool = True) -> dict:
    """Write ``net``'s predictions for ``split`` in the official format and evaluate them.

    Predictions go to ``out_dir/predictions`` (label-id PNGs); the scores are
    those of ``python -m course_utils.evaluate cityscapes`` on that folder.

    Returns
    -------
    dict
        ``mean_iou``, ``class_iou``, ``category_iou``, ... (see
        :func:`course_utils.evaluate.cityscapes.evaluate_cityscapes`) and ``predictions`` (the folder).
    """

    root = offline_cityscapes_root(data_root)
    scale = deeplab_settings(model)["input_scale"] if input_scale is None else input_scale
    dataset = CityscapesSegmentation(root, split, scale=scale)
    out = Path(out_dir) if out_dir is not None else _default_out_dir(model)
    if device is None:
        device = next(net.parameters()).device
    pred_dir = predict_cityscapes(net, dataset, out / "predictions", device=device, progress=progress)
    scores = evaluate_cityscapes(pred_dir, root / "gtFine" / split)
    scores["predictions"] = str(pred_dir)
    return scores


# --------------------------------------------------------------------------- the course checkpoints

_DEEPLAB_COMMON: dict[str, Any] = {
    "input_scale": 1.0,  # MiniCity frames are 256 x 512: the network sees them at full size
    "crop": (256, 256),
    "scale_range": (0.75, 1.25),
    "batch_size": 8,
    "lr": 0.02,
    "epochs": 60,
    "batch_norm": True,
    "seed": 0,
    "amp": True,
    "cache_frames": True,
    "workers": 0,
    "class_weights": "enet",
}
#: The recipe of the shipped DeepLab checkpoints (``--recipe course``), per model: LargeFOV and
#: ASPP-L on the *same* dilated VGG16 (BatchNorm, 1/8 of the channels), ASPP on a dilated
#: ResNet-18 (1/4 of the channels); trained on :data:`course_utils.data.minicity.COURSE_MINICITY`.
#: One departure from DeepLab's recipe: the cross-entropy weights each class by ENet's
#: ``1 / ln(1.02 + share)`` (:func:`enet_class_weights`), because networks this small, trained from
#: scratch, otherwise never predict MiniCity's thin and rare classes (poles, signs, people, bicycles).
COURSE_DEEPLAB: dict[str, dict[str, Any]] = {
    "largefov": {**_DEEPLAB_COMMON, "width": 0.125},
    "vgg_aspp": {**_DEEPLAB_COMMON, "width": 0.125},
    "aspp": {**_DEEPLAB_COMMON, "width": 0.25, "depth": 18, "lr": 0.01},
    "largefov_wide": {**_DEEPLAB_COMMON, "width": 0.125},
}
_BUILDERS = {"largefov": "deeplab_vgg16_largefov", "vgg_aspp": "deeplab_vgg16_aspp", "aspp": "deeplab_resnet_aspp",
             "largefov_wide": "deeplab_vgg16_largefov"}

def course_deeplab_overrides(model: str, **changes: Any) -> dict[str, Any]:
    """The course recipe's settings for ``model`` (:data:`COURSE_DEEPLAB`) with ``changes`` applied
    (``None`` keeps the recipe's value)."""
    if model not in COURSE_DEEPLAB:
        raise ValueError(f"model={model!r} has no course recipe; expected one of {sorted(COURSE_DEEPLAB)}")
    out = dict(COURSE_DEEPLAB[model])
    out.update({k: v for k, v in changes.items() if v is not None})
    return out


def deeplab_architecture(settings: dict[str, Any], num_classes: int = 19) -> dict[str, Any]:
    """The registry's ``architecture`` of a run (:func:`course_utils.checkpoints.build_net` rebuilds it)."""
    model = settings["model"]
    if model == "aspp":
        kwargs = {"width": settings["width"], "rates": list(settings["rates"]), "depth": settings["depth"]}
    else:
        kwargs = {"width": settings["width"], "dropout": settings["dropout"], "batch_norm": settings["batch_norm"]}
        if model in ("largefov", "largefov_wide"):
            kwargs["rate"] = settings["rate"]
            hidden = _hidden_channels(settings, num_classes)
            if hidden is not None:
                kwargs["hidden_channels"] = hidden
        else:
            kwargs["rates"] = list(settings["rates"])
    return {"builder": _BUILDERS[model], "args": [num_classes], "kwargs": kwargs,
            "input_scale": settings["input_scale"]}


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils.train deeplab",
                                description="Train DeepLab on Cityscapes or MiniCity (also under torchrun).")
    p.add_argument("--model", choices=sorted(MODELS), default="largefov")
    p.add_argument("--recipe", choices=("mode", "course"), default="mode",
                   help="mode: the quick/full settings of SEGCOURSE_FULL; course: the recipe of the shipped "
                        "checkpoints (COURSE_DEEPLAB), on the course's MiniCity unless --data-root")
    p.add_argument("--data-workers", type=int, default=1, help="processes generating the course MiniCity")
    p.add_argument("--data-root", default=None, help="Cityscapes root (default: $CITYSCAPES_DATASET, else MiniCity)")
    p.add_argument("--out", default=None, help="run folder: checkpoint, settings, predictions, scores")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int, help="global batch size (over all processes)")
    p.add_argument("--lr", type=float)
    p.add_argument("--width", type=float, help="channel fraction of the network")
    p.add_argument("--depth", type=int, help="ResNet depth of --model aspp (18, 34, 50, 101, 152)")
    p.add_argument("--crop", type=int, nargs=2, metavar=("H", "W"))
    p.add_argument("--input-scale", type=float, help="resize frames by this factor when read")
    p.add_argument("--dropout", type=float)
    p.add_argument("--no-batch-norm", dest="batch_norm", action="store_false", default=None,
                   help="VGG16 without BatchNorm (the paper's; hard to train from scratch)")
    p.add_argument("--train-images", type=int, help="use only the first N training frames")
    p.add_argument("--class-weights", choices=CLASS_WEIGHTINGS,
                   help="none: plain cross-entropy; enet: weight class k by 1 / ln(1.02 + its pixel share)")
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", type=int, help="DataLoader workers per process")
    p.add_argument("--no-amp", dest="amp", action="store_false", default=None, help="no mixed precision on CUDA")
    p.add_argument("--device", default=None, help="when running alone: cpu, cuda, cuda:N")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads per process (default: $SEGCOURSE_THREADS, else the cores not busy with "
                        "other processes, at most 8; 1 is fastest on a busy machine)")
    p.add_argument("--no-cache", dest="cache", action="store_false", help="train even if a cached run exists")
    p.add_argument("--no-eval", dest="evaluate", action="store_false", help="skip predictions and evaluation")
    p.add_argument("--save-all-ranks", action="store_true",
                   help="every process saves its final weights to OUT/final_rank<R>.pt (to check replicas agree)")
    return p


@command
def main(argv: list[str] | None = None) -> int:
    """``python -m course_utils.train deeplab ...``; returns the exit status (2 on bad input or files)."""

    args = _parser().parse_args(argv)
    code = code_commit()  # the code this process runs: read now, before a long run lets the checkout move on
    if args.device is not None and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        get_device(args.device, name="--device")  # DeviceError: "--device='cuda' but CUDA is not available ..."
    if args.out:
        check_output_folder(args.out, "--out")
    if args.threads is not None:
        check_int(args.threads, "--threads", 1)
    # default: the cores no other process is busy on (course_utils.env.cpu_threads): two threads on a core
    # shared with another process make every step several times slower than one thread
    torch.set_num_threads(cpu_threads(limit=8) if args.threads is None else args.threads)
    overrides = {k: getattr(args, k) for k in ("epochs", "batch_size", "lr", "width", "depth", "input_scale",
                                               "dropout", "batch_norm", "train_images", "seed", "workers", "amp",
                                               "class_weights")}
    overrides["crop"] = tuple(args.crop) if args.crop else None
    try:
        if args.recipe == "course":
            overrides = course_deeplab_overrides(args.model, **overrides)
            if args.data_root is None:
                args.data_root = str(course_minicity_root(workers=args.data_workers))
        settings = deeplab_settings(args.model, **overrides)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    info = init_distributed(args.device)
    out = Path(args.out) if args.out else _default_out_dir(args.model)
    try:
        start = time.perf_counter()
        argv_run = ["python", "-m", "course_utils.train", "deeplab", *(sys.argv[2:] if argv is None else argv)]
        net, history = train_deeplab(args.model, args.data_root, out, cache=args.cache, device=info.device,
                                     provenance=(argv_run, code), **{k: settings[k] for k in overrides})
        seconds = time.perf_counter() - start
        # a run resumed over several processes: the time of all of them, as the checkpoint sums it
        total = checkpoint_seconds(out / "checkpoint.pt") if info.is_main else None
        diff = replica_max_difference(net)
        if args.save_all_ranks:
            save_atomic({"net": net.state_dict(), "history": history}, out / f"final_rank{info.rank}.pt")
        result: dict[str, Any] = {"model": args.model, "history": history, "world_size": info.world_size,
                                  "replica_max_difference": diff, "seconds": seconds if total is None else total,
                                  "seconds_this_process": seconds, "device": str(info.device), "recipe": args.recipe}
        if info.is_main:
            save_atomic({"net": net.state_dict(), "history": history, "settings": _json_ready(settings)},
                         out / "final.pt")
            if args.evaluate:
                scores = evaluate_deeplab(net, args.model, args.data_root, out, input_scale=settings["input_scale"],
                                          device=info.device)
                result.update(mean_iou=scores["mean_iou"], class_iou=scores["class_iou"],
                              category_iou=scores["category_iou"], predictions=scores["predictions"])
                print(f"{MODELS[args.model]}: mean IoU {scores['mean_iou']:.4f} over {scores['frames']} frames "
                      f"(predictions in {scores['predictions']})")
            write_text_atomic(out / "result.json", json.dumps(result, indent=1, default=float))
            write_provenance(out, argv_run, code)
        barrier()
    finally:
        cleanup_distributed()
    return 0
