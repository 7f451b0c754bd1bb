"""Paths and URLs: only commands that write mail create a store; --db is taken as users write it; a file
that is not mail is an error; pipes and devices in a mail folder are skipped, never read; a refused demo
writes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.db import open_store, store_lock
from tests.conftest import FIXTURES, ROOT

SMALL = FIXTURES / "mail" / "small"


def run(*args):
    return CliRunner().invoke(cli, ["--now", "2002-01-05", *args])


@pytest.mark.parametrize("args", [
    ["people"], ["stats"], ["suggest"], ["report"], ["threads"], ["quarantine"], ["person", "alice"],
    ["explain", "alice"], ["log", "call", "alice@example.org"], ["snooze", "alice@example.org"],
    ["ignore", "@example.com"], ["circle", "list"], ["account", "show"], ["rules"],
])
def test_a_misspelt_db_is_never_created(tmp_path, args):
    db = tmp_path / "no-such-dir" / "stroe.db"
    result = run("--db", str(db), *args)
    if args == ["rules"]:  # reads no store at all
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 2, (args, result.output)
        assert result.output.count("\n") == 1 and "no inboxrel store at" in result.output, result.output
        assert "Traceback" not in result.output
    assert not db.parent.exists()


def test_an_existing_empty_file_is_not_taken_for_a_store(tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    result = run("--db", str(db), "people")
    assert result.exit_code == 2 and "no inboxrel store" in result.output
    assert db.stat().st_size == 0


def test_a_plain_path_and_a_sqlite_url_are_the_same_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("--db", "mail.db", "import", str(SMALL), "--me", "alice@example.org").exit_code == 0
    for spelling in ("mail.db", str(tmp_path / "mail.db"), f"sqlite:///{tmp_path / 'mail.db'}", "./mail.db"):
        result = run("--db", spelling, "stats", "--format", "json")
        assert result.exit_code == 0 and '"messages": 9' in result.output, (spelling, result.output)


def test_tilde_in_db_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert run("--db", "~/m.db", "import", str(SMALL)).exit_code == 0
    assert (tmp_path / "m.db").is_file()


@pytest.mark.postgres
def test_a_postgres_url_as_users_write_it(pg_url):
    plain = pg_url.replace("postgresql+psycopg://", "postgres://")
    assert run("--db", plain, "import", str(SMALL), "--me", "alice@example.org").exit_code == 0
    result = run("--db", pg_url.replace("postgresql+psycopg://", "postgresql://"), "stats", "--format", "json")
    assert result.exit_code == 0 and '"messages": 9' in result.output, result.output


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/hostname", "/dev/null"])
def test_a_file_that_is_not_mail_is_an_error_and_creates_nothing(tmp_path, target):
    if not os.path.exists(target):
        pytest.skip(f"{target} is not on this machine")
    db = tmp_path / "s.db"
    result = run("--db", str(db), "import", target)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and target in result.output
    assert not db.exists()


def _import_with_timeout(db, path, timeout=60):
    return subprocess.run([sys.executable, "-m", "inboxrel", "--db", str(db), "import", str(path),
                           "--no-signals", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def test_pipes_and_devices_in_mail_folders_are_skipped(tmp_path):
    """A FIFO would block a plain open() until a writer came, /dev/zero would never end: both are skipped."""
    maildir = tmp_path / "Maildir"
    shutil.copytree(SMALL, maildir)
    cur = next(p for p in maildir.rglob("cur") if p.is_dir())
    os.mkfifo(cur / "1700000000.fifo:2,S")
    (cur / "1700000001.zero:2,S").symlink_to("/dev/zero")
    files = tmp_path / "eml"
    files.mkdir()
    shutil.copy(next(p for p in SMALL.rglob("*") if p.is_file() and p.parent.name == "cur"), files / "1.eml")
    os.mkfifo(files / "2.eml")
    (files / "3.eml").symlink_to("/dev/zero")
    (files / "4.eml").symlink_to(tmp_path / "gone")  # dangling
    os.mkfifo(tmp_path / "lonely.mbox")

    proc = _import_with_timeout(tmp_path / "a.db", maildir)
    assert proc.returncode == 0, proc.stderr
    assert '"imported": 9' in proc.stdout and '"quarantined": 0' in proc.stdout, proc.stdout
    proc = _import_with_timeout(tmp_path / "b.db", files)
    assert proc.returncode == 0, proc.stderr
    assert '"imported": 1' in proc.stdout and '"quarantined": 0' in proc.stdout, proc.stdout
    proc = _import_with_timeout(tmp_path / "c.db", tmp_path / "lonely.mbox")
    assert proc.returncode == 2 and "neither a folder nor a regular file" in proc.stderr, proc.stderr


def test_a_refused_demo_writes_no_mailbox(tmp_path):
    db = tmp_path / "s.db"
    target = tmp_path / "demo-mail"
    open_store(f"sqlite:///{db}").dispose()
    with store_lock(f"sqlite:///{db}", tmp_path):
        result = run("--db", str(db), "demo", "--path", str(target))
    assert result.exit_code == 75, result.output
    assert not target.exists()

    engine = open_store(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    result = run("--db", str(db), "demo", "--path", str(target))
    assert result.exit_code == 65, result.output
    assert not target.exists()
