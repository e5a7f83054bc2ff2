"""Shared fixtures: seeding, a small thread count, and the cpu/cuda device parametrisation."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")

os.environ.setdefault("TQDM_DISABLE", "1")


def _devices() -> list:
    import torch

    devices = ["cpu"]
    marks = [] if torch.cuda.is_available() else [pytest.mark.skip(reason="CUDA is not available")]
    return [pytest.param(d) for d in devices] + [pytest.param("cuda", marks=marks)]


@pytest.fixture(params=_devices())
def device(request):
    """Run the test on the CPU and, where present, on CUDA (skipped otherwise)."""
    import torch

    return torch.device(request.param)


@pytest.fixture
def one_thread():
    """Tiny tensors: one torch thread avoids OpenMP hand-offs on a shared CPU (results are the same).

    Use it for a whole file with ``pytestmark = pytest.mark.usefixtures("one_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _seed_and_threads():
    import numpy as np
    import torch

    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
