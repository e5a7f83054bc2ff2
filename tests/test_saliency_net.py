"""The VGG-style saliency net: torchvision's VGG layout, shapes, devices, a tiny training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.data.loaders import saliency_loader
from course_utils.nets.saliency import SaliencyDecoder, VGGEncoder, saliency_vgg
from course_utils.evaluate.predict import predict_saliency
from course_utils.train.saliency import train_saliency_net


def test_width_64_encoder_is_exactly_torchvision_vgg16_features():
    from torchvision.models import vgg16_bn

    for bn, ref in ((True, vgg16_bn(weights=None)),):  # (building VGG16 is slow: its classifier has 120M weights)
        enc = VGGEncoder("D", 64, batch_norm=bn)
        ours = [(type(m).__name__, getattr(m, "weight", torch.empty(0)).shape)
                for stage in enc.stages for m in stage]
        theirs = [(type(m).__name__, getattr(m, "weight", torch.empty(0)).shape) for m in ref.features][:-1]
        assert ours == theirs  # the same layers in the same order, minus the final max-pool
        assert enc.channels == [64, 128, 256, 512, 512]
        # Same parameters -> same features: copy torchvision's weights into ours.
        params = [p for p in ref.features.state_dict().values()]
        ours_state = enc.state_dict()
        assert len(params) == len(ours_state)
        enc.load_state_dict(dict(zip(ours_state, params)))
        enc.eval()
        ref.eval()
        x = torch.rand(1, 3, 64, 64)
        with torch.no_grad():
            feats = enc(x)
            expected = ref.features[:-1](x)
        torch.testing.assert_close(feats[-1], expected)


@pytest.mark.parametrize("cfg, width", [("A", 8), ("D", 8), ("D", 16)])
def test_channels_scale_with_width_and_strides_are_1_to_16(cfg, width):
    enc = VGGEncoder(cfg, width)
    assert enc.channels == [width, 2 * width, 4 * width, 8 * width, 8 * width]
    feats = enc(torch.rand(2, 3, 64, 48))
    assert [tuple(f.shape[-2:]) for f in feats] == [(64, 48), (32, 24), (16, 12), (8, 6), (4, 3)]


def test_net_outputs_one_logit_channel_at_input_size(device):
    net = saliency_vgg(8, cfg="A").to(device)
    for h, w in ((64, 64), (50, 70)):
        out = net(torch.rand(2, 3, h, w, device=device))
        assert out.shape == (2, 1, h, w) and out.device.type == device.type
    full = saliency_vgg(8, cfg="A", first_stage=0)
    assert len(full.decoder.fuse) == 4 and len(net.decoder.fuse) == 3


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="cfg"):
        saliency_vgg(8, cfg="Z")
    with pytest.raises(ValueError, match="width"):
        saliency_vgg(0)
    with pytest.raises(ValueError, match="weights"):
        saliency_vgg(8, weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="first_stage"):
        SaliencyDecoder([8, 16, 32, 64, 64], 8, first_stage=4)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        saliency_vgg(8, cfg="A")(torch.rand(1, 1, 32, 32))
    images = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="masks"):
        saliency_loader(images, np.zeros((2, 16, 15), bool), batch_size=2)
    with pytest.raises(ValueError, match="images"):
        saliency_loader(images.astype(float), np.zeros((2, 16, 16), bool), batch_size=2)
    with pytest.raises(ValueError, match="grey"):
        predict_saliency(saliency_vgg(8, cfg="A"), np.zeros((16, 16), np.uint8))


def test_predict_returns_a_unit_map_of_the_image_size_and_keeps_train_mode():
    net = saliency_vgg(8, cfg="A")
    net.train()
    image = np.random.default_rng(0).integers(0, 256, (30, 45, 3), dtype=np.uint8)
    sal = predict_saliency(net, image, size=32)
    assert sal.shape == (30, 45) and sal.dtype == np.float32 and 0 <= sal.min() <= sal.max() <= 1
    assert net.training


def test_loader_flips_image_and_mask_together():
    images = np.zeros((1, 4, 6, 3), np.uint8)
    images[0, :, 0] = 255  # left column white
    masks = np.zeros((1, 4, 6), bool)
    masks[0, :, 0] = True
    loader = saliency_loader(images, masks, batch_size=1, shuffle=False, flip=True)
    seen = set()
    torch.manual_seed(0)
    for _ in range(12):
        x, y = next(iter(loader))
        assert x.shape == (1, 3, 4, 6) and y.shape == (1, 1, 4, 6) and x.max() == 1.0
        assert torch.equal(x[0, 0] > 0.5, y[0, 0] > 0.5)
        seen.add(int(y[0, 0, 0, 0]))
    assert seen == {0, 1}


def test_tiny_training_lowers_the_loss_and_separates_object_from_background():
    from course_utils.data.saliency_synth import make_salient_dataset

    torch.manual_seed(0)
    images, masks, _ = make_salient_dataset(8, 32, seed=0)
    net = saliency_vgg(8, cfg="A")
    # One batch, 30 steps: enough for the loss to fall and for BatchNorm's running statistics to settle.
    threads = torch.get_num_threads()
    history = train_saliency_net(net, images, masks, epochs=30, batch_size=8, lr=3e-3, cpu_threads=1, log=None)
    assert torch.get_num_threads() == threads  # restored
    with pytest.raises(ValueError, match="cpu_threads"):
        train_saliency_net(net, images, masks, epochs=1, batch_size=8, cpu_threads=0)
    assert len(history) == 30 and history[-1] < 0.7 * history[0]
    sal = np.stack([predict_saliency(net, im) for im in images])
    assert sal[masks].mean() > sal[~masks].mean() + 0.2


def test_module_tree_is_named_blocks():
    net = saliency_vgg(8, cfg="A")
    names = {name for name, _ in net.named_children()}
    assert names == {"encoder", "decoder"}
    assert isinstance(net.decoder.head, nn.Conv2d) and net.decoder.head.out_channels == 1
