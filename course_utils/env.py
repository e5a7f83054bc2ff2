"""The runtime environment: device choice, seeding, quick/full mode, versions.

Every notebook's setup cell calls :func:`seed_everything` and prints
:func:`describe_environment`.  Device choice and mode are read from environment
variables so that the same notebook runs on a laptop CPU and on a GPU:

``SEGCOURSE_DEVICE``
    Force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
``SEGCOURSE_FULL``
    ``1`` selects full mode (real sizes, long training); unset or ``0`` is quick mode.
"""

from __future__ import annotations

import importlib
import os
import platform
import random

__all__ = [
    "DEVICE_ENV",
    "FULL_ENV",
    "get_device",
    "DeviceError",
    "is_full_mode",
    "seed_everything",
    "package_versions",
    "describe_environment",
]

DEVICE_ENV = "SEGCOURSE_DEVICE"
FULL_ENV = "SEGCOURSE_FULL"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_full_mode() -> bool:
    """Return True when ``SEGCOURSE_FULL`` asks for full mode.

    Raises
    ------
    ValueError
        If the variable holds something other than 0/1/true/false/yes/no/on/off.
    """
    raw = os.environ.get(FULL_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(
        f"environment variable {FULL_ENV}={raw!r}: expected 1 (full mode) or 0 (quick mode)"
    )


class DeviceError(RuntimeError):
    """A device that was asked for (``cuda``, ``cuda:N``, ``mps``) is not available on this machine."""


def get_device(prefer: str | None = None, *, name: str = "prefer"):
    """Pick the torch device: ``prefer``, else ``$SEGCOURSE_DEVICE``, else cuda, mps, cpu.

    Parameters
    ----------
    prefer : str, optional
        A device string such as ``"cpu"`` or ``"cuda:0"``; it overrides the
        environment variable.
    name : str
        How error messages call ``prefer`` (e.g. ``"device"`` or ``"--device"``).

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        If the requested device is not a valid device string.
    DeviceError (a RuntimeError)
        If the requested device is valid but not available on this machine.
    """
    import torch

    requested = prefer if prefer is not None else os.environ.get(DEVICE_ENV, "").strip()
    if not requested:
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if isinstance(requested, torch.device):
        requested = str(requested)
    if not isinstance(requested, str):
        raise TypeError(f"{name} must be a device string such as 'cpu' or 'cuda:0', got {type(requested).__name__}")
    source = name if prefer is not None else f"environment variable {DEVICE_ENV}"
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"{source}={requested!r} is not a device: expected 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"{source}={requested!r} but CUDA is not available on this machine "
                              "(torch.cuda.is_available() is False): use 'cpu'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(
                f"{source}={requested!r} but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif device.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(f"{source}={requested!r} but MPS is not available on this machine: use 'cpu'")
    elif device.type != "cpu":
        raise ValueError(f"{source}={requested!r}: expected 'cpu', 'cuda', 'cuda:N' or 'mps'")
    return device


def seed_everything(seed: int = 0, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and torch (all devices) and ask for deterministic kernels.

    Parameters
    ----------
    seed : int
        A non-negative integer.
    deterministic : bool
        Also select deterministic cuDNN algorithms and warn on
        non-deterministic torch operations.

    Returns
    -------
    int
        The seed, for logging.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
        # Needed by cuBLAS for deterministic matrix products on CUDA >= 10.2.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed


_PACKAGES = (
    ("numpy", "numpy"),
    ("torch", "torch"),
    ("torchvision", "torchvision"),
    ("opencv", "cv2"),
    ("scikit-learn", "sklearn"),
    ("scikit-image", "skimage"),
    ("PyMaxflow", "maxflow"),
    ("matplotlib", "matplotlib"),
    ("ipywidgets", "ipywidgets"),
)


def package_versions() -> dict[str, str]:
    """Return ``{package: version}`` for the course's main packages ('missing' if absent)."""
    versions = {"python": platform.python_version()}
    for name, module in _PACKAGES:
        try:
            mod = importlib.import_module(module)
        except ImportError:
            versions[name] = "missing"
            continue
        versions[name] = str(getattr(mod, "__version__", getattr(mod, "VERSION", "?")))
    return versions


def describe_environment() -> str:
    """One line per fact: versions, the device and the mode, for a notebook's setup cell."""
    lines = [f"{k:<13} {v}" for k, v in package_versions().items()]
    lines.append(f"{'device':<13} {get_device()}")
    lines.append(f"{'mode':<13} {'full' if is_full_mode() else 'quick'}")
    return "\n".join(lines)
