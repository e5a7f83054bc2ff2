"""Checks for lesson 07 (DeepLab on Cityscapes-format scenes).

Exercises:

* ``07.train_ids``: Cityscapes label ids -> train ids (255 = ignore).
* ``07.train_steps``: DeepLab's training step (poly learning rate, ENet-weighted cross-entropy that
  ignores 255, SGD), checked against the library's recipe on a few steps of a tiny network.
* ``07.trimap``: DeepLab's trimap measure: the pixel accuracy inside a band of width ``w`` around the
  ground truth's boundaries (4-neighbour boundary pixels, Euclidean distance, ignore pixels excluded),
  checked against :func:`~course_utils.evaluate.boundary.trimap_scores`.
"""

from __future__ import annotations

import numpy as np
import torch

from course_utils.data.cityscapes import labels_to_train_ids
from course_utils.exercises.compare import call_answer, expect_array, expect_close
from course_utils.exercises.core import Incorrect, exercise

# ---------------------------------------------------------------- 07.train_ids


def _label_table() -> tuple[np.ndarray, np.ndarray]:
    from cityscapesscripts.helpers.labels import labels

    ids = np.array([lab.id for lab in labels if lab.id >= 0])
    train = np.array([lab.trainId if lab.trainId not in (-1, 255) else 255 for lab in labels if lab.id >= 0])
    return ids, train


def _wrong_identity(label_ids):
    return label_ids.astype(np.uint8)


def _wrong_ignore_zero(label_ids):
    ids, train = _label_table()
    lut = np.zeros(256, np.uint8)
    lut[ids] = np.where(train == 255, 0, train)
    return lut[label_ids]


def _wrong_category(label_ids):
    from cityscapesscripts.helpers.labels import labels

    lut = np.full(256, 255, np.uint8)
    for lab in labels:
        if lab.id >= 0:
            lut[lab.id] = lab.categoryId
    return lut[label_ids]


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_imported_name(label_ids):
    return labels_to_train_ids(label_ids)


def _delegates_module_attribute(label_ids):
    from course_utils.data import cityscapes

    return cityscapes.labels_to_train_ids(label_ids)


@exercise(
    "07.train_ids",
    hint="build a 256-entry lookup table from cityscapesscripts.helpers.labels (each label's id and trainId; "
         "classes not used for training become 255), then index it with the whole array at once.",
    wrong_answers=[_wrong_identity, _wrong_ignore_zero, _wrong_category],
    forbidden=("course_utils.data.cityscapes:labels_to_train_ids", "course_utils.data.cityscapes:_tables"),
    delegating=[_delegates_imported_name, _delegates_module_attribute],
    success="label ids (0..33) map to the 19 train ids; everything else to 255, which the loss and metrics ignore.",
)
def check_train_ids(to_train_ids) -> None:
    ids, train = _label_table()
    rng = np.random.default_rng(6)
    label_ids = rng.choice(ids, size=(9, 13)).astype(np.uint8)
    label_ids.flat[: len(ids)] = ids  # every label id appears
    got = call_answer(to_train_ids, label_ids.copy())
    lut = np.full(256, 255, np.uint8)
    lut[ids] = train
    expect_array(got, lut[label_ids], "to_train_ids(label_ids)", index_names="pixel")


# ---------------------------------------------------------------- 07.train_steps
#
# DeepLab's training step as the course recipe runs it (course_utils.train.deeplab): the "poly" learning
# rate lr0 * (1 - t / T) ** power set before each batch, pixel-wise cross-entropy that ignores label 255,
# weighted per class by ENet's 1 / ln(1.02 + share), and an SGD step with momentum and weight decay.

_NUM_CLASSES = 5


def _tiny_net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(6, _NUM_CLASSES, 1))


def _batches(seed: int, steps: int, shape: tuple[int, int, int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    n, h, w = shape
    out = []
    for _ in range(steps):
        images = torch.randn(n, 3, h, w, generator=gen)
        probs = torch.tensor([0.5, 0.25, 0.12, 0.08, 0.05])  # uneven classes, as in street scenes
        labels = torch.multinomial(probs, n * h * w, replacement=True, generator=gen).reshape(n, h, w)
        labels[torch.rand(n, h, w, generator=gen) < 0.15] = 255  # ignored pixels
        out.append((images, labels))
    return out


def _shares(batches) -> np.ndarray:
    counts = np.zeros(_NUM_CLASSES)
    for _, labels in batches:
        counts += np.bincount(labels[labels != 255].numpy().ravel(), minlength=_NUM_CLASSES)
    return counts / counts.sum()


def _recipe() -> dict:
    """lr0, momentum, weight decay and power of the course's LargeFOV recipe."""
    from course_utils.train.deeplab import COURSE_DEEPLAB, deeplab_settings

    s = deeplab_settings("largefov", lr=COURSE_DEEPLAB["largefov"]["lr"])
    return {"lr0": float(s["lr"]), "momentum": float(s["momentum"]), "weight_decay": float(s["weight_decay"]),
            "power": float(s["power"])}


def _reference_steps(net, batches, shares, lr0, momentum, weight_decay, power):
    """The library's recipe: enet_class_weights, CrossEntropyLoss(weight, ignore_index=255), SGD, poly_lr."""
    from course_utils.train import poly_lr
    from course_utils.train.deeplab import enet_class_weights

    weights = torch.tensor(enet_class_weights(shares), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, ignore_index=255)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum, weight_decay=weight_decay)
    scheduler = poly_lr(optimizer, len(batches), power)
    losses, rates = [], []
    for images, labels in batches:
        rates.append(scheduler.get_last_lr()[0])
        loss = loss_fn(net(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses, rates


def _manual_steps(net, batches, shares, lr0, momentum, weight_decay, power, *, weights=None, normalise="weights",
                  rate=None):
    """A hand-written step loop with one part swappable (for the typical wrong answers)."""
    shares_t = torch.as_tensor(np.asarray(shares), dtype=torch.float32)
    w_class = 1.0 / torch.log(1.02 + shares_t) if weights is None else weights(shares_t)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum, weight_decay=weight_decay)
    losses, rates = [], []
    for t, (images, labels) in enumerate(batches):
        lr = lr0 * (1 - t / len(batches)) ** power if rate is None else rate(lr0, t, len(batches), power)
        for group in optimizer.param_groups:
            group["lr"] = lr
        log_probs = torch.log_softmax(net(images), dim=1)
        valid = labels != 255
        target = torch.where(valid, labels, torch.zeros_like(labels))
        nll = -log_probs.gather(1, target[:, None])[:, 0]
        w = w_class[target] * valid
        if normalise == "weights":
            loss = (w * nll).sum() / w.sum()
        elif normalise == "pixels":
            loss = (w * nll).sum() / valid.sum()
        else:  # every pixel, the ignored ones counted as class 0
            loss = (w_class[target] * nll).sum() / w_class[target].sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        rates.append(lr)
    return losses, rates


def _wrong_mean_over_pixels(net, batches, shares, lr0, momentum, weight_decay, power):
    return _manual_steps(net, batches, shares, lr0, momentum, weight_decay, power, normalise="pixels")


def _wrong_ignored_as_class_0(net, batches, shares, lr0, momentum, weight_decay, power):
    return _manual_steps(net, batches, shares, lr0, momentum, weight_decay, power, normalise="all")


def _wrong_no_class_weights(net, batches, shares, lr0, momentum, weight_decay, power):
    return _manual_steps(net, batches, shares, lr0, momentum, weight_decay, power, weights=torch.ones_like)


def _wrong_inverse_share_weights(net, batches, shares, lr0, momentum, weight_decay, power):
    return _manual_steps(net, batches, shares, lr0, momentum, weight_decay, power,
                         weights=lambda s: 1.0 / (s + 1e-3))


def _wrong_constant_lr(net, batches, shares, lr0, momentum, weight_decay, power):
    return _manual_steps(net, batches, shares, lr0, momentum, weight_decay, power, rate=lambda lr, t, n, p: lr)


def _wrong_poly_one_step_late(net, batches, shares, lr0, momentum, weight_decay, power):
    return _manual_steps(net, batches, shares, lr0, momentum, weight_decay, power,
                         rate=lambda lr, t, n, p: lr * (1 - (t + 1) / n) ** p)


# Answers that hand the work to the library or to PyTorch's loss instead of writing it (each must be rejected).
def _delegates_functional_cross_entropy(net, batches, shares, lr0, momentum, weight_decay, power):
    weights = 1.0 / torch.log(1.02 + torch.as_tensor(np.asarray(shares), dtype=torch.float32))
    optimizer = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum, weight_decay=weight_decay)
    losses, rates = [], []
    for t, (images, labels) in enumerate(batches):
        lr = lr0 * (1 - t / len(batches)) ** power
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = torch.nn.functional.cross_entropy(net(images), labels, weight=weights, ignore_index=255)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        rates.append(lr)
    return losses, rates


def _delegates_library_recipe(net, batches, shares, lr0, momentum, weight_decay, power):
    from course_utils.train import poly_lr
    from course_utils.train.deeplab import enet_class_weights

    return _steps_with(net, batches, shares, lr0, momentum, weight_decay, power, poly_lr=poly_lr,
                       enet_class_weights=enet_class_weights)


def _delegates_loss_module(net, batches, shares, lr0, momentum, weight_decay, power):
    weights = 1.0 / torch.log(1.02 + torch.as_tensor(np.asarray(shares), dtype=torch.float32))
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, ignore_index=255)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum, weight_decay=weight_decay)
    losses, rates = [], []
    for t, (images, labels) in enumerate(batches):
        lr = lr0 * (1 - t / len(batches)) ** power
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = loss_fn(net(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        rates.append(lr)
    return losses, rates


def _steps_with(net, batches, shares, lr0, momentum, weight_decay, power, *, poly_lr, enet_class_weights):
    """The library recipe with its pieces passed in (what a delegating answer runs)."""
    weights = torch.tensor(enet_class_weights(shares), dtype=torch.float32)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum, weight_decay=weight_decay)
    scheduler = poly_lr(optimizer, len(batches), power)
    losses, rates = [], []
    for images, labels in batches:
        rates.append(scheduler.get_last_lr()[0])
        log_probs = torch.log_softmax(net(images), dim=1)
        valid = labels != 255
        target = torch.where(valid, labels, torch.zeros_like(labels))
        w = weights[target] * valid
        loss = (w * -log_probs.gather(1, target[:, None])[:, 0]).sum() / w.sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses, rates

_TRAIN_STEP_FORBIDDEN = (
    "course_utils.train:poly_lr",
    "course_utils.train:fit",
    "course_utils.train.deeplab:enet_class_weights",
    "course_utils.train.deeplab:train_deeplab",
    "course_utils.train.fcn:fcn_loss",
    "course_utils.train.fcn:train_fcn",
    "torch.nn.functional:cross_entropy",
    "torch.nn.functional:nll_loss",
    "torch.nn:CrossEntropyLoss",
    "torch.nn:NLLLoss",
    "torch.optim.lr_scheduler:LambdaLR",
    "torch.optim.lr_scheduler:PolynomialLR",
)


def _as_floats(values, what: str, steps: int) -> np.ndarray:
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) != steps:
        raise Incorrect(f"{what} should be a list with one number per step ({steps}), got {type(values).__name__}"
                        + (f" of length {len(values)}" if hasattr(values, "__len__") else ""))
    try:
        return np.array([float(v) for v in values])
    except (TypeError, ValueError):
        raise Incorrect(f"{what} should hold plain numbers (loss.item(), the learning rate)") from None


@exercise(
    "07.train_steps",
    hint="set each group's 'lr' from the step number before the batch; for the loss take log_softmax over the "
         "class axis, pick each pixel's true class, weight it by its class's weight, leave pixels labelled 255 "
         "out of both the sum and the normaliser; then zero the gradients, backpropagate, step.",
    wrong_answers=[_wrong_mean_over_pixels, _wrong_ignored_as_class_0, _wrong_no_class_weights,
                   _wrong_inverse_share_weights, _wrong_constant_lr, _wrong_poly_one_step_late],
    success="poly learning rate, ENet-weighted cross-entropy that ignores 255, SGD with momentum and weight decay: "
            "the same losses, rates and weights as the library's recipe.",
    forbidden=_TRAIN_STEP_FORBIDDEN,
    delegating=[_delegates_functional_cross_entropy, _delegates_library_recipe, _delegates_loss_module],
)
def check_train_steps(deeplab_train_steps) -> None:
    recipe = _recipe()
    for seed, steps, shape in ((0, 5, (2, 6, 8)), (1, 4, (3, 5, 7))):
        batches = _batches(seed, steps, shape)
        shares = _shares(batches)
        expected_net = _tiny_net(seed)
        expected_losses, expected_rates = _reference_steps(expected_net, batches, shares, **recipe)
        net = _tiny_net(seed)
        got = call_answer(deeplab_train_steps, net, [(x.clone(), y.clone()) for x, y in batches], shares.copy(),
                          recipe["lr0"], recipe["momentum"], recipe["weight_decay"], recipe["power"])
        if not isinstance(got, tuple) or len(got) != 2:
            raise Incorrect("deeplab_train_steps should return a tuple (losses, rates)")
        losses = _as_floats(got[0], "losses", steps)
        rates = _as_floats(got[1], "rates", steps)
        for t in range(steps):
            if not np.isclose(rates[t], expected_rates[t], rtol=1e-6, atol=1e-12):
                raise Incorrect(f"the learning rate of step {t} (of {steps}) is {rates[t]:.6g}; the poly schedule with "
                                f"lr0 = {recipe['lr0']:g} and power {recipe['power']:g} gives {expected_rates[t]:.6g}")
        if not np.isclose(losses[0], expected_losses[0], rtol=1e-4, atol=1e-5):
            raise Incorrect(f"the loss of the first batch is {losses[0]:.5f}, the recipe's is {expected_losses[0]:.5f}: "
                            "look at the class weights (ENet's 1 / ln(1.02 + share)), the pixels labelled 255, and what "
                            "the weighted sum is divided by")
        for t in range(1, steps):
            if not np.isclose(losses[t], expected_losses[t], rtol=1e-4, atol=1e-5):
                raise Incorrect(f"the first loss is right but the loss of step {t} is {losses[t]:.5f}, the recipe's "
                                f"{expected_losses[t]:.5f}: the update between batches differs (learning rate, "
                                "momentum, weight decay, zeroing the gradients)")
        for (name, p), q in zip(net.named_parameters(), expected_net.parameters()):
            if not torch.allclose(p.detach(), q.detach(), rtol=1e-4, atol=1e-6):
                raise Incorrect(f"the network's weights after the {steps} steps differ from the recipe's (first at "
                                f"{name}): did every batch take an optimizer step?")


# ---------------------------------------------------------------- 07.trimap
#
# DeepLab's trimap (ICLR 2015, section 4.1): the pixel accuracy inside a band of width w around the ground
# truth's boundaries. A boundary pixel is one whose label differs from one of its 4 neighbours (255 counts as a
# label: the ignore region's edge is a boundary); the band holds the pixels whose Euclidean distance to the
# nearest boundary pixel is at most w; pixels labelled 255 are not scored. The reference is
# course_utils.evaluate.boundary.trimap_scores, which the notebook's results use.

_TRIMAP_CLASSES = 19


def _disc(shape: tuple[int, int], centre: tuple[float, float], radius: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius**2


def _trimap_cases() -> list[tuple[np.ndarray, np.ndarray, tuple[float, ...]]]:
    """(truth, prediction, widths): street-like label maps (not square) with discs, a pole and an ignore region;
    the predictions are the truth shifted and partly relabelled, as a blurred network's would be."""
    cases = []
    for seed, (h, w) in enumerate(((37, 53), (44, 31))):
        rng = np.random.default_rng(70 + seed)
        truth = np.zeros((h, w), np.uint8)  # road
        truth[: h // 3] = 10  # sky
        truth[h // 3: h // 2] = 2  # building
        truth[_disc((h, w), (h * 0.6, w * 0.3), h / 6)] = 13  # a car, seen as a disc (diagonal edges)
        truth[_disc((h, w), (h * 0.45, w * 0.75), h / 9)] = 11  # a person
        truth[h // 4: 3 * h // 4, w // 2: w // 2 + 2] = 5  # a pole two pixels wide
        truth[-5:, : w // 3] = 255  # an ignore region touching road and car
        pred = np.roll(truth, (1 + seed, 2 - seed), axis=(0, 1)).astype(np.int64)
        flip = rng.random((h, w)) < 0.08
        pred[flip] = rng.integers(0, _TRIMAP_CLASSES, flip.sum())
        pred[pred == 255] = 0  # a network predicts a class everywhere
        cases.append((truth, pred.astype(np.uint8), ((0, 1, 3, 4.5) if seed == 0 else (2, 8))))
    return cases


def _trimap_reference(truth: np.ndarray, pred: np.ndarray, width: float) -> float:
    from course_utils.evaluate.boundary import trimap_scores

    return float(trimap_scores(truth, pred, _TRIMAP_CLASSES, widths=[width])["pixel_acc"][0])


def _trimap_accuracy(truth, pred, width, *, sides=2, neighbours=4, strict=False, metric="euclidean",
                     score_ignored=False, ignore_is_boundary=True, boundary_of=None):
    """A parametrised trimap accuracy: the defaults are right; each wrong answer changes one thing."""
    from scipy.ndimage import distance_transform_cdt, distance_transform_edt

    lab = truth if boundary_of is None else boundary_of
    differs = lambda a, b: (a != b) if ignore_is_boundary else ((a != b) & (a != 255) & (b != 255))  # noqa: E731
    edge = np.zeros(lab.shape, bool)
    dy, dx = differs(lab[1:, :], lab[:-1, :]), differs(lab[:, 1:], lab[:, :-1])
    edge[1:, :] |= dy
    edge[:, 1:] |= dx
    if sides == 2:
        edge[:-1, :] |= dy
        edge[:, :-1] |= dx
    if neighbours == 8:
        diag = differs(lab[1:, 1:], lab[:-1, :-1])
        edge[1:, 1:] |= diag
        edge[:-1, :-1] |= diag
    if metric == "euclidean":
        distance = distance_transform_edt(~edge)
    else:
        distance = distance_transform_cdt(~edge, metric="taxicab")
    band = distance < width if strict else distance <= width
    counted = band if score_ignored else band & (truth != 255)
    return float((pred[counted] == truth[counted]).mean()) if counted.any() else float("nan")


def _wrong_one_side(t, p, width):  # only the pixel below / right of a label change
    return _trimap_accuracy(t, p, width, sides=1)


def _wrong_eight_neighbours(t, p, width):
    return _trimap_accuracy(t, p, width, neighbours=8)


def _wrong_strict_band(t, p, width):  # distance < w: width 0 is empty
    return _trimap_accuracy(t, p, width, strict=True)


def _wrong_city_block(t, p, width):
    return _trimap_accuracy(t, p, width, metric="taxicab")


def _wrong_ignore_scored(t, p, width):
    return _trimap_accuracy(t, p, width, score_ignored=True)


def _wrong_ignore_not_boundary(t, p, width):
    return _trimap_accuracy(t, p, width, ignore_is_boundary=False)


def _wrong_prediction_boundaries(t, p, width):  # the band around the prediction's edges, not the truth's
    return _trimap_accuracy(t, p, width, boundary_of=p)


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_trimap_scores(t, p, width):
    from course_utils.evaluate.boundary import trimap_scores

    return float(trimap_scores(t, p, int(max(t[t != 255].max(), p.max())) + 1, widths=[width])["pixel_acc"][0])


def _delegates_band_module_attribute(t, p, width):
    import importlib

    boundary = importlib.import_module("course_utils.evaluate.boundary")
    counted = boundary.trimap_band(t, width) & (t != 255)
    return float((p[counted] == t[counted]).mean())


def _delegates_boundary_mask(t, p, width):
    from scipy.ndimage import distance_transform_edt

    from course_utils.evaluate import boundary

    counted = (distance_transform_edt(~boundary.boundary_mask(t)) <= width) & (t != 255)
    return float((p[counted] == t[counted]).mean())


@exercise(
    "07.trimap",
    hint="mark the boundary pixels of the ground truth: compare each pixel with its neighbour below and its "
         "neighbour to the right, and mark both pixels of every pair that differs (255 is a label like any "
         "other here). scipy.ndimage.distance_transform_edt gives, for every pixel, the Euclidean distance to "
         "the nearest zero of its input: give it the pixels that are NOT boundary. The band is distance <= w; "
         "score only the band's pixels whose truth is not 255.",
    wrong_answers=[_wrong_one_side, _wrong_eight_neighbours, _wrong_strict_band, _wrong_city_block,
                   _wrong_ignore_scored, _wrong_ignore_not_boundary, _wrong_prediction_boundaries],
    success="pixel accuracy within w pixels of the true boundaries: the measure of DeepLab's Figure 5, where the "
            "CRF's gain is largest.",
    forbidden=("course_utils.evaluate.boundary:boundary_mask", "course_utils.evaluate.boundary:trimap_band",
               "course_utils.evaluate.boundary:trimap_scores", "course_utils.evaluate.boundary:pooled_trimap_scores",
               "course_utils.evaluate.boundary:_band_confusions"),
    delegating=[_delegates_trimap_scores, _delegates_band_module_attribute, _delegates_boundary_mask],
)
def check_trimap(trimap_accuracy) -> None:
    for truth, pred, widths in _trimap_cases():
        for width in widths:
            expected = _trimap_reference(truth, pred, width)
            got = call_answer(trimap_accuracy, truth.copy(), pred.copy(), width)
            expect_close(got, expected, f"trimap_accuracy(a {truth.shape[0]}x{truth.shape[1]} frame, width={width:g})",
                         rel_tol=1e-9)
