"""Lessons 4-6: the worked steps' library code, and the notebooks' exercise headings, order and asserts."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.exercises.notebook import find_exercise_cells
from tests.notebook_utils import NOTEBOOKS, read

LESSONS = ("04_fcn_deconvolution", "05_dilated_convolution", "06_dense_crf")


# ----------------------------------------------------------------------------------------------- lesson 4
@pytest.mark.parametrize("size", [500, 224, 129])
@pytest.mark.parametrize("builder", ["alexnet", "vgg16"])
def test_size_walk_formulas_are_what_pytorch_computes(builder, size):
    from course_utils.nets.fcn import fcn_alexnet, fcn_vgg16
    from course_utils.viz.fcn_steps import body_size_walk, head_size_walk

    with torch.device("meta"):
        net = (fcn_alexnet if builder == "alexnet" else fcn_vgg16)("8s")
    rows = body_size_walk(net, size) + head_size_walk(net, size)
    assert rows[0].size_in == size and rows[-1].measured == size
    for r in rows:
        assert r.formula == r.measured, r
    names = [r.name for r in rows]
    assert len(names) == len(set(names))
    if size == 500 and builder == "alexnet":
        side = {r.name: r.measured for r in rows}
        assert (side["fc7"], side["upscore2"], side["upscore_pool2"]) == (16, 34, 70)  # the lecture's sizes


def test_head_walk_needs_a_skip_net_and_body_walk_an_fcn():
    from course_utils.nets.fcn import fcn_vgg16
    from course_utils.viz.fcn_steps import body_size_walk, head_size_walk

    with torch.device("meta"):
        net = fcn_vgg16("32s")
    with pytest.raises(ValueError, match="16s or FCN-8s"):
        head_size_walk(net)
    with pytest.raises(TypeError, match="FCN"):
        body_size_walk(torch.nn.Conv2d(3, 3, 3))
    with pytest.raises(ValueError, match="size"):
        body_size_walk(net, 0)


def test_crop_offsets_are_the_reference_caffe_nets():
    from course_utils.viz.fcn_steps import crop_offset_table

    table = {(v, b): (off, mis) for v, b, off, mis in crop_offset_table()}
    assert table[("8s", "VGG16")] == ({"score_pool4": 5, "score_pool3": 9, "final": 31}, {})
    assert table[("16s", "VGG16")][0] == {"score_pool4": 5, "final": 27}
    assert table[("32s", "VGG16")][0] == {"final": 19}
    assert "score_pool2" in table[("8s", "AlexNet")][0] and table[("8s", "AlexNet")][1]  # rounded, residual shown


def test_architecture_diagram_uses_the_forward_pass_sizes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.nets.fcn import fcn_shapes
    from course_utils.viz.fcn_steps import plot_fcn_architecture

    fig, shapes = plot_fcn_architecture("vgg16", 500)
    try:
        assert shapes["8s"] == fcn_shapes("vgg16", "8s", (500, 500))
        texts = " ".join(t.get_text() for t in fig.axes[0].texts)
        for name in ("pool3", "pool4", "upscore2", "upscore8", "fuse"):
            assert name in texts
        assert f"{shapes['8s']['pool4'][1]}x{shapes['8s']['pool4'][2]}x{shapes['8s']['pool4'][0]}" in texts
    finally:
        plt.close(fig)


@pytest.mark.parametrize("seed", [0, 4, 9])
def test_pixel_loss_example_is_torch_cross_entropy(seed):
    from course_utils.train.fcn import fcn_loss
    from course_utils.viz.fcn_steps import pixel_loss_example

    ex = pixel_loss_example(seed=seed, size=4, num_classes=5, void=((0, 0), (3, 2)))
    logits, labels = torch.from_numpy(ex.logits)[None], torch.from_numpy(ex.labels)[None]
    per_pixel = F.cross_entropy(logits, labels, ignore_index=255, reduction="none")[0].numpy()
    valid = ex.labels != 255
    assert ex.labelled == valid.sum() == 14
    assert np.allclose(ex.pixel_loss[valid], per_pixel[valid]) and np.isnan(ex.pixel_loss[~valid]).all()
    assert abs(ex.loss - fcn_loss(logits, labels).item()) < 1e-12
    assert np.allclose(ex.probs.sum(0), 1.0)


def test_boundary_accuracy_counts_the_band_and_the_rest():
    from course_utils.viz.fcn_steps import boundary_accuracy

    labels = np.zeros((1, 20, 20), np.int64)
    labels[0, :, 10:] = 1
    labels[0, :, 10] = 255  # the void outline
    assert boundary_accuracy(labels, np.where(labels == 255, 0, labels), radius=2) == (1.0, 1.0)
    pred = np.where(labels == 255, 0, labels).copy()
    pred[0, :, 11] = 0  # wrong right next to the outline only
    near, far = boundary_accuracy(labels, pred, radius=2)
    assert near == pytest.approx(3 / 4) and far == 1.0
    with pytest.raises(ValueError, match="one shape"):
        boundary_accuracy(labels, pred[0])


def test_crop_shift_zero_is_the_nets_own_prediction_and_shifts_are_checked():
    from course_utils.nets.fcn import fcn_vgg16
    from course_utils.viz.fcn_steps import boundary_accuracy, crop_shift_scores

    torch.manual_seed(0)
    net = fcn_vgg16("8s", 3, width=1 / 16).eval()
    with torch.no_grad():
        for name in ("score_fr", "score_pool4", "score_pool3"):
            getattr(net, name).weight.normal_(0, 0.3)
    images = torch.randn(2, 3, 48, 40)
    labels = np.random.default_rng(0).integers(0, 3, (2, 48, 40))
    labels[:, 20, :] = 255
    with torch.no_grad():
        own = net(images).argmax(1).numpy()
    scores = crop_shift_scores(net, images, labels, shifts=(0, 1))
    assert scores[0] == boundary_accuracy(labels, own)
    with pytest.raises(ValueError, match="margin"):
        crop_shift_scores(net, images, labels, shifts=(1000,))


def test_parameter_count_leaves_out_only_the_fixed_upsampling():
    from course_utils.nets.fcn import fcn_vgg16
    from course_utils.viz.fcn_steps import fcn_parameter_count

    for variant, final in (("32s", "upscore"), ("16s", "upscore16"), ("8s", "upscore8")):
        net = fcn_vgg16(variant, width=1 / 16)
        total = sum(p.numel() for p in net.parameters())
        assert fcn_parameter_count(net) == total - getattr(net, final).weight.numel() - (
            0 if getattr(net, final).bias is None else getattr(net, final).bias.numel())


def test_lesson04_targets_live_in_config():
    from course_utils.config import FCN_PAPER_TRAINING, LESSON04_TARGETS

    assert FCN_PAPER_TRAINING["lr"] == {"AlexNet": 1e-3, "VGG16": 1e-4, "GoogLeNet": 1e-5}
    assert FCN_PAPER_TRAINING["minibatch"] == 20
    from course_utils.train.fcn import FCN_DATA

    assert set(LESSON04_TARGETS) == set(FCN_DATA)  # margins for every data set the recipe can train on
    keys = {style: set(targets) for style, targets in LESSON04_TARGETS.items()}
    assert len({frozenset(k) for k in keys.values()}) == 1, keys  # the same keys for every data set
    text = "".join(c.source for c in read(_path("04_fcn_deconvolution")).cells if c.cell_type == "code")
    assert 'targets = LESSON04_TARGETS[COURSE_FCN["data"]]' in text
    for key in LESSON04_TARGETS["scenes"]:
        assert f'targets["{key}"]' in text, f"lesson 4 does not use its targets[{key!r}]"


# ----------------------------------------------------------------------------------------------- lesson 5
def test_one_switch_gains_on_the_lecture_table():
    from course_utils.evaluate.crf import LECTURE_RESULTS
    from course_utils.viz.dilated import one_switch_gains

    gains = {(g["backbone"], g["switch"], tuple(g["context"])): g["gain"] for g in one_switch_gains(LECTURE_RESULTS)}
    assert gains[("ResNet-101", "largefov", ("full",))] == pytest.approx(2.6)
    assert gains[("ResNet-101", "crf", ("full", "aug", "aspp"))] == pytest.approx(0.4)
    assert gains[("VGG-16", "crf", ("largefov",))] == pytest.approx(1.21)
    assert not any(k[1] == "aspp" and "largefov" in k[2] for k in gains)  # LargeFOV -> ASPP is two switches
    with pytest.raises(ValueError, match="lacks"):
        one_switch_gains([{"backbone": "x", "miou": 1.0}])


# ----------------------------------------------------------------------------------------------- lesson 6
@pytest.mark.parametrize("seed", range(4))
def test_two_pixel_update_is_the_exact_crfs_step(seed):
    from course_utils.crf.dense_crf import CRFParams
    from course_utils.crf.exact import ExactDenseCRF
    from course_utils.viz.crf_steps import two_pixel_update

    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 256, (2, 3))
    a, b = rng.uniform(0.05, 0.95, 2)
    params = CRFParams(w1=float(rng.uniform(1, 6)), sigma_alpha=float(rng.uniform(1, 20)),
                       sigma_beta=float(rng.uniform(5, 80)), w2=float(rng.uniform(0.5, 4)),
                       sigma_gamma=float(rng.uniform(0.5, 3)))
    u = two_pixel_update(colours, ((a, 1 - a), (b, 1 - b)), params)
    crf = ExactDenseCRF(u.image, params, normalization="none", include_self=False)
    _, new_q = crf.step(torch.tensor(u.unary, dtype=torch.float32), torch.tensor(u.q, dtype=torch.float32))
    assert crf.kernel[0, 1].item() == pytest.approx(u.k, rel=1e-6)  # the library holds features in float32
    assert np.allclose(new_q.numpy(), u.new_q, atol=1e-6)
    assert np.allclose(u.new_q.sum(1), 1.0)


def test_two_pixel_update_rejects_bad_input():
    from course_utils.viz.crf_steps import two_pixel_update

    with pytest.raises(ValueError, match="colours"):
        two_pixel_update(colours=((300, 0, 0), (0, 0, 0)))
    with pytest.raises(ValueError, match="probs"):
        two_pixel_update(probs=((0.5, 0.6), (0.5, 0.5)))


def test_crf_gain_on_scenes_recounts():
    from course_utils.crf import CRFParams, coarse_probs, dense_crf
    from course_utils.data.voc import VOCSegmentationDataset, course_voc_root
    from course_utils.viz.crf_steps import crf_gain_on_scenes

    scenes = VOCSegmentationDataset(course_voc_root(), "val")
    picked = [scenes[i] for i in range(3)]
    params = CRFParams.from_config()
    gain = crf_gain_on_scenes([s[0] for s in picked], [s[1] for s in picked], 21, params, iterations=3)
    image, labels = picked[1]
    probs = coarse_probs(labels, 21, stride=8, rng=1)[0]
    refined = dense_crf(image, probs, params=params, iterations=3).labels.numpy()
    valid = labels != 255
    assert gain.per_image[1, 1] == pytest.approx((refined[valid] == labels[valid]).mean())
    assert gain.per_image[1, 0] == pytest.approx((probs.argmax(0).numpy()[valid] == labels[valid]).mean())
    assert 0 <= gain.improved <= 3 and gain.near[0] <= gain.coarse + 1e-9
    with pytest.raises(ValueError, match="same length"):
        crf_gain_on_scenes([], [], 21, params)


# ----------------------------------------------------------------------------------------------- notebooks
def _path(stem):
    return next(p for p in NOTEBOOKS if p.stem == stem)


@pytest.mark.parametrize("stem", LESSONS)
def test_exercise_headings_are_numbered_once_and_right_before_the_exercise(stem):
    nb = read(_path(stem))
    lesson = int(stem[:2])
    exercises = find_exercise_cells(nb, _path(stem))
    code_positions = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for k, ex in enumerate(exercises, 1):
        pos = next(i for i in code_positions if f'check("{ex.exercise_id}"' in nb.cells[i].source)
        before = nb.cells[pos - 1]
        heading = f"### Exercise {lesson}.{k} ({ex.exercise_id.split('.', 1)[1]})"
        assert before.cell_type == "markdown" and heading in before.source, (stem, heading)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for line in re.findall(r"^#+ Exercise[^\n]*", text, flags=re.M):
        assert re.fullmatch(rf"### Exercise {lesson}\.\d+ \(\w+\)", line), f"{stem}: another heading form: {line!r}"
    others = re.findall(r"\*\*Exercise|Exercise \d+\.\d+[:.](?!\d)|Exercise 0\d\.", text)
    assert not others, f"{stem}: other numbering forms {others}"


@pytest.mark.parametrize("stem", LESSONS)
def test_no_solution_line_before_its_exercise(stem):
    nb = read(_path(stem))
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for ex in find_exercise_cells(nb, _path(stem)):
        pos = next(i for i, src in code if f'check("{ex.exercise_id}"' in src)
        body = ex.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        key_lines = [ln.split("#")[0].strip() for ln in body.splitlines()]
        key_lines = [ln for ln in key_lines if len(ln) >= 24 and not ln.startswith(("for ", "return out"))]
        earlier = "\n".join(src for i, src in code if i < pos)
        earlier += "\n".join(c.source for c in nb.cells[:pos] if c.cell_type == "markdown")
        for line in key_lines:
            assert line not in earlier, f"{stem}: {ex.exercise_id}'s line {line!r} appears before the exercise"


def _literal_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                continue
            names.add(node.targets[0].id)
    return names


def _operands(test: ast.AST) -> list[ast.AST]:
    if isinstance(test, ast.BoolOp):
        return [o for v in test.values for o in _operands(v)]
    if isinstance(test, ast.Compare):
        return [test.left, *test.comparators]
    if isinstance(test, ast.UnaryOp):
        return _operands(test.operand)
    return [test]


def _is_literal(node: ast.AST, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False


@pytest.mark.parametrize("stem", LESSONS)
def test_no_assert_on_literals_only(stem):
    for i, cell in enumerate(read(_path(stem)).cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse("\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!"))))
        names = _literal_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert) and all(_is_literal(o, names) for o in _operands(node.test)):
                raise AssertionError(f"{stem} cell {i}: an assert on literals only: {ast.unparse(node.test)}")
