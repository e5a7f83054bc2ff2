"""Cityscapes pipeline rows: MiniCity generation, DeepLab training throughput, our evaluation vs the official one.

Training rows time one SGD step (forward, backward, update; batch of crops) and
report images per second in the note, at the quick crop (128x256, narrow
networks) and the full crop (512x512 of half-resolution frames, the paper's
widths); on the CPU, and on CUDA (mixed precision) when one is present.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.core import Benchmark, Row, compare, median_time


def _generation(full: bool):
    def run(tiny: bool) -> Row:
        from course_utils.data.minicity import FULL_SIZE, QUICK_SIZE, write_minicity

        size = (64, 128) if tiny else (FULL_SIZE if full else QUICK_SIZE)
        n = 2 if tiny else (4 if full else 20)
        folder = Path(tempfile.mkdtemp(prefix="bench-minicity-"))
        counter = iter(range(1000))

        def generate():
            return write_minicity(folder / str(next(counter)), train_images=n, val_images=0, size=size, progress=False)

        seconds, _ = median_time(generate, repeats=1 if (full and not tiny) else 3, warmup=0)
        return Row(f"minicity_generate_{'full' if full else 'quick'}", seconds / n, "-", None, None, None, "cpu",
                   f"{n / seconds:.2f} images/s rendered and written, {size[0]}x{size[1]} (per-image seconds)")

    return run


def _train_step(model: str, full: bool, device_name: str):
    def run(tiny: bool) -> Row:
        import torch
        import torch.nn.functional as F

        from course_utils.train.deeplab import build_deeplab, deeplab_settings

        device = torch.device(device_name)
        if device.type == "cuda" and not torch.cuda.is_available():
            return Row(f"deeplab_{model}_{'full' if full else 'quick'}_{device_name}", math.nan, "-", None, None, None,
                       device_name, "skipped: CUDA is not available")
        overrides = {"width": 1.0, "depth": 101} if full else {"width": 0.125 if model != "aspp" else 0.25, "depth": 18}
        if model != "aspp":
            overrides.pop("depth")
        settings = deeplab_settings(model, **overrides)
        crop = (512, 512) if full else (128, 256)
        batch = 8 if device.type == "cuda" else (2 if full else 8)
        if tiny:
            crop, batch = (64, 64), 2
            settings = deeplab_settings(model, width=0.0625, **({"depth": 18} if model == "aspp" else {}))
        torch.manual_seed(0)
        net = build_deeplab(settings).to(device, memory_format=torch.channels_last).train()
        opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
        x = torch.randn(batch, 3, *crop, device=device)
        y = torch.randint(0, 19, (batch, *crop), device=device)
        scaler = torch.amp.GradScaler(device.type, enabled=device.type == "cuda")

        def step():
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
                loss = F.cross_entropy(net(x), y, ignore_index=255)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()

        repeats = 1 if (tiny or (full and device.type == "cpu")) else 3
        seconds, _ = median_time(step, repeats=repeats, warmup=1, device=device_name)
        name = f"deeplab_{model}_{'full' if full else 'quick'}_{device.type}"
        params = sum(p.numel() for p in net.parameters()) / 1e6
        return Row(name, seconds, "-", None, None, None, device_name,
                   f"{batch / seconds:.2f} images/s; one step of {batch} crops {crop[0]}x{crop[1]}, "
                   f"width {settings['width']}, {params:.2f}M parameters")

    return run


def _evaluation(tiny: bool) -> Row:
    from PIL import Image

    from course_utils.data.cityscapes import list_frames, read_label_ids
    from course_utils.data.minicity import write_minicity
    from course_utils.evaluate.cityscapes import evaluate_cityscapes, official_cityscapes_scores

    size, n = ((64, 128), 3) if tiny else ((256, 512), 20)
    root = write_minicity(Path(tempfile.mkdtemp(prefix="bench-eval-")), train_images=0, val_images=n, size=size,
                          progress=False)
    rng = np.random.default_rng(0)
    pred = root / "pred"
    for frame in list_frames(root, "val"):
        gt = read_label_ids(frame.label_ids)
        p = np.roll(gt, 2, axis=1)
        noise = rng.random(gt.shape) < 0.1
        p[noise] = rng.integers(0, 34, noise.sum())
        (pred / frame.city).mkdir(parents=True, exist_ok=True)
        Image.fromarray(p.astype(np.uint8)).save(pred / frame.city / f"{frame.stem}_leftImg8bit.png")
    gt_dir = root / "gtFine" / "val"

    def agreement(ours, ref) -> float:
        diffs = [abs(v - ref["classScores"][k]) for k, v in ours["class_iou"].items() if not math.isnan(v)]
        diffs.append(abs(ours["mean_iou"] - ref["averageScoreClasses"]))
        return float(1.0 - max(diffs))

    return compare("cityscapes_evaluation", lambda: evaluate_cityscapes(pred, gt_dir),
                   lambda: official_cityscapes_scores(pred, gt_dir), "cityscapesscripts eval", agreement,
                   repeats=1 if tiny else 3, note=f"{n} frames {size[0]}x{size[1]}; agreement = 1 - max |IoU difference|")


BENCHMARKS = [
    Benchmark("minicity_generate_quick", _generation(False)),
    Benchmark("minicity_generate_full", _generation(True)),
    Benchmark("deeplab_largefov_quick_cpu", _train_step("largefov", False, "cpu")),
    Benchmark("deeplab_aspp_quick_cpu", _train_step("aspp", False, "cpu")),
    Benchmark("deeplab_largefov_full_cpu", _train_step("largefov", True, "cpu")),
    Benchmark("deeplab_aspp_full_cpu", _train_step("aspp", True, "cpu")),
    Benchmark("deeplab_largefov_full_cuda", _train_step("largefov", True, "cuda")),
    Benchmark("deeplab_aspp_full_cuda", _train_step("aspp", True, "cuda")),
    Benchmark("cityscapes_evaluation", _evaluation),
]
