"""Phone call logs (`inboxrel import-calls`): Android SMS Backup & Restore XML, the iPhone/macOS call history
table exported as CSV, an Excel "Unicode Text" (UTF-16, tabs) export, bad rows, re-imports, short calls.

The fixture files in tests/fixtures/calls/ are written in each exporter's real format:

- ``calls-20240525.xml``: SMS Backup & Restore 10.x (``<calls><call number duration date type .../>``; ``date``
  in ms since 1970, ``type`` 1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked), with a row
  whose date is text (line 9) and one with an unknown type (line 11);
- ``calls-short.xml``: the same backup holding one 10-second call;
- ``CallHistory.csv``: ``sqlite3 -header -csv CallHistory.storedata "SELECT * FROM ZCALLRECORD"`` (ZDATE in
  seconds since 2001-01-01, ZCALLTYPE 8 = FaceTime video), with a row without ZDATE (line 5);
- ``calls-excel-utf16.txt``: UTF-16 LE with a BOM, tab-separated, day-first and written dates, with a
  duration of "ten minutes" (line 5).

Alice's signature number is +1 713 853 3907 and Bob's +1 212 504 6918 (from tests/fixtures/signals/mail).
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert, select

from inboxrel.db import open_store
from inboxrel.models import addresses, interactions, phone_numbers
from tests.conftest import FIXTURES
from tests.test_signals_store import _import, evidence, run

CALLS = FIXTURES / "calls"


def calls(db_url) -> list[tuple]:
    return [(r[0], r[1], r[2], r[3]) for r in evidence(db_url) if r[4] == "calllog"]


def notes(db_url) -> list[str]:
    engine = open_store(db_url)
    with engine.connect() as conn:
        out = [r.note for r in conn.execute(select(interactions.c.note).where(interactions.c.source == "calllog")
                                            .order_by(interactions.c.at))]
    engine.dispose()
    return out


def conversation(db_url, person) -> dict:
    res = run(db_url, "explain", person, "--format", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.output)["conversation"]


def D(*a):
    return datetime(*a)


def test_android_backup(db_url):
    _import(db_url)
    for _ in range(2):  # the second import adds nothing
        res = run(db_url, "import-calls", str(CALLS / "calls-20240525.xml"), "--format", "json")
        assert res.exit_code == 0, res.output
        out = json.loads(res.output)
        assert calls(db_url) == [
            ("alice@alpha.example", "past", "phone", D(2024, 5, 20, 14, 0)),
            ("alice@alpha.example", "attempt", "phone", D(2024, 5, 23, 16, 0)),  # voicemail
            ("bob@beta.example", "attempt", "phone", D(2024, 5, 21, 9, 0)),  # 10 s: too short
            ("bob@beta.example", "attempt", "phone", D(2024, 5, 22, 10, 0)),  # missed
        ]
    assert (out["format"], out["encoding"], out["calls"], out["matched"], out["conversations"], out["attempts"],
            out["unmatched"], out["skipped"]) == ("android-xml", "utf-8", 5, 4, 1, 3, 1, 2)
    assert out["problems"] == [{"line": 9, "reason": "date 'yesterday' is not a time in milliseconds"},
                               {"line": 11, "reason": "call type '9' is unknown (1-7 expected)"}]
    assert notes(db_url) == ["outgoing, 1200 s", "incoming, 10 s (shorter than 60 s)", "missed", "voicemail, 25 s"]


def test_a_twenty_minute_call_resets_the_cadence_and_ten_seconds_do_not(db_url):
    _import(db_url)
    before = conversation(db_url, "alice@alpha.example")
    assert before["last_at"] < "2024-05-20"  # from the mail: before the calls
    res = run(db_url, "import-calls", str(CALLS / "calls-short.xml"))
    assert res.exit_code == 0, res.output
    assert "0 conversations, 1 attempts" in res.output
    assert conversation(db_url, "alice@alpha.example")["last_at"] == before["last_at"]
    res = run(db_url, "import-calls", str(CALLS / "calls-20240525.xml"))
    assert res.exit_code == 0, res.output
    after = conversation(db_url, "alice@alpha.example")
    assert (after["last_at"], after["medium"], after["days_since"]) == ("2024-05-20T14:00:00+00:00", "phone", 4)


def test_minimum_duration_is_configurable_and_a_changed_kind_is_not_doubled(db_url, tmp_path):
    _import(db_url)
    res = run(db_url, "import-calls", str(CALLS / "calls-short.xml"), "--min-seconds", "5")
    assert res.exit_code == 0, res.output
    assert calls(db_url) == [("alice@alpha.example", "past", "phone", D(2024, 5, 20, 14, 0))]
    config = tmp_path / "config.toml"
    config.write_text("call_min_seconds = 30\n")
    res = run(db_url, "import-calls", str(CALLS / "calls-short.xml"), config=config)
    assert res.exit_code == 0, res.output
    assert calls(db_url) == [("alice@alpha.example", "attempt", "phone", D(2024, 5, 20, 14, 0))]


def test_iphone_call_history(db_url):
    _import(db_url)
    res = run(db_url, "import-calls", str(CALLS / "CallHistory.csv"), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["format"], out["calls"], out["conversations"], out["attempts"]) == ("iphone-callhistory-csv", 3, 2, 1)
    assert out["problems"] == [{"line": 5, "reason": "no date"}]
    assert calls(db_url) == [
        ("alice@alpha.example", "past", "phone", D(2024, 5, 20, 14, 0)),
        ("bob@beta.example", "attempt", "phone", D(2024, 5, 21, 9, 0)),  # ZANSWERED 0, not originated: missed
        ("dan@delta.example", "past", "video", D(2024, 5, 21, 14, 0)),  # FaceTime video, by Apple ID
    ]


def test_utf16_excel_export_with_detected_columns(db_url):
    _import(db_url)
    res = run(db_url, "import-calls", str(CALLS / "calls-excel-utf16.txt"), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["format"], out["encoding"], out["calls"], out["skipped"]) == ("csv", "utf-16", 3, 1)
    assert out["problems"] == [{"line": 5, "reason": "duration 'ten minutes' is not seconds, MM:SS or H:MM:SS"}]
    assert calls(db_url) == [
        ("alice@alpha.example", "past", "phone", D(2024, 5, 20, 14, 0)),
        ("bob@beta.example", "attempt", "phone", D(2024, 5, 21, 9, 0)),  # 21/05/2024, 0:10
        ("bob@beta.example", "attempt", "phone", D(2024, 5, 22, 10, 0)),  # "May 22, 2024 at 10:00 AM", missed
    ]
    # the same calls from three phones' exports are one row each
    for name in ("calls-20240525.xml", "CallHistory.csv"):
        assert run(db_url, "import-calls", str(CALLS / name)).exit_code == 0
    assert len([c for c in calls(db_url) if c[3] == D(2024, 5, 20, 14, 0)]) == 1


def test_utf16_without_bom_and_semicolons(db_url, tmp_path):
    _import(db_url)
    text = "Date;Phone;Type;Duration\r\n2024-05-20T14:00:00Z;713-853-3907;outgoing;1:05\r\n"
    f = tmp_path / "calls.csv"
    f.write_bytes(text.encode("utf-16-be"))
    res = run(db_url, "import-calls", str(f), "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["encoding"] == "utf-16-be"
    assert calls(db_url) == [("alice@alpha.example", "past", "phone", D(2024, 5, 20, 14, 0))]


def test_contact_numbers_win_over_signature_numbers(db_url):
    _import(db_url)
    engine = open_store(db_url)
    with engine.begin() as conn:  # Bob signs with +12125046918, but Dan's contact card holds it
        dan = conn.execute(select(addresses.c.person_id).where(addresses.c.email == "dan@delta.example")).scalar()
        conn.execute(insert(phone_numbers).values(person_id=dan, e164="+12125046918", raw="212 504 6918",
                                                  label="work", message_id=None))
    engine.dispose()
    res = run(db_url, "import-calls", str(CALLS / "calls-20240525.xml"))
    assert res.exit_code == 0, res.output
    assert [c[0] for c in calls(db_url) if c[3].day in (21, 22)] == ["dan@delta.example", "dan@delta.example"]


def test_bad_files_are_one_line_errors(sqlite_url, tmp_path):
    _import(sqlite_url)
    cases = {
        "other.xml": (b"<?xml version='1.0'?><smses count='0'></smses>", "is XML but not a call log"),
        "empty.csv": (b"\xef\xbb\xbf\r\n", "is empty"),
        "nocols.csv": (b"when,who\n2024-05-01,Alice\n", "needs a date column and a number or address column"),
        "bomb.xml": (b"<?xml version='1.0'?><!DOCTYPE calls [<!ENTITY a 'aaaa'>]><calls>&a;</calls>",
                     "declares a DOCTYPE"),
        "junk.xml": (b"<calls <<<", "is not readable XML"),
    }
    for name, (data, words) in cases.items():
        f = tmp_path / name
        f.write_bytes(data)
        res = run(sqlite_url, "import-calls", str(f))
        assert res.exit_code == 2, (name, res.output)
        assert words in res.output and "Traceback" not in res.output, (name, res.output)
        assert len(res.output.strip().splitlines()) == 1, res.output


def test_a_backup_cut_short_keeps_the_calls_before_the_break(sqlite_url, tmp_path):
    _import(sqlite_url)
    text = (CALLS / "calls-20240525.xml").read_text()
    f = tmp_path / "calls-cut.xml"
    f.write_text(text[:text.index("<call number=\"+442079460000\"") + 40])  # copied while being written
    res = run(sqlite_url, "import-calls", str(f), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["calls"], out["skipped"]) == (3, 1)
    assert "the XML breaks off here" in out["problems"][0]["reason"]
    assert len(calls(sqlite_url)) == 3
