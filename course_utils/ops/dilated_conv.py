"""Dilated (atrous) convolution (膨胀卷积 / 空洞卷积), three ways, and sparse vs dense feature extraction.

A 3x3 convolution with rate ``r`` (``torch.nn.functional.conv2d(..., dilation=r)``)
is, exactly,

1. an ordinary convolution with the kernel spread out by inserting ``r - 1``
   zeros between its taps (:func:`dilate_kernel`, :func:`conv_zero_inserted`):
   a ``(2r + 1) x (2r + 1)`` sparse kernel with the same 9 parameters;
2. the ordinary (undilated) 3x3 convolution run on each of the ``r x r``
   interleaved sub-grids ``x[a::r, b::r]`` of the (padded) input, whose outputs
   are re-interleaved (:func:`conv_on_subgrids`). This is the *hole algorithm*
   (algorithme à trous) of DeepLab (Chen et al., ICLR 2015, Sec. 3.1), the
   space-to-batch trick of TensorFlow's ``atrous_conv2d``.

:func:`sparse_extraction` and :func:`dense_extraction` are the two paths of
DeepLab v2's Fig. 3 (Chen et al., TPAMI 2018): downsample by 2, 7x7 conv,
upsample by 2, versus one 7x7 conv with rate 2 at full resolution; the dense
output at the even positions *is* the sparse path's low-resolution output.
:func:`conv_cost` counts their parameters and multiply-adds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from course_utils._shared import check_bytes, check_int, check_number

__all__ = [
    "dilate_kernel",
    "conv_dilated",
    "conv_zero_inserted",
    "conv_on_subgrids",
    "sparse_extraction",
    "dense_extraction",
    "ConvCost",
    "conv_cost",
    "gaussian_derivative_kernel",
]


def _check_rate(rate, name: str = "rate") -> int:
    return check_int(rate, name, 1, 2**31 - 1)


def _check_weight(weight) -> None:
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        shape = tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__
        raise ValueError(f"weight must be a tensor (C_out, C_in, k, k), got {shape}")


def _check_x(x, weight) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor (N, C_in, H, W), got {shape}")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"x has {x.shape[1]} channels but weight expects C_in={weight.shape[1]}")


def _check_padding(padding) -> int:
    return check_int(padding, "padding", 0, 2**31 - 1)


def dilate_kernel(weight: torch.Tensor, rate: int) -> torch.Tensor:
    """Insert ``rate - 1`` zeros between the taps of a kernel.

    Parameters
    ----------
    weight : torch.Tensor
        ``(..., k_h, k_w)`` kernel (any leading dims, e.g. ``(C_out, C_in, k, k)``).
    rate : int
        Dilation rate ``r`` (1 returns a copy).

    Returns
    -------
    torch.Tensor
        ``(..., r (k_h - 1) + 1, r (k_w - 1) + 1)``, same dtype and device; the
        original taps sit at ``[..., ::r, ::r]``, all other entries are 0.
    """
    if not isinstance(weight, torch.Tensor) or weight.ndim < 2:
        raise ValueError(f"weight must be a tensor with at least 2 dims (..., k_h, k_w), got "
                         f"{tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__}")
    rate = _check_rate(rate)
    kh, kw = weight.shape[-2:]
    if kh < 1 or kw < 1:
        raise ValueError(f"weight has an empty kernel: shape {tuple(weight.shape)}")
    lead = 1
    for n in weight.shape[:-2]:
        lead *= int(n)
    check_bytes(float(max(lead, 1)) * (rate * (kh - 1) + 1) * (rate * (kw - 1) + 1) * weight.element_size(),
                name="rate", value=rate, what="the dilated kernel")
    out = weight.new_zeros(*weight.shape[:-2], rate * (kh - 1) + 1, rate * (kw - 1) + 1)
    out[..., ::rate, ::rate] = weight
    return out


def conv_dilated(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, rate: int = 1,
                 padding: int = 0) -> torch.Tensor:
    """The reference: ``F.conv2d(x, weight, bias, padding=padding, dilation=rate)``.

    Shapes: ``x`` ``(N, C_in, H, W)``, ``weight`` ``(C_out, C_in, k, k)``; output
    ``(N, C_out, H + 2p - r (k - 1), W + 2p - r (k - 1))``.
    """
    _check_weight(weight)
    _check_x(x, weight)
    return F.conv2d(x, weight, bias, padding=_check_padding(padding), dilation=_check_rate(rate))


def conv_zero_inserted(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, rate: int = 1,
                       padding: int = 0) -> torch.Tensor:
    """Dilated convolution as an ordinary convolution with the zero-inserted kernel :func:`dilate_kernel`.

    Same arguments and output as :func:`conv_dilated`; costs ``(2r+1)^2 / 9``
    times more multiply-adds for a 3x3 kernel (most of them by zero).
    """
    _check_weight(weight)
    _check_x(x, weight)
    return F.conv2d(x, dilate_kernel(weight, rate), bias, padding=_check_padding(padding))


def conv_on_subgrids(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, rate: int = 1,
                     padding: int = 0) -> torch.Tensor:
    """Dilated convolution by the hole algorithm: the plain convolution on the ``r x r`` sub-grids.

    The padded input is split into the ``rate**2`` interleaved sub-grids
    ``xp[..., a::r, b::r]``; on each one the *undilated* kernel is applied
    (valid convolution), and the results are written back to the output
    positions ``[..., a::r, b::r]``. Neighbouring taps of a rate-``r`` kernel are
    ``r`` pixels apart, so they are neighbours on one sub-grid.

    Same arguments and output as :func:`conv_dilated`.
    """
    _check_weight(weight)
    _check_x(x, weight)
    rate = _check_rate(rate)
    padding = _check_padding(padding)
    xp = F.pad(x, (padding,) * 4)
    kh, kw = weight.shape[-2:]
    out_h, out_w = xp.shape[-2] - rate * (kh - 1), xp.shape[-1] - rate * (kw - 1)
    if out_h < 1 or out_w < 1:
        raise ValueError(f"x of size {tuple(x.shape[-2:])} with padding={padding} is smaller than the "
                         f"effective kernel {rate * (kh - 1) + 1}")
    out = x.new_empty(x.shape[0], weight.shape[0], out_h, out_w)
    for a in range(rate):
        for b in range(rate):
            if a >= out_h or b >= out_w:
                continue
            out[..., a::rate, b::rate] = F.conv2d(xp[..., a::rate, b::rate], weight, bias)
    return out


def sparse_extraction(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, factor: int = 2,
                      *, mode: str = "bilinear") -> tuple[torch.Tensor, torch.Tensor]:
    """Sparse feature extraction: downsample by ``factor``, ``k x k`` conv ('same'), upsample back.

    Parameters
    ----------
    x : torch.Tensor
        ``(N, C_in, H, W)``.
    weight : torch.Tensor
        ``(C_out, C_in, k, k)``, odd ``k`` (7 in the paper's figure).
    bias : torch.Tensor, optional
        ``(C_out,)``.
    factor : int
        Downsampling factor; the input is subsampled as ``x[..., ::factor, ::factor]``.
    mode : str
        Upsampling: ``"bilinear"`` (align_corners=False) or ``"nearest"``.

    Returns
    -------
    low, up : torch.Tensor
        ``low``: ``(N, C_out, ceil(H/f), ceil(W/f))`` responses on the coarse grid;
        ``up``: ``(N, C_out, H, W)`` after upsampling (interpolated, not computed).
    """
    _check_weight(weight)
    _check_x(x, weight)
    factor = _check_rate(factor, "factor")
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"mode must be 'bilinear' or 'nearest', got {mode!r}")
    k = weight.shape[-1]
    if k % 2 == 0:
        raise ValueError(f"weight must have an odd kernel for 'same' padding, got {k}")
    low = F.conv2d(x[..., ::factor, ::factor], weight, bias, padding=k // 2)
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    up = F.interpolate(low, size=x.shape[-2:], mode=mode, **kwargs)
    return low, up


def dense_extraction(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                     rate: int = 2) -> torch.Tensor:
    """Dense feature extraction: one ``k x k`` convolution with rate ``rate`` ('same' padding).

    Returns ``(N, C_out, H, W)``. At the positions ``[..., ::rate, ::rate]`` it
    equals the ``low`` output of :func:`sparse_extraction` with ``factor=rate``;
    the other positions are computed too instead of interpolated.
    """
    _check_weight(weight)
    _check_x(x, weight)
    rate = _check_rate(rate)
    k = weight.shape[-1]
    if k % 2 == 0:
        raise ValueError(f"weight must have an odd kernel for 'same' padding, got {k}")
    return F.conv2d(x, weight, bias, padding=rate * (k // 2), dilation=rate)


def gaussian_derivative_kernel(size: int = 7, sigma: float | None = None) -> torch.Tensor:
    """A ``size x size`` vertical first derivative of a Gaussian (the filter of DeepLab v2's Fig. 3).

    ``k[i, j] = -y_i exp(-(x_j^2 + y_i^2) / (2 sigma^2))`` with ``y`` pointing down, scaled so
    that the positive taps sum to 1; it responds to horizontal edges (dark above, bright below).

    Parameters
    ----------
    size : int
        Odd kernel side.
    sigma : float, optional
        Gaussian scale in pixels; ``size / 6`` by default (the kernel spans +-3 sigma).

    Returns
    -------
    torch.Tensor
        ``(size, size)`` float32.
    """
    size = check_int(size, "size", 3, 2**15)
    if size % 2 == 0:
        raise ValueError(f"size must be an odd int >= 3, got {size!r}")
    sigma = size / 6 if sigma is None else check_number(sigma, "sigma", 0.0, open_min=True)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    r = torch.arange(size, dtype=torch.float64) - size // 2
    y, x = torch.meshgrid(r, r, indexing="ij")
    k = y * torch.exp(-(x**2 + y**2) / (2 * sigma**2))
    return (k / k.clamp(min=0).sum()).float()


@dataclass(frozen=True)
class ConvCost:
    """Parameters and multiply-adds of one convolution.

    Attributes
    ----------
    params : int
        Weights + biases.
    macs_per_output : int
        Multiply-adds for one output pixel (all output channels): ``k^2 C_in C_out``.
    outputs : int
        Output pixels ``h * w``.
    macs : int
        ``macs_per_output * outputs``.
    """

    params: int
    macs_per_output: int
    outputs: int
    macs: int

    @property
    def flops(self) -> int:
        """``2 * macs`` (one multiply and one add each)."""
        return 2 * self.macs


def conv_cost(in_channels: int, out_channels: int, kernel: int, out_height: int, out_width: int,
              bias: bool = True) -> ConvCost:
    """Parameters and multiply-adds of a ``kernel x kernel`` convolution; independent of the dilation.

    A rate-``r`` kernel has the taps (and cost) of the undilated kernel; a
    zero-inserted kernel computed naively would cost ``(r (k-1) + 1)^2 / k^2``
    times more.
    """
    for name, v in (("in_channels", in_channels), ("out_channels", out_channels), ("kernel", kernel),
                    ("out_height", out_height), ("out_width", out_width)):
        _check_rate(v, name)
    per = kernel * kernel * in_channels * out_channels
    outputs = out_height * out_width
    return ConvCost(per + (out_channels if bias else 0), per, outputs, per * outputs)
