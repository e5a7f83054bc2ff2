"""MiniCity: procedural driving scenes written in the exact Cityscapes layout.

Cityscapes (Cordts et al., *The Cityscapes Dataset for Semantic Urban Scene
Understanding*, CVPR 2016) cannot be downloaded without an account, so the
course generates a small stand-in with the same files, names, label ids,
colours and instance encoding::

    <root>/leftImg8bit/{train,val}/{city}/{city}_{seq:06d}_{frame:06d}_leftImg8bit.png   RGB uint8
    <root>/gtFine/{split}/{city}/{city}_{seq:06d}_{frame:06d}_gtFine_labelIds.png        uint8 label ids
    <root>/gtFine/{split}/{city}/..._gtFine_color.png                                    RGBA label colours
    <root>/gtFine/{split}/{city}/..._gtFine_instanceIds.png                              uint16, id*1000+k
    <root>/gtFine/{split}/{city}/..._gtFine_polygons.json                                the drawn polygons

Label ids, names and colours come from the official
``cityscapesscripts.helpers.labels`` table, so ``torchvision.datasets.Cityscapes``
and the official evaluation read MiniCity unchanged.

The scenes are painted by :mod:`course_utils.data.minicity_painter` (a street seen by a pinhole
camera, objects painted far to near; textures, weather, exposure, blur and noise vary from image
to image). This module writes them to disk and chooses the folders:

* :func:`write_minicity` -- the frames of a dataset, in the Cityscapes layout, under a root it claims;
* :func:`minicity_root`, :func:`prepare_offline` -- the offline default of the current mode;
* :func:`offline_cityscapes_root` -- ``$CITYSCAPES_DATASET`` if set, else that offline default;
* :data:`COURSE_MINICITY`, :func:`course_minicity_root`, :func:`course_minicity_val_root`,
  :func:`heldout_frames` -- the data of the course's DeepLab checkpoints;
* :func:`full_size_frames` -- frames at Cityscapes' full size (MiniCity re-rendered, or read).

Every image is determined by ``(seed, split, index)``; quick (256 x 512) and
full (1024 x 2048) sizes show the same scene at two resolutions.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

from course_utils._shared import check_int
from course_utils.cli import atomic_file, check_output_folder, write_text_atomic
from course_utils.config import SETTINGS
from course_utils.data.cityscapes import CITYSCAPES_ENV, labels_to_train_ids, list_frames, read_image, read_label_ids
from course_utils.data.minicity_canvas import check_size
from course_utils.data.minicity_painter import FULL_SIZE, QUICK_SIZE, render_scene, scene_rng
from course_utils.env import cpu_cores, is_full_mode
from course_utils.paths import data_root

__all__ = [
    "QUICK_SIZE",
    "FULL_SIZE",
    "CITIES",
    "FRAME",
    "minicity_stem",
    "write_minicity",
    "minicity_root",
    "offline_cityscapes_root",
    "default_params",
    "prepare_offline",
    "GENERATOR_VERSION",
    "COURSE_MINICITY",
    "course_heldout_frames",
    "course_minicity_root",
    "course_minicity_val_root",
    "heldout_frames",
    "full_size_frames",
]

#: Made-up city names (no underscores: Cityscapes file names are split on "_").
CITIES: dict[str, tuple[str, ...]] = {"train": ("aurora", "bayside", "cedarfield"), "val": ("dunmore", "elmhurst")}
#: Cityscapes' fine annotations are of the 20th frame of each 30-frame snippet.
FRAME = 19

_MANIFEST = "minicity.json"
_CLAIM = ".minicity-claim.json"  # written first: which parameters this folder is being filled with
_FILES = "minicity-files.json"  # every file's [size, sha256], verified when the generator runs again
_GENERATOR = "minicity-2"  # bumped whenever the drawing changes: older folders are refused, not mixed
#: The generator's version (recorded with the datasets and the checkpoints trained on them).
GENERATOR_VERSION = _GENERATOR
#: The MiniCity the course's DeepLab checkpoints were trained on (:mod:`course_utils.checkpoints`).
COURSE_MINICITY: dict = {"train_images": 1000, "val_images": 200, "size": (256, 512), "seed": 0}


def minicity_stem(city: str, index: int) -> str:
    """``{city}_{seq:06d}_{frame:06d}``: the Cityscapes name of a frame."""
    return f"{city}_{index:06d}_{FRAME:06d}"


def _frames(split: str, count: int) -> list[tuple[str, int, int]]:
    """(city, sequence number, global index) for ``count`` frames, spread over the split's cities."""
    cities = CITIES[split]
    return [(cities[i % len(cities)], i // len(cities), i) for i in range(count)]


def _file_paths(root: Path, split: str, city: str, seq: int) -> dict[str, Path]:
    stem = minicity_stem(city, seq)
    gt = root / "gtFine" / split / city
    return {
        "image": root / "leftImg8bit" / split / city / f"{stem}_leftImg8bit.png",
        "labelIds": gt / f"{stem}_gtFine_labelIds.png",
        "color": gt / f"{stem}_gtFine_color.png",
        "instanceIds": gt / f"{stem}_gtFine_instanceIds.png",
        "polygons": gt / f"{stem}_gtFine_polygons.json",
    }


def _write_png(path: Path, array: np.ndarray) -> None:
    import cv2

    if array.ndim == 3:
        code = cv2.COLOR_RGB2BGR if array.shape[2] == 3 else cv2.COLOR_RGBA2BGRA
        array = cv2.cvtColor(array, code)
    with atomic_file(path) as tmp:  # a per-process temporary name: two writers of the same folder never collide
        if not cv2.imwrite(str(tmp), array, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
            raise OSError(f"could not write {path}")


def _file_record(path: Path) -> list:
    """``[size in bytes, SHA-256 hex]`` of a written file, as the manifest records it."""
    data = path.read_bytes()
    return [len(data), hashlib.sha256(data).hexdigest()]


def _intact(path: Path, record: list | None) -> bool:
    """Whether ``path`` is whole: its manifest's size and checksum if recorded, else it decodes."""
    if not path.is_file():
        return False
    if record is not None:
        return path.stat().st_size == record[0] and _file_record(path) == list(record)
    try:
        if path.suffix == ".json":
            json.loads(path.read_text())
            return True
        import cv2

        return cv2.imread(str(path), cv2.IMREAD_UNCHANGED) is not None
    except (ValueError, UnicodeDecodeError, OSError):
        return False


def _write_frame(job: tuple) -> tuple[dict[str, list], list[str]]:
    """Render and write one frame (a worker's task): whole files are kept, missing or damaged ones
    (another size or checksum than the manifest's, or not decodable) are written again.

    Returns ``({relative path: [size, sha256]}, [relative paths written again])``.
    """
    root, split, city, seq, i, seed, size, known = job
    paths = _file_paths(root, split, city, seq)
    rel = {key: p.relative_to(root).as_posix() for key, p in paths.items()}
    damaged = [key for key, p in paths.items() if p.exists() and not _intact(p, known.get(rel[key]))]
    for key in damaged:  # the root is claimed by this generator: a damaged file is ours to replace
        paths[key].unlink()
    if any(not p.exists() for p in paths.values()):
        _render_frame(paths, render_scene(scene_rng(seed, split, i), size))
    return {rel[key]: known.get(rel[key]) if key not in damaged and rel[key] in known else _file_record(p)
            for key, p in paths.items()}, [rel[key] for key in damaged]


def _render_frame(paths: dict[str, Path], scene) -> None:
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    writers = {
        "image": lambda p: _write_png(p, scene.image),
        "labelIds": lambda p: _write_png(p, scene.label_ids),
        "color": lambda p: _write_png(p, scene.color),
        "instanceIds": lambda p: _write_png(p, scene.instance_ids),
        "polygons": lambda p: write_text_atomic(p, json.dumps(scene.polygons_json())),
    }
    for key, p in paths.items():
        if not p.exists():
            writers[key](p)


def write_minicity(root: str | Path, *, train_images: int = 60, val_images: int = 20,
                   size: tuple[int, int] = QUICK_SIZE, seed: int = 0, progress: bool = True,
                   workers: int = 1) -> Path:
    """Generate MiniCity under ``root`` in the Cityscapes layout; return ``root``.

    Whole files that already exist are kept, so an interrupted run continues where it stopped.
    The folder is claimed before the first frame (``.minicity-claim.json``); a manifest
    ``minicity.json`` records the parameters and ``minicity-files.json`` every file's size and SHA-256.
    A rerun verifies
    every file against it (files written before checksums were recorded must decode) and writes
    missing or damaged ones again, byte-identical. A folder generated with other parameters, or one
    holding files this generator did not write (a real Cityscapes download, say), is refused.

    Parameters
    ----------
    root : path
        The dataset root (it will hold ``leftImg8bit/`` and ``gtFine/``).
    train_images, val_images : int
        Number of frames per split (spread over the split's cities, see :data:`CITIES`).
    size : (H, W)
        Image size; Cityscapes' is (1024, 2048).
    seed : int
        Frame ``i`` of split ``s`` is drawn from ``scene_rng(seed, s, i)``.
    progress : bool
        Show a tqdm progress bar.
    workers : int
        Processes that render frames in parallel (the files do not depend on it).

    Raises
    ------
    FileExistsError
        If ``root`` holds a MiniCity manifest with different parameters, or files but no MiniCity
        claim or manifest.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    size = check_size(size)
    seed = check_int(seed, "seed", 0)
    counts = {"train": train_images, "val": val_images}
    counts = {split: check_int(n, f"{split}_images", 0) for split, n in counts.items()}
    if train_images == 0 and val_images == 0:
        raise ValueError("train_images and val_images are both 0: there is nothing to generate")
    workers = check_int(workers, "workers", 1)
    params = {"format": "cityscapes", "generator": _GENERATOR, "size": list(size), "seed": seed,
              "train_images": int(train_images), "val_images": int(val_images)}
    check_output_folder(root, "root")
    # The claim is written before any frame and the manifest after the last one: a folder that an
    # interrupted run of other parameters left half-filled is refused, never completed with a mix.
    records = [r for r in (root / _MANIFEST, root / _CLAIM) if r.exists()]
    for record in records:
        try:
            old = json.loads(record.read_text())
        except (ValueError, UnicodeDecodeError) as err:
            raise ValueError(f"{record} is not valid JSON ({err}); it may be truncated: "
                             "delete that folder and generate again") from err
        if old != params:
            raise FileExistsError(
                f"{root} already holds MiniCity generated with {old}; refusing to mix it with {params}: "
                "choose another root or delete that folder")
    known = _read_file_records(root) if records else {}
    if not records and root.is_dir() and any(root.iterdir()):
        found = sorted(p.name for p in root.iterdir())[:4]
        raise FileExistsError(f"root={root} holds files MiniCity did not write ({', '.join(found)}, ...; no "
                              f"{_MANIFEST}): refusing to write synthetic frames into it: choose a new or empty folder")
    manifest = root / _MANIFEST
    root.mkdir(parents=True, exist_ok=True)
    if not (root / _CLAIM).exists():
        write_text_atomic(root / _CLAIM, json.dumps(params, indent=1))
    jobs = [(root, split, city, seq, i, seed, size, _frame_records(known, root, split, city, seq))
            for split, n in counts.items() for city, seq, i in _frames(split, n)]
    bar = tqdm(total=len(jobs), desc="MiniCity", unit="img", disable=None if progress else True)
    files: dict[str, list] = {}
    rewritten: list[str] = []

    def collect(result: tuple[dict[str, list], list[str]]) -> None:
        files.update(result[0])
        rewritten.extend(result[1])
        bar.update()

    if workers == 1:
        for job in jobs:
            collect(_write_frame(job))
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            for result in pool.map(_write_frame, jobs, chunksize=8):
                collect(result)
    bar.close()
    if rewritten:
        print(f"MiniCity: {len(rewritten)} damaged file(s) written again in {root} (e.g. {rewritten[0]})",
              file=sys.stderr)
    write_text_atomic(root / _FILES, json.dumps(dict(sorted(files.items())), indent=0))
    write_text_atomic(manifest, json.dumps(params, indent=1))
    return root


def _read_file_records(root: Path) -> dict[str, list]:
    """``{relative path: [size, sha256]}`` from ``minicity-files.json`` (empty when absent or damaged: every
    file is then checked by decoding it, and the records are written anew)."""
    try:
        records = json.loads((root / _FILES).read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(records, dict):
        return {}
    return {k: v for k, v in records.items() if isinstance(v, list) and len(v) == 2}


def _frame_records(known: dict[str, list], root: Path, split: str, city: str, seq: int) -> dict[str, list]:
    """The manifest's records of one frame's files (by path relative to ``root``)."""
    rel = [p.relative_to(root).as_posix() for p in _file_paths(root, split, city, seq).values()]
    return {r: known[r] for r in rel if r in known}


def default_params(full: bool) -> dict:
    """``size``, ``train_images``, ``val_images`` of quick or full mode (the ``"cityscapes"`` settings)."""

    pick = 1 if full else 0
    section = SETTINGS["cityscapes"]
    return {"size": tuple(section["image_size"][pick]), "train_images": section["train_images"][pick],
            "val_images": section["val_images"][pick]}


def minicity_root(full: bool | None = None, *, root: str | Path | None = None, progress: bool = False) -> Path:
    """The MiniCity folder of the current mode, generated on first use.

    Parameters
    ----------
    full : bool, optional
        Full-size data (default: follows ``SEGCOURSE_FULL``).
    root : path, optional
        The data folder (default :func:`course_utils.paths.data_root`).
    """

    full = is_full_mode() if full is None else full
    return prepare_offline(Path(root) if root is not None else data_root(), full, progress=progress)


def prepare_offline(root: Path, full: bool, progress: bool = True) -> Path:
    """Generate MiniCity under ``root/minicity`` (quick) or ``root/minicity_full`` (full size).

    Idempotent: a complete dataset is left as it is. Full size renders on every core (at most 16
    processes): 3475 frames of 1024 x 2048 take about half a second each, half an hour on one
    process; the quick frames take seconds and render in this process.
    """
    folder = Path(root) / ("minicity_full" if full else "minicity")
    params = default_params(full)
    manifest = folder / _MANIFEST
    if manifest.is_file():
        try:
            old = json.loads(manifest.read_text())
        except (ValueError, UnicodeDecodeError):
            old = None  # write_minicity names the damaged file
        if old == {"format": "cityscapes", "generator": _GENERATOR, "size": list(params["size"]), "seed": 0,
                   "train_images": params["train_images"], "val_images": params["val_images"]}:
            return folder
    workers = min(16, cpu_cores()) if full else 1  # the files do not depend on it
    return write_minicity(folder, progress=progress, workers=workers, **params)  # refuses other parameters


def course_minicity_root(root: str | Path | None = None, *, workers: int = 1, progress: bool = True) -> Path:
    """The course's MiniCity (:data:`COURSE_MINICITY`), generated under ``root`` if incomplete.

    Default ``root``: ``<data root>/minicity_course``.
    """
    folder = Path(root) if root is not None else data_root() / "minicity_course"
    return write_minicity(folder, progress=progress, workers=workers, **COURSE_MINICITY)


def course_minicity_val_root(frames: int = 100, root: str | Path | None = None, *, progress: bool = False) -> Path:
    """The first ``frames`` validation frames of the course's MiniCity, without its training frames.

    MiniCity draws frame ``i`` of a split from ``(seed, split, i)`` alone, so these are exactly the
    validation frames the checkpoints' figures were measured on; generating them takes seconds.
    Default ``root``: ``<data root>/minicity_course_val<frames>``.
    """
    folder = Path(root) if root is not None else data_root() / f"minicity_course_val{frames}"
    return write_minicity(folder, train_images=0, val_images=frames, size=COURSE_MINICITY["size"],
                          seed=COURSE_MINICITY["seed"], progress=progress)


def heldout_frames(count: int, *, seed: int = 0, first: int = 1000,
                   size: tuple[int, int] = QUICK_SIZE) -> list[tuple[np.ndarray, np.ndarray]]:
    """Training-split scenes ``first .. first + count - 1`` rendered in memory: ``(image, label ids)``.

    The course checkpoints were trained on scenes ``0 .. 999`` of the training split, so these
    scenes are held out: the CRF's temperature and parameters are chosen on them, never on the
    validation frames that are reported. Labels are Cityscapes label ids (uint8).
    """
    return [(scene.image, scene.label_ids) for scene in
            (render_scene(scene_rng(seed, "train", i), size) for i in range(first, first + int(count)))]


def course_heldout_frames(count: int, first: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The course MiniCity's training-split scenes ``first .. first + count - 1`` (:func:`heldout_frames`, at the
    course's seed and size), as ``(image (H, W, 3) uint8, train ids (H, W))`` pairs to score a network on."""
    return [(image, labels_to_train_ids(ids)) for image, ids in
            heldout_frames(count, seed=COURSE_MINICITY["seed"], first=first, size=tuple(COURSE_MINICITY["size"]))]


def offline_cityscapes_root(root: str | Path | None = None) -> Path:
    """The offline default of a Cityscapes-layout root: ``root``, else ``$CITYSCAPES_DATASET`` (a real
    Cityscapes download), else the MiniCity of the current mode (:func:`minicity_root`, generated if missing)."""
    if root is not None:
        return Path(root)
    env = os.environ.get(CITYSCAPES_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return minicity_root()


def full_size_frames(count: int, root: str | Path | None = None, *, split: str = "val",
                     size: tuple[int, int] = FULL_SIZE, seed: int = 0) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``count`` frames at Cityscapes' full size: ``(name, image (H, W, 3) uint8, labels (H, W) uint8 train ids)``.

    On MiniCity (a root holding ``minicity.json``; the default root is :func:`offline_cityscapes_root`)
    the same scenes as the split's first frames are rendered at ``size`` (MiniCity draws every scene at
    any resolution); on a real Cityscapes root its first frames are read as they are (1024 x 2048).
    """
    count = check_int(count, "count", 1)
    root = offline_cityscapes_root(root)
    out = []
    if (root / _MANIFEST).is_file():
        seed = int(json.loads((root / _MANIFEST).read_text()).get("seed", seed))
        cities = CITIES[split]
        for i in range(count):
            scene = render_scene(scene_rng(seed, split, i), size)
            name = minicity_stem(cities[i % len(cities)], i // len(cities))
            out.append((name, scene.image, labels_to_train_ids(scene.label_ids)))
        return out
    for frame in list_frames(root, split)[:count]:
        out.append((frame.stem, read_image(frame.image), labels_to_train_ids(read_label_ids(frame.label_ids))))
    return out
