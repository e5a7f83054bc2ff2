"""The plain VGG16 of lesson 5 and DeepLab's hole algorithm on it: same weights, stride 8, dense evaluation."""

from __future__ import annotations

import pytest
import torch

from course_utils.nets.plain_vgg import hole_algorithm, plain_vgg16


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_plain_vgg16_shapes_and_names():
    net = plain_vgg16(7, width=1 / 16).eval()
    names = [n for n, _ in net.named_children()]
    assert names[:3] == ["conv1_1", "relu1_1", "conv1_2"] and names[-1] == "fc8" and "pool5" in names
    with torch.no_grad():
        assert net(torch.rand(1, 3, 64, 96)).shape == (1, 7, 2, 3)
    full = plain_vgg16(21, width=1.0, fc_channels=1024)
    convs = sum(p.numel() for n, p in full.named_parameters() if n.startswith("conv"))
    assert convs == 14_714_688  # torchvision's VGG16 features
    with pytest.raises(ValueError, match="padding"):
        plain_vgg16(padding=2)


def test_hole_algorithm_is_the_dense_evaluation():
    g = torch.Generator().manual_seed(0)
    net = plain_vgg16(3, width=1 / 16, fc_channels=256, generator=g).double().eval()
    dense = hole_algorithm(net)
    assert net.pool4.stride == 2 and dense.pool4.stride == 1 and dense.fc6.dilation == (4, 4)
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), dense.state_dict().values()))
    x = torch.randn(1, 3, 128, 96, generator=g, dtype=torch.float64)
    with torch.no_grad():
        coarse, fine = net(x), dense(x)
    assert fine.shape[-2:] == (128 // 8 - 3, 96 // 8 - 3)
    assert torch.allclose(fine[..., ::4, ::4], coarse, atol=1e-10)
    border_free = plain_vgg16(3, width=1 / 16, fc_channels=256, padding=0, generator=g).double().eval()
    x = torch.randn(1, 3, 312, 312, generator=g, dtype=torch.float64)
    with torch.no_grad():
        fine = hole_algorithm(border_free)(x)
        for a, b in ((0, 0), (1, 3), (3, 2)):
            shifted = border_free(x[..., 8 * a:, 8 * b:])
            h, w = shifted.shape[-2:]
            assert torch.allclose(fine[..., a::4, b::4][..., :h, :w], shifted, atol=1e-10)
    with pytest.raises(ValueError, match="pool4"):
        hole_algorithm(torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3)))
