"""A real Dovecot on 127.0.0.1 for the IMAP tests (and the benchmark), plus seeding helpers and a TCP proxy.

The session starts one Dovecot with a self-signed certificate made here by openssl: one listener for plain
IMAP + STARTTLS and one for IMAPS. Users come from a static passdb (every name logs in with ``PASSWORD``), so
each test takes a fresh user and its own empty Maildir. Mail is seeded by writing files straight into the
user's Maildir (``cur/``, INTERNALDATE from the file's mtime), which is about 100 times faster than APPEND.

``CutProxy`` sits between the client and Dovecot and can cut or stall a connection after a number of bytes
from the server: faults that a healthy real server never produces on its own.
"""

from __future__ import annotations

import email.utils
import grp
import itertools
import os
import pwd
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

PASSWORD = "s3cret-Imap-Pw"  # distinctive, so tests can prove it appears nowhere

CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
instance_name = inboxrel-test-{tag}
log_path = {base}/dovecot.log
info_log_path = {base}/dovecot.log
ssl = yes
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_fsync = never
first_valid_uid = {uid}
{user_lines}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
{chroot}}}
service anvil {{
{chroot}}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory: Path, name: str = "") -> Path:
    """A self-signed certificate for 127.0.0.1/localhost; returns the cert path (``<name>cert.pem``)."""
    cert, key = directory / f"{name}cert.pem", directory / f"{name}key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", str(key),
                    "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return cert


@dataclass
class SeedMessage:
    raw: bytes
    internaldate: datetime
    flags: str = ""  # Maildir info letters: D draft, F flagged, R replied, S seen, T trashed


class Dovecot:
    """One Dovecot instance under a short temp dir; ``start()`` waits for its greeting."""

    host = "127.0.0.1"

    def __init__(self, base: Path | None = None):
        self.base = Path(base or tempfile.mkdtemp(prefix="irdc"))
        self.base.chmod(0o755)
        self.imap_port = _free_port()
        self.imaps_port = _free_port()
        self.proc: subprocess.Popen | None = None
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("dovecot")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self._seq = itertools.count(1)

    @property
    def cert(self) -> Path:
        """The server certificate, which is also the CA file clients must trust."""
        return self.base / "cert.pem"

    @staticmethod
    def binary() -> str | None:
        return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)

    def start(self) -> Dovecot:
        binary = self.binary()
        if binary is None:
            raise FileNotFoundError("dovecot is not installed (apt-get install dovecot-imapd dovecot-core)")
        make_cert(self.base)
        for sub in ("run", "state", "home"):
            (self.base / sub).mkdir(exist_ok=True)
        if self.as_root:
            os.chown(self.base / "home", self.uid, self.gid)
            user_lines, chroot = "", ""
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            user_lines = (f"default_internal_user = {me}\ndefault_login_user = {me}\n"
                          f"default_internal_group = {group}\n")
            chroot = "  chroot =\n"
        conf = self.base / "dovecot.conf"
        conf.write_text(CONF.format(base=self.base, tag=self.base.name, uid=self.uid, gid=self.gid,
                                    user_lines=user_lines, chroot=chroot, password=PASSWORD,
                                    imap_port=self.imap_port, imaps_port=self.imaps_port))
        self.proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read().decode(errors='replace')}\n"
                                   f"{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.imap_port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.03)
        raise RuntimeError("dovecot did not answer within 15 s\n" + self.log_tail())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join((self.base / "dovecot.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- users and mail --------------------------------------------------------------------------------
    def new_user(self, prefix: str = "u") -> str:
        return f"{prefix}{uuid.uuid4().hex[:10]}"

    def home(self, user: str) -> Path:
        return self.base / "home" / user

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """The Maildir++ directory of ``folder`` (created, owned by the mail user)."""
        root = self.home(user) / "Maildir"
        path = root if folder.upper() == "INBOX" else root / ("." + folder.replace("/", "."))
        for p in (self.home(user), root, path, path / "cur", path / "new", path / "tmp"):
            if not p.exists():
                p.mkdir()
                os.chown(p, self.uid, self.gid)
        return path

    def seed(self, user: str, folder: str, messages: Iterable[SeedMessage]) -> int:
        """Write messages into the folder's ``cur/``; Dovecot gives them UIDs in this order."""
        cur = self.maildir(user, folder) / "cur"
        n = 0
        for m in messages:
            seq = next(self._seq)
            path = cur / f"{1_000_000_000 + seq}.M{seq}P{os.getpid()}.seed:2,{''.join(sorted(m.flags))}"
            path.write_bytes(m.raw)
            os.chown(path, self.uid, self.gid)
            ts = m.internaldate.timestamp()
            os.utime(path, (ts, ts))
            n += 1
        return n

    def client(self, user: str, password: str = PASSWORD):
        """A logged-in IMAPClient over IMAPS (for test set-up and checks, not for the code under test)."""
        from imapclient import IMAPClient

        c = IMAPClient(self.host, port=self.imaps_port, ssl=True,
                       ssl_context=ssl.create_default_context(cafile=str(self.cert)), timeout=30)
        c.login(user, password)
        return c

    def snapshot(self, user: str) -> dict[str, dict[int, tuple[str, ...]]]:
        """Every folder, every UID and its flags, read with EXAMINE so that looking changes nothing.

        ``\\Recent`` is left out: it belongs to sessions, not to the mailbox's stored state.
        """
        out: dict[str, dict[int, tuple[str, ...]]] = {}
        c = self.client(user)
        try:
            for _flags, _delim, name in c.list_folders():
                c.select_folder(name, readonly=True)
                uids = c.search("ALL")
                got = c.fetch(uids, ["FLAGS"]) if uids else {}
                out[name] = {uid: tuple(sorted(f.decode() for f in d[b"FLAGS"] if f != b"\\Recent"))
                             for uid, d in got.items()}
                c.unselect_folder() if c.has_capability("UNSELECT") else c.close_folder()
        finally:
            c.logout()
        return out


# -- Enron mail as seed data ------------------------------------------------------------------------------

ENRON_FOLDERS = {"inbox": "INBOX", "sent": "Sent", "deleted_items": "Trash"}


def enron_folder(shared: Path, user: str, folder: str, limit: int | None = None) -> list[SeedMessage]:
    """The messages of one Enron practice folder with their dates and some deterministic flags."""
    root = shared / "enron" / user / "maildir" / folder
    names = sorted((p for p in root.iterdir() if p.is_file()), key=lambda p: int(p.name.rstrip(".") or 0))
    out = []
    for i, path in enumerate(names[:limit]):
        raw = path.read_bytes()
        out.append(SeedMessage(raw, _header_date(raw), _flags_for(i)))
    return out


def seed_enron(server: Dovecot, user: str, shared: Path, enron_user: str, limit: int | None = None,
               folders: Iterable[str] | None = None) -> dict[str, int]:
    """Seed every folder of an Enron user (``inbox`` -> INBOX, ``sent`` -> Sent, ``deleted_items`` -> Trash;
    sub-folders such as ``inbox/master_netting`` -> ``INBOX/master_netting``)."""
    root = shared / "enron" / enron_user / "maildir"
    counts = {}
    for d in sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()):
        if folders is not None and d not in folders:
            continue
        top, _, rest = d.partition("/")
        target = ENRON_FOLDERS.get(top, top) + (f"/{rest}" if rest else "")
        msgs = enron_folder(shared, enron_user, d, limit)
        if msgs:
            counts[target] = server.seed(user, target, msgs)
    return counts


def _header_date(raw: bytes) -> datetime:
    head = raw.split(b"\n\n", 1)[0].decode("latin-1")
    for line in head.splitlines():
        if line.lower().startswith("date:"):
            try:
                dt = email.utils.parsedate_to_datetime(line[5:].strip().replace(" (PST)", "").replace(" (PDT)", ""))
                return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
            except (TypeError, ValueError):
                break
    return datetime(2001, 1, 1, tzinfo=timezone.utc)


def _flags_for(i: int) -> str:
    if i % 11 == 0:
        return "RS"
    if i % 7 == 0:
        return "FS"
    if i % 3 == 0:
        return ""
    return "S"


# -- a TCP proxy that can cut or stall a connection ---------------------------------------------------------

class CutProxy:
    """Forward 127.0.0.1:<port> to a server; cut (or stall) chosen connections after N bytes from the server.

    ``cut_after``: bytes from the server after which a connection is closed abruptly; ``connections``: which
    connections (0-based, in accept order) are cut (None = every one); ``stall``: stop forwarding instead
    of closing, so the client times out; ``delay``: seconds to sleep per forwarded chunk (a slow link).
    Attributes may be changed while the proxy runs (they apply to connections accepted afterwards).
    """

    def __init__(self, upstream_port: int, *, cut_after: int | None = None, connections: Iterable[int] | None = (0,),
                 stall: bool = False, delay: float = 0.0):
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.connections = None if connections is None else set(connections)
        self.stall = stall
        self.delay = delay
        self.accepted = 0
        self.cuts = 0
        self.bytes_from_server = 0
        self._lsock = socket.socket()
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", 0))
        self._lsock.listen(16)
        self.port = self._lsock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept_thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> CutProxy:
        self._accept_thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        try:
            self._lsock.close()
        except OSError:
            pass
        for t in self._threads:
            t.join(5)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self._lsock.settimeout(0.2)
                client, _ = self._lsock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            index = self.accepted
            self.accepted += 1
            t = threading.Thread(target=self._pump, args=(client, index), daemon=True)
            self._threads.append(t)
            t.start()

    def _pump(self, client: socket.socket, index: int) -> None:
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        cut = self.cut_after is not None and (self.connections is None or index in self.connections)
        from_server = 0
        stalled = False
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, server], [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is server:
                        if stalled:
                            continue
                        if cut and from_server + len(data) > self.cut_after:
                            keep = self.cut_after - from_server
                            client.sendall(data[:keep])
                            self.cuts += 1
                            if self.stall:
                                stalled = True
                                continue
                            return
                        from_server += len(data)
                        self.bytes_from_server += len(data)
                        if self.delay:
                            time.sleep(self.delay)
                        client.sendall(data)
                    else:
                        server.sendall(data)
        except OSError:
            return
        finally:
            for s in (client, server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


# -- fixtures -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dovecot():
    """A Dovecot for the whole session (plain+STARTTLS on ``imap_port``, IMAPS on ``imaps_port``)."""
    from tests.conftest import unavailable

    if Dovecot.binary() is None:
        unavailable("dovecot is not installed (apt-get install dovecot-imapd dovecot-core)")
    if shutil.which("openssl") is None:
        unavailable("openssl is not installed (apt-get install openssl)")
    server = Dovecot()
    try:
        server.start()
    except (RuntimeError, FileNotFoundError, subprocess.CalledProcessError) as exc:
        server.stop()
        unavailable(f"cannot start dovecot: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_user(dovecot) -> str:
    """A fresh user with an empty mailbox (the static passdb takes any name with ``PASSWORD``)."""
    return dovecot.new_user()
