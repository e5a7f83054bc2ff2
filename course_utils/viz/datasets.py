"""Pictures of segmentation datasets: class legends, palettes, annotation kinds, class frequencies.

Pure functions that return matplotlib Figures (tested directly).  Also the
lecture's grouping of the 20 PASCAL VOC object classes and a palette for the
182 COCO-stuff ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from course_utils._shared import check_int, check_palette, check_probability
from course_utils.palettes import IGNORE_INDEX, voc_palette
from course_utils.images import check_image, check_labels
from course_utils.viz.plots import colorize

__all__ = [
    "VOC_CLASS_GROUPS",
    "coco_stuff_palette",
    "cityscapes_label_id_palette",
    "cityscapes_instances",
    "instance_colors",
    "plot_class_legend",
    "plot_grouped_legend",
    "plot_class_frequencies",
    "plot_annotation_kinds",
    "plot_palette_png",
    "plot_voc_scene_grid",
]

# The lecture's four groups of the 20 PASCAL VOC object classes (VOC's own names).
VOC_CLASS_GROUPS: dict[str, tuple[str, ...]] = {
    "person": ("person",),
    "animals": ("bird", "cat", "cow", "dog", "horse", "sheep"),
    "vehicles": ("aeroplane", "bicycle", "boat", "bus", "car", "motorbike", "train"),
    "indoor": ("bottle", "chair", "diningtable", "pottedplant", "sofa", "tvmonitor"),
}


def coco_stuff_palette() -> np.ndarray:
    """Colours for the COCO-stuff ids, ``(256, 3)`` uint8.

    COCO-stuff ships no palette (its PNGs are grey).  We use the PASCAL
    colour map (the bit-interleaved ``labelcolormap`` of the VOC devkit) at
    ``id + 1``, so id 0 (person) is not black; 255 ('unlabeled') is black.
    """
    base = voc_palette()
    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[:182] = base[1:183]
    palette[IGNORE_INDEX] = (0, 0, 0)
    return palette


def cityscapes_label_id_palette() -> np.ndarray:
    """Colours indexed by Cityscapes *label id* (0-33), ``(256, 3)`` uint8, from the official table.

    (:func:`course_utils.palettes.cityscapes_palette` is indexed by train id.)
    """
    from cityscapesscripts.helpers.labels import labels

    palette = np.zeros((256, 3), dtype=np.uint8)
    for lab in labels:
        if lab.id >= 0:
            palette[lab.id] = lab.color
    return palette


def cityscapes_instances(instance_ids: np.ndarray) -> np.ndarray:
    """Cityscapes ``*_instanceIds.png`` values -> ``(H, W)`` int64 instance numbers.

    The official encoding is ``label_id * 1000 + k`` on objects of classes that
    have instances and the bare label id (< 1000) elsewhere; this returns 0 for
    the latter and ``1..K`` for the K objects, in the order of their codes.
    """
    if not isinstance(instance_ids, np.ndarray) or instance_ids.ndim != 2:
        raise ValueError(f"instance_ids must be an (H, W) array, got {getattr(instance_ids, 'shape', None)}")
    objects = np.where(instance_ids >= 1000, instance_ids.astype(np.int64), 0)
    codes, inverse = np.unique(objects, return_inverse=True)
    if codes[0] != 0:  # every pixel is an object: numbering starts at 1 anyway
        inverse = inverse + 1
    return inverse.reshape(instance_ids.shape).astype(np.int64)


def instance_colors(instances: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """RGB picture of an instance map: 0 (no instance) black, each instance id a distinct colour.

    Parameters
    ----------
    instances : ndarray, (H, W), integer
        0 = no instance, 1..K = instance ids.
    seed : int
        Seed of the colour choice (the same ids get the same colours).

    Returns
    -------
    ndarray, (H, W, 3), uint8
    """
    if not isinstance(instances, np.ndarray) or instances.ndim != 2 or not np.issubdtype(instances.dtype, np.integer):
        raise ValueError(f"instances must be an (H, W) integer array, got {getattr(instances, 'shape', None)}")
    if instances.size and instances.min() < 0:
        raise ValueError("instances must be >= 0 (0 = no instance)")
    k = int(instances.max()) if instances.size else 0
    colours = np.random.default_rng(seed).integers(60, 256, size=(k + 1, 3)).astype(np.uint8)
    colours[0] = 0
    return colours[instances]


def _swatch_axes(ax, names: Sequence[str], colours: np.ndarray, ids: Sequence[int], ncols: int) -> None:
    from matplotlib.patches import Rectangle

    nrows = -(-len(names) // ncols)
    for k, (name, colour, i) in enumerate(zip(names, colours, ids)):
        r, c = k % nrows, k // nrows
        ax.add_patch(Rectangle((c, nrows - r - 1), 0.22, 0.8, facecolor=colour / 255.0, edgecolor="k", lw=0.5))
        ax.text(c + 0.27, nrows - r - 0.6, f"{i} {name}", va="center", fontsize=8)
    ax.set_xlim(0, ncols)
    ax.set_ylim(0, nrows)
    ax.axis("off")


def plot_class_legend(class_names: Sequence[str], palette: np.ndarray, *, ids: Sequence[int] | None = None,
                      ncols: int = 4, title: str | None = None, width: float = 8.0):
    """A legend of colour swatches, ``id name`` beside each.

    Parameters
    ----------
    class_names : sequence of str
        Names indexed by class id.
    palette : ndarray, (K, 3), uint8
        Colours indexed by class id (K > every shown id).
    ids : sequence of int, optional
        Which classes to show (default: all of ``class_names``).
    ncols : int
        Columns of swatches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    palette = check_palette(palette)
    ids = list(range(len(class_names))) if ids is None else [int(i) for i in ids]
    if not ids:
        raise ValueError("ids is empty: nothing to show")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    bad = [i for i in ids if not (0 <= i < len(class_names) and i < len(palette))]
    if bad:
        raise ValueError(f"ids {bad[:5]} have no name or no palette colour "
                         f"({len(class_names)} names, {len(palette)} colours)")
    nrows = -(-len(ids) // ncols)
    fig, ax = plt.subplots(figsize=(width, 0.28 * nrows + (0.5 if title else 0.2)))
    _swatch_axes(ax, [class_names[i] for i in ids], palette[ids], ids, ncols)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_grouped_legend(groups: Mapping[str, Sequence[str]], class_names: Sequence[str], palette: np.ndarray,
                        *, width: float = 9.0):
    """A legend with one column per group (e.g. VOC's person / animals / vehicles / indoor).

    Raises
    ------
    ValueError
        If a grouped name is not in ``class_names``.
    """
    import matplotlib.pyplot as plt

    palette = check_palette(palette)
    if not groups:
        raise ValueError("groups is empty")
    unknown = [n for names in groups.values() for n in names if n not in class_names]
    if unknown:
        raise ValueError(f"groups names classes that are not in class_names: {unknown}")
    rows = max(len(v) for v in groups.values())
    fig, axes = plt.subplots(1, len(groups), figsize=(width, 0.3 * rows + 0.6), squeeze=False)
    for ax, (group, names) in zip(axes[0], groups.items()):
        ids = [list(class_names).index(n) for n in names]
        _swatch_axes(ax, list(names), palette[ids], ids, 1)
        ax.set_ylim(-(rows - len(names)), len(names))
        ax.set_title(f"{group} ({len(names)})", fontsize=10)
    fig.tight_layout()
    return fig


def plot_class_frequencies(pixel_counts: np.ndarray, class_names: Sequence[str], palette: np.ndarray | None = None,
                           *, title: str | None = None, log: bool = True, top: int | None = None,
                           width: float = 9.0, height: float = 3.0):
    """Bar chart of each class's share of the pixels, most frequent first.

    Parameters
    ----------
    pixel_counts : ndarray, (C,)
        Pixels per class (:func:`course_utils.data.class_stats.class_pixel_counts`).
    class_names : sequence of str, length C
    palette : ndarray, (>= C, 3), uint8, optional
        Bar colours (grey without).
    log : bool
        Logarithmic y axis (the shares span several orders of magnitude).
    top : int, optional
        Show only the ``top`` most frequent classes.

    Returns
    -------
    matplotlib.figure.Figure
        The y axis is the percentage of labelled pixels; absent classes are
        drawn as empty slots at the end.
    """
    import matplotlib.pyplot as plt

    counts = np.asarray(pixel_counts)
    if counts.ndim != 1 or len(counts) != len(class_names):
        raise ValueError(f"pixel_counts has shape {counts.shape} but there are {len(class_names)} class_names")
    if (counts < 0).any() or counts.sum() == 0:
        raise ValueError("pixel_counts must be non-negative and not all zero")
    if palette is not None:
        palette = check_palette(palette)
        if len(palette) < len(counts):
            raise ValueError(f"palette has {len(palette)} colours for {len(counts)} classes")
    order = np.argsort(-counts, kind="stable")
    if top is not None:
        order = order[:top]
    share = 100.0 * counts / counts.sum()
    fig, ax = plt.subplots(figsize=(width, height))
    colours = (palette[order] / 255.0) if palette is not None else "0.5"
    ax.bar(np.arange(len(order)), np.where(share[order] > 0, share[order], np.nan), color=colours,
           edgecolor="k", linewidth=0.4)
    ax.set_xticks(np.arange(len(order)))
    ax.set_xticklabels([class_names[i] for i in order], rotation=70, ha="right", fontsize=7)
    ax.set_ylabel("% of labelled pixels")
    if log:
        ax.set_yscale("log")
    if title:
        ax.set_title(title, fontsize=10)
    ax.set_xlim(-0.6, len(order) - 0.4)
    fig.tight_layout()
    return fig


def plot_annotation_kinds(image: np.ndarray, labels: np.ndarray, palette: np.ndarray, *,
                          instances: np.ndarray | None = None,
                          polygons: Sequence[tuple[str, np.ndarray]] | None = None,
                          titles: Sequence[str] | None = None, size: float = 2.8):
    """One scene, annotated several ways: semantic (pixel) labels, instances, polygons.

    Parameters
    ----------
    image : ndarray, (H, W, 3), uint8
    labels : ndarray, (H, W), int
        Semantic labels (one class per pixel), drawn through ``palette``.
    instances : ndarray, (H, W), int, optional
        Instance ids (0 = none): each object separately.
    polygons : sequence of (name, (N, 2) float array of (x, y)), optional
        Polygon outlines (as Cityscapes' ``*_polygons.json`` stores them),
        drawn over the image.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon

    if labels.shape != image.shape[:2]:
        raise ValueError(f"labels has shape {labels.shape} but image is {image.shape[:2]}")
    if instances is not None and instances.shape != labels.shape:
        raise ValueError(f"instances has shape {instances.shape} but labels is {labels.shape}")
    panels = [("image", image), ("semantic labels (pixel)", colorize(labels, palette))]
    if instances is not None:
        panels.append(("instances", instance_colors(instances)))
    if polygons is not None:
        panels.append(("polygons", image))
    if titles is not None:
        if len(titles) != len(panels):
            raise ValueError(f"titles has {len(titles)} entries for {len(panels)} panels")
        panels = [(t, p) for t, (_, p) in zip(titles, panels)]
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * image.shape[0] / image.shape[1] + 0.4),
                             squeeze=False)
    for ax, (title, picture) in zip(axes[0], panels):
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if polygons is not None:
        ax = axes[0][-1]
        for name, points in polygons:
            pts = np.asarray(points, dtype=float)
            if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
                raise ValueError(f"polygon {name!r} must be an (N >= 3, 2) array of (x, y) points")
            ax.add_patch(Polygon(pts, closed=True, fill=False, edgecolor="yellow", linewidth=1.2))
    fig.tight_layout()
    return fig


def plot_palette_png(indices: np.ndarray, palette: np.ndarray, *, size: float = 2.8):
    """What a palette PNG holds: the stored indices (grey) and the colours a viewer shows."""
    import matplotlib.pyplot as plt

    palette = check_palette(palette)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size, size * indices.shape[0] / indices.shape[1] + 0.4))
    axes[0].imshow(indices, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    axes[0].set_title("stored: class index per pixel", fontsize=9)
    axes[1].imshow(colorize(indices, palette), interpolation="nearest")
    axes[1].set_title("shown: palette[index]", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_voc_scene_grid(images: Sequence[np.ndarray], labels: Sequence[np.ndarray], palette: np.ndarray, *,
                        class_names: Sequence[str] | None = None, ncols: int = 4, alpha: float = 0.55,
                        size: float = 2.2):
    """Scenes in a grid, each with its label map laid over it (objects tinted, void outlined).

    Parameters
    ----------
    images : sequence of ndarray (H, W, 3) uint8
    labels : sequence of ndarray (H, W) int
        One per image: 0 background (left untinted), object ids, 255 void (drawn in ``palette[255]``
        when the palette has 256 entries, else left as is).
    palette : ndarray (K, 3) uint8
        Colours indexed by label (e.g. :func:`course_utils.palettes.voc_palette`).
    class_names : sequence of str, optional
        Names indexed by label: each cell is titled with the classes it shows.
    ncols : int
        Cells per row.
    alpha : float
        Opacity of the tint, in [0, 1].
    size : float
        Inches per cell.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    palette = check_palette(palette)
    ncols = check_int(ncols, "ncols", 1)
    alpha = check_probability(alpha, "alpha")
    images, labels = list(images), list(labels)
    if not images or len(images) != len(labels):
        raise ValueError(f"images and labels must be non-empty and as long as each other, got {len(images)} images "
                         f"and {len(labels)} label maps")
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k >= len(images):
            continue
        image, lab = images[k], np.asarray(labels[k])
        check_image(image, f"images[{k}]")
        check_labels(lab, f"labels[{k}]")
        if lab.shape != image.shape[:2]:
            raise ValueError(f"labels[{k}] has shape {lab.shape} but images[{k}] is {image.shape[:2]}")
        out = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32).copy()
        void = lab == IGNORE_INDEX
        objects = (lab != 0) & ~void
        colours = colorize(np.where(void | (lab >= len(palette)), 0, lab), palette).astype(np.float32) / 255.0
        out[objects] = (1 - alpha) * out[objects] + alpha * colours[objects]
        if len(palette) > IGNORE_INDEX:
            out[void] = palette[IGNORE_INDEX] / 255.0
        ax.imshow(np.clip(out, 0, 1), interpolation="nearest")
        if class_names is not None:
            present = [int(c) for c in np.unique(lab[objects])]
            ax.set_title(", ".join(class_names[c] if c < len(class_names) else str(c) for c in present), fontsize=7)
    fig.tight_layout()
    return fig
