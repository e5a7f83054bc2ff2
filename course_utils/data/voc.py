"""PASCAL VOC 2012 segmentation: a loader for the real on-disk layout and a synthetic dataset in it.

The layout (what the VOC development kit unpacks, and what
``torchvision.datasets.VOCSegmentation`` reads)::

    <root>/VOCdevkit/VOC2012/
        JPEGImages/<id>.jpg                  RGB photos
        SegmentationClass/<id>.png           palette PNGs: pixel value = class index
                                             (0 background, 1..20 objects, 255 = "void" border band)
        ImageSets/Segmentation/{train,val,trainval}.txt   one <id> per line

:class:`VOCSegmentationDataset` reads it (the real VOC or ours) and returns
``(image, labels)`` as NumPy arrays: ``image`` (H, W, 3) uint8 RGB and
``labels`` (H, W) uint8 with 255 = ignore.

:func:`write_synthetic_voc` writes a synthetic dataset in that layout, in one of two styles:
``"clipart"`` (the default, :func:`course_utils.data.voc_clipart.draw_scene`: six classes on a
blurred background, what the course's checkpoints were trained on) or ``"scenes"``
(:func:`course_utils.data.voc_scenes.draw_voc_scene`: all twenty classes, shaded, overlapping,
on indoor and outdoor backgrounds).  Both mark a void band along every boundary as the real
annotations do.  :func:`prepare_offline` keeps the clipart one under the data root.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from course_utils._shared import IGNORE_INDEX, IMAGENET_MEAN, IMAGENET_STD, check_bytes, check_choice, check_int
from course_utils.cli import write_text_atomic
from course_utils.data.manifest import MANIFEST_NAME, Manifest
from course_utils.data.void_band import add_void_band
from course_utils.data.voc_clipart import SYNTHETIC_CLASSES, draw_scene
from course_utils.data.voc_scenes import draw_voc_scene
from course_utils.config import SETTINGS
from course_utils.env import is_full_mode
from course_utils.images import check_image, check_labels, check_size, read_image_file, to_float
from course_utils.palettes import voc_palette
from course_utils.paths import data_root

__all__ = [
    "SYNTHETIC_CLASSES",
    "find_voc_root",
    "VOCSegmentationDataset",
    "SegmentationTransform",
    "draw_scene",
    "add_void_band",
    "write_synthetic_voc",
    "synthetic_voc_root",
    "prepare_offline",
    "COURSE_VOC",
    "course_voc_root",
    "SYNTHETIC_STYLES",
    "COURSE_VOC_SCENES",
    "course_voc_scenes_root",
    "course_synthetic_root",
    "VOC2012_SEGMENTATION_IMAGES",
    "synthetic_voc_parameters",
    "ensure_synthetic_voc",
    "load_arrays",
    "images_to_tensor",
    "voc_loaders",
]

VOC_NUM_CLASSES = 21  # background + 20 objects; 255 = void
#: Images with public pixel labels in the real PASCAL VOC 2012 segmentation lists (``ImageSets/Segmentation``),
#: and the training set enlarged with SBD's labels that FCN and DeepLab train on.
VOC2012_SEGMENTATION_IMAGES: dict[str, int] = {"train": 1464, "val": 1449, "train_aug (with SBD)": 10582}
_MARKER = "SEGCOURSE_SYNTHETIC.txt"
_SPLITS = ("train", "val", "trainval")
#: The drawings :func:`write_synthetic_voc` offers: six-class clipart (the course's checkpoints) or VOC-like scenes.
SYNTHETIC_STYLES: tuple[str, ...] = ("clipart", "scenes")


# ---------------------------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------------------------
def find_voc_root(root: str | os.PathLike, year: str = "2012") -> Path:
    """The ``VOC<year>`` folder under ``root``.

    ``root`` may be the folder that contains ``VOCdevkit`` (as torchvision's ``VOCSegmentation``
    expects), the ``VOCdevkit`` folder itself, or the ``VOC<year>`` folder.

    Raises
    ------
    FileNotFoundError
        If none of these holds ``JPEGImages``, ``SegmentationClass`` and ``ImageSets/Segmentation``.
    """
    root = Path(root).expanduser()
    for candidate in (root / "VOCdevkit" / f"VOC{year}", root / f"VOC{year}", root):
        if all((candidate / sub).is_dir() for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation")):
            return candidate
    raise FileNotFoundError(
        f"root={str(root)!r} holds no PASCAL VOC {year} segmentation data: expected "
        f"<root>/VOCdevkit/VOC{year}/{{JPEGImages,SegmentationClass,ImageSets/Segmentation}}")


class VOCSegmentationDataset:
    """PASCAL VOC semantic segmentation, read from the real on-disk layout.

    A ``torch.utils.data.Dataset`` (map-style): ``len(ds)`` and ``ds[i]``.  The argument
    names follow ``torchvision.datasets.VOCSegmentation(root, year, image_set, transforms)``,
    and both read the same files; this one returns NumPy arrays in the course's vocabulary.

    Parameters
    ----------
    root : path
        The folder containing ``VOCdevkit`` (also accepted: ``VOCdevkit`` or ``VOC2012`` itself).
    image_set : {"train", "val", "trainval"}
        The list in ``ImageSets/Segmentation`` (any ``<name>.txt`` there is accepted).
    transforms : callable, optional
        ``transforms(image, labels) -> anything``, e.g. :class:`SegmentationTransform`.
    year : str
        "2012" (the folder name ``VOC<year>``).

    Returns (``ds[i]``)
    -------------------
    image : ndarray (H, W, 3) uint8 RGB
    labels : ndarray (H, W) uint8; class ids 0..20 and 255 (void)
    """

    def __init__(self, root: str | os.PathLike, image_set: str = "train",
                 transforms: Callable | None = None, year: str = "2012") -> None:
        self.voc_root = find_voc_root(root, year)
        split_file = self.voc_root / "ImageSets" / "Segmentation" / f"{image_set}.txt"
        if not split_file.is_file():
            available = sorted(p.stem for p in split_file.parent.glob("*.txt"))
            raise ValueError(f"image_set={image_set!r} has no list {split_file}; available: {available}")
        if transforms is not None and not callable(transforms):
            raise TypeError(f"transforms must be callable(image, labels), got {type(transforms).__name__}")
        self.image_set = image_set
        self.transforms = transforms
        self.ids = [line.strip() for line in split_file.read_text().splitlines() if line.strip()]

    def __len__(self) -> int:
        return len(self.ids)

    def image_path(self, index: int) -> Path:
        return self.voc_root / "JPEGImages" / f"{self.ids[index]}.jpg"

    def label_path(self, index: int) -> Path:
        return self.voc_root / "SegmentationClass" / f"{self.ids[index]}.png"

    def __getitem__(self, index: int):
        from PIL import Image

        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} images")
        image = read_image_file(self.image_path(index), mode="RGB")
        label_path = self.label_path(index)
        labels = read_image_file(label_path, what="label image")
        if labels.ndim != 2:
            with Image.open(label_path) as im:
                mode = im.mode
            raise ValueError(f"{label_path} is a {mode} image; VOC labels are palette (P) PNGs")
        if labels.shape != image.shape[:2]:
            raise ValueError(f"{self.ids[index]}: labels {labels.shape} and image {image.shape[:2]} differ in size")
        bad = (labels >= VOC_NUM_CLASSES) & (labels != IGNORE_INDEX)
        if bad.any():
            values = np.unique(labels[bad])[:8].tolist()
            raise ValueError(f"{label_path} holds values {values}, which are not VOC classes 0-{VOC_NUM_CLASSES - 1} "
                             f"or {IGNORE_INDEX} (void): is it a colour PNG saved without its palette?")
        if self.transforms is not None:
            return self.transforms(image, labels)
        return image, labels

    def __repr__(self) -> str:
        return f"VOCSegmentationDataset(root={str(self.voc_root)!r}, image_set={self.image_set!r}, n={len(self)})"


class SegmentationTransform:
    """``(image, labels) -> (tensor (3, S, S) float32 normalised, tensor (S, S) int64)``.

    Pads to at least ``size`` (image with the mean colour, i.e. 0 after normalisation; labels
    with 255), then crops ``size x size``: at random when ``train`` (with a random horizontal
    flip), else the top-left corner (use ``size=None`` at evaluation to keep the whole image).

    Parameters
    ----------
    size : int or None
        Side of the square output; None keeps the image size (no pad, no crop).
    train : bool
    mean, std : 3 floats
        Per-channel normalisation (ImageNet's by default, as torchvision's models expect).
    generator : numpy.random.Generator, optional
        Source of the random crops/flips (default: NumPy's global state, which
        :func:`course_utils.train.fit` re-seeds every epoch).
    """

    def __init__(self, size: int | None = None, *, train: bool = False, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                 generator: np.random.Generator | None = None) -> None:
        if size is not None:
            size = check_int(size, "size", 1, 2**15)
        self.size, self.train = size, bool(train)
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self.generator = generator

    def __call__(self, image: np.ndarray, labels: np.ndarray):
        """Transform one pair.

        ``image``: (H, W, 3) uint8, or float in [0, 1] (not divided by 255 again); ``labels``: (H, W)
        ints 0-20 or 255, the image's size. Raises ValueError/TypeError naming the argument otherwise.
        """
        import torch

        check_image(image, "image")
        check_labels(labels, "labels", num_classes=VOC_NUM_CLASSES, ignore_index=IGNORE_INDEX)
        if labels.shape != image.shape[:2]:
            raise ValueError(f"image is {image.shape[0]}x{image.shape[1]} but labels is {labels.shape[0]}x"
                             f"{labels.shape[1]} (H x W): they must have the same size (resize labels with "
                             "nearest neighbour, course_utils.images.resize_labels)")
        rng = self.generator if self.generator is not None else np.random
        x = (to_float(image) - self.mean) / self.std
        y = labels.astype(np.int64)
        if self.size is not None:
            s = self.size
            ph, pw = max(0, s - x.shape[0]), max(0, s - x.shape[1])
            if ph or pw:
                x = np.pad(x, ((0, ph), (0, pw), (0, 0)))
                y = np.pad(y, ((0, ph), (0, pw)), constant_values=IGNORE_INDEX)
            if self.train:
                r = int(rng.integers(0, x.shape[0] - s + 1)) if x.shape[0] > s else 0
                c = int(rng.integers(0, x.shape[1] - s + 1)) if x.shape[1] > s else 0
            else:
                r = c = 0
            x, y = x[r:r + s, c:c + s], y[r:r + s, c:c + s]
        if self.train and rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        # copies: a flipped 1-pixel-wide view counts as contiguous for numpy but has a negative stride for torch
        return torch.from_numpy(x.transpose(2, 0, 1).copy()), torch.from_numpy(y.copy())


def images_to_tensor(images: np.ndarray, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """Stacked uint8 images ``(N, H, W, 3)`` -> normalised float32 tensor ``(N, 3, H, W)``."""
    import torch

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be (N, H, W, 3) uint8, got {images.shape} {images.dtype}")
    x = (torch.tensor(images, dtype=torch.float32) / 255.0 - torch.tensor(mean)) / torch.tensor(std)
    return x.permute(0, 3, 1, 2).contiguous()


def voc_loaders(root: str | os.PathLike, *, batch_size: int, image_size: int | None = None, in_memory: bool = False,
                train_set: str = "train", val_set: str = "val", num_workers: int = 0):
    """Training and validation batches for FCN training.

    ``in_memory=True`` (the synthetic data, all images one size): everything is decoded once
    into tensors, and training batches come with random horizontal flips.  Otherwise (real
    VOC, images up to 500x500 of varying sizes): training images are padded/cropped to
    ``image_size`` by :class:`SegmentationTransform`, and validation runs image by image at
    full size (batch 1), as the FCN paper evaluates.

    Returns
    -------
    (train_loader, val_loader)
        Iterables of ``(images (N, 3, H, W) float32, labels (N, H, W) int64)``.
    """
    import torch

    from course_utils.data.loaders import tensor_loader  # imports torch: only when loaders are built

    if in_memory:
        images, labels = load_arrays(VOCSegmentationDataset(root, train_set))
        train = tensor_loader(images_to_tensor(images), torch.from_numpy(labels).long(), batch_size)
        images, labels = load_arrays(VOCSegmentationDataset(root, val_set))
        val = tensor_loader(images_to_tensor(images), torch.from_numpy(labels).long(), batch_size,
                            shuffle=False, flip=False)
        return train, val
    if image_size is None:
        raise ValueError("image_size is required when in_memory=False (training crops must share one size)")
    train = torch.utils.data.DataLoader(
        VOCSegmentationDataset(root, train_set, SegmentationTransform(image_size, train=True)),
        batch_size=batch_size, shuffle=True, drop_last=True, num_workers=num_workers)
    val = torch.utils.data.DataLoader(VOCSegmentationDataset(root, val_set, SegmentationTransform(None)),
                                      batch_size=1, shuffle=False, num_workers=num_workers)
    return train, val


def load_arrays(dataset: VOCSegmentationDataset) -> tuple[np.ndarray, np.ndarray]:
    """All images and label maps of a dataset whose images share one size, stacked.

    Returns
    -------
    images : ndarray (N, H, W, 3) uint8
    labels : ndarray (N, H, W) uint8
    """
    if dataset.transforms is not None:
        raise ValueError("dataset has transforms: load_arrays needs the raw (image, labels) pairs")
    pairs = [dataset[i] for i in range(len(dataset))]
    if not pairs:
        raise ValueError(f"{dataset!r} is empty")
    shapes = {p[0].shape for p in pairs}
    if len(shapes) != 1:
        raise ValueError(f"images have {len(shapes)} different sizes; use a DataLoader with SegmentationTransform")
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


# ---------------------------------------------------------------------------------------------
# The synthetic dataset on disk
# ---------------------------------------------------------------------------------------------
def _write_label_png(path: Path, labels: np.ndarray) -> None:
    from PIL import Image

    im = Image.fromarray(labels.astype(np.uint8), mode="P")
    im.putpalette(voc_palette().reshape(-1).tolist())
    im.save(path)


def _write_scene(job: tuple) -> tuple[dict[str, dict], list[str]]:
    """Draw and write scene ``i`` (a worker's task) unless both its files check out; return their records.

    A file with a record must match it; a file without one (written before manifests, or by a run
    stopped before saving its manifest: whole either way, files are renamed into place) is adopted
    if it decodes fully as an image of the right size and mode. A missing file is drawn; any other
    file is refused (:meth:`Manifest.ensure`), never overwritten.
    """
    from PIL import Image

    voc, name, i, seed, size, max_objects, jpeg_quality, records, style = job
    manifest = _records_manifest(voc, records)
    jpg, png = f"JPEGImages/{name}.jpg", f"SegmentationClass/{name}.png"
    scene = []

    def draw():
        if not scene:
            if style == "scenes":
                scene.extend(draw_voc_scene(np.random.default_rng([seed, i]), size, max_objects=max_objects))
            else:
                scene.extend(draw_scene(np.random.default_rng([seed, i]), size, max_objects=max_objects))
        return scene

    manifest.ensure(jpg, lambda tmp: Image.fromarray(draw()[0]).save(tmp, format="JPEG", quality=jpeg_quality),
                    lambda path: _decodes(path, size, "RGB"))
    manifest.ensure(png, lambda tmp: _write_label_png(tmp, draw()[1]), lambda path: _decodes(path, size, "P"))
    return {k: manifest.records[k] for k in (jpg, png) if k in manifest.records}, manifest.refused


def _root_lock(root: Path):
    """An exclusive lock (an open file; closing it releases) for generating into ``root``."""
    import fcntl
    import hashlib
    import tempfile

    key = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    lock = open(Path(tempfile.gettempdir()) / f"segcourse-voc-{key}.lock", "w")  # noqa: SIM115 (held by the caller)
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def _decodes(path: Path, size: tuple[int, int], mode: str) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
            return im.mode == mode and im.size == (size[1], size[0])
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def _records_manifest(voc: Path, records: dict) -> Manifest:
    manifest = Manifest.__new__(Manifest)
    manifest.folder, manifest.path, manifest.records, manifest.refused = voc, voc / MANIFEST_NAME, dict(records), []
    return manifest


def _check_voc_root(root: Path, voc: Path, marker: Path) -> None:
    """Refuse a ``root`` that holds a dataset this module did not write (a real VOC, at any level)."""
    for folder in (root, root / "VOCdevkit", voc):
        if any((folder / sub).exists() for sub in ("JPEGImages", "SegmentationClass", "Annotations")) \
                and folder != voc:
            raise FileExistsError(f"{folder} holds a VOC-style dataset (JPEGImages, SegmentationClass, ...): "
                                  "not writing a synthetic dataset there; choose an empty root")
    devkit = root / "VOCdevkit"
    if devkit.is_dir() and any(p.name != "VOC2012" for p in devkit.iterdir()):
        raise FileExistsError(f"{devkit} holds other datasets ({sorted(p.name for p in devkit.iterdir())}): "
                              "not writing a synthetic VOC2012 beside them; choose an empty root")
    if voc.exists() and any(voc.iterdir()) and not marker.exists():
        raise FileExistsError(f"{voc} holds a VOC dataset that segcourse did not generate: not writing into it")


def write_synthetic_voc(root: str | os.PathLike, *, n_train: int, n_val: int, size: tuple[int, int] = (128, 128),
                        seed: int = 0, max_objects: int = 4, jpeg_quality: int = 92, workers: int = 1,
                        style: str = "clipart") -> Path:
    """Write a synthetic dataset in the PASCAL VOC 2012 layout under ``root``.

    Scene ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, so the files depend on
    the arguments only. A marker file ``VOC2012/SEGCOURSE_SYNTHETIC.txt`` records the arguments and
    a manifest (:class:`~course_utils.data.manifest.Manifest`) the size and checksum of every file:
    on a rerun each file is verified; a missing one is drawn again, a truncated or changed one is
    refused with an error naming it (never overwritten). Files go through per-process temporary
    names, so two runs on one root do not collide.

    Parameters
    ----------
    root : path
        Gets ``VOCdevkit/VOC2012/...``.
    n_train, n_val : int
        Images in ``train.txt`` and ``val.txt`` (``trainval.txt`` lists both).
    size : (H, W)
    seed : int
    max_objects : int
        At most this many objects per scene (>= 1; 2..4 for ``"scenes"``).
    jpeg_quality : int
        1..100.
    workers : int
        Processes drawing scenes in parallel (the files do not depend on it).
    style : {"clipart", "scenes"}
        ``"clipart"`` (:func:`~course_utils.data.voc_clipart.draw_scene`, six classes; the files
        the course's checkpoints were trained on) or ``"scenes"``
        (:func:`~course_utils.data.voc_scenes.draw_voc_scene`, all twenty classes); the marker
        records ``style=scenes``.

    Returns
    -------
    Path
        ``root`` (the folder containing ``VOCdevkit``, as ``VOCSegmentation`` expects).

    Raises
    ------
    FileExistsError
        If ``root`` holds a dataset that this function did not write (a real VOC, another
        devkit year, a VOC2012 without the marker) or one made with other arguments.
    """
    n_train = check_int(n_train, "n_train", 0)
    n_val = check_int(n_val, "n_val", 0)
    seed = check_int(seed, "seed", 0)
    if n_train + n_val == 0:
        raise ValueError("n_train + n_val must be positive, got 0 and 0")
    style = check_choice(style, "style", SYNTHETIC_STYLES)
    size = check_size(size, "size", 8 if style == "clipart" else 32)
    max_objects = check_int(max_objects, "max_objects", *((1, 64) if style == "clipart" else (2, 4)))
    jpeg_quality = check_int(jpeg_quality, "jpeg_quality", 1, 100)
    workers = check_int(workers, "workers", 1, 256)
    check_bytes(float(n_train + n_val) * size[0] * size[1] * 4, name="n_train", value=n_train,
                what=f"{n_train + n_val} scenes of {size[0]}x{size[1]} on disk")
    root = Path(root).expanduser()
    voc = root / "VOCdevkit" / "VOC2012"
    marker = voc / _MARKER
    description = (f"segcourse synthetic PASCAL VOC layout\nn_train={n_train}\nn_val={n_val}\n"
                   f"size={tuple(size)}\nseed={seed}\nmax_objects={max_objects}\n"
                   + ("" if style == "clipart" else f"style={style}\n"))  # clipart: the text of old folders
    # Two runs on one root take turns: the second waits here, then checks and verifies what the first
    # wrote (a file another run is still recording would otherwise look like a stranger's). The lock file
    # lies in the temporary folder, keyed by the root, so nothing is written into a root that is refused.
    lock = _root_lock(root)
    try:
        _check_voc_root(root, voc, marker)
    except BaseException:
        lock.close()
        raise
    if marker.exists() and marker.read_text() != description:
        lock.close()
        raise FileExistsError(f"{voc} holds a synthetic dataset made with other arguments:\n{marker.read_text()}"
                              f"use another root")
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (voc / sub).mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        write_text_atomic(marker, description)
    manifest = Manifest(voc)
    ids = [f"2012_{i:06d}" for i in range(1, n_train + n_val + 1)]
    jobs = [(voc, name, i, seed, tuple(size), max_objects, jpeg_quality,
             {k: manifest.records[k] for k in (f"JPEGImages/{name}.jpg", f"SegmentationClass/{name}.png")
              if k in manifest.records}, style)
            for i, name in enumerate(ids)]
    try:
        if workers == 1:
            for job in jobs:
                records, refused = _write_scene(job)
                manifest.update(records)
                manifest.refused.extend(refused)
        else:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(workers) as pool:
                for records, refused in pool.map(_write_scene, jobs, chunksize=16):
                    manifest.update(records)
                    manifest.refused.extend(refused)
        lists = {"train": ids[:n_train], "val": ids[n_train:], "trainval": ids}
        for split in _SPLITS:
            text = "".join(f"{i}\n" for i in lists[split])
            rel = f"ImageSets/Segmentation/{split}.txt"
            manifest.ensure(rel, lambda tmp, text=text: tmp.write_text(text),
                            lambda path, text=text: path.read_text() == text)
    except BaseException:
        manifest.save()
        lock.close()
        raise
    try:
        manifest.close()
    finally:
        lock.close()
    return root


def _synthetic_settings(full: bool) -> dict:
    pick = 1 if full else 0
    section = SETTINGS["fcn"]
    side = section["data_size"][pick]
    return {"n_train": section["train_images"][pick], "n_val": section["val_images"][pick],
            "size": (side, side), "seed": 0}


def synthetic_voc_root(root: str | os.PathLike, full: bool = False) -> Path:
    """Where :func:`prepare_offline` keeps the synthetic VOC for the current settings.

    ``<root>/voc_synthetic/<mode>-<side>px-<n_train>+<n_val>-seed<seed>``: changing the ``fcn``
    settings gives a new folder instead of touching the old one.
    """
    s = _synthetic_settings(full)
    name = f"{'full' if full else 'quick'}-{s['size'][0]}px-{s['n_train']}+{s['n_val']}-seed{s['seed']}"
    return Path(root) / "voc_synthetic" / name


def prepare_offline(root: Path, full: bool) -> Path:
    """Generate the synthetic VOC for quick (or full) mode under ``root`` if it is not complete.

    Idempotent; never overwrites existing files.  Returns the folder containing ``VOCdevkit``.
    """
    return write_synthetic_voc(synthetic_voc_root(root, full), **_synthetic_settings(full))


def ensure_synthetic_voc(full: bool | None = None) -> Path:
    """The synthetic VOC under the data root for the current mode, generated on the fly if missing."""

    full = is_full_mode() if full is None else full
    return prepare_offline(data_root(), full)



#: The synthetic VOC the course's FCN checkpoints were trained on (:mod:`course_utils.checkpoints`).
COURSE_VOC: dict = {"n_train": 800, "n_val": 200, "size": (128, 128), "seed": 0}


def course_voc_root(root: str | os.PathLike | None = None, *, workers: int = 1) -> Path:
    """The course's synthetic VOC (:data:`COURSE_VOC`), generated under ``root`` if incomplete.

    Default ``root``: ``<data root>/voc_synthetic/course-128px-800+200-seed0``.
    """
    c = COURSE_VOC
    name = f"course-{c['size'][0]}px-{c['n_train']}+{c['n_val']}-seed{c['seed']}"
    folder = Path(root) if root is not None else data_root() / "voc_synthetic" / name
    return write_synthetic_voc(folder, workers=workers, **COURSE_VOC)


#: The default VOC-like scenes (``style="scenes"``): as many images as :data:`COURSE_VOC`, 128x128.
COURSE_VOC_SCENES: dict = {"n_train": 800, "n_val": 200, "size": (128, 128), "seed": 0}


def course_voc_scenes_root(root: str | os.PathLike | None = None, *, n_train: int = COURSE_VOC_SCENES["n_train"],
                           n_val: int = COURSE_VOC_SCENES["n_val"], size: tuple[int, int] = COURSE_VOC_SCENES["size"],
                           seed: int = COURSE_VOC_SCENES["seed"], workers: int = 1) -> Path:
    """The VOC-like scenes (:func:`write_synthetic_voc` with ``style="scenes"``), generated under ``root`` if incomplete.

    Default ``root``: ``<data root>/voc_synthetic/scenes-<H>x<W>px-<n_train>+<n_val>-seed<seed>`` (beside,
    never inside, the clipart folder of :func:`course_voc_root`).
    """
    n_train, n_val = check_int(n_train, "n_train", 0), check_int(n_val, "n_val", 0)
    size, seed = check_size(size, "size", 32), check_int(seed, "seed", 0)
    name = f"scenes-{size[0]}x{size[1]}px-{n_train}+{n_val}-seed{seed}"
    folder = Path(root) if root is not None else data_root() / "voc_synthetic" / name
    return write_synthetic_voc(folder, n_train=n_train, n_val=n_val, size=size, seed=seed, workers=workers,
                               style="scenes")


def course_synthetic_root(style: str = "clipart", *, workers: int = 1) -> Path:
    """The course's synthetic VOC of ``style``: :func:`course_voc_root` ("clipart") or
    :func:`course_voc_scenes_root` ("scenes"), generated if incomplete."""
    style = check_choice(style, "style", SYNTHETIC_STYLES)
    return course_voc_root(workers=workers) if style == "clipart" else course_voc_scenes_root(workers=workers)


def synthetic_voc_parameters(root: str | os.PathLike) -> dict | None:
    """The arguments a synthetic VOC under ``root`` was written with (its marker), or None for another dataset.

    Returns
    -------
    dict or None
        ``style``, ``n_train``, ``n_val``, ``size`` (a list ``[H, W]``), ``seed``, ``max_objects``.
    """
    marker = Path(root).expanduser() / "VOCdevkit" / "VOC2012" / _MARKER
    if not marker.is_file():
        return None
    fields = dict(line.split("=", 1) for line in marker.read_text().splitlines() if "=" in line)
    try:
        h, w = (int(v) for v in fields["size"].strip("()").split(","))
        return {"style": fields.get("style", "clipart"), "n_train": int(fields["n_train"]),
                "n_val": int(fields["n_val"]), "size": [h, w], "seed": int(fields["seed"]),
                "max_objects": int(fields["max_objects"])}
    except (KeyError, ValueError) as err:
        raise ValueError(f"{marker} is damaged ({err!r}): regenerate that synthetic VOC in a new folder") from None
