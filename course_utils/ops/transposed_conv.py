"""Transposed convolution (转置卷积, "deconvolution" / 反卷积) explained in code.

A 2-D convolution is a linear map, so it is a matrix ``C`` acting on the
flattened input: ``y = C x``.  The *transposed* convolution is the map with the
transposed matrix, ``x' = C^T y``: it sends each input value to the ``k x k``
output positions the convolution read it from (one-to-many), so it **scatters
and adds** ``value * kernel`` into the output.  Its forward pass is the
convolution's backward pass (gradient with respect to the input) and vice versa.

This module builds ``C`` explicitly (:func:`conv_matrix`), applies the
convolution and the transposed convolution as matrix products, as a scatter-add
(:func:`conv_transpose2d_scatter`) and as a direct convolution over a
zero-inserted input (:func:`conv_transpose2d_zero_insertion`, the "fractional
stride 1/f" view); the tests check all of them against
``torch.nn.functional.conv2d`` / ``conv_transpose2d``, forward and backward.

Sizes (Dumoulin & Visin, *A guide to convolution arithmetic for deep
learning*, 2016): a convolution with kernel ``k``, stride ``s``, padding ``p``
and dilation ``d`` maps ``n`` to ``floor((n + 2p - d(k-1) - 1) / s) + 1``; the
transposed convolution with the same parameters maps ``n`` to
``(n - 1) s - 2p + d(k-1) + output_padding + 1``.  A transposed convolution
with padding ``p`` is a direct (stride-1) convolution over the zero-inserted
input padded by ``d(k-1) - p``: the lecture's 2x2 -> 4x4 example (k=3, s=1)
is ``conv_transpose2d`` with ``padding=0``, i.e. the *full padding* 2 of the
equivalent direct convolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from course_utils._shared import check_bytes, check_int
from course_utils.ops.receptive_field import conv_output_size

__all__ = [
    "conv_transpose_output_size",
    "equivalent_direct_padding",
    "conv_matrix",
    "conv2d_as_matrix",
    "conv_transpose2d_as_matrix",
    "conv_transpose2d_scatter",
    "conv_transpose2d_zero_insertion",
    "insert_zeros",
    "scatter_positions",
    "TransposedConvExample",
    "LECTURE_EXAMPLES",
]


def conv_transpose_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0, output_padding: int = 0,
                               dilation: int = 1) -> int:
    """Output length of a transposed convolution along one axis (as ``torch.nn.ConvTranspose2d``).

    ``(n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1``.

    Raises
    ------
    ValueError
        If an argument is not a valid int, ``output_padding >= max(stride, dilation)``, or the
        result is not positive.
    """
    n = check_int(n, "n", 1)
    kernel = check_int(kernel, "kernel", 1)
    stride = check_int(stride, "stride", 1)
    padding = check_int(padding, "padding", 0)
    output_padding = check_int(output_padding, "output_padding", 0)
    dilation = check_int(dilation, "dilation", 1)
    if output_padding >= max(stride, dilation):
        raise ValueError(f"output_padding={output_padding} must be smaller than stride={stride} or dilation={dilation}")
    out = (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out < 1:
        raise ValueError(f"padding={padding} is too large: the output would have size {out}")
    return out


def equivalent_direct_padding(kernel: int, padding: int = 0, dilation: int = 1) -> int:
    """Padding of the stride-1 direct convolution that a transposed convolution amounts to.

    A transposed convolution with ``padding=p`` equals a direct convolution (flipped kernel,
    stride 1) over the zero-inserted input padded by ``dilation * (kernel - 1) - p``.  With
    ``p = 0`` this is the *full padding* ``k - 1`` (2 for a 3x3 kernel).

    Raises
    ------
    ValueError
        If ``padding`` exceeds ``dilation * (kernel - 1)``.
    """
    kernel = check_int(kernel, "kernel", 1)
    padding = check_int(padding, "padding", 0)
    dilation = check_int(dilation, "dilation", 1)
    full = dilation * (kernel - 1)
    if padding > full:
        raise ValueError(f"padding={padding} exceeds dilation * (kernel - 1) = {full}")
    return full - padding


def _pair(value, name: str, minimum: int) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return check_int(value[0], name, minimum), check_int(value[1], name, minimum)
    v = check_int(value, name, minimum)
    return v, v


def _check_weight(weight, name: str = "weight") -> torch.Tensor:
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(weight).__name__}")
    if weight.ndim == 2:
        weight = weight[None, None]
    if weight.ndim != 4:
        raise ValueError(f"{name} must have shape (k_h, k_w) or (C_out, C_in, k_h, k_w), got {tuple(weight.shape)}")
    if weight.numel() == 0:
        raise ValueError(f"{name} is empty: shape {tuple(weight.shape)}")
    return weight


def conv_matrix(weight: torch.Tensor, input_size: tuple[int, int], stride=1, padding=0) -> torch.Tensor:
    """The matrix ``C`` of a 2-D convolution (cross-correlation, as ``F.conv2d``).

    Parameters
    ----------
    weight : Tensor, shape (C_out, C_in, k_h, k_w) or (k_h, k_w)
        The convolution kernel.
    input_size : (H, W)
        Spatial size of the input.
    stride, padding : int or (int, int)
        As in ``F.conv2d`` (zero padding).

    Returns
    -------
    Tensor, shape (C_out * H_out * W_out, C_in * H * W), weight's dtype and device
        ``C`` such that ``conv2d(x, weight).flatten() == C @ x.flatten()`` for one image
        ``x`` of shape (C_in, H, W); rows and columns in ``(channel, row, column)`` order.
        Most entries are zero (each row holds at most ``C_in * k_h * k_w`` kernel values).

    Notes
    -----
    The matrix is built by placing ``weight[o, c, a, b]`` at row ``(o, i, j)`` and column
    ``(c, i * s - p + a, j * s - p + b)`` wherever that column is inside the input; padded
    positions simply have no column (they multiply zeros).
    """
    weight = _check_weight(weight)
    h, w = _pair(input_size, "input_size", 1)
    (sh, sw), (ph, pw) = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    c_out, c_in, kh, kw = weight.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
    check_bytes(float(c_out * ho * wo) * float(c_in * h * w) * weight.element_size(), name="input_size",
                value=input_size, what=f"the dense ({c_out * ho * wo}, {c_in * h * w}) convolution matrix")
    matrix = torch.zeros(c_out, ho, wo, c_in, h, w, dtype=weight.dtype, device=weight.device)
    for a in range(kh):
        rows = np.arange(ho) * sh - ph + a
        ok_r = (rows >= 0) & (rows < h)
        for b in range(kw):
            cols = np.arange(wo) * sw - pw + b
            ok_c = (cols >= 0) & (cols < w)
            for i in np.flatnonzero(ok_r):
                for j in np.flatnonzero(ok_c):
                    matrix[:, i, j, :, rows[i], cols[j]] = weight[:, :, a, b]
    return matrix.reshape(c_out * ho * wo, c_in * h * w)


def _check_input(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got {tuple(x.shape)}")
    if x.shape[2] == 0 or x.shape[3] == 0:
        raise ValueError(f"{name} has an empty spatial size: shape {tuple(x.shape)}")
    return x


def conv2d_as_matrix(x: torch.Tensor, weight: torch.Tensor, stride=1, padding=0) -> torch.Tensor:
    """``F.conv2d(x, weight, stride=stride, padding=padding)`` computed as ``C @ x`` (no bias).

    Parameters
    ----------
    x : Tensor, shape (N, C_in, H, W)
    weight : Tensor, shape (C_out, C_in, k_h, k_w)

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out); differentiable in ``x`` and ``weight``.
    """
    x = _check_input(x, "x")
    weight = _check_weight(weight)
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but weight expects {weight.shape[1]}")
    (sh, sw), (ph, pw) = _pair(stride, "stride", 1), _pair(padding, "padding", 0)
    n, _, h, w = x.shape
    matrix = conv_matrix(weight, (h, w), (sh, sw), (ph, pw))
    ho, wo = conv_output_size(h, weight.shape[2], sh, ph), conv_output_size(w, weight.shape[3], sw, pw)
    return (x.reshape(n, -1) @ matrix.T).reshape(n, weight.shape[0], ho, wo)


def _transpose_args(y, weight, stride, padding, output_padding):
    """The checked arguments of a transposed convolution: ``y``, ``weight`` and (h, w) pairs of
    stride, padding and output padding."""
    y = _check_input(y, "y")
    weight = _check_weight(weight)
    if y.shape[1] != weight.shape[0]:
        raise ValueError(f"y has {y.shape[1]} channels but weight expects {weight.shape[0]}")
    return (y, weight, _pair(stride, "stride", 1), _pair(padding, "padding", 0),
            _pair(output_padding, "output_padding", 0))


def conv_transpose2d_as_matrix(y: torch.Tensor, weight: torch.Tensor, stride=1, padding=0,
                               output_padding=0) -> torch.Tensor:
    """``F.conv_transpose2d(y, weight, ...)`` computed as ``C^T @ y`` (no bias).

    ``C`` is the matrix of the convolution with the same ``weight``, stride and padding that
    maps the transposed convolution's *output* size back to its *input* size.

    Parameters
    ----------
    y : Tensor, shape (N, C_in, H, W)
        ``C_in`` = ``weight.shape[0]`` (as ``F.conv_transpose2d``: the weight is laid out
        ``(C_in, C_out, k_h, k_w)``, the layout of the forward convolution ``C_out -> C_in``).
    weight : Tensor, shape (C_in, C_out, k_h, k_w)

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out), with ``H_out`` from :func:`conv_transpose_output_size`.
    """
    y, weight, (sh, sw), (ph, pw), (oph, opw) = _transpose_args(y, weight, stride, padding, output_padding)
    n, _, h, w = y.shape
    ho = conv_transpose_output_size(h, weight.shape[2], sh, ph, oph)
    wo = conv_transpose_output_size(w, weight.shape[3], sw, pw, opw)
    matrix = conv_matrix(weight, (ho, wo), (sh, sw), (ph, pw))  # maps (C_out, ho, wo) -> (C_in, h, w)
    if matrix.shape[0] != y[0].numel():  # pragma: no cover - guaranteed by the size arithmetic
        raise RuntimeError("size arithmetic mismatch")
    return (y.reshape(n, -1) @ matrix).reshape(n, weight.shape[1], ho, wo)


def conv_transpose2d_scatter(y: torch.Tensor, weight: torch.Tensor, stride=1, padding=0,
                             output_padding=0) -> torch.Tensor:
    """Transposed convolution as a scatter-add: each input value adds ``value * kernel`` to the output.

    Input pixel ``(i, j)`` lands on output rows ``i * s + a - p`` and columns ``j * s + b - p``
    (``a, b`` over the kernel); contributions that fall outside the output (into the
    ``padding`` border) are dropped and overlapping ones are summed.  The loop runs over the
    ``k_h * k_w`` kernel taps, each one a strided slice of a full-size buffer.

    Parameters
    ----------
    y : Tensor, shape (N, C_in, H, W)
    weight : Tensor, shape (C_in, C_out, k_h, k_w) (the ``F.conv_transpose2d`` layout)

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out); equal to ``F.conv_transpose2d`` (differentiable).
    """
    y, weight, (sh, sw), (ph, pw), (oph, opw) = _transpose_args(y, weight, stride, padding, output_padding)
    n, _, h, w = y.shape
    _, c_out, kh, kw = weight.shape
    ho = conv_transpose_output_size(h, kh, sh, ph, oph)
    wo = conv_transpose_output_size(w, kw, sw, pw, opw)
    # full (unpadded) canvas, large enough for every contribution and the output_padding
    full = y.new_zeros(n, c_out, max((h - 1) * sh + kh, ho + ph), max((w - 1) * sw + kw, wo + pw))
    for a in range(kh):
        for b in range(kw):
            contribution = torch.einsum("nchw,co->nohw", y, weight[:, :, a, b])
            full[:, :, a:a + (h - 1) * sh + 1:sh, b:b + (w - 1) * sw + 1:sw] += contribution
    return full[:, :, ph:ph + ho, pw:pw + wo]


def insert_zeros(x: torch.Tensor, stride) -> torch.Tensor:
    """Insert ``stride - 1`` zeros between neighbouring pixels: (N, C, H, W) -> (N, C, (H-1)s+1, (W-1)s+1)."""
    x = _check_input(x, "x")
    sh, sw = _pair(stride, "stride", 1)
    n, c, h, w = x.shape
    check_bytes(float(max(n * c, 1)) * ((h - 1) * sh + 1) * ((w - 1) * sw + 1) * x.element_size(), name="stride", value=stride,
                what="the zero-inserted input")
    out = x.new_zeros(n, c, (h - 1) * sh + 1, (w - 1) * sw + 1)
    out[:, :, ::sh, ::sw] = x
    return out


def conv_transpose2d_zero_insertion(y: torch.Tensor, weight: torch.Tensor, stride=1, padding=0,
                                    output_padding=0) -> torch.Tensor:
    """Transposed convolution as a direct stride-1 convolution: the "fractional stride 1/s" view.

    Insert ``s - 1`` zeros between input pixels, pad by ``k - 1 - p`` (plus ``output_padding``
    at the bottom/right), then convolve with the kernel flipped in both axes and its two
    channel axes swapped.

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out); equal to ``F.conv_transpose2d``.
    """
    y, weight, (sh, sw), (ph, pw), (oph, opw) = _transpose_args(y, weight, stride, padding, output_padding)
    _, _, kh, kw = weight.shape
    qh, qw = equivalent_direct_padding(kh, ph), equivalent_direct_padding(kw, pw)
    z = insert_zeros(y, (sh, sw))
    z = F.pad(z, (qw, qw + opw, qh, qh + oph))
    direct_weight = weight.flip(-1, -2).transpose(0, 1)  # (C_out, C_in, kh, kw)
    return F.conv2d(z, direct_weight)


def scatter_positions(input_size: int, kernel: int, stride: int = 1, padding: int = 0,
                      output_padding: int = 0) -> list[list[int | None]]:
    """Where each input position of a 1-D transposed convolution lands in the output.

    Returns
    -------
    list of lists
        ``positions[i][a]`` is the output index that input ``i`` reaches through kernel tap
        ``a`` (``i * stride + a - padding``), or None when it falls in the cropped padding.
    """
    out = conv_transpose_output_size(input_size, kernel, stride, padding, output_padding)
    positions = []
    for i in range(input_size):
        row = []
        for a in range(kernel):
            o = i * stride + a - padding
            row.append(o if 0 <= o < out else None)
        positions.append(row)
    return positions


@dataclass(frozen=True)
class TransposedConvExample:
    """One of the lecture's transposed-convolution examples (square sizes)."""

    name: str
    input_size: int
    output_size: int
    kernel: int
    stride: int
    padding: int  # padding argument of conv_transpose2d
    direct_padding: int  # padding of the equivalent stride-1 convolution over the zero-inserted input

    def output_size_computed(self) -> int:
        """The output size from :func:`conv_transpose_output_size`."""
        return conv_transpose_output_size(self.input_size, self.kernel, self.stride, self.padding)


LECTURE_EXAMPLES: dict[str, TransposedConvExample] = {
    # 2x2 -> 4x4, 3x3 kernel, stride 1: direct convolution with full padding 2 (conv_transpose2d padding 0)
    "full_padding": TransposedConvExample("full padding", 2, 4, 3, 1, 0, 2),
    # 3x3 -> 5x5, 3x3 kernel, stride 2, padding 1: one zero inserted between inputs (stride 1/2)
    "zero_insertion": TransposedConvExample("zero insertion, stride 1/2", 3, 5, 3, 2, 1, 1),
}
