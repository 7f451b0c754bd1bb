"""The write lock is on the store itself: another spelling of the same store never lets a second writer in.

SQLite: the lock file sits next to the file's real path (symlinks and relative paths resolved).
PostgreSQL: an advisory lock held in the database for the run, so two URLs to one database (and writers on
different machines) exclude each other. Tested on the real PostgreSQL the session starts.
"""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.db import open_store, store_lock
from inboxrel.errors import LockedError
from tests.conftest import ROOT


def _refused(first: str, second: str, tmp_path) -> None:
    with store_lock(first, tmp_path):
        with pytest.raises(LockedError, match="another inboxrel run"):
            with store_lock(second, tmp_path):
                pass
    with store_lock(second, tmp_path):  # released with the first run
        pass


def test_a_symlink_to_the_store_takes_the_same_lock(tmp_path):
    real = tmp_path / "data" / "store.db"
    open_store(f"sqlite:///{real}").dispose()
    link_dir = tmp_path / "elsewhere"
    link_dir.mkdir()
    (link_dir / "link.db").symlink_to(real)
    (tmp_path / "dirlink").symlink_to(tmp_path / "data")
    _refused(f"sqlite:///{real}", f"sqlite:///{link_dir / 'link.db'}", tmp_path)
    _refused(f"sqlite:///{tmp_path / 'dirlink' / 'store.db'}", f"sqlite:///{real}", tmp_path)
    assert not (link_dir / "link.db.lock").exists()


def test_relative_and_absolute_paths_take_the_same_lock(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    open_store(f"sqlite:///{tmp_path / 'store.db'}").dispose()
    _refused("sqlite:///../store.db", f"sqlite:///{tmp_path / 'store.db'}", tmp_path)
    _refused(f"sqlite:///{tmp_path}/sub/../store.db", "sqlite:///../store.db", tmp_path)


def test_a_writer_in_another_process_is_refused_with_exit_75(tmp_path):
    """A real second process (the CLI) against a lock held here, reaching the store through a symlink."""
    real = tmp_path / "store.db"
    open_store(f"sqlite:///{real}").dispose()
    (tmp_path / "link.db").symlink_to(real)
    with store_lock(f"sqlite:///{real}", tmp_path):
        proc = subprocess.run([sys.executable, "-m", "inboxrel", "--db", str(tmp_path / "link.db"),
                               "log", "call", "alice@example.com"],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 75, proc.stderr
    assert proc.stderr.count("\n") == 1 and "another inboxrel run" in proc.stderr


def _pg_variants(pg_url: str) -> list[str]:
    """The same database through 127.0.0.1, localhost and the server's Unix socket."""
    parts = urlsplit(pg_url)
    port, db = parts.port, parts.path
    from tests import conftest

    variants = [pg_url, f"postgresql+psycopg://postgres@localhost:{port}{db}"]
    socket_dir = getattr(conftest, "PG_SOCKET_DIR", None)
    if socket_dir:
        variants.append(f"postgresql+psycopg://postgres@/{db.lstrip('/')}?host={socket_dir}&port={port}")
    return variants


@pytest.mark.postgres
def test_two_urls_to_one_postgresql_exclude_each_other(pg_url, tmp_path):
    open_store(pg_url).dispose()
    variants = _pg_variants(pg_url)
    for a in variants:
        for b in variants:
            _refused(a, b, tmp_path)


@pytest.mark.postgres
def test_the_postgresql_lock_is_per_database(pg_url, postgres_server, tmp_path):
    import uuid

    import psycopg

    other = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {other}")
    with store_lock(pg_url, tmp_path), store_lock(f"{postgres_server}/{other}", tmp_path):
        pass


@pytest.mark.postgres
def test_a_killed_postgresql_writer_releases_the_lock(pg_url, tmp_path):
    """The lock lives in the writer's session: when the process dies, the server drops it."""
    open_store(pg_url).dispose()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom inboxrel.db import store_lock\n"
         f"with store_lock({pg_url!r}):\n    print('held', flush=True)\n    time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = CliRunner().invoke(cli, ["--db", pg_url.replace("127.0.0.1", "localhost"), "log", "call",
                                          "nobody@example.com"])
        assert result.exit_code == 75, result.output
    finally:
        holder.kill()
        holder.wait()
    import time

    deadline = time.monotonic() + 10
    while True:
        try:
            with store_lock(pg_url, tmp_path):
                break
        except LockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
