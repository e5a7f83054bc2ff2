"""Dense CRF (lesson 6): our PyTorch mean field against the C++ reference, pydensecrf.

Rows at PASCAL VOC size (500x375, 21 labels) and full Cityscapes size (1024x2048,
19 labels), 10 mean-field iterations, the same realistic unaries (a coarse noisy
softmax of a label map that follows a real photo) and parameters for both; the
agreement is the fraction of pixels with the same label.  pydensecrf is an
optional extra: without it the rows time ours alone and say so.  ``ratio`` is
ours / reference (< 1: we are faster).  pydensecrf runs on one CPU thread, so the
row times ours on one thread too (``torch.set_num_threads(1)`` for the call); the
note adds ours with the process's thread count (2 on the course machine).  On a
machine with CUDA an extra row times ours on the GPU at 1024x2048.
"""

from __future__ import annotations

import resource
import statistics
import time

import numpy as np

from benchmarks.core import Benchmark, Row, compare, median_time

_ITERATIONS = 10


def _case(size: tuple[int, int], classes: int, tiny: bool):
    from course_utils.crf import coarse_probs, photo_labels
    from course_utils.data.samples import sample_image
    from course_utils.images import resize_image, resize_labels

    if tiny:
        size = (48, 64)
    photo = sample_image("china")
    small = resize_image(photo, (375, 500))
    labels = resize_labels(photo_labels(small, classes, segments=80, rng=0), size)
    image = resize_image(photo, size)
    return image, labels, coarse_probs(labels, classes, rng=0)[0]


def _reference():
    try:
        import pydensecrf.densecrf as dcrf
        from pydensecrf.utils import unary_from_softmax
    except ImportError:
        return None

    def run(image: np.ndarray, probs: np.ndarray, params, iterations: int) -> np.ndarray:
        c, h, w = probs.shape
        crf = dcrf.DenseCRF2D(w, h, c)
        crf.setUnaryEnergy(unary_from_softmax(probs))
        kw = params.to_pydensecrf()
        crf.addPairwiseGaussian(**kw["gaussian"])
        crf.addPairwiseBilateral(rgbim=np.ascontiguousarray(image), **kw["bilateral"])
        return np.array(crf.inference(iterations)).reshape(c, h, w)

    return run


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _row(name: str, size: tuple[int, int], classes: int, tiny: bool) -> Row:
    import torch

    from course_utils.crf import CRFParams, dense_crf

    image, _, probs = _case(size, classes, tiny)
    params = CRFParams.pydensecrf_example()
    ref = _reference()
    probs_np = probs.numpy()
    repeats = 5 if tiny or size[0] * size[1] < 10**6 else 3
    h, w = image.shape[:2]
    note = f"{w}x{h}, {classes} labels, {_ITERATIONS} iterations, ours on 1 thread"

    def ours_with(threads: int):
        def run():
            before = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                return dense_crf(image, probs, params=params, iterations=_ITERATIONS).probs.numpy()
            finally:
                torch.set_num_threads(before)

        return run

    threads = torch.get_num_threads()
    ours = ours_with(1)
    before = _peak_rss_mb()
    ours()  # also the warm-up: the peak memory of our run alone, before the reference allocates
    note += f", peak RSS +{max(0.0, _peak_rss_mb() - before):.0f} MB (ours)"
    if threads > 1:
        multi_s, _ = median_time(ours_with(threads), repeats=1 if size[0] * size[1] >= 10**6 else repeats, warmup=0)
        note += f", ours with {threads} threads {multi_s:.3f} s"
    if ref is None:
        return compare(name, ours, None, "pydensecrf (not installed)", repeats=repeats, warmup=0,
                       note=note + "; pip install pydensecrf2 (the 'crf' extra) to compare")

    def agreement(a: np.ndarray, b: np.ndarray) -> float:
        return float((a.argmax(0) == b.argmax(0)).mean())

    # Alternate ours and the reference so that a changing machine load hits both alike; the CPU
    # time of the process (one thread each) is reported too, as it is less sensitive to other jobs.
    wall: dict[str, list[float]] = {"ours": [], "ref": []}
    cpu: dict[str, list[float]] = {"ours": [], "ref": []}
    outputs = {}
    for _ in range(repeats):
        for key, fn in (("ours", ours), ("ref", lambda: ref(image, probs_np, params, _ITERATIONS))):
            c0, t0 = time.process_time(), time.perf_counter()
            outputs[key] = fn()
            wall[key].append(time.perf_counter() - t0)
            cpu[key].append(time.process_time() - c0)
    ours_s, ref_s = statistics.median(wall["ours"]), statistics.median(wall["ref"])
    cpu_ratio = statistics.median(cpu["ours"]) / statistics.median(cpu["ref"])
    return Row(name, ours_s, "pydensecrf (C++, 1 thread)", ref_s, ours_s / ref_s,
               agreement(outputs["ours"], outputs["ref"]), "cpu", note + f", CPU-time ratio {cpu_ratio:.2f}")


def _voc(tiny: bool) -> Row:
    return _row("dense_crf_500x375x21", (375, 500), 21, tiny)


def _cityscapes(tiny: bool) -> Row:
    return _row("dense_crf_1024x2048x19", (1024, 2048), 19, tiny)


def _cityscapes_cuda(tiny: bool) -> Row:
    import torch

    from course_utils.crf import CRFParams, dense_crf

    name = "dense_crf_1024x2048x19_cuda"
    if not torch.cuda.is_available():
        return Row(name, float("nan"), "ours on the CPU", None, None, None, "cuda", "skipped: CUDA is not available")
    image, _, probs = _case((1024, 2048), 19, tiny)
    params = CRFParams.pydensecrf_example()
    probs_gpu = probs.cuda()
    gpu_s, gpu_out = median_time(lambda: dense_crf(image, probs_gpu, params=params, iterations=_ITERATIONS).probs,
                                 repeats=5, warmup=1, device="cuda")
    torch.cuda.reset_peak_memory_stats()
    dense_crf(image, probs_gpu, params=params, iterations=_ITERATIONS)
    peak = torch.cuda.max_memory_allocated() / 2**20
    cpu_s, cpu_out = median_time(lambda: dense_crf(image, probs, params=params, iterations=_ITERATIONS).probs,
                                 repeats=1, warmup=0)
    agree = float((gpu_out.argmax(0).cpu() == cpu_out.argmax(0)).float().mean())
    return Row(name, gpu_s, "ours on the CPU", cpu_s, gpu_s / cpu_s, agree, "cuda",
               f"{1000 * gpu_s:.0f} ms per image (lattices built in the call), peak CUDA memory {peak:.0f} MB")


BENCHMARKS = [
    Benchmark("dense_crf_500x375x21", _voc),
    Benchmark("dense_crf_1024x2048x19", _cityscapes),
    Benchmark("dense_crf_1024x2048x19_cuda", _cityscapes_cuda),
]
