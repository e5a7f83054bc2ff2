"""Class names and colour palettes of PASCAL VOC 2012 and Cityscapes.

The VOC palette is the one the VOC development kit writes into its palette
PNGs (``labelcolormap`` in ``VOCdevkit``: the bits of the class index spread
over the three colour channels); index 255 (the ignore border) is cream
``(224, 224, 192)``.  The Cityscapes names and colours come from the official
``cityscapesscripts.helpers.labels`` table.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from course_utils._shared import IGNORE_INDEX

__all__ = [
    "IGNORE_INDEX",
    "VOC_CLASSES",
    "voc_palette",
    "cityscapes_train_classes",
    "cityscapes_palette",
    "label_palette",
]


VOC_CLASSES: tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)


def voc_palette() -> np.ndarray:
    """The 256-entry VOC colour map, ``(256, 3)`` uint8 (row 255 is the ignore colour)."""
    return _voc_palette().copy()


@lru_cache(maxsize=1)
def _voc_palette() -> np.ndarray:
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        c, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= ((c >> 0) & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette[index] = (r, g, b)
    return palette


def cityscapes_train_classes() -> tuple[str, ...]:
    """The 19 Cityscapes evaluation classes, in train-id order (0 = road ... 18 = bicycle)."""
    from cityscapesscripts.helpers.labels import labels

    named = sorted((lab.trainId, lab.name) for lab in labels if 0 <= lab.trainId < 255)
    return tuple(name for _, name in named)


def cityscapes_palette() -> np.ndarray:
    """Colours indexed by train id, ``(256, 3)`` uint8: rows 0-18 the classes, the rest black."""
    from cityscapesscripts.helpers.labels import labels

    palette = np.zeros((256, 3), dtype=np.uint8)
    for lab in labels:
        if 0 <= lab.trainId < 255:
            palette[lab.trainId] = lab.color
    return palette


def label_palette(dataset: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(palette, class_names)`` for ``dataset`` in {'voc', 'cityscapes'}."""
    if dataset == "voc":
        return voc_palette(), VOC_CLASSES
    if dataset == "cityscapes":
        return cityscapes_palette(), cityscapes_train_classes()
    raise ValueError(f"dataset={dataset!r}: expected 'voc' or 'cityscapes'")
