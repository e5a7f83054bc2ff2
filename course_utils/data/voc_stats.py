"""What a (synthetic or real) PASCAL VOC segmentation set holds, split by split.

:func:`voc_scene_statistics` counts, per split, the images each class occurs in, the share of
the labelled pixels that is background, and how many object classes each image shows: the
numbers that say whether a synthetic stand-in looks like VOC (where background is about 70 %
of the labelled pixels and an image holds one to a few classes).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_utils._shared import IGNORE_INDEX, check_sequence
from course_utils.data.class_stats import class_image_counts, class_pixel_counts
from course_utils.data.voc import VOC_NUM_CLASSES, VOCSegmentationDataset

__all__ = ["SplitStatistics", "voc_scene_statistics"]


@dataclass(frozen=True)
class SplitStatistics:
    """The statistics of one split.

    Attributes
    ----------
    n_images : int
    class_image_counts : ndarray (21,) int64
        Images in which each class (0 background, 1..20) has at least one labelled pixel.
    class_pixel_counts : ndarray (21,) int64
        Labelled pixels of each class (void, 255, not counted).
    background_share : float
        Background pixels / labelled pixels, over the whole split, in [0, 1].
    objects_per_image : dict of int to int
        Number of object classes shown (1..20) -> number of images showing that many.
    """

    n_images: int
    class_image_counts: np.ndarray
    class_pixel_counts: np.ndarray
    background_share: float
    objects_per_image: dict[int, int]


def _split_statistics(dataset: VOCSegmentationDataset) -> SplitStatistics:
    image_counts = np.zeros(VOC_NUM_CLASSES, np.int64)
    pixel_counts = np.zeros(VOC_NUM_CLASSES, np.int64)
    shown: Counter = Counter()
    for i in range(len(dataset)):
        labels = np.asarray(dataset[i][1])
        image_counts += class_image_counts(labels, VOC_NUM_CLASSES, IGNORE_INDEX)
        pixels = class_pixel_counts(labels, VOC_NUM_CLASSES, IGNORE_INDEX)
        pixel_counts += pixels
        shown[int(np.count_nonzero(pixels[1:]))] += 1
    total = int(pixel_counts.sum())
    return SplitStatistics(len(dataset), image_counts, pixel_counts,
                           float(pixel_counts[0]) / total if total else float("nan"), dict(sorted(shown.items())))


def voc_scene_statistics(source: str | os.PathLike | VOCSegmentationDataset | Mapping[str, VOCSegmentationDataset],
                         *, splits: tuple[str, ...] = ("train", "val")) -> dict[str, SplitStatistics]:
    """Per-split class image counts, background share and objects per image of a VOC segmentation set.

    Parameters
    ----------
    source : path, VOCSegmentationDataset or mapping of split name to VOCSegmentationDataset
        A root as :class:`~course_utils.data.voc.VOCSegmentationDataset` takes it (each of
        ``splits`` is read), one dataset (keyed by its ``image_set``), or datasets by name.
        Datasets must have no transforms (the raw label maps are counted).
    splits : tuple of str
        The lists read from a root (ignored for datasets).

    Returns
    -------
    dict of str to SplitStatistics
    """
    if isinstance(source, (str, os.PathLike)):
        splits = check_sequence(splits, "splits", what="split names (train, val, ...)")
        datasets = {s: VOCSegmentationDataset(Path(source), s) for s in splits}
    elif isinstance(source, VOCSegmentationDataset):
        datasets = {source.image_set: source}
    elif isinstance(source, Mapping) and source and all(isinstance(d, VOCSegmentationDataset)
                                                          for d in source.values()):
        datasets = dict(source)
    else:
        raise TypeError(f"source must be a VOC root (path), a VOCSegmentationDataset or a mapping of split names "
                        f"to them, got {type(source).__name__}")
    for name, dataset in datasets.items():
        if dataset.transforms is not None:
            raise ValueError(f"source[{name!r}] has transforms: the statistics need the raw label maps")
    return {name: _split_statistics(dataset) for name, dataset in datasets.items()}
