"""Receptive field (感受野) and output stride of a stack of convolution / pooling layers.

For a chain of layers with kernel ``k_l``, stride ``s_l``, dilation ``d_l`` and
padding ``p_l`` (square, the same along both axes), the classical recursion
(Araujo et al., "Computing Receptive Fields of Convolutional Neural Networks",
Distill 2019) gives, with the *effective kernel* ``k'_l = d_l (k_l - 1) + 1``::

    jump_l  = jump_{l-1} * s_l                     (output stride, input pixels per output pixel)
    rf_l    = rf_{l-1} + (k'_l - 1) * jump_{l-1}   (receptive field side, input pixels)
    start_l = start_{l-1} + ((k'_l - 1) / 2 - p_l) * jump_{l-1}
                                                   (input coordinate of output pixel 0's centre)

starting from ``jump_0 = 1, rf_0 = 1, start_0 = 0``. One 3x3 convolution with
rate ``r`` sees ``2r + 1`` pixels: rates 6/12/18/24 give 13/25/37/49.

Besides the size, :func:`footprint` returns *which* input pixels one output
pixel sees, and how many paths lead there (the gridding pattern of stacked
dilated convolutions); :func:`gradient_footprint` measures the same thing on any
torch module by back-propagation, to check the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from course_utils._shared import check_int

__all__ = [
    "Layer",
    "LayerField",
    "effective_kernel_size",
    "conv_output_size",
    "receptive_field",
    "receptive_field_size",
    "module_receptive_field",
    "output_stride",
    "layers_from_module",
    "vgg16_layers",
    "deeplab_vgg16_layers",
    "footprint",
    "gradient_footprint",
]


@dataclass(frozen=True)
class Layer:
    """One square convolution or pooling window.

    Parameters
    ----------
    kernel : int
        Kernel side ``k`` (>= 1).
    stride : int
        Stride ``s`` (>= 1).
    dilation : int
        Dilation rate ``d`` (>= 1; 1 = an ordinary convolution).
    padding : int
        Zero padding ``p`` on each side (>= 0).
    name : str
        A label for tables (``"conv5_1"``).
    """

    kernel: int
    stride: int = 1
    dilation: int = 1
    padding: int = 0
    name: str = ""

    def __post_init__(self) -> None:
        check_int(self.kernel, "kernel", 1)
        check_int(self.stride, "stride", 1)
        check_int(self.dilation, "dilation", 1)
        check_int(self.padding, "padding", 0)

    @classmethod
    def same(cls, kernel: int, dilation: int = 1, name: str = "") -> "Layer":
        """A stride-1 layer padded to keep the size (odd ``kernel``): ``padding = dilation (kernel - 1) / 2``."""
        check_int(kernel, "kernel", 1)
        check_int(dilation, "dilation", 1)
        if kernel % 2 == 0:
            raise ValueError(f"kernel must be odd for a size-preserving layer, got {kernel}")
        return cls(kernel, 1, dilation, dilation * (kernel - 1) // 2, name)

    @property
    def effective_kernel(self) -> int:
        """``d (k - 1) + 1``: the side of the window the dilated kernel spans."""
        return effective_kernel_size(self.kernel, self.dilation)


@dataclass(frozen=True)
class LayerField:
    """The receptive field after one layer (all in input pixels).

    Attributes
    ----------
    name : str
    size : int
        Receptive field side ``rf``.
    jump : int
        Output stride: distance in input pixels between neighbouring outputs.
    start : float
        Input coordinate of the centre of output pixel 0's receptive field.
    output_size : int or None
        Output side for the ``input_size`` given to :func:`receptive_field`.
    """

    name: str
    size: int
    jump: int
    start: float
    output_size: int | None = None


def effective_kernel_size(kernel: int, dilation: int) -> int:
    """Side of the window a ``kernel``-wide kernel with rate ``dilation`` spans: ``dilation (kernel - 1) + 1``.

    A 3x3 kernel with rate ``r`` spans ``2r + 1`` pixels (rate 2: 5, rate 12: 25).
    """
    check_int(kernel, "kernel", 1)
    check_int(dilation, "dilation", 1)
    return dilation * (kernel - 1) + 1


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1, *,
                     ceil_mode: bool = False) -> int:
    """Output side of a convolution / pooling: ``floor((size + 2p - d (k - 1) - 1) / s) + 1``.

    Parameters
    ----------
    size : int
        Input side (pixels, >= 1).
    kernel, stride, padding, dilation : int
        As in ``torch.nn.Conv2d``.
    ceil_mode : bool
        Round up instead of down (``MaxPool2d(ceil_mode=True)``, Caffe's pooling);
        a last window that would start in the right padding is dropped, as in torch.

    Returns
    -------
    int
        The output side, the same as torch's.

    Raises
    ------
    ValueError
        If the padded input is smaller than the effective kernel.
    """
    check_int(size, "size", 1)
    k_eff = effective_kernel_size(kernel, dilation)
    check_int(stride, "stride", 1)
    check_int(padding, "padding", 0)
    span = size + 2 * padding - k_eff
    if span < 0:
        raise ValueError(f"size={size} with padding={padding} is smaller than the effective kernel {k_eff} "
                         f"(kernel={kernel}, dilation={dilation})")
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:  # torch: the last window must start inside the input or left pad
        out -= 1
    return out


def receptive_field(layers: Sequence[Layer], input_size: int | None = None) -> list[LayerField]:
    """The receptive field, output stride and centre offset after every layer of ``layers``.

    Parameters
    ----------
    layers : sequence of Layer
        The stack, input side first. Pointwise layers (ReLU, BN, 1x1 convs) may be
        left out; a 1x1 conv contributes nothing.
    input_size : int, optional
        If given, each :class:`LayerField` also carries the output side.

    Returns
    -------
    list of LayerField
        One entry per layer.
    """
    layers = _check_layers(layers)
    rf, jump, start = 1, 1, 0.0
    size = None if input_size is None else check_int(input_size, "input_size", 1)
    table = []
    for i, layer in enumerate(layers):
        k_eff = layer.effective_kernel
        rf += (k_eff - 1) * jump
        start += ((k_eff - 1) / 2 - layer.padding) * jump
        jump *= layer.stride
        if size is not None:
            size = conv_output_size(size, layer.kernel, layer.stride, layer.padding, layer.dilation)
        table.append(LayerField(layer.name or f"layer{i + 1}", rf, jump, start, size))
    return table


def _check_layers(layers) -> list[Layer]:
    if isinstance(layers, Layer) or not isinstance(layers, Sequence) or len(layers) == 0:
        raise ValueError(f"layers must be a non-empty sequence of Layer, got {type(layers).__name__}")
    for layer in layers:
        if not isinstance(layer, Layer):
            raise ValueError(f"layers must hold Layer objects, got a {type(layer).__name__}")
    return list(layers)


def receptive_field_size(layers: Sequence[Layer]) -> int:
    """Side of the receptive field of one output pixel of the stack (input pixels)."""
    return receptive_field(layers)[-1].size


def output_stride(layers: Sequence[Layer]) -> int:
    """Product of the strides: how much the stack downsamples (32 for VGG16, 8 for DeepLab)."""
    return math.prod(layer.stride for layer in _check_layers(layers))


def _pair(value, name: str) -> int:
    if isinstance(value, tuple):
        if len(set(value)) != 1:
            raise ValueError(f"{name}={value} is not square; only square layers are supported")
        value = value[0]
    return int(value)


_POINTWISE_MODULES = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
                      "Sigmoid", "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "BatchNorm2d",
                      "SyncBatchNorm", "InstanceNorm2d", "GroupNorm", "Dropout", "Dropout2d", "AlphaDropout",
                      "Identity", "LocalResponseNorm", "Softmax2d")
_POINTWISE_CALLS = ("relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "selu", "gelu", "silu", "sigmoid",
                    "sigmoid_", "tanh", "tanh_", "dropout", "dropout2d", "hardtanh", "contiguous", "clone")


def _chain(module) -> list[tuple[str, object]]:
    """The leaf modules of ``module`` in the order its ``forward`` calls them, if it is a chain.

    The module is traced symbolically (``torch.fx``): every step must take the previous step's
    output alone, and be a convolution, a pooling or a pointwise layer. A branch (a value used
    twice, an addition or concatenation of two paths), a layer without a receptive-field rule
    (``ConvTranspose2d``, ``Upsample``, ``Linear``, adaptive pooling) or a forward that cannot be
    traced is refused, naming the step: the receptive field would otherwise be silently wrong.
    """
    import torch
    from torch import fx, nn

    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if type(module) in (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d):  # one layer, traced as a function call otherwise
        return [("", module)]
    if type(module).__name__ in _POINTWISE_MODULES and type(module).__module__.startswith("torch.nn"):
        return []
    try:
        graph = fx.symbolic_trace(module).graph
    except Exception as err:  # data-dependent control flow and the like: we cannot follow it
        raise ValueError(f"module {type(module).__name__} cannot be followed as a chain of layers (torch.fx could not "
                         f"trace its forward: {type(err).__name__}); measure it with gradient_footprint() instead") from err
    steps, previous = [], None
    for node in graph.nodes:
        if node.op == "placeholder":
            if previous is not None:
                raise ValueError(f"module {type(module).__name__} takes several inputs: it is not a chain of layers")
            previous = node
            continue
        inputs = node.all_input_nodes
        if node.op == "output":
            if inputs != [previous]:
                raise ValueError(f"module {type(module).__name__} does not return its last layer's output: "
                                 "it is not a chain; measure it with gradient_footprint() instead")
            break
        where = node.target if node.op == "call_module" else getattr(node.target, "__name__", str(node.target))
        if inputs != [previous] or len(previous.users) != 1:
            raise ValueError(f"module {type(module).__name__} branches at {where!r} (a value used twice, or a step "
                             "combining several values, as in a residual block or ASPP): it is not a chain; measure it "
                             "with gradient_footprint() instead")
        if node.op == "call_module":
            leaf = module.get_submodule(node.target)
            known = isinstance(leaf, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)) or type(leaf).__name__ in _POINTWISE_MODULES
            if not known or type(leaf).__module__.split(".")[0] != "torch":
                raise ValueError(f"module {node.target!r} ({type(leaf).__name__}) has no receptive-field rule here "
                                 "(convolutions, poolings and pointwise layers only); measure the module with "
                                 "gradient_footprint() instead")
            if not type(leaf).__name__ in _POINTWISE_MODULES:
                steps.append((node.target, leaf))
        elif node.op in ("call_function", "call_method"):
            name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
            if name not in _POINTWISE_CALLS or (node.op == "call_function" and node.target not in (
                    getattr(torch, name, None), getattr(torch.nn.functional, name, None))):
                raise ValueError(f"module {type(module).__name__} calls {where!r}, which has no receptive-field rule "
                                 "here; measure it with gradient_footprint() instead")
        else:  # get_attr: a parameter used directly, outside a layer
            raise ValueError(f"module {type(module).__name__} uses {node.target!r} directly: it is not a chain of layers")
        previous = node
    return steps


def layers_from_module(module) -> list[Layer]:
    """The :class:`Layer` list of a *chain* module: its Conv2d / MaxPool2d / AvgPool2d in call order.

    Parameters
    ----------
    module : torch.nn.Module
        A chain such as ``DeepLabVGG16Features`` or ``torchvision.models.vgg16().features``.
        The forward is traced (``torch.fx``), so the layers come in the order they are called,
        whatever the order they were registered in. Pointwise modules are skipped.

    Raises
    ------
    ValueError
        If a layer is not square or uses string / ceil-mode padding; if the module branches
        (ResNet blocks, ASPP: measure them with :func:`gradient_footprint`), calls a layer
        without a receptive-field rule (``ConvTranspose2d``, ``Upsample``, ...), or cannot be traced.
    TypeError
        If ``module`` is not a ``torch.nn.Module``.
    """
    from torch import nn

    layers = []
    for name, m in _chain(module):
        if isinstance(m, nn.Conv2d):
            if isinstance(m.padding, str):
                raise ValueError(f"module {name!r}: padding={m.padding!r} is not supported, give integers")
            layers.append(Layer(_pair(m.kernel_size, "kernel_size"), _pair(m.stride, "stride"),
                                _pair(m.dilation, "dilation"), _pair(m.padding, "padding"), name))
        else:
            if getattr(m, "ceil_mode", False):
                raise ValueError(f"module {name!r}: ceil_mode pooling is not supported")
            dilation = getattr(m, "dilation", 1)
            stride = m.stride if m.stride is not None else m.kernel_size
            layers.append(Layer(_pair(m.kernel_size, "kernel_size"), _pair(stride, "stride"),
                                _pair(dilation, "dilation"), _pair(m.padding, "padding"), name))
    if not layers:
        raise ValueError("module has no Conv2d / MaxPool2d / AvgPool2d layers")
    return layers


def vgg16_layers(fcn: bool = True) -> list[Layer]:
    """VGG16's layers: 13 3x3 convolutions, five 2x2 stride-2 pools, and (``fcn``) fc6 as a 7x7 conv.

    ``fcn=True`` gives FCN-VGG16 (Long et al., CVPR 2015): conv1_1 padded by 100,
    fc6 a 7x7 convolution, fc7 1x1. Its receptive field is 404 pixels and its
    output stride 32 (the FCN paper's table). ``fcn=False`` stops at pool5
    (receptive field 212).
    """
    layers = []
    for stage, n_conv in enumerate((2, 2, 3, 3, 3), start=1):
        for i in range(1, n_conv + 1):
            pad = 100 if (fcn and stage == 1 and i == 1) else 1
            layers.append(Layer(3, 1, 1, pad, f"conv{stage}_{i}"))
        layers.append(Layer(2, 2, 1, 0, f"pool{stage}"))
    if fcn:
        layers += [Layer(7, 1, 1, 0, "fc6"), Layer(1, 1, 1, 0, "fc7")]
    return layers


def deeplab_vgg16_layers(rate: int = 12) -> list[Layer]:
    """DeepLab's VGG16 with the hole algorithm (as :class:`course_utils.nets.deeplab.DeepLabVGG16Features`).

    3x3 pools with padding 1: pool1-3 stride 2, pool4-5 stride 1; conv5 dilation 2;
    fc6 3x3 with dilation ``rate`` (12: LargeFOV); fc7 1x1. Output stride 8.
    """
    check_int(rate, "rate", 1)
    layers = []
    for stage, n_conv in enumerate((2, 2, 3, 3, 3), start=1):
        d = 2 if stage == 5 else 1
        layers += [Layer(3, 1, d, d, f"conv{stage}_{i}") for i in range(1, n_conv + 1)]
        layers.append(Layer(3, 2 if stage <= 3 else 1, 1, 1, f"pool{stage}"))
    layers += [Layer(3, 1, rate, rate, "fc6"), Layer(1, 1, 1, 0, "fc7")]
    return layers


def footprint(layers: Sequence[Layer]) -> np.ndarray:
    """Which input pixels one output pixel sees, and by how many paths.

    For linear layers with all-ones kernels, the output pixel is a weighted sum
    of the input pixels; the weight of each input pixel counts the paths through
    the stack that reach it. A zero means the pixel is *not* seen, even inside
    the receptive field's square: the gridding (棋盘/网格) artifact of stacked
    dilated convolutions.

    Parameters
    ----------
    layers : sequence of Layer
        Only stride-1 layers here (the pattern of a strided stack depends on the
        output pixel's position; use :func:`gradient_footprint`).

    Returns
    -------
    numpy.ndarray
        ``(rf, rf)`` int64 path counts, ``rf`` = :func:`receptive_field_size`;
        the output pixel sits at the centre (odd kernels).
    """
    layers = _check_layers(layers)
    if any(layer.stride != 1 for layer in layers):
        raise ValueError("layers must all have stride 1 for footprint(); use gradient_footprint() for strided stacks")
    pattern = np.ones(1, dtype=np.int64)
    for layer in layers:
        taps = np.zeros(layer.effective_kernel, dtype=np.int64)
        taps[:: layer.dilation] = 1
        pattern = np.convolve(pattern, taps)  # 1-D; square kernels are separable
    return np.outer(pattern, pattern)


def gradient_footprint(net, input_size: int | tuple[int, int], *, in_channels: int = 3,
                       position: tuple[int, int] | None = None) -> np.ndarray:
    """Measure which input pixels influence one output pixel of ``net``, by back-propagation.

    Parameters
    ----------
    net : torch.nn.Module
        Maps ``(1, in_channels, H, W)`` to ``(1, C, h, w)``. Put it in ``eval()``
        mode. Random weights, ReLUs and max pooling can hide a few pixels;
        for an exact count use ones kernels and average pooling.
    input_size : int or (int, int)
        ``H, W`` of the probe input (make it larger than the receptive field to avoid borders).
    in_channels : int
        Channels of the probe input.
    position : (int, int), optional
        The output pixel; the centre of the output by default.

    Returns
    -------
    numpy.ndarray
        ``(H, W)`` float64 absolute gradient of that output pixel (summed over
        channels) with respect to the input (summed over channels); nonzero =
        seen.
    """
    import torch

    h, w = (input_size, input_size) if not isinstance(input_size, tuple) else input_size
    check_int(h, "input_size", 1)
    check_int(w, "input_size", 1)
    param = next(net.parameters(), None)
    dtype = param.dtype if param is not None else torch.float64
    device = param.device if param is not None else torch.device("cpu")
    x = torch.rand(1, in_channels, h, w, generator=torch.Generator().manual_seed(0), dtype=dtype).to(device)
    x.requires_grad_(True)
    out = net(x)
    if out.ndim != 4:
        raise ValueError(f"net must return (N, C, h, w), got shape {tuple(out.shape)}")
    i, j = position if position is not None else (out.shape[2] // 2, out.shape[3] // 2)
    if not (0 <= i < out.shape[2] and 0 <= j < out.shape[3]):
        raise ValueError(f"position={(i, j)} is outside the output of shape {tuple(out.shape[2:])}")
    out[0, :, i, j].sum().backward()
    return x.grad[0].abs().sum(0).detach().cpu().double().numpy()


def module_receptive_field(*modules) -> tuple[int, int]:
    """Receptive field (pixels) and stride of one output unit of ``modules`` applied in order.

    Convolutions and poolings grow the field by ``(k - 1) * jump`` (dilation included) and multiply
    the jump by their stride; pointwise layers change nothing.  Padding does not change the size.

    Unlike :func:`layers_from_module`, this accepts Caffe's ceil-mode pooling (the FCN
    backbones) and nested ``nn.Sequential`` blocks; only the size and the stride are returned.

    Returns
    -------
    (size, stride)
        e.g. ``(404, 32)`` for VGG16's fc7 and ``(355, 32)`` for AlexNet's (the FCN paper's table 1).
    """
    from torch import nn  # torch only when a module is measured: the layer formulas stay numpy-only

    if not modules:
        raise ValueError("modules must hold at least one torch.nn.Module")
    size, jump = 1, 1
    for module in modules:
        for _, layer in _chain(module):
            if isinstance(layer, nn.Conv2d) and isinstance(layer.padding, str) and layer.padding != "same" \
                    and layer.padding != "valid":  # pragma: no cover - torch allows only these two
                raise ValueError(f"padding={layer.padding!r} is not supported")
            k, st = _pair(layer.kernel_size, "kernel_size"), _pair(layer.stride, "stride")
            d = _pair(getattr(layer, "dilation", 1), "dilation")
            size += d * (k - 1) * jump
            jump *= st
    return size, jump
