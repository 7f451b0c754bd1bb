"""Local import end to end on a small hand-written Maildir: dedup, quarantine, identity, threads, metrics."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from inboxrel.db import open_store
from inboxrel.models import folders, locations, messages, quarantine
from inboxrel.pipelines import importer
from inboxrel.pipelines.importer import import_path
from inboxrel.report.queries import people_rows, stats, thread_rows
from tests.conftest import FIXTURES

SMALL = FIXTURES / "mail" / "small"
ME = ["alice@example.org", "alice@home.example"]


def _import(url, now, **kw):
    engine = open_store(url)
    summary = import_path(engine, SMALL, now=now, account="alice", me=ME, **kw)
    return engine, summary


def test_counts_are_over_distinct_messages(db_url, now):
    engine, summary = _import(db_url, now)
    assert (summary.new, summary.duplicates, summary.quarantined) == (9, 2, 1)
    with engine.connect() as conn:
        s = stats(conn, now)
    assert {k: s[k] for k in ("messages", "sent", "received", "self", "people", "threads", "quarantined", "copies")} \
        == {"messages": 9, "sent": 3, "received": 5, "self": 1, "people": 4, "threads": 7, "quarantined": 1,
            "copies": 11}


def test_people_rows_merge_one_person_and_flag_machines(db_url, now):
    engine, _ = _import(db_url, now)
    with engine.connect() as conn:
        rows = {r["email"]: r for r in people_rows(conn, now)}
    assert set(rows) == {"bob@work.example", "carol@friends.example", "news@shop.example", "tracker@tracker.example"}
    bob = rows["bob@work.example"]
    assert {k: bob[k] for k in ("name", "emails", "sent", "received", "threads", "two_way_threads", "awaiting_me",
                                "awaiting_them", "automated", "first_at", "last_at", "last_sent_at",
                                "last_received_at")} == {
        "name": "Bob Stone", "emails": ["bob.stone@home.example", "bob@work.example"], "sent": 3, "received": 3,
        "threads": 4, "two_way_threads": 1, "awaiting_me": 2, "awaiting_them": 2, "automated": False,
        "first_at": "2001-12-01T17:00:00+00:00", "last_at": "2001-12-08T03:00:00+00:00",
        "last_sent_at": "2001-12-04T19:00:00+00:00", "last_received_at": "2001-12-08T03:00:00+00:00",
    }
    assert rows["carol@friends.example"]["sent"] == 1 and rows["carol@friends.example"]["received"] == 0
    assert rows["news@shop.example"]["automated"] is True
    assert rows["tracker@tracker.example"]["automated"] is True


def test_threads_and_awaiting_reply(sqlite_url, now):
    engine, _ = _import(sqlite_url, now)
    with engine.connect() as conn:
        waiting = thread_rows(conn, now, awaiting="me")
        budget = [t for t in thread_rows(conn, now) if t["subject"] == "Budget"]
    assert sorted(t["subject"] for t in waiting) == ["Contract", "Weekend"]
    assert budget[0]["messages"] == 3 and budget[0]["sent"] == 2 and budget[0]["received"] == 1
    assert budget[0]["awaiting"] == "them"


def test_reimport_adds_nothing_and_skips_unchanged_folders(db_url, now):
    engine, first = _import(db_url, now)
    again = import_path(engine, SMALL, now=now, account="alice", me=ME)
    assert (again.new, again.duplicates, again.quarantined, again.skipped) == (0, 0, 0, 3)
    full = import_path(engine, SMALL, now=now, account="alice", full=True)
    assert (full.new, full.duplicates) == (0, 11)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == 9
        assert conn.execute(select(func.count()).select_from(locations)).scalar() == 11
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar() == 1


def test_quarantine_keeps_path_and_reason(sqlite_url, now):
    engine, _ = _import(sqlite_url, now)
    with engine.connect() as conn:
        row = conn.execute(select(quarantine.c.path, quarantine.c.reason, quarantine.c.raw)).one()
    assert row.path.endswith("INBOX/cur/2006.host:2,S")
    assert row.reason == "no RFC 822 header lines at the start of the message"
    assert row.raw is None  # the file is the evidence; no copy of its bytes is needed


def test_interrupted_import_loses_nothing_and_doubles_nothing(tmp_path, now, monkeypatch):
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    clean, _ = _import(clean_url, now)

    broken_url = f"sqlite:///{tmp_path / 'broken.db'}"
    engine = open_store(broken_url)
    monkeypatch.setattr(importer, "BATCH", 2)
    calls = {"n": 0}
    original = importer.MailWriter.save_batch

    def dying(self, *a, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the user pressed ^C in the middle of a folder
        return original(self, *a, **kw)

    monkeypatch.setattr(importer.MailWriter, "save_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        import_path(engine, SMALL, now=now, account="alice", me=ME)
    monkeypatch.setattr(importer.MailWriter, "save_batch", original)
    with engine.connect() as conn:
        partial = conn.execute(select(func.count()).select_from(messages)).scalar()
    assert 0 < partial < 9
    import_path(engine, SMALL, now=now, account="alice", me=ME)

    def snapshot(e):
        with e.connect() as conn:
            msgs = sorted(conn.execute(select(messages.c.fingerprint, messages.c.direction, messages.c.subject)).all())
            locs = sorted(conn.execute(select(folders.c.name, locations.c.key)
                                       .join(folders, folders.c.id == locations.c.folder_id)).all())
            return msgs, locs, stats(conn, now)

    assert snapshot(engine) == snapshot(clean)


def test_sent_folder_override_and_discovery(tmp_path, now):
    engine = open_store(f"sqlite:///{tmp_path / 's.db'}")
    summary = import_path(engine, SMALL, now=now, account="alice")
    assert summary.discovered == ["alice@example.org"]
    kinds = {f.name: f.kind for f in summary.folders}
    assert kinds == {"Sent": "sent", "INBOX": "received", "Archive": "received"}
    engine2 = open_store(f"sqlite:///{tmp_path / 't.db'}")
    summary2 = import_path(engine2, SMALL, now=now, account="alice", sent_folders=["Archive"])
    assert {f.name: f.kind for f in summary2.folders}["Archive"] == "sent"
    assert {f.name: f.kind for f in summary2.folders}["Sent"] == "received"


def test_a_failing_evidence_step_never_stops_the_import(db_url, now, caplog):
    """Evidence is written in each batch's transaction; when that step fails, the batch is saved again
    without it and the run goes on (the messages stay unanalysed, for `inboxrel reanalyze`)."""
    import logging

    engine = open_store(db_url)
    calls = []

    def after_batch(conn, saved):
        calls.append(len(saved))
        raise RuntimeError("a cue pattern blew up")

    with caplog.at_level(logging.WARNING):
        summary = import_path(engine, FIXTURES / "mail" / "small", now=now, me=["alice@example.org"],
                              after_batch=after_batch)
    assert calls and summary.new == 9
    assert summary.quarantined == 1  # the fixture's one message that is not an email, as always: no more
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == 9
        assert conn.execute(select(func.count()).select_from(messages)
                            .where(messages.c.analyzed_version.is_not(None))).scalar() == 0
    assert "could not be extracted (RuntimeError: a cue pattern blew up)" in caplog.text
    assert "inboxrel reanalyze" in caplog.text
