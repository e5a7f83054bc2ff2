"""Resumable verified downloads and safe extraction, offline.

Every test talks to a tiny HTTP server on 127.0.0.1 (a random free port, in a
thread, with Range support) that serves small fake archives; no test reaches
the internet.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import socket
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pytest

from course_utils.data import download as dl
from course_utils.data.download import (
    ChecksumError,
    CorruptArchiveError,
    CredentialsError,
    DiskFullError,
    NetworkError,
    UnsafeArchiveError,
    download_file,
    extract_archive,
    file_md5,
    is_extracted,
)


# --------------------------------------------------------------------------- the local server
class FakeServer:
    """Serves ``routes[path] = dict(data=bytes, ...)`` on loopback; records each request.

    Route options: ``status`` (answer this status, no body), ``truncate_at``
    (close the connection after this many body bytes, on the first
    ``truncate_times`` requests), ``ignore_range``, ``cookie`` (required cookie,
    else 302 to /login), ``json`` / ``text`` bodies.  ``login`` emulates the
    Cityscapes login form (POST with the right fields -> 302 + cookie).
    """

    def __init__(self) -> None:
        self.routes: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.login: tuple[str, str] | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _route(self) -> dict | None:
                return server.routes.get(self.path)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append({"method": "GET", "path": self.path, "range": self.headers.get("Range"),
                                        "cookie": self.headers.get("Cookie")})
                if self.path == "/login" and server.login is not None:
                    return self._send(200, b"<form>login</form>")
                route = self._route()
                if route is None:
                    return self._send(404, b"not found")
                if route.get("cookie") and route["cookie"] not in (self.headers.get("Cookie") or ""):
                    self.send_response(302)
                    self.send_header("Location", "/login")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                if "status" in route:
                    return self._send(route["status"], b"denied")
                if "json" in route:
                    return self._send(200, json.dumps(route["json"]).encode(), "application/json")
                if "text" in route:
                    return self._send(200, route["text"].encode(), "text/plain")
                data: bytes = route["data"]
                start = 0
                rng = self.headers.get("Range")
                if rng and not route.get("ignore_range"):
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                cut = route.get("truncate_at")
                if cut is not None and route.get("truncate_times", 1) > 0:
                    route["truncate_times"] = route.get("truncate_times", 1) - 1
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                self.wfile.write(body)
                return None

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                server.requests.append({"method": "POST", "path": self.path, "form": form})
                if self.path == "/login" and server.login is not None:
                    ok = (form.get("username") == [server.login[0]] and form.get("password") == [server.login[1]]
                          and form.get("submit") == ["Login"])
                    if ok:
                        self.send_response(302)
                        self.send_header("Location", "/")
                        self.send_header("Set-Cookie", "session=granted; Path=/")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    return self._send(200, b"<form>wrong password</form>")
                return self._send(404, b"not found")

            def _send(self, status: int, body: bytes, ctype: str = "text/html") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def gets(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "GET" and r["path"] == path]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail any attempt to resolve a host other than loopback: no test may reach the internet."""
    real = socket.getaddrinfo

    def guarded(host, *args, **kwargs):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"a test tried to reach {host!r}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = FakeServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
        srv.thread.join(timeout=5)


def closed_port_url() -> str:
    """An address on loopback where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.tar"


def quiet(_msg: str) -> None:
    pass


# --------------------------------------------------------------------------- fake archives
def random_bytes(n: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def make_tar(files: dict[str, bytes], *, gz: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_zip(files: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


VOC_LIKE = {f"VOCdevkit/VOC2012/JPEGImages/2007_{i:06d}.jpg": random_bytes(3000, i) for i in range(6)}


# --------------------------------------------------------------------------- downloads
def test_download_verifies_and_renames_then_skips_the_verified_file(server, tmp_path):
    data = random_bytes(300_000)
    server.routes["/a.tar"] = {"data": data}
    dest = tmp_path / "a.tar"
    assert download_file(server.url("/a.tar"), dest, md5=md5(data), progress=False, log=quiet) == dest
    assert dest.read_bytes() == data and not (tmp_path / "a.tar.part").exists()
    messages = []
    download_file(server.url("/a.tar"), dest, md5=md5(data), progress=False, log=messages.append)
    assert len(server.gets("/a.tar")) == 1, "a verified file must not be downloaded again"
    assert "MD5 verified, skipped" in messages[0]


def test_truncated_download_keeps_the_part_and_a_rerun_resumes_with_range(server, tmp_path):
    data = random_bytes(400_000, seed=1)
    server.routes["/voc.tar"] = {"data": data, "truncate_at": 150_000}
    dest = tmp_path / "voc.tar"
    with pytest.raises(NetworkError, match="dropped after .*rerun to resume"):
        download_file(server.url("/voc.tar"), dest, md5=md5(data), retries=0, progress=False,
                      chunk_size=16_384, log=quiet)
    part = tmp_path / "voc.tar.part"
    assert not dest.exists() and part.exists()
    assert 0 < part.stat().st_size <= 150_000
    have = part.stat().st_size
    download_file(server.url("/voc.tar"), dest, md5=md5(data), progress=False, log=quiet)
    assert server.gets("/voc.tar")[-1]["range"] == f"bytes={have}-"
    assert dest.read_bytes() == data and not part.exists()


def test_a_dropped_connection_is_resumed_automatically(server, tmp_path):
    data = random_bytes(200_000, seed=2)
    server.routes["/x.tar"] = {"data": data, "truncate_at": 50_000, "truncate_times": 2}
    download_file(server.url("/x.tar"), tmp_path / "x.tar", md5=md5(data), retries=2, progress=False,
                  chunk_size=8192, log=quiet)
    ranges = [r["range"] for r in server.gets("/x.tar")]
    assert ranges[0] is None and all(r and r.startswith("bytes=") for r in ranges[1:]) and len(ranges) == 3
    assert (tmp_path / "x.tar").read_bytes() == data


def test_server_without_range_support_restarts_from_zero(server, tmp_path):
    data = random_bytes(100_000, seed=3)
    server.routes["/n.tar"] = {"data": data, "ignore_range": True}
    (tmp_path / "n.tar.part").write_bytes(b"stale bytes from another file")
    download_file(server.url("/n.tar"), tmp_path / "n.tar", md5=md5(data), progress=False, log=quiet)
    assert (tmp_path / "n.tar").read_bytes() == data


def test_complete_part_file_is_verified_after_a_416(server, tmp_path):
    data = random_bytes(50_000, seed=4)
    server.routes["/c.tar"] = {"data": data}
    (tmp_path / "c.tar.part").write_bytes(data)
    download_file(server.url("/c.tar"), tmp_path / "c.tar", md5=md5(data), progress=False, log=quiet)
    assert (tmp_path / "c.tar").read_bytes() == data


def test_checksum_mismatch_deletes_the_download_and_leaves_the_old_file(server, tmp_path):
    published = random_bytes(80_000, seed=5)
    served = bytearray(published)
    served[1234] ^= 0xFF  # one flipped byte on the server
    server.routes["/v.tar"] = {"data": bytes(served)}
    dest = tmp_path / "v.tar"
    dest.write_bytes(b"an older copy the user keeps")
    before = dest.read_bytes()
    with pytest.raises(ChecksumError, match=r"MD5 .* published MD5 is .*deleted.*left untouched"):
        download_file(server.url("/v.tar"), dest, md5=md5(published), progress=False, log=quiet)
    assert dest.read_bytes() == before
    assert not (tmp_path / "v.tar.part").exists()


def test_zip_without_checksum_is_crc_checked_before_it_is_kept(server, tmp_path):
    good = make_zip({"val2017/000000000001.png": random_bytes(5000, 6)})
    bad = bytearray(good)
    bad[100] ^= 0xFF  # inside the stored member's data: its CRC-32 no longer matches
    server.routes["/maps.zip"] = {"data": bytes(bad)}
    with pytest.raises(ChecksumError, match="CRC-32|zip"):
        download_file(server.url("/maps.zip"), tmp_path / "maps.zip", progress=False, log=quiet)
    assert not (tmp_path / "maps.zip").exists() and not (tmp_path / "maps.zip.part").exists()
    server.routes["/maps.zip"] = {"data": good}
    download_file(server.url("/maps.zip"), tmp_path / "maps.zip", progress=False, log=quiet)
    assert (tmp_path / "maps.zip").read_bytes() == good


def test_no_network_is_a_clear_error_and_nothing_is_written(tmp_path):
    with pytest.raises(NetworkError, match="cannot reach 127.0.0.1.*internet connection"):
        download_file(closed_port_url(), tmp_path / "f.tar", md5="0" * 32, progress=False, log=quiet)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_reported(server, tmp_path, status):
    server.routes["/secret.zip"] = {"status": status}
    with pytest.raises(CredentialsError, match=f"HTTP {status}"):
        download_file(server.url("/secret.zip"), tmp_path / "s.zip", progress=False, log=quiet)
    assert not (tmp_path / "s.zip").exists()


def test_redirect_to_login_is_a_credentials_error_when_redirects_are_off(server, tmp_path):
    server.routes["/file"] = {"data": b"x", "cookie": "session=granted"}
    with pytest.raises(CredentialsError, match="redirected"):
        download_file(server.url("/file"), tmp_path / "f.zip", allow_redirects=False, progress=False, log=quiet)


def test_missing_file_is_reported(server, tmp_path):
    with pytest.raises(dl.DownloadError, match="404"):
        download_file(server.url("/nothing.tar"), tmp_path / "n.tar", progress=False, log=quiet)


def test_not_enough_free_space_is_refused_before_writing(server, tmp_path, monkeypatch):
    data = random_bytes(100_000, seed=7)
    server.routes["/big.tar"] = {"data": data}
    monkeypatch.setattr(dl, "_free_bytes", lambda folder: 10_000_000)  # 10 MB < 100 kB + 64 MiB margin
    with pytest.raises(DiskFullError, match=r"needs .* only .* free.*nothing was written"):
        download_file(server.url("/big.tar"), tmp_path / "big.tar", progress=False, log=quiet)
    assert not (tmp_path / "big.tar.part").exists()


def test_disk_filling_up_while_writing_keeps_the_part_for_a_resume(server, tmp_path, monkeypatch):
    data = random_bytes(200_000, seed=8)
    server.routes["/f.tar"] = {"data": data}
    real_open = open

    class FullDisk:
        def __init__(self, f, budget):
            self.f, self.budget = f, budget

        def write(self, chunk):
            if self.budget < len(chunk):
                raise OSError(errno.ENOSPC, "No space left on device")
            self.budget -= len(chunk)
            return self.f.write(chunk)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(dl, "open", lambda p, mode="r", *a, **k: FullDisk(real_open(p, mode, *a, **k), 65_536),
                        raising=False)
    with pytest.raises(DiskFullError, match="disk filled up.*rerun to resume"):
        download_file(server.url("/f.tar"), tmp_path / "f.tar", md5=md5(data), progress=False, chunk_size=16_384,
                      log=quiet)
    assert (tmp_path / "f.tar.part").stat().st_size == 65_536 and not (tmp_path / "f.tar").exists()
    monkeypatch.delattr(dl, "open")
    download_file(server.url("/f.tar"), tmp_path / "f.tar", md5=md5(data), progress=False, log=quiet)
    assert server.gets("/f.tar")[-1]["range"] == "bytes=65536-"
    assert (tmp_path / "f.tar").read_bytes() == data


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="md5"):
        download_file("http://127.0.0.1:1/x", tmp_path / "x", md5="xyz")
    with pytest.raises(ValueError, match="retries"):
        download_file("http://127.0.0.1:1/x", tmp_path / "x", retries=-1)
    with pytest.raises(ValueError, match="archive"):
        extract_archive(tmp_path / "x.rar", tmp_path / "out")


# --------------------------------------------------------------------------- extraction
def test_extract_tar_and_zip_into_place_with_marker(tmp_path):
    tar = tmp_path / "voc.tar"
    tar.write_bytes(make_tar(VOC_LIKE))
    out = tmp_path / "root"
    extract_archive(tar, out, log=quiet)
    for name, data in VOC_LIKE.items():
        assert (out / name).read_bytes() == data
    assert is_extracted(tar, out) and sorted(p.name for p in out.iterdir()) == [".voc.tar.extracted", "VOCdevkit"]
    z = tmp_path / "maps.zip"
    z.write_bytes(make_zip({"val2017/1.png": b"png", "train2017/2.png": b"png2"}, zipfile.ZIP_DEFLATED))
    extract_archive(z, tmp_path / "ann", log=quiet)
    assert (tmp_path / "ann/train2017/2.png").read_bytes() == b"png2"


def test_second_archive_merges_without_overwriting(tmp_path):
    a, b = tmp_path / "gtFine.zip", tmp_path / "leftImg8bit.zip"
    a.write_bytes(make_zip({"gtFine/val/x.png": b"gt", "README": b"same", "license.txt": b"L1"}))
    b.write_bytes(make_zip({"leftImg8bit/val/x.png": b"img", "README": b"same", "license.txt": b"L2"}))
    root = tmp_path / "cityscapes"
    extract_archive(a, root, log=quiet)
    messages = []
    extract_archive(b, root, log=messages.append)
    assert (root / "gtFine/val/x.png").read_bytes() == b"gt" and (root / "leftImg8bit/val/x.png").read_bytes() == b"img"
    assert (root / "license.txt").read_bytes() == b"L1", "an existing file must never be overwritten"
    assert any("differ from the archive" in m and "license.txt" in m for m in messages)


def test_interrupted_extraction_leaves_no_half_dataset_and_reruns_cleanly(tmp_path, monkeypatch):
    tar = tmp_path / "voc.tar"
    tar.write_bytes(make_tar(VOC_LIKE))
    root = tmp_path / "root"
    real = dl._extract_one_tar
    calls = {"n": 0}

    def dies_midway(tf, member, staging):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the user pressed Ctrl-C, or the machine went down
        real(tf, member, staging)

    monkeypatch.setattr(dl, "_extract_one_tar", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        extract_archive(tar, root, log=quiet)
    visible = [p.name for p in root.iterdir() if not p.name.startswith(".")]
    assert visible == [] and not is_extracted(tar, root)
    monkeypatch.setattr(dl, "_extract_one_tar", real)
    messages = []
    extract_archive(tar, root, log=messages.append)
    assert any("removing an interrupted extraction" in m for m in messages)
    assert all((root / n).read_bytes() == d for n, d in VOC_LIKE.items())
    assert sorted(p.name for p in root.iterdir()) == [".voc.tar.extracted", "VOCdevkit"]


def test_truncated_archive_is_reported_as_corrupt_and_nothing_appears(tmp_path):
    data = make_tar(VOC_LIKE, gz=True)
    tar = tmp_path / "voc.tar.gz"
    tar.write_bytes(data[: len(data) // 2])
    root = tmp_path / "root"
    with pytest.raises(CorruptArchiveError, match="corrupt or truncated.*download it again"):
        extract_archive(tar, root, log=quiet)
    assert [p for p in root.iterdir() if not p.name.startswith(".")] == []


@pytest.mark.parametrize("where", ["between members", "inside a member", "inside a header"])
def test_plain_tar_cut_anywhere_is_corrupt(tmp_path, where):
    data = make_tar(VOC_LIKE)
    # member k's header starts at 512 * (k * (1 + ceil(3000 / 512))) = 3584 * k
    cut = {"between members": 3 * 3584, "inside a member": 3 * 3584 + 1000, "inside a header": 3 * 3584 + 100}[where]
    tar = tmp_path / "voc.tar"
    tar.write_bytes(data[:cut])
    with pytest.raises(CorruptArchiveError, match="corrupt or truncated"):
        extract_archive(tar, tmp_path / "root", log=quiet)
    assert not (tmp_path / "root" / "VOCdevkit").exists()


def test_not_an_archive_is_corrupt(tmp_path):
    z = tmp_path / "html.zip"
    z.write_bytes(b"<html>please log in</html>")
    with pytest.raises(CorruptArchiveError):
        extract_archive(z, tmp_path / "out", log=quiet)


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "VOCdevkit/../../evil.txt"])
def test_path_traversal_is_refused(tmp_path, name):
    for maker, suffix in ((make_tar, ".tar"), (make_zip, ".zip")):
        archive = tmp_path / f"bad{suffix}"
        archive.write_bytes(maker({"VOCdevkit/ok.txt": b"ok", name: b"owned"}))
        with pytest.raises(UnsafeArchiveError, match="refusing"):
            extract_archive(archive, tmp_path / "out", log=quiet)
        assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "VOCdevkit").exists()


def test_links_in_a_tar_are_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("VOCdevkit/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
    archive = tmp_path / "link.tar"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(UnsafeArchiveError, match="link"):
        extract_archive(archive, tmp_path / "out", log=quiet)


def test_extraction_checks_free_space(tmp_path, monkeypatch):
    tar = tmp_path / "voc.tar"
    tar.write_bytes(make_tar(VOC_LIKE))
    monkeypatch.setattr(dl, "_free_bytes", lambda folder: 1000)
    with pytest.raises(DiskFullError, match="extracting voc.tar"):
        extract_archive(tar, tmp_path / "root", log=quiet)
    assert not (tmp_path / "root" / "VOCdevkit").exists()


def test_file_md5_matches_hashlib(tmp_path):
    data = random_bytes(3_000_000, seed=9)
    (tmp_path / "f").write_bytes(data)
    assert file_md5(tmp_path / "f", chunk_size=65_536) == hashlib.md5(data).hexdigest()

