"""DeepLab + the fully connected CRF on Cityscapes-format data: refine, calibrate, score with and without the CRF.

DeepLab (Chen et al., *Semantic Image Segmentation with Deep Convolutional Nets
and Fully Connected CRFs*, ICLR 2015; TPAMI 2018) is two modules: a DCNN gives
coarse stride-8 class scores, bilinearly upsampled to the image; the fully
connected CRF (:mod:`course_utils.crf`) refines them on the image's colours.
This module joins the two on a Cityscapes-layout dataset
(:class:`course_utils.data.cityscapes.CityscapesSegmentation`, e.g. MiniCity):

* :func:`coarse_logits` -- the network's upsampled logits of one frame;
* :func:`fit_temperature` -- temperature scaling (Guo et al., ICML 2017): the
  CRF's unaries are ``-log softmax(logits / T)``, so their scale matters as much
  as the kernel weights; ``T`` minimises the held-out negative log-likelihood;
* :func:`scaled_crf_params` -- kernel widths given in pixels of a full-size
  (2048-wide) Cityscapes frame, scaled to the frame at hand;
* :func:`search_crf_params` -- a small grid search on held-out frames;
* :func:`evaluate_crf` -- mean IoU (the official Cityscapes definition) and the
  boundary trimap accuracy, without and with the CRF, on the same frames;
* :data:`LECTURE_RESULTS` and :func:`results_table` -- the lecture's Cityscapes table
  with our figures beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from course_utils.crf.dense_crf import CRFParams, CRFResult, dense_crf

__all__ = [
    "LECTURE_RESULTS",
    "REFERENCE_WIDTH",
    "coarse_logits",
    "fit_temperature",
    "scaled_crf_params",
    "crf_labels",
    "labelling_energy",
    "frame_scores",
    "CRFEvaluation",
    "evaluate_crf",
    "search_crf_params",
    "full_size_frames",
    "results_table",
    "format_results_table",
]

#: Width in pixels of a Cityscapes frame; the ``"crf"`` settings' spatial widths refer to it.
REFERENCE_WIDTH = 2048

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


def coarse_logits(net: torch.nn.Module, image: np.ndarray, *, input_scale: float = 1.0,
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Module 1 of DeepLab: the DCNN's class scores of one frame, bilinearly upsampled to the frame.

    Parameters
    ----------
    net : nn.Module
        A DeepLab network (``forward_coarse`` gives stride-8 logits), in eval mode.
    image : ndarray (H, W, 3) uint8
        The RGB frame at the size the CRF and the evaluation use.
    input_scale : float
        The network sees the frame resized by this factor (its training resolution).
    device : optional
        Where to run the network (default: where its parameters are).

    Returns
    -------
    torch.Tensor, (C, H, W) float32, on the CPU
        Logits (scores before the softmax) at the frame's size.
    """
    import torch.nn.functional as F

    from course_utils.images import check_image, resize_image
    from course_utils.transforms import to_tensors

    check_image(image, "image", allow_float=False)
    if isinstance(input_scale, bool) or not isinstance(input_scale, (int, float)) or not 0 < input_scale <= 4:
        raise ValueError(f"input_scale must be a number in (0, 4], got {input_scale!r}")
    height, width = image.shape[:2]
    small = image
    if input_scale != 1.0:
        small = resize_image(image, (max(8, round(height * input_scale)), max(8, round(width * input_scale))))
    if device is None:
        device = next(net.parameters()).device
    x = to_tensors(small)[None].to(device)
    with torch.no_grad():
        coarse = net.forward_coarse(x) if hasattr(net, "forward_coarse") else net(x)
        logits = F.interpolate(coarse.float(), size=(height, width), mode="bilinear", align_corners=False)
    return logits[0].cpu()


def _labelled(logits: torch.Tensor, labels: np.ndarray, ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    lab = torch.from_numpy(np.asarray(labels).astype(np.int64)).reshape(-1)
    flat = logits.reshape(logits.shape[0], -1).t()
    keep = lab != ignore_index
    return flat[keep], lab[keep]


def fit_temperature(logits: Sequence[torch.Tensor], labels: Sequence[np.ndarray], *, ignore_index: int = 255,
                    bounds: tuple[float, float] = (0.05, 20.0), max_pixels: int = 200_000, rng=0) -> float:
    """Temperature scaling: the ``T`` that minimises the negative log-likelihood of ``softmax(logits / T)``.

    Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", ICML 2017.
    Use frames the network was not trained on. The NLL is convex in ``1/T``; a
    golden-section search on ``log T`` within ``bounds`` finds the minimum.

    Parameters
    ----------
    logits : sequence of (C, H, W) float tensors
    labels : sequence of (H, W) int arrays (train ids, ``ignore_index`` skipped)
    bounds : (low, high)
        Search interval of ``T``.
    max_pixels : int
        Pixels drawn at random (``rng``) from all labelled ones, to bound the cost.

    Returns
    -------
    float
        ``T > 0``; ``T > 1`` softens over-confident scores, ``T < 1`` sharpens under-confident ones.
    """
    if len(logits) != len(labels) or not logits:
        raise ValueError(f"logits and labels must be non-empty and of the same length, got {len(logits)} "
                         f"and {len(labels)}")
    lo, hi = bounds
    if not 0 < lo < hi:
        raise ValueError(f"bounds must be (low, high) with 0 < low < high, got {bounds!r}")
    xs, ys = [], []
    for k, (lg, lab) in enumerate(zip(logits, labels, strict=True)):
        if tuple(lg.shape[1:]) != np.asarray(lab).shape:
            raise ValueError(f"logits[{k}] has shape {tuple(lg.shape)} but labels[{k}] has shape {np.asarray(lab).shape}")
        x, y = _labelled(lg.float(), lab, ignore_index)
        xs.append(x)
        ys.append(y)
    x, y = torch.cat(xs), torch.cat(ys)
    if len(y) == 0:
        raise ValueError("labels holds no labelled pixel (all are ignore_index)")
    if len(y) > max_pixels:
        gen = np.random.default_rng(rng)
        pick = torch.from_numpy(gen.choice(len(y), size=max_pixels, replace=False))
        x, y = x[pick], y[pick]
    x = x.double()

    def nll(log_t: float) -> float:
        return float(torch.nn.functional.cross_entropy(x / math.exp(log_t), y))

    a, b = math.log(lo), math.log(hi)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(c), nll(d)
    for _ in range(40):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(d)
    return float(math.exp((a + b) / 2))


def scaled_crf_params(params: CRFParams, width: int, reference_width: int = REFERENCE_WIDTH) -> CRFParams:
    """``params`` with the spatial widths (``sigma_alpha``, ``sigma_gamma``) scaled from ``reference_width`` to ``width``.

    Kernel widths are lengths in pixels: a 256x512 frame is a 1024x2048 one at a quarter of the
    resolution, so its kernels are a quarter as wide. Weights and the colour width do not change.
    """
    if not isinstance(params, CRFParams):
        raise TypeError(f"params must be a CRFParams, got {type(params).__name__}")
    for name, value in (("width", width), ("reference_width", reference_width)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name} must be a positive int (pixels), got {value!r}")
    f = width / reference_width
    return replace(params, sigma_alpha=params.sigma_alpha * f, sigma_gamma=params.sigma_gamma * f)


def crf_labels(image: np.ndarray, logits: torch.Tensor, params: CRFParams, *, temperature: float = 1.0,
               iterations: int = 5, **kwargs) -> tuple[np.ndarray, CRFResult]:
    """Module 2 of DeepLab: refine ``logits`` (C, H, W) with the dense CRF on ``image``.

    The unaries are ``-log softmax(logits / temperature)``. Extra keyword arguments go to
    :func:`course_utils.crf.dense_crf` (``history``, ``history_classes``, ``objective``, ``device``).

    Returns
    -------
    labels : ndarray (H, W) uint8
        The refined labelling (argmax of the CRF's marginals).
    result : CRFResult
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    result = dense_crf(image, logits=logits / float(temperature), params=params, iterations=iterations, **kwargs)
    return result.labels.cpu().numpy().astype(np.uint8), result


def labelling_energy(image: np.ndarray, logits: torch.Tensor, labels, params: CRFParams, *,
                     temperature: float = 1.0, crf=None) -> dict[str, float]:
    """The CRF energy ``E(x)`` of a labelling ``x`` (the lecture's formula, the kernels normalised as in inference).

    ``E(x) = sum_i theta_i(x_i) + sum_{i<j} mu(x_i, x_j) k(f_i, f_j)`` with
    ``theta = -log softmax(logits / temperature)`` (clipped at 1e-5 as the CRF's unaries) and the
    Potts ``mu``; the pair sum is ``1/2 sum_i [(K 1)_i - (K onehot(x))_i(x_i)]``, two filterings.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
    logits : (C, H, W) float tensor
    labels : (H, W) int array or tensor, values in 0..C-1
    params : CRFParams
    crf : DenseCRF, optional
        The CRF of this image (e.g. an :class:`~course_utils.crf.exact.ExactDenseCRF`); built if not given.

    Returns
    -------
    dict
        ``unary``, ``pairwise`` and ``total`` (floats, nats).
    """
    from course_utils.crf.dense_crf import DenseCRF, unary_from_probs

    lab = torch.as_tensor(np.asarray(labels)).to(torch.int64)
    c, h, w = (int(v) for v in logits.shape)
    if tuple(lab.shape) != (h, w):
        raise ValueError(f"labels has shape {tuple(lab.shape)} but logits has shape {(c, h, w)}")
    if int(lab.min()) < 0 or int(lab.max()) >= c:
        raise ValueError(f"labels must lie in 0..{c - 1}, got values in [{int(lab.min())}, {int(lab.max())}]")
    unary = unary_from_probs(torch.softmax(logits.float() / float(temperature), dim=0))
    flat = lab.reshape(-1)
    unary_sum = float(unary.reshape(c, -1).t().gather(1, flat[:, None]).to(torch.float64).sum())
    crf = DenseCRF(image, params) if crf is None else crf
    onehot = torch.nn.functional.one_hot(flat, c).to(torch.float32)
    both = torch.cat([onehot, torch.ones(h * w, 1)], dim=1)
    msg = crf.message(both).to(torch.float64)
    agree = msg[:, :c].gather(1, flat[:, None]).sum()
    pairwise = float(0.5 * (msg[:, c].sum() - agree))
    return {"unary": unary_sum, "pairwise": pairwise, "total": unary_sum + pairwise}


def _official_confusion(labels_true: np.ndarray, labels_pred: np.ndarray) -> np.ndarray:
    """(34, 34) label-id confusion as the official evaluation counts it, from train-id maps."""
    from course_utils.data.cityscapes import train_ids_to_label_ids
    from course_utils.evaluate.cityscapes import label_confusion

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
        :func:`course_utils.metrics_boundary.trimap_scores` returns, over all frames).
    """
    from course_utils.evaluate.cityscapes import cityscapes_scores
    from course_utils.metrics_boundary import trimap_scores

    if len(labels_true) != len(labels_pred) or not labels_true:
        raise ValueError("labels_true and labels_pred must be non-empty sequences of the same length")
    cm = sum(_official_confusion(t, p) for t, p in zip(labels_true, labels_pred, strict=True))
    scores = cityscapes_scores(cm)
    shapes = {np.asarray(t).shape for t in labels_true}
    if len(shapes) == 1:
        trimap = trimap_scores(np.stack(labels_true), np.stack(labels_pred).astype(np.int64), 19, widths)
    else:  # frames of different sizes: pool the per-frame band counts
        parts = [trimap_scores(t, np.asarray(p).astype(np.int64), 19, widths)
                 for t, p in zip(labels_true, labels_pred, strict=True)]
        pixels = np.sum([q["pixels"] for q in parts], axis=0)
        correct = np.sum([np.nan_to_num(q["pixel_acc"]) * q["pixels"] for q in parts], axis=0)
        trimap = {"width": parts[0]["width"], "pixel_acc": np.where(pixels > 0, correct / np.maximum(pixels, 1), np.nan),
                  "mean_iu": np.nanmean([q["mean_iu"] for q in parts], axis=0), "pixels": pixels}
    return {"mean_iou": scores["mean_iou"], "class_iou": scores["class_iou"], "trimap": trimap}


@dataclass
class CRFEvaluation:
    """What :func:`evaluate_crf` returns: the same frames scored without and with the CRF.

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
        ``logits`` (C, H, W) and ``result`` (the CRF's :class:`CRFResult`, with history and objective).
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


def evaluate_crf(net: torch.nn.Module, dataset, *, params: CRFParams, temperature: float = 1.0, iterations: int = 5,
                 input_scale: float = 1.0, frames: int | Sequence[int] | None = None,
                 widths: Sequence[float] = (0, 1, 2, 4, 8, 16), history_class: int | None = None,
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
        CRF parameters for frames of this size (see :func:`scaled_crf_params`).
    temperature : float
        Logits are divided by it before the softmax (see :func:`fit_temperature`).
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
    elif isinstance(frames, (int, np.integer)) and not isinstance(frames, bool):
        if not 0 < frames <= len(dataset):
            raise ValueError(f"frames must be in 1..{len(dataset)}, got {frames}")
        indices = list(range(int(frames)))
    else:
        indices = [int(i) for i in frames]
        if not indices or any(not 0 <= i < len(dataset) for i in indices):
            raise ValueError(f"frames must be indices in 0..{len(dataset) - 1}, got {list(frames)}")
    truth, plain, refined, names = [], [], [], []
    first: dict = {}
    for n, i in enumerate(indices):
        image, labels = dataset.load(i)
        logits = coarse_logits(net, image, input_scale=input_scale, device=device)
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


def full_size_frames(count: int, root=None, *, split: str = "val", size: tuple[int, int] = (1024, 2048),
                     seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``count`` frames at Cityscapes' full size: ``(name, image (H, W, 3) uint8, labels (H, W) uint8 train ids)``.

    On MiniCity (a root holding ``minicity.json``, the default without ``$CITYSCAPES_DATASET``) the
    same scenes as the split's first frames are rendered at ``size`` (MiniCity draws every scene at
    any resolution); on a real Cityscapes root its first frames are read as they are (1024 x 2048).
    """
    from course_utils.data.cityscapes import cityscapes_root, labels_to_train_ids, list_frames, read_image, read_label_ids

    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    root = cityscapes_root(root)
    out = []
    if (root / "minicity.json").is_file():
        import json

        from course_utils.data.minicity import CITIES, minicity_stem, render_scene, scene_rng

        seed = int(json.loads((root / "minicity.json").read_text()).get("seed", seed))
        cities = CITIES[split]
        for i in range(int(count)):
            scene = render_scene(scene_rng(seed, split, i), size)
            name = minicity_stem(cities[i % len(cities)], i // len(cities))
            out.append((name, scene.image, labels_to_train_ids(scene.label_ids)))
        return out
    for frame in list_frames(root, split)[: int(count)]:
        out.append((frame.stem, read_image(frame.image), labels_to_train_ids(read_label_ids(frame.label_ids))))
    return out


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
        if model not in ("largefov", "aspp") or not isinstance(crf, bool):
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
