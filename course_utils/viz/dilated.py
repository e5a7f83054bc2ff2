"""Pictures of dilated convolution: rate pictures, receptive-field footprints, gridding; the stack widget.

Pure functions return matplotlib Figures (tested directly); :func:`dilation_stack_widget`
is a thin ipywidgets builder over :func:`draw_dilation_stack`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils._shared import check_int, check_sequence
from course_utils.ops.receptive_field import footprint, Layer, receptive_field_size
from course_utils.viz.widgets import interactive_figure

__all__ = [
    "plot_rate_kernels",
    "plot_footprints",
    "draw_dilation_stack",
    "dilation_stack_widget",
    "one_switch_gains",
]


def _check_rates(rates, name: str = "rates", allow_zero: bool = False) -> list[int]:
    lo = 0 if allow_zero else 1
    return list(check_sequence(rates, name, lambda r, n: check_int(r, n, lo), what="ints"))


def plot_rate_kernels(rates: Sequence[int] = (1, 2, 4), kernel: int = 3, *, size: float = 2.6):
    """The lecture's rate picture: a ``kernel x kernel`` kernel with rate r spread over ``r(k-1)+1`` pixels.

    Taps are drawn filled, inserted zeros as empty cells marked 0 (rate 1: no
    zeros; rate 2: one zero between taps; rate 4: three zeros).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    rates = _check_rates(rates)
    kernel = check_int(kernel, "kernel", 1)
    span = max(r * (kernel - 1) + 1 for r in rates)
    fig, axes = plt.subplots(1, len(rates), figsize=(size * len(rates), size + 0.4), squeeze=False)
    for ax, r in zip(axes[0], rates):
        k_eff = r * (kernel - 1) + 1
        grid = np.zeros((k_eff, k_eff))
        grid[::r, ::r] = 1
        ax.imshow(grid, cmap="Blues", vmin=0, vmax=1.3, extent=(-0.5, k_eff - 0.5, k_eff - 0.5, -0.5))
        if k_eff <= 13:
            for i in range(k_eff):
                for j in range(k_eff):
                    if grid[i, j] == 0:
                        ax.text(j, i, "0", ha="center", va="center", fontsize=7, color="0.55")
        ax.set_xticks(np.arange(-0.5, k_eff, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, k_eff, 1), minor=True)
        ax.grid(which="minor", color="0.7", lw=0.5)
        ax.tick_params(which="both", bottom=False, left=False, labelbottom=False, labelleft=False)
        pad = (span - k_eff) / 2
        ax.set_xlim(-0.5 - pad, k_eff - 0.5 + pad)
        ax.set_ylim(k_eff - 0.5 + pad, -0.5 - pad)
        ax.set_title(f"rate {r}: {r - 1} zero{'s' if r != 2 else ''}, {k_eff}x{k_eff}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_footprints(stacks: Sequence[Sequence[int]], kernel: int = 3, titles: Sequence[str] | None = None,
                    *, size: float = 2.8):
    """Which input pixels one output pixel sees, for stacks of ``kernel x kernel`` stride-1 convolutions.

    Parameters
    ----------
    stacks : sequence of sequences of int
        Each stack is the list of rates of its layers, e.g. ``[2, 2, 2]`` (gridding)
        or ``[1, 2, 3]``.
    kernel : int
        Kernel side of every layer.
    titles : sequence of str, optional

    Returns
    -------
    matplotlib.figure.Figure
        One panel per stack: path counts (log colour scale), unseen pixels white,
        all panels on the same pixel scale.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    if isinstance(stacks, (str, bytes)) or not isinstance(stacks, Sequence) or len(stacks) == 0:
        raise ValueError(f"stacks must be a non-empty sequence of rate lists, got {stacks!r}")
    stacks = [_check_rates(s, "stacks[i]") for s in stacks]
    if titles is not None and len(titles) != len(stacks):
        raise ValueError(f"titles has {len(titles)} entries for {len(stacks)} stacks")
    prints = [footprint([Layer.same(kernel, r) for r in s]) for s in stacks]
    span = max(p.shape[0] for p in prints)
    fig, axes = plt.subplots(1, len(stacks), figsize=(size * len(stacks), size + 0.5), squeeze=False)
    for n, (ax, s, fp) in enumerate(zip(axes[0], stacks, prints)):
        seen = fp > 0
        masked = np.ma.masked_where(~seen, fp.astype(float))
        rf = fp.shape[0]
        ax.imshow(masked, cmap="viridis", norm=LogNorm(vmin=1, vmax=max(2.0, fp.max())),
                  extent=(-rf / 2, rf / 2, rf / 2, -rf / 2), interpolation="nearest")
        ax.set_xlim(-span / 2, span / 2)
        ax.set_ylim(span / 2, -span / 2)
        ax.add_patch(plt.Rectangle((-rf / 2, -rf / 2), rf, rf, fill=False, ec="r", lw=1))
        ax.set_xticks([]), ax.set_yticks([])
        default = f"rates {s}: RF {rf}, sees {seen.mean():.0%}"
        ax.set_title(titles[n] if titles is not None else default, fontsize=9)
    fig.tight_layout()
    return fig


def draw_dilation_stack(rate1: int = 1, rate2: int = 2, rate3: int = 4, rate4: int = 0, kernel: int = 3):
    """The widget's picture: footprint of a stack of up to four 3x3 layers (rate 0 = no layer).

    Returns
    -------
    matplotlib.figure.Figure
        The footprint with the receptive field and the fraction of its pixels seen in the title.
    """
    rates = _check_rates([rate1, rate2, rate3, rate4], "rates", allow_zero=True)
    rates = [r for r in rates if r > 0]
    if not rates:
        raise ValueError("rates: at least one layer must have a rate >= 1")
    rf = receptive_field_size([Layer.same(kernel, r) for r in rates])
    fig = plot_footprints([rates], kernel, size=4.0)
    seen = (footprint([Layer.same(kernel, r) for r in rates]) > 0).mean()
    fig.axes[0].set_title(f"rates {rates}: receptive field {rf}x{rf}, {seen:.0%} of it seen", fontsize=10)
    return fig


def dilation_stack_widget(max_rate: int = 8):
    """Sliders for the rates of four stacked 3x3 layers (0 = absent) wired to :func:`draw_dilation_stack`."""
    import ipywidgets as widgets

    def slider(value: int, name: str, lo: int):
        return widgets.IntSlider(value=value, min=lo, max=max_rate, description=name, continuous_update=False)

    return interactive_figure(draw_dilation_stack, rate1=slider(1, "layer 1 rate", 1),
                              rate2=slider(2, "layer 2 rate", 0), rate3=slider(4, "layer 3 rate", 0),
                              rate4=slider(0, "layer 4 rate", 0))


_SWITCHES = ("full", "aug", "largefov", "aspp", "crf")


def one_switch_gains(rows: Sequence[dict], key: str = "miou") -> list[dict]:
    """Every pair of table rows (same backbone) that differ in exactly one switch, and what it adds.

    Parameters
    ----------
    rows : sequence of dict
        Rows like :data:`course_utils.evaluate.crf.LECTURE_RESULTS`: ``backbone``, the switches
        ``full``, ``aug``, ``largefov``, ``aspp``, ``crf`` (bools) and ``key`` (a score, %).
    key : str
        The score compared.

    Returns
    -------
    list of dict
        ``{"backbone", "switch", "context", "before", "after", "gain"}`` per pair, where ``switch``
        is off in ``before`` and on in ``after``; ``context`` names the switches on in both;
        ``gain = after - before`` (points of ``key``). LargeFOV -> ASPP (two switches) is not a pair.
    """
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows:
        raise ValueError(f"rows must be a non-empty sequence of dicts, got {type(rows).__name__}")
    for r in rows:
        missing = [k for k in ("backbone", key, *_SWITCHES) if k not in r]
        if missing:
            raise ValueError(f"each row needs the keys {('backbone', key, *_SWITCHES)}; a row lacks {missing}")
    out = []
    for before in rows:
        for after in rows:
            if before["backbone"] != after["backbone"]:
                continue
            diff = [s for s in _SWITCHES if before[s] != after[s]]
            if len(diff) == 1 and after[diff[0]]:
                context = [s for s in _SWITCHES if before[s] and after[s]]
                out.append({"backbone": before["backbone"], "switch": diff[0], "context": context,
                            "before": before[key], "after": after[key],
                            "gain": round(after[key] - before[key], 10)})
    return out
