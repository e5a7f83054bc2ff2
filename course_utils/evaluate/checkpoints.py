"""Score a course checkpoint on any data folder: DeepLab on a Cityscapes layout, FCN on a VOC layout.

    python -m course_utils.evaluate deeplab --checkpoint NAME --data-root DIR [--crf] [--frames N] [--json]
    python -m course_utils.evaluate fcn --checkpoint NAME --data-root DIR [--json]

The DeepLab figures follow the official Cityscapes definition (19 train classes, IoU over
the whole split's confusion); the trimap accuracy is DeepLab's boundary measure. With
``--crf`` the network's scores are refined by the dense CRF with the temperature and
kernel parameters that the course's held-out search chose for that checkpoint
(:func:`search_checkpoint_crf`), recorded in its registry entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from course_utils.checkpoints import REGISTRY, load_checkpoint
from course_utils.crf.dense_crf import CRFParams

__all__ = [
    "TRIMAP_WIDTHS",
    "CRF_SEARCH_GRID",
    "evaluate_deeplab_checkpoint",
    "evaluate_fcn_checkpoint",
    "heldout_minicity_frames",
    "search_checkpoint_crf",
]

#: Trimap band widths (pixels of the evaluated frames) reported by the DeepLab evaluation.
TRIMAP_WIDTHS: tuple[float, ...] = (0, 1, 2, 4, 8, 16)

#: The grid the held-out search tries, in pixels (and 0-255 colour units) of the frames
#: themselves: (w1, sigma_alpha, sigma_beta, w2, sigma_gamma).
CRF_SEARCH_GRID: tuple[tuple[float, float, float, float, float], ...] = tuple(
    (w1, sa, sb, 3.0, 2.0) for w1 in (4.0, 8.0) for sa in (15.0, 30.0, 60.0) for sb in (8.0, 16.0))


def _deeplab_entry(name: str):
    if name not in REGISTRY or REGISTRY[name].family != "deeplab":
        names = sorted(k for k, e in REGISTRY.items() if e.family == "deeplab")
        raise ValueError(f"checkpoint={name!r} is not a DeepLab checkpoint; expected one of {names}")
    return REGISTRY[name]


def evaluate_deeplab_checkpoint(name: str, data_root: str | Path | None = None, *, frames: int | None = 100,
                                crf: bool = False, split: str = "val",
                                widths: Sequence[float] = TRIMAP_WIDTHS, net: torch.nn.Module | None = None) -> dict:
    """Mean IoU, class IoU and trimap accuracy of a DeepLab checkpoint on a Cityscapes-layout split.

    Parameters
    ----------
    name : str
        A DeepLab entry of :data:`course_utils.checkpoints.REGISTRY`.
    data_root : path, optional
        A Cityscapes-layout root (default: ``$CITYSCAPES_DATASET``, else MiniCity).
    frames : int, optional
        Score the split's first ``frames`` frames (None: all).
    crf : bool
        Also refine with the dense CRF (the entry's searched settings) and report both.
    net : nn.Module, optional
        The loaded network (default: :func:`load_checkpoint` of ``name``).

    Returns
    -------
    dict
        ``frames`` (count), ``dcnn`` = ``{"mean_iou", "class_iou", "trimap": {"width", "pixel_acc"}}``
        and, with ``crf``, ``crf`` (the same for the refined labels) and ``gain``
        (``mean_iou`` and ``trimap_small``: the accuracy gain averaged over bands <= 4 px).
    """
    from course_utils.data.cityscapes import CityscapesSegmentation
    from course_utils.deeplab_crf import coarse_logits, evaluate_crf, frame_scores

    entry = _deeplab_entry(name)
    net = load_checkpoint(name) if net is None else net
    scale = entry.architecture.get("input_scale", 1.0)
    dataset = CityscapesSegmentation(data_root, split)
    count = len(dataset) if frames is None else int(frames)
    if not 0 < count <= len(dataset):
        raise ValueError(f"frames must be in 1..{len(dataset)} (the {split} split of {dataset.root}), got {frames!r}")

    def clean(scores: dict) -> dict:
        t = scores["trimap"]
        return {"mean_iou": float(scores["mean_iou"]),
                "class_iou": {k: (None if np.isnan(v) else float(v)) for k, v in scores["class_iou"].items()},
                "trimap": {"width": [float(w) for w in t["width"]], "pixel_acc": [float(a) for a in t["pixel_acc"]]}}

    if crf:
        params = CRFParams(**entry.crf["params"])
        ev = evaluate_crf(net, dataset, params=params, temperature=entry.crf["temperature"],
                          iterations=entry.crf["iterations"], input_scale=scale, frames=count, widths=widths)
        return {"frames": count, "dcnn": clean(ev.dcnn), "crf": clean(ev.crf),
                "gain": {k: float(v) for k, v in ev.gain(4.0).items()}}
    truth, preds = [], []
    for i in range(count):
        image, labels = dataset.load(i)
        preds.append(coarse_logits(net, image, input_scale=scale).argmax(0).numpy().astype(np.uint8))
        truth.append(labels)
    return {"frames": count, "dcnn": clean(frame_scores(truth, preds, widths))}


def evaluate_fcn_checkpoint(name: str, data_root: str | Path, *, split: str = "val",
                            net: torch.nn.Module | None = None) -> dict:
    """The FCN paper's four scores of an FCN checkpoint on a VOC-layout split (images at full size, one by one).

    Returns
    -------
    dict
        ``pixel_acc``, ``mean_acc``, ``mean_iu``, ``fw_iu`` (fractions) and ``images``.
    """
    from course_utils.data.voc import VOCSegmentationDataset, find_voc_root, voc_loaders
    from course_utils.nets.fcn import evaluate

    if name not in REGISTRY or REGISTRY[name].family != "fcn":
        names = sorted(k for k, e in REGISTRY.items() if e.family == "fcn")
        raise ValueError(f"checkpoint={name!r} is not an FCN checkpoint; expected one of {names}")
    find_voc_root(data_root)  # a clear error for a folder without VOCdevkit/VOC2012
    net = load_checkpoint(name) if net is None else net
    _, val = voc_loaders(data_root, batch_size=1, image_size=None or 128, val_set=split)
    scores = evaluate(net, val, 21)
    out = {k: float(scores[k]) for k in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu")}
    out["images"] = len(VOCSegmentationDataset(data_root, split))
    return out


def heldout_minicity_frames(count: int, *, seed: int = 0, first: int = 1000,
                            size: tuple[int, int] = (256, 512)) -> list[tuple[np.ndarray, np.ndarray]]:
    """MiniCity training-split scenes ``first .. first + count - 1`` rendered in memory: ``(image, train-id labels)``.

    The course checkpoints were trained on scenes ``0 .. 999`` of the training split, so these
    scenes are held out: the CRF's temperature and parameters are chosen on them, never on
    the validation frames that are reported.
    """
    from course_utils.data.cityscapes import labels_to_train_ids
    from course_utils.data.minicity import render_scene, scene_rng

    out = []
    for i in range(first, first + int(count)):
        scene = render_scene(scene_rng(seed, "train", i), size)
        out.append((scene.image, labels_to_train_ids(scene.label_ids)))
    return out


def search_checkpoint_crf(net: torch.nn.Module, frames: Sequence[tuple[np.ndarray, np.ndarray]], *,
                          input_scale: float = 1.0, iterations: int = 5,
                          grid: Sequence[tuple[float, ...]] = CRF_SEARCH_GRID) -> dict:
    """Choose the CRF's temperature and kernel parameters for ``net`` on held-out ``frames``.

    The temperature minimises the held-out negative log-likelihood of the network's softmax
    (:func:`course_utils.deeplab_crf.fit_temperature`); then every candidate of ``grid`` is scored
    (mean IoU, ties broken by the 4-px trimap accuracy) and the best one is kept.

    Returns
    -------
    dict
        ``temperature``, ``iterations``, ``params`` (the chosen CRFParams as a dict), ``rows``
        (every candidate's ``params``, ``mean_iou``, ``trimap``; the first row is the network alone).
    """
    from dataclasses import asdict

    from course_utils.deeplab_crf import coarse_logits, fit_temperature, search_crf_params

    images = [im for im, _ in frames]
    labels = [lab for _, lab in frames]
    logits = [coarse_logits(net, im, input_scale=input_scale) for im in images]
    temperature = fit_temperature(logits, labels)
    candidates = [CRFParams(*g) for g in grid]
    best, rows = search_crf_params(images, logits, labels, candidates, temperature=temperature, iterations=iterations)
    return {"temperature": float(temperature), "iterations": int(iterations), "params": asdict(best),
            "rows": [{"params": None if r["params"] is None else asdict(r["params"]), "mean_iou": float(r["mean_iou"]),
                      "trimap": float(r["trimap"])} for r in rows]}
