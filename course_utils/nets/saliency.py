"""A small saliency network "modified from VGG" (the lecture's DNN model for saliency).

The encoder is torchvision's VGG feature extractor (``torchvision.models.vgg``'s
layer configurations and ``make_layers``), with every channel count scaled by
``width / 64`` so that quick mode trains on a laptop CPU; ``width=64`` is the
real VGG16 layout.  Because the fully connected classifier is dropped, the net
is fully convolutional and takes any input size.  A light top-down decoder
(as in the FCN/U-Net family) fuses the five stages from deep to shallow and
predicts one channel: the saliency logit of each pixel, upsampled to the
input size.  Weights start random (``weights=None``: nothing is downloaded).

Blocks: :class:`VGGEncoder`, :class:`FuseBlock`, :class:`SaliencyDecoder`,
:class:`SaliencyNet`; builder :func:`saliency_vgg`.
Training is in :mod:`course_utils.train.saliency`, inference in :mod:`course_utils.evaluate.predict`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_utils._shared import IMAGENET_MEAN, IMAGENET_STD, check_bytes, check_int

__all__ = ["VGGEncoder", "FuseBlock", "SaliencyDecoder", "SaliencyNet", "saliency_vgg"]


def _scaled_cfg(cfg: str, width: int) -> list:
    from torchvision.models.vgg import cfgs

    if cfg not in cfgs:
        raise ValueError(f"cfg must be one of torchvision's VGG configurations {sorted(cfgs)}, got {cfg!r}")
    check_int(width, "width (channels of the first stage; VGG has 64)", 1)
    # VGG's 15 M convolution parameters at width 64 grow as (width / 64)**2 (float32)
    check_bytes(4.0 * 15e6 * (width / 64) ** 2, name="width", value=width, what="the network's parameters")
    return [v if v == "M" else max(1, v * width // 64) for v in cfgs[cfg]]


class VGGEncoder(nn.Module):
    """VGG's convolutional stages; returns the feature map of every stage before its max-pool.

    Parameters
    ----------
    cfg : {"A", "B", "D", "E"}
        torchvision's configuration (VGG11, 13, 16, 19); "D" is VGG16.
    width : int
        Channels of the first stage (64 in VGG); later stages scale with it.
    batch_norm : bool
        Conv-BN-ReLU instead of Conv-ReLU (trains faster from scratch).

    Notes
    -----
    ``forward(x)`` with ``x`` of shape ``(N, 3, H, W)`` returns five tensors
    at strides 1, 2, 4, 8 and 16; ``channels`` lists their channel counts.
    """

    def __init__(self, cfg: str = "D", width: int = 64, batch_norm: bool = True) -> None:
        super().__init__()
        from torchvision.models.vgg import make_layers

        layers = list(make_layers(_scaled_cfg(cfg, width), batch_norm=batch_norm))
        stages, current, channels = [], [], []
        for layer in layers:
            if isinstance(layer, nn.MaxPool2d):
                stages.append(nn.Sequential(*current))
                current = [layer]
            else:
                current.append(layer)
                if isinstance(layer, nn.Conv2d):
                    out_channels = layer.out_channels
            if isinstance(layer, nn.MaxPool2d):
                channels.append(out_channels)
        # The last max-pool (stride 32) is not used: the decoder starts from stage 5 at stride 16.
        self.stages = nn.ModuleList(stages)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features


class FuseBlock(nn.Module):
    """Upsample the deeper map to the shallower one's size, add a 1x1 projection of the shallower, refine with a 3x3 conv."""

    def __init__(self, skip_channels: int, channels: int) -> None:
        super().__init__()
        self.lateral = nn.Conv2d(skip_channels, channels, kernel_size=1)
        self.refine = nn.Sequential(
            nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, deep: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        deep = F.interpolate(deep, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.refine(deep + self.lateral(skip))


class SaliencyDecoder(nn.Module):
    """Top-down decoder: from the deepest stage up to stage ``first_stage``, then a 1x1 conv to one logit.

    Parameters
    ----------
    encoder_channels : list of int
        Channels of the encoder's stages (strides 1, 2, 4, 8, 16).
    channels : int
        Channels inside the decoder.
    first_stage : int
        The shallowest stage fused (0-based): 1 stops at stride 2 (the
        logits are then upsampled 2x by :class:`SaliencyNet`), which saves
        the cost of full-resolution convolutions; 0 fuses all stages.
    """

    def __init__(self, encoder_channels: list[int], channels: int, first_stage: int = 1) -> None:
        super().__init__()
        if not 0 <= first_stage < len(encoder_channels) - 1:
            raise ValueError(f"first_stage must lie in [0, {len(encoder_channels) - 2}], got {first_stage!r}")
        self.first_stage = first_stage
        self.top = nn.Conv2d(encoder_channels[-1], channels, kernel_size=1)
        self.fuse = nn.ModuleList(FuseBlock(c, channels) for c in reversed(encoder_channels[first_stage:-1]))
        self.head = nn.Conv2d(channels, 1, kernel_size=1)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        x = self.top(features[-1])
        for block, skip in zip(self.fuse, reversed(features[self.first_stage:-1])):
            x = block(x, skip)
        return self.head(x)


class SaliencyNet(nn.Module):
    """Encoder + decoder; ``forward(images)`` -> saliency logits ``(N, 1, H, W)`` at the input size.

    ``images`` is ``(N, 3, H, W)`` float RGB in [0, 1]; the ImageNet
    normalisation VGG expects is applied inside.  ``torch.sigmoid`` of the
    output is the saliency map.
    """

    def __init__(self, encoder: VGGEncoder, decoder: SaliencyDecoder) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
        logits = self.decoder(self.encoder((images - self.mean) / self.std))
        return F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False)


def saliency_vgg(width: int = 64, *, cfg: str = "D", decoder_channels: int | None = None,
                 first_stage: int = 1, batch_norm: bool = True, weights: None = None) -> SaliencyNet:
    """Build the saliency net on a VGG encoder.

    Parameters
    ----------
    width : int
        Channels of VGG's first stage (64 = the real VGG16; quick mode uses 8).
    cfg : {"A", "B", "D", "E"}
        torchvision's VGG configuration: "A" = VGG11 (quick mode), "D" = VGG16.
    decoder_channels : int, optional
        Channels of the decoder (default ``max(8, 2 * width)``).
    first_stage : int
        The shallowest encoder stage the decoder fuses (see :class:`SaliencyDecoder`).
    batch_norm : bool
        Conv-BN-ReLU in the encoder.
    weights : None
        Only ``None`` (random initialisation) is supported: pretrained weights
        cannot be downloaded in this course.

    Returns
    -------
    SaliencyNet
    """
    if weights is not None:
        raise ValueError("weights must be None: this course trains from scratch and downloads nothing")
    encoder = VGGEncoder(cfg, width, batch_norm)
    channels = max(8, 2 * width) if decoder_channels is None else decoder_channels
    check_int(channels, "decoder_channels", 1)
    return SaliencyNet(encoder, SaliencyDecoder(encoder.channels, channels, first_stage))


