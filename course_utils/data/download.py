"""Resumable, verified downloads and safe extraction of dataset archives.

The real datasets are large (PASCAL VOC 2012: 2 GB, Cityscapes: 11 GB, COCO:
19 GB), so a download has to survive a dropped connection and must never leave
a broken file where a good one was:

* :func:`download_file` writes to ``<name>.part``, resumes a partial download
  with an HTTP ``Range`` request, checks the free disk space against the
  server's ``Content-Length`` first, verifies the MD5 (or, for a zip without a
  published checksum, every member's CRC-32) and only then renames the file
  into place.  A finished file is skipped after its checksum is verified.
* :func:`extract_archive` extracts a tar or zip into a hidden staging folder
  inside the destination, refusing members that would land outside it (path
  traversal, links, devices), and then moves each top-level entry into place
  with one ``os.replace``: an interrupted extraction leaves no half dataset.

Each failure raises a subclass of :class:`DownloadError` whose message says
what happened and what to do: :class:`NetworkError` (no connection, timeout,
connection dropped), :class:`CredentialsError` (HTTP 401/403 or a redirect to
a login page), :class:`DiskFullError` (not enough free space, or ``ENOSPC``
while writing), :class:`ChecksumError` and :class:`CorruptArchiveError`.

Nothing here is used at notebook run time: the course runs offline on
procedural data; these functions serve ``data_scripts/download_*.py``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from tqdm.auto import tqdm

__all__ = [
    "DownloadError",
    "NetworkError",
    "CredentialsError",
    "DiskFullError",
    "ChecksumError",
    "CorruptArchiveError",
    "UnsafeArchiveError",
    "check_url",
    "file_md5",
    "is_extracted",
    "check_free_space",
    "download_file",
    "extract_archive",
    "format_bytes",
]

PART_SUFFIX = ".part"
_CHUNK = 1 << 20  # 1 MiB, for reading files
_NET_CHUNK = 1 << 16  # 64 KiB: a dropped connection loses at most one unfinished chunk
_MARGIN = 64 << 20  # keep 64 MiB free beyond what a download or extraction needs


class DownloadError(RuntimeError):
    """A download or extraction failed; the message says why and what to do."""


class NetworkError(DownloadError):
    """The server could not be reached, or the connection dropped (partial data is kept)."""


class CredentialsError(DownloadError):
    """The server refused the request (401/403, or redirected to a login page)."""


class DiskFullError(DownloadError):
    """Not enough free disk space for a download or an extraction."""


class ChecksumError(DownloadError):
    """A downloaded file does not match its published checksum (it was deleted)."""


class CorruptArchiveError(DownloadError):
    """An archive cannot be read (truncated, bad CRC, not an archive)."""


class UnsafeArchiveError(CorruptArchiveError):
    """An archive member would be written outside the destination folder."""


def format_bytes(n: float) -> str:
    """``1536 -> '1.5 KiB'`` (binary units)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def file_md5(path: Path | str, chunk_size: int = _CHUNK) -> str:
    """MD5 hex digest of a file, read in chunks (memory stays constant)."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _free_bytes(folder: Path) -> int:
    """Free bytes on the file system holding ``folder`` (tests replace this)."""
    return shutil.disk_usage(folder).free


def check_free_space(folder: Path | str, needed: int, what: str) -> None:
    """Raise :class:`DiskFullError` unless ``folder`` has ``needed`` bytes (+ 64 MiB) free.

    Parameters
    ----------
    folder : path
        An existing folder on the target file system.
    needed : int
        Bytes about to be written.
    what : str
        Words for the message, e.g. ``"downloading VOCtrainval_11-May-2012.tar"``.
    """
    folder = Path(folder)
    free = _free_bytes(folder)
    if needed + _MARGIN > free:
        raise DiskFullError(
            f"not enough disk space for {what}: it needs {format_bytes(needed)} (+ {format_bytes(_MARGIN)} margin) "
            f"in {folder}, but only {format_bytes(free)} are free. Free some space or choose another folder "
            f"(--root); nothing was written."
        )


def _is_disk_full(err: OSError) -> bool:
    return err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


# --------------------------------------------------------------------------- download
def check_url(url, name: str = "url") -> str:
    """Return ``url`` if it is an absolute http(s) address; else raise ValueError naming ``name``."""
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        raise ValueError(f"{name} must be an http(s) address, got {type(url).__name__}")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as err:
        raise ValueError(f"{name}={url!r} is not a valid address ({err}): expected http(s)://host/path") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise ValueError(f"{name}={url!r} is not an http(s) address: expected http(s)://host/path/file")
    return url.strip()


def download_file(
    url: str,
    dest: Path | str,
    *,
    md5: str | None = None,
    session=None,
    allow_redirects: bool = True,
    timeout: float = 30.0,
    retries: int = 2,
    progress: bool = True,
    chunk_size: int = _NET_CHUNK,
    log: Callable[[str], None] = print,
) -> Path:
    """Download ``url`` to ``dest``, resuming a partial download and verifying it.

    Parameters
    ----------
    url : str
        HTTP(S) address of the file.
    dest : path
        Final file name.  The data are written to ``dest + '.part'`` and renamed
        to ``dest`` only after verification, so ``dest`` (if it exists) is never
        replaced by a bad file.
    md5 : str, optional
        Published MD5 (32 hex digits).  Without one, the byte count must match
        the server's ``Content-Length`` and a ``.zip`` must pass a CRC-32 test of
        every member before it is renamed into place.
    session : requests.Session, optional
        Session to use (e.g. one logged in to the Cityscapes site).
    allow_redirects : bool
        Follow redirects.  With ``False`` a redirect is treated as "not logged
        in" (:class:`CredentialsError`), as the Cityscapes site redirects to its
        login page.
    timeout : float
        Seconds to wait for the server to connect or send data.
    retries : int
        How often a connection that dropped after sending data is resumed
        automatically before :class:`NetworkError` is raised (the ``.part``
        file is kept; rerunning resumes it).  A server that cannot be reached
        at all fails at once.
    progress : bool
        Show a tqdm progress bar (``TQDM_DISABLE=1`` also hides it).
    log : callable
        Where one-line messages go (``print`` by default).

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    NetworkError, CredentialsError, DiskFullError, ChecksumError, DownloadError
        See the module docstring; each message says what to do next.
    """
    import requests

    if md5 is not None and (len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5.lower())):
        raise ValueError(f"md5={md5!r}: expected 32 hexadecimal digits or None")
    if retries < 0:
        raise ValueError(f"retries={retries!r}: expected an int >= 0")
    url = check_url(url, "url")
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + PART_SUFFIX)

    if dest.exists():
        if md5 is None:
            log(f"{dest.name}: already there (no published checksum; size {format_bytes(dest.stat().st_size)}), skipped")
            return dest
        if file_md5(dest) == md5.lower():
            log(f"{dest.name}: already there, MD5 verified, skipped")
            return dest
        log(f"{dest.name}: the existing file does not match the published MD5; downloading a fresh copy "
            f"(the existing file stays until the new one is verified)")

    sess = session or requests.Session()
    attempt = 0
    while True:
        before = part.stat().st_size if part.exists() else 0
        try:
            _fetch_to_part(sess, url, part, allow_redirects, timeout, progress, chunk_size, log)
            break
        except NetworkError as err:
            grew = part.exists() and part.stat().st_size > before
            attempt += 1
            if not grew or attempt > retries:  # no progress (e.g. no network at all): do not hammer the server
                raise
            log(f"{dest.name}: {err} - resuming ({attempt}/{retries})")
    _verify_part(part, dest, md5)
    os.replace(part, dest)
    log(f"{dest.name}: downloaded and verified ({format_bytes(dest.stat().st_size)})")
    return dest


def _fetch_to_part(sess, url: str, part: Path, allow_redirects: bool, timeout: float, progress: bool,
                   chunk_size: int, log: Callable[[str], None]) -> None:
    """Download (the rest of) ``url`` into ``part``; return when the server's byte count is complete."""
    import requests

    have = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = sess.get(url, headers=headers, stream=True, timeout=timeout, allow_redirects=allow_redirects)
    except (requests.ConnectionError, requests.Timeout) as err:
        raise NetworkError(
            f"cannot reach {_host(url)} ({type(err).__name__}): check your internet connection or proxy"
            + (f"; the partial download {part.name} ({format_bytes(have)}) is kept, rerun to resume" if have else "")
        ) from None

    with response:
        status = response.status_code
        if status in (401, 403):
            raise CredentialsError(
                f"{_host(url)} refused the download (HTTP {status} {response.reason}): the credentials are wrong, "
                f"the login expired or this account has no access to the file"
            )
        if 300 <= status < 400:
            raise CredentialsError(
                f"{_host(url)} redirected the download (HTTP {status}) instead of sending the file: "
                f"not logged in, or no access"
            )
        if status == 416 and have:
            # Range not satisfiable: the partial file is already complete (or too long); verify decides.
            log(f"{part.name}: the server has no bytes past {format_bytes(have)}; verifying what we have")
            return
        if status == 404:
            raise DownloadError(f"{url} was not found (HTTP 404): the file may have moved; check the address "
                                f"in course_utils/data/sources.py")
        if status >= 400:
            raise DownloadError(f"{_host(url)} answered HTTP {status} {response.reason} for {url}")

        length = response.headers.get("Content-Length")
        remaining = int(length) if length is not None and length.isdigit() else None
        if status == 206:
            start = _content_range_start(response.headers.get("Content-Range", ""))
            if start != have:
                raise DownloadError(f"{_host(url)} answered a resume request for byte {have} with byte {start}; "
                                    f"delete {part} and rerun")
            mode = "ab"
        else:  # 200: the server ignores Range (or there was nothing to resume): start over
            if have:
                log(f"{part.name}: the server does not resume downloads; starting again from byte 0")
            have, mode = 0, "wb"
        total = have + remaining if remaining is not None else None
        if remaining is not None:
            check_free_space(part.parent, remaining, f"downloading {part.name[: -len(PART_SUFFIX)]}")

        received = 0
        bar = tqdm(total=total, initial=have, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=part.name[: -len(PART_SUFFIX)], disable=not progress, leave=False)
        try:
            with open(part, mode) as f:
                for chunk in response.iter_content(chunk_size=chunk_size):
                    if chunk:
                        f.write(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
        except (requests.RequestException, ConnectionError, TimeoutError):
            raise NetworkError(_dropped(url, part, have + received, total)) from None
        except OSError as err:
            if not _is_disk_full(err):
                raise
            raise DiskFullError(
                f"the disk filled up while writing {part} ({format_bytes(have + received)} written): free some "
                f"space and rerun to resume"
            ) from None
        finally:
            bar.close()
        if remaining is not None and received < remaining:
            raise NetworkError(_dropped(url, part, have + received, total))


def _dropped(url: str, part: Path, got: int, total: int | None) -> str:
    of = f" of {format_bytes(total)}" if total else ""
    return (f"the connection to {_host(url)} dropped after {format_bytes(got)}{of}; "
            f"the partial download {part.name} is kept, rerun to resume")


def _content_range_start(value: str) -> int | None:
    # "bytes 100-999/1000"
    try:
        unit, rest = value.split(" ", 1)
        return int(rest.split("-", 1)[0]) if unit.strip().lower() == "bytes" else None
    except ValueError:
        return None


def _verify_part(part: Path, dest: Path, md5: str | None) -> None:
    """Check the finished ``.part`` file; delete it and raise if it is bad."""
    if md5 is not None:
        got = file_md5(part)
        if got != md5.lower():
            size = part.stat().st_size
            part.unlink()
            kept = f"; the existing {dest.name} was left untouched" if dest.exists() else ""
            raise ChecksumError(
                f"{dest.name}: the download ({format_bytes(size)}) has MD5 {got}, but the published MD5 is {md5}. "
                f"The bad download was deleted{kept}. Rerun to download it again; if this repeats, the file on "
                f"the server changed - check the address and checksum in course_utils/data/sources.py"
            )
        return
    if dest.name.lower().endswith(".zip"):
        try:
            _test_zip(part)
        except CorruptArchiveError as err:
            part.unlink()
            raise ChecksumError(f"{dest.name}: {err}; the bad download was deleted, rerun to download it again") from None


def _test_zip(path: Path) -> None:
    """CRC-32 test of every member of a zip (zips carry their own checksums)."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as err:
        raise CorruptArchiveError(f"not a readable zip file ({err})") from None
    if bad is not None:
        raise CorruptArchiveError(f"member {bad!r} fails its CRC-32 check")


# --------------------------------------------------------------------------- extraction
def _marker(dest: Path, archive: Path) -> Path:
    return dest / f".{archive.name}.extracted"


def is_extracted(archive: Path | str, dest: Path | str) -> bool:
    """Whether :func:`extract_archive` has completely extracted ``archive`` into ``dest``."""
    return _marker(Path(dest), Path(archive)).exists()


def _archive_kind(archive: Path) -> str:
    name = archive.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")):
        return "tar"
    raise ValueError(f"archive={str(archive)!r}: expected a .zip, .tar, .tar.gz or .tgz file")


def _safe_member_name(name: str, archive: Path) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"{archive.name}: member {name!r} has an absolute path; refusing to extract it")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"{archive.name}: member {name!r} points outside the destination ('..'); "
                                 f"refusing to extract it")
    return path


def _tar_members(tf: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    members = tf.getmembers()
    for m in members:
        _safe_member_name(m.name, archive)
        if m.issym() or m.islnk():
            raise UnsafeArchiveError(f"{archive.name}: member {m.name!r} is a link; dataset archives hold "
                                     f"only files and folders, refusing to extract it")
        if not (m.isfile() or m.isdir()):
            raise UnsafeArchiveError(f"{archive.name}: member {m.name!r} is a device or special file; "
                                     f"refusing to extract it")
    return members


def _check_tar_end(tf: tarfile.TarFile, archive: Path) -> None:
    """A complete tar ends with zero blocks after its last member; a cut one does not.

    ``tarfile`` stops quietly at a header cut short, so without this check an
    archive truncated between two members would extract as a smaller dataset.
    Reading on to the end also makes gzip check its CRC and length trailer.
    """
    fileobj = tf.fileobj
    fileobj.seek(tf.offset)
    tail = fileobj.read(2 * tarfile.BLOCKSIZE)
    while fileobj.read(_CHUNK):  # to the end of the (possibly compressed) stream
        pass
    if len(tail) < 2 * tarfile.BLOCKSIZE or tail.strip(b"\0"):
        raise tarfile.ReadError(f"no end-of-archive marker after the last member ({len(tf.getmembers())} members "
                                f"read): the file is cut short")


def _extract_members(archive: Path, staging: Path) -> None:
    """Extract every member of ``archive`` into ``staging`` (checked, no links)."""
    kind = _archive_kind(archive)
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                for info in infos:
                    _safe_member_name(info.filename, archive)
                check_free_space(staging, sum(i.file_size for i in infos), f"extracting {archive.name}")
                for info in infos:
                    _extract_one_zip(zf, info, staging)
        else:
            with tarfile.open(archive) as tf:
                members = _tar_members(tf, archive)
                _check_tar_end(tf, archive)
                check_free_space(staging, sum(m.size for m in members), f"extracting {archive.name}")
                for m in members:
                    _extract_one_tar(tf, m, staging)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise CorruptArchiveError(
            f"{archive} is corrupt or truncated ({type(err).__name__}: {err}). Delete it and download it again; "
            f"nothing was extracted into the destination"
        ) from None
    except OSError as err:
        if _is_disk_full(err):
            raise DiskFullError(f"the disk filled up while extracting {archive.name}; the partial extraction was "
                                f"left in a hidden folder ({staging.name}) and is removed on the next run") from None
        raise


def _extract_one_zip(zf: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path) -> None:
    target = staging.joinpath(*_safe_member_name(info.filename, Path(zf.filename or "")).parts)
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def _extract_one_tar(tf: tarfile.TarFile, member: tarfile.TarInfo, staging: Path) -> None:
    target = staging.joinpath(*_safe_member_name(member.name, Path(tf.name or "")).parts)
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    src = tf.extractfile(member)
    if src is None:  # pragma: no cover - regular files always have data
        raise CorruptArchiveError(f"cannot read member {member.name!r}")
    with src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)
    got = target.stat().st_size
    if got != member.size:
        raise CorruptArchiveError(f"member {member.name!r} is truncated ({got} of {member.size} bytes)")


def extract_archive(archive: Path | str, dest: Path | str, *, log: Callable[[str], None] = print) -> Path:
    """Extract a tar or zip archive into ``dest`` safely and atomically per top-level entry.

    The archive is first extracted into the hidden folder
    ``dest/.<archive name>.partial`` (same file system), then each of its
    top-level entries (e.g. ``VOCdevkit``) is moved into ``dest`` with one
    ``os.replace``, and ``dest/.<archive name>.extracted`` records completion.
    A rerun after completion returns at once; a rerun after an interruption
    starts the extraction again (or finishes the moves, if extraction had
    completed).  Existing entries of ``dest`` are never overwritten: an entry
    that exists as a folder is merged (only missing files are added); an
    existing file that differs is left as it is and reported.

    Parameters
    ----------
    archive : path
        ``.zip``, ``.tar``, ``.tar.gz`` / ``.tgz`` (``.tar.bz2``, ``.tar.xz``).
    dest : path
        Destination folder (created if needed).

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    FileNotFoundError
        If ``archive`` does not exist.
    CorruptArchiveError, UnsafeArchiveError, DiskFullError
        A truncated / bad archive, a member outside ``dest`` (``..``, absolute
        paths, links, devices), or too little free space.
    """
    archive, dest = Path(archive), Path(dest)
    _archive_kind(archive)
    if not archive.is_file():
        raise FileNotFoundError(f"archive={str(archive)!r} does not exist; download it first")
    dest.mkdir(parents=True, exist_ok=True)
    marker = _marker(dest, archive)
    if marker.exists():
        log(f"{archive.name}: already extracted into {dest}, skipped")
        return dest
    staging = dest / f".{archive.name}.partial"
    complete = staging / ".complete"
    if staging.exists() and not complete.exists():
        log(f"{archive.name}: removing an interrupted extraction ({staging.name})")
        shutil.rmtree(staging)
    if not staging.exists():
        staging.mkdir()
        log(f"{archive.name}: extracting into {dest}")
        _extract_members(archive, staging)
        complete.touch()
    conflicts = _merge_into(staging, dest, skip={complete.name})
    shutil.rmtree(staging)
    marker.write_text(f"{archive.name} {archive.stat().st_size}\n")
    if conflicts:
        shown = ", ".join(str(c) for c in conflicts[:5]) + (" ..." if len(conflicts) > 5 else "")
        log(f"{archive.name}: {len(conflicts)} existing file(s) differ from the archive and were left as they are: "
            f"{shown}")
    log(f"{archive.name}: extracted")
    return dest


def _merge_into(src: Path, dst: Path, skip: Iterable[str] = ()) -> list[Path]:
    """Move each entry of ``src`` into ``dst`` (``os.replace``); merge folders; never overwrite files."""
    conflicts: list[Path] = []
    skip = set(skip)
    for entry in sorted(src.iterdir()):
        if entry.name in skip:
            continue
        target = dst / entry.name
        if not target.exists() and not target.is_symlink():
            os.replace(entry, target)
        elif entry.is_dir() and target.is_dir():
            conflicts += _merge_into(entry, target)
        elif entry.is_file() and target.is_file() and _same_bytes(entry, target):
            continue
        else:
            conflicts.append(target)
    return conflicts


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return file_md5(a) == file_md5(b)
