"""Lesson 4's worked steps: the size walk, the FCN-32s/16s/8s diagram, the per-pixel loss, crop registration.

* :func:`body_size_walk` -- every layer of an FCN backbone for one input size: the size the
  formula gives (Caffe's rounding up for pooling) next to the size PyTorch computes (forward hooks).
* :func:`head_size_walk` -- the skip head's layers (score, 2x deconvolution, crop, fuse) with their sizes.
* :func:`crop_offset_table` -- each builder's crop offsets and rounding residuals.
* :func:`plot_fcn_architecture` -- the lecture's FCN-32s / 16s / 8s figure, drawn with the sizes a
  forward pass on PyTorch's ``meta`` device gives (:func:`course_utils.nets.fcn.fcn_shapes`).
* :func:`pixel_loss_example` -- the per-pixel cross-entropy on a 3x3 image, every number kept.
* :func:`boundary_accuracy`, :func:`crop_shift_scores` -- accuracy near label boundaries and elsewhere,
  and what a registration error of the final crop costs there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from course_utils._shared import check_int
from course_utils.nets.fcn import FCN, fcn_alexnet, fcn_shapes, fcn_vgg16

__all__ = ["SizeRow", "body_size_walk", "head_size_walk", "crop_offset_table", "plot_fcn_architecture",
           "PixelLossExample", "pixel_loss_example", "boundary_accuracy", "crop_shift_scores", "fcn_parameter_count"]


@dataclass(frozen=True)
class SizeRow:
    """One layer of the size walk: ``formula`` is the hand formula's output side, ``measured`` PyTorch's."""

    name: str
    what: str
    size_in: int
    formula: int
    measured: int
    channels: int


def _ksp(layer: nn.Module) -> tuple[int, int, int]:
    return tuple(v if isinstance(v, int) else v[0] for v in (layer.kernel_size, layer.stride, layer.padding))


_BODY_NAMES = {"alexnet": ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7"]}


def body_size_walk(net: FCN, size: int = 500) -> list[SizeRow]:
    """The side of every convolution and pooling layer of ``net``'s backbone on a ``size`` x ``size`` image.

    Parameters
    ----------
    net : FCN
        Built on the ``meta`` device or not (only shapes are used).
    size : int
        Side of the square input image, pixels.

    Returns
    -------
    list of SizeRow
        In order; ``formula`` is floor((n + 2p - k)/s) + 1 for a convolution and the same rounded up
        for a (Caffe-style, ``ceil_mode``) pooling layer; ``measured`` is what the forward pass gave.
    """
    if not isinstance(net, FCN):
        raise TypeError(f"net must be an FCN, got {type(net).__name__}")
    size = check_int(size, "size (pixels)", 1)
    body = [m for m in (*net.backbone.features, *net.backbone.classifier) if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
    names = _BODY_NAMES.get("alexnet") if len(body) == len(_BODY_NAMES["alexnet"]) else None
    if names is None:  # VGG16: conv1_1 ... pool5, fc6, fc7
        names, block, conv = [], 1, 1
        for m in body[:-2]:
            if isinstance(m, nn.MaxPool2d):
                names.append(f"pool{block}")
                block, conv = block + 1, 1
            else:
                names.append(f"conv{block}_{conv}")
                conv += 1
        names += ["fc6", "fc7"]
    seen: dict[str, tuple[int, int, int]] = {}
    hooks = [m.register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, (i[0].shape[-1], o.shape[-1],
                                                                                          o.shape[1])))
             for m, name in zip(body, names)]
    try:
        device = next(net.parameters()).device
        with torch.no_grad():
            net.backbone(torch.zeros(1, 3, size, size, device=device))
    finally:
        for h in hooks:
            h.remove()
    rows, n = [], size
    for m, name in zip(body, names):
        k, s, p = _ksp(m)
        if isinstance(m, nn.MaxPool2d):
            out, what = math.ceil((n + 2 * p - k) / s) + 1, f"max pool {k}x{k}, stride {s}, round up"
        else:
            out, what = (n + 2 * p - k) // s + 1, f"conv {k}x{k}, stride {s}, pad {p}"
        rows.append(SizeRow(name, what, n, out, seen[name][1], seen[name][2]))
        n = seen[name][1]
    return rows


def head_size_walk(net: FCN, size: int = 500) -> list[SizeRow]:
    """The skip head of ``net`` (16s or 8s) on a ``size`` x ``size`` image: score, upsample, crop, fuse.

    ``formula`` uses (n - 1)s + k - 2p for a transposed convolution; ``measured`` is the forward
    pass's size (:meth:`FCN.intermediates`). The skip layers are named for the map they read
    (pool4/pool3 on VGG16, pool2/pool1 on AlexNet).
    """
    if not isinstance(net, FCN) or net.variant == "32s":
        raise ValueError("net must be an FCN-16s or FCN-8s")
    device = next(net.parameters()).device
    with torch.no_grad():
        maps = net.intermediates(torch.zeros(1, 3, size, size, device=device))
    tap, off = net.backbone.tap_names, net.offsets
    side = {name: t.shape[-1] for name, t in maps.items()}
    c = net.num_classes

    def up(n: int, layer: nn.Module) -> int:
        k, s, p = _ksp(layer)
        return (n - 1) * s + k - 2 * p

    p16, p8 = tap["skip16"], tap["skip8"]
    n16 = up(side["fc7"], net.upscore2)
    rows = [SizeRow("score_fr", f"conv 1x1 -> {c} class scores", side["fc7"], side["fc7"], side["score_fr"], c),
            SizeRow("upscore2", "transposed conv 4x4, stride 2", side["fc7"], n16, side["upscore2"], c),
            SizeRow(f"score_{p16}", f"conv 1x1 on {p16}, crop at {off['score_pool4']}", side[p16], n16,
                    side["score_pool4c"], c),
            SizeRow(f"fuse_{p16}", f"upscore2 + score_{p16}", n16, n16, side["fuse_pool4"], c)]
    if net.variant == "16s":
        final, k = up(n16, net.upscore16), _ksp(net.upscore16)[0]
        rows.append(SizeRow("upscore16", f"transposed conv {k}x{k}, stride 16 (fixed)", n16, final,
                            side["upscore16"], c))
    else:
        n8 = up(n16, net.upscore_pool4)
        final, k = up(n8, net.upscore8), _ksp(net.upscore8)[0]
        rows += [SizeRow(f"upscore_{p16}", "transposed conv 4x4, stride 2", n16, n8, side["upscore_pool4"], c),
                 SizeRow(f"score_{p8}", f"conv 1x1 on {p8}, crop at {off['score_pool3']}", side[p8], n8,
                         side["score_pool3c"], c),
                 SizeRow(f"fuse_{p8}", f"upscore_{p16} + score_{p8}", n8, n8, side["fuse_pool3"], c),
                 SizeRow("upscore8", f"transposed conv {k}x{k}, stride 8 (fixed)", n8, final, side["upscore8"], c)]
    rows.append(SizeRow("score", f"crop at {off['final']}", final, size, side["score"], c))
    return rows


def crop_offset_table() -> list[tuple[str, str, dict[str, int], dict[str, str]]]:
    """``(variant, backbone, offsets, misalignment)`` for FCN-32s/16s/8s on VGG16 and AlexNet.

    Offsets and residuals are keyed by the map each crop reads (``score_pool4`` becomes
    ``score_pool2`` on AlexNet); the residual is in pixels of that map, only the non-zero ones.
    """
    table = []
    for builder, backbone in ((fcn_vgg16, "VGG16"), (fcn_alexnet, "AlexNet")):
        for variant in ("32s", "16s", "8s"):
            with torch.device("meta"):
                net = builder(variant)
            t = net.backbone.tap_names

            def rename(key: str) -> str:
                return key.replace("pool4", t["skip16"]).replace("pool3", t["skip8"])

            table.append((variant, backbone, {rename(k): o for k, o in net.offsets.items()},
                          {rename(k): str(r) for k, r in net.misalignment.items() if r}))
    return table


# ------------------------------------------------------------------------------------------ the diagram
_STEP_COLOURS = {"pool": "#9ecae1", "score": "#fdd49e", "up": "#c7e9c0", "fuse": "#fcbba1", "out": "#dadaeb"}


def _box(ax, x: float, y: float, text: str, kind: str, w: float = 1.55, h: float = 0.62
         ) -> tuple[float, float, float, float]:
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.03", fc=_STEP_COLOURS[kind],
                                ec="0.3", lw=0.8))
    ax.text(x, y, text, ha="center", va="center", fontsize=7)
    return x, y, w, h


def _arrow(ax, a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> None:
    """An arrow from box ``a``'s edge to box ``b``'s edge (sideways if on one row, else up or down)."""
    (xa, ya, wa, ha), (xb, yb, wb, hb) = a, b
    if abs(ya - yb) < 1e-9:
        sign = 1 if xb > xa else -1
        start, end = (xa + sign * (wa / 2 + 0.03), ya), (xb - sign * (wb / 2 + 0.03), yb)
    else:
        sign = 1 if yb > ya else -1
        start, end = (xa, ya + sign * (ha / 2 + 0.03)), (xb, yb - sign * (hb / 2 + 0.03))
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "color": "0.25", "lw": 0.9,
                                                      "shrinkA": 0, "shrinkB": 0})


def _dims(shape: tuple[int, int, int]) -> str:
    c, h, w = shape
    return f"{h}x{w}x{c}"


def plot_fcn_architecture(backbone: str = "vgg16", size: int = 500, num_classes: int = 21):
    """The lecture's FCN-32s / FCN-16s / FCN-8s figure, one row each, with every map's real size.

    The sizes come from a forward pass on the ``meta`` device (:func:`fcn_shapes`): nothing is
    typed. Each row shows the backbone's pool3 / pool4 / pool5 (fc7) maps, the scoring layers, the
    2x deconvolutions, the crops and fusions (+) and the final fixed upsampling to the image.

    Returns
    -------
    (figure, shapes)
        ``shapes[variant][name]`` is the ``(C, H, W)`` of each named map.
    """
    import matplotlib.pyplot as plt

    shapes = {v: fcn_shapes(backbone, v, (size, size), num_classes=num_classes) for v in ("32s", "16s", "8s")}
    with torch.device("meta"):
        tap = (fcn_vgg16 if backbone == "vgg16" else fcn_alexnet)("8s").backbone.tap_names
    p8, p16 = tap["skip8"], tap["skip16"]
    fig, ax = plt.subplots(figsize=(12, 6.2))
    ax.set_xlim(-0.3, 12.7)
    ax.set_ylim(-0.8, 7.9)
    ax.axis("off")
    rows = {"32s": 7.0, "16s": 4.6, "8s": 2.0}
    for v, y in rows.items():
        s = shapes[v]
        ax.text(-0.25, y + 0.72, f"FCN-{v}", fontsize=10, fontweight="bold", ha="left")
        image = _box(ax, 0.6, y, f"image\n{size}x{size}x3", "out", w=1.1)
        pool5 = _box(ax, 2.3, y, f"conv1 ... pool5, fc6, fc7\nfc7 {_dims(s['fc7'])}", "pool", w=1.75)
        _arrow(ax, image, pool5)
        score = _box(ax, 4.25, y, f"score_fr 1x1\n{_dims(s['score_fr'])}", "score", w=1.4)
        _arrow(ax, pool5, score)
        if v == "32s":
            up = _box(ax, 9.6, y, f"upscore 32x (fixed)\n{_dims(s['upscore'])}", "up", w=1.9)
            _arrow(ax, score, up)
        else:
            up2 = _box(ax, 5.9, y, f"upscore2 2x\n{_dims(s['upscore2'])}", "up")
            _arrow(ax, score, up2)
            sk16 = _box(ax, 5.9, y - 1.0, f"{p16} {_dims(s[p16])}\nscore 1x1, crop\n{_dims(s['score_pool4c'])}",
                        "pool", w=1.75, h=0.78)
            fuse16 = _box(ax, 7.7, y, f"+ fuse\n{_dims(s['fuse_pool4'])}", "fuse", w=1.2)
            _arrow(ax, up2, fuse16)
            _arrow(ax, sk16, fuse16)
            if v == "16s":
                up = _box(ax, 9.6, y, f"upscore16 16x (fixed)\n{_dims(s['upscore16'])}", "up", w=1.9)
                _arrow(ax, fuse16, up)
            else:
                up4 = _box(ax, 9.5, y, f"upscore_pool4 2x\n{_dims(s['upscore_pool4'])}", "up", w=1.9)
                _arrow(ax, fuse16, up4)
                sk8 = _box(ax, 9.5, y - 1.0, f"{p8} {_dims(s[p8])}\nscore 1x1, crop\n{_dims(s['score_pool3c'])}",
                           "pool", w=1.75, h=0.78)
                fuse8 = _box(ax, 11.2, y, f"+ fuse\n{_dims(s['fuse_pool3'])}", "fuse", w=1.2)
                _arrow(ax, up4, fuse8)
                _arrow(ax, sk8, fuse8)
                up = _box(ax, 11.6, y - 1.15, f"upscore8 8x (fixed)\n{_dims(s['upscore8'])}", "up", w=1.6)
                _arrow(ax, fuse8, up)
        out = _box(ax, up[0] + (0 if v == "8s" else 2.0), up[1] - (1.0 if v == "8s" else 0),
                   f"crop -> scores\n{_dims(s['score'])}", "out", w=1.5)
        _arrow(ax, up, out)
    ax.set_title(f"FCN-32s / 16s / 8s on {backbone.upper() if backbone == 'vgg16' else 'AlexNet'}: "
                 f"the sizes of a {size}x{size} input (H x W x C, from a forward pass)", fontsize=10)
    fig.tight_layout()
    return fig, shapes


# ------------------------------------------------------------------------------------------ the loss
@dataclass(frozen=True)
class PixelLossExample:
    """Every number of the per-pixel cross-entropy on one small image.

    Attributes (H, W pixels, C classes)
    ----------
    logits : (C, H, W) float64, the scores
    labels : (H, W) int64, 255 = void
    probs : (C, H, W) softmax over the classes
    log_sum_exp : (H, W) log sum_c exp(logit_c)
    true_logit : (H, W) the score of the true class (nan on void pixels)
    pixel_loss : (H, W) -log p(true class) = log_sum_exp - true_logit (nan on void pixels)
    loss : float, the mean of pixel_loss over the labelled pixels
    """

    logits: np.ndarray
    labels: np.ndarray
    probs: np.ndarray
    log_sum_exp: np.ndarray
    true_logit: np.ndarray
    pixel_loss: np.ndarray
    loss: float

    @property
    def labelled(self) -> int:
        """How many pixels count (not void)."""
        return int((self.labels != 255).sum())


def pixel_loss_example(seed: int = 4, size: int = 3, num_classes: int = 3, void: Sequence[tuple[int, int]] = ((0, 2),)
                       ) -> PixelLossExample:
    """Small integer-valued scores and labels (one void pixel), and the per-pixel loss computed by hand.

    Parameters
    ----------
    seed : int
        Seed of the scores and labels.
    size : int
        Side of the image, pixels.
    num_classes : int
    void : sequence of (row, column)
        Pixels labelled 255 (the void band along the outlines of VOC's objects).
    """
    rng = np.random.default_rng(seed)
    logits = rng.integers(-2, 3, size=(num_classes, size, size)).astype(np.float64)
    labels = rng.integers(0, num_classes, size=(size, size)).astype(np.int64)
    for r, c in void:
        labels[r, c] = 255
    shifted = logits - logits.max(axis=0)
    log_sum_exp = np.log(np.exp(shifted).sum(axis=0)) + logits.max(axis=0)
    probs = np.exp(logits - log_sum_exp)
    valid = labels != 255
    true_logit = np.where(valid, np.take_along_axis(logits, np.where(valid, labels, 0)[None], axis=0)[0], np.nan)
    pixel_loss = log_sum_exp - true_logit
    return PixelLossExample(logits, labels, probs, log_sum_exp, true_logit, pixel_loss,
                            float(np.nanmean(pixel_loss)))


# ------------------------------------------------------------------------------------------ crops
def _near_boundary(labels: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    k = 2 * radius + 1
    return cv2.dilate((labels == 255).astype(np.uint8), np.ones((k, k), np.uint8)).astype(bool)


def boundary_accuracy(labels: np.ndarray, predictions: np.ndarray, radius: int = 4) -> tuple[float, float]:
    """Pixel accuracy within ``radius`` pixels of a void (outline) pixel, and elsewhere.

    Parameters
    ----------
    labels : (N, H, W) int, 255 = void (VOC draws a void band along every outline)
    predictions : (N, H, W) int
    radius : int, pixels

    Returns
    -------
    (near, far) : fractions of the labelled pixels predicted right
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or labels.ndim != 3:
        raise ValueError(f"labels and predictions must be (N, H, W) of one shape, got {labels.shape} and "
                         f"{predictions.shape}")
    right = np.zeros(2, np.int64)
    total = np.zeros(2, np.int64)
    for lab, pred in zip(labels, predictions):
        valid = lab != 255
        edge = _near_boundary(lab, radius)
        for k, region in enumerate((valid & edge, valid & ~edge)):
            right[k] += int((pred[region] == lab[region]).sum())
            total[k] += int(region.sum())
    return float(right[0] / total[0]), float(right[1] / total[1])


@torch.no_grad()
def crop_shift_scores(net: FCN, images: torch.Tensor, labels: np.ndarray, shifts: Sequence[int] = (0, 1, 2, 4),
                      radius: int = 4) -> dict[int, tuple[float, float]]:
    """Boundary and interior accuracy when the final crop is taken ``shift`` pixels off its offset.

    The network's last upsampled map is larger than the image; FCN cuts the image-sized window out
    of it at ``net.offsets["final"]``, the offset that registers it with the input. Cutting it
    ``shift`` pixels down and right instead is a registration error of ``shift`` pixels, the kind
    of error a wrong padding/crop computation makes.

    Parameters
    ----------
    net : FCN (16s or 8s or 32s)
    images : (N, 3, H, W) float, normalised as for the net
    labels : (N, H, W) int, 255 = void
    shifts : pixels, each >= 0 and within the margin the upsampled map leaves

    Returns
    -------
    dict
        ``{shift: (accuracy within radius of a boundary, accuracy elsewhere)}``.
    """
    last = {"32s": "upscore", "16s": "upscore16", "8s": "upscore8"}[net.variant]
    net.eval()
    device = next(net.parameters()).device
    h, w = images.shape[-2:]
    off = net.offsets["final"]
    ups = []
    for start in range(0, len(images), 8):
        ups.append(net.intermediates(images[start:start + 8].to(device))[last].cpu())
    up = torch.cat(ups)
    margin = min(up.shape[-2] - h, up.shape[-1] - w) - off
    out = {}
    for shift in shifts:
        shift = check_int(shift, f"shift (at most the upsampled map's margin, {margin})", 0, margin)
        pred = up[..., off + shift:off + shift + h, off + shift:off + shift + w].argmax(1).numpy()
        out[shift] = boundary_accuracy(labels, pred, radius)
    return out


def fcn_parameter_count(net: FCN) -> int:
    """The parameters of ``net`` without its fixed final upsampling layer (a constant bilinear kernel).

    That layer (``upscore``, ``upscore16`` or ``upscore8``) holds ``C x C x k x k`` numbers that never
    learn (FCN-32s's 64x64 kernel alone is 1.8 M at 21 classes); the count the paper reports leaves
    it out, as does this one. A frozen backbone (FCN-32s-fixed) is counted: its weights exist.
    """
    if not isinstance(net, FCN):
        raise TypeError(f"net must be an FCN, got {type(net).__name__}")
    final = {"32s": "upscore.", "16s": "upscore16.", "8s": "upscore8."}[net.variant]
    return sum(p.numel() for name, p in net.named_parameters() if not name.startswith(final))
