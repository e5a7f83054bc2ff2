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

from course_utils._shared import check_array, check_bytes, check_int, check_sequence

__all__ = ["max_pool_with_positions", "max_unpool"]


def _check_planes(x, name: str) -> np.ndarray:
    x = check_array(x, name, ndim=(2, 3), kinds="iuf", finite=True)
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
    kernel = check_int(kernel, "kernel", 1)
    stride = kernel if stride is None else check_int(stride, "stride", 1)
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


def max_unpool(values: np.ndarray, positions: np.ndarray, output_size: tuple[int, int], *,
               kernel: int | None = None, stride: int | None = None) -> np.ndarray:
    """Unpooling: scatter ``values`` to their recorded ``positions``; zeros elsewhere.

    Parameters
    ----------
    values, positions : ndarray, same shape (..., h, w)
        From :func:`max_pool_with_positions` (or ``MaxPool2d(return_indices=True)``).
    output_size : (H, W)
        Spatial size of the pooled input. Positions are read as ``row * W + col``; a size under
        which they do not lie in the windows of a pooling without padding is refused.
    kernel, stride : int, optional
        The pooling's window and stride (``stride`` defaults to ``kernel``). Given, ``output_size``
        must be an input size that this pooling maps to ``(h, w)`` (floor mode), as in
        :func:`max_pool_with_positions`; a size with extra rows or columns is then refused too.

    Returns
    -------
    ndarray, shape (..., H, W), values' dtype
    """
    values = check_array(values, "values", kinds="biuf")
    positions = check_array(positions, "positions")
    if values.ndim < 2 or values.size == 0:
        raise ValueError(f"values must be non-empty planes (..., h, w), got shape {values.shape}")
    if not np.issubdtype(positions.dtype, np.integer):
        raise TypeError(f"positions must hold integer flat indices, got dtype {positions.dtype}")
    if values.shape != positions.shape:
        raise ValueError(f"values has shape {values.shape} but positions has shape {positions.shape}")
    size = check_sequence(output_size, "output_size", lambda s, n: check_int(s, n, 1), what="positive ints (H, W)")
    if len(size) != 2:
        raise ValueError(f"output_size must be (H, W), got {output_size!r}")
    h, w = size
    if kernel is not None or stride is not None:
        if kernel is None:
            raise ValueError("kernel must be given with stride (the pooling's window side)")
        kernel = check_int(kernel, "kernel", 1)
        stride = kernel if stride is None else check_int(stride, "stride", 1)
        pooled = tuple((n - kernel) // stride + 1 if n >= kernel else 0 for n in size)
        if pooled != values.shape[-2:]:
            raise ValueError(f"output_size={tuple(output_size)} pools to {pooled} with kernel={kernel}, stride={stride}, "
                             f"but values are {values.shape[-2:]}")
    check_bytes(float(np.prod(values.shape[:-2], dtype=np.float64)) * h * w * values.dtype.itemsize,
                name="output_size", value=output_size, what="the unpooled planes")
    if positions.min() < 0 or positions.max() >= h * w:
        raise ValueError(f"positions must lie in [0, {h * w}) for output_size={output_size}")
    rows, cols = positions // w, positions % w
    for axis, coords, n_out, side in ((-2, rows, h, "H"), (-1, cols, w, "W")):
        if not _fits_pooling(np.moveaxis(coords, axis, 0).reshape(coords.shape[axis], -1), n_out):
            raise ValueError(f"output_size={tuple(output_size)} disagrees with positions: read with {side}={n_out}, "
                             f"the positions of the {values.shape[-2:]} pooled cells do not lie in the windows of "
                             "any pooling (stride >= 1, one kernel size, no padding); give the pooled input's (H, W)")
    lead = values.shape[:-2]
    out = np.zeros(lead + (h * w,), dtype=values.dtype)
    flat_v = values.reshape(lead + (-1,))
    flat_p = positions.reshape(lead + (-1,))
    np.put_along_axis(out, flat_p, flat_v, axis=-1)
    return out.reshape(lead + (h, w))


def _fits_pooling(coords: np.ndarray, size: int) -> bool:
    """Whether coordinates ``coords[i, :]`` of output cell ``i`` (along one axis) can come from a pooling.

    Cell ``i``'s window is ``[i s, i s + k)`` for one stride ``s >= 1`` and one kernel ``k``, and the
    last window ends inside the input of ``size`` pixels: ``(n - 1) s + k <= size``.
    """
    n = coords.shape[0]
    lo, hi = coords.min(axis=1), coords.max(axis=1)
    i = np.arange(n)
    strides = np.arange(1, (size - 1) // max(n - 1, 1) + 2)
    starts = strides[:, None] * i[None, :]
    ok_start = (lo[None, :] >= starts).all(axis=1)
    kernel = (hi[None, :] - starts).max(axis=1) + 1
    ok_end = (n - 1) * strides + kernel <= size
    return bool((ok_start & ok_end).any())
