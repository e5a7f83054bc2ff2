"""Issue 25: silent wrong results made errors or made right, one test per reported case (library modules)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

# --------------------------------------------------------------------------- one definition of resizing


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.int64, np.uint64])
@pytest.mark.parametrize("size", [(3, 4), (10, 14), (7, 9), (5, 7), (1, 1), (13, 2)])
def test_resize_labels_same_for_every_integer_dtype(dtype, size):
    from course_utils.images import resize_labels

    labels = (np.arange(35).reshape(5, 7) % 100).astype(dtype)
    out = resize_labels(labels, size)
    # independent: the source pixel whose centre is nearest each output pixel's centre
    rows = [min(int(np.floor((i + 0.5) * 5 / size[0])), 4) for i in range(size[0])]
    cols = [min(int(np.floor((j + 0.5) * 7 / size[1])), 6) for j in range(size[1])]
    assert out.dtype == labels.dtype
    assert np.array_equal(out, labels[np.ix_(rows, cols)])


@pytest.mark.parametrize("size", [(8, 12), (8, 5), (8, 3), (8, 20), (16, 16)])
def test_resize_labels_aligned_with_resize_image(size):
    from course_utils.images import resize_image, resize_labels

    mask = np.zeros((8, 8), np.uint8)
    mask[:, 3:] = 1
    image = np.repeat(mask[..., None] * 255, 3, axis=2)
    grey = resize_image(image, size)[0, :, 0].astype(int)
    lab = resize_labels(mask, size)[0]
    # the label edge sits where the resized image crosses half grey
    assert np.array_equal(lab == 1, grey > 128) or np.all((lab == 1) == (grey >= 128))


# --------------------------------------------------------------------------- tensors and images


@pytest.mark.parametrize("bad", [lambda: torch.full((3, 4, 4), 200.0), lambda: torch.full((3, 4, 4), float("nan")),
                                 lambda: torch.full((3, 4, 4), -2.0), lambda: torch.full((3, 4, 4), float("inf"))])
def test_tensor_to_image_refuses_out_of_range_and_nan(bad):
    from course_utils.images import tensor_to_image

    with pytest.raises(ValueError, match="tensor"):
        tensor_to_image(bad())


def test_tensor_to_image_clips_a_small_overshoot_only():
    from course_utils.images import tensor_to_image

    t = torch.tensor([0.0, 0.5, 1.02]).view(3, 1, 1)
    assert tensor_to_image(t)[0, 0].tolist() == [0, 128, 255]
    with pytest.raises(ValueError, match="tolerance"):
        tensor_to_image(t, tolerance=float("nan"))


def test_to_tensors_refuses_bad_labels_and_std():
    from course_utils.data.transforms import to_tensors

    image = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match="labels"):
        to_tensors(image, np.zeros((4, 5, 3), np.uint8))  # RGB labels
    with pytest.raises(TypeError, match="labels"):
        to_tensors(image, np.full((4, 5), 2.7))  # float labels
    with pytest.raises(ValueError, match="labels"):
        to_tensors(image, np.zeros((4, 6), np.uint8))  # another size
    for std in [(0, 1, 1), (1, -1, 1), (1, 1), (1, float("nan"), 1), ()]:
        with pytest.raises(ValueError, match="std"):
            to_tensors(image, std=std)
    with pytest.raises(ValueError, match="mean"):
        to_tensors(image, mean=(0.5, float("inf"), 0.5))
    x, y = to_tensors(image, np.ones((4, 5), np.uint8), mean=(0, 0, 0), std=(1, 1, 1))
    assert x.abs().max() == 0 and y.dtype == torch.int64 and y.sum() == 20


def test_random_crop_padding_fits_the_label_dtype():
    from course_utils.data.transforms import RandomCrop

    image, labels = np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2), np.uint8)
    with pytest.raises(ValueError, match="ignore_index=-1"):
        RandomCrop((4, 4), ignore_index=-1)(image, labels)
    _, out = RandomCrop((4, 4), ignore_index=-1)(image, labels.astype(np.int64))
    assert (out == -1).sum() == 12 and (out == 0).sum() == 4
    for kwargs in [dict(fill=(0, 0, 256)), dict(fill=(0, 0)), dict(ignore_index=1.5)]:
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            RandomCrop((4, 4), **kwargs)


@pytest.mark.parametrize("scale_range", [(0.5, float("inf")), (float("nan"), 1.0), (0, 1), (2, 1), (1,)])
def test_random_scale_refuses_bad_ranges(scale_range):
    from course_utils.data.transforms import RandomScale

    with pytest.raises(ValueError, match="scale_range"):
        RandomScale(scale_range)


# --------------------------------------------------------------------------- unpooling


def test_max_unpool_refuses_an_output_size_that_disagrees():
    from course_utils.ops.unpooling import max_pool_with_positions, max_unpool

    x = np.random.default_rng(0).random((2, 4, 6))
    values, positions = max_pool_with_positions(x, 2)
    ref = torch.nn.functional.max_unpool2d(torch.from_numpy(values)[None], torch.from_numpy(positions)[None], 2,
                                           output_size=(4, 6))[0].numpy()
    assert np.array_equal(max_unpool(values, positions, (4, 6)), ref)
    for size in [(6, 4), (4, 7), (4, 5), (3, 6), (12, 2)]:
        with pytest.raises(ValueError, match="output_size"):
            max_unpool(values, positions, size)
    with pytest.raises(ValueError, match="output_size"):
        max_unpool(values, positions, (6, 6), kernel=2)  # two extra rows: known only with the pooling
    assert max_unpool(values, positions, (5, 6), kernel=2).shape == (2, 5, 6)  # floor mode drops the last row


# --------------------------------------------------------------------------- receptive fields


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


class _Reordered(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(2)
        self.conv = nn.Conv2d(1, 1, 5)

    def forward(self, x):
        return self.pool(torch.relu(self.conv(x)))


class _Dynamic(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        return self.conv(x) if x.sum() > 0 else x


@pytest.mark.parametrize("module", [_Residual(), nn.Sequential(nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, 4, 2)),
                                    nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2)), _Dynamic(),
                                    nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1))])
def test_layers_from_module_refuses_what_it_cannot_follow(module):
    from course_utils.ops.receptive_field import layers_from_module, module_receptive_field

    with pytest.raises(ValueError, match="gradient_footprint|no receptive-field rule"):
        layers_from_module(module)
    with pytest.raises(ValueError, match="gradient_footprint|no receptive-field rule"):
        module_receptive_field(module)


def test_layers_from_module_follows_call_order():
    from course_utils.ops.receptive_field import gradient_footprint, layers_from_module, receptive_field_size

    net = _Reordered()
    layers = layers_from_module(net)
    assert [layer.name for layer in layers] == ["conv", "pool"]
    # the conv before the pool: 5 + (2 - 1) = 6 pixels; pool before conv would give 2 + 4 * 2 = 10
    assert receptive_field_size(layers) == 6
    with torch.no_grad():
        net.conv.weight.fill_(1.0)
        net.conv.bias.fill_(1.0)
    seen = gradient_footprint(nn.Sequential(net.conv, nn.AvgPool2d(2)), 16, in_channels=1) > 0
    assert seen.any(axis=1).sum() == 6


# --------------------------------------------------------------------------- parameters: finite and in range


def _image(h=24, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("call,name", [
    (lambda: __import__("course_utils.saliency.metrics", fromlist=["f_measure"]).f_measure(
        np.full((4, 4), 0.5), np.eye(4, dtype=bool), beta2=float("inf")), "beta2"),
    (lambda: __import__("course_utils.saliency.metrics", fromlist=["f_measure"]).f_measure(
        np.full((4, 4), 0.5), np.eye(4, dtype=bool), threshold=float("nan")), "threshold"),
    (lambda: __import__("course_utils.saliency.metrics", fromlist=["s_measure"]).s_measure(
        np.full((4, 4), 0.5), np.eye(4, dtype=bool), alpha=float("nan")), "alpha"),
    (lambda: __import__("course_utils.saliency.bottom_up", fromlist=["x"]).region_contrast(
        _image(), segment_scale=float("nan")), "segment_scale"),
    (lambda: __import__("course_utils.saliency.bottom_up", fromlist=["x"]).region_contrast(
        _image(), sigma_s2=float("inf")), "sigma_s2"),
    (lambda: __import__("course_utils.saliency.bottom_up", fromlist=["x"]).spectral_residual(
        _image(), sigma=-1.0), "sigma"),
    (lambda: __import__("course_utils.saliency.fixations", fromlist=["x"]).contrast_map(_image(), scales=()), "scales"),
    (lambda: __import__("course_utils.saliency.fixations", fromlist=["x"]).contrast_map(
        _image(), scales=(0.1, -0.2)), "scales"),
    (lambda: __import__("course_utils.saliency.fixations", fromlist=["x"]).contrast_map(
        _image(), centre_scale=-0.1), "centre_scale"),
    (lambda: __import__("course_utils.saliency.fixations", fromlist=["x"]).attention_prior(
        np.eye(8, dtype=bool), blur_sigma=-2.0), "blur_sigma"),
    (lambda: __import__("course_utils.saliency.fixations", fromlist=["x"]).fixation_density(
        np.array([[1, 1]]), (8, 8), sigma=-2.0), "sigma"),
    (lambda: __import__("course_utils.saliency.fixations", fromlist=["x"]).observer_prior(
        _image(), sharpness=float("nan")), "sharpness"),
    (lambda: __import__("course_utils.graphcut.graph_cut", fromlist=["x"]).histogram_data_terms(
        _image(8, 8), np.eye(8, dtype=bool), np.fliplr(np.eye(8, dtype=bool)) & ~np.eye(8, dtype=bool),
        smoothing=float("inf")), "smoothing"),
])
def test_parameters_not_finite_or_out_of_range_are_refused(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_simulate_eye_tracking_bounded_before_the_loop():
    from course_utils.saliency.fixations import simulate_eye_tracking

    prior = np.ones((8, 8))
    with pytest.raises(ValueError, match="observers"):
        _fast(simulate_eye_tracking, prior, observers=10**8)
    with pytest.raises(ValueError, match="fixations_per_observer"):
        _fast(simulate_eye_tracking, prior, observers=2, fixations_per_observer=10**15)


def _fast(fn, *args, **kwargs):
    import time

    start = time.perf_counter()
    try:
        fn(*args, **kwargs)
    finally:
        assert time.perf_counter() - start < 5.0


def test_errors_name_the_argument_given():
    from course_utils.graphcut.grabcut import grabcut
    from course_utils.graphcut.graph_cut import segment_with_seeds

    image = _image(16, 16)
    with pytest.raises(ValueError, match=r"^gamma"):
        grabcut(image, (2, 2, 10, 10), gamma=-1)
    fg = np.zeros((16, 16), bool)
    fg[8, 8] = True
    bg = np.zeros((16, 16), bool)
    bg[0, 0] = True
    with pytest.raises(ValueError, match=r"^lam"):
        segment_with_seeds(image, fg, bg, lam=1e308)
    assert segment_with_seeds(image, fg, bg, lam=1e9).mask[8, 8]  # large but finite stays exact


def test_dense_crf_size_refused_by_the_byte_check(monkeypatch):
    from course_utils.crf.dense_crf import crf_bytes, dense_crf

    monkeypatch.setenv("SEGCOURSE_MAX_BYTES", str(2 * 2**30))
    image = np.zeros((1500, 1500, 3), np.uint8)
    probs = torch.full((21, 1500, 1500), 1 / 21)
    with pytest.raises(ValueError, match=r"probs=.* would allocate about .*GiB"):
        _fast(dense_crf, image, probs)
    assert crf_bytes(1500, 1500, 21) > 4 * 2**30


# --------------------------------------------------------------------------- generated data checked, not trusted


def test_voc_writer_refuses_foreign_roots(tmp_path):
    from course_utils.data.voc import write_synthetic_voc

    for layout in ("JPEGImages", "VOCdevkit/VOC2007/JPEGImages", "VOCdevkit/JPEGImages"):
        root = tmp_path / layout.replace("/", "_")
        (root / layout).mkdir(parents=True)
        (root / layout / "2007_000032.jpg").write_bytes(b"jpeg")
        with pytest.raises(FileExistsError, match="not writing"):
            write_synthetic_voc(root, n_train=1, n_val=1, size=(16, 16))
        assert (root / layout / "2007_000032.jpg").read_bytes() == b"jpeg"
        assert not (root / "VOCdevkit" / "VOC2012").exists()


def test_voc_rerun_verifies_every_file(tmp_path):
    from course_utils.data.voc import write_synthetic_voc

    root = write_synthetic_voc(tmp_path, n_train=3, n_val=1, size=(24, 24), seed=2)
    voc = root / "VOCdevkit" / "VOC2012"
    frame = voc / "JPEGImages" / "2012_000002.jpg"
    whole = frame.read_bytes()
    frame.write_bytes(whole[: len(whole) // 2])  # a truncated frame
    with pytest.raises(ValueError, match="2012_000002.jpg differs"):
        write_synthetic_voc(root, n_train=3, n_val=1, size=(24, 24), seed=2)
    assert frame.read_bytes() == whole[: len(whole) // 2]  # refused, not overwritten
    frame.unlink()
    write_synthetic_voc(root, n_train=3, n_val=1, size=(24, 24), seed=2)  # a missing file is drawn again
    assert frame.read_bytes() == whole
    (voc / "SEGCOURSE_MANIFEST.json").unlink()  # no manifest: whole files are adopted, a broken one refused
    (voc / "SegmentationClass" / "2012_000001.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(ValueError, match="2012_000001.png was not written by segcourse, or is damaged"):
        write_synthetic_voc(root, n_train=3, n_val=1, size=(24, 24), seed=2)


def test_two_voc_runs_on_one_root_do_not_collide(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from course_utils.data.voc import write_synthetic_voc; "
            "write_synthetic_voc(sys.argv[1], n_train=24, n_val=8, size=(48, 48), seed=5)")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    errors = [p.communicate()[1] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], errors
    voc = tmp_path / "VOCdevkit" / "VOC2012"
    assert len(list((voc / "JPEGImages").glob("*.jpg"))) == 32
    assert not [p for p in voc.rglob(".*") if "tmp" in p.name]  # no temporary left behind
    from course_utils.data.voc import write_synthetic_voc

    write_synthetic_voc(tmp_path, n_train=24, n_val=8, size=(48, 48), seed=5)  # every file verifies


@pytest.mark.parametrize("flags,name", [(["--train", "-1"], "--train"), (["--seed", "-3"], "--seed"),
                                        (["--size", "0", "8"], "--size"), (["--workers", "0"], "--workers"),
                                        (["--train", "0", "--val", "0"], "--train"),
                                        (["--style", "photo"], "--style")])
def test_make_voc_synthetic_names_the_flag(tmp_path, capsys, flags, name):
    from data_scripts.make_voc_synthetic import main

    assert main(["--root", str(tmp_path / "v"), *flags]) == 2
    assert name in capsys.readouterr().err
    assert not (tmp_path / "v").exists()  # refused before anything is written
