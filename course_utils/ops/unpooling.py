"""Unpooling (反池化): put pooled values back where the maxima were.

Max pooling keeps the largest value of each window; if it also records *where*
that value was (its "switch"), unpooling can undo the placement: each pooled
value goes back to its recorded position and every other position is zero
(Zeiler & Fergus, ECCV 2014; used by DeconvNet and SegNet).  Positions are
flat indices ``row * W + column`` into each channel's input plane, the
convention of ``torch.nn.MaxPool2d(return_indices=True)`` and
``torch.nn.MaxUnpool2d``, which the tests compare with.
"""

from __future__ import annotations

import numpy as np

from course_utils._shared import check_bytes

__all__ = ["max_pool_with_positions", "max_unpool"]


def _check_planes(x, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (H, W) or (C, H, W), got {x.shape}")
    if x.size == 0:
        raise ValueError(f"{name} is empty: shape {x.shape}")
    return x


def max_pool_with_positions(x: np.ndarray, kernel: int = 2, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling that also returns the position of each maximum.

    Parameters
    ----------
    x : ndarray, shape (H, W) or (C, H, W)
        Input planes (any real dtype).
    kernel : int
        Window side.
    stride : int, optional
        Defaults to ``kernel`` (non-overlapping windows). No padding; windows that would
        cross the border are dropped (floor mode).

    Returns
    -------
    values : ndarray, shape (..., H_out, W_out), x's dtype
    positions : ndarray, shape (..., H_out, W_out), int64
        Flat index ``row * W + col`` of the maximum in its plane; on ties, the first in
        row-major order within the window.
    """
    x = _check_planes(x, "x")
    for value, name in ((kernel, "kernel"), (stride, "stride")):
        if (value is not None or name == "kernel") and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    stride = kernel if stride is None else stride
    h, w = x.shape[-2:]
    if h < kernel or w < kernel:
        raise ValueError(f"x has spatial size {(h, w)}, smaller than kernel={kernel}")
    ho, wo = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    lead = x.shape[:-2]
    values = np.empty(lead + (ho, wo), dtype=x.dtype)
    positions = np.empty(lead + (ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * stride, j * stride
            window = x[..., r0:r0 + kernel, c0:c0 + kernel].reshape(lead + (kernel * kernel,))
            arg = window.argmax(axis=-1)
            values[..., i, j] = np.take_along_axis(window, arg[..., None], axis=-1)[..., 0]
            positions[..., i, j] = (r0 + arg // kernel) * w + (c0 + arg % kernel)
    return values, positions


def max_unpool(values: np.ndarray, positions: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """Unpooling: scatter ``values`` to their recorded ``positions``; zeros elsewhere.

    Parameters
    ----------
    values, positions : ndarray, same shape (..., h, w)
        From :func:`max_pool_with_positions` (or ``MaxPool2d(return_indices=True)``).
    output_size : (H, W)
        Spatial size of the pooled input.

    Returns
    -------
    ndarray, shape (..., H, W), values' dtype
    """
    values, positions = np.asarray(values), np.asarray(positions)
    if values.ndim < 2 or values.size == 0:
        raise ValueError(f"values must be non-empty planes (..., h, w), got shape {values.shape}")
    if not np.issubdtype(positions.dtype, np.integer):
        raise TypeError(f"positions must hold integer flat indices, got dtype {positions.dtype}")
    if values.shape != positions.shape:
        raise ValueError(f"values has shape {values.shape} but positions has shape {positions.shape}")
    if len(output_size) != 2:
        raise ValueError(f"output_size must be (H, W), got {output_size!r}")
    h, w = int(output_size[0]), int(output_size[1])
    if h < 1 or w < 1:
        raise ValueError(f"output_size must be positive (H, W), got {output_size!r}")
    check_bytes(float(np.prod(values.shape[:-2], dtype=np.float64)) * h * w * values.dtype.itemsize,
                name="output_size", value=output_size, what="the unpooled planes")
    if positions.size and (positions.min() < 0 or positions.max() >= h * w):
        raise ValueError(f"positions must lie in [0, {h * w}) for output_size={output_size}")
    lead = values.shape[:-2]
    out = np.zeros(lead + (h * w,), dtype=values.dtype)
    flat_v = values.reshape(lead + (-1,))
    flat_p = positions.reshape(lead + (-1,))
    np.put_along_axis(out, flat_p, flat_v, axis=-1)
    return out.reshape(lead + (h, w))
