"""Evidence in the store: cues, invitations and cancellations, signature numbers, call notices, logged and
imported calls, re-run idempotence and store_bodies = false. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import addresses, interactions, messages, people, phone_numbers
from tests.conftest import FIXTURES

MAIL = FIXTURES / "signals" / "mail"
NOW = "2024-05-25T12:00:00Z"


def run(db_url, *args, config=None, input=None):
    base = ["--db", db_url, "--now", NOW]
    if config:
        base += ["--config", str(config)]
    res = CliRunner().invoke(cli, base + list(args), input=input)
    return res


def evidence(db_url) -> list[tuple]:
    engine = open_store(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(addresses.c.email, interactions.c.kind, interactions.c.medium, interactions.c.at,
                   interactions.c.source, interactions.c.sentence)
            .select_from(interactions.join(people, people.c.id == interactions.c.person_id)
                         .join(addresses, addresses.c.id == people.c.primary_address_id))
            .order_by(interactions.c.source, addresses.c.email, interactions.c.at, interactions.c.kind,
                      interactions.c.message_id)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def numbers(db_url) -> list[tuple]:
    engine = open_store(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(addresses.c.email, phone_numbers.c.e164, phone_numbers.c.label)
                            .join(addresses, addresses.c.person_id == phone_numbers.c.person_id)
                            .order_by(phone_numbers.c.e164)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def D(*a):
    return datetime(*a)


EXPECTED_MAIL = [
    ("alice@alpha.example", "cancelled", "unspecified", D(2024, 6, 4, 15, 0), "calendar", "Quarterly review"),
    ("bob@beta.example", "cancelled", "unspecified", D(2024, 6, 4, 15, 0), "calendar", "Quarterly review"),
    ("alice@alpha.example", "past", "unspecified", D(2024, 5, 13, 17, 0), "message", "Great talking yesterday."),
    ("alice@alpha.example", "planned", "in_person", D(2024, 5, 17, 17, 0), "message", "Lunch on Friday at Luigi's?"),
    ("alice@alpha.example", "planned", "in_person", D(2024, 5, 17, 17, 0), "message", "Sounds good, see you Friday!"),
    ("alice@alpha.example", "attempt", "phone", D(2024, 5, 18, 18, 5), "message",
     "New voicemail from Alice Walker (713) 853-3907"),
]


def _import(db_url, config=None):
    res = run(db_url, "import", str(MAIL), "--me", "me@me.example", "--sent-folder", "sent", "-q", config=config)
    assert res.exit_code == 0, res.output


def test_mail_evidence_rows(db_url):
    _import(db_url)
    assert evidence(db_url) == EXPECTED_MAIL
    # the sender's signature number is Alice's; the number in the quoted block is Bob's, not Alice's
    assert numbers(db_url) == [("bob@beta.example", "+12125046918", "office"),
                               ("alice@alpha.example", "+17138533907", "mobile")]


def test_invitation_alone_is_a_planned_video_meeting(db_url, tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "1.eml").write_bytes((MAIL / "inbox" / "2.eml").read_bytes())
    res = run(db_url, "import", str(tmp_path), "--me", "me@me.example", "-q")
    assert res.exit_code == 0, res.output
    rows = [r for r in evidence(db_url) if r[4] == "calendar"]
    # Alice is an attendee but not yet a person in this store: evidence goes only to people we know
    assert rows == [("bob@beta.example", "planned", "video", D(2024, 6, 4, 15, 0), "calendar", "Quarterly review")]


def test_rerun_adds_nothing(db_url):
    _import(db_url)
    res = run(db_url, "reanalyze", "--all", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["messages"] == 8
    assert evidence(db_url) == EXPECTED_MAIL
    res = run(db_url, "reanalyze", "--format", "json")  # nothing left at an older version
    assert json.loads(res.output)["messages"] == 0
    assert len(numbers(db_url)) == 2


def test_store_bodies_false_keeps_only_evidence_sentences(db_url, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("store_bodies = false\n")
    _import(db_url, config)
    assert evidence(db_url) == EXPECTED_MAIL
    engine = open_store(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(messages.c.body_text).where(messages.c.body_text.is_not(None))).all() == []
        assert {r.analyzed_version for r in conn.execute(select(messages.c.analyzed_version))} == {1}
    engine.dispose()
    res = run(db_url, "reanalyze", "--all", config=config)
    assert res.exit_code == 2
    assert "were not kept (store_bodies = false)" in res.output


def test_logged_calls_and_ambiguous_people(db_url):
    _import(db_url)
    res = run(db_url, "log", "call", "alice@alpha.example", "--at", "2024-05-24T18:00:00Z", "--note", "pricing")
    assert res.exit_code == 0, res.output
    assert "logged past phone with Alice Walker" in res.output
    run(db_url, "log", "call", "alice@alpha.example", "--at", "2024-05-24T18:00:00Z", "--note", "pricing")
    res = run(db_url, "log", "meeting", "Bob", "--at", "2024-06-01T12:00:00Z", "--format", "json")
    assert json.loads(res.output)["kind"] == "planned"
    manual = [r for r in evidence(db_url) if r[4] == "manual"]
    assert manual == [("alice@alpha.example", "past", "phone", D(2024, 5, 24, 18, 0), "manual", None),
                      ("bob@beta.example", "planned", "in_person", D(2024, 6, 1, 12, 0), "manual", None)]
    res = run(db_url, "log", "video", "ali")  # Alice Walker and Alicia Keyes
    assert res.exit_code == 2
    assert "matches 2 people" in res.output and "alice@alpha.example" in res.output and "alicia@kappa.example" in res.output


def test_call_log_csv(db_url):
    _import(db_url)
    for _ in range(2):
        res = run(db_url, "import-calls", str(FIXTURES / "signals" / "calls.csv"), "--format", "json")
        assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["rows"], out["matched"], out["conversations"], out["attempts"], out["unmatched"]) == (4, 3, 2, 1, 1)
    calls = [r[:5] for r in evidence(db_url) if r[4] == "calllog"]
    assert calls == [("alice@alpha.example", "past", "phone", D(2024, 5, 21, 14, 30), "calllog"),
                     ("bob@beta.example", "attempt", "phone", D(2024, 5, 22, 14, 15), "calllog"),
                     ("dan@delta.example", "past", "phone", D(2024, 5, 23, 16, 0), "calllog")]
    bad = FIXTURES.parent / "fixtures" / "signals" / "export.ics"
    res = run(db_url, "import-calls", str(bad))
    assert res.exit_code == 2 and "needs a date column" in res.output


def test_calendar_export(db_url):
    _import(db_url)
    for _ in range(2):
        res = run(db_url, "import-calendar", str(FIXTURES / "signals" / "export.ics"), "--format", "json")
        assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"events": 3, "interactions": 2}
    cal = [r for r in evidence(db_url) if r[4] == "calendar" and r[5] != "Quarterly review"]
    assert cal == [("alice@alpha.example", "past", "in_person", D(2024, 5, 10, 23, 0), "calendar", "Dinner with Alice"),
                   ("dan@delta.example", "planned", "video", D(2024, 6, 12, 14, 0), "calendar", "Sync with Dan")]


@pytest.mark.corpus
def test_real_invitation_from_exchange(shared_data):
    from inboxrel.pipelines.parse import parse_message
    from inboxrel.signals.calendar import parse_calendar

    p = parse_message((shared_data / "parser-testmsgs" / "notmuch" / "attachment" / "text-calendar.eml").read_bytes())
    events = parse_calendar(p.calendars[0], now=datetime(2024, 6, 1, tzinfo=timezone.utc))
    assert [(e.method, e.organizer, e.attendees, e.summary, e.recurring) for e in events] == [
        ("REQUEST", "bremner@example.com", [("david@tethera.net", "NEEDS-ACTION")], "test [In-person]", True)]
    assert events[0].start == datetime(2024, 5, 31, 17, 0, tzinfo=timezone.utc)  # daily until Aug: last before now


@pytest.mark.corpus
def test_enron_signals_in_the_import(shared_data, tmp_path):
    db = f"sqlite:///{tmp_path / 's.db'}"
    res = CliRunner().invoke(cli, ["--db", db, "import", str(shared_data / "enron" / "heard-m" / "maildir"),
                                   "--account", "heard-m", "-q"])
    assert res.exit_code == 0, res.output
    engine = open_store(db)
    with engine.connect() as conn:
        kinds = {r[0] for r in conn.execute(select(interactions.c.kind))}
        sara = conn.execute(select(phone_numbers.c.e164).join(addresses, addresses.c.person_id == phone_numbers.c.person_id)
                            .where(addresses.c.email == "sara.shackleton@enron.com")).scalars().all()
        marie = conn.execute(select(phone_numbers.c.e164).join(people, people.c.id == phone_numbers.c.person_id)
                             .where(people.c.is_me.is_(True))).scalars().all()
    engine.dispose()
    assert {"past", "planned", "request"} <= kinds
    assert "+17138535620" in sara
    assert marie == []  # my own signature is not stored as a contact's number
