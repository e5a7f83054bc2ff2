"""DeepLab with and without the dense CRF, scored: per-frame scores, the parameter search, the results table.

* :func:`frame_scores` -- mean IoU (the official Cityscapes definition) and the boundary
  trimap accuracy of a set of frames;
* :class:`CRFEvaluation` -- the same frames scored without and with the CRF (what
  :func:`course_utils.evaluate.checkpoints.score_with_crf` returns);
* :func:`search_crf_params` -- a small grid search on held-out frames;
* :data:`LECTURE_RESULTS`, :func:`results_table`, :func:`format_results_table` -- the lecture's
  Cityscapes table with our figures beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from course_utils.crf.deeplab import crf_labels
from course_utils.crf.dense_crf import CRFParams
from course_utils.data.cityscapes import train_ids_to_label_ids
from course_utils.evaluate.boundary import pooled_trimap_scores
from course_utils.evaluate.cityscapes import cityscapes_scores, label_confusion

__all__ = ["LECTURE_RESULTS", "CRFEvaluation", "format_results_table", "frame_scores", "results_table",
           "search_crf_params"]

#: The lecture's Cityscapes results (DeepLab, TPAMI 2018, Table 6): mean IoU in %.
LECTURE_RESULTS: tuple[dict, ...] = (
    {"backbone": "VGG-16", "full": False, "aug": False, "largefov": True, "aspp": False, "crf": False, "miou": 62.97},
    {"backbone": "VGG-16", "full": False, "aug": False, "largefov": True, "aspp": False, "crf": True, "miou": 64.18},
    {"backbone": "VGG-16", "full": True, "aug": False, "largefov": True, "aspp": False, "crf": False, "miou": 64.89},
    {"backbone": "VGG-16", "full": True, "aug": False, "largefov": True, "aspp": False, "crf": True, "miou": 65.94},
    {"backbone": "ResNet-101", "full": True, "aug": False, "largefov": False, "aspp": False, "crf": False, "miou": 66.6},
    {"backbone": "ResNet-101", "full": True, "aug": False, "largefov": True, "aspp": False, "crf": False, "miou": 69.2},
    {"backbone": "ResNet-101", "full": True, "aug": False, "largefov": False, "aspp": True, "crf": False, "miou": 70.4},
    {"backbone": "ResNet-101", "full": True, "aug": True, "largefov": False, "aspp": True, "crf": False, "miou": 71.0},
    {"backbone": "ResNet-101", "full": True, "aug": True, "largefov": False, "aspp": True, "crf": True, "miou": 71.4},
)


def _official_confusion(labels_true: np.ndarray, labels_pred: np.ndarray) -> np.ndarray:
    """(34, 34) label-id confusion as the official evaluation counts it, from train-id maps."""
    gt = np.asarray(labels_true)
    gt_ids = np.where(gt == 255, 0, train_ids_to_label_ids(np.where(gt == 255, 0, gt), name="labels_true"))
    return label_confusion(train_ids_to_label_ids(np.asarray(labels_pred), name="labels_pred"), gt_ids.astype(np.uint8))


def frame_scores(labels_true: Sequence[np.ndarray], labels_pred: Sequence[np.ndarray],
                 widths: Sequence[float] = (0, 1, 2, 4, 8, 16)) -> dict:
    """Mean IoU (Cityscapes' official definition) and the trimap curves of a set of frames.

    Parameters
    ----------
    labels_true, labels_pred : sequences of (H, W) int arrays, train ids (255 = ignore in the truth)
    widths : band widths of the trimap, pixels

    Returns
    -------
    dict
        ``mean_iou`` (fraction), ``class_iou`` ({name: fraction}), ``trimap`` (what
        :func:`course_utils.evaluate.boundary.pooled_trimap_scores` returns: confusion matrices pooled over the frames).
    """
    if len(labels_true) != len(labels_pred) or not labels_true:
        raise ValueError("labels_true and labels_pred must be non-empty sequences of the same length")
    cm = sum(_official_confusion(t, p) for t, p in zip(labels_true, labels_pred, strict=True))
    scores = cityscapes_scores(cm)
    # the trimap's confusion matrices are pooled over the frames, whatever their sizes
    trimap = pooled_trimap_scores(list(labels_true), [np.asarray(p).astype(np.int64) for p in labels_pred], 19, widths)
    return {"mean_iou": scores["mean_iou"], "class_iou": scores["class_iou"], "trimap": trimap}


@dataclass
class CRFEvaluation:
    """What :func:`course_utils.evaluate.checkpoints.score_with_crf` returns: the same frames scored without and with the CRF.

    Attributes
    ----------
    dcnn, crf : dict
        :func:`frame_scores` of the network alone and of network + CRF.
    params : CRFParams
        The CRF parameters used (already scaled to the frames' width).
    temperature : float
    frames : list of str
        The frames' names (``{city}_{seq}_{frame}``).
    first : dict
        The first frame: ``image``, ``labels`` (truth), ``dcnn`` and ``crf`` (predictions),
        ``logits`` (C, H, W) and ``result`` (the CRF's
        :class:`~course_utils.crf.dense_crf.CRFResult`, with history and objective).
    """

    dcnn: dict
    crf: dict
    params: CRFParams
    temperature: float
    frames: list[str] = field(default_factory=list)
    first: dict = field(default_factory=dict)

    def gain(self, width_max: float = 4.0) -> dict[str, float]:
        """CRF minus DCNN: mean IoU and the trimap accuracy averaged over bands of width <= ``width_max`` (fractions)."""
        w = np.asarray(self.dcnn["trimap"]["width"])
        small = w <= width_max
        return {"mean_iou": self.crf["mean_iou"] - self.dcnn["mean_iou"],
                "trimap_small": float(np.nanmean(self.crf["trimap"]["pixel_acc"][small])
                                      - np.nanmean(self.dcnn["trimap"]["pixel_acc"][small]))}


def search_crf_params(images: Sequence[np.ndarray], logits: Sequence[torch.Tensor], labels: Sequence[np.ndarray],
                      candidates: Sequence[CRFParams], *, temperature: float = 1.0, iterations: int = 5,
                      band: float = 4.0) -> tuple[CRFParams, list[dict]]:
    """Pick CRF parameters on held-out frames: the best mean IoU, ties broken by the trimap accuracy.

    DeepLab cross-validated its CRF parameters on a held-out set the same way (a coarse grid).

    Parameters
    ----------
    images, logits, labels : sequences of the same length
        Held-out frames (H, W, 3) uint8, their network logits (C, H, W), and truth (H, W) train ids.
    candidates : sequence of CRFParams
        The grid (already scaled to the frames' width).
    band : float
        Width in pixels of the trimap band reported and used to break ties.

    Returns
    -------
    best : CRFParams
    rows : list of dict
        One per candidate (and ``None`` = no CRF first): ``params``, ``mean_iou``, ``trimap`` (accuracy in the band).
    """
    if not (len(images) == len(logits) == len(labels)) or not images:
        raise ValueError("images, logits and labels must be non-empty sequences of the same length")
    if not candidates:
        raise ValueError("candidates must hold at least one CRFParams")
    plain = [lg.argmax(0).numpy().astype(np.uint8) for lg in logits]
    base = frame_scores(labels, plain, (band,))
    rows = [{"params": None, "mean_iou": base["mean_iou"], "trimap": float(base["trimap"]["pixel_acc"][0])}]
    for p in candidates:
        preds = [crf_labels(im, lg, p, temperature=temperature, iterations=iterations)[0]
                 for im, lg in zip(images, logits, strict=True)]
        s = frame_scores(labels, preds, (band,))
        rows.append({"params": p, "mean_iou": s["mean_iou"], "trimap": float(s["trimap"]["pixel_acc"][0])})
    best = max(rows[1:], key=lambda r: (round(r["mean_iou"], 4), r["trimap"]))
    return best["params"], rows


def results_table(ours: dict[tuple[str, bool], float], *, full: bool, aug: bool, source: str = "ours") -> list[dict]:
    """The lecture's Cityscapes table followed by our rows, in the same columns.

    Parameters
    ----------
    ours : mapping ``(model, crf) -> mean IoU`` (fraction)
        ``model`` in {'largefov', 'aspp'} (:mod:`course_utils.train.deeplab`).
    full : bool
        Whether our networks were trained on full-resolution frames (the lecture's "Full";
        DeepLab's first rows used frames downsampled by 2, as our ``input_scale=0.5``).
    aug : bool
        Whether training used random input scaling (the lecture's "Aug").
    source : str
        Written in our rows' ``source`` column.

    Returns
    -------
    list of dict
        Keys ``source``, ``backbone``, ``full``, ``aug``, ``largefov``, ``aspp``, ``crf``, ``miou`` (in %),
        and for our rows ``lecture_miou``: the lecture's figure of the row with the same
        LargeFOV/ASPP/CRF flags (the closest in Full/Aug).
    """
    rows = [{"source": "lecture", **row, "lecture_miou": None} for row in LECTURE_RESULTS]
    for (model, crf), value in ours.items():
        if model not in ("largefov", "aspp") or type(crf) is not bool:
            raise ValueError(f"ours keys must be (model in {{'largefov', 'aspp'}}, crf: bool), got {(model, crf)!r}")
        largefov, aspp = model == "largefov", model == "aspp"
        same = [r for r in LECTURE_RESULTS if r["largefov"] == largefov and r["aspp"] == aspp and r["crf"] == crf]
        closest = max(same, key=lambda r: (r["full"] == full) + (r["aug"] == aug) + 0.5 * (r["backbone"] == (
            "VGG-16" if largefov else "ResNet-101"))) if same else None
        rows.append({"source": source, "backbone": "VGG-16" if largefov else "ResNet", "full": full, "aug": aug,
                     "largefov": largefov, "aspp": aspp, "crf": crf, "miou": 100.0 * float(value),
                     "lecture_miou": None if closest is None else closest["miou"]})
    return rows


def _as_given(value: float) -> str:
    """The lecture's figure with its own digits: 62.97, 71.0."""
    return f"{value:.1f}" if round(value, 1) == value else f"{value:.2f}"


def format_results_table(rows: list[dict]) -> str:
    """A Markdown table of :func:`results_table`'s rows (the lecture's figures as given, ours to one decimal)."""
    def mark(v: bool) -> str:
        return "yes" if v else ""

    lines = ["| source | backbone | Full | Aug | LargeFOV | ASPP | CRF | mIOU (%) | lecture's |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lecture = "" if r.get("lecture_miou") is None else _as_given(r["lecture_miou"])
        miou = _as_given(r["miou"]) if r["source"] == "lecture" else f"{r['miou']:.1f}"
        lines.append(f"| {r['source']} | {r['backbone']} | {mark(r['full'])} | {mark(r['aug'])} | "
                     f"{mark(r['largefov'])} | {mark(r['aspp'])} | {mark(r['crf'])} | {miou} | {lecture} |")
    return "\n".join(lines)
