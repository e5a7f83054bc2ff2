"""Lesson 5 rows: dense (dilated) vs sparse (downsample-conv-upsample) extraction; our dilated convs vs torch.

Memory is the total size of the tensors each path allocates (counted per
operator with a ``TorchDispatchMode``; on CUDA also the peak of the caching
allocator), reported in the row's note.
"""

from __future__ import annotations

import torch

from benchmarks.core import Benchmark, Row, compare


def _device() -> str:
    from course_utils.env import get_device

    return str(get_device())


def _allocated_bytes(fn) -> int:
    """Bytes of every tensor produced by the operators ``fn()`` runs (inputs excluded)."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class _Count(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            views = {id(a) for a in tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)}
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor) and id(t) not in views and not t._is_view():
                    _Count.total += t.numel() * t.element_size()
            return out

    with torch.no_grad(), _Count():
        fn()
    return _Count.total


def _cuda_peak(fn, device: str) -> int | None:
    if not device.startswith("cuda"):
        return None
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    with torch.no_grad():
        fn()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated() - base


def _mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / 2**20:.1f} MB"


def _case(tiny: bool, device: str, kernel: int = 7):
    g = torch.Generator().manual_seed(0)
    channels, side = (16, 48) if tiny else (64, 256)
    x = torch.randn(1, channels, side, side, generator=g).to(device)
    w = (torch.randn(channels, channels, kernel, kernel, generator=g) / (kernel * channels**0.5)).to(device)
    b = torch.zeros(channels).to(device)
    return x, w, b


def _dense_vs_sparse(tiny: bool) -> Row:
    from course_utils.ops.dilated_conv import conv_cost, dense_extraction, sparse_extraction

    device = _device()
    x, w, b = _case(tiny, device)
    dense = lambda: dense_extraction(x, w, b, rate=2)  # noqa: E731
    sparse = lambda: sparse_extraction(x, w, b, factor=2)  # noqa: E731

    def agreement(d, s) -> float:  # the dense map holds the sparse path's responses on the coarse grid
        low = s[0]
        return float(torch.isclose(d[..., ::2, ::2], low, atol=1e-4, rtol=1e-4).float().mean())

    with torch.no_grad():
        row = compare("dilated_vs_sparse_path", dense, sparse, "downsample-conv-upsample (torch)", agreement,
                      repeats=3 if tiny else 10, device=device)
    c, side = x.shape[1], x.shape[-1]
    dense_cost = conv_cost(c, c, 7, side, side)
    sparse_cost = conv_cost(c, c, 7, (side + 1) // 2, (side + 1) // 2)
    row.note = (f"1x{c}x{side}x{side}, 7x7 rate 2 vs x[::2,::2] + 7x7 + bilinear x2; params {dense_cost.params} both; "
                f"MACs {dense_cost.macs / 1e6:.0f}M vs {sparse_cost.macs / 1e6:.0f}M; "
                f"allocated {_mb(_allocated_bytes(dense))} vs {_mb(_allocated_bytes(sparse))}; "
                f"cuda peak {_mb(_cuda_peak(dense, device))} vs {_mb(_cuda_peak(sparse, device))}")
    return row


def _rate_case(tiny: bool, device: str):
    g = torch.Generator().manual_seed(1)
    channels, side = (16, 33) if tiny else (128, 129)
    x = torch.randn(1, channels, side, side, generator=g).to(device)
    w = (torch.randn(channels, channels, 3, 3, generator=g) / (3 * channels**0.5)).to(device)
    return x, w


def _close(a, b) -> float:
    return float(torch.isclose(a, b, atol=1e-4, rtol=1e-4).float().mean())


def _subgrids(tiny: bool) -> Row:
    from course_utils.ops.dilated_conv import conv_dilated, conv_on_subgrids

    device = _device()
    x, w = _rate_case(tiny, device)
    rate = 4
    with torch.no_grad():
        row = compare("dilated_conv_subgrids", lambda: conv_on_subgrids(x, w, None, rate, rate),
                      lambda: conv_dilated(x, w, None, rate, rate), "F.conv2d(dilation=4)", _close,
                      repeats=3 if tiny else 10, device=device)
    row.note = f"hole algorithm: 16 sub-grid convs, 1x{x.shape[1]}x{x.shape[2]}x{x.shape[3]}, 3x3 rate 4"
    return row


def _zero_inserted(tiny: bool) -> Row:
    from course_utils.ops.dilated_conv import conv_dilated, conv_zero_inserted

    device = _device()
    x, w = _rate_case(tiny, device)
    rate = 4
    with torch.no_grad():
        row = compare("dilated_conv_zero_inserted", lambda: conv_zero_inserted(x, w, None, rate, rate),
                      lambda: conv_dilated(x, w, None, rate, rate), "F.conv2d(dilation=4)", _close,
                      repeats=3 if tiny else 10, device=device)
    row.note = f"9x9 kernel with 72 zeros (81/9 = 9x the MACs), 1x{x.shape[1]}x{x.shape[2]}x{x.shape[3]}"
    return row


BENCHMARKS = [
    Benchmark("dilated_vs_sparse_path", _dense_vs_sparse),
    Benchmark("dilated_conv_subgrids", _subgrids),
    Benchmark("dilated_conv_zero_inserted", _zero_inserted),
]
