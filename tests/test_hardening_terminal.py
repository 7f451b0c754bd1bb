"""What reaches the terminal: a hostile display name or subject (escape sequences that retitle the window or
clear the screen, C1 controls, right-to-left overrides) is stripped from every command's output, kept
escaped in JSON, and a huge value is cut for display."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.report.render import display, render_json, terminal_safe

NOW = datetime(2026, 11, 16, 12, tzinfo=timezone.utc)
EVIL_NAME = "\x1b]0;pwned\x07Eve \u202eevil\x1b[2J\x9b31m Mallory"
EVIL_SUBJECT = "Budget \x1b[2J\x1b[H\u2066review\u2069 \u202egnp.exe" + " long" * 4000
FORBIDDEN = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u2069", "\x00"]


def _message(i: int, sent: bool) -> bytes:
    when = NOW - timedelta(days=20 + 2 * i)
    evil = f"{Header(EVIL_NAME, 'utf-8').encode()} <eve@evil.example>"
    me = "Sam <sam@example.com>"
    head = [
        f"From: {me if sent else evil}",
        f"To: {evil if sent else me}",
        f"Subject: {Header(EVIL_SUBJECT if i == 0 else f'Budget {i}', 'utf-8').encode()}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: <m{i}-{int(sent)}@evil.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    return ("\r\n".join(head) + "\r\n\r\nHello \x1b[31mthere\x1b[0m, let's talk.\r\n").encode()


@pytest.fixture
def store(tmp_path) -> str:
    root = tmp_path / "Maildir"
    for folder, sent in (("INBOX", False), ("Sent", True)):
        base = root if folder == "INBOX" else root / ".Sent"
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        for i in range(6):
            (base / "cur" / f"{1700000000 + i}.m{i}{folder}:2,S").write_bytes(_message(i, sent))
    db = f"sqlite:///{tmp_path / 's.db'}"
    result = CliRunner().invoke(cli, ["--db", db, "--now", NOW.isoformat(), "import", str(root),
                                      "--me", "sam@example.com", "--no-signals"])
    assert result.exit_code == 0, result.output
    return db


def _run(db, *args):
    result = CliRunner().invoke(cli, ["--db", db, "--now", NOW.isoformat(), *args])
    assert result.exit_code == 0, (args, result.output)
    return result.output


@pytest.mark.parametrize("args", [
    ["people"], ["people", "--format", "csv"], ["threads"], ["suggest"], ["suggest", "--format", "markdown"],
    ["report"], ["report", "--format", "markdown"], ["explain", "eve@evil.example"],
    ["person", "eve@evil.example"],
])
def test_no_control_or_bidi_character_reaches_the_terminal(store, args):
    out = _run(store, *args)
    assert "eve@evil.example" in out or "Mallory" in out or "Budget" in out, out[:500]
    for ch in FORBIDDEN:
        assert ch not in out, (args, repr(ch))
    if "csv" not in args:
        # the 20,000-character subject is cut to DISPLAY_MAX (a markdown row holds several cells)
        assert max(len(line) for line in out.splitlines()) < 1000, "a huge subject must be cut for display"


@pytest.mark.parametrize("args", [["people", "--format", "json"], ["threads", "--format", "json"],
                                  ["person", "eve@evil.example", "--format", "json"]])
def test_json_keeps_the_characters_escaped(store, args):
    out = _run(store, *args)
    for ch in FORBIDDEN:
        assert ch not in out
    assert "\\u001b" in out and "\\u202e" in out
    assert any(s.startswith("\x1b]0;pwned") for s in _strings(json.loads(out)))  # whole values: JSON is data


def _strings(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for v in data.values():
            yield from _strings(v)
    elif isinstance(data, list):
        for v in data:
            yield from _strings(v)


def test_display_helpers():
    assert display("a\tb\nc\x1b[2Jd\u202ee") == "a b c[2Jde"
    assert display("x" * 1000, 10) == "x" * 9 + "\u2026"
    assert terminal_safe("one\r\ntwo\rthree\x1b\n") == "one\r\ntwothree\n"
    assert render_json({"s": "\u202e\x9b\x1b"}) == '{\n  "s": "\\u202e\\u009b\\u001b"\n}'


def test_the_html_report_cuts_huge_values(store, tmp_path):
    out = tmp_path / "r.html"
    _run(store, "report", "--format", "html", "--output", str(out))
    page = out.read_text(encoding="utf-8")
    assert "Budget" in page
    assert " long" * 400 not in page and len(page) < 500_000
    for ch in FORBIDDEN:
        assert ch not in page
