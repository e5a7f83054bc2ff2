"""The Cityscapes loader (against torchvision's Cityscapes) and the joint transforms."""

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from course_utils.data.cityscapes import (CityscapesSegmentation, check_layout, cityscapes_root,
                                          labels_to_train_ids, list_frames, train_ids_to_label_ids)
from course_utils.data.minicity import write_minicity
from course_utils.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, RandomScale, to_tensors


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return write_minicity(tmp_path_factory.mktemp("cs"), train_images=4, val_images=3, size=(64, 128), progress=False)


@pytest.mark.parametrize("split", ["train", "val"])
def test_loader_agrees_with_torchvision(root, split):
    from torchvision.datasets import Cityscapes

    tv = Cityscapes(str(root), split=split, mode="fine", target_type="semantic")
    # torchvision's own label table (independent of cityscapesscripts) maps its targets to train ids
    lut = np.full(256, 255, np.uint8)
    for c in tv.classes:
        if c.id >= 0:
            lut[c.id] = c.train_id if 0 <= c.train_id < 255 else 255
    ours = CityscapesSegmentation(root, split)
    assert len(ours) == len(tv) == (4 if split == "train" else 3)
    by_name = {p.split("/")[-1]: i for i, p in enumerate(tv.images)}
    for i, frame in enumerate(ours.frames):
        image, target = tv[by_name[frame.image.name]]
        our_image, our_labels = ours.load(i)
        assert np.array_equal(np.asarray(image), our_image)
        assert np.array_equal(lut[np.asarray(target)], our_labels)
        x, y = ours[i]
        assert x.shape == (3, 64, 128) and x.dtype == torch.float32 and y.dtype == torch.int64
        assert torch.equal(y, torch.from_numpy(our_labels.astype(np.int64)))


def test_label_table_is_cityscapesscripts():
    from cityscapesscripts.helpers.labels import labels

    ids = np.array([lab.id for lab in labels if lab.id >= 0])
    mapped = labels_to_train_ids(ids)
    for lab, t in zip([lab for lab in labels if lab.id >= 0], mapped):
        assert t == (lab.trainId if 0 <= lab.trainId < 255 else 255)
    assert labels_to_train_ids(np.array([7, 26, 33, 0, 1])).tolist() == [0, 13, 18, 255, 255]
    train = np.arange(19)
    assert np.array_equal(labels_to_train_ids(train_ids_to_label_ids(train)), train)


def test_label_id_outside_the_table_is_refused(tmp_path, root):
    with pytest.raises(ValueError, match="not in cityscapesscripts' label table"):
        labels_to_train_ids(np.array([[7, 40]], np.uint8))
    with pytest.raises(ValueError, match="train ids"):
        train_ids_to_label_ids(np.array([255]))
    copy = tmp_path / "bad"
    shutil.copytree(root, copy)
    frame = list_frames(copy, "val")[0]
    ids = np.asarray(Image.open(frame.label_ids)).copy()
    ids[0, 0] = 77
    Image.fromarray(ids).save(frame.label_ids)
    with pytest.raises(ValueError, match=r"labelIds\.png.*77"):
        CityscapesSegmentation(copy, "val").load(0)


def test_wrong_layout_names_the_missing_folder(tmp_path, root):
    with pytest.raises(FileNotFoundError, match="no folder .*leftImg8bit"):
        check_layout(tmp_path, "train")
    copy = tmp_path / "nogt"
    shutil.copytree(root / "leftImg8bit", copy / "leftImg8bit")
    with pytest.raises(FileNotFoundError, match=r"no folder \S*gtFine"):
        CityscapesSegmentation(copy, "train")
    (copy / "gtFine" / "val").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"gtFine[/\\]train"):
        list_frames(copy, "train")
    with pytest.raises(FileNotFoundError, match="has no ground truth"):
        shutil.copytree(root / "gtFine" / "val", copy / "gtFine" / "val", dirs_exist_ok=True)
        next((copy / "gtFine" / "val").rglob("*_labelIds.png")).unlink()
        list_frames(copy, "val")


def test_root_from_the_environment(monkeypatch, root):
    monkeypatch.setenv("CITYSCAPES_DATASET", str(root))
    assert cityscapes_root() == root
    assert cityscapes_root(root / "x") == root / "x"


def test_augmentation_depends_on_seed_epoch_and_index_only(root):
    t = Compose([RandomScale((0.5, 1.5)), RandomCrop((48, 48)), RandomHorizontalFlip()])
    a = CityscapesSegmentation(root, "train", transform=t, seed=1)
    b = CityscapesSegmentation(root, "train", transform=t, seed=1, cache=True)
    torch.manual_seed(123)  # the global generator plays no part
    xa, ya = a[2]
    xb, yb = b[2]
    assert torch.equal(xa, xb) and torch.equal(ya, yb) and xa.shape == (3, 48, 48)
    a.set_epoch(1)
    assert not torch.equal(a[2][0], xb)


def test_transforms_keep_labels_and_pad_with_ignore():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    labels = rng.integers(0, 19, (40, 60)).astype(np.uint8)
    labels[:5] = 255
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        im2, lab2 = RandomScale((0.3, 2.5))(image, labels, generator=g)
        assert im2.shape[:2] == lab2.shape and set(np.unique(lab2)) <= set(np.unique(labels))
    im3, lab3 = RandomCrop((64, 80))(image, labels, generator=g)
    assert im3.shape == (64, 80, 3) and (lab3[40:] == 255).all() and (lab3[:, 60:] == 255).all()
    flip_image, flip_labels = RandomHorizontalFlip(1.0)(image, labels)
    assert np.array_equal(flip_labels, labels[:, ::-1]) and np.array_equal(flip_image, image[:, ::-1])
    same = RandomHorizontalFlip(0.0)(image, labels)
    assert same[1] is labels
    # the global torch generator drives them when no generator is given: seeding reproduces them
    t = Compose([RandomScale((0.5, 1.5)), RandomCrop((32, 32)), RandomHorizontalFlip()])
    torch.manual_seed(5)
    first = t(image, labels)
    torch.manual_seed(5)
    second = t(image, labels)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    x, y = to_tensors(image, labels)
    assert x.shape == (3, 40, 60) and y.dtype == torch.int64


def test_transform_bad_input():
    image = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(ValueError, match="scale_range"):
        RandomScale((2.0, 1.0))
    with pytest.raises(ValueError, match="size"):
        RandomCrop((0, 4))
    with pytest.raises(ValueError, match="p must"):
        RandomHorizontalFlip(1.5)
    with pytest.raises(ValueError, match="same"):
        RandomHorizontalFlip()(image, np.zeros((9, 10), np.uint8))
    with pytest.raises(ValueError, match="scale"):
        CityscapesSegmentation(None, "train", scale=0)


def test_the_reader_does_not_choose_a_root(monkeypatch, root, tmp_path):
    # cityscapes.py only reads the layout: without a root or $CITYSCAPES_DATASET it says how to choose one
    import course_utils.data.cityscapes as cityscapes
    from course_utils.data import minicity

    monkeypatch.delenv("CITYSCAPES_DATASET", raising=False)
    with pytest.raises(FileNotFoundError, match="no Cityscapes root.*offline_cityscapes_root"):
        cityscapes_root()
    assert not hasattr(cityscapes, "full_size_frames")
    assert "minicity" not in cityscapes.__dict__
    # the offline default is MiniCity's: the variable if set, else the MiniCity of the mode
    monkeypatch.setattr(minicity, "minicity_root", lambda: tmp_path / "mc")
    assert minicity.offline_cityscapes_root() == tmp_path / "mc"
    assert minicity.offline_cityscapes_root(root) == root
    monkeypatch.setenv("CITYSCAPES_DATASET", str(root))
    assert minicity.offline_cityscapes_root() == root
