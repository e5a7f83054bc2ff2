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


def test_a_resumed_checkpoint_records_the_time_of_every_process(tmp_path, monkeypatch):
    from course_utils.train import loop
    from course_utils.train.loop import checkpoint_seconds

    clock = iter(range(0, 10_000, 5))  # every reading of the clock is 5 s after the last
    monkeypatch.setattr(loop, "perf_counter", lambda: float(next(clock)))  # the loop's clock alone
    ckpt = tmp_path / "ck.pt"
    assert checkpoint_seconds(ckpt) is None
    _run(2, ckpt)  # a first process: two epochs of 5 s
    assert checkpoint_seconds(ckpt) == 10.0
    _run(4, ckpt, net=_net())  # a second one resumes and trains two more
    assert checkpoint_seconds(ckpt) == 20.0
    state = torch.load(ckpt, weights_only=True)
    del state["seconds"]  # a checkpoint from before fit recorded its time: the total is unknown, not partial
    torch.save(state, ckpt)
    _run(5, ckpt, net=_net())
    assert checkpoint_seconds(ckpt) is None


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


# --------------------------------------------------------------------------- DeepLab on MiniCity


@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from course_utils.data.minicity import write_minicity

    return write_minicity(tmp_path_factory.mktemp("city"), train_images=8, val_images=2, size=(64, 128), progress=False)


def _deeplab_kwargs(root, **extra):
    torch.set_num_threads(1)  # tiny networks: one thread is faster on shared cores (conftest resets it per test)
    kw = dict(data_root=root, progress=False, log=None, device="cpu", epochs=2, batch_size=4, width=0.0625,
              crop=(32, 64), input_scale=0.5, lr=0.02)
    kw.update(extra)
    return kw


def test_deeplab_resume_ends_with_the_same_weights(tiny_city, tmp_path, monkeypatch):
    import course_utils.train.deeplab as train_module
    from course_utils.train.deeplab import train_deeplab

    kw = _deeplab_kwargs(tiny_city, cache=False)
    ref, ref_hist = train_deeplab("aspp", out_dir=tmp_path / "a", depth=18, **kw)
    real_fit = train_module.fit
    monkeypatch.setattr(train_module, "fit", lambda *a, **k: real_fit(*a, **{**k, "epochs": 1}))  # "interrupted"
    _, part = train_deeplab("aspp", out_dir=tmp_path / "b", depth=18, **kw)
    assert len(part) == 1  # the recipe's own fit was replaced: this run stopped after one epoch
    monkeypatch.setattr(train_module, "fit", real_fit)
    resumed, hist = train_deeplab("aspp", out_dir=tmp_path / "b", depth=18, **kw)
    assert hist == pytest.approx(ref_hist) and len(hist) == 2
    for (name, a), b in zip(ref.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    # a checkpoint of another run is refused: first by the run's settings, then by the architecture
    with pytest.raises(ValueError, match="other settings.*width"):
        train_deeplab("aspp", out_dir=tmp_path / "b", **{**kw, "width": 0.125}, depth=18)
    (tmp_path / "b" / "settings.json").unlink()
    with pytest.raises(ValueError, match="another architecture"):
        train_deeplab("aspp", out_dir=tmp_path / "b", **{**kw, "width": 0.125}, depth=18)


def test_deeplab_is_cached_and_writes_official_predictions(tiny_city, tmp_path, monkeypatch):
    from course_utils.evaluate.cityscapes import evaluate_cityscapes
    from course_utils.train.deeplab import evaluate_deeplab, train_deeplab

    monkeypatch.setenv("SEGCOURSE_DATA", str(tmp_path / "data"))
    kw = _deeplab_kwargs(tiny_city, epochs=1)
    net, hist = train_deeplab("largefov", out_dir=tmp_path / "run", **kw)
    (tmp_path / "run" / "checkpoint.pt").unlink()
    net2, hist2 = train_deeplab("largefov", out_dir=tmp_path / "run", **kw)  # from the cache: no training
    assert hist2 == hist and not (tmp_path / "run" / "checkpoint.pt").exists()
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), net2.state_dict().values()))
    scores = evaluate_deeplab(net2, "largefov", tiny_city, tmp_path / "run", input_scale=0.5, progress=False)
    again = evaluate_cityscapes(scores["predictions"], tiny_city / "gtFine" / "val")
    assert 0 <= scores["mean_iou"] <= 1 and again["mean_iou"] == scores["mean_iou"]
    assert len(list((tmp_path / "run" / "predictions").rglob("*_leftImg8bit.png"))) == 2


def test_deeplab_bad_settings():
    from course_utils.train.__main__ import main
    from course_utils.train.deeplab import deeplab_settings

    with pytest.raises(ValueError, match="model"):
        deeplab_settings("unet")
    with pytest.raises(ValueError, match="unknown setting"):
        deeplab_settings("aspp", learning_rate=0.1)
    with pytest.raises(ValueError, match="epochs"):
        deeplab_settings("aspp", epochs=0)
    assert main(["segnet"]) == 2


def test_a_resumed_run_gets_back_the_curves_of_its_first_epochs(tmp_path):
    def run(epochs, checkpoint, stop_after=None):
        net = _net()
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        loader = DataLoader(_problem(), batch_size=16, shuffle=True)
        curves = {"weight_norm": []}

        def on_epoch(epoch):
            curves["weight_norm"].append(float(net[0].weight.norm()))
            if epoch == stop_after:
                raise KeyboardInterrupt("stopped")  # before this epoch's checkpoint is written

        fit(net, loader, nn.CrossEntropyLoss(), opt, epochs=epochs, checkpoint=checkpoint, log=None,
            on_epoch=on_epoch, curves=curves)
        return curves

    whole = run(4, tmp_path / "a.pt")
    with pytest.raises(KeyboardInterrupt):
        run(4, tmp_path / "b.pt", stop_after=2)  # epochs 0 and 1 are in the checkpoint, epoch 2 is lost
    assert torch.load(tmp_path / "b.pt", weights_only=True)["curves"]["weight_norm"] == whole["weight_norm"][:2]
    assert run(4, tmp_path / "b.pt") == whole  # resumed after epoch 1: all four epochs, none twice
    state = torch.load(tmp_path / "b.pt", weights_only=True)
    state["curves"] = None  # a checkpoint written without the curves: resuming would leave a gap
    state["epoch"] = 1
    torch.save(state, tmp_path / "b.pt")
    with pytest.raises(ValueError, match=r"records no per-epoch \['weight_norm'\]"):
        run(4, tmp_path / "b.pt")
