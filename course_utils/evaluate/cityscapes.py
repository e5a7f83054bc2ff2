"""The Cityscapes pixel-level evaluation (class IoU, mean IoU, category IoU), and its result format.

Predictions are PNGs of *label ids* (not train ids), one per ground-truth
frame, named ``{city}_{seq}_{frame}*.png`` (e.g. the input's name
``{city}_{seq}_{frame}_leftImg8bit.png``) anywhere under the prediction folder:
the format of the official benchmark and of
``cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling``.

The scores are those of the official script. With ``n[g, p]`` the pixels of
ground-truth label ``g`` predicted as label ``p`` (all 34 label ids), for an
evaluated class ``c``:

* ``TP = n[c, c]``;
* ``FN = sum_p n[c, p] - TP`` (a prediction of an ignored label counts against ``c``);
* ``FP = sum_{g not ignored, g != c} n[g, c]`` (pixels whose ground truth is
  ignored never count);
* ``IoU = TP / (TP + FP + FN)``, NaN when the denominator is 0.

The mean IoU averages the 19 classes' IoUs that are not NaN. A category
(flat, construction, object, nature, sky, human, vehicle) is scored the same
way with its classes merged (``FP`` skips ignored rows and the category's own).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from course_utils.data.cityscapes import train_ids_to_label_ids
from course_utils.images import read_image_file

__all__ = [
    "NUM_LABEL_IDS",
    "core_name",
    "find_ground_truth",
    "match_predictions",
    "label_confusion",
    "cityscapes_scores",
    "evaluate_cityscapes",
    "write_prediction",
    "official_cityscapes_scores",
]

#: Label ids 0..33 (``license plate``, id -1, never appears in label images).
NUM_LABEL_IDS = 34
_GT_SUFFIX = "_gtFine_labelIds.png"


@lru_cache(maxsize=1)
def _table():
    from cityscapesscripts.helpers.labels import labels

    labs = [lab for lab in labels if lab.id >= 0]
    evaluated = [lab for lab in sorted(labs, key=lambda lab: lab.trainId) if not lab.ignoreInEval]
    ignored = np.array([lab.ignoreInEval for lab in sorted(labs, key=lambda lab: lab.id)])
    categories: dict[str, list[int]] = {}
    for lab in labs:
        categories.setdefault(lab.category, [])
        if not lab.ignoreInEval:
            categories[lab.category].append(lab.id)
    category_of = np.array([lab.category for lab in sorted(labs, key=lambda lab: lab.id)])
    return evaluated, ignored, categories, category_of


def core_name(path: str | Path) -> str | None:
    """``{city}_{seq}_{frame}`` of a Cityscapes-style file name, or None if it has fewer than three parts."""
    name = Path(path).name
    if name.endswith(".png"):
        name = name[:-4]
    parts = name.split("_")
    if len(parts) < 3:
        return None
    return "_".join(parts[:3])


def find_ground_truth(gt_dir: str | Path) -> dict[str, Path]:
    """``{core name: path}`` of every ``*_gtFine_labelIds.png`` under ``gt_dir`` (recursively)."""
    gt_dir = Path(gt_dir)
    if not gt_dir.is_dir():
        raise FileNotFoundError(f"gt={gt_dir} is not a folder: expected a folder of *{_GT_SUFFIX} (e.g. <root>/gtFine/val)")
    found = {}
    for path in sorted(gt_dir.rglob(f"*{_GT_SUFFIX}")):
        found[core_name(path)] = path
    if not found:
        raise FileNotFoundError(f"gt={gt_dir} holds no *{_GT_SUFFIX} file (e.g. <root>/gtFine/val)")
    return found


def _listing(names, limit: int = 5) -> str:
    names = sorted(map(str, names))
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def match_predictions(pred_dir: str | Path, ground_truth: dict[str, Path]) -> dict[str, Path]:
    """Pair each ground-truth frame with its prediction ``{city}_{seq}_{frame}*.png`` under ``pred_dir``.

    Raises
    ------
    FileNotFoundError
        If ``pred_dir`` does not exist or a frame has no prediction.
    ValueError
        If a frame has several predictions, or a PNG matches no ground-truth frame.
    """
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"pred={pred_dir} is not a folder")
    matched: dict[str, list[Path]] = {}
    extra = []
    for path in sorted(pred_dir.rglob("*.png")):
        core = core_name(path)
        if core in ground_truth:
            matched.setdefault(core, []).append(path)
        else:
            extra.append(path.relative_to(pred_dir))
    missing = sorted(set(ground_truth) - set(matched))
    if missing:
        raise FileNotFoundError(
            f"pred={pred_dir} has no prediction for {len(missing)} of {len(ground_truth)} ground-truth frames: "
            f"{_listing(f'{m}*.png' for m in missing)}")
    several = {k: v for k, v in matched.items() if len(v) > 1}
    if several:
        k, v = next(iter(several.items()))
        raise ValueError(f"pred={pred_dir} has {len(v)} predictions for frame {k}: {_listing(p.name for p in v)}")
    if extra:
        raise ValueError(
            f"pred={pred_dir} holds {len(extra)} PNG(s) that match no ground-truth frame: {_listing(extra)} "
            "(expected names {city}_{seq}_{frame}*.png of the evaluated split only)")
    return {k: v[0] for k, v in matched.items()}


def _read(path: Path, what: str = "image") -> np.ndarray:
    return read_image_file(path, what=what)


#: Label ids 1-6 are void (ego vehicle, rectification border, out of roi, static, dynamic, ground): a
#: label-id prediction rarely holds them, a train-id prediction (sidewalk = 1, building = 2, ...) always
#: does. Label id 0 ("unlabeled") is left out: a label-id prediction writes its ignored pixels as 0.
_VOID_IDS = range(1, 7)


def _train_to_label_ids(pred: np.ndarray, name: str) -> np.ndarray:
    """Train ids 0-18 (255 = ignore, written as label id 0 "unlabeled") -> label ids."""
    if not np.issubdtype(pred.dtype, np.integer):
        raise ValueError(f"{name} has dtype {pred.dtype}: expected integer train ids")
    ignore = pred == 255
    out = train_ids_to_label_ids(np.where(ignore, 0, pred), name=f"{name} (read as train ids, --pred-ids train)")
    out[ignore] = 0
    return out


def _train_id_suspicion(cm: np.ndarray, max_pred: int) -> str | None:
    """Why a label-id confusion matrix looks computed from train-id predictions, or None."""
    if max_pred >= 19 or cm.sum() == 0:
        return None
    void = cm[:, list(_VOID_IDS)].sum() / cm.sum()
    as_train = np.zeros_like(cm)
    mapping = train_ids_to_label_ids(np.arange(19))
    for t in range(19):
        as_train[:, mapping[t]] += cm[:, t]
    as_label_iou, as_train_iou = cityscapes_scores(cm)["mean_iou"], cityscapes_scores(as_train)["mean_iou"]
    better = not math.isnan(as_train_iou) and (math.isnan(as_label_iou) or as_train_iou > as_label_iou + 0.05)
    if void < 0.25 and not better:
        return None
    return (f"every predicted value is 0-18 and {void:.0%} of the pixels are void label ids 1-6 "
            f"(mean IoU {as_label_iou:.3f} read as label ids, {as_train_iou:.3f} read as train ids)")


def label_confusion(pred: np.ndarray, gt: np.ndarray, pred_name: str = "prediction", gt_name: str = "ground truth") -> np.ndarray:
    """``(34, 34)`` int64 pixel counts by (ground-truth label id, predicted label id).

    Raises
    ------
    ValueError
        On different sizes, a multi-channel prediction, or values that are not label ids 0-33.
    """
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.ndim != 2:
        raise ValueError(f"{pred_name} has shape {pred.shape}: expected a single-channel (H, W) PNG of label ids")
    if gt.ndim != 2:
        raise ValueError(f"{gt_name} has shape {gt.shape}: expected a single-channel (H, W) PNG of label ids")
    if pred.shape != gt.shape:
        raise ValueError(f"{pred_name} is {pred.shape[1]}x{pred.shape[0]} (WxH) but {gt_name} is "
                         f"{gt.shape[1]}x{gt.shape[0]}: predictions must have the ground truth's size")
    for arr, name in ((gt, gt_name), (pred, pred_name)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} has dtype {arr.dtype}: expected integer label ids")
        if arr.size and (arr.min() < 0 or arr.max() >= NUM_LABEL_IDS):
            bad = np.unique(arr[(arr < 0) | (arr >= NUM_LABEL_IDS)])[:8]
            hint = "" if name == gt_name else (" (predictions hold label ids, not train ids 0-18 with 255: write them "
                                               "with write_prediction, or evaluate train ids with --pred-ids train)")
            raise ValueError(f"{name} holds values {bad.tolist()} that are not Cityscapes label ids 0-33{hint}")
    idx = gt.astype(np.int64).ravel() * NUM_LABEL_IDS + pred.astype(np.int64).ravel()
    return np.bincount(idx, minlength=NUM_LABEL_IDS ** 2).reshape(NUM_LABEL_IDS, NUM_LABEL_IDS)


def _iou(cm: np.ndarray, ids: list[int], fp_rows: np.ndarray) -> float:
    tp = int(cm[np.ix_(ids, ids)].sum())
    fn = int(cm[ids, :].sum()) - tp
    fp = int(cm[np.ix_(np.flatnonzero(fp_rows), ids)].sum())
    denom = tp + fp + fn
    return float("nan") if denom == 0 else tp / denom


def cityscapes_scores(cm: np.ndarray) -> dict:
    """Class, mean and category IoU (fractions in [0, 1]; NaN where undefined) from a label-id confusion matrix.

    Parameters
    ----------
    cm : ndarray, (34, 34)
        ``cm[g, p]``: pixels of ground-truth label id ``g`` predicted as ``p``.

    Returns
    -------
    dict
        ``mean_iou`` (float), ``class_iou`` ({name: float}, the 19 classes in
        train-id order), ``mean_category_iou`` and ``category_iou`` ({name: float}),
        ``pixels`` (int, pixels counted).
    """
    cm = np.asarray(cm)
    if cm.shape != (NUM_LABEL_IDS, NUM_LABEL_IDS):
        raise ValueError(f"cm must have shape ({NUM_LABEL_IDS}, {NUM_LABEL_IDS}) (label ids), got {cm.shape}")
    evaluated, ignored, categories, category_of = _table()
    class_iou = {}
    for lab in evaluated:
        rows = ~ignored
        rows[lab.id] = False
        class_iou[lab.name] = _iou(cm, [lab.id], rows)
    category_iou = {}
    for category, ids in categories.items():
        if not ids:
            continue
        rows = ~ignored & (category_of != category)
        category_iou[category] = _iou(cm, ids, rows)

    def mean(d):
        values = [v for v in d.values() if not math.isnan(v)]
        return sum(values) / len(values) if values else float("nan")

    return {"mean_iou": mean(class_iou), "class_iou": class_iou, "mean_category_iou": mean(category_iou),
            "category_iou": category_iou, "pixels": int(cm.sum())}


def evaluate_cityscapes(pred_dir: str | Path, gt_dir: str | Path, *, pred_ids: str = "label") -> dict:
    """Evaluate a folder of label-id PNG predictions against a folder of Cityscapes ground truth.

    Parameters
    ----------
    pred_dir : path
        Predictions ``{city}_{seq}_{frame}*.png`` (label ids, the ground truth's size), searched recursively.
    gt_dir : path
        Ground truth ``*_gtFine_labelIds.png``, searched recursively (e.g. ``<root>/gtFine/val``).
    pred_ids : {"label", "train"}
        What the prediction PNGs hold: label ids 0-33 (the official format), or train ids
        0-18 (a network's argmax; 255 = ignore, scored as "unlabeled"), mapped to label ids here.
        With ``"label"``, predictions that look like train ids (every value 0-18, many void
        label ids 1-6 or a much better score read as train ids) are refused with a hint.

    Returns
    -------
    dict
        As :func:`cityscapes_scores`, plus ``frames`` (int) and ``confusion`` ((34, 34) int64).

    Raises
    ------
    FileNotFoundError, ValueError
        On a missing, extra, ambiguous, wrongly sized or malformed prediction (the message names it).
    """
    if pred_ids not in ("label", "train"):
        raise ValueError(f"pred_ids must be 'label' or 'train', got {pred_ids!r}")
    gt = find_ground_truth(gt_dir)
    preds = match_predictions(pred_dir, gt)
    cm = np.zeros((NUM_LABEL_IDS, NUM_LABEL_IDS), np.int64)
    max_pred = -1
    for core, gt_path in gt.items():
        pred = _read(preds[core], "prediction")
        if pred_ids == "train":
            if pred.ndim != 2:
                raise ValueError(f"{preds[core]} has shape {pred.shape}: expected a single-channel (H, W) PNG")
            pred = _train_to_label_ids(pred, str(preds[core]))
        elif pred.size and np.issubdtype(pred.dtype, np.integer):
            max_pred = max(max_pred, int(pred.max()))
        cm += label_confusion(pred, _read(gt_path, "ground truth"), str(preds[core]), str(gt_path))
    if pred_ids == "label":
        why = _train_id_suspicion(cm, max_pred)
        if why:
            raise ValueError(f"pred={pred_dir} looks like train ids, not label ids: {why}; write predictions with "
                             "course_utils.evaluate.cityscapes.write_prediction (train ids -> label ids) "
                             "or evaluate them as they are with --pred-ids train (pred_ids='train')")
    scores = cityscapes_scores(cm)
    scores["frames"] = len(gt)
    scores["confusion"] = cm
    return scores


def write_prediction(path: str | Path, train_ids: np.ndarray) -> Path:
    """Write a ``(H, W)`` map of train ids (0-18) as an official-format label-id PNG (uint8, mode L)."""
    from PIL import Image

    path = Path(path)
    label_ids = train_ids_to_label_ids(np.asarray(train_ids), name="train_ids")
    if label_ids.ndim != 2:
        raise ValueError(f"train_ids must have shape (H, W), got {label_ids.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(label_ids, mode="L").save(path)
    return path


def official_cityscapes_scores(pred_dir: str | Path, gt_dir: str | Path) -> dict:
    """Run the official ``cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling`` (the reference).

    Predictions are paired as the official script does it (its ``getPrediction``);
    instance-level scores are skipped. Returns the official results dict
    (``averageScoreClasses``, ``classScores``, ``averageScoreCategories``, ``categoryScores``, ...).
    """
    if not hasattr(np, "in1d"):  # removed in NumPy 2.4; the official script still calls it
        np.in1d = np.isin
    from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as official

    args = official.CArgs()
    for key, value in vars(official.args).items():
        setattr(args, key, value)
    args.predictionPath = str(pred_dir)
    args.predictionWalk = None
    args.evalInstLevelScore = False
    args.evalPixelAccuracy = False
    args.JSONOutput = False
    args.quiet = True
    gts = [str(p) for p in find_ground_truth(gt_dir).values()]
    preds = [official.getPrediction(args, gt) for gt in gts]
    return official.evaluateImgLists(preds, gts, args)
