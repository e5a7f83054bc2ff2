"""Figures and widgets for lesson 4 (FCN): convolution arithmetic, the matrix view, bilinear upsampling,
FCN outputs side by side, a transposed-convolution stepper and a metrics playground.

Every ``plot_*`` / ``draw_*`` function is pure (arrays in, a matplotlib ``Figure`` out); the widget
builders at the end only wire sliders to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores
from course_utils.ops.bilinear import bilinear_kernel, bilinear_kernel_size, bilinear_upsample
from course_utils.ops.receptive_field import conv_output_size
from course_utils.ops.transposed_conv import (conv_matrix, conv_transpose_output_size,
                                              equivalent_direct_padding)
from course_utils.palettes import VOC_CLASSES, voc_palette
from course_utils.viz.plots import colorize, legend_handles
from course_utils.viz.widgets import interactive_figure

__all__ = [
    "plot_conv_steps",
    "plot_transposed_conv_steps",
    "plot_conv_matrix",
    "plot_bilinear_upsampling",
    "plot_fcn_outputs",
    "transposed_conv_footprint",
    "draw_transposed_conv_stepper",
    "playground_labels",
    "playground_scores",
    "draw_metrics_playground",
    "transposed_conv_stepper",
    "metrics_playground",
]


def _grid(ax, h: int, w: int, x0: float = 0, y0: float = 0, color="0.6", lw=0.8) -> None:
    for r in range(h + 1):
        ax.plot([x0, x0 + w], [y0 + r, y0 + r], color=color, lw=lw)
    for c in range(w + 1):
        ax.plot([x0 + c, x0 + c], [y0, y0 + h], color=color, lw=lw)


def _cells(ax, values: np.ndarray, x0: float, y0: float, mask: np.ndarray | None = None, fmt="{:g}",
           face="white", fontsize=8) -> None:
    from matplotlib.patches import Rectangle

    h, w = values.shape
    for r in range(h):
        for c in range(w):
            shaded = mask is not None and mask[r, c]
            ax.add_patch(Rectangle((x0 + c, y0 + r), 1, 1, facecolor="0.88" if shaded else face, edgecolor="none"))
            if not shaded:
                ax.text(x0 + c + 0.5, y0 + r + 0.5, fmt.format(values[r, c]), ha="center", va="center", fontsize=fontsize)
    _grid(ax, h, w, x0, y0)


def _setup(ax, width: float, height: float) -> None:
    ax.set_xlim(-0.5, width + 0.5)
    ax.set_ylim(height + 0.5, -0.5)
    ax.set_aspect("equal")
    ax.axis("off")


def plot_conv_steps(input_size: int = 4, kernel: int = 3, stride: int = 1, padding: int = 0, steps: int = 4):
    """A direct convolution step by step: the kernel window over the (padded) input, one output cell per step.

    Parameters
    ----------
    input_size, kernel, stride, padding : int
        A square input ``input_size x input_size``; padded cells are shaded grey.
    steps : int
        Number of panels (the first output positions in raster order).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    out = conv_output_size(input_size, kernel, stride, padding)
    n = input_size + 2 * padding
    steps = max(1, min(int(steps), out * out))
    values = np.arange(1, input_size * input_size + 1).reshape(input_size, input_size)
    padded = np.zeros((n, n), int)
    padded[padding:padding + input_size, padding:padding + input_size] = values
    pad_mask = np.ones((n, n), bool)
    pad_mask[padding:padding + input_size, padding:padding + input_size] = False
    fig, axes = plt.subplots(1, steps, figsize=(2.6 * steps, 2.8), squeeze=False)
    for t, ax in enumerate(axes[0]):
        i, j = divmod(t, out)
        _cells(ax, padded, 0, 0, pad_mask)
        ax.add_patch(Rectangle((j * stride, i * stride), kernel, kernel, fill=False, edgecolor="tab:blue", lw=2.5))
        ox = n + 1
        oy = (n - out) / 2
        _grid(ax, out, out, ox, oy)
        ax.add_patch(Rectangle((ox + j, oy + i), 1, 1, facecolor="tab:blue", alpha=0.6))
        _setup(ax, n + 1 + out, n)
        ax.set_title(f"step {t + 1}: output ({i}, {j})", fontsize=9)
    fig.suptitle(f"convolution: {input_size}x{input_size} input, k={kernel}, s={stride}, p={padding} "
                 f"-> {out}x{out}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_transposed_conv_steps(input_size: int = 3, kernel: int = 3, stride: int = 2, padding: int = 1, steps: int = 4):
    """A transposed convolution as a direct one: zeros inserted between inputs, padding ``k - 1 - p``.

    The shaded cells are the inserted zeros and the padding; the blue window slides with stride 1.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    out = conv_transpose_output_size(input_size, kernel, stride, padding)
    q = equivalent_direct_padding(kernel, padding)
    z = (input_size - 1) * stride + 1
    n = z + 2 * q
    values = np.zeros((n, n), int)
    mask = np.ones((n, n), bool)
    k = 1
    for r in range(input_size):
        for c in range(input_size):
            values[q + r * stride, q + c * stride] = k
            mask[q + r * stride, q + c * stride] = False
            k += 1
    steps = max(1, min(int(steps), out * out))
    fig, axes = plt.subplots(1, steps, figsize=(2.8 * steps, 3.0), squeeze=False)
    for t, ax in enumerate(axes[0]):
        i, j = divmod(t, out)
        _cells(ax, values, 0, 0, mask)
        ax.add_patch(Rectangle((j, i), kernel, kernel, fill=False, edgecolor="tab:orange", lw=2.5))
        ox, oy = n + 1, (n - out) / 2
        _grid(ax, out, out, ox, oy)
        ax.add_patch(Rectangle((ox + j, oy + i), 1, 1, facecolor="tab:orange", alpha=0.6))
        _setup(ax, n + 1 + out, n)
        ax.set_title(f"step {t + 1}: output ({i}, {j})", fontsize=9)
    fig.suptitle(f"transposed convolution {input_size}x{input_size} -> {out}x{out} (k={kernel}, s={stride}, "
                 f"p={padding}) = stride-1 conv over {stride - 1} inserted zero(s), padding {q}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_conv_matrix(input_size: int = 4, kernel: int = 3, stride: int = 1, padding: int = 0):
    """The convolution as a matrix ``C`` (rows: output pixels) next to its transpose ``C^T``.

    The kernel holds the values 1..k*k so each entry shows which tap it is (0 = structural zero).
    """
    import matplotlib.pyplot as plt
    import torch

    weight = torch.arange(1.0, kernel * kernel + 1).reshape(kernel, kernel)
    c = conv_matrix(weight, (input_size, input_size), stride, padding).numpy()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), gridspec_kw={"width_ratios": [c.shape[1], c.shape[0]]})
    for ax, m, title in ((axes[0], c, f"C: {c.shape[0]}x{c.shape[1]} (conv)"),
                         (axes[1], c.T, f"C^T: {c.shape[1]}x{c.shape[0]} (transposed conv)")):
        ax.imshow(np.ma.masked_equal(m, 0), cmap="viridis", vmin=0, vmax=kernel * kernel)
        if m.size <= 400:
            for (r, col), v in np.ndenumerate(m):
                if v:
                    ax.text(col, r, f"{int(v)}", ha="center", va="center", fontsize=6, color="w")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{input_size}x{input_size} input, {kernel}x{kernel} kernel, stride {stride}, padding {padding}: "
                 f"{int((c != 0).sum())} of {c.size} entries are non-zero", fontsize=10)
    fig.tight_layout()
    return fig


def plot_bilinear_upsampling(small: np.ndarray, factor: int):
    """A low-resolution map upsampled by a bilinear deconvolution vs ``F.interpolate``.

    Panels: the input, the bilinear kernel, the deconvolution (zeros beyond the image), and the
    absolute difference to ``F.interpolate(align_corners=False)``, zero except near the border.

    Parameters
    ----------
    small : ndarray (h, w) float
    factor : int
    """
    import matplotlib.pyplot as plt
    import torch
    import torch.nn.functional as F

    small = np.asarray(small, dtype=np.float64)
    if small.ndim != 2:
        raise ValueError(f"small must be a 2-D map (h, w), got shape {small.shape}")
    x = torch.from_numpy(small)[None, None]
    deconv = bilinear_upsample(x, factor, replicate_edges=False)[0, 0].numpy()
    ref = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)[0, 0].numpy()
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
    axes[0].imshow(small, cmap="magma", interpolation="nearest")
    axes[0].set_title(f"input {small.shape[0]}x{small.shape[1]}", fontsize=9)
    axes[1].imshow(bilinear_kernel(bilinear_kernel_size(factor)), cmap="gray", interpolation="nearest")
    axes[1].set_title(f"bilinear kernel {bilinear_kernel_size(factor)}x{bilinear_kernel_size(factor)}", fontsize=9)
    axes[2].imshow(deconv, cmap="magma", interpolation="nearest")
    axes[2].set_title(f"deconvolution, stride {factor}", fontsize=9)
    im = axes[3].imshow(np.abs(deconv - ref), cmap="gray_r", interpolation="nearest")
    axes[3].set_title("|deconv - F.interpolate|", fontsize=9)
    fig.colorbar(im, ax=axes[3], fraction=0.046)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_fcn_outputs(image: np.ndarray, labels: np.ndarray, predictions: Mapping[str, np.ndarray],
                     palette: np.ndarray, class_names: Sequence[str]):
    """Rows of ``image | ground truth | each prediction`` (FCN-32s, 16s, 8s side by side).

    Parameters
    ----------
    image : (H, W, 3) uint8, or (N, H, W, 3) for N rows
    labels : (H, W) or (N, H, W) ints (255 = void, shown in the palette's cream)
    predictions : {name: (H, W) or (N, H, W) ints}
    """
    import matplotlib.pyplot as plt

    images = np.asarray(image)[None] if np.ndim(image) == 3 else np.asarray(image)
    truths = np.asarray(labels)[None] if np.ndim(labels) == 2 else np.asarray(labels)
    preds = {k: (np.asarray(v)[None] if np.ndim(v) == 2 else np.asarray(v)) for k, v in predictions.items()}
    n = images.shape[0]
    if truths.shape[0] != n or any(v.shape != truths.shape for v in preds.values()):
        raise ValueError("image, labels and every prediction must hold the same number of (H, W) maps")
    cols = 2 + len(preds)
    fig, axes = plt.subplots(n, cols, figsize=(2.2 * cols, 2.2 * n + 0.6), squeeze=False)
    present: set[int] = set()
    for r in range(n):
        row = [("image", images[r])] + [("ground truth", colorize(truths[r], palette))]
        row += [(name, colorize(p[r], palette)) for name, p in preds.items()]
        present |= set(np.unique(truths[r]).tolist())
        for c, (title, pic) in enumerate(row):
            axes[r, c].imshow(pic, interpolation="nearest")
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(title, fontsize=10)
    ids = sorted(i for i in present if i < len(class_names))
    fig.legend(handles=legend_handles(class_names, palette, ids), loc="lower center", ncol=min(len(ids), 7),
               fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


# --------------------------------------------------------------------------------------------- stepper
def transposed_conv_footprint(input_size: int, kernel: int, stride: int, padding: int, pixel: tuple[int, int]):
    """Where one input pixel lands in a transposed convolution's output, and the overlap counts.

    Returns
    -------
    footprint : ndarray (H_out, W_out) float
        The kernel tap index + 1 where input ``pixel`` contributes (0 elsewhere).
    counts : ndarray (H_out, W_out) int
        How many input pixels contribute to each output cell (uneven counts = the
        checkerboard pattern of deconvolutions whose kernel is not a multiple of the stride).
    """
    out = conv_transpose_output_size(input_size, kernel, stride, padding)
    r0, c0 = pixel
    if not (0 <= r0 < input_size and 0 <= c0 < input_size):
        raise ValueError(f"pixel={pixel} lies outside the {input_size}x{input_size} input")
    footprint = np.zeros((out, out))
    counts = np.zeros((out, out), int)
    for r in range(input_size):
        for c in range(input_size):
            for a in range(kernel):
                for b in range(kernel):
                    i, j = r * stride + a - padding, c * stride + b - padding
                    if 0 <= i < out and 0 <= j < out:
                        counts[i, j] += 1
                        if (r, c) == (r0, c0):
                            footprint[i, j] = a * kernel + b + 1
    return footprint, counts


def draw_transposed_conv_stepper(input_size: int = 3, kernel: int = 3, stride: int = 2, padding: int = 1,
                                 pixel: int = 0):
    """One frame of the stepper: the input (pixel ``pixel`` in raster order highlighted) and where it lands.

    Left: the input grid. Middle: the output grid with the highlighted pixel's ``k x k`` footprint
    (numbers = kernel taps). Right: how many input pixels reach each output cell.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    pixel = int(pixel) % (input_size * input_size)
    r0, c0 = divmod(pixel, input_size)
    footprint, counts = transposed_conv_footprint(input_size, kernel, stride, padding, (r0, c0))
    out = footprint.shape[0]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8), gridspec_kw={"width_ratios": [input_size + 1, out + 1, out + 1]})
    ax = axes[0]
    _grid(ax, input_size, input_size)
    ax.add_patch(Rectangle((c0, r0), 1, 1, facecolor="tab:red", alpha=0.7))
    _setup(ax, input_size, input_size)
    ax.set_title(f"input {input_size}x{input_size}: pixel ({r0}, {c0})", fontsize=9)
    ax = axes[1]
    _grid(ax, out, out)
    for (i, j), tap in np.ndenumerate(footprint):
        if tap:
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor="tab:red", alpha=0.45))
            if out <= 16:
                ax.text(j + 0.5, i + 0.5, f"w{int(tap) - 1}", ha="center", va="center", fontsize=7)
    _setup(ax, out, out)
    ax.set_title(f"lands on {int((footprint > 0).sum())} output cells ({out}x{out})", fontsize=9)
    ax = axes[2]
    ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(1, counts.max()), extent=(0, out, out, 0))
    if out <= 16:
        for (i, j), v in np.ndenumerate(counts):
            ax.text(j + 0.5, i + 0.5, str(v), ha="center", va="center", fontsize=7)
    _grid(ax, out, out)
    _setup(ax, out, out)
    uneven = counts.min() != counts.max()
    ax.set_title("contributions per cell" + (" (uneven: checkerboard)" if uneven else " (even)"), fontsize=9)
    fig.suptitle(f"transposed conv: k={kernel}, stride={stride}, padding={padding}: "
                 f"out = ({input_size}-1)x{stride} - 2x{padding} + {kernel} = {out}", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------- metrics playground
def playground_labels(size: int = 64) -> np.ndarray:
    """The playground's ground truth: background, a big car (7), a thin-limbed person (15), a small bottle (5)."""
    import cv2

    labels = np.zeros((size, size), np.uint8)
    s = size / 64
    cv2.rectangle(labels, (int(4 * s), int(30 * s)), (int(34 * s), int(50 * s)), 7, -1)
    cv2.circle(labels, (int(48 * s), int(12 * s)), max(1, int(4 * s)), 15, -1)
    cv2.line(labels, (int(48 * s), int(16 * s)), (int(48 * s), int(40 * s)), 15, max(1, int(3 * s)))
    cv2.line(labels, (int(48 * s), int(40 * s)), (int(42 * s), int(56 * s)), 15, max(1, int(2 * s)))
    cv2.line(labels, (int(48 * s), int(40 * s)), (int(54 * s), int(56 * s)), 15, max(1, int(2 * s)))
    cv2.rectangle(labels, (int(14 * s), int(8 * s)), (int(18 * s), int(18 * s)), 5, -1)
    return labels


def _playground_prediction(truth: np.ndarray, shift: int, grow: int, coarse: int, drop_small: bool,
                           false_blob: bool) -> np.ndarray:
    import cv2

    pred = np.roll(truth, shift, axis=1)
    if shift > 0:
        pred[:, :shift] = 0
    elif shift < 0:
        pred[:, shift:] = 0
    if grow:
        out = np.zeros_like(pred)
        kernel = np.ones((2 * abs(grow) + 1, 2 * abs(grow) + 1), np.uint8)
        for cls in np.unique(pred[pred > 0]):
            m = (pred == cls).astype(np.uint8)
            m = cv2.dilate(m, kernel) if grow > 0 else cv2.erode(m, kernel)
            out[(m > 0) & (out == 0)] = cls
        pred = out
    if coarse > 1:  # one label per coarse x coarse block (its majority), like a stride-32 net's output
        h, w = pred.shape
        out = np.empty_like(pred)
        for r in range(0, h, coarse):
            for c in range(0, w, coarse):
                block = pred[r:r + coarse, c:c + coarse]
                out[r:r + coarse, c:c + coarse] = np.bincount(block.ravel(), minlength=21).argmax()
        pred = out
    if drop_small:
        pred[pred == 5] = 0
    if false_blob:
        size = pred.shape[0]
        cv2.circle(pred, (int(0.8 * size), int(0.8 * size)), max(2, size // 10), 1, -1)
    return pred


def playground_scores(shift: int = 0, grow: int = 0, coarse: int = 1, drop_small: bool = False,
                      false_blob: bool = False, size: int = 64) -> tuple[np.ndarray, np.ndarray, dict]:
    """Ground truth, a degraded prediction and the FCN paper's four scores.

    Parameters
    ----------
    shift : int
        Move the prediction right by this many pixels.
    grow : int
        Dilate (>0) or erode (<0) every predicted object.
    coarse : int
        One label per ``coarse x coarse`` block (the block's majority), like a stride-32 net.
    drop_small : bool
        Miss the small bottle entirely.
    false_blob : bool
        Add a false aeroplane (class 1) that is not in the truth.

    Returns
    -------
    truth, prediction : (size, size) uint8
    scores : dict from :func:`course_utils.evaluate.segmentation.segmentation_scores` (fractions), computed over
        the 21 VOC classes.
    """

    truth = playground_labels(size)
    pred = _playground_prediction(truth, int(shift), int(grow), int(coarse), bool(drop_small), bool(false_blob))
    return truth, pred, segmentation_scores(confusion_matrix(truth, pred, 21))


def draw_metrics_playground(shift: int = 0, grow: int = 0, coarse: int = 1, drop_small: bool = False,
                            false_blob: bool = False):
    """Ground truth, prediction, errors, and the four scores with the per-class IU."""
    import matplotlib.pyplot as plt

    truth, pred, scores = playground_scores(shift, grow, coarse, drop_small, false_blob)
    pal = voc_palette()
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.3), gridspec_kw={"width_ratios": [1, 1, 1, 1.3]})
    axes[0].imshow(colorize(truth, pal), interpolation="nearest")
    axes[0].set_title("ground truth", fontsize=9)
    axes[1].imshow(colorize(pred, pal), interpolation="nearest")
    axes[1].set_title("prediction", fontsize=9)
    axes[2].imshow(truth != pred, cmap="Reds", interpolation="nearest")
    axes[2].set_title(f"wrong pixels: {int((truth != pred).sum())}", fontsize=9)
    for ax in axes[:3]:
        ax.set_xticks([])
        ax.set_yticks([])
    lines = [f"pixel acc.  {100 * scores['pixel_acc']:5.1f}", f"mean acc.   {100 * scores['mean_acc']:5.1f}",
             f"mean IU     {100 * scores['mean_iu']:5.1f}", f"f.w. IU     {100 * scores['fw_iu']:5.1f}", ""]
    for cls, iu in enumerate(scores["class_iu"]):
        if not np.isnan(iu):
            lines.append(f"IU {VOC_CLASSES[cls]:<11} {100 * iu:5.1f}")
    axes[3].text(0.02, 0.98, "\n".join(lines), va="top", family="monospace", fontsize=9)
    axes[3].axis("off")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------- builders
def transposed_conv_stepper():
    """Sliders (input size, kernel, stride, padding, input pixel) over :func:`draw_transposed_conv_stepper`."""
    import ipywidgets as widgets

    def draw(input_size, kernel, stride, padding, pixel):
        padding = min(padding, kernel - 1)
        try:
            return draw_transposed_conv_stepper(input_size, kernel, stride, padding, pixel)
        except ValueError as err:  # e.g. padding too large for a tiny input: say so in the figure
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(6, 1))
            ax.text(0.01, 0.5, str(err), va="center")
            ax.axis("off")
            return fig

    return interactive_figure(
        draw,
        input_size=widgets.IntSlider(value=3, min=1, max=6, description="input"),
        kernel=widgets.IntSlider(value=3, min=1, max=6, description="kernel"),
        stride=widgets.IntSlider(value=2, min=1, max=4, description="stride"),
        padding=widgets.IntSlider(value=1, min=0, max=4, description="padding"),
        pixel=widgets.IntSlider(value=0, min=0, max=35, description="pixel #"),
    )


def metrics_playground():
    """Sliders and toggles over :func:`draw_metrics_playground`."""
    import ipywidgets as widgets

    return interactive_figure(
        draw_metrics_playground,
        shift=widgets.IntSlider(value=0, min=-8, max=8, description="shift"),
        grow=widgets.IntSlider(value=0, min=-3, max=3, description="grow"),
        coarse=widgets.IntSlider(value=1, min=1, max=32, description="coarse"),
        drop_small=widgets.Checkbox(value=False, description="miss the bottle"),
        false_blob=widgets.Checkbox(value=False, description="false aeroplane"),
    )
