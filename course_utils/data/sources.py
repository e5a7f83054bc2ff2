"""Where the real datasets come from, their published checksums, and how to fetch them.

The course runs offline on procedural data in the real layouts; this module
is for a user with internet access (and, for Cityscapes, an account) who wants
the real PASCAL VOC 2012, COCO-stuff or Cityscapes.  The command-line entry
points are ``python -m data_scripts.download_voc`` / ``download_coco_stuff`` /
``download_cityscapes``.  Everything is resumable and verified (see
:mod:`course_utils.data.download`).

Where each dataset goes, and the environment variable that points a notebook
to it (:func:`real_dataset_root`):

========================  ===============================  =============================================
dataset                   ``root`` holds                   environment variable
========================  ===============================  =============================================
PASCAL VOC 2012 (+ SBD)   ``VOCdevkit/VOC2012/...``        ``VOC_ROOT`` (torchvision's ``root``)
                          (``benchmark_RELEASE/dataset``)
COCO-stuff 164k           ``images/{train,val}2017``,      ``COCO_STUFF_ROOT``
                          ``annotations/{train,val}2017``
Cityscapes                ``leftImg8bit/``, ``gtFine/``    ``CITYSCAPES_DATASET`` (as cityscapesscripts)
========================  ===============================  =============================================

Checksums
---------
* VOC 2012 trainval tar and SBD: the MD5s torchvision lists
  (``torchvision/datasets/voc.py``, ``sbd.py``).
* COCO 2017 image zips: COCO publishes no checksums; the MD5s below are the
  ones in wide use (e.g. the R ``torchvision`` package, ``intel/neural-compressor``).
* ``stuffthingmaps_trainval2017.zip``: no published checksum.  It is verified
  by the byte count the server announces and the CRC-32 of every zip member
  (zips carry one per file) before it is renamed into place.
* Cityscapes: the site publishes an MD5 per package
  (``/md5-sum/?packageID=N``), fetched after login, as the official
  ``cityscapesscripts.download.downloader`` does.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from course_utils.data.download import (
    CredentialsError,
    DownloadError,
    NetworkError,
    check_free_space,
    download_file,
    extract_archive,
    format_bytes,
    is_extracted,
)

__all__ = [
    "Remote",
    "VOC_ENV",
    "COCO_STUFF_ENV",
    "CITYSCAPES_ENV",
    "VOC2012_TRAINVAL",
    "SBD",
    "SBD_TRAIN_NOVAL",
    "COCO_TRAIN2017",
    "COCO_VAL2017",
    "COCO_STUFFTHINGMAPS",
    "CITYSCAPES_SITE",
    "CITYSCAPES_PACKAGES",
    "real_dataset_root",
    "fetch_voc",
    "fetch_coco_stuff",
    "cityscapes_credentials",
    "cityscapes_login",
    "cityscapes_packages",
    "fetch_cityscapes",
    "create_cityscapes_train_ids",
]

VOC_ENV = "VOC_ROOT"
COCO_STUFF_ENV = "COCO_STUFF_ROOT"
CITYSCAPES_ENV = "CITYSCAPES_DATASET"


@dataclass(frozen=True)
class Remote:
    """One downloadable file.

    Attributes
    ----------
    url : str
        Address.
    filename : str
        Local file name.
    md5 : str or None
        Published MD5, or None where none is published (see ``checksum_note``).
    approx_bytes : int
        Approximate size (for messages and the free-space estimate; the exact
        size comes from the server's ``Content-Length``).
    checksum_note : str
        Where the checksum comes from, or how the file is verified without one.
    """

    url: str
    filename: str
    md5: str | None
    approx_bytes: int
    checksum_note: str


_GB, _MB = 1024**3, 1024**2

VOC2012_TRAINVAL = Remote(
    url="https://thor.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
    filename="VOCtrainval_11-May-2012.tar",
    md5="6cd6e144f989b92b3379bac3b3de84fd",
    approx_bytes=int(1.9 * _GB),
    checksum_note="MD5 as listed in torchvision/datasets/voc.py (DATASET_YEAR_DICT['2012'])",
)
SBD = Remote(
    url="https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/semantic_contours/benchmark.tgz",
    filename="benchmark.tgz",
    md5="82b4d87ceb2ed10f6038a1cba92111cb",
    approx_bytes=int(1.4 * _GB),
    checksum_note="MD5 as listed in torchvision/datasets/sbd.py",
)
SBD_TRAIN_NOVAL = Remote(
    url="https://www.cs.cornell.edu/~bharathh/train_noval.txt",
    filename="train_noval.txt",
    md5="79bff800c5f0b1ec6b21080a3c066722",
    approx_bytes=60_000,
    checksum_note="MD5 as listed in torchvision/datasets/sbd.py (SBD train minus VOC 2012 val)",
)
COCO_TRAIN2017 = Remote(
    url="http://images.cocodataset.org/zips/train2017.zip",
    filename="train2017.zip",
    md5="cced6f7f71b7629ddf16f17bbcfab6b2",
    approx_bytes=18 * _GB,
    checksum_note="COCO publishes no checksum; this MD5 is the one in wide use (R torchvision, intel/neural-compressor)",
)
COCO_VAL2017 = Remote(
    url="http://images.cocodataset.org/zips/val2017.zip",
    filename="val2017.zip",
    md5="442b8da7639aecaf257c1dceb8ba8c80",
    approx_bytes=815_585_330,
    checksum_note="COCO publishes no checksum; this MD5 is the one in wide use (R torchvision, intel/neural-compressor)",
)
COCO_STUFFTHINGMAPS = Remote(
    url="http://calvin.inf.ed.ac.uk/wp-content/uploads/data/cocostuffdataset/stuffthingmaps_trainval2017.zip",
    filename="stuffthingmaps_trainval2017.zip",
    md5=None,
    approx_bytes=659 * _MB,
    checksum_note=("no published checksum (the COCO-stuff README gives only the size, 659 MB): verified by the "
                   "server's Content-Length and the CRC-32 of every zip member before it is kept"),
)

CITYSCAPES_SITE = "https://www.cityscapes-dataset.com"
# name -> (packageID on the official site, approximate size); the ids are those the site lists
# (https://www.cityscapes-dataset.com/downloads/); the download itself looks the id up in the
# site's package list after login, as the official downloader does.
CITYSCAPES_PACKAGES: dict[str, tuple[int, int]] = {
    "gtFine_trainvaltest.zip": (1, 241 * _MB),
    "leftImg8bit_trainvaltest.zip": (3, 11 * _GB),
}


def real_dataset_root(dataset: str) -> Path | None:
    """The real dataset's folder from its environment variable, or None when unset.

    Parameters
    ----------
    dataset : {'voc', 'coco_stuff', 'cityscapes'}
        Reads ``VOC_ROOT``, ``COCO_STUFF_ROOT`` or ``CITYSCAPES_DATASET``.

    Raises
    ------
    ValueError
        On an unknown ``dataset``.
    FileNotFoundError
        When the variable is set but names no folder (a typo should not fall
        back silently to the synthetic data).
    """
    env = {"voc": VOC_ENV, "coco_stuff": COCO_STUFF_ENV, "cityscapes": CITYSCAPES_ENV}
    if dataset not in env:
        raise ValueError(f"dataset={dataset!r}: expected one of {sorted(env)}")
    raw = os.environ.get(env[dataset], "").strip()
    if not raw:
        return None
    root = Path(raw).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"${env[dataset]}={raw!r} is not a folder; unset it to use the offline data, "
                                f"or download the dataset there (python -m data_scripts.download_{dataset})")
    return root


def _fetch(remote: Remote, download_dir: Path, *, url: str | None, progress: bool, log: Callable[[str], None],
           session=None) -> Path:
    log(f"{remote.filename}: {remote.url if url is None else url} (about {format_bytes(remote.approx_bytes)}; "
        f"{remote.checksum_note})")
    return download_file(url or remote.url, download_dir / remote.filename, md5=remote.md5, session=session,
                         progress=progress, log=log)


def fetch_voc(root: Path | str, *, sbd: bool = False, download_dir: Path | str | None = None,
              mirror: str | None = None, progress: bool = True, log: Callable[[str], None] = print) -> Path:
    """Download and extract PASCAL VOC 2012 trainval (and optionally SBD) into ``root``.

    Result: ``root/VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,ImageSets,...}``
    (torchvision's ``VOCSegmentation(root)`` layout) and, with ``sbd``,
    ``root/benchmark_RELEASE/dataset/{img,cls,inst,train.txt,val.txt,train_noval.txt}``.

    Parameters
    ----------
    root : path
        Destination (``$VOC_ROOT``).
    sbd : bool
        Also fetch the Semantic Boundaries Dataset (Hariharan et al., ICCV 2011),
        the 10,582-image "train_aug" set used to train FCN and DeepLab.
    download_dir : path, optional
        Where the archives are kept (default ``root/downloads``).
    mirror : str, optional
        Another address of the VOC tar (same file, same MD5).
    """
    root = Path(root)
    downloads = Path(download_dir) if download_dir is not None else root / "downloads"
    tar = _fetch(VOC2012_TRAINVAL, downloads, url=mirror, progress=progress, log=log)
    extract_archive(tar, root, log=log)
    if sbd:
        tgz = _fetch(SBD, downloads, url=None, progress=progress, log=log)
        extract_archive(tgz, root, log=log)
        _fetch(SBD_TRAIN_NOVAL, root / "benchmark_RELEASE" / "dataset", url=None, progress=progress, log=log)
    return root


def fetch_coco_stuff(root: Path | str, *, splits: Sequence[str] = ("val",), download_dir: Path | str | None = None,
                     progress: bool = True, log: Callable[[str], None] = print) -> Path:
    """Download and extract COCO 2017 images and the COCO-stuff stuffthingmaps into ``root``.

    Result (the layout of the COCO-stuff README's setup instructions):
    ``root/images/{train2017,val2017}/*.jpg`` and
    ``root/annotations/{train2017,val2017}/*.png`` (label PNGs, values 0-181
    and 255; see :mod:`course_utils.data.coco_stuff`).

    Parameters
    ----------
    splits : sequence of {'train', 'val'}
        Which image zips to fetch (val: 5,000 images, 1 GB; train: 118,287
        images, 18 GB).  The stuffthingmaps zip holds both splits' labels.
    """
    root = Path(root)
    splits = tuple(splits)
    bad = [s for s in splits if s not in ("train", "val")]
    if bad or not splits:
        raise ValueError(f"splits={splits!r}: expected a non-empty subset of ('train', 'val')")
    downloads = Path(download_dir) if download_dir is not None else root / "downloads"
    remotes = {"train": COCO_TRAIN2017, "val": COCO_VAL2017}
    for split in ("val", "train"):
        if split in splits:
            archive = _fetch(remotes[split], downloads, url=None, progress=progress, log=log)
            extract_archive(archive, root / "images", log=log)
    maps = _fetch(COCO_STUFFTHINGMAPS, downloads, url=None, progress=progress, log=log)
    extract_archive(maps, root / "annotations", log=log)
    return root


# --------------------------------------------------------------------------- Cityscapes
def cityscapes_credentials(*, prompt: bool | None = None) -> tuple[str, str]:
    """The Cityscapes account from ``CITYSCAPES_USERNAME`` / ``CITYSCAPES_PASSWORD`` or a prompt.

    The password is read with :func:`getpass.getpass` (not echoed).  Nothing is
    stored and nothing is printed.  ``prompt=None`` prompts only on a terminal.

    Raises
    ------
    CredentialsError
        When the variables are unset and no prompt is possible.
    """
    user = os.environ.get("CITYSCAPES_USERNAME", "").strip()
    password = os.environ.get("CITYSCAPES_PASSWORD", "")
    if user and password:
        return user, password
    if prompt is None:
        prompt = sys.stdin is not None and sys.stdin.isatty()
    if not prompt:
        raise CredentialsError(
            "Cityscapes needs an account (register at https://www.cityscapes-dataset.com/register/): set "
            "CITYSCAPES_USERNAME and CITYSCAPES_PASSWORD, or run the script in a terminal to be asked"
        )
    if not user:
        user = input("Cityscapes username or email address: ").strip()
    password = password or getpass.getpass("Cityscapes password: ")
    if not user or not password:
        raise CredentialsError("an empty Cityscapes username or password was given")
    return user, password


def cityscapes_login(username: str, password: str, *, site: str = CITYSCAPES_SITE, session=None,
                     timeout: float = 30.0):
    """Log in to the Cityscapes site; return the logged-in ``requests.Session``.

    The same two requests as ``cityscapesscripts.download.downloader.login``
    (GET then POST ``/login`` with ``username``, ``password``, ``submit=Login``;
    success is a redirect), but the credentials come from the caller: they are
    never written to disk (the official helper offers to store them
    unencrypted) and never appear in a message.

    Raises
    ------
    CredentialsError
        The site did not accept the username / password.
    NetworkError
        The site cannot be reached.
    """
    import requests

    sess = session or requests.Session()
    try:
        r = sess.get(f"{site}/login", allow_redirects=False, timeout=timeout)
        r.raise_for_status()
        r = sess.post(f"{site}/login", data={"username": username, "password": password, "submit": "Login"},
                      allow_redirects=False, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise NetworkError(f"cannot reach {site} ({type(err).__name__}): check your internet connection") from None
    except requests.HTTPError as err:
        raise DownloadError(f"{site}/login answered HTTP {err.response.status_code}") from None
    if r.status_code in (401, 403) or r.status_code != 302:
        raise CredentialsError(
            f"{site} did not accept the username/password (login answered HTTP {r.status_code} instead of a "
            f"redirect): check CITYSCAPES_USERNAME / CITYSCAPES_PASSWORD (values not shown)"
        )
    return sess


def cityscapes_packages(session, *, site: str = CITYSCAPES_SITE, timeout: float = 30.0) -> dict[str, dict]:
    """The packages this account may download: ``{name: {'id': int, 'bytes': float}}`` (site's list)."""
    import requests
    from cityscapesscripts.download.downloader import parse_size_to_bytes

    try:
        r = session.get(f"{site}/downloads/?list", allow_redirects=False, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise NetworkError(f"cannot reach {site} ({type(err).__name__})") from None
    if r.status_code in (301, 302, 303, 401, 403):
        raise CredentialsError(f"{site} refused the package list (HTTP {r.status_code}): not logged in")
    if r.status_code != 200:
        raise DownloadError(f"{site}/downloads/?list answered HTTP {r.status_code}")
    try:
        return {p["name"]: {"id": int(p["packageID"]), "bytes": parse_size_to_bytes(p["size"])} for p in r.json()}
    except (ValueError, KeyError, TypeError) as err:
        raise DownloadError(f"{site} sent a package list this script cannot read ({err})") from None


def _cityscapes_md5(session, package_id: int, site: str, timeout: float) -> str:
    r = session.get(f"{site}/md5-sum/?packageID={package_id}", allow_redirects=False, timeout=timeout)
    if r.status_code != 200 or not r.text.split():
        raise CredentialsError(f"{site} did not send the MD5 of package {package_id} (HTTP {r.status_code})")
    md5 = r.text.split()[0].lower()
    if len(md5) != 32:
        raise DownloadError(f"{site} sent an unreadable MD5 for package {package_id}")
    return md5


def fetch_cityscapes(root: Path | str, *, packages: Sequence[str] = tuple(CITYSCAPES_PACKAGES),
                     train_ids: bool = False, download_dir: Path | str | None = None, credentials=None,
                     site: str = CITYSCAPES_SITE, progress: bool = True, timeout: float = 30.0,
                     log: Callable[[str], None] = print) -> Path:
    """Download (with the user's account), verify and extract Cityscapes packages into ``root``.

    Result: ``root/gtFine/{train,val,test}/<city>/*`` and
    ``root/leftImg8bit/{train,val,test}/<city>/*`` (``$CITYSCAPES_DATASET``).
    Packages already downloaded and verified are not fetched again, and
    already extracted ones are not extracted again (no login is needed then).

    Parameters
    ----------
    packages : sequence of str
        Package names as the site lists them, by default
        ``gtFine_trainvaltest.zip`` (packageID 1) and
        ``leftImg8bit_trainvaltest.zip`` (packageID 3).
    train_ids : bool
        Afterwards write ``*_gtFine_labelTrainIds.png`` with the official
        ``cityscapesscripts.preparation.createTrainIdLabelImgs``.
    credentials : (str, str), optional
        ``(username, password)``; by default :func:`cityscapes_credentials`.
    """
    root = Path(root)
    downloads = Path(download_dir) if download_dir is not None else root / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    todo = [p for p in packages if not is_extracted(downloads / p, root)]
    session = None
    if todo:
        estimate = sum(CITYSCAPES_PACKAGES.get(p, (0, 0))[1] for p in todo
                       if not (downloads / p).exists())
        check_free_space(downloads, estimate, f"downloading {', '.join(todo)}")
        username, password = credentials or cityscapes_credentials()
        session = cityscapes_login(username, password, site=site, timeout=timeout)
        del password
        available = cityscapes_packages(session, site=site, timeout=timeout)
        missing = [p for p in todo if p not in available]
        if missing:
            raise DownloadError(f"packages {missing} do not exist or this account has no access to them; "
                                f"available: {sorted(available)}")
        for name in todo:
            package_id = available[name]["id"]
            md5 = _cityscapes_md5(session, package_id, site, timeout)
            log(f"{name}: packageID {package_id}, about {format_bytes(available[name]['bytes'])}, MD5 from the site")
            archive = download_file(f"{site}/file-handling/?packageID={package_id}", downloads / name, md5=md5,
                                    session=session, allow_redirects=False, timeout=timeout, progress=progress,
                                    log=log)
            extract_archive(archive, root, log=log)
    else:
        log("all requested Cityscapes packages are already extracted")
    if train_ids:
        count = create_cityscapes_train_ids(root, log=log)
        log(f"wrote {count} *_labelTrainIds.png files with cityscapesscripts' createTrainIdLabelImgs")
    return root


def create_cityscapes_train_ids(root: Path | str, *, log: Callable[[str], None] = print) -> int:
    """Write ``*_gtFine_labelTrainIds.png`` beside each ``*_gtFine_polygons.json`` under ``root``.

    Runs the official ``cityscapesscripts.preparation.createTrainIdLabelImgs``
    (polygons rasterised with the train ids of ``helpers/labels.py``: 0-18
    for the 19 evaluated classes, 255 for the rest).  Derived files are
    rewritten; no source file is touched.

    Returns
    -------
    int
        The number of polygon files converted.

    Raises
    ------
    FileNotFoundError
        When ``root`` has no ``gtFine/*/*/*_polygons.json`` (or ``gtCoarse``).
    """
    import contextlib
    import io

    from cityscapesscripts.preparation import createTrainIdLabelImgs

    root = Path(root)
    files = sorted(root.glob("gtFine/*/*/*_gt*_polygons.json")) + sorted(root.glob("gtCoarse/*/*/*_gt*_polygons.json"))
    if not files:
        raise FileNotFoundError(f"root={str(root)!r} has no gtFine/<split>/<city>/*_gtFine_polygons.json; "
                                f"extract gtFine_trainvaltest.zip there first")
    old = os.environ.get(CITYSCAPES_ENV)
    os.environ[CITYSCAPES_ENV] = str(root)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):  # its own progress line ("Progress: 100 %")
            createTrainIdLabelImgs.main()
    finally:
        if old is None:
            os.environ.pop(CITYSCAPES_ENV, None)
        else:
            os.environ[CITYSCAPES_ENV] = old
    log(out.getvalue().strip().splitlines()[0] if out.getvalue().strip() else f"converted {len(files)} files")
    return len(files)
