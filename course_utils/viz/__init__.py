"""Visualisation: pure plotting functions (``plots``) and thin widget builders (``widgets``).

Topic-specific figures live in ``viz/<topic>.py`` (e.g. ``viz/saliency.py``),
built from the generic helpers here.
"""
