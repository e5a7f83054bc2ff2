"""FCN-32s/16s/8s: the lecture's sizes, Caffe's crop offsets, the paper's initialisation."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torchvision
from torch import nn

from course_utils.nets.fcn import (FCN, VARIANTS, AlexNetBackbone, CoordMap, coord_map, crop_offset,
                                   fcn_alexnet, fcn_shapes, fcn_vgg16, freeze_backbone, load_matching_weights)
from course_utils.ops.bilinear import bilinear_kernel
from course_utils.train.fcn import fcn_param_groups

# The reference Caffe nets (fcn.berkeleyvision.org voc-fcn{32,16,8}s, voc-fcn-alexnet) crop with these
CAFFE_OFFSETS = {
    ("vgg16", "32s"): {"final": 19},
    ("vgg16", "16s"): {"score_pool4": 5, "final": 27},
    ("vgg16", "8s"): {"score_pool4": 5, "score_pool3": 9, "final": 31},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_vgg16_offsets_are_the_caffe_nets(variant):
    net = fcn_vgg16(variant, width=1 / 16)
    assert net.offsets == CAFFE_OFFSETS[("vgg16", variant)]
    assert all(r == 0 for r in net.misalignment.values())
    last = getattr(net, {"32s": "upscore", "16s": "upscore16", "8s": "upscore8"}[variant])
    factor = int(variant[:-1])
    assert last.kernel_size == (2 * factor, 2 * factor) and last.stride == (factor, factor)


def test_alexnet_fcn32s_is_caffe_voc_fcn_alexnet():
    net = fcn_alexnet("32s", width=1 / 16)
    # voc-fcn-alexnet: upscore kernel 63, stride 32, crop offset 18
    assert net.upscore.kernel_size == (63, 63) and net.offsets == {"final": 18}


def test_alexnet_reproduces_the_lecture_walkthrough_at_500():
    # 500x500 -> fc7 16x16x4096 -> 16x16x21 -> (16s) 34x34x21 -> (8s) 70x70x21 -> 500x500x21
    shapes = fcn_shapes("alexnet", "8s", (500, 500))
    assert shapes["fc7"] == (4096, 16, 16)
    assert shapes["score_fr"] == (21, 16, 16)
    assert shapes["upscore2"] == shapes["score_pool4c"] == (21, 34, 34)
    assert shapes["upscore_pool4"] == shapes["score_pool3c"] == (21, 70, 70)
    assert shapes["score"] == (21, 500, 500)
    assert fcn_shapes("vgg16", "8s", (500, 500))["fc7"] == (4096, 16, 16)
    # AlexNet's stride-16 and stride-8 maps (pool2, pool1) do not line up to whole pixels
    net = fcn_alexnet("8s", width=1 / 16)
    assert net.misalignment["score_pool4"] == Fraction(-1, 2) and net.misalignment["final"] == 0


def test_alexnet_needs_caffe_ceil_pooling_for_16x16():
    bb = AlexNetBackbone(width=1 / 16)
    with torch.no_grad():
        assert bb(torch.zeros(1, 3, 500, 500))["out"].shape[-2:] == (16, 16)
        for m in bb.features:
            if isinstance(m, nn.MaxPool2d):
                m.ceil_mode = False
        assert bb(torch.zeros(1, 3, 500, 500))["out"].shape[-2:] == (15, 15)


@pytest.mark.parametrize("variant", VARIANTS)
def test_vgg16_sizes_at_500(variant):
    shapes = fcn_shapes("vgg16", variant, (500, 500), width=1 / 16)
    assert shapes["score_fr"][1:] == (16, 16) and shapes["score"] == (21, 500, 500)
    assert shapes["pool4"][1:] == (44, 44) and shapes["pool3"][1:] == (88, 88)
    if variant != "32s":
        assert shapes["upscore2"][1:] == (34, 34)
    if variant == "8s":
        assert shapes["upscore_pool4"][1:] == (70, 70) and shapes["upscore8"][1:] == (568, 568)


@pytest.mark.parametrize("builder", [fcn_vgg16, fcn_alexnet])
@pytest.mark.parametrize("variant", VARIANTS)
def test_any_input_size_gives_a_same_size_map(builder, variant, device):
    net = builder(variant, num_classes=5, width=1 / 16).to(device).eval()
    for size in [(1, 1), (37, 61)]:
        with torch.no_grad():
            out = net(torch.randn(2, 3, *size, device=device))
        assert out.shape == (2, 5, *size)


def test_crop_offsets_come_from_the_coordinate_map():
    # a 3x3 conv padded by 1 keeps coordinates; a stride-2 pool halves them with a half-pixel shift
    assert coord_map(nn.Conv2d(1, 1, 3, padding=1)) == CoordMap(Fraction(1), Fraction(0))
    assert coord_map(nn.MaxPool2d(2, 2)) == CoordMap(Fraction(1, 2), Fraction(-1, 4))
    assert coord_map(nn.ConvTranspose2d(1, 1, 4, stride=2)) == CoordMap(Fraction(2), Fraction(3, 2))
    seq = nn.Sequential(nn.Conv2d(1, 1, 3, padding=100), nn.ReLU(), nn.MaxPool2d(2, 2))
    assert coord_map(seq) == CoordMap(Fraction(1, 2), Fraction(99, 2) - Fraction(1, 4))
    assert crop_offset(CoordMap(Fraction(1), Fraction(9)), CoordMap(Fraction(1), Fraction(2))) == (7, 0)
    with pytest.raises(ValueError, match="scale"):
        crop_offset(CoordMap(Fraction(1, 2)), CoordMap(Fraction(1)))
    with pytest.raises(TypeError, match="LSTM"):
        coord_map(nn.LSTM(1, 1))


def test_final_crop_maps_image_pixels_to_themselves():
    # image pixel r has coordinate scale * r + offset in each map; cropping by the offset must bring
    # the final score map back to r itself, and the skip crops must match the fused maps' grids
    net = fcn_vgg16("8s", num_classes=2, width=1 / 16)
    offsets = net.offsets
    maps = net.backbone.coord_maps()
    m8 = maps["out"].then(coord_map(net.upscore2)).then(coord_map(net.upscore_pool4))
    final = m8.then(coord_map(net.upscore8))
    assert final.scale == 1 and final.offset == offsets["final"]
    assert maps["skip8"].offset - m8.offset == offsets["score_pool3"]


def test_scoring_layers_zero_deconvolutions_bilinear_last_frozen():
    net = fcn_vgg16("8s", width=1 / 16)
    for name in ("score_fr", "score_pool4", "score_pool3"):
        layer = getattr(net, name)
        assert layer.weight.abs().sum() == 0 and layer.bias.abs().sum() == 0, name
    assert net.upscore2.weight.requires_grad and net.upscore_pool4.weight.requires_grad
    assert not net.upscore8.weight.requires_grad
    assert torch.equal(net.upscore8.weight[0, 0], torch.from_numpy(bilinear_kernel(16)).float())
    assert torch.equal(net.upscore2.weight[5, 5], torch.from_numpy(bilinear_kernel(4)).float())
    # zero scoring layers: the untrained net predicts all-zero logits, yet gradients reach score_fr
    out = net(torch.randn(1, 3, 32, 32))
    assert out.abs().max() == 0
    nn.functional.cross_entropy(out, torch.randint(0, 21, (1, 32, 32))).backward()
    assert net.score_fr.weight.grad.abs().sum() > 0
    assert net.backbone.features[0].weight.grad.abs().sum() == 0  # nothing flows back through zeros yet


def test_zero_fc6_fc7_and_score_would_not_learn():
    # the lecture's "conv6 and conv7 start at zero" cannot be literal: with the scoring layer also at
    # zero, every weight gradient but the score bias vanishes
    net = fcn_vgg16("32s", width=1 / 16, dropout=0.0)
    for m in net.backbone.classifier:
        if isinstance(m, nn.Conv2d):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)
    out = net(torch.randn(1, 3, 32, 32))
    nn.functional.cross_entropy(out, torch.randint(0, 21, (1, 32, 32))).backward()
    grads = {n: p.grad.abs().sum().item() for n, p in net.named_parameters() if p.grad is not None}
    assert grads["score_fr.bias"] > 0
    assert all(v == 0 for n, v in grads.items() if n != "score_fr.bias")


def test_staged_training_initialisation():
    torch.manual_seed(0)
    fcn32 = fcn_vgg16("32s", width=1 / 16)
    with torch.no_grad():
        fcn32.score_fr.weight.normal_()
    fcn16 = fcn_vgg16("16s", width=1 / 16)
    copied = load_matching_weights(fcn16, fcn32)
    assert "score_fr.weight" in copied and "backbone.features.0.weight" in copied
    assert "score_pool4.weight" not in copied
    assert torch.equal(fcn16.score_fr.weight, fcn32.score_fr.weight)
    assert fcn16.score_pool4.weight.abs().sum() == 0
    with pytest.raises(ValueError, match="shares no parameter"):
        load_matching_weights(fcn16, nn.Linear(3, 3))


def test_load_torchvision_classifier_weights():
    torch.manual_seed(0)
    model = torchvision.models.alexnet(weights=None).eval()
    net = fcn_alexnet("32s", width=1.0).eval()
    names = net.load_classifier_weights(model)
    assert "backbone.features.0.weight" in names and "backbone.classifier.1.weight" in names
    assert "backbone.classifier.4.weight" in names
    # fc7 of our net = the classifier's fc7 on AlexNet features of a 224 crop, without the padding
    net.backbone.features[0].padding = (2, 2)
    for m in net.backbone.features:
        if isinstance(m, nn.MaxPool2d):
            m.ceil_mode = False
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        ours = net.backbone(x)["out"].flatten(1)
        ref = model.classifier[:6](torch.flatten(model.features(x), 1))
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="in_features"):
        fcn_alexnet("32s", width=0.5).load_classifier_weights(model)


def test_param_groups_and_frozen_backbone():
    net = freeze_backbone(fcn_vgg16("32s", width=1 / 16, batch_norm=True))
    groups = fcn_param_groups(net, lr=1e-4)
    ids = {id(p) for g in groups for p in g["params"]}
    assert ids == {id(net.score_fr.weight), id(net.score_fr.bias)}
    assert groups[1]["lr"] == 2e-4 and groups[1]["weight_decay"] == 0
    net.train()
    net(torch.randn(1, 3, 32, 32))
    bns = [m for m in net.backbone.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    with pytest.raises(ValueError, match="lr"):
        fcn_param_groups(net, lr=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="variant"):
        fcn_vgg16("4s")
    with pytest.raises(ValueError, match="width"):
        fcn_vgg16(width=0)
    with pytest.raises(ValueError, match="num_classes"):
        FCN(AlexNetBackbone(1 / 16), num_classes=1)
    with pytest.raises(ValueError, match="x must be"):
        fcn_alexnet(width=1 / 16)(torch.zeros(1, 1, 32, 32))
