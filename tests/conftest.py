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
