"""Image conversion helpers with shape and dtype checks.

Vocabulary used across the course:

* ``image``: ``(H, W, 3)`` RGB, ``uint8`` in [0, 255] or float in [0, 1];
* ``mask``: ``(H, W)`` bool;
* ``labels``: ``(H, W)`` integer class ids, 255 = ignore;
* a torch batch: ``(N, C, H, W)`` float.

Every helper raises ``TypeError``/``ValueError`` naming the argument when the
input is not what it expects; nothing is silently coerced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from course_utils._shared import check_bytes, check_int, check_number, check_sequence

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "check_image",
    "check_mask",
    "check_labels",
    "to_float",
    "to_uint8",
    "hwc_to_chw",
    "chw_to_hwc",
    "image_to_tensor",
    "tensor_to_image",
    "resize_image",
    "resize_labels",
    "resize_longest_side",
    "check_size",
    "read_image_file",
]


def _describe(x) -> str:
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is None:
        return type(x).__name__
    return f"{type(x).__name__} of shape {tuple(shape)} and dtype {dtype}"


def check_image(image: np.ndarray, name: str = "image", *, allow_float: bool = True) -> np.ndarray:
    """Check that ``image`` is an RGB image and return it unchanged.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3)
        ``uint8`` in [0, 255], or (if ``allow_float``) float in [0, 1].
    name : str
        The argument's name, used in error messages.

    Raises
    ------
    TypeError
        If ``image`` is not a NumPy array or has an unsupported dtype.
    ValueError
        If it is not ``(H, W, 3)`` (grey and RGBA images are refused), is
        empty, or a float image has values outside [0, 1] or non-finite values.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of shape (H, W, 3), got {_describe(image)}")
    if image.ndim == 2:
        raise ValueError(
            f"{name} must be an RGB image of shape (H, W, 3), got a grey image of shape {image.shape}; "
            "convert it with np.stack([g, g, g], axis=-1) if that is what you mean"
        )
    if image.ndim != 3 or image.shape[2] != 3:
        extra = " (RGBA? drop the alpha channel with image[..., :3])" if image.ndim == 3 and image.shape[2] == 4 else ""
        raise ValueError(f"{name} must have shape (H, W, 3), got {image.shape}{extra}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {image.shape}")
    if image.dtype == np.uint8:
        return image
    if np.issubdtype(image.dtype, np.floating) and allow_float:
        if not np.all(np.isfinite(image)):
            raise ValueError(f"{name} has NaN or infinite values")
        lo, hi = float(image.min()), float(image.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"{name} is float, so its values must lie in [0, 1]; got [{lo:.4g}, {hi:.4g}]")
        return image
    expected = "uint8 or float in [0, 1]" if allow_float else "uint8"
    raise TypeError(f"{name} must have dtype {expected}, got {image.dtype}")


def check_mask(mask: np.ndarray, name: str = "mask", *, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Check that ``mask`` is a 2-D bool array (of ``shape`` if given) and return it."""
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{name} must be a numpy bool array of shape (H, W), got {_describe(mask)}")
    if mask.dtype != bool:
        raise TypeError(f"{name} must have dtype bool, got {mask.dtype}; use (x > 0) to make one")
    if mask.ndim != 2:
        raise ValueError(f"{name} must have shape (H, W), got {mask.shape}")
    if shape is not None and mask.shape != tuple(shape):
        raise ValueError(f"{name} has shape {mask.shape} but the image is {tuple(shape)}")
    return mask


def check_labels(labels: np.ndarray, name: str = "labels", *, num_classes: int | None = None,
                 ignore_index: int = 255) -> np.ndarray:
    """Check that ``labels`` is a 2-D integer label map and return it.

    Values must lie in ``[0, num_classes)`` or equal ``ignore_index`` when
    ``num_classes`` is given.
    """
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name} must be a numpy integer array of shape (H, W), got {_describe(labels)}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must have an integer dtype, got {labels.dtype}")
    if labels.ndim != 2:
        raise ValueError(f"{name} must have shape (H, W), got {labels.shape}")
    if num_classes is not None and labels.size:
        bad = (labels < 0) | ((labels >= num_classes) & (labels != ignore_index))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(
                f"{name} has value {labels[i, j]} at pixel ({i}, {j}); expected 0..{num_classes - 1} "
                f"or {ignore_index} (ignore)"
            )
    return labels


def to_float(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Return ``image`` as float32 in [0, 1] (uint8 is divided by 255; float is copied)."""
    check_image(image, name)
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    return image.astype(np.float32, copy=True)


def to_uint8(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Return ``image`` as uint8 in [0, 255] (float in [0, 1] is scaled and rounded)."""
    check_image(image, name)
    if image.dtype == np.uint8:
        return image.copy()
    return np.round(image * 255.0).astype(np.uint8)


def hwc_to_chw(array: np.ndarray, name: str = "array") -> np.ndarray:
    """``(H, W, C)`` -> ``(C, H, W)`` (a view)."""
    if not isinstance(array, np.ndarray) or array.ndim != 3:
        raise ValueError(f"{name} must be a 3-D numpy array (H, W, C), got {_describe(array)}")
    return np.transpose(array, (2, 0, 1))


def chw_to_hwc(array: np.ndarray, name: str = "array") -> np.ndarray:
    """``(C, H, W)`` -> ``(H, W, C)`` (a view)."""
    if not isinstance(array, np.ndarray) or array.ndim != 3:
        raise ValueError(f"{name} must be a 3-D numpy array (C, H, W), got {_describe(array)}")
    return np.transpose(array, (1, 2, 0))


def image_to_tensor(image: np.ndarray, name: str = "image", *, device=None) -> "torch.Tensor":
    """RGB image ``(H, W, 3)`` -> float tensor ``(1, 3, H, W)`` in [0, 1] on ``device``.

    The tensor is built on the CPU first so that its values do not depend on the device.
    """
    import torch

    chw = np.ascontiguousarray(hwc_to_chw(to_float(image, name)))
    tensor = torch.from_numpy(chw).unsqueeze(0)
    return tensor.to(device) if device is not None else tensor


def tensor_to_image(tensor: "torch.Tensor", name: str = "tensor", *, tolerance: float = 0.05) -> np.ndarray:
    """Float tensor ``(3, H, W)`` or ``(1, 3, H, W)`` in [0, 1] -> uint8 image ``(H, W, 3)``.

    Values within ``tolerance`` of [0, 1] are clipped to it (network outputs overshoot slightly);
    anything further out (a 0..255 tensor, a normalised tensor) and NaN or infinities are refused,
    never clipped into a different picture.

    Raises
    ------
    TypeError
        If ``tensor`` is not a float torch tensor.
    ValueError
        Naming ``tensor``, for another shape, non-finite values or values outside
        ``[-tolerance, 1 + tolerance]``.
    """
    import torch

    tolerance = check_number(tolerance, "tolerance", 0.0, 1.0)
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(tensor)}")
    if tensor.ndim == 4:
        if tensor.shape[0] != 1:
            raise ValueError(f"{name} must hold one image, got a batch of {tensor.shape[0]}")
        tensor = tensor[0]
    if tensor.ndim != 3 or tensor.shape[0] != 3:
        raise ValueError(f"{name} must have shape (3, H, W) or (1, 3, H, W), got {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got {tensor.dtype}")
    if tensor.device.type == "meta":
        raise ValueError(f"{name} is on the meta device: it has a shape but no values")
    if tensor.shape[1] == 0 or tensor.shape[2] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(tensor.shape)}")
    array = tensor.detach().float().cpu().numpy()
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} has NaN or infinite values")
    lo, hi = float(array.min()), float(array.max())
    if lo < -tolerance or hi > 1.0 + tolerance:
        raise ValueError(f"{name} must hold values in [0, 1] (up to tolerance={tolerance:g}); got [{lo:.4g}, {hi:.4g}]"
                         + ("; divide a 0..255 tensor by 255" if hi > 2 else ""))
    return np.round(chw_to_hwc(np.clip(array, 0.0, 1.0)) * 255.0).astype(np.uint8)


def resize_image(image: np.ndarray, size: tuple[int, int], name: str = "image") -> np.ndarray:
    """Resize an RGB image to ``size = (H, W)`` (area averaging when shrinking, bilinear otherwise).

    The dtype is kept.
    """
    import cv2

    check_image(image, name)
    h, w = _check_size(size)
    _check_resize_bytes(h, w, 3 * image.dtype.itemsize, size)
    shrink = h * w < image.shape[0] * image.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(image, (w, h), interpolation=interp)


def resize_labels(labels: np.ndarray, size: tuple[int, int], name: str = "labels") -> np.ndarray:
    """Resize a label map (or bool mask) to ``size = (H, W)`` with nearest-neighbour sampling.

    Output pixel ``i`` takes input pixel ``floor((i + 1/2) * H_in / H_out)`` (pixel centres aligned,
    the convention of :func:`resize_image`), computed in integers, so every integer dtype gives the
    same result and no label value is invented. The dtype is kept.
    """
    if isinstance(labels, np.ndarray) and labels.dtype == bool:
        return resize_labels(labels.astype(np.uint8), size, name).astype(bool)
    check_labels(labels, name)
    if labels.size == 0:
        raise ValueError(f"{name} is empty: shape {labels.shape}")
    h, w = _check_size(size)
    _check_resize_bytes(h, w, labels.dtype.itemsize, size)
    rows = _nearest_index(labels.shape[0], h)
    cols = _nearest_index(labels.shape[1], w)
    return labels[rows[:, None], cols[None, :]]


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """Source index of each of ``n_out`` output pixels: ``floor((2 i + 1) n_in / (2 n_out))`` (exact)."""
    i = np.arange(n_out, dtype=np.int64)
    return np.minimum(((2 * i + 1) * n_in) // (2 * n_out), n_in - 1)


def resize_longest_side(image: np.ndarray, side: int, name: str = "image") -> np.ndarray:
    """Resize an RGB image so that its longer side is ``side`` pixels, keeping the aspect ratio."""
    check_image(image, name)
    side = check_int(side, "side", 1, 2**31 - 1)
    h, w = image.shape[:2]
    scale = side / max(h, w)
    return resize_image(image, (max(1, round(h * scale)), max(1, round(w * scale))), name)


def _check_resize_bytes(h: int, w: int, pixel_bytes: int, size) -> None:
    if max(h, w) >= 2**31:
        raise ValueError(f"size={size!r} is larger than any image (sides must be below 2**31)")
    check_bytes(float(h) * w * pixel_bytes, name="size", value=size, what=f"a {h}x{w} image")


def _check_size(size) -> tuple[int, int]:
    return check_size(size, "size")


def check_size(size, name: str = "size", minimum: int = 1) -> tuple[int, int]:
    """``size`` as a pair of ints ``(H, W)``, each at least ``minimum`` (a list, tuple or 1-D array).

    Raises
    ------
    ValueError
        Naming ``name``, for anything else (one int, three ints, floats, bools, a string).
    """
    where = f"ints >= {minimum} (H, W)"
    values = check_sequence(size, name, lambda s, n: check_int(s, n, minimum), what=where)
    if len(values) != 2:
        raise ValueError(f"{name} must be a pair of {where}, got {size!r}")
    return values


def read_image_file(path, *, mode: str | None = None, what: str = "image") -> np.ndarray:
    """Read an image file (PNG, JPEG, ...) into an array, fully decoded.

    Parameters
    ----------
    path : path
    mode : str, optional
        A PIL mode to convert to (``"RGB"``, ``"L"``); None keeps the file's (a palette
        PNG gives its indices).
    what : str
        What the file is, for error messages (``"prediction"``, ``"label image"``).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Naming ``path``, if it is a folder or an empty, truncated or corrupt image.
    """
    from pathlib import Path

    from PIL import Image

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder, expected an image file")
    if not path.exists():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        with Image.open(path) as im:
            im.load()  # decode now: a truncated file fails here, with its name
            return np.asarray(im.convert(mode) if mode is not None and im.mode != mode else im)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        size = path.stat().st_size
        state = "is empty" if size == 0 else f"cannot be decoded ({' '.join(str(err).split()) or type(err).__name__})"
        raise ValueError(f"{what} {path} {state}: it may be truncated or corrupt; write or download it again") from err
