"""DeepLab's pipeline drawn with the real images of one frame (the lecture's figure).

Input -> DCNN (atrous convolution) -> coarse score map (stride 8) -> bilinear upsampling ->
fully connected CRF -> output: :func:`plot_deeplab_pipeline` shows each step's real array for one
frame and one class, so the student sees where the blur comes from and what the CRF repairs.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_utils.viz.plots import colorize

__all__ = ["plot_deeplab_pipeline"]


def _as_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def plot_deeplab_pipeline(image: np.ndarray, coarse_scores, upsampled_scores, crf_probs, palette: np.ndarray, *,
                          class_index: int, class_name: str, labels_true: np.ndarray | None = None,
                          size: float = 2.6):
    """Draw DeepLab's pipeline for one frame: input, coarse score map, bilinear upsampling, CRF, output.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        The frame.
    coarse_scores : array or tensor (C, h, w)
        The DCNN's stride-8 class scores (``net.forward_coarse``), before the softmax.
    upsampled_scores : array or tensor (C, H, W)
        The same scores bilinearly upsampled to the frame.
    crf_probs : array or tensor (C, H, W)
        The fully connected CRF's marginals after mean field.
    palette : ndarray (256, 3) uint8
        Colours of the labels.
    class_index, class_name : int, str
        The class whose score / probability maps are shown (as the lecture's "aeroplane").
    labels_true : ndarray (H, W), optional
        The ground truth, drawn last for comparison.

    Returns
    -------
    matplotlib.figure.Figure
    """
    image = np.asarray(image)
    coarse = _as_numpy(coarse_scores)
    up = _as_numpy(upsampled_scores)
    probs = _as_numpy(crf_probs)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got shape {image.shape}")
    h, w = image.shape[:2]
    for name, arr in (("upsampled_scores", up), ("crf_probs", probs)):
        if arr.ndim != 3 or arr.shape[1:] != (h, w):
            raise ValueError(f"{name} must be (C, {h}, {w}) like the image, got shape {arr.shape}")
    if coarse.ndim != 3 or coarse.shape[0] != up.shape[0] or coarse.shape[1] > h or coarse.shape[2] > w:
        raise ValueError(f"coarse_scores must be (C, h, w) with C = {up.shape[0]} and h, w at most the image's, "
                         f"got shape {coarse.shape}")
    if not isinstance(class_index, (int, np.integer)) or not 0 <= class_index < up.shape[0]:
        raise ValueError(f"class_index must be an int in [0, {up.shape[0]}), got {class_index!r}")
    panels = [
        (image, None, f"input frame\n{h}x{w}"),
        (coarse[class_index], "viridis", f"DCNN: coarse score map\n'{class_name}', {coarse.shape[1]}x{coarse.shape[2]} "
                                         f"(stride {h // coarse.shape[1]})"),
        (up[class_index], "viridis", f"bilinear upsampling\n'{class_name}' score, {h}x{w}"),
        (probs[class_index], "magma", f"fully connected CRF\nP('{class_name}') after mean field"),
        (colorize(probs.argmax(0).astype(np.uint8), palette), None, "output\n(argmax of the CRF)"),
    ]
    if labels_true is not None:
        panels.append((colorize(np.asarray(labels_true).astype(np.uint8), palette), None, "ground truth"))
    fig, axes = plt.subplots(1, len(panels), figsize=(size * len(panels), size * h / w + 0.9))
    for k, (ax, (data, cmap, title)) in enumerate(zip(axes, panels)):
        ax.imshow(data, cmap=cmap, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        if 0 < k < 5:
            ax.annotate("", xy=(-0.02, 0.5), xytext=(-0.14, 0.5), xycoords="axes fraction",
                        arrowprops={"arrowstyle": "->", "lw": 1.5})
    fig.tight_layout()
    return fig
