"""The functions the probe (``tests/probe.py``) covers, each with an independent oracle."""

from __future__ import annotations

import numpy as np
import torch

from tests.probe import Case, close

RNG = np.random.default_rng(7)
IMAGE = RNG.integers(0, 256, (12, 16, 3), dtype=np.uint8)
LABELS = RNG.integers(0, 5, (12, 16)).astype(np.int64)
MASK = np.zeros((12, 16), bool)
MASK[3:8, 4:11] = True
SAL = np.clip(MASK * 0.7 + RNG.random((12, 16)) * 0.3, 0, 1)
FIX = np.zeros((12, 16), bool)
FIX[[2, 5, 6, 9], [3, 7, 8, 12]] = True
DENSITY = RNG.random((12, 16)) + 0.1
PROBS = torch.softmax(torch.from_numpy(RNG.standard_normal((3, 12, 16))).float(), dim=0)


def _nearest(n_in, n_out):
    return np.minimum(np.floor((np.arange(n_out) + 0.5) * n_in / n_out).astype(int), n_in - 1)


def _f(sal, mask, t, beta2):
    b = sal >= t
    tp = (b & mask).sum()
    p = tp / b.sum() if b.sum() else 0.0
    r = tp / mask.sum()
    return 0.0 if p * r == 0 else (1 + beta2) * p * r / (beta2 * p + r)


def _beta(image):
    c = image.astype(np.float64)
    d = [((c[:, 1:] - c[:, :-1]) ** 2).sum(-1), ((c[1:] - c[:-1]) ** 2).sum(-1),
         ((c[1:, 1:] - c[:-1, :-1]) ** 2).sum(-1), ((c[1:, :-1] - c[:-1, 1:]) ** 2).sum(-1)]
    return 1 / (2 * np.concatenate([x.ravel() for x in d]).mean())


def cases() -> list[Case]:
    import importlib

    def mod(name):
        return importlib.import_module(f"course_utils.{name}")

    I, D, T = mod("images"), mod("crf.dense_crf"), mod("data.transforms")
    G, GC, RF = mod("graphcut.grabcut"), mod("graphcut.graph_cut"), mod("ops.receptive_field")
    U, B, F, M = mod("ops.unpooling"), mod("saliency.bottom_up"), mod("saliency.fixations"), mod("saliency.metrics")
    TC, DC, CS = mod("ops.transposed_conv"), mod("ops.dilated_conv"), mod("data.class_stats")
    ST, UN = mod("graphcut.strokes"), mod("crf.unaries")

    values, positions = U.max_pool_with_positions(RNG.random((2, 8, 10)), 2)
    fg = np.zeros((12, 16), bool)
    fg[5:7, 6:9] = True
    bg = np.zeros((12, 16), bool)
    bg[0, :] = True
    return [
        Case("images.to_float", I.to_float, {"image": IMAGE}, {"image": "image"},
             lambda k, r: r.dtype == np.float32 and close(r, k["image"] / 255.0 if k["image"].dtype == np.uint8
                                                          else k["image"])),
        Case("images.to_uint8", I.to_uint8, {"image": IMAGE}, {"image": "image"},
             lambda k, r: r.dtype == np.uint8 and close(r, np.round(k["image"] * (255 if k["image"].dtype != np.uint8 else 1))),
             valid=[{"image": IMAGE / 255.0}]),
        Case("images.image_to_tensor", I.image_to_tensor, {"image": IMAGE}, {"image": "image"},
             lambda k, r: tuple(r.shape) == (1, 3, 12, 16) and close(r[0].permute(1, 2, 0).numpy(), k["image"] / 255.0)),
        Case("images.tensor_to_image", I.tensor_to_image, {"tensor": torch.from_numpy(IMAGE / 255.0).permute(2, 0, 1)},
             {"tensor": "image_tensor"}, lambda k, r: np.array_equal(r, IMAGE)),
        Case("images.resize_image", I.resize_image, {"image": IMAGE, "size": (7, 9)}, {"image": "image", "size": "size"},
             lambda k, r: r.shape == tuple(k["size"]) + (3,) and r.dtype == k["image"].dtype),
        Case("images.resize_labels", I.resize_labels, {"labels": LABELS, "size": (7, 25)},
             {"labels": "labels", "size": "size"},
             lambda k, r: np.array_equal(r, k["labels"][np.ix_(_nearest(k["labels"].shape[0], k["size"][0]),
                                                                _nearest(k["labels"].shape[1], k["size"][1]))]),
             valid=[{"labels": LABELS.astype(np.uint8)}, {"labels": LABELS.astype(np.int16), "size": (30, 5)}],
             skip={"labels": ("range",)}),
        Case("images.resize_longest_side", I.resize_longest_side, {"image": IMAGE, "side": 8},
             {"image": "image", "side": "int[1,]"}, lambda k, r: max(r.shape[:2]) == k["side"]),
        Case("transforms.to_tensors", T.to_tensors, {"image": IMAGE, "labels": LABELS.astype(np.uint8),
                                                     "std": (0.5, 0.5, 0.5)},
             {"image": "image", "labels": "labels", "std": "scales"},
             lambda k, r: close(r[0].permute(1, 2, 0).numpy(), (k["image"] / 255.0 - np.array([0.485, 0.456, 0.406]))
                                / np.array(k["std"])) and np.array_equal(r[1].numpy(), k["labels"]),
             skip={"labels": ("range",), "image": ("range",)}, optional=("labels", "std")),
        Case("transforms.RandomHorizontalFlip", lambda p: T.RandomHorizontalFlip(p)(IMAGE, LABELS), {"p": 1.0},
             {"p": "num[0,1]"}, lambda k, r: np.array_equal(r[1], LABELS[:, ::-1])),
        Case("transforms.RandomCrop", lambda size, ignore_index: T.RandomCrop(size, ignore_index=ignore_index)(
            IMAGE, LABELS.astype(np.uint8)), {"size": (20, 16), "ignore_index": 255},
             {"size": "size", "ignore_index": "int[0,255]"},
             lambda k, r: r[1].shape == tuple(k["size"]) and (r[1] == k["ignore_index"]).sum() == 8 * 16),
        Case("unpooling.max_unpool", U.max_unpool, {"values": values, "positions": positions, "output_size": (8, 10)},
             {"output_size": "size"},
             lambda k, r: close(r, torch.nn.functional.max_unpool2d(torch.from_numpy(values)[None],
                                                                    torch.from_numpy(positions)[None], 2,
                                                                    output_size=(8, 10))[0].numpy())),
        Case("unpooling.max_pool_with_positions", U.max_pool_with_positions,
             {"x": RNG.random((2, 8, 10)), "kernel": 2, "stride": 2}, {"kernel": "int[1,]", "stride": "int[1,]"},
             lambda k, r: close(r[0], torch.nn.functional.max_pool2d(torch.from_numpy(k["x"]), k["kernel"],
                                                                     min(k["stride"] or k["kernel"], 100)).numpy()),
             optional=("stride",)),
        Case("receptive_field.conv_output_size", RF.conv_output_size,
             {"size": 20, "kernel": 3, "stride": 2, "padding": 1, "dilation": 2},
             {"size": "int[1,]", "kernel": "int[1,]", "stride": "int[1,]", "padding": "int[0,]", "dilation": "int[1,]"},
             lambda k, r: r == torch.nn.functional.conv2d(torch.zeros(1, 1, k["size"], k["size"]),
                                                          torch.zeros(1, 1, k["kernel"], k["kernel"]),
                                                          stride=min(k["stride"], 100), padding=k["padding"],
                                                          dilation=k["dilation"]).shape[-1],
             skip={"size": ("huge",), "kernel": ("huge",), "padding": ("huge",)}),
        Case("metrics.mae", M.mae, {"saliency": SAL, "mask": MASK}, {"saliency": "saliency", "mask": "mask"},
             lambda k, r: close(r, np.abs(k["saliency"] - k["mask"]).mean())),
        Case("metrics.f_measure", M.f_measure, {"saliency": SAL, "mask": MASK, "threshold": 0.5, "beta2": 0.3},
             {"saliency": "saliency", "mask": "mask", "threshold": "num[0,1]", "beta2": "num(0,1e6]"},
             lambda k, r: close(r, _f(k["saliency"], k["mask"], k["threshold"], k["beta2"])),
             valid=[{"beta2": 1.0}, {"threshold": 0.0}]),
        Case("metrics.s_measure", M.s_measure, {"saliency": SAL, "mask": MASK, "alpha": 0.5},
             {"saliency": "saliency", "mask": "mask", "alpha": "num[0,1]"}, lambda k, r: 0 <= r <= 1),
        Case("metrics.nss", M.nss, {"saliency": SAL, "fixations": FIX}, {"saliency": "saliency", "fixations": "fixations"},
             lambda k, r: close(r, ((k["saliency"] - k["saliency"].mean()) / k["saliency"].std())[k["fixations"]].mean())),
        Case("metrics.cc", M.cc, {"saliency": SAL, "density": DENSITY}, {"saliency": "saliency", "density": "density"},
             lambda k, r: close(r, np.corrcoef(k["saliency"].ravel(), (k["density"] / k["density"].max()).ravel())[0, 1]),
             valid=[{"density": DENSITY * 1e300}]),
        Case("metrics.auc_judd", M.auc_judd, {"saliency": SAL, "fixations": FIX},
             {"saliency": "saliency", "fixations": "fixations"}, lambda k, r: 0.5 < r <= 1.0),
        Case("fixations.fixation_map", F.fixation_map, {"points": np.array([[1, 2], [3, 4]]), "shape": (5, 6)},
             {"shape": "size"}, lambda k, r: r.sum() == 2 and r[1, 2] and r[3, 4] and r.shape == (5, 6)),
        Case("fixations.fixation_density", F.fixation_density,
             {"points": np.array([[4, 5]]), "shape": (9, 11), "sigma": 1.5}, {"shape": "size", "sigma": "num(0,1e6]"},
             lambda k, r: close(r, np.exp(-((np.arange(9)[:, None] - 4) ** 2 + (np.arange(11)[None] - 5) ** 2)
                                          / (2 * k["sigma"] ** 2)), tol=0.05), optional=("sigma",)),
        Case("fixations.centre_bias", F.centre_bias, {"shape": (9, 11), "center_sigma": 0.3},
             {"shape": "size", "center_sigma": "num[1e-6,1e6]"}, lambda k, r: close(r.sum(), 1.0) and r[4, 5] == r.max()),
        Case("fixations.simulate_eye_tracking", F.simulate_eye_tracking,
             {"prior": DENSITY, "observers": 3, "fixations_per_observer": 4, "rng": 0},
             {"prior": "density", "observers": "int[1,1000000]", "fixations_per_observer": "int[1,]", "rng": "seed"},
             lambda k, r: r.shape == (k["observers"] * k["fixations_per_observer"], 2)),
        Case("fixations.attention_prior", F.attention_prior, {"mask": MASK, "object_weight": 0.8, "blur_sigma": 1.0},
             {"mask": "mask", "object_weight": "num[0,1]", "blur_sigma": "num[0,1e6]"},
             lambda k, r: close(r.sum(), 1.0) and r[k["mask"]].mean() > r[~k["mask"]].mean(),
             optional=("blur_sigma",)),
        Case("fixations.contrast_map", F.contrast_map, {"image": IMAGE, "scales": (0.1, 0.2), "centre_scale": 0.01},
             {"image": "image", "scales": "scales", "centre_scale": "num[0,10]"},
             lambda k, r: r.shape == (12, 16) and close(r.max(), 1.0)),
        Case("bottom_up.spectral_residual", B.spectral_residual, {"image": IMAGE, "size": (8, 8), "sigma": 2.0},
             {"image": "image", "size": "size", "sigma": "num(0,1e4]"},
             lambda k, r: r.shape == (12, 16) and 0 <= r.min() and r.max() <= 1, skip={"size": ("range",)}),
        Case("bottom_up.histogram_contrast", B.histogram_contrast, {"image": IMAGE, "levels": 4, "coverage": 0.9},
             {"image": "image", "levels": "int[2,]", "coverage": "num(0,1]"},
             lambda k, r: r.shape == (12, 16) and 0 <= r.min() and r.max() <= 1),
        Case("bottom_up.region_contrast", B.region_contrast,
             {"image": IMAGE, "sigma_s2": 0.4, "segment_scale": 20.0, "segment_sigma": 0.5, "min_size": 5},
             {"image": "image", "sigma_s2": "num(0,]", "segment_scale": "num(0,1e9]",
              "segment_sigma": "num[0,1e6]", "min_size": "int[0,]"},
             lambda k, r: r.shape == (12, 16) and 0 <= r.min() and r.max() <= 1,
             skip={"min_size": ("huge",)}),
        Case("graph_cut.beta_from_image", GC.beta_from_image, {"image": IMAGE, "connectivity": 8},
             {"image": "image"}, lambda k, r: close(r, _beta(k["image"]))),
        Case("graph_cut.smoothness_weights", GC.smoothness_weights,
             {"image": IMAGE, "lam": 10.0, "connectivity": 4, "beta": 0.0},
             {"image": "image", "lam": "num[0,1e12]", "beta": "num[0,]"},
             lambda k, r: close(r.weights[0, :, :-1], k["lam"]) and close(r.weights[1, :-1], k["lam"]),
             optional=("beta",)),
        Case("graph_cut.histogram_data_terms", GC.histogram_data_terms,
             {"image": IMAGE, "fg_seeds": fg, "bg_seeds": bg, "bins": 4, "smoothing": 1.0},
             {"image": "image", "fg_seeds": "mask", "bg_seeds": "mask", "bins": "int[2,64]", "smoothing": "num(0,1e12]"},
             lambda k, r: close(np.exp(-r[..., 1])[fg].max() > 0, True) and r.shape == (12, 16, 2)),
        Case("graph_cut.segment_with_seeds", GC.segment_with_seeds,
             {"image": IMAGE, "fg_seeds": fg, "bg_seeds": bg, "lam": 5.0, "bins": 4},
             {"image": "image", "fg_seeds": "mask", "bg_seeds": "mask", "lam": "num[0,1e12]", "bins": "int[2,64]"},
             lambda k, r: r.mask[fg].all() and not r.mask[bg].any()),
        Case("grabcut.grabcut", G.grabcut, {"image": IMAGE, "rect": (3, 2, 10, 8), "iterations": 1, "gamma": 50.0,
                                            "n_components": 2, "rng": 0},
             {"image": "image", "iterations": "int[1,]", "gamma": "num[0,1e12]", "n_components": "int[1,1000]",
              "rng": "seed"},
             lambda k, r: not r.mask[:2].any() and not r.mask[:, :3].any(),
             skip={"iterations": ("huge",)}),
        Case("unpooling.max_unpool(values)", U.max_unpool,
             {"values": values, "positions": positions, "output_size": (8, 10)},
             {"values": "density"},
             lambda k, r: np.allclose(r, torch.nn.functional.max_unpool2d(
                 torch.from_numpy(np.asarray(k["values"], np.float64))[None], torch.from_numpy(positions)[None], 2,
                 output_size=(8, 10))[0].numpy(), equal_nan=True),
             skip={"values": ("range",)}),
        Case("transposed_conv.conv_transpose_output_size", TC.conv_transpose_output_size,
             {"n": 5, "kernel": 4, "stride": 2, "padding": 1, "output_padding": 1, "dilation": 1},
             {"n": "int[1,]", "kernel": "int[1,]", "stride": "int[1,]", "padding": "int[0,]",
              "output_padding": "int[0,]", "dilation": "int[1,]"},
             lambda k, r: r == torch.nn.functional.conv_transpose2d(
                 torch.zeros(1, 1, k["n"], k["n"]), torch.zeros(1, 1, k["kernel"], k["kernel"]), stride=k["stride"],
                 padding=k["padding"], output_padding=k["output_padding"], dilation=k["dilation"]).shape[-1],
             skip={a: ("huge",) for a in ("n", "kernel", "stride", "dilation")}),
        Case("dilated_conv.dilate_kernel", DC.dilate_kernel, {"weight": torch.ones(2, 1, 3, 3), "rate": 2},
             {"weight": "float_tensor", "rate": "int[1,]"},
             lambda k, r: r.shape[-1] == k["rate"] * (k["weight"].shape[-1] - 1) + 1 and r.device == k["weight"].device
             and (r.device.type == "meta" or (torch.equal(r[..., ::k["rate"], ::k["rate"]].nan_to_num(7.0),
                                                          k["weight"].nan_to_num(7.0))
                                              and int((r != 0).sum()) == int((k["weight"] != 0).sum())))),
        Case("dilated_conv.gaussian_derivative_kernel", DC.gaussian_derivative_kernel, {"size": 7, "sigma": 1.5},
             {"size": "int[3,32768]", "sigma": "num(0,]"},
             lambda k, r: tuple(r.shape) == (k["size"], k["size"]) and abs(float(r.sum())) < 1e-4,
             optional=("sigma",)),
        Case("class_stats.class_pixel_counts", CS.class_pixel_counts,
             {"labels": LABELS, "num_classes": 5, "ignore_index": 255},
             {"labels": "labels", "num_classes": "int[1,]"},
             lambda k, r: np.array_equal(r, np.bincount(k["labels"].ravel(), minlength=k["num_classes"])),
             skip={"labels": ("range", "shape")}),
        Case("strokes.stroke_mask", ST.stroke_mask, {"shape": (10, 12), "points": [(2, 3)], "width": 1},
             {"shape": "size", "width": "int[1,32768]"}, lambda k, r: r.shape == tuple(k["shape"]) and r[3, 2]),
        Case("unaries.coarse_logits", UN.coarse_logits,
             {"labels": np.kron(RNG.integers(0, 5, (3, 4)), np.ones((4, 4), np.int64)), "num_classes": 5, "stride": 4,
              "noise": 0.0, "confidence": 5.0, "blur": 0.0},
             {"labels": "labels", "num_classes": "int[2,255]", "stride": "int[1,32768]", "noise": "num[0,]",
              "blur": "num[0,]"},
             lambda k, r: tuple(r.shape) == (1, 5) + k["labels"].shape and bool(torch.isfinite(r).all())
             and (r[0].argmax(0).numpy() == k["labels"]).mean() > 0.6,
             skip={"labels": ("range",)}),
        Case("metrics.precision_recall", M.precision_recall, {"saliency": SAL, "mask": MASK, "threshold": 0.5},
             {"saliency": "saliency", "mask": "mask", "threshold": "num[0,1]"},
             lambda k, r: close(r, ((k["saliency"] >= k["threshold"])[k["mask"]].mean() / 1.0 * k["mask"].sum()
                                    / max((k["saliency"] >= k["threshold"]).sum(), 1),
                                    (k["saliency"] >= k["threshold"])[k["mask"]].mean()))),
        Case("metrics.e_measure", M.e_measure, {"saliency": SAL, "mask": MASK, "threshold": 0.5},
             {"saliency": "saliency", "mask": "mask", "threshold": "num[0,1]"}, lambda k, r: 0 <= r <= 1),
        Case("bottom_up.quantize_colors", B.quantize_colors, {"image": IMAGE, "levels": 3, "coverage": 1.0},
             {"image": "image", "levels": "int[2,]", "coverage": "num(0,1]"},
             lambda k, r: r[0].shape == (12, 16) and r[0].max() < len(r[1])),
        Case("bottom_up.frequency_tuned", B.frequency_tuned, {"image": IMAGE}, {"image": "image"},
             lambda k, r: r.shape == (12, 16) and 0 <= r.min() and r.max() <= 1),
        Case("fixations.observer_prior", F.observer_prior,
             {"image": IMAGE, "centre_weight": 0.3, "contrast_weight": 0.5, "uniform_weight": 0.2, "sharpness": 2.0},
             {"image": "image", "centre_weight": "num[0,1e6]", "contrast_weight": "num[0,1e6]",
              "uniform_weight": "num[0,1e6]", "sharpness": "num(0,100]"},
             lambda k, r: close(r.sum(), 1.0) and (r > 0).all()),
        Case("grabcut.rect_from_fractions", G.rect_from_fractions, {"shape": (20, 30), "fractions": (0.1, 0.2, 0.5, 0.5)},
             {"shape": "size"}, lambda k, r: r == (round(0.1 * k["shape"][1]), round(0.2 * k["shape"][0]),
                                                    round(0.5 * k["shape"][1]), round(0.5 * k["shape"][0]))),
        Case("dense_crf.dense_crf", D.dense_crf, {"image": IMAGE, "probs": PROBS, "iterations": 2, "clip": 1e-5},
             {"image": "image", "probs": "probs_tensor", "iterations": "int[0,100000]", "clip": "num(0,1)"},
             lambda k, r: tuple(r.probs.shape) == (3, 12, 16) and close(r.probs.sum(0), 1.0, tol=1e-4)
             and (k["iterations"] > 0 or close(r.probs, k["probs"], tol=1e-5)),
             valid=[{"iterations": 0}], skip={"image": ("range",)}),
        Case("dense_crf.unary_from_probs", D.unary_from_probs, {"probs": PROBS, "clip": 1e-5},
             {"clip": "num(0,1)"}, lambda k, r: close(r, -np.log(np.maximum(k["probs"].numpy(), k["clip"])), tol=1e-5)),
    ]
