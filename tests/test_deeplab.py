"""DeepLab v2 networks: output shapes, the hole algorithm's strides/dilations, torchvision parity, errors."""

from __future__ import annotations

import math

import pytest
import torch
import torchvision
from torch import nn

from course_utils.nets import deeplab as dl
from course_utils.nets.deeplab import (
    ASPP,
    DilatedResNet,
    LargeFOVHead,
    deeplab_resnet_aspp,
    deeplab_vgg16_aspp,
    deeplab_vgg16_largefov,
)

BUILDERS = {
    "largefov": lambda c, w: deeplab_vgg16_largefov(c, width=w),
    "vgg_aspp": lambda c, w: deeplab_vgg16_aspp(c, width=w),
    "vgg_aspp_bn": lambda c, w: deeplab_vgg16_aspp(c, width=w, batch_norm=True),
    "resnet101_aspp": lambda c, w: deeplab_resnet_aspp(c, width=w),
    "resnet18_aspp": lambda c, w: deeplab_resnet_aspp(c, width=w, depth=18),
}

SIZES = [(65, 97), (33, 50), (17, 9), (1, 1)]  # odd, non-square, smaller than one stride-8 cell


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_output_shapes(name, device):
    net = BUILDERS[name](5, 0.0625).to(device).eval()
    assert net.output_stride == 8 and net.num_classes == 5
    for n, (h, w) in enumerate(SIZES):
        batch = 2 if n == 0 else 1
        x = torch.randn(batch, 3, h, w).to(device)
        with torch.no_grad():
            logits = net(x)
            coarse = net.forward_coarse(x)
        assert logits.shape == (batch, 5, h, w), (name, h, w)
        assert coarse.shape == (batch, 5, math.ceil(h / 8), math.ceil(w / 8)), (name, h, w)
        assert torch.isfinite(logits).all()
        # forward = bilinear upsampling of the coarse logits
        up = nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
        torch.testing.assert_close(logits, up)


def test_train_step_backpropagates():
    net = deeplab_resnet_aspp(3, width=0.0625, depth=18)
    x = torch.randn(2, 3, 40, 33)
    labels = torch.randint(0, 3, (2, 40, 33))
    labels[0, :5] = 255
    loss = nn.functional.cross_entropy(net(x), labels, ignore_index=255)
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert net.backbone["conv1"].weight.grad.abs().sum() > 0


def test_vgg_hole_algorithm_layers():
    net = deeplab_vgg16_largefov(21)
    f = net.backbone
    convs = [n for n, m in f.named_children() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13
    for n in convs:
        conv = getattr(f, n)
        expected = 2 if n.startswith("conv5") else 1
        assert conv.dilation == (expected, expected) and conv.padding == (expected, expected), n
        assert conv.kernel_size == (3, 3) and conv.stride == (1, 1)
    strides = [getattr(f, f"pool{i}").stride for i in range(1, 6)]
    assert strides == [2, 2, 2, 1, 1]
    head = net.classifier
    assert head.fc6.dilation == (12, 12) and head.fc6.kernel_size == (3, 3)
    assert head.fc6.out_channels == head.fc7.out_channels == 1024
    assert head.fc8.out_channels == 21
    # DeepLab-LargeFOV has 20.5M parameters (Chen et al. 2016, Table 1)
    n = sum(p.numel() for p in net.parameters())
    assert abs(n / 1e6 - 20.5) < 0.05, n
    assert deeplab_vgg16_largefov(21, rate=4).classifier.fc6.dilation == (4, 4)


def test_vgg_aspp_branches_summed():
    net = deeplab_vgg16_aspp(4, width=0.0625, rates=(2, 3, 5)).eval()
    aspp = net.classifier
    assert isinstance(aspp, ASPP) and aspp.rates == (2, 3, 5)
    assert [b.fc6.dilation[0] for b in aspp.branches] == [2, 3, 5]
    assert all(isinstance(b, LargeFOVHead) for b in aspp.branches)
    assert aspp.branches[0].fc7.out_channels == 64 and aspp.branches[0].fc8.out_channels == 4
    feats = torch.randn(1, net.backbone.out_channels, 9, 7)
    with torch.no_grad():
        torch.testing.assert_close(aspp(feats), sum(b(feats) for b in aspp.branches))
    full = deeplab_vgg16_aspp(21)
    assert [b.fc6.out_channels for b in full.classifier.branches] == [1024] * 4
    assert [b.fc6.dilation[0] for b in full.classifier.branches] == [6, 12, 18, 24]


def test_resnet_aspp_head_and_dilations():
    net = deeplab_resnet_aspp(19, width=0.125)
    head = net.classifier
    assert [b.dilation[0] for b in head.branches] == [6, 12, 18, 24]
    assert all(b.kernel_size == (3, 3) and b.out_channels == 19 for b in head.branches)
    body = net.backbone
    assert body["layer2"][0].conv2.stride == (2, 2)
    assert body["layer3"][0].conv2.stride == (1, 1) and body["layer3"][1].conv2.dilation == (2, 2)
    assert body["layer4"][0].conv2.dilation == (2, 2) and body["layer4"][1].conv2.dilation == (4, 4)
    assert len(body["layer3"]) == 23


@pytest.mark.parametrize("depth", [18, 50])
def test_dilated_resnet_matches_torchvision(depth):
    """At width 1 our backbone IS torchvision's dilated ResNet: same parameters, same features."""
    ref = getattr(torchvision.models, f"resnet{depth}")
    if depth == 18:  # torchvision refuses dilation in BasicBlock: compare the plain network
        ours, theirs = DilatedResNet(depth, replace_stride_with_dilation=(False, False, False)), ref()
    else:
        ours, theirs = DilatedResNet(depth), ref(replace_stride_with_dilation=[False, True, True])
    state = {k: v for k, v in theirs.state_dict().items() if not k.startswith("fc.")}
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in state.items()}
    ours.load_state_dict(state)
    ours.eval(), theirs.eval()
    x = torch.randn(1, 3, 67, 45)
    body = nn.Sequential(*list(theirs.children())[:-2])
    with torch.no_grad():
        torch.testing.assert_close(ours(x), body(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("depth", [18, 50])
def test_dilated_resnet_is_the_hole_algorithm(depth):
    """Output stride 8 with the same weights == the stride-32 ResNet, sampled every 4th position.

    Removing a stride and dilating every later 3x3 convolution by the removed factor
    computes the original network's output densely (the hole algorithm, algorithme a trous).
    """
    plain = DilatedResNet(depth, width=0.125, replace_stride_with_dilation=(False, False, False)).eval()
    dense = DilatedResNet(depth, width=0.125).eval()
    dense.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 96, 64)
    with torch.no_grad():
        a, b = plain(x), dense(x)
    assert plain.output_stride == 32 and dense.output_stride == 8
    assert a.shape[-2:] == (3, 2) and b.shape[-2:] == (12, 8)
    torch.testing.assert_close(b[..., ::4, ::4], a, rtol=1e-3, atol=1e-4)
    assert not torch.allclose(b[..., 1::4, ::4], a, atol=1e-3)  # the extra positions are new outputs


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_classes"):
        deeplab_vgg16_largefov(0)
    with pytest.raises(ValueError, match="width"):
        deeplab_vgg16_largefov(3, width=0)
    with pytest.raises(ValueError, match="rate"):
        deeplab_vgg16_largefov(3, width=0.1, rate=0)
    with pytest.raises(ValueError, match="rates"):
        deeplab_vgg16_aspp(3, width=0.1, rates=())
    with pytest.raises(ValueError, match="rates"):
        deeplab_resnet_aspp(3, width=0.1, rates=(6, 1.5))
    with pytest.raises(ValueError, match="depth"):
        deeplab_resnet_aspp(3, width=0.1, depth=42)
    with pytest.raises(ValueError, match="pretrained_backbone"):
        deeplab_resnet_aspp(3, width=0.5, pretrained_backbone=True)
    with pytest.raises(ValueError, match="dropout"):
        deeplab_vgg16_largefov(3, width=0.1, dropout=1.0)
    net = deeplab_vgg16_largefov(3, width=0.0625)
    with pytest.raises(ValueError, match="x must"):
        net(torch.randn(3, 32, 32))
    with pytest.raises(ValueError, match="x must"):
        net(torch.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match="x must"):
        net(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_pretrained_offline_warns_and_keeps_random_init(monkeypatch):
    def offline(weights):
        raise OSError("no network")

    monkeypatch.setattr(dl, "_download_state_dict", offline)
    with pytest.warns(UserWarning, match="RANDOM"):
        net = deeplab_resnet_aspp(3, pretrained_backbone=True, depth=18)
    assert net.backbone_pretrained is False
    assert deeplab_resnet_aspp(3, width=0.1, depth=18).backbone_pretrained is False


def test_pretrained_weights_are_loaded_when_available(monkeypatch):
    torch.manual_seed(1)
    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])  # VGG16's convs only
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    monkeypatch.setattr(dl, "_download_state_dict", lambda weights: state)
    net = deeplab_vgg16_largefov(21, pretrained_backbone=True)
    assert net.backbone_pretrained is True
    torch.testing.assert_close(net.backbone.conv1_1.weight, features[0].weight)
    torch.testing.assert_close(net.backbone.conv5_3.bias, features[28].bias)
    res = torchvision.models.resnet18()
    monkeypatch.setattr(dl, "_download_state_dict", lambda weights: res.state_dict())
    net = deeplab_resnet_aspp(3, pretrained_backbone=True, depth=18)
    assert net.backbone_pretrained is True
    torch.testing.assert_close(net.backbone["layer4"][1].conv2.weight, res.layer4[1].conv2.weight)


@pytest.mark.parametrize("width,num_classes", [(0.125, 19), (0.25, 21), (0.0625, 19)])
def test_capacity_matched_largefov_has_aspp_l_parameters(width, num_classes):
    """The capacity control: LargeFOV widened to ASPP-L's parameter count (within 1 %), more than plain LargeFOV."""
    def count(net):
        return sum(p.numel() for p in net.parameters())

    hidden = dl.capacity_matched_hidden_channels(num_classes, width, batch_norm=True)
    wide = dl.deeplab_vgg16_largefov(num_classes, width, batch_norm=True, hidden_channels=hidden)
    aspp = dl.deeplab_vgg16_aspp(num_classes, width, batch_norm=True)
    plain = dl.deeplab_vgg16_largefov(num_classes, width, batch_norm=True)
    assert abs(count(wide) - count(aspp)) / count(aspp) < 0.01
    assert count(plain) < 0.75 * count(aspp)
    assert wide.classifier.fc6.out_channels == hidden and wide.classifier.fc6.dilation == (12, 12)
    # one channel fewer or more moves the count further from ASPP-L's: the nearest depth was chosen
    for other in (hidden - 1, hidden + 1):
        off = dl.deeplab_vgg16_largefov(num_classes, width, batch_norm=True, hidden_channels=other)
        assert abs(count(off) - count(aspp)) >= abs(count(wide) - count(aspp))
    with pytest.raises(ValueError, match="hidden_channels"):
        dl.deeplab_vgg16_largefov(num_classes, width, hidden_channels=0)
