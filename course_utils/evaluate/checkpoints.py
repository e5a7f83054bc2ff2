"""Scoring trained networks: a DeepLab with and without the dense CRF, and the shipped checkpoints.

* :func:`score_with_crf` -- a DeepLab network alone and refined by the dense CRF, on the same frames
  (lesson 7: DCNN + CRF), per-frame scores pooled (:func:`course_utils.evaluate.crf.frame_scores`);
* :func:`evaluate_deeplab_checkpoint` -- mean IoU, class IoU and trimap accuracy of a shipped DeepLab
  (``python -m course_utils.evaluate deeplab``), with ``crf=True`` also refined by the CRF its registry
  entry records;
* :func:`evaluate_fcn` -- the FCN paper's four scores of a network over batches (lesson 4);
* :func:`evaluate_fcn_checkpoint` -- those scores of a shipped FCN on a VOC-layout split
  (``python -m course_utils.evaluate fcn``);
* :data:`TRIMAP_WIDTHS` -- the trimap band widths reported for the checkpoints.

Running a network on one frame or batch is :mod:`course_utils.evaluate.predict`; training and
shipping checkpoints is :mod:`course_utils.train`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_utils._shared import check_int, check_sequence
from course_utils.checkpoints import REGISTRY, load_checkpoint
from course_utils.crf.deeplab import crf_labels, scaled_crf_params
from course_utils.crf.dense_crf import CRFParams
from course_utils.data.cityscapes import CityscapesSegmentation
from course_utils.data.minicity import offline_cityscapes_root
from course_utils.data.voc import SegmentationTransform, VOCSegmentationDataset, find_voc_root
from course_utils.evaluate.crf import CRFEvaluation, frame_scores
from course_utils.evaluate.predict import dcnn_logits, predict_labels
from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores

__all__ = ["TRIMAP_WIDTHS", "score_with_crf", "dcnn_frame_scores", "evaluate_deeplab_checkpoint", "evaluate_fcn",
           "evaluate_fcn_checkpoint"]

#: Trimap band widths (pixels of the evaluated frames) reported for the checkpoints.
TRIMAP_WIDTHS: tuple[float, ...] = (0, 1, 2, 4, 8, 16)


def score_with_crf(net: torch.nn.Module, dataset, *, params: CRFParams, temperature: float = 1.0, iterations: int = 5,
                 input_scale: float = 1.0, frames: int | Sequence[int] | None = None,
                 widths: Sequence[float] = TRIMAP_WIDTHS, history_class: int | None = None,
                 device: torch.device | str | None = None) -> CRFEvaluation:
    """Score ``net`` alone and ``net`` + dense CRF on the same frames of ``dataset``.

    Parameters
    ----------
    net : nn.Module
        A trained DeepLab network (eval mode).
    dataset : CityscapesSegmentation
        Frames are read with ``dataset.load`` (at the dataset's ``scale``); the CRF and the
        scores use that size.
    params : CRFParams
        CRF parameters for frames of this size (see :func:`course_utils.crf.deeplab.scaled_crf_params`).
    temperature : float
        Logits are divided by it before the softmax (see :func:`course_utils.crf.deeplab.fit_temperature`).
    input_scale : float
        The network sees each frame resized by this factor.
    frames : int or sequence of int, optional
        The first ``frames`` frames, or these indices (default: all).
    widths : trimap band widths, pixels.
    history_class : int, optional
        Record this class's scores and probabilities over the iterations (and the
        mean-field objective) for the first frame.

    Returns
    -------
    CRFEvaluation
    """
    if frames is None:
        indices = list(range(len(dataset)))
    elif isinstance(frames, (int, np.integer)) and not isinstance(frames, (bool, np.bool_)):
        indices = list(range(check_int(frames, "frames", 1, len(dataset))))
    else:
        indices = list(check_sequence(frames, "frames", lambda i, name: check_int(i, name, 0, len(dataset) - 1),
                                      what="frame indices"))
    truth, plain, refined, names = [], [], [], []
    first: dict = {}
    for n, i in enumerate(indices):
        image, labels = dataset.load(i)
        logits = dcnn_logits(net, image, input_scale=input_scale, device=device)
        extra = {}
        if n == 0 and history_class is not None:
            extra = {"history": True, "history_classes": [int(history_class)], "objective": True}
        pred_crf, result = crf_labels(image, logits, params, temperature=temperature, iterations=iterations, **extra)
        pred = logits.argmax(0).numpy().astype(np.uint8)
        truth.append(labels)
        plain.append(pred)
        refined.append(pred_crf)
        names.append(dataset.frames[i].stem)
        if n == 0:
            first = {"image": image, "labels": labels, "dcnn": pred, "crf": pred_crf, "logits": logits,
                     "result": result}
    return CRFEvaluation(dcnn=frame_scores(truth, plain, widths), crf=frame_scores(truth, refined, widths),
                         params=params, temperature=float(temperature), frames=names, first=first)


def dcnn_frame_scores(net: nn.Module, frames: Iterable[tuple[np.ndarray, np.ndarray]], *, input_scale: float = 1.0,
                      widths: Sequence[float] = TRIMAP_WIDTHS) -> dict:
    """:func:`~course_utils.evaluate.crf.frame_scores` of a DeepLab network alone (no CRF) on ``frames``,
    ``(image (H, W, 3) uint8, train ids (H, W))`` pairs; the network sees each frame resized by ``input_scale``."""
    truth, preds = [], []
    for image, labels in frames:
        preds.append(dcnn_logits(net, image, input_scale=input_scale).argmax(0).numpy().astype(np.uint8))
        truth.append(labels)
    return frame_scores(truth, preds, widths)


def _deeplab_entry(name: str):
    if name not in REGISTRY or REGISTRY[name].family != "deeplab":
        names = sorted(k for k, e in REGISTRY.items() if e.family == "deeplab")
        raise ValueError(f"checkpoint={name!r} is not a DeepLab checkpoint; expected one of {names}")
    return REGISTRY[name]


def _clean_scores(scores: dict) -> dict:
    t = scores["trimap"]
    return {"mean_iou": float(scores["mean_iou"]),
            "class_iou": {k: (None if np.isnan(v) else float(v)) for k, v in scores["class_iou"].items()},
            "trimap": {"width": [float(w) for w in t["width"]], "pixel_acc": [float(a) for a in t["pixel_acc"]]}}


def evaluate_deeplab_checkpoint(name: str, data_root: str | Path | None = None, *, frames: int | None = 100,
                                crf: bool = False, split: str = "val", widths: Sequence[float] = TRIMAP_WIDTHS,
                                net: nn.Module | None = None, crf_settings: dict | None = None) -> dict:
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
        Also refine with the dense CRF, with the temperature and parameters the course's held-out
        search chose for this checkpoint (its registry entry's ``crf``), and report both.
    net : nn.Module, optional
        The loaded network (default: :func:`~course_utils.checkpoints.load_checkpoint` of ``name``).
    crf_settings : dict, optional
        ``{"temperature", "iterations", "params"}`` to use instead of the entry's ``crf`` (another
        training seed of the same recipe, with the settings its own held-out search chose).

    Returns
    -------
    dict
        ``frames`` (count), ``dcnn`` = ``{"mean_iou", "class_iou", "trimap": {"width", "pixel_acc"}}``
        (fractions; the official Cityscapes definition of the IoU) and, with ``crf``, ``crf`` (the same
        for the refined labels) and ``gain`` (``mean_iou``; ``trimap_small``: the accuracy gain
        averaged over bands <= 4 px). Frames of another width than the training frames (real
        Cityscapes, 1024 x 2048, for a network trained on 256 x 512 MiniCity) are met at the scale the
        network was trained at, and ``scale_note`` says so (see :func:`_frame_scale`).
    """
    entry = _deeplab_entry(name)
    net = load_checkpoint(name) if net is None else net
    dataset = CityscapesSegmentation(offline_cityscapes_root(data_root), split)
    count = len(dataset) if frames is None else check_int(frames, f"frames (the {split} split of {dataset.root})",
                                                          1, len(dataset))
    scale, crf_width, note = _frame_scale(name, entry, dataset)
    out: dict = {"frames": count}
    if note:
        out["scale_note"] = note
    if crf:
        chosen = entry.crf if crf_settings is None else crf_settings
        params = CRFParams(**chosen["params"])
        if crf_width is not None:
            params = scaled_crf_params(params, crf_width[1], crf_width[0])
        ev = score_with_crf(net, dataset, params=params, temperature=chosen["temperature"],
                            iterations=chosen["iterations"], input_scale=scale, frames=count, widths=widths)
        return {**out, "dcnn": _clean_scores(ev.dcnn), "crf": _clean_scores(ev.crf),
                "gain": {k: float(v) for k, v in ev.gain(4.0).items()}}
    return {**out, "dcnn": _clean_scores(dcnn_frame_scores(net, (dataset.load(i) for i in range(count)),
                                                           input_scale=scale, widths=widths))}


def _frame_scale(name: str, entry, dataset) -> tuple[float, tuple[int, int] | None, str]:
    """How a checkpoint meets frames of another size than it was trained on.

    The network sees every frame at the scale it was trained at (objects as many pixels tall): frames
    ``k`` times wider than the training frames are resized by ``1/k`` before the network, its scores
    are upsampled to the frame and scored there. The CRF runs on the frame itself, so its spatial
    widths (in pixels of the frames the held-out search used) are scaled by ``k``.

    Returns ``(input_scale, (searched width, frame width) or None, note)``; the note is empty when the
    frames have the training frames' width.
    """
    scale = float(entry.architecture.get("input_scale", 1.0))
    trained = entry.data.get("size")
    if not trained:
        return scale, None, ""
    height, width = dataset.load(0)[0].shape[:2]
    trained_h, trained_w = int(trained[0]), int(trained[1])
    searched_w = int(entry.crf.get("frame_width", trained_w)) if entry.crf else trained_w
    if width == trained_w:
        return scale, None, ""
    factor = trained_w / width
    note = (f"{name} was trained on {trained_h}x{trained_w} frames; the frames of {dataset.root} are "
            f"{height}x{width}: the network sees them resized by {factor:g} (to about "
            f"{round(height * factor)}x{round(width * factor)}), its scores are upsampled to {height}x{width} and "
            f"scored there, and the CRF's spatial widths are scaled by {width / searched_w:g}")
    return scale * factor, (searched_w, width), note


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


def evaluate_fcn_checkpoint(name: str, data_root: str | Path, *, split: str = "val",
                            net: nn.Module | None = None) -> dict:
    """The FCN paper's four scores of an FCN checkpoint on a VOC-layout split (images one by one, full size).

    Returns
    -------
    dict
        ``pixel_acc``, ``mean_acc``, ``mean_iu``, ``fw_iu`` (fractions) and ``images``.
    """
    if name not in REGISTRY or REGISTRY[name].family != "fcn":
        names = sorted(k for k, e in REGISTRY.items() if e.family == "fcn")
        raise ValueError(f"checkpoint={name!r} is not an FCN checkpoint; expected one of {names}")
    find_voc_root(data_root)  # a clear error for a folder without VOCdevkit/VOC2012
    net = load_checkpoint(name) if net is None else net
    # the split alone, image by image at full size, as the FCN paper evaluates (a root may hold no training split)
    val = torch.utils.data.DataLoader(VOCSegmentationDataset(data_root, split, SegmentationTransform(None)),
                                      batch_size=1, shuffle=False)
    scores = evaluate_fcn(net, val, 21)
    out = {k: float(scores[k]) for k in ("pixel_acc", "mean_acc", "mean_iu", "fw_iu")}
    out["images"] = len(VOCSegmentationDataset(data_root, split))
    return out
