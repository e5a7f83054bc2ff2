"""Thin widget builders: sliders and drop-downs wired to pure plotting functions.

A builder returns the ``ipywidgets`` container; the plotting function it calls
lives in ``viz/plots.py`` or ``viz/<topic>.py`` and is tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["interactive_figure"]


def interactive_figure(draw: Callable[..., object], **controls):
    """Wire ``controls`` (name -> ipywidgets control) to ``draw(**values)``, which returns a Figure.

    The figure is redrawn in an ``Output`` widget whenever a control changes.
    Returns a ``VBox`` of the controls and the output.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    if not controls:
        raise ValueError("controls is empty: expected at least one ipywidgets control")
    output = widgets.Output()

    def redraw(_change=None):
        values = {name: control.value for name, control in controls.items()}
        with output:
            output.clear_output(wait=True)
            fig = draw(**values)
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([*controls.values(), output])
