"""Data the course checkpoints never saw: the course generators run with other seeds.

The shipped networks were trained (and their CRF settings searched) on data of seed 0. Frames drawn
with another seed are new scenes from the same generator, so scoring a checkpoint on them tells
whether its recorded figures hold beyond the frames they were measured on
(``python -m course_utils.evaluate deeplab|fcn --checkpoint NAME --data-seed S``).

* :func:`unseen_minicity_root` -- ``frames`` MiniCity validation frames of seed ``seed``;
* :func:`unseen_voc_root` -- the synthetic VOC's validation images of seed ``seed``;
* :data:`UNSEEN_DATA_SEEDS` -- the two seeds whose figures the registry records (``unseen``) and
  ``tests/test_checkpoints.py`` re-checks.

Each folder is generated under the data folder the first time it is asked for (seconds), then reused.
"""

from __future__ import annotations

from pathlib import Path

from course_utils._shared import check_choice, check_int
from course_utils.data.minicity import COURSE_MINICITY, write_minicity
from course_utils.data.voc import COURSE_VOC, COURSE_VOC_SCENES, SYNTHETIC_STYLES, write_synthetic_voc
from course_utils.paths import data_root

__all__ = ["UNSEEN_DATA_SEEDS", "unseen_minicity_root", "unseen_voc_root"]

#: Data seeds the course's training never used; the registry records each checkpoint's figures on them.
UNSEEN_DATA_SEEDS: tuple[int, int] = (7, 11)


def unseen_minicity_root(seed: int, frames: int = 100, root: str | Path | None = None) -> Path:
    """A MiniCity root holding ``frames`` validation frames drawn with ``seed`` (no training frames).

    Default ``root``: ``<data root>/minicity_seed<seed>_val<frames>``; the frames have the course's size.
    """
    seed = check_int(seed, "seed", 0)
    frames = check_int(frames, "frames", 1, 10_000)
    folder = Path(root) if root is not None else data_root() / f"minicity_seed{seed}_val{frames}"
    return write_minicity(folder, train_images=0, val_images=frames, size=tuple(COURSE_MINICITY["size"]), seed=seed,
                          progress=False)


def unseen_voc_root(seed: int, root: str | Path | None = None, *, style: str = "clipart") -> Path:
    """A synthetic-VOC root holding the course's number of validation images drawn with ``seed``.

    ``style`` is the drawing of the course data a checkpoint was trained on ("clipart": :data:`COURSE_VOC`,
    "scenes": :data:`COURSE_VOC_SCENES`); the images have that data's number and size. Default ``root``:
    ``<data root>/voc_synthetic/seed<seed>-val<n>`` (clipart) or ``scenes-seed<seed>-val<n>``.
    """
    seed = check_int(seed, "seed", 0)
    style = check_choice(style, "style", SYNTHETIC_STYLES)
    course = COURSE_VOC if style == "clipart" else COURSE_VOC_SCENES
    n_val = course["n_val"]
    name = f"seed{seed}-val{n_val}" if style == "clipart" else f"scenes-seed{seed}-val{n_val}"
    folder = Path(root) if root is not None else data_root() / "voc_synthetic" / name
    return write_synthetic_voc(folder, n_train=0, n_val=n_val, size=tuple(course["size"]), seed=seed, style=style)
