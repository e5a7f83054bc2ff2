"""The dataset fetchers and data_scripts entry points, end to end against a fake local site.

Fake VOC / COCO-stuff / Cityscapes archives in the exact real layouts are
served from 127.0.0.1; the published addresses in ``sources.py`` are swapped
for local ones (``dataclasses.replace``), everything else is the real code
path.  No test reaches the internet (see ``loopback_only``).
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import json

import numpy as np
import pytest
from PIL import Image

from course_utils.data import download as dl
from course_utils.data import sources
from course_utils.data.coco_stuff import CocoStuffSegmentation, render_sample
from course_utils.data.download import CredentialsError, NetworkError
from course_utils.palettes import voc_palette
from data_scripts import download_cityscapes, download_coco_stuff, download_voc
from tests.test_download import closed_port_url, loopback_only, make_tar, make_zip, md5, server  # noqa: F401


def png_bytes(array: np.ndarray, palette: np.ndarray | None = None) -> bytes:
    img = Image.fromarray(array.astype(np.uint8), mode="P" if palette is not None else "L")
    if palette is not None:
        img.putpalette(palette.reshape(-1).tolist())
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def jpg_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


# --------------------------------------------------------------------------- PASCAL VOC
def fake_voc_tar(n: int = 3, seed: int = 0) -> tuple[bytes, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    files, labels_by_id = {}, {}
    base = "VOCdevkit/VOC2012"
    ids = [f"2007_{i:06d}" for i in range(n)]
    for image_id in ids:
        labels = rng.integers(0, 21, (40, 60)).astype(np.uint8)
        labels[0, :] = 255  # the cream 'void' border
        labels_by_id[image_id] = labels
        files[f"{base}/JPEGImages/{image_id}.jpg"] = jpg_bytes(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8))
        files[f"{base}/SegmentationClass/{image_id}.png"] = png_bytes(labels, voc_palette())
    files[f"{base}/ImageSets/Segmentation/train.txt"] = ("\n".join(ids[:2]) + "\n").encode()
    files[f"{base}/ImageSets/Segmentation/val.txt"] = (ids[2] + "\n").encode()
    return make_tar(files), labels_by_id


def test_download_voc_script_fetches_verifies_extracts_and_torchvision_reads_it(server, tmp_path, monkeypatch, capsys):
    from torchvision.datasets import VOCSegmentation

    data, labels_by_id = fake_voc_tar()
    server.routes["/voc.tar"] = {"data": data}
    monkeypatch.setattr(sources, "VOC2012_TRAINVAL",
                        dataclasses.replace(sources.VOC2012_TRAINVAL, url=server.url("/voc.tar"), md5=md5(data)))
    root = tmp_path / "voc"
    assert download_voc.main(["--root", str(root), "--no-progress"]) == 0
    assert f"export VOC_ROOT={root.resolve()}" in capsys.readouterr().out
    ds = VOCSegmentation(str(root), year="2012", image_set="train")
    assert len(ds) == 2
    _, target = ds[1]
    np.testing.assert_array_equal(np.array(target), labels_by_id["2007_000001"])
    # a rerun downloads nothing and extracts nothing
    assert download_voc.main(["--root", str(root), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert len(server.gets("/voc.tar")) == 1 and "MD5 verified, skipped" in out and "already extracted" in out


def test_download_voc_script_on_a_checksum_mismatch_keeps_nothing(server, tmp_path, monkeypatch, capsys):
    data, _ = fake_voc_tar()
    server.routes["/voc.tar"] = {"data": data}
    monkeypatch.setattr(sources, "VOC2012_TRAINVAL",
                        dataclasses.replace(sources.VOC2012_TRAINVAL, url=server.url("/voc.tar"), md5="0" * 32))
    root = tmp_path / "voc"
    assert download_voc.main(["--root", str(root), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "published MD5 is 00000000000000000000000000000000" in err
    assert not (root / "VOCdevkit").exists() and list((root / "downloads").iterdir()) == []


def test_download_voc_script_without_network(tmp_path, capsys):
    assert download_voc.main(["--root", str(tmp_path), "--mirror", closed_port_url(), "--no-progress"]) == 1
    assert "cannot reach 127.0.0.1" in capsys.readouterr().err


def test_download_voc_script_with_a_full_disk(server, tmp_path, monkeypatch, capsys):
    data, _ = fake_voc_tar()
    server.routes["/voc.tar"] = {"data": data}
    monkeypatch.setattr(dl, "_free_bytes", lambda folder: 1_000_000)
    assert download_voc.main(["--root", str(tmp_path), "--mirror", server.url("/voc.tar"), "--no-progress"]) == 1
    assert "not enough disk space" in capsys.readouterr().err


# --------------------------------------------------------------------------- COCO-stuff
def test_download_coco_stuff_script_and_the_loader_agree(server, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    images, maps, truth = {}, {}, {}
    for image_id in (139, 285):
        image, labels, _ = render_sample((48, 64), rng)
        images[f"val2017/{image_id:012d}.jpg"] = jpg_bytes(image)
        maps[f"val2017/{image_id:012d}.png"] = png_bytes(labels)
        truth[image_id] = labels
    maps["train2017/000000000009.png"] = png_bytes(np.zeros((8, 8), np.uint8))
    val_zip, maps_zip = make_zip(images), make_zip(maps)
    server.routes["/val2017.zip"] = {"data": val_zip}
    server.routes["/maps.zip"] = {"data": maps_zip}
    monkeypatch.setattr(sources, "COCO_VAL2017",
                        dataclasses.replace(sources.COCO_VAL2017, url=server.url("/val2017.zip"), md5=md5(val_zip)))
    monkeypatch.setattr(sources, "COCO_STUFFTHINGMAPS",
                        dataclasses.replace(sources.COCO_STUFFTHINGMAPS, url=server.url("/maps.zip")))
    root = tmp_path / "coco"
    assert download_coco_stuff.main(["--root", str(root), "--no-progress"]) == 0
    assert "export COCO_STUFF_ROOT=" in capsys.readouterr().out
    ds = CocoStuffSegmentation(root, "val", classes=182)
    assert [p[0].name for p in ds.pairs] == ["000000000139.jpg", "000000000285.jpg"]
    np.testing.assert_array_equal(ds[0][1], truth[139])


# --------------------------------------------------------------------------- Cityscapes
USER, PASSWORD = "student@example.org", "s3cret-Pa55"


def fake_gtfine_zip() -> tuple[bytes, np.ndarray]:
    """A gtFine zip with one frame: a polygons json (road below, a car, sky above)."""
    h, w = 32, 64
    objects = [
        {"label": "sky", "polygon": [[0, 0], [63, 0], [63, 12], [0, 12]]},
        {"label": "road", "polygon": [[0, 20], [63, 20], [63, 31], [0, 31]]},
        {"label": "car", "polygon": [[10, 14], [30, 14], [30, 26], [10, 26]]},
        {"label": "ego vehicle", "polygon": [[0, 29], [63, 29], [63, 31], [0, 31]]},
    ]
    stem = "gtFine/val/lindau/lindau_000000_000019_gtFine"
    files = {
        f"{stem}_polygons.json": json.dumps({"imgHeight": h, "imgWidth": w, "objects": objects}).encode(),
        "README": b"Cityscapes README",
        "license.txt": b"license",
    }
    return make_zip(files), np.zeros((h, w))


def cityscapes_site(server, data: bytes) -> str:
    server.login = (USER, PASSWORD)
    server.routes["/downloads/?list"] = {
        "json": [{"name": "gtFine_trainvaltest.zip", "packageID": "1", "size": "241MB", "thirdparty": "0"},
                 {"name": "leftImg8bit_trainvaltest.zip", "packageID": "3", "size": "11GB", "thirdparty": "0"}],
        "cookie": "session=granted"}
    server.routes["/md5-sum/?packageID=1"] = {"text": f"{md5(data)}  gtFine_trainvaltest.zip\n",
                                              "cookie": "session=granted"}
    server.routes["/file-handling/?packageID=1"] = {"data": data, "cookie": "session=granted"}
    return server.base


def test_download_cityscapes_script_logs_in_downloads_and_makes_train_ids(server, tmp_path, monkeypatch, capsys):
    from cityscapesscripts.helpers.labels import name2label

    data, _ = fake_gtfine_zip()
    site = cityscapes_site(server, data)
    monkeypatch.setenv("CITYSCAPES_USERNAME", USER)
    monkeypatch.setenv("CITYSCAPES_PASSWORD", PASSWORD)
    root = tmp_path / "cityscapes"
    argv = ["--root", str(root), "--packages", "gtFine_trainvaltest.zip", "--train-ids", "--site", site,
            "--no-progress"]
    assert download_cityscapes.main(argv) == 0
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err and USER not in out + err, "credentials must never be printed"
    posts = [r for r in server.requests if r["method"] == "POST"]
    assert posts[0]["form"]["submit"] == ["Login"]
    train_ids = np.array(Image.open(root / "gtFine/val/lindau/lindau_000000_000019_gtFine_labelTrainIds.png"))
    assert train_ids[5, 40] == name2label["sky"].trainId == 10
    assert train_ids[22, 50] == name2label["road"].trainId == 0
    assert train_ids[18, 20] == name2label["car"].trainId == 13
    assert train_ids[30, 5] == 255 and train_ids[16, 50] == 255  # ego vehicle and unlabeled are ignored
    assert (root / "README").read_bytes() == b"Cityscapes README"
    # everything is in place: a rerun needs no login at all
    monkeypatch.delenv("CITYSCAPES_PASSWORD")
    n_posts = len([r for r in server.requests if r["method"] == "POST"])
    assert download_cityscapes.main(argv[:-3] + ["--site", site, "--no-progress"]) == 0
    assert len([r for r in server.requests if r["method"] == "POST"]) == n_posts


def test_download_cityscapes_script_with_wrong_password(server, tmp_path, monkeypatch, capsys):
    data, _ = fake_gtfine_zip()
    site = cityscapes_site(server, data)
    monkeypatch.setenv("CITYSCAPES_USERNAME", USER)
    monkeypatch.setenv("CITYSCAPES_PASSWORD", "wrong-" + PASSWORD)
    assert download_cityscapes.main(["--root", str(tmp_path), "--site", site, "--no-progress",
                                     "--packages", "gtFine_trainvaltest.zip"]) == 1
    out, err = capsys.readouterr()
    assert "did not accept the username/password" in err and "values not shown" in err
    assert PASSWORD not in out + err
    assert server.gets("/file-handling/?packageID=1") == []


def test_download_cityscapes_script_without_credentials_outside_a_terminal(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CITYSCAPES_USERNAME", raising=False)
    monkeypatch.delenv("CITYSCAPES_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert download_cityscapes.main(["--root", str(tmp_path), "--no-progress"]) == 1
    assert "CITYSCAPES_USERNAME and CITYSCAPES_PASSWORD" in capsys.readouterr().err


def test_cityscapes_package_refused_after_login_is_a_credentials_error(server, tmp_path):
    data, _ = fake_gtfine_zip()
    site = cityscapes_site(server, data)
    server.routes["/file-handling/?packageID=1"] = {"status": 403}
    with pytest.raises(CredentialsError, match="403"):
        sources.fetch_cityscapes(tmp_path, packages=["gtFine_trainvaltest.zip"], credentials=(USER, PASSWORD),
                                 site=site, progress=False, log=lambda m: None)


def test_cityscapes_unknown_package_lists_the_available_ones(server, tmp_path):
    data, _ = fake_gtfine_zip()
    site = cityscapes_site(server, data)
    with pytest.raises(sources.DownloadError, match="no access.*gtFine_trainvaltest.zip"):
        sources.fetch_cityscapes(tmp_path, packages=["gtCoarse.zip"], credentials=(USER, PASSWORD), site=site,
                                 progress=False, log=lambda m: None)


def test_cityscapes_login_without_network():
    with pytest.raises(NetworkError, match="cannot reach"):
        sources.cityscapes_login(USER, PASSWORD, site=closed_port_url().rsplit("/", 1)[0])


def test_our_cityscapes_requests_are_the_official_downloaders():
    """The endpoints and form fields we use are those of cityscapesscripts' own downloader."""
    from cityscapesscripts.download import downloader

    official = inspect.getsource(downloader)
    for fragment in ("/login", "/downloads/?list", "/md5-sum/?packageID=", "/file-handling/?packageID=",
                     "'submit'", "'Login'", "r.status_code != 302"):
        assert fragment in official, fragment
    ours = inspect.getsource(sources)
    for fragment in ("/login", "/downloads/?list", "/md5-sum/?packageID=", "/file-handling/?packageID=",
                     '"submit": "Login"', "r.status_code != 302"):
        assert fragment in ours, fragment
    assert sources.CITYSCAPES_SITE == "https://www.cityscapes-dataset.com"
    assert sources.CITYSCAPES_PACKAGES["gtFine_trainvaltest.zip"][0] == 1
    assert sources.CITYSCAPES_PACKAGES["leftImg8bit_trainvaltest.zip"][0] == 3


def test_train_ids_need_polygons(tmp_path):
    with pytest.raises(FileNotFoundError, match="gtFine"):
        sources.create_cityscapes_train_ids(tmp_path, log=lambda m: None)


# --------------------------------------------------------------------------- sources table and env vars
def test_published_checksums_are_the_reference_ones():
    from torchvision.datasets import sbd, voc

    assert sources.VOC2012_TRAINVAL.md5 == voc.DATASET_YEAR_DICT["2012"]["md5"] == "6cd6e144f989b92b3379bac3b3de84fd"
    assert sources.VOC2012_TRAINVAL.url == voc.DATASET_YEAR_DICT["2012"]["url"]
    assert sources.SBD.md5 == sbd.SBDataset.md5 and sources.SBD.url == sbd.SBDataset.url
    assert sources.SBD_TRAIN_NOVAL.md5 == sbd.SBDataset.voc_split_md5
    assert sources.COCO_STUFFTHINGMAPS.md5 is None and "no published checksum" in sources.COCO_STUFFTHINGMAPS.checksum_note


def test_real_dataset_root_reads_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("VOC_ROOT", raising=False)
    assert sources.real_dataset_root("voc") is None
    monkeypatch.setenv("COCO_STUFF_ROOT", str(tmp_path))
    assert sources.real_dataset_root("coco_stuff") == tmp_path
    monkeypatch.setenv("CITYSCAPES_DATASET", str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match="CITYSCAPES_DATASET"):
        sources.real_dataset_root("cityscapes")
    with pytest.raises(ValueError, match="dataset"):
        sources.real_dataset_root("ade20k")


def test_fetch_coco_stuff_rejects_unknown_splits(tmp_path):
    with pytest.raises(ValueError, match="splits"):
        sources.fetch_coco_stuff(tmp_path, splits=("test",))


def test_cityscapes_checks_free_space_before_logging_in(server, tmp_path, monkeypatch):
    data, _ = fake_gtfine_zip()
    site = cityscapes_site(server, data)
    monkeypatch.setattr(dl, "_free_bytes", lambda folder: 5 * 1024**3)  # 5 GiB < 11 GiB of images
    with pytest.raises(dl.DiskFullError, match="leftImg8bit_trainvaltest.zip"):
        sources.fetch_cityscapes(tmp_path, credentials=(USER, PASSWORD), site=site, progress=False,
                                 log=lambda m: None)
    assert server.requests == []
