"""Checks for lesson 08 (segmentation datasets).

Exercises:

* ``08.coco_stuff_to_171``: COCO-stuff's 182 ids to the 171 classes that occur (255 kept).
* ``08.class_frequencies``: read label PNGs (the indices, not the colours) and count each class's share of
  the labelled pixels and of the images.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from course_utils.data.class_stats import class_image_counts, class_pixel_counts
from course_utils.data.coco_stuff import UNUSED_THING_IDS, to_171_classes
from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import Incorrect, exercise
from course_utils.palettes import voc_palette

# ---------------------------------------------------------------- 08.class_frequencies
#
# Read label PNGs from disk (a VOC palette PNG and a COCO-stuff grey PNG: the indices, never the colours),
# and count each class's share of the labelled pixels and of the images, 255 left out.


def _write_label_png(path: Path, labels: np.ndarray, palette: bool) -> Path:
    from PIL import Image

    img = Image.fromarray(labels, mode="P" if palette else "L")
    if palette:
        img.putpalette(voc_palette().reshape(-1).tolist())
    img.save(path)
    return path


def _frequency_cases(folder: Path) -> list[tuple[list[Path], int, list[np.ndarray]]]:
    """(paths, num_classes, the label maps written) for two cases; sizes differ, some classes absent."""
    rng = np.random.default_rng(11)
    a = rng.choice([0, 0, 0, 0, 1, 3, 255], size=(8, 10)).astype(np.uint8)  # not square: catches transposes
    b = rng.choice([0, 0, 1, 1, 4, 255, 255], size=(5, 7)).astype(np.uint8)
    c = np.full((3, 4), 255, np.uint8)
    c[1, 1:3] = 4
    d = rng.choice([2, 5, 5, 255], size=(6, 9)).astype(np.uint8)
    voc = [_write_label_png(folder / f"2007_00003{k}.png", m, True) for k, m in enumerate((a, b, c))]
    grey = [_write_label_png(folder / f"00000000013{k}.png", m, False) for k, m in enumerate((b, d))]
    return [(voc, 6, [a, b, c]), (grey, 6, [b, d])]  # class 2 never occurs in the first case


def _expected(maps: list[np.ndarray], num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.zeros(num_classes, np.int64)
    images = np.zeros(num_classes, np.int64)
    for lab in maps:
        counts = np.bincount(lab[lab != 255].astype(np.int64), minlength=num_classes)
        pixels += counts
        images += counts > 0
    return pixels / pixels.sum(), images / len(maps)


def _read(path):
    from PIL import Image

    with Image.open(path) as png:
        return np.array(png)


def _wrong_luminance(paths, num_classes):
    from PIL import Image

    maps = [np.array(Image.open(p).convert("L")) for p in paths]  # the palette's grey values, not the indices
    return _expected([np.where(m == 255, 255, m % num_classes).astype(np.uint8) for m in maps], num_classes)


def _wrong_counts_ignored(paths, num_classes):
    pixels = np.zeros(num_classes)
    images = np.zeros(num_classes)
    total = 0
    for p in paths:
        lab = _read(p)
        counts = np.bincount(lab[lab != 255], minlength=num_classes)
        pixels += counts
        images += counts > 0
        total += lab.size  # the ignored pixels counted in the total
    return pixels / total, images / len(paths)


def _wrong_mean_of_images(paths, num_classes):
    fractions, images = [], np.zeros(num_classes)
    for p in paths:
        lab = _read(p)
        counts = np.bincount(lab[lab != 255], minlength=num_classes).astype(np.float64)
        fractions.append(counts / counts.sum() if counts.sum() else counts)
        images += counts > 0
    return np.mean(fractions, axis=0), images / len(paths)


def _wrong_image_share_of_pixels(paths, num_classes):
    pixels = np.zeros(num_classes)
    images = np.zeros(num_classes)
    for p in paths:
        lab = _read(p)
        counts = np.bincount(lab[lab != 255], minlength=num_classes)
        pixels += counts
        images += counts  # pixels, not images
    return pixels / pixels.sum(), images / images.sum()


def _wrong_unique(paths, num_classes):
    pixels = np.concatenate([_read(p)[_read(p) != 255] for p in paths])
    _, counts = np.unique(pixels, return_counts=True)
    return counts / counts.sum(), np.ones(len(counts))


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_imported_name(paths, num_classes):
    maps = [_read(p) for p in paths]
    pixels = class_pixel_counts(maps, num_classes)
    return pixels / pixels.sum(), class_image_counts(maps, num_classes) / len(maps)


def _delegates_module_attribute(paths, num_classes):
    from course_utils.data import class_stats

    maps = [_read(p) for p in paths]
    return (class_stats.class_frequencies(class_stats.class_pixel_counts(maps, num_classes)),
            class_stats.class_image_counts(maps, num_classes) / len(maps))


@exercise(
    "08.class_frequencies",
    hint="open each PNG and keep its indices (no conversion to grey or colour); count each class with np.bincount "
         "(it has a `minlength`) over the pixels that are not 255, add the counts of all images together, and "
         "separately count in how many images each class has at least one pixel; divide at the end.",
    wrong_answers=[_wrong_luminance, _wrong_counts_ignored, _wrong_mean_of_images, _wrong_image_share_of_pixels,
                   _wrong_unique],
    success="t_i / sum t_k are the weights of pixel accuracy and f.w. IU; the image shares show how often a class "
            "is seen at all.",
    forbidden=("course_utils.data.class_stats:class_pixel_counts", "course_utils.data.class_stats:class_image_counts",
               "course_utils.data.class_stats:class_frequencies",
               "course_utils.data.class_stats:median_frequency_weights"),
    delegating=[_delegates_imported_name, _delegates_module_attribute],
)
def check_class_frequencies(class_frequencies) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for paths, num_classes, maps in _frequency_cases(Path(tmp)):
            got = call_answer(class_frequencies, list(paths), num_classes)
            what = f"class_frequencies({len(paths)} label PNGs, num_classes={num_classes})"
            if not isinstance(got, tuple) or len(got) != 2:
                raise Incorrect(f"{what} should return a tuple (pixel_shares, image_shares)")
            pixel_shares, image_shares = _expected(maps, num_classes)
            expect_array(got[0], pixel_shares, f"{what}[0] (share of the labelled pixels)", check_dtype=False,
                         index_names="class")
            expect_array(got[1], image_shares, f"{what}[1] (share of the images)", check_dtype=False,
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


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_to_171_imported(ids):
    return to_171_classes(ids)


def _delegates_to_171_module(ids):
    from course_utils.data import coco_stuff

    return coco_stuff.to_171_classes(ids)


@exercise(
    "08.coco_stuff_to_171",
    hint="list the ids that are used (0-181 without the 11 unused ones) in order; a class is its position in "
         "that list. A 256-entry lookup table filled with 255 handles 'unlabeled' for free.",
    wrong_answers=[_wrong_identity, _wrong_first_gap_only, _wrong_unlabeled_wraps],
    forbidden=("course_utils.data.coco_stuff:to_171_classes", "course_utils.data.coco_stuff:read_stuffthingmap"),
    delegating=[_delegates_to_171_imported, _delegates_to_171_module],
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
