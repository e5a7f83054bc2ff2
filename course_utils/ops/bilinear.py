"""The bilinear kernel of a stride-f deconvolution: upsampling as a transposed convolution.

FCN (Long, Shelhamer & Darrell, CVPR 2015, section 3.3) initialises its
upsampling layers ("deconvolutions", 反卷积) with the kernel that makes a
stride-``f`` transposed convolution compute **bilinear interpolation**
(双线性插值); the last one stays fixed, the others are learnt from there.

Which bilinear interpolation, exactly?  With kernel size ``k = 2f - f % 2``,
stride ``f`` and padding ``f // 2`` (FCN's own layers use padding 0 and crop
``f // 2`` pixels later, which is the same), output pixel ``o`` gets input
pixel ``i`` with weight ``1 - |x - i|`` where ``x = (o + 0.5) / f - 0.5``:
the *half-pixel* convention of ``F.interpolate(mode="bilinear",
align_corners=False)`` (and of OpenCV's ``INTER_LINEAR``).  The two agree
exactly on the interior: all output pixels except the ``f // 2`` rows and
columns along each border, where the deconvolution sees zeros beyond the
image while ``F.interpolate`` repeats the edge pixel.  Padding the input by
one pixel with edge replication first (:func:`bilinear_upsample`) makes them
agree everywhere.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from course_utils._shared import check_bytes, check_int

__all__ = [
    "bilinear_kernel",
    "bilinear_kernel_size",
    "bilinear_deconv_weight",
    "BilinearDeconv",
    "bilinear_upsample",
    "interior_slice",
]


def bilinear_kernel(size: int) -> np.ndarray:
    """The 2-D bilinear (tent) kernel of side ``size`` used by FCN's upsampling layers.

    For a stride-``f`` deconvolution take ``size = 2f`` (or ``2f - 1``); the factor is
    ``f = (size + 1) // 2`` and the kernel is ``(1 - |r - c| / f) (1 - |s - c| / f)`` with
    centre ``c = f - 1`` (odd size) or ``f - 0.5`` (even size) — the ``upsample_filt`` of the
    FCN reference code (``surgery.py``).

    Parameters
    ----------
    size : int
        Kernel side in pixels (>= 1).

    Returns
    -------
    ndarray, shape (size, size), float64
        Separable: the outer product of a 1-D tent; values in (0, 1].
    """
    size = check_int(size, "size", 1)
    check_bytes(16.0 * size * size, name="size", value=size, what=f"a {size}x{size} float64 kernel")
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    tent = 1 - np.abs(np.arange(size) - center) / factor
    return np.outer(tent, tent)


def bilinear_kernel_size(factor: int) -> int:
    """The smallest bilinear kernel for upsampling by ``factor``: ``2 * factor - factor % 2``."""
    factor = check_int(factor, "factor", 1)
    return 2 * factor - factor % 2


def bilinear_deconv_weight(channels: int, size: int, *, depthwise: bool = False,
                           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Weights that make ``ConvTranspose2d`` upsample each channel bilinearly.

    Parameters
    ----------
    channels : int
        Number of channels ``C`` (input = output).
    size : int
        Kernel side (see :func:`bilinear_kernel`).
    depthwise : bool
        False: the FCN layout ``(C, C, k, k)``, the kernel on the diagonal ``[c, c]`` and zeros
        elsewhere (a full deconvolution that starts as bilinear and can learn to mix classes).
        True: ``(C, 1, k, k)`` for ``groups=C``.

    dtype : torch.dtype
        Floating-point dtype of the result.

    Returns
    -------
    Tensor of ``dtype``
    """
    channels = check_int(channels, "channels", 1)
    size = check_int(size, "size", 1)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype (the kernel's values lie in (0, 1]), got {dtype!r}")
    check_bytes(float(channels) * (1 if depthwise else channels) * size * size * dtype.itemsize, name="channels",
                value=channels, what=f"a ({channels}, {1 if depthwise else channels}, {size}, {size}) weight")
    kernel = torch.from_numpy(bilinear_kernel(size)).to(dtype)
    if depthwise:
        return kernel.expand(channels, 1, size, size).clone()
    weight = torch.zeros(channels, channels, size, size, dtype=dtype)
    weight[range(channels), range(channels)] = kernel
    return weight


class BilinearDeconv(nn.ConvTranspose2d):
    """A stride-``factor`` deconvolution initialised to bilinear interpolation (FCN's ``upscore``).

    Parameters
    ----------
    channels : int
        Input = output channels (the number of classes in FCN).
    factor : int
        Upsampling factor = stride.
    kernel_size : int, optional
        Defaults to ``2 * factor`` as in FCN (FCN-AlexNet uses 63 for factor 32).
    padding : int
        0 in FCN, which crops afterwards; ``factor // 2`` gives exactly ``factor`` times the input size
        with an even kernel.
    trainable : bool
        False freezes the weights (FCN's last upsampling layer).

    Shapes
    ------
    (N, C, H, W) -> (N, C, (H - 1) * factor - 2 * padding + kernel_size, ...); no bias.
    """

    def __init__(self, channels: int, factor: int, kernel_size: int | None = None, padding: int = 0,
                 trainable: bool = True) -> None:
        factor = check_int(factor, "factor", 1)
        kernel_size = 2 * factor if kernel_size is None else check_int(kernel_size, "kernel_size", 1)
        super().__init__(channels, channels, kernel_size, stride=factor, padding=padding, bias=False)
        self.factor = factor
        self.reset_parameters()
        self.weight.requires_grad_(bool(trainable))

    def reset_parameters(self) -> None:  # called by nn.ConvTranspose2d.__init__ too
        if not hasattr(self, "factor"):
            return
        with torch.no_grad():
            self.weight.copy_(bilinear_deconv_weight(self.in_channels, self.kernel_size[0]))


def interior_slice(n_in: int, factor: int) -> slice:
    """Output rows (or columns) where a ``factor``-times bilinear deconvolution of ``n_in`` pixels
    equals ``F.interpolate(align_corners=False)``: all but ``factor // 2`` at each end."""
    n_in = check_int(n_in, "n_in", 1)
    factor = check_int(factor, "factor", 1)
    return slice(factor // 2, n_in * factor - factor // 2)


def bilinear_upsample(x: torch.Tensor, factor: int, *, replicate_edges: bool = True) -> torch.Tensor:
    """Upsample ``x`` by an integer ``factor`` with a bilinear transposed convolution.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W), floating point
    factor : int
    replicate_edges : bool
        True: pad the input by one edge-replicated pixel first, so the result equals
        ``F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)``
        everywhere.  False: the plain deconvolution (zeros beyond the image), equal to it only
        on ``interior_slice`` rows and columns.

    Returns
    -------
    Tensor, shape (N, C, H * factor, W * factor)
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        raise ValueError(f"x must be a float tensor of shape (N, C, H, W), got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    factor = check_int(factor, "factor", 1)
    size = bilinear_kernel_size(factor)
    weight = bilinear_deconv_weight(x.shape[1], size, depthwise=True, dtype=x.dtype).to(x.device)
    pad = factor // 2
    if not replicate_edges:
        return F.conv_transpose2d(x, weight, stride=factor, padding=pad, groups=x.shape[1])
    h, w = x.shape[-2:]
    out = F.conv_transpose2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), weight, stride=factor, groups=x.shape[1])
    start = factor + pad  # one replicated pixel = factor output pixels, plus the kernel's own offset
    return out[:, :, start:start + h * factor, start:start + w * factor]
