import numpy as np
import pytest
import torch

from course_utils import images
from course_utils.data.samples import sample_image, sample_image_names


def test_sample_images_are_rgb_uint8():
    for name in sample_image_names():
        image = sample_image(name)
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8, name


def test_sample_image_bad_name_lists_valid_names():
    with pytest.raises(ValueError, match="astronaut"):
        sample_image("lena")


def test_round_trips():
    image = sample_image("chelsea")
    as_float = images.to_float(image)
    assert as_float.dtype == np.float32 and as_float.max() <= 1.0
    assert np.array_equal(images.to_uint8(as_float), image)
    tensor = images.image_to_tensor(image)
    assert tensor.shape == (1, 3, *image.shape[:2])
    assert np.array_equal(images.tensor_to_image(tensor), image)
    chw = images.hwc_to_chw(image)
    assert chw.shape == (3, *image.shape[:2])
    assert np.array_equal(images.chw_to_hwc(chw), image)


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (np.zeros((4, 4), np.uint8), ValueError, "grey"),
        (np.zeros((4, 4, 4), np.uint8), ValueError, "RGBA"),
        (np.zeros((4, 4, 3), np.int32), TypeError, "dtype"),
        (np.full((4, 4, 3), 2.0), ValueError, r"\[0, 1\]"),
        (np.full((4, 4, 3), np.nan), ValueError, "NaN"),
        (np.zeros((0, 4, 3), np.uint8), ValueError, "empty"),
        ([[1, 2, 3]], TypeError, "numpy array"),
    ],
)
def test_check_image_errors_name_the_argument(bad, error, words):
    with pytest.raises(error, match=words):
        images.check_image(bad, "photo")
    with pytest.raises(error, match="photo"):
        images.check_image(bad, "photo")


def test_check_labels_and_mask():
    labels = np.array([[0, 1], [255, 2]], np.uint8)
    assert images.check_labels(labels, num_classes=3) is labels
    with pytest.raises(ValueError, match=r"value 7 at pixel \(0, 0\)"):
        images.check_labels(np.array([[7]], np.uint8), num_classes=3)
    with pytest.raises(TypeError, match="integer"):
        images.check_labels(np.zeros((2, 2), np.float32))
    with pytest.raises(TypeError, match="bool"):
        images.check_mask(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        images.check_mask(np.zeros((2, 2), bool), shape=(3, 3))


def test_tensor_to_image_errors():
    with pytest.raises(ValueError, match="batch"):
        images.tensor_to_image(torch.zeros(2, 3, 4, 4))
    with pytest.raises(TypeError, match="float"):
        images.tensor_to_image(torch.zeros(3, 4, 4, dtype=torch.uint8))


def test_resize_helpers():
    image = sample_image("coffee")  # 400x600
    small = images.resize_longest_side(image, 150)
    assert small.shape == (100, 150, 3) and small.dtype == np.uint8
    labels = np.arange(12, dtype=np.int64).reshape(3, 4)
    up = images.resize_labels(labels, (6, 8))
    assert up.shape == (6, 8) and set(np.unique(up)) == set(range(12))
    assert np.array_equal(images.resize_labels(labels.astype(np.uint8), (6, 8)), up)
    mask = np.eye(4, dtype=bool)
    assert images.resize_labels(mask, (8, 8)).dtype == bool
    with pytest.raises(ValueError, match="size"):
        images.resize_image(image, (0, 3))
