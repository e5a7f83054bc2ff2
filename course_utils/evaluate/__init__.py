"""Every segmentation score: the FCN paper's four, boundary trimaps, the official Cityscapes evaluation.

segmentation
    Confusion matrix, pixel accuracy, mean accuracy, mean IU, frequency-weighted IU.
boundary
    Accuracy in a band around object boundaries (DeepLab's trimap).
cityscapes
    The official Cityscapes pixel-level evaluation and its prediction format; command line
    ``python -m course_utils.evaluate cityscapes --pred DIR --gt DIR``.
crf
    DeepLab with and without the dense CRF: per-frame scores, the CRF parameter search, the
    lecture's results table. Imports torch, so it is not imported here: use
    ``from course_utils.evaluate.crf import ...``.

The functions of the first three (numpy only) are exported here. Running a network is
:mod:`course_utils.evaluate.predict`; scoring networks and the shipped checkpoints is
:mod:`course_utils.evaluate.checkpoints` (both import torch).
"""

from course_utils.evaluate.segmentation import (
    confusion_matrix,
    format_scores,
    segmentation_scores,
)
from course_utils.evaluate.boundary import (
    boundary_mask,
    DEFAULT_TRIMAP_WIDTHS,
    trimap_band,
    trimap_scores,
)
from course_utils.evaluate.cityscapes import (
    cityscapes_scores,
    core_name,
    evaluate_cityscapes,
    find_ground_truth,
    label_confusion,
    match_predictions,
    NUM_LABEL_IDS,
    official_cityscapes_scores,
    write_prediction,
)

__all__ = [
    "boundary_mask",
    "cityscapes_scores",
    "confusion_matrix",
    "core_name",
    "DEFAULT_TRIMAP_WIDTHS",
    "evaluate_cityscapes",
    "find_ground_truth",
    "format_scores",
    "label_confusion",
    "match_predictions",
    "NUM_LABEL_IDS",
    "official_cityscapes_scores",
    "segmentation_scores",
    "trimap_band",
    "trimap_scores",
    "write_prediction",
]
