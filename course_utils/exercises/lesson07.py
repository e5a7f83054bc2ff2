"""Checks for lesson 07 (DeepLab on Cityscapes-format scenes).

Exercises:

* ``07.train_ids``: Cityscapes label ids -> train ids (255 = ignore).
"""

from __future__ import annotations

import numpy as np

from course_utils.data.cityscapes import labels_to_train_ids
from course_utils.exercises.compare import call_answer, expect_array
from course_utils.exercises.core import exercise

# ---------------------------------------------------------------- 07.train_ids


def _label_table() -> tuple[np.ndarray, np.ndarray]:
    from cityscapesscripts.helpers.labels import labels

    ids = np.array([lab.id for lab in labels if lab.id >= 0])
    train = np.array([lab.trainId if lab.trainId not in (-1, 255) else 255 for lab in labels if lab.id >= 0])
    return ids, train


def _wrong_identity(label_ids):
    return label_ids.astype(np.uint8)


def _wrong_ignore_zero(label_ids):
    ids, train = _label_table()
    lut = np.zeros(256, np.uint8)
    lut[ids] = np.where(train == 255, 0, train)
    return lut[label_ids]


def _wrong_category(label_ids):
    from cityscapesscripts.helpers.labels import labels

    lut = np.full(256, 255, np.uint8)
    for lab in labels:
        if lab.id >= 0:
            lut[lab.id] = lab.categoryId
    return lut[label_ids]


# Answers that hand the work to the library instead of writing it (each must be rejected).
def _delegates_imported_name(label_ids):
    return labels_to_train_ids(label_ids)


def _delegates_module_attribute(label_ids):
    from course_utils.data import cityscapes

    return cityscapes.labels_to_train_ids(label_ids)


@exercise(
    "07.train_ids",
    hint="build a 256-entry lookup table from cityscapesscripts.helpers.labels (each label's id and trainId; "
         "classes not used for training become 255), then index it with the whole array at once.",
    wrong_answers=[_wrong_identity, _wrong_ignore_zero, _wrong_category],
    forbidden=("course_utils.data.cityscapes:labels_to_train_ids", "course_utils.data.cityscapes:_tables"),
    delegating=[_delegates_imported_name, _delegates_module_attribute],
    success="label ids (0..33) map to the 19 train ids; everything else to 255, which the loss and metrics ignore.",
)
def check_train_ids(to_train_ids) -> None:
    ids, train = _label_table()
    rng = np.random.default_rng(6)
    label_ids = rng.choice(ids, size=(9, 13)).astype(np.uint8)
    label_ids.flat[: len(ids)] = ids  # every label id appears
    got = call_answer(to_train_ids, label_ids.copy())
    lut = np.full(256, 255, np.uint8)
    lut[ids] = train
    expect_array(got, lut[label_ids], "to_train_ids(label_ids)", index_names="pixel")
