"""One oversized or malformed message never costs a whole batch (issue 12 item 1).

A Maildir in tmp_path holds small messages that each give evidence ("Great talking yesterday." from a
correspondent to me) beside a 50 MB text body, a multipart nested 300 deep and random bytes labelled as
text. A real ``python -m inboxrel import`` child imports it: the small messages keep their evidence, the
stored bodies are capped (``body_max_bytes``, for local mail as for IMAP), peak RSS (VmHWM) stays under
300 MB and ``reanalyze --all`` exits 0. A message whose analysis fails loses only its own evidence.
"""

from __future__ import annotations

import random
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.signals import text as text_mod

ROOT = Path(__file__).resolve().parents[1]
N_SMALL = 30
HUGE_MB = 50
NOW = "2024-01-10"


def _put(box: Path, name: str, data: bytes) -> None:
    (box / "cur" / f"{name}:2,S").write_bytes(data)


def _small(i: int) -> bytes:
    return (f"From: Pat Friend{i} <pat{i}@example.org>\r\nTo: Me Person <me@example.com>\r\n"
            f"Subject: catch up {i}\r\nMessage-ID: <small{i}@example.org>\r\n"
            f"Date: Mon, 13 Nov 2023 10:{i % 60:02d}:00 +0000\r\n\r\nGreat talking yesterday.\r\n\r\nPat\r\n").encode()


def _hostile_maildir(root: Path, huge_mb: int = HUGE_MB) -> Path:
    box = root / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    for i in range(N_SMALL):
        _put(box, f"17000{i:05d}.small{i}.host", _small(i))
    line = b"All work and no play makes a very long message indeed, again and again and again.\r\n"
    _put(box, "1800000000.huge.host", b"From: Big Sender <big@example.org>\r\nTo: me@example.com\r\n"
         b"Subject: huge\r\nMessage-ID: <huge@example.org>\r\nDate: Mon, 13 Nov 2023 11:00:00 +0000\r\n"
         b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + line * (huge_mb * 1024 * 1024 // len(line)))
    depth = 300
    opening = "".join(f"--b{d}\r\nContent-Type: multipart/mixed; boundary=\"b{d + 1}\"\r\n\r\n" for d in range(depth))
    inner = f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nSee you at lunch tomorrow.\r\n--b{depth}--\r\n"
    closing = "".join(f"--b{d}--\r\n" for d in reversed(range(depth)))
    _put(box, "1800000001.nested.host", ("From: Deep Nest <deep@example.org>\r\nTo: me@example.com\r\n"
         "Subject: nested\r\nMessage-ID: <nested@example.org>\r\nDate: Mon, 13 Nov 2023 12:00:00 +0000\r\n"
         "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n"
         + opening + inner + closing).encode())
    rnd = random.Random(5)
    _put(box, "1800000002.binary.host", b"From: Bin Ary <bin@example.org>\r\nTo: me@example.com\r\n"
         b"Subject: binary\r\nMessage-ID: <binary@example.org>\r\nDate: Mon, 13 Nov 2023 13:00:00 +0000\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + rnd.randbytes(2_000_000))
    return box


def _run_measured(*args: str) -> tuple[int, str, int]:
    """Run ``python -m inboxrel ARGS`` as a child; (exit status, stdout + stderr, peak RSS in kB)."""
    proc = subprocess.Popen([sys.executable, "-m", "inboxrel", "--now", NOW, *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0
    out = b""
    try:
        while proc.poll() is None:
            try:
                m = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{proc.pid}/status").read_text())
                peak = max(peak, int(m.group(1))) if m else peak
            except OSError:
                pass
            time.sleep(0.01)
        out = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return proc.returncode, out.decode(errors="replace"), peak


def _evidence_of_small(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute(
            "SELECT DISTINCT m.message_id FROM interactions i JOIN messages m ON m.id = i.message_id "
            "WHERE m.message_id LIKE '%small%'")}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak RSS from /proc (Linux)")
def test_a_hostile_maildir_imports_bounded_and_the_rest_keep_their_evidence(tmp_path):
    box = _hostile_maildir(tmp_path)
    db = tmp_path / "store.db"
    status, out, peak_kb = _run_measured("--db", str(db), "import", str(box), "--me", "me@example.com")
    assert status == 0, out
    assert "Traceback" not in out
    assert f"imported {N_SMALL + 3} messages" in out, out
    assert peak_kb < 300 * 1024, f"import peak RSS {peak_kb // 1024} MB"
    assert len(_evidence_of_small(db)) == N_SMALL  # every small message kept its evidence
    with sqlite3.connect(db) as conn:
        longest, = conn.execute("SELECT max(length(body_text)) FROM messages").fetchone()
        huge_size, huge_body = conn.execute(
            "SELECT size, length(body_text) FROM messages WHERE message_id LIKE '%huge%'").fetchone()
    assert longest <= 256 * 1024  # body_max_bytes, for a local import as for IMAP
    assert huge_body == 256 * 1024 and huge_size > HUGE_MB * 1000 * 1000  # capped; its size is the file's

    status, out, peak_kb = _run_measured("--db", str(db), "reanalyze", "--all")
    assert status == 0, out
    assert "Traceback" not in out and f"re-analysed {N_SMALL + 3} messages" in out, out
    assert peak_kb < 300 * 1024, f"reanalyze peak RSS {peak_kb // 1024} MB"
    assert len(_evidence_of_small(db)) == N_SMALL


def test_the_text_stages_read_a_bounded_prefix():
    far = "x" * 200 + "\n\nGreat talking yesterday.\n"
    text_mod.set_max_text_bytes(100)
    try:
        assert text_mod.text_prefix(far) == far[:100]
        cut = text_mod.text_signals([(far, None, None, "hi")])[0]
    finally:
        text_mod.set_max_text_bytes(None)
    assert cut.cues == [] and cut.error is None  # the cue lies past the prefix: never read
    assert text_mod.text_prefix(far) == far
    assert [c.kind for c in text_mod.text_signals([(far, None, None, "hi")])[0].cues]  # within the default


@pytest.fixture
def poisoned(monkeypatch):
    """The reply splitter fails on any body saying POISON (as a bug on one strange body would)."""
    real = text_mod.split_body

    def split(text):
        if "POISON" in (text or ""):
            raise ValueError("cannot split this body")
        return real(text)

    monkeypatch.setattr(text_mod, "split_body", split)


def test_one_failing_body_loses_only_its_own_signals(poisoned):
    items = [("Great talking yesterday.", None, None, "a"), ("POISON. Great talking yesterday.", None, None, "b"),
             ("Thanks for the call this morning.", None, None, "c")]
    found = text_mod.text_signals(items)
    assert found[0].cues and found[2].cues
    assert found[1].cues == [] and "cannot split this body" in found[1].error


def test_import_and_reanalyze_report_the_failed_message_and_keep_the_rest(poisoned, tmp_path):
    box = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    for i in range(5):
        _put(box, f"17000{i:05d}.small{i}.host", _small(i))
    _put(box, "1800000009.bad.host", _small(9).replace(b"Great talking", b"POISON. Great talking"))
    db = tmp_path / "store.db"
    result = CliRunner().invoke(cli, ["--now", NOW, "--db", str(db), "import", str(box), "--me", "me@example.com"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "1 messages gave no evidence" in result.output and "cannot split this body" in result.output
    assert _evidence_of_small(db) == {f"small{i}@example.org" for i in range(5)}

    result = CliRunner().invoke(cli, ["--now", NOW, "--db", str(db), "reanalyze", "--all"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "1 gave no evidence" in result.output and "Traceback" not in result.output
    assert _evidence_of_small(db) == {f"small{i}@example.org" for i in range(5)}
