"""A real CalDAV/CardDAV server (Radicale, from PyPI) on 127.0.0.1 for the calendar and contacts tests.

The session starts one Radicale as a child process with a throwaway storage folder and an htpasswd file;
each test takes a fresh user (``dav.user()``), so its calendars and address books are its own. Seeding
goes over HTTP like any client would (MKCALENDAR, extended MKCOL, PUT, DELETE), so Radicale's own rules
(UID checks, ETags, sync tokens) apply. ``dav.item_files(user)`` reads the stored item files, to show a
sync left the server unchanged (Radicale's ``.Radicale.cache`` may change on reads: it is left out).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PASSWORD = "s3cret-Dav-Pw"  # distinctive, so tests can prove it appears nowhere


class Radicale:
    """One Radicale process on a free loopback port, with users added as the tests need them."""

    _ids = itertools.count(1)

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="irdav"))
        self.users_file = self.base / "users"
        self.users_file.write_text("")
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Radicale:
        from tests.conftest import free_port

        self.port = free_port()
        log = open(self.base / "radicale.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{self.port}",
             "--storage-filesystem-folder", str(self.base / "rad"), "--auth-type", "htpasswd",
             "--auth-htpasswd-filename", str(self.users_file), "--auth-htpasswd-encryption", "plain",
             "--logging-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"radicale exited: {(self.base / 'radicale.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=1).read()
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("radicale did not answer within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    # -- seeding, as a client would -------------------------------------------------------------------
    def user(self) -> str:
        name = f"u{next(self._ids)}"
        with open(self.users_file, "a") as fh:
            fh.write(f"{name}:{PASSWORD}\n")
        time.sleep(0.01)  # radicale re-reads the htpasswd file when its mtime changes
        return name

    def request(self, user: str, method: str, path: str, body: bytes | str | None = None,
                content_type: str | None = None) -> int:
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode())
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            if exc.code >= 400:
                raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None
            return exc.code

    def calendar(self, user: str, name: str) -> str:
        """Create a calendar; return its URL."""
        self.request(user, "MKCALENDAR", f"/{user}/{name}/")
        return f"{self.url}/{user}/{name}/"

    def addressbook(self, user: str, name: str) -> str:
        """Create an address book (extended MKCOL, RFC 6352); return its URL."""
        body = ('<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/>'
                f'<C:addressbook/></D:resourcetype><D:displayname>{name}</D:displayname></D:prop></D:set>'
                '</D:mkcol>')
        self.request(user, "MKCOL", f"/{user}/{name}/", body, "application/xml")
        return f"{self.url}/{user}/{name}/"

    def put(self, user: str, collection: str, item: str, data: str) -> None:
        ctype = "text/vcard" if item.endswith(".vcf") else "text/calendar"
        self.request(user, "PUT", f"/{user}/{collection}/{item}", data, ctype)

    def delete(self, user: str, collection: str, item: str) -> None:
        self.request(user, "DELETE", f"/{user}/{collection}/{item}")

    def move(self, user: str, src: str, item: str, dst: str) -> None:
        req_path = f"/{user}/{src}/{item}"
        req = urllib.request.Request(self.url + req_path, method="MOVE")
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode())
        req.add_header("Destination", f"{self.url}/{user}/{dst}/{item}")
        urllib.request.urlopen(req, timeout=10).read()

    def item_files(self, user: str) -> dict[str, str]:
        """Every stored item of the user, path -> sha256 (the cache folders left out)."""
        root = self.base / "rad" / "collection-root" / user
        out = {}
        for p in sorted(root.rglob("*")):
            if p.is_file() and ".Radicale.cache" not in p.parts and ".Radicale.tmp" not in p.name:
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
        return out


@pytest.fixture(scope="session")
def radicale_server():
    from tests.conftest import unavailable

    try:
        import radicale  # noqa: F401
    except ImportError:
        unavailable("radicale is not installed (pip install -e '.[test]')")
    server = Radicale()
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        unavailable(f"radicale cannot start: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dav(radicale_server) -> Radicale:
    return radicale_server
