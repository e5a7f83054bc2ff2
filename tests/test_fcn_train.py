"""FCN training helpers: the paper's recipe, staged initialisation, caching, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.data.loaders import tensor_loader
from course_utils.data.voc import images_to_tensor, voc_loaders, write_synthetic_voc
from course_utils.evaluate.segmentation import confusion_matrix, segmentation_scores
from course_utils.nets.fcn import fcn_alexnet, fcn_vgg16
from course_utils.evaluate.checkpoints import evaluate_fcn
from course_utils.train.fcn import fcn_loss, train_fcn, train_fcn_stage
from course_utils.evaluate.predict import predict_labels


class _Oracle(nn.Module):
    """Returns logits that put the true class first (labels smuggled in as the image's first channel)."""

    def __init__(self, num_classes: int, wrong: bool = False) -> None:
        super().__init__()
        self.num_classes, self.wrong = num_classes, wrong
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        labels = x[:, 0].round().long().clamp(0, self.num_classes - 1)
        if self.wrong:
            labels = (labels + 1) % self.num_classes
        return nn.functional.one_hot(labels, self.num_classes).permute(0, 3, 1, 2).float() + 0 * self.dummy


def test_evaluate_matches_the_confusion_matrix_scores():
    labels = torch.randint(0, 3, (4, 8, 8))
    labels[:, 0] = 255
    images = torch.zeros(4, 3, 8, 8)
    images[:, 0] = labels.clamp(max=2).float()
    batches = [(images[:2], labels[:2]), (images[2:], labels[2:])]
    perfect = evaluate_fcn(_Oracle(3), batches, 3)
    assert perfect["pixel_acc"] == 1.0 and perfect["mean_iu"] == 1.0
    assert perfect["confusion"].sum() == int((labels != 255).sum())
    wrong = evaluate_fcn(_Oracle(3, wrong=True), batches, 3)
    pred = (labels.clamp(max=2) + 1) % 3
    want = segmentation_scores(confusion_matrix(labels, pred, 3))
    assert wrong["mean_iu"] == pytest.approx(want["mean_iu"]) and wrong["pixel_acc"] == 0.0
    with pytest.raises(ValueError, match="empty"):
        evaluate_fcn(_Oracle(3), [], 3)


def test_loss_ignores_void_and_checks_shapes():
    logits = torch.zeros(1, 3, 2, 2)
    labels = torch.full((1, 2, 2), 255)
    labels[0, 0, 0] = 1
    assert fcn_loss(logits, labels).item() == pytest.approx(np.log(3))
    with pytest.raises(ValueError, match="logits"):
        fcn_loss(logits, labels[0])


def test_tensor_loader_flips_images_and_labels_together():
    images = torch.arange(2 * 3 * 2 * 4, dtype=torch.float32).reshape(2, 3, 2, 4)
    labels = torch.arange(2 * 2 * 4).reshape(2, 2, 4)
    torch.manual_seed(0)
    seen = set()
    for _ in range(6):
        for x, y in tensor_loader(images, labels, batch_size=1, shuffle=False):
            i = int(x.min() >= 24)  # which image (its values do not change when flipped)
            plain = torch.equal(x[0], images[i]) and torch.equal(y[0], labels[i])
            flipped = torch.equal(x[0], images[i].flip(-1)) and torch.equal(y[0], labels[i].flip(-1))
            assert plain or flipped
            seen.add(flipped)
    assert seen == {True, False}
    with pytest.raises(ValueError, match="images"):
        tensor_loader(images, labels[:1], 1)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = write_synthetic_voc(tmp_path_factory.mktemp("voc"), n_train=4, n_val=2, size=(32, 32), seed=1)
    return root, voc_loaders(root, batch_size=2, in_memory=True)


def test_training_lowers_the_loss_and_leaves_frozen_layers(tiny_data):
    _, (train, _) = tiny_data
    torch.manual_seed(0)
    net = fcn_alexnet("8s", width=1 / 16)
    frozen = net.upscore8.weight.detach().clone()
    history = train_fcn(net, train, epochs=3, lr=0.01, log=None)
    assert len(history) == 3 and history[-1] < history[0]
    assert torch.equal(net.upscore8.weight, frozen)
    assert net.score_fr.weight.abs().sum() > 0


def _stages(build, train, epochs, tmp_path, log=None, fixed=True):
    """Train 32s, 16s from 32s, 8s from 16s (and 32s-fixed), one stage per call as the notebook does."""
    common = dict(lr=0.01, name="t", settings={"data": "tiny"}, cache_dir=tmp_path, log=log)
    runs = {}
    previous = None
    for variant in ("32s", "16s", "8s"):
        runs[variant] = previous = train_fcn_stage(build, train, variant, epochs=epochs[variant], init=previous,
                                                   **common)
    if fixed:
        runs["32s-fixed"] = train_fcn_stage(build, train, "32s-fixed", epochs=1, **common)
    return runs


def test_stages_are_chained_and_cached(tiny_data, tmp_path):
    root, (train, val) = tiny_data
    messages = []

    def build(variant):
        torch.manual_seed(0)
        return fcn_alexnet(variant, width=1 / 16)

    epochs = {"32s": 1, "16s": 1, "8s": 1}
    first = _stages(build, train, epochs, tmp_path, log=messages.append)
    assert list(first) == ["32s", "16s", "8s", "32s-fixed"]
    assert not any(run.from_cache for run in first.values())
    # 32s-fixed: the backbone did not move from its initialisation
    fresh = build("32s")
    assert torch.equal(first["32s-fixed"].net.backbone.features[0].weight, fresh.backbone.features[0].weight)
    assert first["16s"].key["init"] == first["32s"].key and first["32s-fixed"].key["init"] is None
    again = _stages(build, train, epochs, tmp_path, log=messages.append)
    assert all(run.from_cache for run in again.values())
    for v in first:
        for a, b in zip(first[v].net.state_dict().values(), again[v].net.state_dict().values()):
            assert torch.equal(a, b)
    assert any("loaded from cache" in m for m in messages)
    # changing the 16s epochs retrains 16s and 8s, not 32s
    third = _stages(build, train, {"32s": 1, "16s": 2, "8s": 1}, tmp_path, fixed=False)
    assert third["32s"].from_cache and not third["16s"].from_cache and not third["8s"].from_cache
    with pytest.raises(ValueError, match="variant"):
        train_fcn_stage(build, train, "4s", epochs=1, lr=0.01, name="t", settings={}, cache_dir=tmp_path)


def test_predict_labels_shapes_and_mode(tiny_data):
    _, (_, val) = tiny_data
    net = fcn_vgg16("32s", width=1 / 16, batch_norm=True).train()
    images, _ = next(iter(val))
    pred = predict_labels(net, images, batch_size=1)
    assert pred.shape == images.shape[:1] + images.shape[2:] and pred.dtype == torch.int64
    assert net.training  # mode restored
    assert images_to_tensor(np.zeros((1, 4, 4, 3), np.uint8)).shape == (1, 3, 4, 4)


def test_full_mode_loaders_crop_train_and_keep_val_whole(tiny_data):
    # the path real VOC takes (images of varying sizes): padded/cropped training batches, whole val images
    root, _ = tiny_data
    train, val = voc_loaders(root, batch_size=2, image_size=48, in_memory=False)
    x, y = next(iter(train))
    assert x.shape == (2, 3, 48, 48) and y.shape == (2, 48, 48) and (y == 255).any()
    xv, yv = next(iter(val))
    assert xv.shape == (1, 3, 32, 32) and yv.shape == (1, 32, 32)
    net = fcn_alexnet("32s", width=1 / 16)
    history = train_fcn(net, train, epochs=1, lr=0.01, log=None)
    assert len(history) == 1 and np.isfinite(history[0])
    assert 0 <= evaluate_fcn(net, val, 21)["pixel_acc"] <= 1
    with pytest.raises(ValueError, match="image_size"):
        voc_loaders(root, batch_size=2, in_memory=False)
