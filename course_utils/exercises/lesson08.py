"""Checks for lesson 08 (segmentation datasets: label PNGs, class frequencies, COCO-stuff classes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from course_utils.data.coco_stuff import UNUSED_THING_IDS, to_171_classes
from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import Incorrect, exercise
from course_utils.palettes import voc_palette

# ---------------------------------------------------------------- 08.read_label_png


def _write_cases(folder: Path) -> list[tuple[Path, np.ndarray]]:
    from PIL import Image

    rng = np.random.default_rng(7)
    cases = []
    voc = rng.integers(0, 21, size=(9, 14)).astype(np.uint8)  # not square: catches transposes
    voc[0, :] = 255  # the VOC 'void' border
    voc[:, 3] = 255
    img = Image.fromarray(voc, mode="P")
    img.putpalette(voc_palette().reshape(-1).tolist())
    img.save(folder / "2007_000033.png")
    cases.append((folder / "2007_000033.png", voc))
    coco = rng.choice([0, 2, 17, 91, 123, 156, 181, 255], size=(6, 11)).astype(np.uint8)
    Image.fromarray(coco, mode="L").save(folder / "000000000139.png")  # COCO-stuff: one grey channel
    cases.append((folder / "000000000139.png", coco))
    return cases


def _wrong_luminance(path):
    from PIL import Image

    return np.array(Image.open(path).convert("L"))


def _wrong_rgb(path):
    from PIL import Image

    return np.array(Image.open(path).convert("RGB"))


def _wrong_opencv(path):
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)  # OpenCV expands a palette to BGR colours


@exercise(
    "08.read_label_png",
    hint="a label PNG already stores one class index per pixel; its palette is only a lookup table used for "
         "display. Any conversion to grey or colour replaces the index by something computed from a colour.",
    wrong_answers=[_wrong_luminance, _wrong_rgb, _wrong_opencv],
    success="the indices are the labels; the palette only decides how a viewer paints them.",
)
def check_read_label_png(read_label_png) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for path, expected in _write_cases(Path(tmp)):
            got = call_answer(read_label_png, path)
            if isinstance(got, np.ndarray) and got.ndim == 3:
                raise Incorrect(f"read_label_png({path.name}) returned colours, shape {got.shape}; "
                                f"expected one class index per pixel, shape {expected.shape}")
            expect_array(got, expected, f"read_label_png({path.name})", index_names="pixel (row, col)")


# ---------------------------------------------------------------- 08.class_frequencies


def _frequency_cases() -> list[tuple[list[np.ndarray], int]]:
    rng = np.random.default_rng(11)
    a = rng.choice([0, 0, 0, 0, 1, 3, 255], size=(8, 10)).astype(np.uint8)
    b = rng.choice([0, 0, 1, 1, 4, 255, 255], size=(5, 7)).astype(np.uint8)  # another size
    c = np.full((3, 4), 255, np.uint8)
    c[1, 1:3] = 4
    return [([a, b, c], 6), ([b], 5)]  # class 2 (and 5) never occurs


def _expected_frequencies(labels_list, num_classes):
    counts = np.zeros(num_classes, np.int64)
    for lab in labels_list:
        counts += np.bincount(lab[lab != 255].astype(np.int64), minlength=num_classes)
    return counts / counts.sum()


def _wrong_counts_ignored(labels_list, num_classes):
    counts = np.zeros(num_classes)
    total = 0
    for lab in labels_list:
        counts += np.bincount(lab[lab != 255], minlength=num_classes)
        total += lab.size
    return counts / total


def _wrong_mean_of_images(labels_list, num_classes):
    fractions = []
    for lab in labels_list:
        counts = np.bincount(lab[lab != 255], minlength=num_classes).astype(np.float64)
        fractions.append(counts / counts.sum() if counts.sum() else counts)
    return np.mean(fractions, axis=0)


def _wrong_unique(labels_list, num_classes):
    pixels = np.concatenate([lab[lab != 255] for lab in labels_list])
    _, counts = np.unique(pixels, return_counts=True)
    return counts / counts.sum()


@exercise(
    "08.class_frequencies",
    hint="count each class over all pixels of all images together (np.bincount has a `minlength`), leave the "
         "ignore value 255 out of both the counts and the total, then divide.",
    wrong_answers=[_wrong_counts_ignored, _wrong_mean_of_images, _wrong_unique],
    success="these fractions are the weights t_i / sum t_k of pixel accuracy and frequency-weighted IU.",
)
def check_class_frequencies(class_frequencies) -> None:
    for labels_list, num_classes in _frequency_cases():
        got = call_answer(class_frequencies, [lab.copy() for lab in labels_list], num_classes)
        what = f"class_frequencies({len(labels_list)} label maps, num_classes={num_classes})"
        expect_array(got, _expected_frequencies(labels_list, num_classes), what, check_dtype=False,
                     index_names="class")


# ---------------------------------------------------------------- 08.coco_stuff_to_171


def _wrong_identity(ids):
    return ids.copy()


def _wrong_first_gap_only(ids):
    out = ids.astype(np.int64)
    out[(out > 11) & (out != 255)] -= 1
    return out.astype(np.uint8)


def _wrong_unlabeled_wraps(ids):
    used = np.array([i for i in range(182) if i not in UNUSED_THING_IDS])
    return np.searchsorted(used, ids).astype(np.uint8)  # 255 becomes 171


@exercise(
    "08.coco_stuff_to_171",
    hint="list the ids that are used (0-181 without the 11 unused ones) in order; a class is its position in "
         "that list. A 256-entry lookup table filled with 255 handles 'unlabeled' for free.",
    wrong_answers=[_wrong_identity, _wrong_first_gap_only, _wrong_unlabeled_wraps],
    success="171 classes that occur (80 things + 91 stuff), plus 255 for 'unlabeled': the lecture's 172.",
)
def check_coco_stuff_to_171(coco_stuff_to_171) -> None:
    rng = np.random.default_rng(171)
    used = np.array([i for i in range(182) if i not in UNUSED_THING_IDS] + [255])
    for shape in ((7, 12), (1, 182)):
        ids = rng.choice(used, size=shape).astype(np.uint8)
        if shape == (1, 182):
            ids[0, : len(used)] = used  # every id once
        got = call_answer(coco_stuff_to_171, ids.copy())
        expect_array(got, to_171_classes(ids), f"coco_stuff_to_171(ids of shape {shape})", check_dtype=False,
                     index_names="pixel (row, col)")
