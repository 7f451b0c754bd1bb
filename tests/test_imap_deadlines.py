"""Deadlines: a server that trickles its greeting, one that stays silent and a closed port each end an
`inboxrel ingest` within its deadline, with exit 69 and one line (tiny socket servers on loopback: no real
server trickles or stalls on purpose)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


class _Server:
    """Accepts connections on loopback; ``trickle`` sends a greeting that never ends, a byte every 0.2 s
    (no wait for a byte is long enough to time out); ``silent`` never sends anything."""

    def __init__(self, mode: str):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn):
        with conn:
            data = b"* OK " + b"x" * 100_000
            for i in range(len(data)):
                if self.stop.wait(0.2):
                    return
                if self.mode == "trickle":
                    try:
                        conn.sendall(data[i:i + 1])
                    except OSError:
                        return

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture
def server(request):
    s = _Server(request.param)
    yield s
    s.close()


def _ingest(tmp_path, port, *, timeout=2, deadline=None):
    lines = ["[accounts.test]", 'host = "127.0.0.1"', f"port = {port}", 'username = "u"', 'tls = "none"',
             'password_env = "IRPW"', f"timeout = {timeout}"]
    if deadline is not None:
        lines.insert(0, f"ingest_deadline = {deadline}")
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n")
    cmd = [sys.executable, "-m", "inboxrel", "--config", str(config), "--db", f"sqlite:///{tmp_path / 's.db'}",
           "ingest", "--no-signals"]
    started = time.monotonic()
    result = subprocess.run(cmd, env=dict(os.environ, IRPW="x"), capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    return result, time.monotonic() - started


def _one_line(result) -> str:
    """The error: one line on stderr (stdout has the run's one-line summary)."""
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in result.stderr, err
    assert len(result.stdout.strip().splitlines()) <= 1, result.stdout
    return err[0]


@pytest.mark.parametrize("server", ["trickle", "silent"], indirect=True)
def test_a_server_that_trickles_or_stays_silent_ends_within_the_run_deadline(server, tmp_path):
    result, took = _ingest(tmp_path, server.port, deadline=5)
    assert result.returncode == 69, result
    line = _one_line(result)
    assert "no greeting within" in line and "deadline of 5 s" in line, line
    assert took < 5 + 4, took  # the deadline, and the interpreter's start
    assert server.connections >= 1


@pytest.mark.parametrize("server", ["trickle"], indirect=True)
def test_a_greeting_has_its_step_deadline_in_all_not_per_byte(server, tmp_path):
    from inboxrel.config import AccountConfig
    from inboxrel.pipelines.imap import ConnectionLost, Credential, fetch_session

    waited = []
    started = time.monotonic()
    with pytest.raises(ConnectionLost, match="no greeting within 1 s"):
        fetch_session(AccountConfig(name="t", host="127.0.0.1", port=server.port, username="u", tls="none"),
                      Credential("u", "x"), timeout=1, waiting=waited.append)
    assert time.monotonic() - started < 2
    assert waited == [f"connecting to 127.0.0.1:{server.port}"]


def test_a_closed_port_ends_within_the_run_deadline(tmp_path):
    result, took = _ingest(tmp_path, free_port(), deadline=3)
    assert result.returncode == 69, result
    line = _one_line(result)
    assert "cannot connect to 127.0.0.1" in line and "deadline of 3 s" in line, line
    assert took < 3 + 4, took
