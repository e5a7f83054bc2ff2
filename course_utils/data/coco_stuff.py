"""COCO-stuff: the stuffthingmaps label PNGs, the 182-id and 171-class label sets, a loader.

COCO-stuff (Caesar, Uijlings & Ferrari, *COCO-Stuff: Thing and Stuff Classes
in Context*, CVPR 2018) labels every pixel of the 164K COCO 2017 images:
**80 thing classes + 91 stuff classes + 1 'unlabeled' = 172 classes**.

The label PNGs (``stuffthingmaps_trainval2017.zip``) are single-channel
8-bit images, one per COCO image, named like the image
(``annotations/val2017/000000000139.png`` for ``images/val2017/000000000139.jpg``).
Each pixel holds an id in **0-181**, or **255 for 'unlabeled'**:

* ids 0-90 are COCO's 91 thing ids shifted down by one (``labels.txt`` id - 1:
  0 = person, 1 = bicycle, ... 89 = toothbrush, 90 = hair brush);
* ids 91-181 are the 91 stuff classes (91 = banner ... 181 = wood);
* 11 thing ids never occur, because COCO has no segmentation for them
  (street sign, hat, shoe, eye glasses, plate, mirror, window, desk, door,
  blender, hair brush): ids 11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90.

Training uses the **171 classes** that occur (80 things + 91 stuff), numbered
0-170 in the order of the 182 ids with the 11 unused ids removed
(:func:`to_171_classes`; the same table as mmsegmentation's
``tools/convert_datasets/coco_stuff164k.py``); 255 stays 'unlabeled' (ignored).

Layout of a COCO-stuff root (``$COCO_STUFF_ROOT``; the layout of the COCO-stuff
README's setup instructions)::

    root/images/{train2017,val2017}/<12-digit id>.jpg
    root/annotations/{train2017,val2017}/<12-digit id>.png

:func:`write_coco_stuff_files` writes files in exactly this layout, and
:func:`prepare_offline` a small procedural sample (streets, beaches, rooms
with people, cars and animals), so the loader and the lesson run offline.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from course_utils._shared import as_generator, check_int
from course_utils.config import SETTINGS
from course_utils.env import is_full_mode
from course_utils.paths import data_root

__all__ = [
    "NUM_IDS",
    "NUM_CLASSES",
    "NUM_THINGS",
    "NUM_STUFF",
    "UNLABELED",
    "COCO_STUFF_ID_NAMES",
    "UNUSED_THING_IDS",
    "COCO_STUFF_CLASSES",
    "SPLITS",
    "is_thing_id",
    "to_171_classes",
    "id_to_class_lut",
    "read_stuffthingmap",
    "coco_stuff_pairs",
    "CocoStuffSegmentation",
    "render_sample",
    "write_coco_stuff_files",
    "prepare_offline",
    "offline_coco_stuff",
]

UNLABELED = 255
NUM_IDS = 182  # ids 0-181 in the PNGs
NUM_THINGS = 80
NUM_STUFF = 91
NUM_CLASSES = NUM_THINGS + NUM_STUFF  # 171 classes that occur
SPLITS = ("train", "val")

# labels.txt of github.com/nightrome/cocostuff, ids 1-182 (PNG value = id - 1); 0 'unlabeled' is 255 in the PNGs.
COCO_STUFF_ID_NAMES: tuple[str, ...] = (
    # things (91 COCO ids, 11 of them unused)
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "street sign", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep",
    "cow", "elephant", "bear", "zebra", "giraffe", "hat", "backpack", "umbrella", "shoe", "eye glasses",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat",
    "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle", "plate", "wine glass", "cup", "fork",
    "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza",
    "donut", "cake", "chair", "couch", "potted plant", "bed", "mirror", "dining table", "window", "desk",
    "toilet", "door", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone", "microwave", "oven",
    "toaster", "sink", "refrigerator", "blender", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush", "hair brush",
    # stuff (91)
    "banner", "blanket", "branch", "bridge", "building-other", "bush", "cabinet", "cage", "cardboard", "carpet",
    "ceiling-other", "ceiling-tile", "cloth", "clothes", "clouds", "counter", "cupboard", "curtain", "desk-stuff",
    "dirt", "door-stuff", "fence", "floor-marble", "floor-other", "floor-stone", "floor-tile", "floor-wood",
    "flower", "fog", "food-other", "fruit", "furniture-other", "grass", "gravel", "ground-other", "hill",
    "house", "leaves", "light", "mat", "metal", "mirror-stuff", "moss", "mountain", "mud", "napkin", "net",
    "paper", "pavement", "pillow", "plant-other", "plastic", "platform", "playingfield", "railing", "railroad",
    "river", "road", "rock", "roof", "rug", "salad", "sand", "sea", "shelf", "sky-other", "skyscraper", "snow",
    "solid-other", "stairs", "stone", "straw", "structural-other", "table", "tent", "textile-other", "towel",
    "tree", "vegetable", "wall-brick", "wall-concrete", "wall-other", "wall-panel", "wall-stone", "wall-tile",
    "wall-wood", "water-other", "waterdrops", "window-blind", "window-other", "wood",
)

_UNUSED_NAMES = ("street sign", "hat", "shoe", "eye glasses", "plate", "mirror", "window", "desk", "door",
                 "blender", "hair brush")
UNUSED_THING_IDS: tuple[int, ...] = tuple(sorted(COCO_STUFF_ID_NAMES.index(n) for n in _UNUSED_NAMES))
COCO_STUFF_CLASSES: tuple[str, ...] = tuple(n for i, n in enumerate(COCO_STUFF_ID_NAMES) if i not in UNUSED_THING_IDS)


def is_thing_id(label_id: int) -> bool:
    """Whether a PNG id (0-181) is a thing (0-90) rather than stuff (91-181)."""
    if not 0 <= int(label_id) < NUM_IDS:
        raise ValueError(f"label_id={label_id!r}: expected an id in 0-181")
    return int(label_id) <= 90


@lru_cache(maxsize=1)
def _lut() -> np.ndarray:
    lut = np.full(256, UNLABELED, dtype=np.uint8)
    used = [i for i in range(NUM_IDS) if i not in UNUSED_THING_IDS]
    lut[used] = np.arange(len(used), dtype=np.uint8)
    lut.setflags(write=False)
    return lut


def id_to_class_lut() -> np.ndarray:
    """``(256,)`` uint8 table: PNG id -> class 0-170; unused thing ids, 182-254 and 255 -> 255."""
    return _lut().copy()


def _check_ids(labels: np.ndarray, name: str) -> np.ndarray:
    if not isinstance(labels, np.ndarray) or labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        shape = getattr(labels, "shape", None)
        raise ValueError(f"{name} must be an (H, W) integer array of COCO-stuff ids, got "
                         f"{type(labels).__name__} with shape {shape}")
    bad = (labels < 0) | ((labels >= NUM_IDS) & (labels != UNLABELED))
    if bad.any():
        value = int(labels[bad][0])
        raise ValueError(f"{name} holds the value {value}: COCO-stuff ids are 0-181 and 255 (unlabeled)")
    return labels


def to_171_classes(labels: np.ndarray, name: str = "labels") -> np.ndarray:
    """Map a 182-id stuffthingmap to the 171 classes that occur (0-170, 255 = unlabeled).

    Parameters
    ----------
    labels : ndarray, (H, W), integer
        Ids 0-181 or 255.

    Returns
    -------
    ndarray, (H, W), uint8
        Classes 0-79 are the 80 things, 80-170 the 91 stuff classes
        (``COCO_STUFF_CLASSES``); an unused thing id (which COCO-stuff never
        contains) becomes 255.

    Raises
    ------
    ValueError
        On values outside 0-181 / 255, naming the argument.
    """
    labels = _check_ids(labels, name)
    return _lut()[labels.astype(np.intp)]


def read_stuffthingmap(path: Path | str, *, classes: int = NUM_CLASSES) -> np.ndarray:
    """Read one COCO-stuff label PNG.

    Parameters
    ----------
    path : path
        A ``annotations/<split>2017/<id>.png`` file (8-bit, one channel).
    classes : {171, 182}
        171: map to the 171 classes (:func:`to_171_classes`); 182: the raw ids.

    Returns
    -------
    ndarray, (H, W), uint8
    """
    from PIL import Image

    if classes not in (NUM_CLASSES, NUM_IDS):
        raise ValueError(f"classes={classes!r}: expected 171 (classes that occur) or 182 (raw ids)")
    with Image.open(path) as img:
        if img.mode not in ("L", "P"):
            raise ValueError(f"path={str(path)!r} is a {img.mode} image; COCO-stuff label maps are 8-bit, one channel")
        ids = np.array(img)
    _check_ids(ids, f"the label map {Path(path).name}")
    return ids if classes == NUM_IDS else _lut()[ids]


def coco_stuff_pairs(root: Path | str, split: str = "val") -> list[tuple[Path, Path]]:
    """``(image path, label path)`` for every image of ``root/images/<split>2017``, sorted by id.

    Raises
    ------
    ValueError
        On an unknown ``split``.
    FileNotFoundError
        When the split's folders are missing, or an image has no label map.
    """
    if split not in SPLITS:
        raise ValueError(f"split={split!r}: expected one of {SPLITS}")
    root = Path(root)
    images = root / "images" / f"{split}2017"
    annotations = root / "annotations" / f"{split}2017"
    for folder in (images, annotations):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} does not exist: root={str(root)!r} is not a COCO-stuff root "
                                    f"(expected images/{split}2017 and annotations/{split}2017)")
    pairs = []
    for image in sorted(images.glob("*.jpg")):
        label = annotations / f"{image.stem}.png"
        if not label.is_file():
            raise FileNotFoundError(f"{image.name} has no label map {label}")
        pairs.append((image, label))
    return pairs


class CocoStuffSegmentation:
    """The COCO-stuff images and label maps of one split, as ``(image, labels)`` pairs.

    Parameters
    ----------
    root : path
        A COCO-stuff root (see the module docstring).
    split : {'train', 'val'}
    classes : {171, 182}
        Label set of the returned maps (:func:`read_stuffthingmap`).
    limit : int, optional
        Use only the first ``limit`` images (sorted by id).

    Items are ``(image, labels)``: ``(H, W, 3)`` uint8 RGB and ``(H, W)`` uint8
    (255 = unlabeled).  Works as a ``torch.utils.data.Dataset`` (map style).
    """

    def __init__(self, root: Path | str, split: str = "val", *, classes: int = NUM_CLASSES,
                 limit: int | None = None) -> None:
        if classes not in (NUM_CLASSES, NUM_IDS):
            raise ValueError(f"classes={classes!r}: expected 171 or 182")
        if limit is not None:
            limit = check_int(limit, "limit", 1)
        self.root = Path(root)
        self.split = split
        self.classes = classes
        self.pairs = coco_stuff_pairs(self.root, split)[:limit]
        self.class_names = COCO_STUFF_CLASSES if classes == NUM_CLASSES else COCO_STUFF_ID_NAMES

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        from PIL import Image

        image_path, label_path = self.pairs[index]
        with Image.open(image_path) as img:
            image = np.array(img.convert("RGB"))
        labels = read_stuffthingmap(label_path, classes=self.classes)
        if labels.shape != image.shape[:2]:
            raise ValueError(f"{label_path.name} is {labels.shape}, but its image is {image.shape[:2]}")
        return image, labels


# --------------------------------------------------------------------------- procedural sample
_ID = {name: i for i, name in enumerate(COCO_STUFF_ID_NAMES)}

# (top stuff, middle stuff, bottom stuff, things that may appear)
_SCENES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("sky-other", "building-other", "road", ("person", "car", "bicycle", "bus")),
    ("clouds", "tree", "grass", ("person", "dog", "horse", "sheep")),
    ("sky-other", "sea", "sand", ("person", "dog", "umbrella", "surfboard")),
    ("ceiling-other", "wall-concrete", "floor-wood", ("person", "chair", "cat", "potted plant")),
    ("sky-other", "mountain", "snow", ("person", "skis", "dog")),
)

# a prototype colour per id used in the sample (RGB); anything else gets a grey derived from its id
_COLOURS = {
    "sky-other": (135, 180, 230), "clouds": (210, 215, 225), "ceiling-other": (225, 220, 205),
    "building-other": (150, 120, 105), "tree": (50, 110, 45), "sea": (40, 90, 160), "mountain": (110, 105, 120),
    "wall-concrete": (185, 180, 170), "road": (90, 90, 95), "grass": (90, 165, 60), "sand": (215, 195, 140),
    "floor-wood": (160, 110, 60), "snow": (240, 240, 245), "person": (200, 60, 70), "car": (30, 60, 200),
    "bicycle": (120, 200, 40), "bus": (240, 200, 20), "dog": (140, 80, 40), "horse": (100, 60, 30),
    "sheep": (235, 235, 220), "umbrella": (240, 110, 20), "surfboard": (250, 240, 60), "chair": (110, 70, 50),
    "cat": (120, 120, 120), "potted plant": (30, 150, 80), "skis": (220, 30, 30),
}


def render_sample(size: tuple[int, int], rng: np.random.Generator | int | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One procedural COCO-stuff-like scene: stuff bands with things on top.

    Parameters
    ----------
    size : (int, int)
        ``(H, W)`` in pixels (at least 32 x 32).
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    image : ndarray, (H, W, 3), uint8
        RGB: each class has a prototype colour, plus shading and noise.
    labels : ndarray, (H, W), uint8
        COCO-stuff ids (0-181) and 255 for a few unlabeled patches.
    instances : ndarray, (H, W), uint16
        0 for stuff and unlabeled pixels, ``1..K`` for the K thing instances
        (COCO's instance-level annotation of the same scene).
    """
    rng = np.random.default_rng() if rng is None else as_generator(rng)
    h, w = int(size[0]), int(size[1])
    if h < 32 or w < 32:
        raise ValueError(f"size={size!r}: expected (H, W) with both at least 32")
    top, middle, bottom, things = _SCENES[int(rng.integers(len(_SCENES)))]
    yy, xx = np.mgrid[0:h, 0:w]
    # wavy horizon lines between the three stuff bands
    horizon1 = (h * rng.uniform(0.25, 0.4) + h * 0.05 * np.sin(xx / w * rng.uniform(2, 6) + rng.uniform(0, 6)))
    horizon2 = (h * rng.uniform(0.55, 0.7) + h * 0.04 * np.sin(xx / w * rng.uniform(2, 6) + rng.uniform(0, 6)))
    labels = np.where(yy < horizon1, _ID[top], np.where(yy < horizon2, _ID[middle], _ID[bottom])).astype(np.uint8)
    instances = np.zeros((h, w), dtype=np.uint16)
    n_things = int(rng.integers(1, 5))
    for k in range(1, n_things + 1):
        name = things[int(rng.integers(len(things)))]
        cy = rng.uniform(horizon2.mean() - 0.1 * h, h * 0.9)
        cx = rng.uniform(0.1 * w, 0.9 * w)
        scale = (0.4 + cy / h) * min(h, w)  # nearer (lower) things are bigger
        ry, rx = scale * rng.uniform(0.08, 0.18), scale * rng.uniform(0.06, 0.2)
        if name == "person":
            ry, rx = ry * 1.6, rx * 0.5
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        labels[inside] = _ID[name]
        instances[inside] = k  # later things occlude earlier ones, as in a photo
    present = np.unique(instances)
    remap = np.zeros(int(instances.max()) + 1, dtype=np.uint16)
    remap[present] = np.arange(len(present), dtype=np.uint16)
    instances = remap[instances]  # renumber 1..K without gaps after occlusion
    for _ in range(int(rng.integers(0, 3))):  # COCO-stuff leaves some regions unlabeled
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(0.03, 0.08) * min(h, w)
        blob = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        labels[blob] = UNLABELED
        instances[blob] = 0
    colours = np.zeros((256, 3), dtype=np.float64)
    for i, name in enumerate(COCO_STUFF_ID_NAMES):
        colours[i] = _COLOURS.get(name, (60 + (i * 37) % 150,) * 3)
    colours[UNLABELED] = (128, 128, 128)
    image = colours[labels]
    image *= (0.85 + 0.3 * (1 - yy / h))[..., None]  # light from above
    image += rng.normal(0, 8, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), labels, instances


def write_coco_stuff_files(root: Path | str, samples: Iterable[tuple[str, int, np.ndarray, np.ndarray]]) -> Path:
    """Write ``(split, image_id, image, labels)`` samples in the exact COCO-stuff layout under ``root``.

    Images go to ``images/<split>2017/<id:012d>.jpg`` (JPEG, quality 95) and
    label maps to ``annotations/<split>2017/<id:012d>.png`` (8-bit grey PNG,
    ids 0-181 and 255), as in ``train2017.zip`` / ``val2017.zip`` and
    ``stuffthingmaps_trainval2017.zip``.  Existing files are never overwritten.
    """
    from PIL import Image

    root = Path(root)
    for split, image_id, image, labels in samples:
        if split not in SPLITS:
            raise ValueError(f"split={split!r}: expected one of {SPLITS}")
        _check_ids(labels, "labels")
        if image.shape[:2] != labels.shape:
            raise ValueError(f"image {image.shape[:2]} and labels {labels.shape} differ in size")
        image_path = root / "images" / f"{split}2017" / f"{int(image_id):012d}.jpg"
        label_path = root / "annotations" / f"{split}2017" / f"{int(image_id):012d}.png"
        for path in (image_path, label_path):
            if path.exists():
                raise FileExistsError(f"{path} exists; refusing to overwrite it")
            path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(image_path, quality=95)
        Image.fromarray(labels.astype(np.uint8), mode="L").save(label_path)
    return root


_OFFLINE_DIR = "coco_stuff_sample"
_MARKER = ".segcourse-complete"


def _offline_settings(full: bool) -> dict[str, object]:
    pick = 1 if full else 0
    section = SETTINGS["datasets"]
    return {"train": section["coco_stuff_train"][pick], "val": section["coco_stuff_val"][pick],
            "size": tuple(section["coco_stuff_size"][pick])}


def prepare_offline(root: Path, full: bool = False) -> Path:
    """Write the procedural COCO-stuff sample under ``root/coco_stuff_sample`` (idempotent).

    The sample is generated into a hidden temporary folder and renamed into
    place when complete; an existing complete sample is returned at once, and
    a folder of that name that this function did not write is never touched.
    Sizes come from ``SETTINGS['datasets']`` (``coco_stuff_train``,
    ``coco_stuff_val``, ``coco_stuff_size``).
    """
    root = Path(root)
    target = root / _OFFLINE_DIR
    settings = _offline_settings(full)
    stamp = f"{settings['train']} {settings['val']} {settings['size'][0]} {settings['size'][1]}\n"
    marker = target / _MARKER
    if marker.exists():
        return target
    if target.exists():
        raise FileExistsError(f"{target} exists but was not written by prepare_offline; move it away to "
                              f"regenerate the COCO-stuff sample")
    tmp = root / f".{_OFFLINE_DIR}.partial"
    if tmp.exists():
        shutil.rmtree(tmp)
    rng = np.random.default_rng(2017)
    samples = []
    image_id = 1
    for split in SPLITS:
        for _ in range(int(settings[split])):
            image, labels, _ = render_sample(settings["size"], rng)
            samples.append((split, image_id, image, labels))
            image_id += 1
    write_coco_stuff_files(tmp, samples)
    (tmp / _MARKER).write_text(stamp)
    tmp.rename(target)
    return target


def offline_coco_stuff(root: Path | str | None = None, *, full: bool | None = None) -> Path:
    """The offline COCO-stuff sample folder, generated on first use (a few seconds in quick mode)."""

    return prepare_offline(Path(root) if root is not None else data_root(),
                           is_full_mode() if full is None else full)

