"""Cityscapes on disk: the layout, label ids -> the 19 train ids, and a torch dataset.

The folder layout is Cityscapes' own (Cordts et al., CVPR 2016)::

    <root>/leftImg8bit/<split>/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/<split>/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png

The ground truth holds *label ids* (0-33); training uses the 19 *train ids*
(0 = road ... 18 = bicycle) and 255 for the classes evaluation ignores. The
mapping is read from the official ``cityscapesscripts.helpers.labels`` table.

This module only reads the layout. The root is the ``root`` argument, else
``$CITYSCAPES_DATASET`` (the variable the official scripts read; point it at a
real Cityscapes download); the offline default (MiniCity when the variable is
unset) is :func:`course_utils.data.minicity.offline_cityscapes_root`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from course_utils._shared import IGNORE_INDEX, check_number
from course_utils.data.transforms import to_tensors
from course_utils.images import read_image_file, resize_image, resize_labels

__all__ = [
    "CITYSCAPES_ENV",
    "NUM_CLASSES",
    "labels_to_train_ids",
    "train_ids_to_label_ids",
    "check_layout",
    "cityscapes_root",
    "Frame",
    "list_frames",
    "read_image",
    "read_label_ids",
    "CityscapesSegmentation",
]

CITYSCAPES_ENV = "CITYSCAPES_DATASET"
NUM_CLASSES = 19


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    from cityscapesscripts.helpers.labels import labels

    to_train = np.full(256, -1, np.int16)  # -1: not a label id of the table
    to_label = np.zeros(256, np.uint8)  # train id -> label id (255 -> 0 "unlabeled")
    for lab in labels:
        if lab.id < 0:  # "license plate" has id -1 and never appears in label images
            continue
        to_train[lab.id] = lab.trainId if 0 <= lab.trainId < 255 else IGNORE_INDEX
        if 0 <= lab.trainId < 255:
            to_label[lab.trainId] = lab.id
    return to_train, to_label


def labels_to_train_ids(label_ids: np.ndarray, name: str = "label_ids") -> np.ndarray:
    """Map Cityscapes label ids to train ids.

    Parameters
    ----------
    label_ids : ndarray of int, any shape (e.g. (H, W) uint8)
        Values from the official label table (0-33).

    Returns
    -------
    ndarray, same shape, uint8
        Train ids 0-18, 255 where the class is ignored in evaluation.

    Raises
    ------
    ValueError
        If a value is not a label id of the table (the message lists them).
    """
    arr = np.asarray(label_ids)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer label ids, got dtype {arr.dtype}")
    table = _tables()[0]
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        bad = np.unique(arr[(arr < 0) | (arr > 255)])[:8]
        raise ValueError(f"{name} holds values {bad.tolist()} that are not Cityscapes label ids (0-33)")
    out = table[arr.astype(np.intp)]
    if (out < 0).any():
        bad = np.unique(arr[out < 0])[:8]
        raise ValueError(f"{name} holds values {bad.tolist()} that are not in cityscapesscripts' label table (ids 0-33)")
    return out.astype(np.uint8)


def train_ids_to_label_ids(train_ids: np.ndarray, name: str = "train_ids") -> np.ndarray:
    """Map train ids (0-18) back to label ids, e.g. to write predictions in the official format.

    Raises
    ------
    ValueError
        If a value is not a train id 0-18.
    """
    arr = np.asarray(train_ids)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer train ids, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= NUM_CLASSES):
        bad = np.unique(arr[(arr < 0) | (arr >= NUM_CLASSES)])[:8]
        raise ValueError(f"{name} holds values {bad.tolist()}: expected train ids 0-{NUM_CLASSES - 1}")
    return _tables()[1][arr.astype(np.intp)]


def check_layout(root: str | Path, split: str) -> Path:
    """Raise ``FileNotFoundError`` naming the first missing folder of the Cityscapes layout.

    Returns
    -------
    Path
        ``root`` as a Path.
    """
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    root = Path(root)
    expected = f"leftImg8bit/{split}/<city>/*_leftImg8bit.png and gtFine/{split}/<city>/*_gtFine_labelIds.png"
    for folder in (root, root / "leftImg8bit", root / "leftImg8bit" / split, root / "gtFine", root / "gtFine" / split):
        if not folder.is_dir():
            raise FileNotFoundError(
                f"the Cityscapes root {root} has no folder {folder}: expected the layout {expected} "
                f"(set ${CITYSCAPES_ENV} to a Cityscapes download, or generate MiniCity: "
                "python -m data_scripts.make_minicity)")
    return root


def cityscapes_root(root: str | Path | None = None) -> Path:
    """``root``, else ``$CITYSCAPES_DATASET``.

    Raises
    ------
    FileNotFoundError
        Neither is given: the caller chooses the root (the offline default, MiniCity, is
        :func:`course_utils.data.minicity.offline_cityscapes_root`).
    """
    if root is not None:
        return Path(root)
    env = os.environ.get(CITYSCAPES_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    raise FileNotFoundError(f"no Cityscapes root: pass one, or set ${CITYSCAPES_ENV} to a Cityscapes download "
                            "(the offline MiniCity: course_utils.data.minicity.offline_cityscapes_root())")


@dataclass(frozen=True)
class Frame:
    """One annotated frame: ``stem`` is ``{city}_{seq}_{frame}``."""

    city: str
    stem: str
    image: Path
    label_ids: Path


def list_frames(root: str | Path, split: str) -> list[Frame]:
    """All frames of ``split``, sorted by city then name.

    Raises
    ------
    FileNotFoundError
        If a layout folder is missing, the split has no image, or an image has no
        ``*_gtFine_labelIds.png`` (the message names it).
    """
    root = check_layout(root, split)
    frames = []
    suffix = "_leftImg8bit.png"
    for city_dir in sorted(p for p in (root / "leftImg8bit" / split).iterdir() if p.is_dir()):
        for image in sorted(city_dir.glob(f"*{suffix}")):
            stem = image.name[: -len(suffix)]
            label = root / "gtFine" / split / city_dir.name / f"{stem}_gtFine_labelIds.png"
            if not label.is_file():
                raise FileNotFoundError(f"the image {image} has no ground truth: {label} is missing")
            frames.append(Frame(city_dir.name, stem, image, label))
    if not frames:
        raise FileNotFoundError(f"no *{suffix} under {root / 'leftImg8bit' / split}/<city>/")
    return frames


def read_image(path: str | Path) -> np.ndarray:
    """An RGB image as ``(H, W, 3)`` uint8."""
    return read_image_file(path, mode="RGB")


def read_label_ids(path: str | Path) -> np.ndarray:
    """A ``*_gtFine_labelIds.png`` as ``(H, W)`` uint8 label ids."""
    arr = read_image_file(path, what="label image")
    if arr.ndim != 2:
        raise ValueError(f"{path} is not a single-channel label image (shape {arr.shape})")
    return arr


class CityscapesSegmentation:
    """A map-style torch dataset of ``(image, labels)`` pairs in train ids.

    Parameters
    ----------
    root : path, optional
        The dataset root; default :func:`cityscapes_root` (``$CITYSCAPES_DATASET``).
    split : {'train', 'val'}
    scale : float
        Resize every frame by this factor when it is read (images area-averaged,
        labels nearest), e.g. 0.5 to train a quick model at half resolution.
    transform : callable, optional
        ``transform(image, labels, generator=g) -> (image, labels)``, e.g. from
        :mod:`course_utils.data.transforms`. ``g`` is a ``torch.Generator`` seeded from
        ``(seed, epoch, index)``, so augmentation does not depend on the number of
        processes or loader workers (single-process and DDP runs see the same crops).
    seed : int
        Base seed of the augmentation.
    cache : bool
        Keep decoded frames in memory.

    Notes
    -----
    ``dataset[i]`` returns ``(image, labels)``: a float tensor ``(3, H, W)``
    normalised with :data:`course_utils._shared.IMAGENET_MEAN` / ``IMAGENET_STD`` and an int64
    tensor ``(H, W)`` of train ids (255 = ignore). ``dataset.load(i)`` returns the
    numpy arrays before the transform.
    """

    def __init__(self, root: str | Path | None = None, split: str = "train", *, scale: float = 1.0,
                 transform: Callable | None = None, seed: int = 0, cache: bool = False) -> None:
        scale = check_number(scale, "scale", 0, 4, open_min=True)
        self.root = cityscapes_root(root)
        self.split = split
        self.frames = list_frames(self.root, split)
        self.scale = float(scale)
        self.transform = transform
        self.seed = int(seed)
        self.epoch = 0
        self.cache = cache
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.frames)

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation of ``epoch`` (called by :func:`course_utils.train.fit`)."""
        self.epoch = int(epoch)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """``(image (H, W, 3) uint8, labels (H, W) uint8 train ids)`` at ``scale``, before the transform."""
        if index in self._cache:
            return self._cache[index]
        frame = self.frames[index]
        image = read_image(frame.image)
        try:
            labels = labels_to_train_ids(read_label_ids(frame.label_ids), name=str(frame.label_ids))
        except ValueError as err:
            raise ValueError(f"{frame.label_ids}: {err}") from None
        if image.shape[:2] != labels.shape:
            raise ValueError(f"{frame.image} is {image.shape[:2]} but {frame.label_ids} is {labels.shape}")
        if self.scale != 1.0:
            size = (max(1, round(labels.shape[0] * self.scale)), max(1, round(labels.shape[1] * self.scale)))
            image, labels = resize_image(image, size), resize_labels(labels, size)
        if self.cache:
            self._cache[index] = (image, labels)
        return image, labels

    def generator(self, index: int):
        """The ``torch.Generator`` of sample ``index`` in the current epoch."""
        import torch

        g = torch.Generator()
        g.manual_seed(int(np.random.SeedSequence([self.seed, self.epoch, index]).generate_state(1)[0]))
        return g

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} frames")
        image, labels = self.load(index)
        if self.transform is not None:
            image, labels = self.transform(image, labels, generator=self.generator(index))
        return to_tensors(image, labels)

    def __repr__(self) -> str:
        return f"CityscapesSegmentation(root={str(self.root)!r}, split={self.split!r}, frames={len(self)}, scale={self.scale})"
