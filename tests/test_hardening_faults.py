"""Faults of the machine: a full disk, a read-only filesystem, a damaged, truncated or incomplete store and
dates beyond the calendar each give one line and a documented exit status, and leave nothing false behind.

The full disk and the read-only filesystem are real: a small tmpfs mounted for the test (root only).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from tests.conftest import FIXTURES, unavailable

NOW = "2026-11-16"


def run(*args):
    return CliRunner().invoke(cli, ["--now", NOW, *args])


def _one_line(result, status: int, needle: str) -> None:
    assert result.exit_code == status, (result.exit_code, result.output, result.exception)
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    assert needle in result.output, result.output
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def demo_mail(tmp_path_factory) -> Path:
    from inboxrel.demo import generate_demo

    target = tmp_path_factory.mktemp("demo") / "mail"
    generate_demo(target, seed=7)
    return target


@pytest.fixture(scope="module")
def clean_store(demo_mail, tmp_path_factory) -> Path:
    """The demo mailbox imported on a healthy disk: what every run must end up with."""
    db = tmp_path_factory.mktemp("clean") / "s.db"
    result = run("--db", str(db), "import", str(demo_mail), "--no-signals", "--me", "sam.rivera@northwind.example")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:  # everything into the main file, so a copy of it is the whole store
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _counts(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("messages", "quarantine", "people", "threads", "locations")}


@pytest.fixture
def tmpfs(tmp_path):
    """Mount a small tmpfs; yield (path, remount) and unmount afterwards."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()

    def mount(opts: str) -> None:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mnt)], capture_output=True, text=True)
        if proc.returncode != 0:
            unavailable(f"cannot mount a tmpfs for the disk tests (needs root): {proc.stderr.strip()}")

    def remount(opts: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{opts}", str(mnt)], check=True, capture_output=True)

    if shutil.which("mount") is None:
        unavailable("no mount command")
    try:
        yield mnt, mount, remount
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_is_one_line_and_leaves_no_false_quarantine(tmpfs, demo_mail, clean_store):
    mnt, mount, remount = tmpfs
    mount("size=3m")
    db = mnt / "s.db"
    result = run("--db", str(db), "import", str(demo_mail), "--no-signals", "--me", "sam.rivera@northwind.example")
    _one_line(result, 74, "is full")
    remount("size=64m")
    partial = _counts(db)
    assert partial["quarantine"] == 0, "a write error is not a message's fault"
    assert 0 < partial["messages"] < _counts(clean_store)["messages"]
    # with space again, the next run adds exactly what is missing
    result = run("--db", str(db), "import", str(demo_mail), "--no-signals", "--me", "sam.rivera@northwind.example")
    assert result.exit_code == 0, result.output
    assert _counts(db) == _counts(clean_store)
    assert json.loads(run("--db", str(db), "stats", "--format", "json").output)["messages"] == \
        json.loads(run("--db", str(clean_store), "stats", "--format", "json").output)["messages"]


def test_a_full_disk_for_the_demo_mailbox_is_one_line(tmpfs, tmp_path):
    mnt, mount, _ = tmpfs
    mount("size=1m")
    result = run("--db", str(tmp_path / "s.db"), "demo", "--path", str(mnt / "demo-mail"))
    _one_line(result, 74, "full")


def test_a_read_only_filesystem_is_one_line(tmpfs, clean_store):
    mnt, mount, remount = tmpfs
    mount("size=64m")
    shutil.copy(clean_store, mnt / "s.db")
    remount("ro")
    for args in (["log", "call", "dana.okafor@northwind.example"], ["suggest"], ["people"],
                 ["snooze", "dana.okafor@northwind.example"]):
        _one_line(run("--db", str(mnt / "s.db"), *args), 74, "read-only filesystem")
    _one_line(run("--db", str(mnt / "new.db"), "import", str(FIXTURES / "mail" / "small")), 74,
              "read-only filesystem")


@pytest.fixture
def store_copy(clean_store, tmp_path) -> Path:
    db = tmp_path / "s.db"
    shutil.copy(clean_store, db)
    return db


def test_a_corrupted_store_is_one_line(store_copy):
    with open(store_copy, "r+b") as fh:
        fh.seek(store_copy.stat().st_size // 3)
        fh.write(b"\xff" * (store_copy.stat().st_size // 3))
    # SQLite finds damage in the pages a command reads: the call list and the people table read them all
    for args in (["suggest"], ["people"], ["report"]):
        _one_line(run("--db", str(store_copy), *args), 65, "is damaged")


def test_a_truncated_store_is_one_line(store_copy):
    with open(store_copy, "r+b") as fh:
        fh.truncate(store_copy.stat().st_size // 2)
    for args in (["people"], ["report"], ["stats"], ["log", "call", "dana.okafor@northwind.example"]):
        _one_line(run("--db", str(store_copy), *args), 65, "is truncated")


def test_a_file_that_is_not_a_store_is_never_touched(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_text("my notes, not a database\n" * 100)
    before = junk.read_bytes()
    _one_line(run("--db", str(junk), "people"), 65, "not an SQLite database")
    _one_line(run("--db", str(junk), "import", str(FIXTURES / "mail" / "small")), 65, "not an SQLite database")
    assert junk.read_bytes() == before


@pytest.mark.parametrize("table, commands", [
    ("people", [["suggest"], ["people"], ["report"], ["log", "call", "dana.okafor@northwind.example"]]),
    ("messages", [["suggest"], ["people"], ["report"], ["stats"]]),
    ("summary_state", [["suggest"], ["report"]]),  # only the commands that read it notice
])
def test_a_dropped_table_is_one_line(store_copy, table, commands):
    with sqlite3.connect(store_copy) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(f"DROP TABLE {table}")
    for args in commands:
        _one_line(run("--db", str(store_copy), *args), 65, "is damaged")


@pytest.mark.parametrize("now", ["0001-01-01", "9999-12-31T23:59:59"])
@pytest.mark.parametrize("args", [["suggest"], ["people"], ["report"], ["explain", "dana"], ["threads"],
                                  ["snooze", "dana.okafor@northwind.example"], ["stats"]])
def test_dates_beyond_the_calendar_are_one_line(store_copy, now, args):
    result = CliRunner().invoke(cli, ["--db", str(store_copy), "--now", now, *args])
    _one_line(result, 2, "give a date between 1971 and 9998")


def test_a_huge_duration_or_old_since_is_one_line(store_copy):
    _one_line(run("--db", str(store_copy), "snooze", "dana.okafor@northwind.example", "--days", "99999999999"), 2,
              "")
    result = run("--db", str(store_copy), "report", "--since", "0001-01-01")
    assert result.exit_code in (0, 2) and "Traceback" not in result.output, result.output
