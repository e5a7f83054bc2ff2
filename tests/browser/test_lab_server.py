"""The JupyterLab server of the browser tests listens on 127.0.0.1 only, needs its token, and
stopping it leaves no process behind (kernels included)."""

from __future__ import annotations

import urllib.error
import urllib.request

import psutil
import pytest

from tests.browser.lab import LabServer


@pytest.mark.timeout(300)
def test_server_needs_its_token_and_stops_with_its_kernels(tmp_path):
    server = LabServer(tmp_path / "root", tmp_path / "scratch")
    server.root.mkdir()
    try:
        server.start()
        listening = {c.laddr.ip for c in psutil.net_connections("tcp") if c.laddr and c.laddr.port == server.port
                     and c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}, listening
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/api/kernels", timeout=10)
        assert refused.value.code == 403
        kernel = server.api("POST", "/api/kernels", {"name": "python3"})
        assert kernel["id"]
        pids = [server.proc.pid] + [p.pid for p in psutil.Process(server.proc.pid).children(recursive=True)]
        assert len(pids) >= 2, "the kernel process did not start"
    finally:
        server.stop()
    survivors = [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert not survivors, f"processes left running: {survivors}"
    server.stop()  # a second stop is harmless
