"""Test session: real SQLite files, a real PostgreSQL cluster started here, shared corpora, fixed clocks.

In CI (``CI=true``) a server or corpus that cannot be had is a failure, never a silent skip.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared" / "data"
CI = os.environ.get("CI", "").lower() == "true"

# The suite never touches the user's own data or config folders: platformdirs (XDG on Linux) and inboxrel's
# environment variables point into one temporary folder for the session, inherited by every subprocess.
USER_DIRS = Path(tempfile.mkdtemp(prefix="inboxrel-tests-home-"))
for _var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = str(USER_DIRS / _var.lower())
for _var in ("INBOXREL_DB", "INBOXREL_CONFIG"):
    os.environ.pop(_var, None)
atexit.register(shutil.rmtree, USER_DIRS, ignore_errors=True)
PG_SOCKET_DIR: str | None = None  # the session PostgreSQL's Unix socket folder, once started

pytest_plugins = ["tests.servers_imap", "tests.servers_browser", "tests.servers_dav"]


def unavailable(reason: str):
    """Fail in CI, skip on a developer machine."""
    if CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        unavailable(f"{SHARED} (the shared corpora) is missing")
    return SHARED


@pytest.fixture
def now() -> datetime:
    return datetime(2002, 1, 5, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


# -- PostgreSQL: a throwaway cluster for the session, a fresh database per test --------------------------

def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()])
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def postgres_server():
    """Start PostgreSQL on 127.0.0.1; yield the admin URL."""
    pgbin = _pg_bin()
    if pgbin is None:
        unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install 'psycopg[binary]')")
    base = Path(tempfile.mkdtemp(prefix="irpg"))
    base.chmod(0o755)
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    data = base / "data"
    subprocess.run(run_as + [str(pgbin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                             "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
                   check=True, capture_output=True)
    opts = (f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off")
    subprocess.run(run_as + [str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(base / "postgres.log"), "-w",
                             "-t", "30", "-o", opts, "start"], check=True, capture_output=True)
    global PG_SOCKET_DIR
    PG_SOCKET_DIR = str(base)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(run_as + [str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path) -> str:
    """Each test using this runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")
