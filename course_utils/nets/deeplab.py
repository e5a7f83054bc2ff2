"""DeepLab v2 networks: dilated VGG16 (LargeFOV, ASPP-L) and dilated ResNet with ASPP.

The networks of Chen et al., "DeepLab: Semantic Image Segmentation with Deep
Convolutional Nets, Atrous Convolution, and Fully Connected CRFs" (TPAMI 2018,
arXiv:1606.00915), and of DeepLab-v1 (Chen et al., ICLR 2015, arXiv:1412.7062),
built from small named blocks in the style of torchvision's ``deeplabv3.py``:

* :class:`DeepLabVGG16Features`: VGG16's 13 convolutions with the *hole
  algorithm*: pool4 and pool5 keep stride 1 (3x3 max pooling, stride 1, pad 1),
  conv5 is dilated by 2, so the features have output stride 8 instead of 32;
* :class:`LargeFOVHead`: fc6 (3x3, dilation ``rate``) -> fc7 (1x1) -> fc8 (1x1,
  classes), depths 1024 -> 1024 -> classes; rate 12 is *DeepLab-LargeFOV*
  (v1 used a rate of 4 on a subsampled 4x4 fc6; here fc6 is always 3x3);
* :class:`ASPP`: parallel branches with different rates whose class scores
  are **summed**; for VGG16 each branch is a :class:`LargeFOVHead` (ASPP-L,
  rates 6/12/18/24), for ResNet each branch is one 3x3 dilated convolution to
  the classes, as in the paper's ResNet-101 model;
* :class:`DilatedResNet`: torchvision's ResNet (``replace_stride_with_dilation
  = [False, True, True]``, output stride 8) with an optional channel ``width``
  factor and BasicBlock depths (18/34) for quick experiments;
* :class:`DeepLabV2`: the one shared forward: backbone -> head -> bilinear
  upsampling to the input size (torchvision's ``_SimpleSegmentationModel``).

``net(x)`` returns logits ``(N, num_classes, H, W)`` at the input size;
``net.forward_coarse(x)`` returns the stride-8 logits ``(N, num_classes,
ceil(H/8), ceil(W/8))`` that DeepLab feeds (bilinearly upsampled) to its CRF.

Pre-trained weights: no download happens unless ``pretrained_backbone=True``
is passed; then torchvision's ImageNet weights are loaded from its cache or
downloaded. Offline (the course's normal setting) the download fails, a
``UserWarning`` says so, and the backbone keeps its random initialisation;
``net.backbone_pretrained`` tells which happened.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet, conv1x1

from course_utils._shared import check_choice, check_int, check_number, check_sequence, check_width
from course_utils.nets.blocks import scaled_channels

__all__ = [
    "VGG16_STAGES",
    "DeepLabV2",
    "DeepLabVGG16Features",
    "LargeFOVHead",
    "ASPP",
    "DilatedBasicBlock",
    "DilatedResNet",
    "deeplab_vgg16_largefov",
    "deeplab_vgg16_aspp",
    "deeplab_resnet_aspp",
    "capacity_matched_hidden_channels",
]

#: VGG16's five stages: (number of 3x3 convolutions, output channels at width 1).
VGG16_STAGES: tuple[tuple[int, int], ...] = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))

# The most parameters a DeepLab here has at width 1 (ResNet-152 + ASPP, about 60 M): widths are
# checked against the memory they would take before anything is built (they grow as width**2).
_PARAMS_AT_WIDTH_1 = 60e6


def _check_rates(rates) -> tuple[int, ...]:
    return check_sequence(rates, "rates", lambda r, name: check_int(r, name, 1), what="positive ints")


def _check_dropout(dropout) -> float:
    return check_number(dropout, "dropout", 0, 1, open_max=True)


def _init_classifier(conv: nn.Conv2d) -> None:
    """DeepLab's initialisation of the score layer (fc8): N(0, 0.01) weights, zero bias."""
    nn.init.normal_(conv.weight, mean=0.0, std=0.01)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class DeepLabV2(nn.Module):
    """Backbone + head + bilinear upsampling to the input size (one shared forward).

    Parameters
    ----------
    backbone : nn.Module
        Maps ``(N, 3, H, W)`` to features ``(N, C, ceil(H/8), ceil(W/8))``; a
        tensor or a dict with key ``"out"`` (an ``IntermediateLayerGetter``).
    classifier : nn.Module
        Maps the features to class scores ``(N, num_classes, h, w)``.
    num_classes : int
        Number of output channels of ``classifier``.
    output_stride : int
        The backbone's total downsampling (8 for every DeepLab v2 network).
    """

    def __init__(self, backbone: nn.Module, classifier: nn.Module, num_classes: int, output_stride: int = 8) -> None:
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.num_classes = check_int(num_classes, "num_classes", 1)
        self.output_stride = check_int(output_stride, "output_stride", 1)
        self.backbone_pretrained = False

    @staticmethod
    def _check_input(x) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a float tensor of shape (N, 3, H, W), got {shape}")
        if not x.is_floating_point():
            raise ValueError(f"x must be a float tensor (normalised image), got dtype {x.dtype}")

    def forward_coarse(self, x: torch.Tensor) -> torch.Tensor:
        """Stride-8 logits ``(N, num_classes, ceil(H/8), ceil(W/8))`` (what DeepLab's CRF upsamples).

        Parameters
        ----------
        x : torch.Tensor
            ``(N, 3, H, W)`` float images (normalised).
        """
        self._check_input(x)
        features = self.backbone(x)
        if isinstance(features, dict):
            features = features["out"]
        return self.classifier(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, H, W)``: the coarse logits bilinearly upsampled to the input size."""
        coarse = self.forward_coarse(x)
        return F.interpolate(coarse, size=x.shape[-2:], mode="bilinear", align_corners=False)


class DeepLabVGG16Features(nn.Sequential):
    """VGG16's convolutions with the hole algorithm: output stride 8, conv5 dilated by 2.

    Layers are named as in Caffe (``conv1_1`` ... ``conv5_3``, ``pool1`` ...
    ``pool5``). All pools are 3x3 max pools with padding 1 (as in DeepLab's
    prototxt): pool1-pool3 have stride 2 (``ceil(H/2)`` each), pool4 and pool5
    stride 1. conv5_x have dilation 2 ("hole 2") and padding 2, so every
    convolution keeps the spatial size.

    Parameters
    ----------
    width : float
        Channel factor (1.0: 64-128-256-512-512).
    batch_norm : bool
        Insert a BatchNorm2d after each convolution (not in the paper; helps
        training a narrow network from scratch).

    Attributes
    ----------
    out_channels : int
        Channels of the output features (512 x width).
    """

    def __init__(self, width: float = 1.0, batch_norm: bool = False) -> None:
        width = check_width(width, params_at_width_1=_PARAMS_AT_WIDTH_1)
        layers: dict[str, nn.Module] = {}
        in_ch = 3
        for stage, (n_conv, channels) in enumerate(VGG16_STAGES, start=1):
            out_ch = scaled_channels(channels, width)
            dilation = 2 if stage == 5 else 1
            for i in range(1, n_conv + 1):
                layers[f"conv{stage}_{i}"] = nn.Conv2d(in_ch, out_ch, 3, padding=dilation, dilation=dilation)
                if batch_norm:
                    layers[f"bn{stage}_{i}"] = nn.BatchNorm2d(out_ch)
                layers[f"relu{stage}_{i}"] = nn.ReLU(inplace=True)
                in_ch = out_ch
            layers[f"pool{stage}"] = nn.MaxPool2d(3, stride=2 if stage <= 3 else 1, padding=1)
        super().__init__(_ordered(layers))
        self.out_channels = in_ch
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)


def _ordered(layers: dict[str, nn.Module]):
    from collections import OrderedDict

    return OrderedDict(layers)


class LargeFOVHead(nn.Sequential):
    """DeepLab's fc6 -> fc7 -> fc8 head: 3x3 dilated conv, 1x1 conv, 1x1 scoring conv.

    Parameters
    ----------
    in_channels : int
        Channels of the backbone features.
    num_classes : int
        Output channels (class scores).
    hidden_channels : int
        Depth of fc6 and fc7 (1024 in DeepLab-LargeFOV and ASPP-L).
    rate : int
        Dilation of fc6 (12: LargeFOV, receptive field of fc6 alone 25 x 25
        feature pixels; 4: DeepLab-v1's hole 4).
    dropout : float
        Dropout probability after fc6 and fc7 (0.5 in the paper).
    """

    def __init__(self, in_channels: int, num_classes: int, hidden_channels: int = 1024, rate: int = 12,
                 dropout: float = 0.5) -> None:
        check_int(in_channels, "in_channels", 1)
        check_int(num_classes, "num_classes", 1)
        check_int(hidden_channels, "hidden_channels", 1)
        check_int(rate, "rate", 1)
        dropout = _check_dropout(dropout)
        super().__init__(_ordered({
            "fc6": nn.Conv2d(in_channels, hidden_channels, 3, padding=rate, dilation=rate),
            "relu6": nn.ReLU(inplace=True),
            "drop6": nn.Dropout2d(dropout),
            "fc7": nn.Conv2d(hidden_channels, hidden_channels, 1),
            "relu7": nn.ReLU(inplace=True),
            "drop7": nn.Dropout2d(dropout),
            "fc8": nn.Conv2d(hidden_channels, num_classes, 1),
        }))
        self.rate = rate
        for name in ("fc6", "fc7"):
            conv = getattr(self, name)
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        _init_classifier(self.fc8)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling (空洞空间金字塔池化), DeepLab v2 style: branch scores are summed.

    Parameters
    ----------
    in_channels : int
        Channels of the backbone features.
    num_classes : int
        Output channels of every branch.
    rates : sequence of int
        One branch per rate (6, 12, 18, 24 in the paper; receptive fields of
        the 3x3 branch convolutions 13, 25, 37, 49).
    hidden_channels : int or None
        If given, each branch is a :class:`LargeFOVHead` (fc6 3x3 rate r ->
        fc7 1x1 -> fc8 1x1, depths ``hidden_channels`` -> ``hidden_channels``
        -> classes: the VGG16 ASPP-L). If None, each branch is one 3x3 dilated
        convolution straight to the classes (the paper's ResNet-101 ASPP).
    dropout : float
        Dropout inside LargeFOV branches (ignored when ``hidden_channels`` is None).

    Notes
    -----
    ``forward(x)`` returns ``sum_r branch_r(x)``, shape ``(N, num_classes, h, w)``.
    """

    def __init__(self, in_channels: int, num_classes: int, rates: Sequence[int] = (6, 12, 18, 24),
                 hidden_channels: int | None = 1024, dropout: float = 0.5) -> None:
        super().__init__()
        check_int(in_channels, "in_channels", 1)
        check_int(num_classes, "num_classes", 1)
        self.rates = _check_rates(rates)
        branches = []
        for r in self.rates:
            if hidden_channels is None:
                conv = nn.Conv2d(in_channels, num_classes, 3, padding=r, dilation=r)
                _init_classifier(conv)
                branches.append(conv)
            else:
                branches.append(LargeFOVHead(in_channels, num_classes, hidden_channels, rate=r, dropout=dropout))
        self.branches = nn.ModuleList(branches)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branches[0](x)
        for branch in self.branches[1:]:
            out = out + branch(x)
        return out


class DilatedBasicBlock(BasicBlock):
    """torchvision's ResNet BasicBlock whose two 3x3 convolutions accept a dilation.

    torchvision's ``BasicBlock`` refuses ``dilation > 1``; ResNet-18/34 with
    ``replace_stride_with_dilation`` need it. Parameter names and shapes are
    those of ``BasicBlock`` (ImageNet weights load unchanged).
    """

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None,
                 groups: int = 1, base_width: int = 64, dilation: int = 1, norm_layer=None) -> None:
        super().__init__(inplanes, planes, stride, downsample, groups, base_width, 1, norm_layer)
        if dilation > 1:
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=dilation, dilation=dilation,
                                   bias=False)
            self.conv2 = nn.Conv2d(planes, planes, 3, padding=dilation, dilation=dilation, bias=False)

    def set_conv2_dilation(self, dilation: int) -> None:
        """Give conv2 another dilation (padding = dilation keeps the size; weights kept)."""
        self.conv2.dilation = (dilation, dilation)
        self.conv2.padding = (dilation, dilation)


_RESNET_LAYERS = {
    18: (DilatedBasicBlock, (2, 2, 2, 2)),
    34: (DilatedBasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class DilatedResNet(ResNet):
    """torchvision's ResNet with a channel ``width`` factor; dilation replaces the last strides.

    Built with torchvision's own ``_make_layer`` and blocks, so at ``width=1``
    the parameters have the names and shapes of ``torchvision.models.resnet<depth>``.

    Parameters
    ----------
    depth : int
        18, 34 (BasicBlock, dilated by :class:`DilatedBasicBlock`), 50, 101, 152 (Bottleneck).
    width : float
        Channel factor (1.0: stem 64, stages 64-128-256-512 planes).
    replace_stride_with_dilation : sequence of 3 bool
        As in torchvision; ``[False, True, True]`` gives output stride 8.
    """

    def __init__(self, depth: int = 101, width: float = 1.0,
                 replace_stride_with_dilation: Sequence[bool] = (False, True, True)) -> None:
        nn.Module.__init__(self)
        depth = check_choice(depth, "depth", sorted(_RESNET_LAYERS))
        width = check_width(width, params_at_width_1=_PARAMS_AT_WIDTH_1)
        flags = check_sequence(replace_stride_with_dilation, "replace_stride_with_dilation",
                               lambda v, name: check_choice(v, name, (False, True)), min_length=3, what="3 bools")
        if len(flags) != 3:
            raise ValueError(f"replace_stride_with_dilation must hold 3 bools, got {replace_stride_with_dilation!r}")
        block, layers = _RESNET_LAYERS[depth]
        self.depth = depth
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = scaled_channels(64, width)
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        planes = [scaled_channels(p, width) for p in (64, 128, 256, 512)]
        self.layer1 = self._make_layer(block, planes[0], layers[0])
        for i, dilate in enumerate(replace_stride_with_dilation, start=2):
            setattr(self, f"layer{i}", self._make_layer(block, planes[i - 1], layers[i - 1], stride=2, dilate=bool(dilate)))
            if dilate and block is DilatedBasicBlock:
                # the hole algorithm: the first block's conv1 replaces the stride-2 conv (old dilation),
                # its conv2 already works on the "downsampled" grid, so it takes the new dilation
                getattr(self, f"layer{i}")[0].set_conv2_dilation(self.dilation)
        self.out_channels = planes[3] * block.expansion
        self.output_stride = 32 // 2 ** sum(bool(r) for r in replace_stride_with_dilation)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # no avgpool / fc: features (N, C, H/8, W/8)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def _download_state_dict(weights) -> dict:
    """torchvision's ImageNet weights (from the torch hub cache or the internet)."""
    return weights.get_state_dict(progress=False)


def _try_load(module: nn.Module, weights_name: str, rename=None) -> bool:
    """Load torchvision weights ``weights_name`` (e.g. ``"ResNet101_Weights"``) into ``module``; warn on failure."""
    import torchvision.models as tvm

    weights = getattr(tvm, weights_name).DEFAULT
    try:
        state = _download_state_dict(weights)
    except Exception as err:  # offline: URLError / OSError / RuntimeError from torch.hub
        warnings.warn(
            f"pretrained_backbone=True: torchvision's {weights} could not be loaded ({type(err).__name__}: {err}); "
            "this machine is offline and the weights are not in the torch hub cache, so the backbone keeps its "
            "RANDOM initialisation.", UserWarning, stacklevel=3)
        return False
    if rename is not None:
        state = rename(state)
    missing, unexpected = module.load_state_dict(state, strict=False)
    unexpected = [k for k in unexpected if not k.startswith(("fc.", "classifier."))]
    if missing or unexpected:
        raise RuntimeError(f"{weights} does not match the backbone: missing {missing}, unexpected {unexpected}")
    return True


def _vgg_rename(features: DeepLabVGG16Features):
    names = [n for n, m in features.named_children() if isinstance(m, nn.Conv2d)]

    def rename(state: dict) -> dict:
        idx = sorted({int(k.split(".")[1]) for k in state if k.startswith("features.")})
        if len(idx) != len(names):
            raise RuntimeError(f"expected {len(names)} VGG16 convolutions in the weights, found {len(idx)}")
        return {f"{name}.{p}": state[f"features.{i}.{p}"] for name, i in zip(names, idx) for p in ("weight", "bias")}

    return rename


def _check_pretrained(pretrained_backbone, width: float, batch_norm: bool = False) -> bool:
    if not isinstance(pretrained_backbone, bool):
        raise ValueError(f"pretrained_backbone must be a bool, got {pretrained_backbone!r}")
    if pretrained_backbone and width != 1.0:
        raise ValueError(f"pretrained_backbone=True needs width=1.0 (the ImageNet channel counts), got width={width}")
    if pretrained_backbone and batch_norm:
        raise ValueError("pretrained_backbone=True needs batch_norm=False (VGG16's ImageNet weights have no BN)")
    return pretrained_backbone


def _vgg_net(classifier_fn, num_classes: int, width: float, batch_norm: bool, pretrained_backbone: bool,
             hidden_channels: int | None = None) -> DeepLabV2:
    check_int(num_classes, "num_classes", 1)
    width = check_width(width, params_at_width_1=_PARAMS_AT_WIDTH_1)
    if hidden_channels is None:
        hidden_channels = scaled_channels(1024, width)
    check_int(hidden_channels, "hidden_channels", 1)
    pretrained = _check_pretrained(pretrained_backbone, width, batch_norm)
    features = DeepLabVGG16Features(width, batch_norm=batch_norm)
    net = DeepLabV2(features, classifier_fn(features.out_channels, hidden_channels), num_classes)
    if pretrained:
        net.backbone_pretrained = _try_load(features, "VGG16_Weights", rename=_vgg_rename(features))
    return net


def deeplab_vgg16_largefov(num_classes: int, width: float = 1.0, rate: int = 12, *, dropout: float = 0.5,
                           batch_norm: bool = False, pretrained_backbone: bool = False,
                           hidden_channels: int | None = None) -> DeepLabV2:
    """DeepLab-LargeFOV: dilated VGG16 (output stride 8) + fc6 (3x3, rate) -> fc7 -> fc8.

    Parameters
    ----------
    num_classes : int
        Number of classes (21 for PASCAL VOC, 19 for Cityscapes).
    width : float
        Channel factor (1.0: VGG16's 64..512 channels and fc6/fc7 depth 1024).
    rate : int
        fc6 dilation: 12 = LargeFOV; 4 = DeepLab-v1's hole 4 (with a 3x3 kernel here).
    dropout : float
        Dropout after fc6 and fc7.
    batch_norm : bool
        BatchNorm after each backbone convolution (not in the paper).
    pretrained_backbone : bool
        Load torchvision's ImageNet VGG16 convolutions (needs ``width=1``); offline
        this warns and keeps the random initialisation.
    hidden_channels : int, optional
        Depth of fc6 and fc7 (default ``1024 * width``). A wider head is the capacity control of
        ASPP: :func:`capacity_matched_hidden_channels` gives the depth at which LargeFOV has as many
        parameters as the four-branch ASPP-L.

    Returns
    -------
    DeepLabV2
        ``net(x)``: ``(N, 3, H, W)`` -> logits ``(N, num_classes, H, W)``;
        ``net.forward_coarse(x)``: logits ``(N, num_classes, ceil(H/8), ceil(W/8))``.
    """
    check_int(rate, "rate", 1)
    return _vgg_net(lambda c, h: LargeFOVHead(c, num_classes, h, rate=rate, dropout=dropout),
                    num_classes, width, batch_norm, pretrained_backbone, hidden_channels)


def capacity_matched_hidden_channels(num_classes: int, width: float, rates: Sequence[int] = (6, 12, 18, 24), *,
                                     batch_norm: bool = True) -> int:
    """The fc6/fc7 depth at which one LargeFOV head has the parameters of ASPP-L's ``len(rates)`` heads.

    The head of depth ``h`` on ``c`` feature channels has ``h**2 + h * (9 c + num_classes + 3)
    + num_classes`` parameters (fc6 3x3, fc7 1x1, fc8 1x1, with biases); the returned ``h`` is the
    integer nearest to the root of that quadratic set equal to ASPP-L's head parameters, so that
    ``deeplab_vgg16_largefov(..., hidden_channels=h)`` and ``deeplab_vgg16_aspp(...)`` differ in
    parameter count by well under 1 %.
    """
    rates = _check_rates(rates)
    check_int(num_classes, "num_classes", 1)
    width = check_width(width, params_at_width_1=_PARAMS_AT_WIDTH_1)
    c = DeepLabVGG16Features(width, batch_norm=batch_norm).out_channels
    h0 = scaled_channels(1024, width)

    def head(h: int) -> int:
        return h * h + h * (9 * c + num_classes + 3) + num_classes

    target = len(rates) * head(h0)
    b = 9 * c + num_classes + 3
    root = (-b + (b * b + 4 * (target - num_classes)) ** 0.5) / 2
    return min((int(root), int(root) + 1), key=lambda h: abs(head(h) - target))


def deeplab_vgg16_aspp(num_classes: int, width: float = 1.0, rates: Sequence[int] = (6, 12, 18, 24), *,
                       dropout: float = 0.5, batch_norm: bool = False,
                       pretrained_backbone: bool = False) -> DeepLabV2:
    """DeepLab-ASPP-L (VGG16): four branches fc6 (3x3, rate r) -> fc7 -> fc8, class scores summed.

    Parameters and returns as :func:`deeplab_vgg16_largefov`, with ``rates``
    (one branch per rate; the paper's ASPP-L uses 6, 12, 18, 24).
    """
    rates = _check_rates(rates)
    return _vgg_net(lambda c, h: ASPP(c, num_classes, rates, hidden_channels=h, dropout=dropout),
                    num_classes, width, batch_norm, pretrained_backbone)


def deeplab_resnet_aspp(num_classes: int, width: float = 1.0, rates: Sequence[int] = (6, 12, 18, 24),
                       pretrained_backbone: bool = False, *, depth: int = 101) -> DeepLabV2:
    """DeepLab v2 on a dilated ResNet of ``depth`` layers (the paper's ResNet-101 by default): output
    stride 8, then ASPP of four 3x3 dilated convolutions whose class scores are summed.

    Parameters
    ----------
    num_classes : int
        Number of classes.
    width : float
        Channel factor of the ResNet (1.0: torchvision's; layer4 gives 2048 channels).
    rates : sequence of int
        ASPP rates (6, 12, 18, 24 in the paper).
    pretrained_backbone : bool
        Load torchvision's ImageNet ResNet weights (needs ``width=1``); offline
        this warns and keeps the random initialisation.
    depth : int
        101 by default (the paper's). For quick experiments 18, 34 (BasicBlocks,
        dilated by :class:`DilatedBasicBlock`), 50 or 152: the same network with
        fewer or more residual blocks.

    Returns
    -------
    DeepLabV2
        ``net.backbone`` is an ``IntermediateLayerGetter`` over a
        :class:`DilatedResNet`; ``net(x)`` and ``net.forward_coarse(x)`` as in
        :func:`deeplab_vgg16_largefov`.
    """
    check_int(num_classes, "num_classes", 1)
    width = check_width(width, params_at_width_1=_PARAMS_AT_WIDTH_1)
    rates = _check_rates(rates)
    pretrained = _check_pretrained(pretrained_backbone, width)
    resnet = DilatedResNet(depth, width, replace_stride_with_dilation=(False, True, True))
    loaded = _try_load(resnet, f"ResNet{depth}_Weights") if pretrained else False
    backbone = IntermediateLayerGetter(resnet, return_layers={"layer4": "out"})
    net = DeepLabV2(backbone, ASPP(resnet.out_channels, num_classes, rates, hidden_channels=None), num_classes)
    net.backbone_pretrained = loaded
    return net
