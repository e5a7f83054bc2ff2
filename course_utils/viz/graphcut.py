"""Pictures of graph cuts and GrabCut: the s-t graph, the effect of lambda, GrabCut's iterations.

Pure draw functions that return a matplotlib ``Figure`` (tested directly) and
two thin widget builders over them: :func:`lambda_slider` and
:func:`grabcut_explorer`.  The graph is drawn with plain matplotlib (no
networkx).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils.graphcut.grabcut import grabcut
from course_utils.graphcut.graph_cut import segment_with_seeds, Smoothness
from course_utils.images import check_image, check_mask, to_float
from course_utils.viz.plots import show_images
from course_utils.viz.widgets import interactive_figure

__all__ = [
    "FG_COLOUR",
    "BG_COLOUR",
    "seed_overlay",
    "draw_st_graph",
    "draw_lambda_cut",
    "lambda_slider",
    "draw_grabcut_iterations",
    "draw_grabcut",
    "grabcut_explorer",
    "draw_mask_comparison",
    "draw_augmenting_steps",
    "draw_corrections",
]

FG_COLOUR = (230, 40, 40)  # red: foreground (前景) seeds and masks
BG_COLOUR = (40, 90, 230)  # blue: background (背景)


def seed_overlay(image: np.ndarray, fg_seeds: np.ndarray | None = None, bg_seeds: np.ndarray | None = None,
                 mask: np.ndarray | None = None, *, alpha: float = 0.45) -> np.ndarray:
    """The image with a segmentation tinted and the seeds painted on top; float RGB ``(H, W, 3)`` in [0, 1].

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    fg_seeds, bg_seeds : ndarray, shape (H, W), bool, optional
        Painted in solid red / blue.
    mask : ndarray, shape (H, W), bool, optional
        Foreground tinted red, background darkened.
    alpha : float
        Strength of the tint.
    """

    check_image(image)
    shape = image.shape[:2]
    out = to_float(image)
    if mask is not None:
        check_mask(mask, "mask", shape=shape)
        tint = np.asarray(FG_COLOUR, np.float32) / 255.0
        out[mask] = (1 - alpha) * out[mask] + alpha * tint
        out[~mask] *= 1 - alpha
    for seeds, colour, name in ((fg_seeds, FG_COLOUR, "fg_seeds"), (bg_seeds, BG_COLOUR, "bg_seeds")):
        if seeds is not None:
            check_mask(seeds, name, shape=shape)
            out[seeds] = np.asarray(colour, np.float32) / 255.0
    return out


def draw_st_graph(image: np.ndarray, unary: np.ndarray, smoothness: Smoothness, mask: np.ndarray | None = None, *,
                  title: str | None = None, size: float = 5.0):
    """Draw the s-t graph of a tiny image: pixel nodes, terminals F and B, t-links and n-links.

    Line widths are proportional to the capacities: the t-link F -> p carries
    the cost of labelling ``p`` background (it is cut when ``p`` ends on the B
    side), p -> B the cost of foreground; n-links carry the smoothness
    weights.  With ``mask``, the edges of the cut are drawn dashed and the
    nodes are ringed in their label's colour.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        At most 6 x 6 pixels; the nodes are filled with the pixels' colours.
    unary : ndarray, shape (H, W, 2)
        Finite costs (background, foreground).
    smoothness : Smoothness
    mask : ndarray, shape (H, W), bool, optional
        A labelling, e.g. the minimum cut's.
    title : str, optional
    size : float
        Figure height in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    check_image(image)
    h, w = image.shape[:2]
    if h > 6 or w > 6:
        raise ValueError(f"image is {h}x{w}: draw_st_graph draws tiny images (at most 6x6)")
    if smoothness.shape != (h, w) or unary.shape != (h, w, 2):
        raise ValueError(f"unary {unary.shape} and smoothness {smoothness.shape} must match the image {(h, w)}")
    if mask is not None:
        check_mask(mask, "mask", shape=(h, w))
    colours = image.astype(np.float64) / (255.0 if image.dtype == np.uint8 else 1.0)
    # positions: pixel (i, j) at (x = j, y = -i); F above, B below
    pos = {(i, j): (float(j), float(h - 1 - i)) for i in range(h) for j in range(w)}
    source, sink = ((w - 1) / 2.0, h + 0.6), ((w - 1) / 2.0, -1.6)
    cap_source = np.maximum(unary[..., 0] - unary[..., 1], 0.0)  # reparametrised t-links, as the solver sees them
    cap_sink = np.maximum(unary[..., 1] - unary[..., 0], 0.0)
    t_max = max(float(cap_source.max()), float(cap_sink.max()), 1e-12)
    n_max = max(float(smoothness.weights.max()), 1e-12)
    fig, ax = plt.subplots(figsize=(size * (w + 2.2) / (h + 3.5) + 0.6, size))
    for i in range(h):
        for j in range(w):
            x, y = pos[(i, j)]
            for cap, terminal, colour, cut_if in ((cap_source[i, j], source, FG_COLOUR, False),
                                                  (cap_sink[i, j], sink, BG_COLOUR, True)):
                if cap <= 0:
                    continue
                is_cut = mask is not None and bool(mask[i, j]) == cut_if
                ax.plot([x, terminal[0]], [y, terminal[1]], color=np.array(colour) / 255.0,
                        lw=0.5 + 5.0 * cap / t_max, alpha=0.9 if is_cut else 0.35,
                        ls="--" if is_cut else "-", zorder=1)
    for (dy, dx), weight in zip(smoothness.offsets, smoothness.weights):
        for i in range(h):
            for j in range(w):
                ii, jj = i + dy, j + dx
                if not (0 <= ii < h and 0 <= jj < w) or weight[i, j] <= 0:
                    continue
                is_cut = mask is not None and mask[i, j] != mask[ii, jj]
                (x0, y0), (x1, y1) = pos[(i, j)], pos[(ii, jj)]
                ax.plot([x0, x1], [y0, y1], color="k", lw=0.5 + 5.0 * weight[i, j] / n_max,
                        alpha=0.9 if is_cut else 0.55, ls="--" if is_cut else "-", zorder=2)
    for (i, j), (x, y) in pos.items():
        ring = "k" if mask is None else np.array(FG_COLOUR if mask[i, j] else BG_COLOUR) / 255.0
        ax.scatter([x], [y], s=900, c=[colours[i, j]], edgecolors=[ring], linewidths=3.5, zorder=3)
        if mask is not None:
            ax.text(x, y, "F" if mask[i, j] else "B", ha="center", va="center", fontsize=11, color="w",
                    fontweight="bold", zorder=4)
    for (x, y), label, colour in ((source, "F (source)", FG_COLOUR), (sink, "B (sink)", BG_COLOUR)):
        ax.scatter([x], [y], s=1400, c=[np.array(colour) / 255.0], zorder=3)
        ax.text(x, y, label.split()[0], ha="center", va="center", fontsize=13, color="w", fontweight="bold", zorder=4)
        ax.text(x + 0.45, y, label.split()[1], ha="left", va="center", fontsize=9)
    ax.set_xlim(-0.8, w + 1.0)
    ax.set_ylim(sink[1] - 0.8, source[1] + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def draw_lambda_cut(image: np.ndarray, fg_seeds: np.ndarray, bg_seeds: np.ndarray, lam: float, *,
                    connectivity: int = 8, bins: int = 8, size: float = 3.5):
    """Segment with seeds at smoothness ``lam`` and show the seeds and the cut side by side.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    fg_seeds, bg_seeds : ndarray, shape (H, W), bool
    lam : float
        The smoothness weight lambda (>= 0).
    connectivity : {4, 8}
    bins : int
        Colour-histogram bins per channel for the data terms.
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    result = segment_with_seeds(image, fg_seeds, bg_seeds, lam=lam, connectivity=connectivity, bins=bins)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size * image.shape[1] / image.shape[0] + 0.4, size + 0.4))
    axes[0].imshow(seed_overlay(image, fg_seeds, bg_seeds))
    axes[0].set_title("seeds: red F, blue B", fontsize=10)
    axes[1].imshow(seed_overlay(image, mask=result.mask))
    axes[1].set_title(f"lambda = {lam:g}: {result.mask.mean():.0%} foreground, E = {result.energy:.0f}", fontsize=10)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def lambda_slider(image: np.ndarray, fg_seeds: np.ndarray, bg_seeds: np.ndarray, *, lam: float = 10.0,
                  connectivity: int = 8, size: float = 3.5):
    """A log slider for lambda with the live cut (:func:`draw_lambda_cut`); returns the ipywidgets box."""
    import ipywidgets as widgets

    slider = widgets.FloatLogSlider(value=lam, base=10, min=-1, max=3, step=0.1, description="lambda",
                                    continuous_update=False)
    return interactive_figure(
        lambda lam: draw_lambda_cut(image, fg_seeds, bg_seeds, lam, connectivity=connectivity, size=size), lam=slider)


def draw_grabcut_iterations(image: np.ndarray, result, rect=None, *, size: float = 2.4):
    """The mask after every GrabCut iteration and the energy curve.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    result : GrabCutResult
    rect : (x, y, width, height), optional
        Drawn on every panel.
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    check_image(image)
    n = len(result.masks)
    if n == 0:
        raise ValueError("result has no iterations to draw")
    aspect = image.shape[1] / image.shape[0]
    fig, axes = plt.subplots(1, n + 1, figsize=(size * aspect * n + size * 1.5, size + 0.5),
                             gridspec_kw={"width_ratios": [aspect] * n + [1.5]})
    for t, (ax, mask) in enumerate(zip(axes[:-1], result.masks), start=1):
        ax.imshow(seed_overlay(image, mask=mask))
        if rect is not None:
            x, y, w, h = rect
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, ec="yellow", lw=1.2))
        ax.set_title(f"iteration {t}", fontsize=9)
        ax.axis("off")
    ax = axes[-1]
    ax.plot(range(1, n + 1), result.energies, "o-", color="k")
    ax.set_xlabel("iteration")
    ax.set_ylabel("energy E")
    ax.set_xticks(range(1, n + 1))
    ax.set_title("energy (never increases)", fontsize=9)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    fig.tight_layout()
    return fig


def draw_grabcut(image: np.ndarray, x: int, y: int, width: int, height: int, iterations: int = 5,
                 n_components: int = 5, *, size: float = 3.2):
    """Run GrabCut with a rectangle and show the rectangle, the result and the energy curve.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    x, y, width, height : int
        The rectangle (OpenCV's order).
    iterations : int
    n_components : int
        K, components per colour model.
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    rect = (int(x), int(y), int(width), int(height))
    result = grabcut(image, rect, iterations=iterations, n_components=n_components)
    aspect = image.shape[1] / image.shape[0]
    fig, axes = plt.subplots(1, 3, figsize=(2 * size * aspect + 1.4 * size, size + 0.4),
                             gridspec_kw={"width_ratios": [aspect, aspect, 1.4]})
    axes[0].imshow(image)
    axes[0].add_patch(Rectangle((rect[0] - 0.5, rect[1] - 0.5), rect[2], rect[3], fill=False, ec="yellow", lw=1.5))
    axes[0].set_title(f"rect = {rect}", fontsize=9)
    axes[1].imshow(seed_overlay(image, mask=result.mask))
    axes[1].set_title(f"K = {n_components}, {iterations} iterations: {result.mask.mean():.0%} foreground", fontsize=9)
    for ax in axes[:2]:
        ax.axis("off")
    axes[2].plot(range(1, len(result.energies) + 1), result.energies, "o-", color="k")
    axes[2].set_xlabel("iteration")
    axes[2].set_title("energy", fontsize=9)
    axes[2].ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    fig.tight_layout()
    return fig


def grabcut_explorer(image: np.ndarray, rect=None, *, iterations: int = 5, n_components: int = 5):
    """Sliders for the rectangle, the number of iterations and K, with GrabCut's live result (:func:`draw_grabcut`)."""
    import ipywidgets as widgets

    check_image(image)
    h, w = image.shape[:2]
    x0, y0, rw, rh = rect if rect is not None else (w // 8, h // 8, 3 * w // 4, 3 * h // 4)
    controls = {
        "x": widgets.IntSlider(value=x0, min=0, max=w - 2, description="x", continuous_update=False),
        "y": widgets.IntSlider(value=y0, min=0, max=h - 2, description="y", continuous_update=False),
        "width": widgets.IntSlider(value=rw, min=2, max=w, description="width", continuous_update=False),
        "height": widgets.IntSlider(value=rh, min=2, max=h, description="height", continuous_update=False),
        "iterations": widgets.IntSlider(value=iterations, min=1, max=12, description="iterations",
                                        continuous_update=False),
        "n_components": widgets.IntSlider(value=n_components, min=1, max=10, description="K",
                                          continuous_update=False),
    }

    def draw(x, y, width, height, iterations, n_components):
        # keep the rectangle inside the image whatever the sliders say
        width, height = min(width, w - x), min(height, h - y)
        if (width, height) == (w, h):
            width -= 1
        return draw_grabcut(image, x, y, width, height, iterations, n_components)

    return interactive_figure(draw, **controls)


def draw_mask_comparison(image: np.ndarray, masks: Sequence[np.ndarray], titles: Sequence[str], *,
                         size: float = 2.8):
    """Masks over the same image, side by side (e.g. ours, OpenCV's, the ground truth)."""

    if len(masks) != len(titles):
        raise ValueError(f"titles has {len(titles)} entries but there are {len(masks)} masks")
    return show_images([seed_overlay(image, mask=m) for m in masks], list(titles), size=size)



def draw_augmenting_steps(image: np.ndarray, capacity: np.ndarray, run, *, steps: Sequence[int] | None = None,
                          ncols: int = 5, size: float = 1.9):
    """Edmonds-Karp on a tiny image's s-t graph, one panel per augmenting path, then the minimum cut.

    In each panel the edges still carrying residual capacity are grey, their width
    proportional to it (both directions of a pair summed); the step's augmenting path
    is red, each of its edges labelled with the residual left after the push (0: the
    bottleneck, now saturated). The title gives the bottleneck pushed and the flow so far.
    The last panel shows the cut: the nodes the source still reaches in red, the others
    blue, and the saturated edges that cross from one side to the other dashed.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        At most 6 x 6 pixels; nodes ``0 .. H*W - 1`` of ``capacity`` are its pixels in
        row-major order, ``H*W`` the source F and ``H*W + 1`` the sink B (as
        :func:`course_utils.graphcut.flow_network.grid_capacity_matrix` builds it).
    capacity : ndarray, shape (H*W + 2, H*W + 2)
    run : MaxFlowSteps
        From :func:`course_utils.graphcut.augmenting_paths.edmonds_karp_steps`.
    steps : sequence of int, optional
        Which steps to draw (0-based); all by default.
    ncols : int
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    check_image(image)
    h, w = image.shape[:2]
    n = h * w
    if h > 6 or w > 6 or capacity.shape != (n + 2, n + 2):
        raise ValueError(f"image is {h}x{w} (at most 6x6) and capacity must be ({n + 2}, {n + 2}), "
                         f"got {capacity.shape}")
    chosen = list(range(len(run.steps))) if steps is None else [int(k) for k in steps]
    if any(not 0 <= k < len(run.steps) for k in chosen):
        raise ValueError(f"steps must lie in 0..{len(run.steps) - 1}, got {chosen}")
    colours = image.astype(np.float64) / (255.0 if image.dtype == np.uint8 else 1.0)
    pos = {i * w + j: (float(j), float(h - 1 - i)) for i in range(h) for j in range(w)}
    pos[n], pos[n + 1] = ((w - 1) / 2.0, h + 0.4), ((w - 1) / 2.0, -1.4)
    pairs = [(u, v) for u in range(n + 2) for v in range(u + 1, n + 2) if capacity[u, v] > 0 or capacity[v, u] > 0]
    scale = max(float(max(capacity[u, v] + capacity[v, u] for u, v in pairs)), 1e-12)
    panels = len(chosen) + 1
    rows = int(np.ceil(panels / ncols))
    fig, axes = plt.subplots(rows, min(ncols, panels), figsize=(size * min(ncols, panels), size * 1.25 * rows),
                             squeeze=False)

    def nodes(ax, side=None):
        for node, (x, y) in pos.items():
            if node < n:
                face = colours[node // w, node % w]
                ring = "k" if side is None else np.array(FG_COLOUR if side[node] else BG_COLOUR) / 255.0
                ax.scatter([x], [y], s=140, c=[face], edgecolors=[ring], linewidths=2, zorder=3)
            else:
                colour = np.array(FG_COLOUR if node == n else BG_COLOUR) / 255.0
                ax.scatter([x], [y], s=220, c=[colour], zorder=3)
                ax.text(x, y, "F" if node == n else "B", ha="center", va="center", color="w", fontsize=8,
                        fontweight="bold", zorder=4)

    for ax, k in zip(axes.flat, chosen):
        step = run.steps[k]
        residual = step.residual
        on_path = set(zip(step.path[:-1], step.path[1:]))
        for u, v in pairs:
            left = residual[u, v] + residual[v, u]
            (x0, y0), (x1, y1) = pos[u], pos[v]
            if (u, v) in on_path or (v, u) in on_path:
                continue
            if left > 1e-12:
                ax.plot([x0, x1], [y0, y1], color="0.55", lw=0.3 + 3.0 * left / scale, alpha=0.6, zorder=1)
        for u, v in on_path:
            (x0, y0), (x1, y1) = pos[u], pos[v]
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=2,
                        arrowprops=dict(arrowstyle="-|>", color="crimson", lw=1.8, shrinkA=5, shrinkB=5))
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{residual[u, v]:.2f}", fontsize=6, color="crimson",
                    ha="center", va="center", bbox=dict(fc="w", ec="none", pad=0.3, alpha=0.8), zorder=5)
        nodes(ax)
        ax.set_title(f"path {k + 1}: push {step.bottleneck:.3g}\nflow {step.flow:.2f}", fontsize=7)
    ax = axes.flat[len(chosen)]
    side = run.source_side
    for u, v in pairs:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        crosses = side[u] != side[v]
        ax.plot([x0, x1], [y0, y1], color="k" if crosses else "0.7", lw=1.2 if crosses else 0.5,
                ls="--" if crosses else "-", alpha=0.9 if crosses else 0.5, zorder=1)
    nodes(ax, side)
    ax.set_title(f"minimum cut: capacity {run.flow:.2f}\n(dashed edges are cut)", fontsize=7)
    for a in axes.flat:
        a.set_xlim(-0.7, w - 0.3)
        a.set_ylim(-1.9, h + 0.9)
        a.set_aspect("equal")
        a.axis("off")
    fig.tight_layout()
    return fig


def draw_corrections(cases, curves: np.ndarray, strokes, *, size: float = 1.6):
    """Rectangle versus strokes: per image, the rectangle, GrabCut's result and the corrected one.

    Parameters
    ----------
    cases : sequence of objects with ``image``, ``mask``, ``rect``, ``name``, ``kind``
        E.g. :func:`course_utils.data.grabcut_hard.hard_cases`.
    curves : ndarray, shape (len(cases), S + 1)
        IoU with the ground truth after 0, 1, ... S strokes.
    strokes : sequence of (list of (fg_stroke, bg_stroke), final_mask)
        The strokes drawn on each image and the mask after the last of them.
    size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    curves = np.asarray(curves, float)
    if len(cases) == 0 or curves.shape[0] != len(cases) or len(strokes) != len(cases):
        raise ValueError(f"cases ({len(cases)}), curves {curves.shape} and strokes ({len(strokes)}) must match")
    fig, axes = plt.subplots(3, len(cases), figsize=(size * len(cases), size * 3.2), squeeze=False)
    for col, (case, row, (drawn, final)) in enumerate(zip(cases, curves, strokes)):
        x, y, w, h = case.rect
        fg = np.zeros(case.mask.shape, bool)
        bg = np.zeros(case.mask.shape, bool)
        for f, b in drawn:
            fg |= f
            bg |= b
        axes[0, col].imshow(case.image)
        axes[0, col].add_patch(plt.Rectangle((x - 0.5, y - 0.5), w, h, fill=False, ec="yellow", lw=1))
        axes[0, col].set_title(f"{case.name}\n{case.kind}", fontsize=6)
        axes[1, col].imshow(case.mask, cmap="gray")
        axes[1, col].set_title("ground truth", fontsize=6)
        axes[2, col].imshow(seed_overlay(case.image, fg, bg, mask=final))
        axes[2, col].set_title(f"IoU {row[0]:.2f} -> {row[-1]:.2f}\nafter {len(drawn)} stroke(s)", fontsize=6)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig
