"""Pictures of the dense CRF: mean-field iterations, trimap curves, a live parameter explorer.

Pure draw functions (tested directly) and one thin widget builder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from course_utils.crf.dense_crf import CRFParams, dense_crf
from course_utils.images import check_image
from course_utils.viz.plots import colorize, legend_handles, overlay_labels
from course_utils.viz.widgets import interactive_figure

__all__ = ["plot_mean_field_iterations", "plot_trimap", "draw_crf_refinement", "crf_sliders", "draw_class_overlay",
           "class_overlay_toggle"]


def _np(x) -> np.ndarray:
    try:
        import torch

        if isinstance(x, torch.Tensor):
            return x.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    return np.asarray(x)


def plot_mean_field_iterations(result, class_index: int, *, iterations: Sequence[int] | None = None,
                               class_name: str | None = None, image: np.ndarray | None = None,
                               panel_size: float = 2.2):
    """One class's scores before the softmax (top row) and probabilities after it (bottom), per iteration.

    Parameters
    ----------
    result : CRFResult
        From ``dense_crf(..., history=True)`` for one image (histories of shape (T+1, K, H, W)).
    class_index : int
        The class to show (a class id; it must be among ``result.history_classes``).
    iterations : sequence of int, optional
        Which iterations to show (0 = the unaries alone); default: up to 5 spread over 0..T.
    class_name : str, optional
        Used in the title.
    image : ndarray (H, W, 3), optional
        Shown in an extra first column.
    panel_size : float
        Inches per panel.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if result.scores_history is None or result.probs_history is None:
        raise ValueError("result has no history: run dense_crf(..., history=True)")
    scores = _np(result.scores_history)
    probs = _np(result.probs_history)
    if scores.ndim != 4:
        raise ValueError(f"result must be for one image (histories of shape (T+1, K, H, W)), got {scores.shape}")
    classes = list(result.history_classes)
    if class_index not in classes:
        raise ValueError(f"class_index={class_index} was not recorded; history_classes={classes}")
    k = classes.index(class_index)
    last = scores.shape[0] - 1
    if iterations is None:
        iterations = sorted(set(np.linspace(0, last, num=min(5, last + 1)).round().astype(int).tolist()))
    iterations = [int(t) for t in iterations]
    if not iterations or any(not 0 <= t <= last for t in iterations):
        raise ValueError(f"iterations must lie in 0..{last}, got {iterations}")
    extra = 1 if image is not None else 0
    if image is not None:
        check_image(image)
    ncols = len(iterations) + extra
    fig, axes = plt.subplots(2, ncols, figsize=(panel_size * ncols, panel_size * 2 * 0.9), squeeze=False)
    s_lo, s_hi = np.percentile(scores[iterations, k], [1, 99])
    for col, t in enumerate(iterations, start=extra):
        im0 = axes[0, col].imshow(scores[t, k], cmap="viridis", vmin=s_lo, vmax=s_hi)
        axes[0, col].set_title(f"iteration {t}" if t else "unary (iteration 0)", fontsize=9)
        im1 = axes[1, col].imshow(probs[t, k], cmap="magma", vmin=0.0, vmax=1.0)
    if image is not None:
        axes[0, 0].imshow(image)
        axes[0, 0].set_title("image", fontsize=9)
        axes[1, 0].axis("off")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, extra].set_ylabel("score before softmax", fontsize=9)
    axes[1, extra].set_ylabel("probability after", fontsize=9)
    fig.colorbar(im0, ax=axes[0, :].tolist(), shrink=0.8)
    fig.colorbar(im1, ax=axes[1, :].tolist(), shrink=0.8)
    name = class_name if class_name is not None else f"class {class_index}"
    fig.suptitle(f"mean-field iterations: {name}")
    return fig


def plot_trimap(curves: Mapping[str, Mapping[str, np.ndarray]], metric: str = "pixel_acc", *, ax=None,
                title: str | None = None):
    """Score against band width, one curve per method (DeepLab's trimap figure).

    Parameters
    ----------
    curves : mapping name -> dict
        Each value is what :func:`course_utils.evaluate.boundary.trimap_scores` returns, e.g.
        ``{"DCNN": scores, "DCNN + CRF": scores_crf}``.
    metric : {"pixel_acc", "mean_iu"}
    ax : matplotlib Axes, optional
        Draw there instead of a new figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if metric not in ("pixel_acc", "mean_iu"):
        raise ValueError(f"metric must be 'pixel_acc' or 'mean_iu', got {metric!r}")
    if not curves:
        raise ValueError("curves is empty: give at least one name -> trimap_scores(...) result")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
    else:
        fig = ax.figure
    for name, scores in curves.items():
        for key in ("width", metric):
            if key not in scores:
                raise ValueError(f"curves[{name!r}] has no {key!r}: pass trimap_scores(...) results")
        ax.plot(scores["width"], 100 * np.asarray(scores[metric]), marker="o", label=name)
    ax.set_xlabel("trimap width (pixels)")
    ax.set_ylabel({"pixel_acc": "pixel accuracy (%)", "mean_iu": "mean IoU (%)"}[metric])
    ax.set_title(title if title is not None else "accuracy near object boundaries (trimap)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def draw_crf_refinement(image: np.ndarray, probs, palette: np.ndarray, *, w1: float, w2: float,
                        sigma_alpha: float, sigma_beta: float, sigma_gamma: float, iterations: int,
                        labels_true: np.ndarray | None = None, ignore_index: int = 255, panel_size: float = 3.0):
    """Run the dense CRF with the given parameters and show image, coarse labels and refined labels.

    Parameters
    ----------
    image : ndarray (H, W, 3)
    probs : tensor or ndarray (C, H, W)
        The coarse class probabilities.
    palette : ndarray (K, 3) uint8
        Class colours (K > C; row ``ignore_index`` used for ignored ground truth when K = 256).
    w1, w2, sigma_alpha, sigma_beta, sigma_gamma, iterations
        The CRF's parameters (:class:`course_utils.crf.CRFParams`) and the number of iterations.
    labels_true : ndarray (H, W), optional
        Ground truth: shown, and the accuracies are printed in the titles.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    check_image(image)
    params = CRFParams(w1=w1, sigma_alpha=sigma_alpha, sigma_beta=sigma_beta, w2=w2, sigma_gamma=sigma_gamma)
    result = dense_crf(image, probs, params=params, iterations=int(iterations))
    coarse = _np(probs).argmax(axis=0)
    refined = _np(result.labels)
    panels = [("image", image), ("coarse (argmax of the unaries)", colorize(coarse, palette)),
              (f"CRF, {int(iterations)} iterations", colorize(refined, palette))]
    if labels_true is not None:
        valid = labels_true != ignore_index
        acc = [float((lab[valid] == labels_true[valid]).mean()) for lab in (coarse, refined)]
        panels[1] = (panels[1][0] + f"\naccuracy {100 * acc[0]:.1f}%", panels[1][1])
        panels[2] = (panels[2][0] + f"\naccuracy {100 * acc[1]:.1f}%", panels[2][1])
        panels.append(("ground truth", colorize(labels_true, palette)))
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size * len(panels), panel_size * 0.85), squeeze=False)
    for ax, (title, picture) in zip(axes[0], panels, strict=True):
        ax.imshow(picture)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(f"w1={w1:g}, sigma_alpha={sigma_alpha:g}, sigma_beta={sigma_beta:g}, "
                 f"w2={w2:g}, sigma_gamma={sigma_gamma:g}", fontsize=9)
    return fig


def crf_sliders(image: np.ndarray, probs, palette: np.ndarray, *, labels_true: np.ndarray | None = None,
                params=None, iterations: int = 5):
    """Sliders for w1, w2, sigma_alpha, sigma_beta, sigma_gamma and the iterations, redrawing the CRF live.

    A thin builder over :func:`draw_crf_refinement` (keep the image small: every change re-runs the CRF).
    Returns the ``ipywidgets`` container.
    """
    import ipywidgets as widgets

    p = CRFParams() if params is None else params
    style = {"description_width": "90px"}

    def slider(value, lo, hi, step, name):
        return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=name,
                                   continuous_update=False, style=style)

    def draw(**values):
        return draw_crf_refinement(image, probs, palette, labels_true=labels_true, **values)

    return interactive_figure(
        draw,
        w1=slider(p.w1, 0.0, 20.0, 0.5, "w1"),
        sigma_alpha=slider(p.sigma_alpha, 1.0, 200.0, 1.0, "sigma_alpha"),
        sigma_beta=slider(p.sigma_beta, 1.0, 50.0, 0.5, "sigma_beta"),
        w2=slider(p.w2, 0.0, 20.0, 0.5, "w2"),
        sigma_gamma=slider(p.sigma_gamma, 0.5, 20.0, 0.5, "sigma_gamma"),
        iterations=widgets.IntSlider(value=iterations, min=0, max=20, description="iterations",
                                     continuous_update=False, style=style),
    )


def draw_class_overlay(image: np.ndarray, predictions: Mapping[str, np.ndarray], palette: np.ndarray,
                       class_names: Sequence[str], *, classes: Sequence[int] | None = None, alpha: float = 0.5,
                       ignore_index: int = 255, panel_size: float = 3.5):
    """Predictions (e.g. before / after the CRF) over the image, only for the chosen classes.

    Parameters
    ----------
    image : ndarray (H, W, 3)
    predictions : mapping title -> labels (H, W) int
        One panel each, e.g. ``{"DCNN": coarse, "DCNN + CRF": refined}``.
    palette : ndarray (K, 3) uint8
    class_names : sequence of str
    classes : sequence of int, optional
        Classes to colour (default: all); other pixels show the bare image.
    alpha : float
        Opacity of the class colours.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    check_image(image)
    if not predictions:
        raise ValueError("predictions is empty: give at least one title -> label map")
    chosen = list(range(len(class_names))) if classes is None else [int(c) for c in classes]
    bad = [c for c in chosen if not 0 <= c < len(class_names)]
    if bad:
        raise ValueError(f"classes must lie in 0..{len(class_names) - 1}, got {bad}")
    fig, axes = plt.subplots(1, len(predictions), figsize=(panel_size * len(predictions), panel_size * 0.8),
                             squeeze=False)
    for ax, (title, labels) in zip(axes[0], predictions.items(), strict=True):
        labels = np.asarray(_np(labels))
        shown = np.where(np.isin(labels, chosen), labels, ignore_index).astype(labels.dtype)
        ax.imshow(overlay_labels(image, shown, palette, alpha=alpha, ignore_index=ignore_index))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    present = sorted({int(v) for lab in predictions.values() for v in np.unique(_np(lab)) if int(v) in chosen})
    if present:
        fig.legend(handles=legend_handles(class_names, palette, present), loc="lower center",
                   ncol=min(6, len(present)), fontsize=8, frameon=False)
        fig.subplots_adjust(bottom=0.1 + 0.05 * (len(present) // 6))
    return fig


def class_overlay_toggle(image: np.ndarray, predictions: Mapping[str, np.ndarray], palette: np.ndarray,
                         class_names: Sequence[str]):
    """A class chooser (multi-select) and an opacity slider over :func:`draw_class_overlay`."""
    import ipywidgets as widgets

    options = [(f"{i} {name}", i) for i, name in enumerate(class_names)]

    def draw(classes, alpha):
        return draw_class_overlay(image, predictions, palette, class_names, classes=list(classes) or None,
                                  alpha=alpha)

    return interactive_figure(
        draw,
        classes=widgets.SelectMultiple(options=options, value=(), rows=min(10, len(options)),
                                       description="classes"),
        alpha=widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="opacity",
                                  continuous_update=False),
    )
