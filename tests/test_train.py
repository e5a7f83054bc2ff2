import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils.train import architecture_signature, fit, poly_lr, train_cached


def _problem(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 8, 8, generator=g)
    y = (x[:, 0] > 0).long()
    return TensorDataset(x, y)


def _net():
    torch.manual_seed(1)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Dropout(0.2), nn.Conv2d(8, 2, 1))


def _run(epochs, checkpoint=None, net=None):
    net = net or _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    loader = DataLoader(_problem(), batch_size=16, shuffle=True)
    sched = poly_lr(opt, max_steps=4 * len(loader))
    hist = fit(net, loader, nn.CrossEntropyLoss(), opt, epochs=epochs, scheduler=sched, checkpoint=checkpoint, log=None)
    return net, hist


def test_fit_lowers_the_loss():
    _, hist = _run(4)
    assert len(hist) == 4 and hist[-1] < hist[0]


def test_resume_ends_with_the_same_weights(tmp_path):
    ref, ref_hist = _run(4)
    ckpt = tmp_path / "ck.pt"
    _run(2, ckpt)  # "interrupted" after two epochs
    resumed, hist = _run(4, ckpt, net=_net())
    assert hist == pytest.approx(ref_hist)
    for a, b in zip(ref.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_checkpoint_from_another_architecture_is_refused(tmp_path):
    ckpt = tmp_path / "ck.pt"
    _run(1, ckpt)
    other = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
    opt = torch.optim.SGD(other.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="another architecture"):
        fit(other, DataLoader(_problem(), batch_size=16), nn.CrossEntropyLoss(), opt, epochs=2, checkpoint=ckpt, log=None)
    assert architecture_signature(other) != architecture_signature(_net())


def test_poly_lr_and_bad_arguments():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = poly_lr(opt, max_steps=10, power=1.0)
    for _ in range(5):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="max_steps"):
        poly_lr(opt, 0)
    with pytest.raises(ValueError, match="epochs"):
        fit(_net(), [], nn.CrossEntropyLoss(), opt, epochs=0)


def test_train_cached_trains_once(tmp_path):
    calls = []

    def train():
        calls.append(1)
        _, hist = _run(1, net=net)
        return hist

    net = _net()
    hist, cached = train_cached(net, "toy", {"epochs": 1}, train, cache_dir=tmp_path)
    trained = {k: v.clone() for k, v in net.state_dict().items()}
    net2 = _net()
    hist2, cached2 = train_cached(net2, "toy", {"epochs": 1}, train, cache_dir=tmp_path)
    assert (cached, cached2) == (False, True) and len(calls) == 1 and hist2 == hist
    assert all(torch.equal(trained[k], v) for k, v in net2.state_dict().items())
    _, cached3 = train_cached(_net(), "toy", {"epochs": 2}, train, cache_dir=tmp_path)
    assert cached3 is False and len(calls) == 2
