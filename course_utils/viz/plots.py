"""Pure plotting helpers: colourised label maps with legends, overlays, grids.

Each function takes arrays and returns a matplotlib ``Figure`` (or an array),
so tests can call them without a display and widgets can redraw them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils._shared import check_palette
from course_utils.images import check_image, check_labels, check_mask, to_float

__all__ = ["colorize", "legend_handles", "overlay_mask", "overlay_labels", "show_images", "show_labels"]


def colorize(labels: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Map a label map ``(H, W)`` through ``palette`` ``(K, 3)`` uint8 to an RGB image ``(H, W, 3)``.

    Raises
    ------
    ValueError
        If a label has no palette entry (label >= K or < 0).
    """
    check_labels(labels)
    palette = check_palette(palette)
    if labels.size and (labels.min() < 0 or labels.max() >= len(palette)):
        bad = labels.max() if labels.max() >= len(palette) else labels.min()
        raise ValueError(f"labels has value {bad} but palette has only {len(palette)} colours")
    return palette[labels]


def legend_handles(class_names: Sequence[str], palette: np.ndarray, present: Sequence[int] | None = None):
    """Matplotlib patches for a legend: one per class (or per id in ``present``)."""
    from matplotlib.patches import Patch

    palette = check_palette(palette)
    ids = range(len(class_names)) if present is None else present
    return [Patch(facecolor=palette[i] / 255.0, edgecolor="k", label=f"{i} {class_names[i]}")
            for i in ids if i < len(class_names)]


def overlay_mask(image: np.ndarray, mask: np.ndarray, color=(255, 0, 0), alpha: float = 0.5) -> np.ndarray:
    """Blend ``color`` over ``image`` where ``mask`` is True; returns float RGB in [0, 1]."""
    check_image(image)
    check_mask(mask, shape=image.shape[:2])
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    out = to_float(image)
    tint = np.asarray(color, dtype=np.float32) / 255.0
    out[mask] = (1 - alpha) * out[mask] + alpha * tint
    return out


def overlay_labels(image: np.ndarray, labels: np.ndarray, palette: np.ndarray, alpha: float = 0.5,
                   ignore_index: int = 255) -> np.ndarray:
    """Blend the colourised ``labels`` over ``image`` (ignored pixels left as they are); float RGB."""
    check_image(image)
    check_labels(labels)
    if labels.shape != image.shape[:2]:
        raise ValueError(f"labels has shape {labels.shape} but image is {image.shape[:2]}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    out = to_float(image)
    colours = colorize(labels, palette).astype(np.float32) / 255.0
    keep = labels != ignore_index
    out[keep] = (1 - alpha) * out[keep] + alpha * colours[keep]
    return out


def show_images(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, ncols: int | None = None,
                size: float = 3.0, cmap: str = "gray", suptitle: str | None = None):
    """Show images side by side (or in a grid of ``ncols`` columns); returns the Figure.

    2-D arrays are drawn with ``cmap``; 3-D arrays as RGB.
    """
    import matplotlib.pyplot as plt

    if len(images) == 0:
        raise ValueError("images is empty: expected at least one image")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles has {len(titles)} entries but there are {len(images)} images")
    ncols = len(images) if ncols is None else ncols
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, image in enumerate(images):
        ax = axes.flat[k]
        image = np.asarray(image)
        if image.ndim == 2:
            ax.imshow(image, cmap=cmap, interpolation="nearest")
        else:
            ax.imshow(image, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_labels(image: np.ndarray, labels_list: Sequence[np.ndarray], titles: Sequence[str],
                palette: np.ndarray, class_names: Sequence[str], size: float = 3.0):
    """An image beside one or more colourised label maps, with a legend of the classes present."""
    if len(labels_list) != len(titles):
        raise ValueError(f"titles has {len(titles)} entries but there are {len(labels_list)} label maps")
    coloured = [colorize(lab, palette) for lab in labels_list]
    fig = show_images([image, *coloured], ["image", *titles], size=size)
    present = sorted({int(v) for lab in labels_list for v in np.unique(lab) if v < len(class_names)})
    fig.legend(handles=legend_handles(class_names, palette, present), loc="lower center",
               ncol=min(6, max(1, len(present))), fontsize=8, frameon=False)
    fig.subplots_adjust(bottom=0.12 + 0.04 * (len(present) // 6))
    return fig
