"""Workers die with their parent: after ``kill -9`` of a real ``inboxrel import`` its parse workers exit
within seconds instead of lingering (each holds about 130 MB once spaCy is loaded).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inboxrel.pipelines import importer, workers

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")


def _maildir(root: Path, n: int) -> Path:
    box = root / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    for i in range(n):
        (box / "cur" / f"{1_700_000_000 + i}.{i}.host:2,S").write_text(
            f"From: Friend {i % 50} <friend{i % 50}@example.org>\nTo: Me <me@example.com>\n"
            f"Subject: note {i}\nMessage-ID: <m{i}@example.org>\nDate: Mon, 13 Nov 2023 10:{i % 60:02d}:00 +0000\n\n"
            f"Great talking yesterday. Shall we meet on Friday at 3pm about item {i}?\n")
    return box


def _children(pid: int) -> set[int]:
    """Direct children of ``pid``: the kernel's list per thread, else a scan of every process's PPid."""
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                found |= {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                pass
    except OSError:
        pass
    if found:
        return found
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                status = (proc / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.add(int(proc.name))
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, dead but not yet reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def test_kill_9_of_import_takes_its_parse_workers_with_it(tmp_path):
    box = _maildir(tmp_path, importer.POOL_MIN + 400)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inboxrel", "--db", str(tmp_path / "store.db"), "import", str(box),
         "--me", "me@example.com", "-q"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1])
    kids: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            kids = {k for k in _children(proc.pid) if _alive(k)}
            if len(kids) >= min(2, os.cpu_count() or 1):
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"the import ended before its workers could be seen: {proc.stderr.read()!r}"
        if (os.cpu_count() or 1) < 2:
            pytest.skip("one CPU: the import parses in-process, there are no workers")
        assert kids, "no parse workers started"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.05)
        left = [k for k in kids if _alive(k)]
        assert not left, f"workers {left} outlived their killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for k in kids:  # never leave a stray worker behind, whatever the outcome
            if not _alive(k):
                continue
            try:
                os.kill(k, signal.SIGKILL)
            except OSError:
                pass


def test_a_worker_whose_parent_is_already_gone_exits_at_once():
    """The parent may die between the fork and the signal being armed: the initializer checks for that."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the 'worker': its expected parent is a pid that is not its parent
        os.close(r)
        try:
            workers.die_with_parent(parent_pid=os.getppid() + 10_000_000)
            os.write(w, b"survived")
        finally:
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 100) == b""
    os.close(r)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1


def test_the_portable_watchdog_exits_when_the_parent_changes():
    """Where the parent-death signal is missing, the watchdog thread notices the parent has changed."""
    pid = os.fork()
    if pid == 0:
        try:
            workers._watch_parent(os.getppid() + 10_000_000, every=0.01)
        finally:
            os._exit(0)  # only reached if the watchdog returned instead of exiting
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 1
