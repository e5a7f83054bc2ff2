"""Lessons 2 and 3: interactive graph cuts and GrabCut (物体分割, object segmentation).

graph_cut
    The s-t graph of an image, its data and smoothness terms, the minimum cut (PyMaxflow)
    and a brute-force check on tiny images.
grabcut
    GrabCut (Rother et al. 2004) with GMM colour models, and OpenCV's for comparison.
strokes
    User strokes and simulated clicks as seed masks.

Everything is exported here: ``from course_utils.graphcut import grabcut`` gives the function
(the module stays importable as ``course_utils.graphcut.grabcut`` in ``from ... import`` lines).
"""

from course_utils.graphcut.graph_cut import (
    add_hard_constraints,
    beta_from_image,
    brute_force_minimum,
    colour_cells,
    energy_terms,
    graph_cut,
    GraphCutResult,
    GridGraph,
    histogram_data_terms,
    image_as_colours,
    labeling_energy,
    lecture_example_3x3,
    NEIGHBOUR_OFFSETS,
    neighbour_offsets,
    segment_with_seeds,
    Smoothness,
    smoothness_weights,
    ToyExample,
)
from course_utils.graphcut.grabcut import (
    check_rect,
    colour_features,
    fit_colour_model,
    GC_BGD,
    GC_FGD,
    GC_PR_BGD,
    GC_PR_FGD,
    gmm_neg_log_likelihood,
    grabcut,
    grabcut_correct,
    grabcut_energy,
    grabcut_unary,
    GrabCutResult,
    mask_iou,
    opencv_grabcut,
    PHOTO_RECTS,
    rect_from_fractions,
    rect_trimap,
)
from course_utils.graphcut.strokes import (
    simulated_click,
    stroke_mask,
)

__all__ = [
    "add_hard_constraints",
    "beta_from_image",
    "brute_force_minimum",
    "check_rect",
    "colour_cells",
    "colour_features",
    "energy_terms",
    "fit_colour_model",
    "GC_BGD",
    "GC_FGD",
    "GC_PR_BGD",
    "GC_PR_FGD",
    "gmm_neg_log_likelihood",
    "grabcut",
    "grabcut_correct",
    "grabcut_energy",
    "grabcut_unary",
    "GrabCutResult",
    "graph_cut",
    "GraphCutResult",
    "GridGraph",
    "histogram_data_terms",
    "image_as_colours",
    "labeling_energy",
    "lecture_example_3x3",
    "mask_iou",
    "NEIGHBOUR_OFFSETS",
    "neighbour_offsets",
    "opencv_grabcut",
    "PHOTO_RECTS",
    "rect_from_fractions",
    "rect_trimap",
    "segment_with_seeds",
    "simulated_click",
    "Smoothness",
    "smoothness_weights",
    "stroke_mask",
    "ToyExample",
]
