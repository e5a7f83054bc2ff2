"""Figures for lesson 1 (saliency) and the map/threshold widget.

Pure drawing functions return a matplotlib ``Figure``; :func:`saliency_widget`
is a thin ipywidgets builder over :func:`draw_saliency_threshold`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from course_utils.images import check_image, check_mask
from course_utils.saliency.metrics import check_saliency, f_measure, precision_recall
from course_utils.viz.plots import overlay_mask
from course_utils.viz.widgets import interactive_figure

__all__ = [
    "show_saliency_maps",
    "draw_saliency_threshold",
    "show_fixations",
    "plot_pr_curves",
    "saliency_widget",
]


def show_saliency_maps(image: np.ndarray, maps: Mapping[str, np.ndarray], mask: np.ndarray | None = None,
                       size: float = 2.6, title: str | None = None):
    """The image, its ground-truth mask (if given) and one saliency map per method, in a row.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
    maps : mapping name -> ndarray, shape (H, W), float in [0, 1]
    mask : ndarray, shape (H, W), bool, optional
    """
    import matplotlib.pyplot as plt

    check_image(image)
    if not maps:
        raise ValueError("maps is empty: expected at least one saliency map")
    for name, sal in maps.items():
        check_saliency(sal, f"maps[{name!r}]")
        if sal.shape != image.shape[:2]:
            raise ValueError(f"maps[{name!r}] has shape {sal.shape} but image is {image.shape[:2]}")
    panels: list[tuple[str, np.ndarray, str | None]] = [("image", image, None)]
    if mask is not None:
        check_mask(mask, shape=image.shape[:2])
        panels.append(("ground truth", mask, "gray"))
    panels += [(name, sal, "inferno") for name, sal in maps.items()]
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size), squeeze=False)
    for ax, (name, data, cmap) in zip(axes[0], panels):
        ax.imshow(data, cmap=cmap, vmin=0 if cmap else None, vmax=1 if cmap else None, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def draw_saliency_threshold(image: np.ndarray, saliency: np.ndarray, threshold: float | str = "adaptive",
                            mask: np.ndarray | None = None, method: str = "", size: float = 3.0):
    """Image, saliency map and the binary map ``saliency >= threshold`` overlaid on the image.

    With a ground-truth ``mask`` the title of the last panel gives precision,
    recall and the F-measure (beta^2 = 0.3) at this threshold.
    """
    import matplotlib.pyplot as plt

    check_image(image)
    sal = check_saliency(saliency)
    if sal.shape != image.shape[:2]:
        raise ValueError(f"saliency has shape {sal.shape} but image is {image.shape[:2]}")
    thr = float(min(2 * sal.mean(), 1.0)) if threshold == "adaptive" else float(threshold)
    if not 0.0 <= thr <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1] or be 'adaptive', got {threshold!r}")
    binary = sal >= thr
    fig, axes = plt.subplots(1, 3, figsize=(3 * size, size))
    axes[0].imshow(image)
    axes[0].set_title("image", fontsize=9)
    axes[1].imshow(sal, cmap="inferno", vmin=0, vmax=1)
    axes[1].set_title(f"{method} map".strip(), fontsize=9)
    axes[2].imshow(overlay_mask(image, binary, color=(0, 255, 0), alpha=0.55))
    label = f"S >= {thr:.2f}"
    if mask is not None:
        check_mask(mask, shape=image.shape[:2])
        if mask.any():
            p, r = precision_recall(sal, mask, thr)
            label += f"\nP={p:.2f} R={r:.2f} F={f_measure(sal, mask, thr):.2f}"
            axes[2].contour(mask, levels=[0.5], colors="white", linewidths=1)
    axes[2].set_title(label, fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def show_fixations(image: np.ndarray, points: np.ndarray, density: np.ndarray, saliency: np.ndarray | None = None,
                   size: float = 3.0):
    """Fixation points on the image, the fixation density map and (optionally) a predicted map."""
    import matplotlib.pyplot as plt

    check_image(image)
    points = np.asarray(points)
    panels = 3 if saliency is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(size * panels, size))
    axes[0].imshow(image)
    if len(points):
        axes[0].scatter(points[:, 1], points[:, 0], s=12, c="yellow", edgecolors="black", linewidths=0.5)
    axes[0].set_title(f"{len(points)} fixations", fontsize=9)
    axes[1].imshow(density, cmap="inferno")
    axes[1].set_title("fixation density", fontsize=9)
    if saliency is not None:
        axes[2].imshow(check_saliency(saliency), cmap="inferno", vmin=0, vmax=1)
        axes[2].set_title("predicted saliency", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_pr_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], size: float = 4.0):
    """Precision-recall curves, one per method: ``curves[name] = (precision, recall)``."""
    import matplotlib.pyplot as plt

    if not curves:
        raise ValueError("curves is empty: expected at least one (precision, recall) pair")
    fig, ax = plt.subplots(figsize=(size * 1.2, size))
    for name, (precision, recall) in curves.items():
        precision, recall = np.asarray(precision), np.asarray(recall)
        if precision.shape != recall.shape:
            raise ValueError(f"curves[{name!r}]: precision {precision.shape} and recall {recall.shape} differ")
        ax.plot(recall, precision, label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def saliency_widget(images: Mapping[str, np.ndarray], methods: Mapping[str, Callable[[np.ndarray], np.ndarray]],
                    masks: Mapping[str, np.ndarray] | None = None):
    """Pick a photo and a method, move the threshold: the map and the thresholded mask update.

    Maps are computed once per (photo, method) and cached.  Returns the ipywidgets container.
    """
    import ipywidgets as widgets

    if not images or not methods:
        raise ValueError("images and methods must each hold at least one entry")
    cache: dict[tuple[str, str], np.ndarray] = {}

    def draw(photo: str, method: str, threshold: float):
        key = (photo, method)
        if key not in cache:
            cache[key] = methods[method](images[photo])
        mask = masks.get(photo) if masks else None
        return draw_saliency_threshold(images[photo], cache[key], threshold, mask=mask, method=method)

    return interactive_figure(
        draw,
        photo=widgets.Dropdown(options=list(images), description="photo"),
        method=widgets.Dropdown(options=list(methods), description="method"),
        threshold=widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.02, description="threshold"),
    )
