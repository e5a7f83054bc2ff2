"""Checks for lesson 04 (FCN: transposed convolution, bilinear kernels, the FCN-8s head, the four metrics)."""

from __future__ import annotations

import numpy as np

from course_utils.evaluate.segmentation import segmentation_scores
from course_utils.exercises.compare import call_answer, expect_array, expect_close
from course_utils.exercises.core import Incorrect, exercise
from course_utils.ops.bilinear import bilinear_kernel


# --------------------------------------------------------------------------------------------- 04.bilinear_kernel
def _wrong_even_centre_only(size):
    factor = (size + 1) // 2
    centre = factor - 0.5  # right for even sizes only
    tent = 1 - np.abs(np.arange(size) - centre) / factor
    return np.outer(tent, tent)


def _wrong_divide_by_size(size):
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    tent = 1 - np.abs(np.arange(size) - centre) / size
    return np.outer(tent, tent)


def _wrong_one_dimensional(size):
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    return 1 - np.abs(np.arange(size) - centre) / factor


def _wrong_sum_not_product(size):
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 else factor - 0.5
    tent = 1 - np.abs(np.arange(size) - centre) / factor
    return (tent[:, None] + tent[None, :]) / 2


def _delegates_bilinear_imported_name(size):
    return bilinear_kernel(size)  # the library's kernel, imported as a name


def _delegates_bilinear_module_attribute(size):
    from course_utils.ops import bilinear

    return bilinear.bilinear_kernel(size)


def _delegates_bilinear_deconv_weight(size):
    from course_utils.ops.bilinear import bilinear_deconv_weight

    return bilinear_deconv_weight(1, size)[0, 0].numpy()


@exercise(
    "04.bilinear_kernel",
    hint="the 2-D kernel is the outer product of a 1-D 'tent' that falls linearly from the kernel's centre; "
         "work out the upsampling factor and where the centre lies for even and for odd sizes.",
    wrong_answers=[_wrong_even_centre_only, _wrong_divide_by_size, _wrong_one_dimensional, _wrong_sum_not_product],
    success="this kernel makes a stride-f deconvolution compute bilinear interpolation (FCN's upscore layers).",
    forbidden=("course_utils.ops.bilinear:bilinear_kernel", "course_utils.ops.bilinear:bilinear_deconv_weight",
               "course_utils.ops.bilinear:BilinearDeconv"),
    delegating=[_delegates_bilinear_imported_name, _delegates_bilinear_module_attribute,
                _delegates_bilinear_deconv_weight],
)
def check_bilinear_kernel(answer) -> None:
    for size in (4, 3, 1, 2, 5, 8, 16, 63, 64):
        got = call_answer(answer, size)
        if not isinstance(got, np.ndarray):
            got = np.asarray(got) if got is not None else got
        expect_array(got, bilinear_kernel(size), f"bilinear_kernel({size})", atol=1e-9, check_dtype=False,
                     index_names="position")


# --------------------------------------------------------------------------------------------- 04.conv_transpose_scatter
def _reference_scatter(x, kernel, stride, padding):
    import torch
    import torch.nn.functional as F

    out = F.conv_transpose2d(torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None],
                             stride=stride, padding=padding)
    return out[0, 0].numpy()


def _wrong_no_crop(x, kernel, stride, padding):
    h, w = x.shape
    k = kernel.shape[0]
    out = np.zeros(((h - 1) * stride + k, (w - 1) * stride + k))
    for i in range(h):
        for j in range(w):
            out[i * stride:i * stride + k, j * stride:j * stride + k] += x[i, j] * kernel
    return out


def _wrong_assign_not_add(x, kernel, stride, padding):
    h, w = x.shape
    k = kernel.shape[0]
    out = np.zeros(((h - 1) * stride + k, (w - 1) * stride + k))
    for i in range(h):
        for j in range(w):
            out[i * stride:i * stride + k, j * stride:j * stride + k] = x[i, j] * kernel
    return out[padding:out.shape[0] - padding, padding:out.shape[1] - padding]


def _wrong_flipped_kernel(x, kernel, stride, padding):
    return _reference_scatter(x, np.ascontiguousarray(kernel[::-1, ::-1]), stride, padding)


def _delegates_functional(x, kernel, stride, padding):
    import torch.nn.functional as F

    return _torch_2d(F.conv_transpose2d, x, kernel, stride, padding)


def _delegates_torch_builtin(x, kernel, stride, padding):
    import torch

    return _torch_2d(torch.conv_transpose2d, x, kernel, stride, padding)


def _delegates_module(x, kernel, stride, padding):
    import torch
    from torch import nn

    layer = nn.ConvTranspose2d(1, 1, kernel.shape[0], stride=stride, padding=padding, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(kernel)[None, None])
        return layer(torch.from_numpy(x)[None, None])[0, 0].numpy()


def _delegates_library_scatter(x, kernel, stride, padding):
    import torch

    from course_utils.ops.transposed_conv import conv_transpose2d_scatter

    return conv_transpose2d_scatter(torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None],
                                    stride, padding)[0, 0].numpy()


def _torch_2d(fn, x, kernel, stride, padding):
    import torch

    return fn(torch.from_numpy(x)[None, None], torch.from_numpy(kernel)[None, None], stride=stride,
              padding=padding)[0, 0].numpy()


@exercise(
    "04.conv_transpose_scatter",
    hint="start from an output canvas big enough for every footprint; each input pixel adds its value times "
         "the whole kernel at a position that moves by `stride` per input step; the padding is removed at the end.",
    wrong_answers=[_wrong_no_crop, _wrong_assign_not_add, _wrong_flipped_kernel],
    success="a transposed convolution scatters and adds: one input pixel paints a whole kernel-sized patch.",
    forbidden=("torch.nn.functional:conv_transpose2d", "torch:conv_transpose2d", "torch.nn:ConvTranspose2d",
               "course_utils.ops.transposed_conv:conv_transpose2d_scatter",
               "course_utils.ops.transposed_conv:conv_transpose2d_as_matrix",
               "course_utils.ops.transposed_conv:conv_transpose2d_zero_insertion",
               "course_utils.ops.transposed_conv:conv_matrix"),
    delegating=[_delegates_functional, _delegates_torch_builtin, _delegates_module, _delegates_library_scatter],
)
def check_conv_transpose_scatter(answer) -> None:
    rng = np.random.default_rng(4)
    cases = [((2, 2), 3, 1, 0), ((3, 3), 3, 2, 1), ((3, 4), 4, 2, 1), ((2, 3), 3, 3, 0), ((4, 2), 5, 2, 2)]
    for shape, k, s, p in cases:
        x = rng.integers(-3, 4, size=shape).astype(np.float64)
        kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float64)
        kernel[0, -1] = 5.0  # not symmetric: a flipped kernel gives a different result
        got = call_answer(answer, x.copy(), kernel.copy(), s, p)
        want = _reference_scatter(x, kernel, s, p)
        expect_array(np.asarray(got, dtype=np.float64) if isinstance(got, (np.ndarray, list)) else got, want,
                     f"conv_transpose_scatter(x {shape}, kernel {k}x{k}, stride={s}, padding={p})",
                     atol=1e-9, check_dtype=False, index_names="output pixel")


# --------------------------------------------------------------------------------------------- 04.mean_iu
def _wrong_mean_accuracy(cm):
    cm = np.asarray(cm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nanmean(np.diag(cm) / cm.sum(axis=1)))


def _wrong_union_without_subtracting(cm):
    cm = np.asarray(cm, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nanmean(np.diag(cm) / (cm.sum(axis=1) + cm.sum(axis=0))))


def _wrong_absent_classes_count_as_zero(cm):
    cm = np.asarray(cm, dtype=np.float64)
    union = cm.sum(axis=1) + cm.sum(axis=0) - np.diag(cm)
    return float(np.mean(np.divide(np.diag(cm), union, out=np.zeros_like(union), where=union > 0)))


def _wrong_pixel_accuracy(cm):
    cm = np.asarray(cm, dtype=np.float64)
    return float(np.trace(cm) / cm.sum())


def _cm_cases() -> list[tuple[np.ndarray, str]]:
    rng = np.random.default_rng(7)
    hand = np.array([[50, 2, 3], [4, 20, 1], [6, 0, 14]])  # rows: truth, columns: prediction
    absent = rng.integers(0, 30, size=(5, 5))
    absent[3, :] = 0
    absent[:, 3] = 0  # class 3 never appears: its IU is 0/0 and is left out
    predicted_only = rng.integers(1, 20, size=(4, 4))
    predicted_only[2, :] = 0  # class 2 is predicted but absent from the truth: IU 0, counted
    return [(hand, "a 3-class matrix with some confusion"),
            (absent, "a 5-class matrix where class 3 appears neither in the truth nor in the prediction"),
            (predicted_only, "a 4-class matrix where class 2 is predicted but absent from the truth"),
            (np.diag([5, 0, 7]), "a perfect prediction where class 1 is absent")]


def _delegates_scores_imported_name(cm):
    return segmentation_scores(cm)["mean_iu"]


def _delegates_scores_module_attribute(cm):
    from course_utils.evaluate import segmentation

    return segmentation.segmentation_scores(cm)["mean_iu"]


@exercise(
    "04.mean_iu",
    hint="per class: intersection = correctly labelled pixels; union = pixels of the class in the truth or in the "
         "prediction, counted once. Average over the classes for which the ratio is defined.",
    wrong_answers=[_wrong_mean_accuracy, _wrong_union_without_subtracting, _wrong_absent_classes_count_as_zero,
                   _wrong_pixel_accuracy],
    success="mean IU, the FCN paper's headline score (62.2 for FCN-8s on VOC 2012 test).",
    forbidden=("course_utils.evaluate.segmentation:segmentation_scores",
               "course_utils.evaluate.segmentation:format_scores"),
    delegating=[_delegates_scores_imported_name, _delegates_scores_module_attribute],
)
def check_mean_iu(answer) -> None:
    for cm, description in _cm_cases():
        got = call_answer(answer, cm.copy())
        want = segmentation_scores(cm)["mean_iu"]
        if got is not None and not isinstance(got, (int, float, np.floating, np.integer)) and np.ndim(got) != 0:
            raise Incorrect(f"mean_iu should return one number, got an array of shape {np.shape(got)}")
        expect_close(got, want, f"mean_iu(cm) for {description}", rel_tol=1e-9)


# --------------------------------------------------------------------------------------------- 04.conv_round_trip
def _round_trip_cases():
    """(x, weight, stride, padding, what): shapes where the convolution's floor drops pixels, and where it does not."""
    import torch

    g = torch.Generator().manual_seed(41)
    cases = []
    for (h, w), c_in, c_out, k, s, p in [((5, 5), 1, 1, 3, 2, 1),   # the lecture's 5x5 -> 3x3 (nothing dropped)
                                         ((6, 6), 1, 1, 3, 2, 1),   # one row and column dropped: output_padding 1
                                         ((6, 7), 2, 3, 3, 2, 1),   # dropped in one direction only
                                         ((8, 7), 1, 2, 4, 3, 1),   # stride 3: output_padding (0, 2)
                                         ((4, 4), 1, 1, 3, 1, 1)]:  # stride 1: C is square, still not the inverse
        x = torch.randn(1, c_in, h, w, generator=g, dtype=torch.float64)
        weight = torch.randn(c_out, c_in, k, k, generator=g, dtype=torch.float64)
        cases.append((x, weight, s, p, f"x {h}x{w} with {c_in} channel(s), kernel {k}x{k}, {c_out} output "
                                       f"channel(s), stride {s}, padding {p}"))
    return cases


def _wrong_identity(x, weight, stride, padding):
    return x.clone()  # "the transposed convolution undoes the convolution": it does not


def _wrong_no_output_padding(x, weight, stride, padding):
    import torch.nn.functional as F

    y = F.conv2d(x, weight, stride=stride, padding=padding)
    return F.conv_transpose2d(y, weight, stride=stride, padding=padding)


def _wrong_flipped_kernel_round_trip(x, weight, stride, padding):
    import torch.nn.functional as F

    y = F.conv2d(x, weight, stride=stride, padding=padding)
    lost = tuple((n + 2 * padding - weight.shape[-1]) % stride for n in x.shape[-2:])
    return F.conv_transpose2d(y, weight.flip(-1, -2), stride=stride, padding=padding, output_padding=lost)


def _wrong_transpose_stride_one(x, weight, stride, padding):
    import torch.nn.functional as F

    y = F.conv2d(x, weight, stride=stride, padding=padding)
    up = F.interpolate(y, size=x.shape[-2:], mode="nearest")  # "undo the stride by repeating pixels"
    return F.conv_transpose2d(up, weight, padding=padding)[..., :x.shape[-2], :x.shape[-1]]


def _delegates_conv_matrix(x, weight, stride, padding):
    from course_utils.ops.transposed_conv import conv_matrix

    C = conv_matrix(weight, tuple(x.shape[-2:]), stride=stride, padding=padding)
    return (C.T @ (C @ x.flatten())).reshape(x.shape)


def _delegates_matrix_transpose(x, weight, stride, padding):
    import torch.nn.functional as F

    from course_utils.ops import transposed_conv

    y = F.conv2d(x, weight, stride=stride, padding=padding)
    C = transposed_conv.conv_matrix(weight, tuple(x.shape[-2:]), stride=stride, padding=padding)
    return (C.T @ y.flatten()).reshape(x.shape)


@exercise(
    "04.conv_round_trip",
    hint="two torch calls: the convolution, then the transposed convolution with the same weight, stride and "
         "padding. When the convolution's floor dropped rows or columns, the transposed convolution needs "
         "`output_padding` (one value per direction) to come back to x's shape.",
    wrong_answers=[_wrong_identity, _wrong_no_output_padding, _wrong_flipped_kernel_round_trip,
                   _wrong_transpose_stride_one],
    success="C^T C x: the transposed convolution restores the shape of x, not its values (C^T is C's adjoint, "
            "not its inverse).",
    forbidden=("course_utils.ops.transposed_conv:conv_matrix",
               "course_utils.ops.transposed_conv:conv_transpose2d_as_matrix",
               "course_utils.ops.transposed_conv:conv2d_as_matrix"),
    delegating=[_delegates_conv_matrix, _delegates_matrix_transpose],
)
def check_conv_round_trip(answer) -> None:
    from course_utils.ops.transposed_conv import conv_matrix

    for x, weight, s, p, what in _round_trip_cases():
        got = call_answer(answer, x.clone(), weight.clone(), s, p)
        C = conv_matrix(weight, tuple(x.shape[-2:]), stride=s, padding=p)
        want = (C.T @ (C @ x.flatten())).reshape(x.shape)
        expect_array(got, want, f"conv_round_trip for {what}", atol=1e-9, rtol=1e-9, check_dtype=False,
                     index_names="(image, channel, row, column)")


# --------------------------------------------------------------------------------------------- 04.fcn8s_head
def _head_net(seed: int = 8):
    """A narrow FCN-8s (VGG16, BatchNorm) in eval mode whose head layers all hold random, non-trivial weights.

    The scoring layers start at zero and the 2x deconvolutions as bilinear kernels in the library; both are
    perturbed here so that a head which skips a layer, or uses plain interpolation instead of a learnt
    deconvolution, gives different scores.
    """
    import torch

    from course_utils.nets.fcn import fcn_vgg16

    torch.manual_seed(seed)
    net = fcn_vgg16("8s", 5, width=1 / 16, batch_norm=True).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name in ("score_fr", "score_pool4", "score_pool3"):
            layer = getattr(net, name)
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=g) * 0.2)
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=g) * 0.2)
        for name in ("upscore2", "upscore_pool4"):
            layer = getattr(net, name)
            layer.weight.add_(torch.randn(layer.weight.shape, generator=g) * 0.05)
    return net


def _wrong_crop_top_left(net, pool3, pool4, fc7, image_size):
    up2 = net.upscore2(net.score_fr(fc7))
    h, w = up2.shape[-2:]
    fuse4 = up2 + net.score_pool4(pool4)[..., :h, :w]
    up4 = net.upscore_pool4(fuse4)
    h, w = up4.shape[-2:]
    fuse3 = up4 + net.score_pool3(pool3)[..., :h, :w]
    H, W = image_size
    return net.upscore8(fuse3)[..., :H, :W]


def _centre(t, size):
    h, w = size
    top, left = (t.shape[-2] - h) // 2, (t.shape[-1] - w) // 2
    return t[..., top:top + h, left:left + w]


def _wrong_centre_crop(net, pool3, pool4, fc7, image_size):
    up2 = net.upscore2(net.score_fr(fc7))
    fuse4 = up2 + _centre(net.score_pool4(pool4), up2.shape[-2:])
    up4 = net.upscore_pool4(fuse4)
    fuse3 = up4 + _centre(net.score_pool3(pool3), up4.shape[-2:])
    return _centre(net.upscore8(fuse3), tuple(image_size))


def _crop_at(t, offset, size):
    h, w = size
    return t[..., offset:offset + h, offset:offset + w]


def _wrong_interpolate_not_deconv(net, pool3, pool4, fc7, image_size):
    import torch.nn.functional as F

    def up(t):  # plain bilinear 2x, sized like the deconvolution's output
        return F.interpolate(t, size=((t.shape[-2] - 1) * 2 + 4, (t.shape[-1] - 1) * 2 + 4), mode="bilinear",
                             align_corners=False)

    up2 = up(net.score_fr(fc7))
    fuse4 = up2 + _crop_at(net.score_pool4(pool4), net.offsets["score_pool4"], up2.shape[-2:])
    up4 = up(fuse4)
    fuse3 = up4 + _crop_at(net.score_pool3(pool3), net.offsets["score_pool3"], up4.shape[-2:])
    return _crop_at(net.upscore8(fuse3), net.offsets["final"], tuple(image_size))


def _wrong_pool3_skipped(net, pool3, pool4, fc7, image_size):
    up2 = net.upscore2(net.score_fr(fc7))
    fuse4 = up2 + _crop_at(net.score_pool4(pool4), net.offsets["score_pool4"], up2.shape[-2:])
    up4 = net.upscore_pool4(fuse4)  # ... and pool3's scores never added
    return _crop_at(net.upscore8(up4), net.offsets["final"], tuple(image_size))


def _delegates_net_forward(net, pool3, pool4, fc7, image_size):
    import torch

    net.backbone.forward = lambda x: {"skip8": pool3, "skip16": pool4, "out": fc7}  # feed the maps in
    return net(torch.zeros(fc7.shape[0], 3, *image_size))


def _delegates_intermediates(net, pool3, pool4, fc7, image_size):
    import torch

    net.backbone.forward = lambda x: {"skip8": pool3, "skip16": pool4, "out": fc7}
    return net.intermediates(torch.zeros(fc7.shape[0], 3, *image_size))["score"]


def _delegates_library_crop(net, pool3, pool4, fc7, image_size):
    from course_utils.nets import fcn

    up2 = net.upscore2(net.score_fr(fc7))
    fuse4 = up2 + fcn._crop(net.score_pool4(pool4), net.offsets["score_pool4"], up2.shape[-2:], "score_pool4")
    up4 = net.upscore_pool4(fuse4)
    fuse3 = up4 + fcn._crop(net.score_pool3(pool3), net.offsets["score_pool3"], up4.shape[-2:], "score_pool3")
    return fcn._crop(net.upscore8(fuse3), net.offsets["final"], tuple(image_size), "score")


@exercise(
    "04.fcn8s_head",
    hint="follow the lecture's FCN-8s steps with the net's own layers (score_fr, upscore2, score_pool4, "
         "upscore_pool4, score_pool3, upscore8). Before each addition, cut the larger skip score map to the size "
         "of the upsampled one, starting at that skip's crop offset (printed above); the last crop starts at the "
         "'final' offset and has the image's size.",
    wrong_answers=[_wrong_crop_top_left, _wrong_centre_crop, _wrong_interpolate_not_deconv, _wrong_pool3_skipped],
    success="that is FCN-8s: stride-32 scores refined twice by the skips, stride 16 (pool4) then stride 8 (pool3), "
            "then one fixed bilinear 8x upsampling.",
    # the library's FCN forward crops with fcn._crop: with it out of reach, net(...) / net.intermediates(...)
    # fed the maps through a replaced backbone, and the library's own crop, all fail
    forbidden=("course_utils.nets.fcn:_crop",),
    delegating=[_delegates_net_forward, _delegates_intermediates, _delegates_library_crop],
)
def check_fcn8s_head(answer) -> None:
    import torch

    net = _head_net()
    g = torch.Generator().manual_seed(3)
    for size in ((128, 128), (96, 80), (61, 75)):
        x = torch.randn(1, 3, *size, generator=g)
        with torch.no_grad():
            feats = net.backbone(x)
            want = net(x)
            got = call_answer(answer, net, feats["skip8"].clone(), feats["skip16"].clone(), feats["out"].clone(),
                              size)
        expect_array(got, want, f"fcn8s_head(...) for a {size[0]}x{size[1]} image", atol=1e-5, rtol=1e-4,
                     check_dtype=False, index_names="(image, class, row, column)")
