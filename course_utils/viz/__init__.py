"""Visualisation: pure plotting functions (``plots``) and thin widget builders (``widgets``).

plots, widgets
    Generic figures (label maps, overlays, image grids) and the slider wiring over them.
saliency, graphcut, fcn, dilated, crf, datasets
    One module of figures per lesson, built from the generic helpers.

Nothing is imported here (matplotlib and ipywidgets load with the module that needs them):
``from course_utils.viz.plots import show_images``.
"""

__all__: list[str] = []
