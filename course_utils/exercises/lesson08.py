"""Checks for lesson 08 (segmentation datasets).

Exercises:

* ``08.voc_colormap``: the VOC development kit's colour map (``labelcolormap``): the bits of a class index
  spread over the three colour channels, most significant first.
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

# ---------------------------------------------------------------- 08.voc_colormap
#
# The VOC development kit colours label index c by spreading its bits over the channels: bit 0 of c goes to
# red, bit 1 to green, bit 2 to blue, each at the top bit (7) of its channel; bits 3-5 at bit 6; bits 6-7 at
# bit 5. So class 1 is dark red (128, 0, 0), 15 (person) is (192, 128, 128), and 255 is (224, 224, 192).


def _colormap(n, *, order=(0, 1, 2), first_shift=7, step=-1, shift_index=True, rounds=8):
    """A parametrised colour map: the defaults are the devkit's; each wrong answer changes one thing."""
    cmap = np.zeros((n, 3), np.uint8)
    for index in range(n):
        c, rgb = index, [0, 0, 0]
        for k in range(rounds):
            shift = first_shift + step * k
            for channel in range(3):
                rgb[channel] |= ((c >> order[channel]) & 1) << shift
            if shift_index:
                c >>= 3
        cmap[index] = rgb
    return cmap


def _wrong_bgr(n):  # bit 0 to blue: the channels in OpenCV's order
    return _colormap(n, order=(2, 1, 0))


def _wrong_low_bits_first(n):  # the first bits at the bottom of each channel
    return _colormap(n, first_shift=0, step=1)


def _wrong_index_not_shifted(n):  # the same three bits every round
    return _colormap(n, shift_index=False)


def _wrong_float_colours(n):
    return _colormap(n).astype(np.float64) / 255.0


def _wrong_two_rounds(n):  # two rounds: bits 6 and 7 of the index are lost (indices 0-63 still right)
    return _colormap(n, rounds=2)


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_voc_palette(n):
    return voc_palette()[:n]


def _delegates_label_palette(n):
    import importlib

    return importlib.import_module("course_utils.palettes").label_palette("voc")[0][:n]


def _delegates_png_palette(n):
    from PIL import Image

    img = Image.new("P", (1, 1))
    img.putpalette(voc_palette().reshape(-1).tolist())  # a VOC PNG's palette is the library's
    return np.array(img.getpalette()[: 3 * n], np.uint8).reshape(n, 3)


@exercise(
    "08.voc_colormap",
    hint="for each index c start from r = g = b = 0; eight times: put bit 0 of c at bit `shift` of r, bit 1 at "
         "bit `shift` of g, bit 2 at bit `shift` of b (`(c >> k) & 1` is bit k; `<< shift` moves it up), then "
         "drop those three bits (`c >>= 3`) and lower `shift` by one, starting from 7.",
    wrong_answers=[_wrong_bgr, _wrong_low_bits_first, _wrong_index_not_shifted, _wrong_float_colours,
                   _wrong_two_rounds],
    success="the devkit's colour map: neighbouring indices get very different colours, 0 is black and the "
            "ignore value 255 the cream of the object borders.",
    forbidden=("course_utils.palettes:voc_palette", "course_utils.palettes:_voc_palette",
               "course_utils.palettes:label_palette"),
    delegating=[_delegates_voc_palette, _delegates_label_palette, _delegates_png_palette],
)
def check_voc_colormap(voc_colormap) -> None:
    for n in (21, 256):
        expected = voc_palette()[:n]
        got = call_answer(voc_colormap, n)
        expect_array(got, expected, f"voc_colormap({n})", index_names="(index, channel)")

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
