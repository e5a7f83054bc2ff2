"""The thread cliff: the dense CRF at 741x500 on 1 and 2 torch threads, quiet and next to a busy process.

    python -m benchmarks.crf_threads [--repeats N] [--iterations T]

On a 2-core machine, an OpenMP team of 2 threads waits at every parallel region for the thread
that shares its core with another process: each mean-field iteration has dozens of short
regions, so the whole CRF becomes an order of magnitude slower. One thread never waits.
Prints the median times (seconds) of: 1 and 2 threads with nothing else running (as far as
this process can tell), then 1 and 2 threads while a child process burns one core, and the
thread count :func:`course_utils.env.cpu_threads` picks in each case.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time


def _burn(stop, kind: str) -> None:
    """A busy process: a pure-Python loop (one core), or torch convolutions on 2 threads (another kernel)."""
    if kind == "python":
        x = 0
        while not stop.is_set():
            for _ in range(100_000):
                x += 1
        return
    import torch

    torch.set_num_threads(2)
    a = torch.randn(1, 16, 128, 128)
    w = torch.randn(16, 16, 3, 3)
    while not stop.is_set():
        torch.nn.functional.conv2d(a, w, padding=1)


def _case():
    from course_utils.crf import coarse_probs, photo_labels
    from course_utils.data.samples import sample_image
    from course_utils.images import resize_image, resize_labels

    image = resize_image(sample_image("china"), (500, 741))
    labels = resize_labels(photo_labels(resize_image(image, (250, 370)), 21, segments=80, rng=0), (500, 741))
    return image, coarse_probs(labels, 21, rng=0)[0]


def _time(image, probs, threads: int, repeats: int, iterations: int) -> float:
    import torch

    from course_utils.crf import CRFParams, dense_crf

    times = []
    for _ in range(repeats):
        torch.set_num_threads(threads)
        start = time.perf_counter()
        dense_crf(image, probs, params=CRFParams.pydensecrf_example(), iterations=iterations, threads=threads)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    import os

    from course_utils.env import cpu_threads

    parser = argparse.ArgumentParser(prog="python -m benchmarks.crf_threads", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--burner", choices=("python", "torch"), default="torch",
                        help="the busy process: a Python loop (1 core) or torch on 2 threads (another kernel)")
    args = parser.parse_args(argv)
    image, probs = _case()
    _time(image, probs, 1, 1, 1)  # warm-up
    result = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0], "size": "741x500", "labels": 21,
              "iterations": args.iterations, "burner": args.burner}
    for threads in (1, 2):
        result[f"quiet_{threads}_threads_s"] = _time(image, probs, threads, args.repeats, args.iterations)
    result["picked_quiet"] = cpu_threads()
    stop = mp.get_context("spawn").Event()
    burner = mp.get_context("spawn").Process(target=_burn, args=(stop, args.burner), daemon=True)
    burner.start()
    try:
        time.sleep(1.0)
        for threads in (1, 2):
            result[f"busy_{threads}_threads_s"] = _time(image, probs, threads, args.repeats, args.iterations)
        result["picked_busy"] = cpu_threads()
    finally:
        stop.set()
        burner.join(5)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
