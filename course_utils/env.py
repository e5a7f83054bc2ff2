"""The runtime environment: device choice, seeding, quick/full mode, versions.

Every notebook's setup cell calls :func:`seed_everything` and prints
:func:`describe_environment`.  Device choice and mode are read from environment
variables so that the same notebook runs on a laptop CPU and on a GPU:

``SEGCOURSE_DEVICE``
    Force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
``SEGCOURSE_FULL``
    ``1`` selects full mode (real sizes, long training); unset or ``0`` is quick mode.
``SEGCOURSE_THREADS``
    CPU threads for the dense CRF and command-line training (default: :func:`cpu_threads`).
"""

from __future__ import annotations

import importlib
import os
import platform
import random

from course_utils._shared import check_int

__all__ = [
    "DEVICE_ENV",
    "FULL_ENV",
    "get_device",
    "DeviceError",
    "cpu_threads",
    "cpu_cores",
    "THREADS_ENV",
    "is_full_mode",
    "seed_everything",
    "package_versions",
    "describe_environment",
]

DEVICE_ENV = "SEGCOURSE_DEVICE"
THREADS_ENV = "SEGCOURSE_THREADS"
FULL_ENV = "SEGCOURSE_FULL"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity; all of the machine's where that is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _other_runnable() -> int:
    """Threads of *other* processes running or waiting for a core right now (Linux ``/proc``).

    This process's own threads are left out (torch's OpenMP workers spin for a while after each
    parallel region and would count as busy). Elsewhere: the 1-minute load average.
    """
    import glob

    own = os.getpid()
    count = 0
    try:
        stats = glob.glob("/proc/[0-9]*/task/[0-9]*/stat")
    except OSError:  # pragma: no cover
        stats = []
    if not stats:
        try:
            return int(os.getloadavg()[0])
        except (OSError, AttributeError):  # pragma: no cover
            return 0
    for path in stats:
        if int(path.split("/")[2]) == own:
            continue
        try:
            with open(path, "rb") as f:
                text = f.read()
        except OSError:  # the thread ended meanwhile
            continue
        state = text[text.rfind(b")") + 2:text.rfind(b")") + 3]
        count += state == b"R"
    return count


def cpu_threads(limit: int | None = None) -> int:
    """How many CPU threads a compute-bound torch call should use now: the cores no other process is using.

    ``$SEGCOURSE_THREADS`` when set; else this process's cores minus the threads of other processes
    that are running right now (at least 1), at most ``limit``.

    Why: torch's OpenMP team waits at every parallel region for its slowest thread. When another
    process (a second kernel, a training run) occupies one of two cores, two threads make the dense
    CRF about ten times *slower* than one (741x500: 0.9 s on 1 thread, 0.5 s on 2 threads on a quiet
    machine, 8 s on 2 threads next to a busy process); one thread never waits. Asking for fewer
    threads than the idle cores costs at most the parallel speed-up (2x here), asking for more can
    cost 10x, so the count follows the idle cores.

    Raises
    ------
    ValueError
        If ``$SEGCOURSE_THREADS`` is not a positive int, or ``limit`` is not a positive int.
    """
    if limit is not None:
        limit = check_int(limit, "limit", 1)
    value = os.environ.get(THREADS_ENV, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"environment variable {THREADS_ENV}={value!r} must be a positive int")
    else:
        n = max(1, cpu_cores() - _other_runnable())
    return n if limit is None else min(n, limit)


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
    seed = check_int(seed, "seed", 0, 2**63 - 1)
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
