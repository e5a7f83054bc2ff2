"""Lesson 4 rows: FCN-8s (VGG16) forward time at 500x500 vs torchvision's fcn_resnet50, and vs the lecture;
and the course recipe's training step in the channels-last layout it trains in, against the default layout.

The lecture (the FCN paper's table 1) gives 210 ms for FCN-VGG16's forward pass on a 2015 GPU
(an NVIDIA Tesla K40c, Caffe).  Our row times the same network (full width, the 100-pixel
padding, 500x500 input, batch 1) on this machine's device (``get_device()``: the CPU here, a
GPU where one is present), and torchvision's ``fcn_resnet50(weights=None,
weights_backbone=None)`` in the same process as the reference; ``ratio`` = ours / torchvision.
"""

from __future__ import annotations

from benchmarks.core import Benchmark, Row, compare

LECTURE_FORWARD_S = 0.210  # FCN-VGG16, the paper's table 1 (GPU, 2015)


def _fcn8s_forward(tiny: bool) -> Row:
    import torch
    from torchvision.models.segmentation import fcn_resnet50

    from course_utils.env import get_device
    from course_utils.nets.fcn import fcn_vgg16

    device = get_device()
    size = 128 if tiny else 500
    torch.manual_seed(0)
    ours_net = fcn_vgg16("8s", 21, width=1 / 16 if tiny else 1.0).to(device).eval()
    ref_net = fcn_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=False).to(device).eval()
    x = torch.randn(1, 3, size, size, device=device)

    def ours():
        with torch.inference_mode():
            return ours_net(x)

    def reference():
        with torch.inference_mode():
            return ref_net(x)["out"]

    def agreement(a, b) -> float:  # different networks: only the output shapes can agree
        return float(a.shape == b.shape)

    repeats = 2 if tiny else (10 if device.type == "cuda" else 3)
    row = compare("fcn8s_vgg16_forward_500", ours, reference, "torchvision fcn_resnet50", agreement,
                  repeats=repeats, warmup=1, device=str(device))
    width = "width 1/16, " if tiny else ""
    row.note = (f"{width}{size}x{size}, batch 1; lecture: {LECTURE_FORWARD_S * 1000:.0f} ms on a 2015 GPU, "
                f"ours/lecture = {row.ours_s / LECTURE_FORWARD_S:.2f}")
    return row


def _fcn_train_step(tiny: bool) -> Row:
    """One forward + backward pass of the course's FCN-8s (its width, BatchNorm, a minibatch of its 128x128
    images) with channels-last weights, as ``train_fcn_course`` trains it, against the same net in torch's
    default (contiguous) layout; agreement = 1 - the relative difference of the two losses."""
    import torch

    from course_utils.env import get_device
    from course_utils.nets.fcn import fcn_vgg16
    from course_utils.train.fcn import COURSE_FCN, fcn_loss

    device = get_device()
    batch = 2 if tiny else COURSE_FCN["batch_size"]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 128, 128, generator=g).to(device)
    y = torch.randint(0, 21, (batch, 128, 128), generator=g).to(device)

    def net(layout):
        torch.manual_seed(0)
        return fcn_vgg16("8s", 21, width=COURSE_FCN["width"], batch_norm=COURSE_FCN["batch_norm"]).to(
            device, memory_format=layout).train()

    ours_net, ref_net = net(torch.channels_last), net(torch.contiguous_format)

    def step(model):
        model.zero_grad(set_to_none=True)
        loss = fcn_loss(model(x), y)
        loss.backward()
        return float(loss.detach())

    def agreement(a, b) -> float:
        return 1.0 - abs(a - b) / max(abs(b), 1e-12)

    row = compare("fcn_train_step_channels_last", lambda: step(ours_net), lambda: step(ref_net),
                  "the same step, default layout", agreement, repeats=2 if tiny else 5, warmup=1, device=str(device))
    row.note = f"FCN-8s width {COURSE_FCN['width']:g}, batch {batch} of 128x128, BatchNorm, train mode"
    return row


BENCHMARKS = [Benchmark("fcn8s_vgg16_forward_500", _fcn8s_forward),
              Benchmark("fcn_train_step_channels_last", _fcn_train_step)]
