"""A plain VGG16 scoring network with named layers: the starting point of lesson 5's dilation surgery.

DeepLab (Chen et al., ICLR 2015, section 3.1) turns an ImageNet VGG16 into a
dense feature extractor with the *hole algorithm*: pool4 and pool5 lose their
stride (32 -> 8) and the layers after them look at their input with holes
(conv5: rate 2, fc6: rate 4), so the same weights compute the original network's
scores at every 8th pixel instead of every 32nd.

:func:`plain_vgg16` is the network before the surgery, as one ``nn.Sequential``
whose children carry VGG's names (``conv1_1`` ... ``pool5``, ``fc6``, ``fc7``,
``fc8``): the five VGG16 stages (3x3 convolutions, ReLU, 2x2 max pooling with
stride 2), then fc6 as a 3x3 convolution (DeepLab's sub-sampled fc6), fc7 and a
1x1 scoring layer fc8.  ``width`` scales the channels (``width=1/16`` runs in a
fraction of a second on a CPU); ``padding=0`` gives the variant without zero
padding, whose outputs depend on the input alone (no image border), which is
what makes "the original network evaluated at every shift" exact.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch
from torch import nn

from course_utils._shared import check_int, check_width
from course_utils.nets.blocks import scaled_channels
from course_utils.nets.deeplab import VGG16_STAGES

__all__ = ["plain_vgg16", "hole_algorithm"]


def plain_vgg16(num_classes: int = 21, *, width: float = 1.0, fc_channels: int = 1024, padding: int = 1,
                generator: torch.Generator | None = None) -> nn.Sequential:
    """VGG16 (conv1_1 ... pool5) + fc6 (3x3) + fc7 (1x1) + fc8 (1x1 scores), output stride 32.

    Parameters
    ----------
    num_classes : int
        Channels of the score map (fc8).
    width : float
        Channel factor (1.0: VGG16's 64 ... 512; fc6/fc7 get ``fc_channels * width``).
    fc_channels : int
        fc6/fc7 channels at width 1 (DeepLab-LargeFOV uses 1024).
    padding : {1, 0}
        Zero padding of every 3x3 layer (VGG: 1); 0 gives a border-free network.
    generator : torch.Generator, optional
        Seeds the random initialisation (Kaiming normal weights, small random biases).

    Returns
    -------
    nn.Sequential
        Named children; input ``(N, 3, H, W)`` float, output ``(N, num_classes, h, w)`` scores,
        ``h = H / 32`` for ``padding=1`` and ``H`` a multiple of 32.
    """
    num_classes = check_int(num_classes, "num_classes", 1)
    width = check_width(width)
    fc_channels = check_int(fc_channels, "fc_channels", 1)
    if padding not in (0, 1):
        raise ValueError(f"padding must be 1 (VGG) or 0 (no border), got {padding!r}")
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    channels = 3
    for stage, (convs, out) in enumerate(VGG16_STAGES, 1):
        out = scaled_channels(out, width)
        for k in range(1, convs + 1):
            layers[f"conv{stage}_{k}"] = nn.Conv2d(channels, out, 3, padding=padding)
            layers[f"relu{stage}_{k}"] = nn.ReLU(inplace=True)
            channels = out
        layers[f"pool{stage}"] = nn.MaxPool2d(2, stride=2)
    fc = scaled_channels(fc_channels, width)
    layers["fc6"] = nn.Conv2d(channels, fc, 3, padding=padding)
    layers["relu6"] = nn.ReLU(inplace=True)
    layers["fc7"] = nn.Conv2d(fc, fc, 1)
    layers["relu7"] = nn.ReLU(inplace=True)
    layers["fc8"] = nn.Conv2d(fc, num_classes, 1)
    net = nn.Sequential(layers)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.01)
    return net


def hole_algorithm(net: nn.Sequential) -> nn.Sequential:
    """DeepLab's surgery on a :func:`plain_vgg16`: output stride 32 -> 8 with the same weights.

    pool4 and pool5 get stride 1; every layer after pool4 looks at its input
    with holes: conv5_x at rate 2, pool5's 2x2 window at rate 2, fc6 at rate 4
    (fc7 and fc8 are 1x1, where a rate changes nothing).  Paddings grow with the
    rate, so a 3x3 layer keeps its map size.  Then the new network's scores at
    every 4th position equal the original network's, and the positions in
    between are the original network evaluated on the input shifted by
    multiples of 8 pixels (exactly so for ``padding=0``).

    DeepLab itself gives pool4 and pool5 a 3x3 window with stride 1 and padding 1
    instead of a dilated 2x2 one: the same output stride, but no longer exactly
    the original network.

    Parameters
    ----------
    net : nn.Sequential
        A :func:`plain_vgg16` (children named pool4, pool5, conv5_1 ...); not modified.

    Returns
    -------
    nn.Sequential
        A new network holding copies of the same weights.
    """
    names = [name for name, _ in net.named_children()]
    if "pool4" not in names or "pool5" not in names:
        raise ValueError("net must be a plain_vgg16 with children named 'pool4' and 'pool5'")
    net = copy.deepcopy(net)
    rate = 1
    for name, layer in net.named_children():
        if name in ("pool4", "pool5"):
            layer.stride = 1
            layer.dilation = rate  # the 2x2 window's taps follow the denser grid
            rate *= 2
        elif isinstance(layer, nn.Conv2d) and rate > 1:
            layer.dilation = (rate, rate)
            layer.padding = (rate * layer.padding[0], rate * layer.padding[1])
    return net
