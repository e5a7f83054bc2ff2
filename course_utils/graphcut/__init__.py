"""Lessons 2 and 3: interactive graph cuts and GrabCut (物体分割, object segmentation).

``graph_cut``: the s-t graph of an image, its data and smoothness terms, the
minimum cut (PyMaxflow) and a brute-force check on tiny images.
``grabcut``: GrabCut (Rother et al. 2004) with GMM colour models.
"""

from course_utils.graphcut.graph_cut import (
    NEIGHBOUR_OFFSETS,
    GraphCutResult,
    GridGraph,
    ToyExample,
    Smoothness,
    add_hard_constraints,
    beta_from_image,
    brute_force_minimum,
    colour_cells,
    energy_terms,
    graph_cut,
    histogram_data_terms,
    image_as_colours,
    labeling_energy,
    lecture_example_3x3,
    neighbour_offsets,
    segment_with_seeds,
    smoothness_weights,
)

from course_utils.graphcut.strokes import simulated_click, stroke_mask

__all__ = [
    "NEIGHBOUR_OFFSETS",
    "GraphCutResult",
    "GridGraph",
    "ToyExample",
    "Smoothness",
    "add_hard_constraints",
    "beta_from_image",
    "brute_force_minimum",
    "colour_cells",
    "energy_terms",
    "graph_cut",
    "histogram_data_terms",
    "image_as_colours",
    "labeling_energy",
    "lecture_example_3x3",
    "neighbour_offsets",
    "segment_with_seeds",
    "simulated_click",
    "smoothness_weights",
    "stroke_mask",
]
