"""Convolutionalization (卷积化): fully connected layers become convolutions with the same weights.

A fully connected layer that reads a ``(C, h, w)`` feature map is a
convolution with an ``h x w`` kernel and no padding: on an input of exactly
``h x w`` it gives a ``1 x 1`` output equal to the layer's output; on a larger
input it slides, giving a spatial map of outputs (Long, Shelhamer & Darrell,
*Fully Convolutional Networks for Semantic Segmentation*, CVPR 2015, section
3.1).  The layers after it, reading vectors, become ``1 x 1`` convolutions.
"""

from __future__ import annotations

import copy

from torch import nn

__all__ = ["convolutionalize_linear", "convolutionalize_classifier", "fully_convolutional"]


def convolutionalize_linear(linear: nn.Linear, in_shape: tuple[int, int, int]) -> nn.Conv2d:
    """The convolution that computes ``linear`` on a flattened ``(C, h, w)`` input.

    Parameters
    ----------
    linear : nn.Linear
        With ``in_features == C * h * w`` (the input flattened in ``(C, h, w)`` order, as
        ``torch.flatten(x, 1)`` does).
    in_shape : (C, h, w)

    Returns
    -------
    nn.Conv2d
        ``C -> out_features`` channels, kernel ``(h, w)``, stride 1, no padding; the weights are
        copies (a view-reshape) of ``linear``'s.
    """
    if not isinstance(linear, nn.Linear):
        raise TypeError(f"linear must be an nn.Linear, got {type(linear).__name__}")
    if len(in_shape) != 3 or any(int(v) < 1 for v in in_shape):
        raise ValueError(f"in_shape must be (C, h, w) of positive ints, got {in_shape!r}")
    c, h, w = (int(v) for v in in_shape)
    if linear.in_features != c * h * w:
        raise ValueError(f"in_shape={in_shape} holds {c * h * w} values but linear has in_features={linear.in_features}")
    conv = nn.Conv2d(c, linear.out_features, (h, w), bias=linear.bias is not None)
    conv = conv.to(device=linear.weight.device, dtype=linear.weight.dtype)
    conv.weight.data.copy_(linear.weight.data.view(linear.out_features, c, h, w))
    if linear.bias is not None:
        conv.bias.data.copy_(linear.bias.data)
    return conv


def convolutionalize_classifier(classifier: nn.Sequential, in_shape: tuple[int, int, int]) -> nn.Sequential:
    """Convert every ``nn.Linear`` of a classifier head; other layers (ReLU, Dropout) are copied.

    The first linear layer becomes an ``h x w`` convolution (``in_shape = (C, h, w)``), the
    later ones ``1 x 1`` convolutions.  Module indices are kept, so ``classifier.3`` stays
    ``classifier.3``.

    Parameters
    ----------
    classifier : nn.Sequential
        e.g. torchvision's ``VGG.classifier`` (in_shape (512, 7, 7)) or ``AlexNet.classifier``
        (in_shape (256, 6, 6)).
    """
    if not isinstance(classifier, nn.Sequential):
        raise TypeError(f"classifier must be an nn.Sequential, got {type(classifier).__name__}")
    layers, shape, seen_linear = [], tuple(in_shape), False
    for layer in classifier:
        if isinstance(layer, nn.Linear):
            conv = convolutionalize_linear(layer, shape)
            layers.append(conv)
            shape, seen_linear = (layer.out_features, 1, 1), True
        elif isinstance(layer, (nn.ReLU, nn.Dropout, nn.Identity)):
            layers.append(copy.deepcopy(layer))
        else:
            raise TypeError(f"classifier holds a {type(layer).__name__}; only Linear, ReLU and Dropout can be converted")
    if not seen_linear:
        raise ValueError("classifier has no nn.Linear layer to convolutionalize")
    return nn.Sequential(*layers)


def fully_convolutional(model: nn.Module, in_shape: tuple[int, int, int] | None = None) -> nn.Sequential:
    """torchvision's AlexNet or VGG as a fully convolutional net: ``features`` then the converted classifier.

    The adaptive average pooling is dropped: at the training size (224 x 224) it is the
    identity (AlexNet's features are 6 x 6, VGG's 7 x 7), so the converted net gives the same
    scores there, and on a larger image a map of scores, one per ``32``-pixel step (AlexNet,
    VGG).

    Parameters
    ----------
    model : torchvision.models.AlexNet or VGG (any weights)
    in_shape : (C, h, w), optional
        The classifier's input shape; inferred from the type when omitted.

    Returns
    -------
    nn.Sequential(features, classifier), sharing no parameters with ``model`` (copies).
    """
    from torchvision.models import VGG, AlexNet

    if in_shape is None:
        if isinstance(model, AlexNet):
            in_shape = (256, 6, 6)
        elif isinstance(model, VGG):
            in_shape = (model.classifier[0].in_features // 49, 7, 7)
        else:
            raise TypeError(f"model must be a torchvision AlexNet or VGG (or give in_shape), got {type(model).__name__}")
    return nn.Sequential(copy.deepcopy(model.features), convolutionalize_classifier(model.classifier, in_shape))
