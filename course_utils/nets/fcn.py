"""FCN-32s, FCN-16s and FCN-8s (全卷积网络) on VGG16 and AlexNet, as the FCN paper builds them.

Long, Shelhamer & Darrell, *Fully Convolutional Networks for Semantic
Segmentation*, CVPR 2015 (and the reference Caffe nets, ``voc-fcn{32,16,8}s``
and ``voc-fcn-alexnet``):

* **convolutionalization (卷积化)**: the classifier's ``fc6``/``fc7`` become a
  ``7x7`` (VGG) or ``6x6`` (AlexNet) convolution and a ``1x1`` convolution
  (same indices as torchvision's classifiers, so their weights load with
  :meth:`FCN.load_classifier_weights`);
* ``conv1`` is padded by **100 pixels** so that the ``fc6`` window fits any
  input, and pooling rounds up (Caffe's ``ceil`` mode); the outputs are then
  **cropped** back into register with offsets computed by Caffe's coordinate
  mapping (:func:`coord_map`, ``caffe/python/caffe/coord_map.py``), never
  hard-coded;
* **scoring layers** (``score_fr``, ``score_pool4``, ``score_pool3``) start at
  zero; the **deconvolutions (反卷积)** start as bilinear interpolation and the
  last one stays fixed;
* **skip layers (跳层结构)**: FCN-16s adds the stride-16 scores (``pool4``),
  FCN-8s also the stride-8 ones (``pool3``).  AlexNet has no ``pool3``/``pool4``:
  the maps with strides 8 and 16 are its ``pool1`` and ``pool2`` outputs.

Layer layouts follow torchvision's ``vgg16`` / ``vgg16_bn`` / ``alexnet``
(``features.N`` indices kept); ``width`` scales every channel count for quick
runs on a CPU.  For a 500x500 input the score maps are 16x16 (``score_fr``),
34x34 (``upscore2``) and 70x70 (``upscore_pool4``), on both backbones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import torch
from torch import nn

from course_utils._shared import check_int, check_width
from course_utils.nets.blocks import scaled_channels
from course_utils.nets.convolutionalize import convolutionalize_classifier
from course_utils.ops.bilinear import BilinearDeconv

__all__ = [
    "CoordMap",
    "coord_map",
    "crop_offset",
    "VGG16_CFG",
    "VGG16Backbone",
    "AlexNetBackbone",
    "FCN",
    "fcn_vgg16",
    "fcn_alexnet",
    "fcn_shapes",
    "load_matching_weights",
    "freeze_backbone",
    "VARIANTS",
]

VARIANTS = ("32s", "16s", "8s")
VGG16_CFG: list = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

# VGG16's parameters at width 1 (fc6 and fc7 included, about 134 M): widths are checked against the
# memory they would take before anything is built (they grow as width**2).
_PARAMS_AT_WIDTH_1 = 134e6


# ---------------------------------------------------------------------------------------------
# Caffe's coordinate mapping
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoordMap:
    """An affine map of pixel coordinates, ``out = scale * in + offset`` (exact fractions).

    A convolution or pooling layer with kernel ``k``, stride ``s`` and padding ``p`` maps an
    input coordinate to ``in / s + (p - (k - 1) / 2) / s``; a deconvolution maps it to
    ``s * in + (k - 1) / 2 - p``; pointwise layers are the identity (Caffe's ``coord_map``).
    """

    scale: Fraction = Fraction(1)
    offset: Fraction = Fraction(0)

    def then(self, other: "CoordMap") -> "CoordMap":
        """The map of ``self`` followed by ``other``."""
        return CoordMap(other.scale * self.scale, other.scale * self.offset + other.offset)

    def __str__(self) -> str:
        return f"x -> {self.scale} x + {self.offset}"


def _pair0(v) -> int:
    v = v if isinstance(v, (tuple, list)) else (v, v)
    if v[0] != v[1]:
        raise ValueError(f"coord_map handles square kernels/strides/paddings only, got {v}")
    return int(v[0])


def coord_map(module: nn.Module) -> CoordMap:
    """The coordinate map of a layer, or of an ``nn.Sequential`` (composed in order).

    Supports Conv2d, MaxPool2d, AvgPool2d, ConvTranspose2d (with dilation 1 for deconvolutions)
    and pointwise layers (ReLU, BatchNorm2d, Dropout, Identity).

    Raises
    ------
    TypeError
        For a layer whose coordinate map is not defined here.
    """
    if isinstance(module, nn.Sequential):
        out = CoordMap()
        for layer in module:
            out = out.then(coord_map(layer))
        return out
    if isinstance(module, nn.ConvTranspose2d):
        k, s, p = _pair0(module.kernel_size), _pair0(module.stride), _pair0(module.padding)
        return CoordMap(Fraction(s), Fraction(k - 1, 2) - p)
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        k, s, p = _pair0(module.kernel_size), _pair0(module.stride), _pair0(module.padding)
        d = _pair0(getattr(module, "dilation", 1))
        span = d * (k - 1) + 1
        return CoordMap(Fraction(1, s), (p - Fraction(span - 1, 2)) / s)
    if isinstance(module, (nn.ReLU, nn.BatchNorm2d, nn.Dropout, nn.Dropout2d, nn.Identity)):
        return CoordMap()
    raise TypeError(f"no coordinate map for {type(module).__name__}")


def crop_offset(big: CoordMap, reference: CoordMap) -> tuple[int, Fraction]:
    """Where to crop a map so that it lines up with ``reference`` (Caffe's ``crop`` helper).

    Both maps go from the input image to a feature map; pixel ``u`` of the reference sees the
    same image point as pixel ``u + offset`` of ``big``.

    Returns
    -------
    (offset, residual)
        ``offset`` rounded to an int (Caffe requires it to be whole; it is for VGG16) and the
        misalignment ``exact - offset`` in pixels of that map (non-zero only for AlexNet's skips).

    Raises
    ------
    ValueError
        If the maps have different scales (the maps are not at the same stride).
    """
    if big.scale != reference.scale:
        raise ValueError(f"cannot crop a map of scale {big.scale} to one of scale {reference.scale}")
    exact = big.offset - reference.offset
    offset = math.floor(exact + Fraction(1, 2))
    return offset, exact - offset


def _crop(x: torch.Tensor, offset: int, size: tuple[int, int], name: str) -> torch.Tensor:
    h, w = size
    if offset < 0 or offset + h > x.shape[-2] or offset + w > x.shape[-1]:
        raise ValueError(f"{name}: cannot crop {h}x{w} at offset {offset} from a {x.shape[-2]}x{x.shape[-1]} map "
                         f"(the input is too small for this network)")
    return x[..., offset:offset + h, offset:offset + w]


# ---------------------------------------------------------------------------------------------
# Backbones
# ---------------------------------------------------------------------------------------------
def scaled_channels(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


class _Backbone(nn.Module):
    """Common part: ``features`` (torchvision indices), the convolutionalized ``classifier``, taps."""

    features: nn.Sequential
    classifier: nn.Sequential
    taps: dict[str, int]  # tap name -> index in ``features`` whose OUTPUT is tapped
    tap_names: dict[str, str]  # tap name -> the layer's name in the paper (pool3, pool4 / pool1, pool2)
    channels: dict[str, int]
    classifier_input: tuple[int, int, int]  # (C, h, w) read by torchvision's first Linear

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{"skip8": stride-8 map, "skip16": stride-16 map, "out": fc7 output (stride 32)}``."""
        out: dict[str, torch.Tensor] = {}
        wanted = {index: name for name, index in self.taps.items()}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in wanted:
                out[wanted[index]] = x
        out["out"] = self.classifier(x)
        return out

    def coord_maps(self) -> dict[str, CoordMap]:
        """Coordinate map of each output (from the input image)."""
        maps = {name: coord_map(self.features[:index + 1]) for name, index in self.taps.items()}
        maps["out"] = coord_map(self.features).then(coord_map(self.classifier))
        return maps


def _vgg_features(cfg: list, width: float, batch_norm: bool, pad: int) -> tuple[nn.Sequential, list[int], int]:
    layers: list[nn.Module] = []
    pools: list[int] = []
    in_channels, first = 3, True
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True))
            pools.append(len(layers) - 1)
            continue
        c = scaled_channels(v, width)
        layers.append(nn.Conv2d(in_channels, c, kernel_size=3, padding=pad if first else 1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c))
        layers.append(nn.ReLU(inplace=True))
        in_channels, first = c, False
    return nn.Sequential(*layers), pools, in_channels


class VGG16Backbone(_Backbone):
    """VGG16 (torchvision's ``vgg16`` / ``vgg16_bn`` layout) with ``conv1_1`` padded by ``pad``.

    Parameters
    ----------
    width : float
        Fraction of the channel counts (64 ... 512, fc 4096); 1.0 is VGG16.
    batch_norm : bool
        The ``vgg16_bn`` layout (a BatchNorm after each convolution).
    pad : int
        Zero padding of the first convolution (FCN: 100).
    dropout : float
        Dropout after fc6 and fc7.

    Outputs: ``skip8`` = pool3, ``skip16`` = pool4, ``out`` = fc7 (after ReLU and dropout).
    """

    def __init__(self, width: float = 1.0, *, batch_norm: bool = False, pad: int = 100, dropout: float = 0.5) -> None:
        super().__init__()
        width = check_width(width, maximum=4, params_at_width_1=_PARAMS_AT_WIDTH_1)
        self.features, pools, c5 = _vgg_features(VGG16_CFG, width, batch_norm, pad)
        fc = scaled_channels(4096, width)
        self.taps = {"skip8": pools[2], "skip16": pools[3]}
        self.tap_names = {"skip8": "pool3", "skip16": "pool4"}
        self.channels = {"skip8": self.features[pools[2] - 2 - batch_norm].out_channels,
                         "skip16": self.features[pools[3] - 2 - batch_norm].out_channels, "out": fc}
        self.classifier_input = (c5, 7, 7)
        linear = nn.Sequential(nn.Linear(c5 * 49, fc), nn.ReLU(inplace=True), nn.Dropout(dropout),
                               nn.Linear(fc, fc), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.classifier = convolutionalize_classifier(linear, self.classifier_input)
        _init_like_torchvision(self)


class AlexNetBackbone(_Backbone):
    """AlexNet (torchvision's layout: 64-192-384-256-256, fc 4096) with ``conv1`` padded by ``pad``.

    Pooling rounds up as in Caffe (with floor rounding a 500x500 input would give 15x15, not
    16x16, scores).  Outputs: ``skip8`` = pool1, ``skip16`` = pool2, ``out`` = fc7.
    """

    def __init__(self, width: float = 1.0, *, pad: int = 100, dropout: float = 0.5) -> None:
        super().__init__()
        width = check_width(width, maximum=4, params_at_width_1=_PARAMS_AT_WIDTH_1)
        c = [scaled_channels(v, width) for v in (64, 192, 384, 256, 256)]
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], kernel_size=11, stride=4, padding=pad),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.Conv2d(c[0], c[1], kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.Conv2d(c[1], c[2], kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        )
        fc = scaled_channels(4096, width)
        self.taps = {"skip8": 2, "skip16": 5}
        self.tap_names = {"skip8": "pool1", "skip16": "pool2"}
        self.channels = {"skip8": c[0], "skip16": c[1], "out": fc}
        self.classifier_input = (c[4], 6, 6)
        linear = nn.Sequential(nn.Dropout(dropout), nn.Linear(c[4] * 36, fc), nn.ReLU(inplace=True),
                               nn.Dropout(dropout), nn.Linear(fc, fc), nn.ReLU(inplace=True))
        self.classifier = convolutionalize_classifier(linear, self.classifier_input)
        _init_like_torchvision(self)


def _init_like_torchvision(module: nn.Module) -> None:
    # torchvision's VGG init (kaiming for convolutions); the converted fc layers are convolutions too
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


# ---------------------------------------------------------------------------------------------
# FCN
# ---------------------------------------------------------------------------------------------
def _score(in_channels: int, num_classes: int) -> nn.Conv2d:
    conv = nn.Conv2d(in_channels, num_classes, kernel_size=1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


def _final_kernel(factor: int, before: CoordMap) -> int:
    """``2 * factor``, or ``2 * factor - 1`` when that is what makes the final crop whole (FCN-AlexNet's 63)."""
    for k in (2 * factor, 2 * factor - 1):
        m = before.then(CoordMap(Fraction(factor), Fraction(k - 1, 2)))
        if m.offset.denominator == 1:
            return k
    return 2 * factor


class FCN(nn.Module):
    """A fully convolutional network: backbone, scoring layers, skips, bilinear deconvolutions, crops.

    Parameters
    ----------
    backbone : VGG16Backbone or AlexNetBackbone
    num_classes : int
        21 for PASCAL VOC (background + 20).
    variant : {"32s", "16s", "8s"}

    Forward
    -------
    ``(N, 3, H, W)`` float -> logits ``(N, num_classes, H, W)``.

    Attributes
    ----------
    offsets : dict
        The crop offsets (``score_pool4``, ``score_pool3``, ``final``), from Caffe's coordinate
        mapping; VGG16 gives the reference nets' 5, 9 and 19/27/31.
    misalignment : dict
        The rounding residual of each crop (pixels of that map); zero for VGG16.
    """

    def __init__(self, backbone: _Backbone, num_classes: int = 21, variant: str = "8s") -> None:
        super().__init__()
        _check_variant(variant, num_classes)
        self.variant = variant
        self.num_classes = num_classes
        self.backbone = backbone
        maps = backbone.coord_maps()
        ch = backbone.channels
        self.offsets: dict[str, int] = {}
        self.misalignment: dict[str, Fraction] = {}
        self.score_fr = _score(ch["out"], num_classes)
        if variant == "32s":
            k = _final_kernel(32, maps["out"])
            self.upscore = BilinearDeconv(num_classes, 32, kernel_size=k, trainable=False)
            self._set_offset("final", coord_map(self.upscore), maps["out"], CoordMap())
            return
        self.upscore2 = BilinearDeconv(num_classes, 2, kernel_size=4)
        self.score_pool4 = _score(ch["skip16"], num_classes)
        m16 = maps["out"].then(coord_map(self.upscore2))
        off, res = crop_offset(maps["skip16"], m16)
        self.offsets["score_pool4"], self.misalignment["score_pool4"] = off, res
        if variant == "16s":
            self.upscore16 = BilinearDeconv(num_classes, 16, kernel_size=_final_kernel(16, m16), trainable=False)
            self._set_offset("final", coord_map(self.upscore16), m16, CoordMap())
            return
        self.upscore_pool4 = BilinearDeconv(num_classes, 2, kernel_size=4)
        self.score_pool3 = _score(ch["skip8"], num_classes)
        m8 = m16.then(coord_map(self.upscore_pool4))
        off, res = crop_offset(maps["skip8"], m8)
        self.offsets["score_pool3"], self.misalignment["score_pool3"] = off, res
        self.upscore8 = BilinearDeconv(num_classes, 8, kernel_size=_final_kernel(8, m8), trainable=False)
        self._set_offset("final", coord_map(self.upscore8), m8, CoordMap())

    def _set_offset(self, name: str, deconv_map: CoordMap, before: CoordMap, image: CoordMap) -> None:
        off, res = crop_offset(before.then(deconv_map), image)
        self.offsets[name], self.misalignment[name] = off, res

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x, None)

    def intermediates(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every named map of the forward pass (``fc7``, ``score_fr``, ``upscore2``, ...), in order."""
        record: dict[str, torch.Tensor] = {}
        self._run(x, record)
        return record

    def _run(self, x: torch.Tensor, record: dict | None) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"x must be a (N, 3, H, W) tensor, got "
                             f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
        size = x.shape[-2:]
        keep = (lambda name, t: record.__setitem__(name, t)) if record is not None else (lambda name, t: None)
        feats = self.backbone(x)
        keep(self.backbone.tap_names["skip8"], feats["skip8"])
        keep(self.backbone.tap_names["skip16"], feats["skip16"])
        keep("fc7", feats["out"])
        score = self.score_fr(feats["out"])
        keep("score_fr", score)
        if self.variant == "32s":
            up = self.upscore(score)
            keep("upscore", up)
        else:
            up2 = self.upscore2(score)
            keep("upscore2", up2)
            skip = _crop(self.score_pool4(feats["skip16"]), self.offsets["score_pool4"], up2.shape[-2:], "score_pool4")
            keep("score_pool4c", skip)
            fuse = up2 + skip
            keep("fuse_pool4", fuse)
            if self.variant == "16s":
                up = self.upscore16(fuse)
                keep("upscore16", up)
            else:
                up4 = self.upscore_pool4(fuse)
                keep("upscore_pool4", up4)
                skip = _crop(self.score_pool3(feats["skip8"]), self.offsets["score_pool3"], up4.shape[-2:], "score_pool3")
                keep("score_pool3c", skip)
                fuse = up4 + skip
                keep("fuse_pool3", fuse)
                up = self.upscore8(fuse)
                keep("upscore8", up)
        out = _crop(up, self.offsets["final"], size, "score")
        keep("score", out)
        return out

    @torch.no_grad()
    def load_classifier_weights(self, model: nn.Module) -> list[str]:
        """Copy a torchvision classifier's weights (``features`` and convolutionalized fc6/fc7).

        This is how FCN starts from an ImageNet classifier (here any weights: the course runs
        offline with ``weights=None``).  The widths must match (``width=1.0``).

        Parameters
        ----------
        model : torchvision ``AlexNet`` or ``VGG`` (``vgg16``, or ``vgg16_bn`` for ``batch_norm=True``)

        Returns
        -------
        list of str
            The names of the parameters/buffers copied.
        """
        bb = self.backbone
        if not hasattr(model, "features") or not hasattr(model, "classifier"):
            raise TypeError(f"model must be a torchvision AlexNet or VGG, got {type(model).__name__}")
        conv = convolutionalize_classifier(
            nn.Sequential(*[m for m in model.classifier if isinstance(m, (nn.Linear, nn.ReLU, nn.Dropout))]),
            bb.classifier_input)
        copied: list[str] = []
        for prefix, src, dst in (("features", model.features, bb.features), ("classifier", conv, bb.classifier)):
            src_state, dst_state = src.state_dict(), dst.state_dict()
            for key, value in dst_state.items():
                if key not in src_state or src_state[key].shape != value.shape:
                    # the last classifier Linear (1000 classes) has no counterpart; features must match
                    if prefix == "features" or key in src_state:
                        raise ValueError(f"backbone.{prefix}.{key}: the model has "
                                         f"{tuple(src_state[key].shape) if key in src_state else 'no such entry'}, "
                                         f"expected {tuple(value.shape)}")
                    continue
                value.copy_(src_state[key])
                copied.append(f"backbone.{prefix}.{key}")
        return copied


def _check_variant(variant: str, num_classes: int) -> None:
    # checked before a (possibly large) backbone is built
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r}: expected one of {VARIANTS}")
    check_int(num_classes, "num_classes", 2)


def fcn_vgg16(variant: str = "8s", num_classes: int = 21, *, width: float = 1.0, batch_norm: bool = False,
              pad: int = 100, dropout: float = 0.5) -> FCN:
    """FCN-``variant`` on VGG16 (``batch_norm=True``: the ``vgg16_bn`` layout)."""
    _check_variant(variant, num_classes)
    return FCN(VGG16Backbone(width, batch_norm=batch_norm, pad=pad, dropout=dropout), num_classes, variant)


def fcn_alexnet(variant: str = "32s", num_classes: int = 21, *, width: float = 1.0, pad: int = 100,
                dropout: float = 0.5) -> FCN:
    """FCN-``variant`` on AlexNet (the paper trained FCN-AlexNet as 32s only; 16s/8s use pool2/pool1)."""
    _check_variant(variant, num_classes)
    return FCN(AlexNetBackbone(width, pad=pad, dropout=dropout), num_classes, variant)


def fcn_shapes(backbone: str = "alexnet", variant: str = "8s", size: tuple[int, int] = (500, 500), *,
               num_classes: int = 21, width: float = 1.0) -> dict[str, tuple[int, int, int]]:
    """The ``(C, H, W)`` of every named map for one input size, computed without any arithmetic.

    The network is built on PyTorch's ``meta`` device (shapes only, no memory, no compute), so
    even the full-width nets answer at once.

    Parameters
    ----------
    backbone : {"alexnet", "vgg16"}
    size : (H, W) of the input image
    """
    builders = {"alexnet": fcn_alexnet, "vgg16": fcn_vgg16}
    if backbone not in builders:
        raise ValueError(f"backbone={backbone!r}: expected one of {sorted(builders)}")
    with torch.device("meta"):
        net = builders[backbone](variant, num_classes, width=width)
        maps = net.intermediates(torch.zeros(1, 3, *size))
    return {name: tuple(t.shape[1:]) for name, t in maps.items()}


@torch.no_grad()
def load_matching_weights(net: nn.Module, source: nn.Module) -> list[str]:
    """Copy every parameter/buffer of ``source`` whose name and shape exist in ``net``.

    FCN's staged training: FCN-16s starts from a trained FCN-32s (backbone and ``score_fr``;
    its new ``score_pool4`` stays at zero), FCN-8s from FCN-16s.

    Returns
    -------
    list of str
        The names copied (in ``net``'s order).
    """
    src = source.state_dict()
    copied = []
    for key, value in net.state_dict().items():
        if key in src and src[key].shape == value.shape:
            value.copy_(src[key])
            copied.append(key)
    if not copied:
        raise ValueError("source shares no parameter (same name and shape) with net")
    return copied


def freeze_backbone(net: FCN) -> FCN:
    """FCN-32s-fixed: freeze the backbone (conv layers and fc6/fc7); only the scoring layers learn.

    BatchNorm layers of the backbone are also put in eval mode by a forward pre-hook.
    Returns ``net`` (modified in place).
    """
    for p in net.backbone.parameters():
        p.requires_grad_(False)

    def _eval_bn(module, _inputs):
        for m in module.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.Dropout)):
                m.eval()

    net.backbone.register_forward_pre_hook(_eval_bn)
    return net
