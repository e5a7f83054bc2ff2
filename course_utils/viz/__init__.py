"""Visualisation: pure plotting functions (``plots``) and thin widget builders (``widgets``).

plots, widgets
    Generic figures (label maps, overlays, image grids) and the slider wiring over them.
saliency, graphcut, fcn, dilated, crf, datasets
    One module of figures per lesson, built from the generic helpers.
fcn_steps, crf_steps
    Lessons 4 and 6's worked steps: the FCN size walk and architecture diagram, the per-pixel loss,
    crop registration; one mean-field update by hand, the CRF's gain against drawn labels.

Nothing is imported here (matplotlib and ipywidgets load with the module that needs them):
``from course_utils.viz.plots import show_images``.
"""

__all__: list[str] = []
