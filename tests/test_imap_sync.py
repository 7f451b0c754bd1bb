"""IMAP sync against the session's real Dovecot: first sync, re-runs and every kind of change on the server.

Each sync goes through ``imap_support.sync``, which compares every folder, UID and flag of the mailbox
before and after: a run must never change the user's mailbox.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from inboxrel.db import open_store
from inboxrel.models import accounts, folders, locations, messages, participants, quarantine
from inboxrel.pipelines import ingest as ingest_mod
from inboxrel.pipelines.imap import ImapSession
from tests.conftest import FIXTURES
from tests.imap_support import ENV, NOW, account_for, count, folder_locations, store_dump, sync
from tests.servers_imap import SeedMessage, enron_folder, seed_enron

pytestmark = pytest.mark.imap

READ = ("INBOX", "INBOX/master_netting", "Sent", "all_documents", "brokerage_agreements", "sent_items")


def seed_small(dovecot, user, shared, limit=20) -> dict[str, int]:
    """heard-m, ``limit`` messages per folder (Trash gets its deleted_items), plus mail in Junk and Drafts."""
    counts = seed_enron(dovecot, user, shared, "heard-m", limit=limit)
    counts["Junk"] = dovecot.seed(user, "Junk", enron_folder(shared, "allen-p", "straw", 3))
    counts["Drafts"] = dovecot.seed(user, "Drafts", enron_folder(shared, "allen-p", "contacts", 2))
    return counts


def fixture(name: str) -> bytes:
    """A small message from tests/fixtures/imap/."""
    return (FIXTURES / "imap" / name).read_bytes()


def by_name(summary):
    return {f.name: f for a in summary.accounts for f in a.folders}


# -- first sync and the no-change re-run ------------------------------------------------------------------

def test_first_sync_reads_the_right_folders_and_stores_every_copy(dovecot, imap_user, shared_data, db_url):
    counts = seed_small(dovecot, imap_user, shared_data)
    engine = open_store(db_url)
    summary = sync(engine, dovecot, imap_user)

    assert summary.error() is None
    folders_seen = by_name(summary)
    assert set(folders_seen) == set(READ) | {"Archive"}  # Trash, Junk and Drafts are never read
    expected = sum(counts[f] for f in READ)
    assert summary.total("new") + summary.total("duplicates") == expected
    assert summary.total("quarantined") == 0
    assert count(engine, messages) == summary.total("new")
    assert count(engine, locations) == expected
    assert count(engine, locations, locations.c.gone.is_(True)) == 0

    with engine.connect() as conn:
        kinds = dict(conn.execute(select(folders.c.name, folders.c.kind)).all())
        assert kinds == {"INBOX": "received", "INBOX/master_netting": "received", "Sent": "sent",
                         "all_documents": "received",
                         "brokerage_agreements": "received", "sent_items": "sent", "Archive": "received"}
        row = conn.execute(select(folders).where(folders.c.name == "INBOX")).one()
    c = dovecot.client(imap_user)
    st = c.folder_status("INBOX", ["UIDVALIDITY", "UIDNEXT", "MESSAGES", "HIGHESTMODSEQ"])
    c.logout()
    assert (row.uidvalidity, row.uidnext, row.highest_uid, row.message_count, row.highestmodseq, row.last_error) == (
        st[b"UIDVALIDITY"], st[b"UIDNEXT"], st[b"UIDNEXT"] - 1, st[b"MESSAGES"], st[b"HIGHESTMODSEQ"], None)
    assert row.last_success_at == NOW.replace(tzinfo=None)

    # the first INBOX message, as a whole row: header fields, flags, body inside the window
    first = enron_folder(shared_data, "heard-m", "inbox", 1)[0]
    with engine.connect() as conn:
        got = conn.execute(
            select(messages.c.message_id, messages.c.subject, messages.c.date, messages.c.direction,
                   messages.c.has_body, messages.c.size, locations.c.uid, locations.c.flags, locations.c.gone)
            .join(locations, locations.c.message_id == messages.c.id)
            .join(folders, folders.c.id == locations.c.folder_id)
            .where(folders.c.name == "INBOX", locations.c.uid == 1)).one()
    assert tuple(got) == ("25990182.1075854926732.JavaMail.evans@thyme", "New Temp IDs",
                          datetime(2001, 10, 17, 21, 4, 22), "received", True,
                          len(first.raw.replace(b"\n", b"\r\n")), 1, "\\Answered \\Seen", False)
    # my address was discovered from the sent folders
    assert [e for a in summary.accounts for e in a.discovered] == ["marie.heard@enron.com"]


def test_no_change_rerun_opens_no_folder_and_changes_nothing(dovecot, imap_user, shared_data, sqlite_url):
    seed_small(dovecot, imap_user, shared_data, limit=10)
    engine = open_store(sqlite_url)
    sync(engine, dovecot, imap_user)
    before = store_dump(engine)
    again = sync(engine, dovecot, imap_user)
    assert all(f.unchanged for f in by_name(again).values())
    assert again.total("new") == again.total("duplicates") == again.total("flags_changed") == 0
    assert store_dump(engine) == before


def test_starttls_on_the_plain_port(dovecot, imap_user, shared_data, sqlite_url):
    dovecot.seed(imap_user, "INBOX", enron_folder(shared_data, "heard-m", "inbox", 5))
    engine = open_store(sqlite_url)
    summary = sync(engine, dovecot, imap_user, [account_for(dovecot, imap_user, tls="starttls")])
    assert summary.error() is None
    assert summary.total("new") == 5


def test_a_failing_evidence_step_never_stops_the_sync(dovecot, imap_user, shared_data, sqlite_url):
    dovecot.seed(imap_user, "INBOX", enron_folder(shared_data, "heard-m", "inbox", 12))
    engine = open_store(sqlite_url)

    def after_batch(conn, saved):
        raise ValueError("bad calendar")

    summary = sync(engine, dovecot, imap_user, after_batch=after_batch)
    assert summary.error() is None and summary.total("new") == 12
    assert count(engine, messages) == 12


def test_whole_headers_and_named_fields_give_the_same_store(dovecot, imap_user, shared_data, tmp_path):
    """header_fetch = "fields" asks the server for the named fields only: the store is the same."""
    seed_enron(dovecot, imap_user, shared_data, "heard-m", limit=150, folders=["inbox", "sent_items"])
    dumps = {}
    for mode in ("whole", "fields"):
        engine = open_store(f"sqlite:///{tmp_path / mode}.db")
        summary = sync(engine, dovecot, imap_user, [account_for(dovecot, imap_user, header_fetch=mode)],
                       after_batch=None)
        assert summary.error() is None and summary.total("new") > 200
        dumps[mode] = store_dump(engine)
        engine.dispose()
    assert dumps["whole"] == dumps["fields"]


# -- changes on the server between runs -------------------------------------------------------------------

def test_new_mail_is_added_with_its_flags(dovecot, imap_user, shared_data, db_url):
    seed_small(dovecot, imap_user, shared_data, limit=5)
    engine = open_store(db_url)
    sync(engine, dovecot, imap_user)
    before = store_dump(engine)
    c = dovecot.client(imap_user)
    c.append("INBOX", fixture("lunch.eml"), flags=(b"\\Seen",), msg_time=datetime(2001, 12, 3, 16, tzinfo=timezone.utc))
    c.append("Sent", fixture("lunch-reply.eml"), msg_time=datetime(2001, 12, 3, 17, tzinfo=timezone.utc))
    c.logout()

    summary = sync(engine, dovecot, imap_user)
    seen = by_name(summary)
    assert (seen["INBOX"].new, seen["Sent"].new, summary.total("new")) == (1, 1, 2)
    assert sum(1 for f in seen.values() if f.unchanged) == len(seen) - 2
    after = store_dump(engine)
    assert set(before["locations"]) < set(after["locations"])
    assert folder_locations(engine, "INBOX")[-1] == (6, "\\Seen", False, "Lunch")
    with engine.connect() as conn:
        rows = conn.execute(select(messages.c.message_id, messages.c.direction, messages.c.thread_id, messages.c.has_body)
                            .where(messages.c.message_id.in_(["m1@example.com", "m2@enron.com"]))
                            .order_by(messages.c.message_id)).all()
    assert [(r.message_id, r.direction, r.has_body) for r in rows] == [
        ("m1@example.com", "received", True), ("m2@enron.com", "sent", True)]
    assert rows[0].thread_id == rows[1].thread_id  # the reply joined the thread


def test_flag_changes_are_picked_up(dovecot, imap_user, shared_data, sqlite_url):
    seed_small(dovecot, imap_user, shared_data, limit=5)
    engine = open_store(sqlite_url)
    sync(engine, dovecot, imap_user)
    before = folder_locations(engine, "INBOX")
    c = dovecot.client(imap_user)
    c.select_folder("INBOX")
    c.add_flags([2], [b"\\Flagged"])
    c.remove_flags([1], [b"\\Seen"])
    c.logout()

    summary = sync(engine, dovecot, imap_user)
    assert by_name(summary)["INBOX"].flags_changed == 2
    after = folder_locations(engine, "INBOX")
    expected = list(before)
    expected[0] = (1, "\\Answered", False, before[0][3])
    expected[1] = (2, "\\Flagged \\Seen", False, before[1][3])
    assert after == expected


def test_moved_message_is_the_same_message(dovecot, imap_user, shared_data, db_url):
    seed_small(dovecot, imap_user, shared_data, limit=5)
    engine = open_store(db_url)
    sync(engine, dovecot, imap_user)
    n_messages = count(engine, messages)
    subject = folder_locations(engine, "INBOX")[2][3]
    c = dovecot.client(imap_user)
    c.select_folder("INBOX")
    c.move([3], "Archive")
    c.logout()

    summary = sync(engine, dovecot, imap_user)
    seen = by_name(summary)
    assert (seen["INBOX"].gone, seen["Archive"].new, seen["Archive"].duplicates) == (1, 0, 1)
    assert count(engine, messages) == n_messages
    assert folder_locations(engine, "Archive") == [(1, "\\Seen", False, subject)]
    assert folder_locations(engine, "INBOX")[2] == (3, "\\Seen", True, subject)
    with engine.connect() as conn:
        gone_at = conn.execute(select(locations.c.gone_at).where(locations.c.gone.is_(True))).scalar_one()
    assert gone_at == NOW.replace(tzinfo=None)


def test_deleted_message_stays_in_history_marked_gone(dovecot, imap_user, shared_data, sqlite_url):
    seed_small(dovecot, imap_user, shared_data, limit=5)
    engine = open_store(sqlite_url)
    sync(engine, dovecot, imap_user)
    n_messages = count(engine, messages)
    c = dovecot.client(imap_user)
    c.select_folder("INBOX")
    c.add_flags([4], [b"\\Deleted"])
    c.expunge()
    c.logout()

    summary = sync(engine, dovecot, imap_user)
    assert by_name(summary)["INBOX"].gone == 1
    assert count(engine, messages) == n_messages
    assert [(u, g) for u, _f, g, _s in folder_locations(engine, "INBOX")] == [
        (1, False), (2, False), (3, False), (4, True), (5, False)]
    # and a second run has nothing more to say
    again = sync(engine, dovecot, imap_user)
    assert again.total("gone") == 0 and all(f.unchanged for f in by_name(again).values())


def test_uidvalidity_change_rescans_without_duplicates(dovecot, imap_user, shared_data, db_url):
    seed_small(dovecot, imap_user, shared_data, limit=6)
    engine = open_store(db_url)
    sync(engine, dovecot, imap_user)
    n_messages = count(engine, messages)
    old = folder_locations(engine, "brokerage_agreements")
    c = dovecot.client(imap_user)
    c.select_folder("brokerage_agreements", readonly=True)
    raws = c.fetch(c.search("ALL"), ["BODY.PEEK[]", "INTERNALDATE", "FLAGS"])
    c.unselect_folder()
    old_validity = c.folder_status("brokerage_agreements", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    c.delete_folder("brokerage_agreements")
    c.create_folder("brokerage_agreements")
    for uid in sorted(raws)[1:]:  # all but the first come back, in a new order of UIDs
        d = raws[uid]
        c.append("brokerage_agreements", d[b"BODY[]"], flags=[f for f in d[b"FLAGS"] if f != b"\\Recent"],
                 msg_time=d[b"INTERNALDATE"])
    new_validity = c.folder_status("brokerage_agreements", ["UIDVALIDITY"])[b"UIDVALIDITY"]
    c.logout()
    assert new_validity != old_validity

    summary = sync(engine, dovecot, imap_user)
    f = by_name(summary)["brokerage_agreements"]
    assert (f.rescanned, f.new, f.duplicates) == (True, 0, len(raws) - 1)
    assert count(engine, messages) == n_messages
    now_there = folder_locations(engine, "brokerage_agreements")
    live = [r for r in now_there if not r[2]]
    assert [r[3] for r in live] == [r[3] for r in old[1:]]
    assert [r[0] for r in live] == list(range(1, len(raws)))
    assert [r for r in now_there if r[2]] == [(old[0][0], old[0][1], True, old[0][3])]  # the one not back
    with engine.connect() as conn:
        assert conn.execute(select(folders.c.uidvalidity).where(folders.c.name == "brokerage_agreements")
                            ).scalar() == new_validity
    again = sync(engine, dovecot, imap_user)
    assert all(x.unchanged for x in by_name(again).values())


def test_folder_deleted_on_the_server(dovecot, imap_user, shared_data, sqlite_url):
    seed_small(dovecot, imap_user, shared_data, limit=4)
    engine = open_store(sqlite_url)
    sync(engine, dovecot, imap_user)
    n_messages = count(engine, messages)
    c = dovecot.client(imap_user)
    c.delete_folder("sent_items")
    c.logout()
    sync(engine, dovecot, imap_user)
    assert count(engine, messages) == n_messages
    assert {g for _u, _f, g, _s in folder_locations(engine, "sent_items")} == {True}
    with engine.connect() as conn:
        assert conn.execute(select(folders.c.last_error).where(folders.c.name == "sent_items")).scalar() == \
            "folder no longer on the server"


def test_without_condstore_flags_and_expunges_come_from_a_full_flag_list(dovecot, imap_user, shared_data,
                                                                          sqlite_url, monkeypatch):
    # Servers without CONDSTORE exist (some hosted ones); this runs the same code path on Dovecot.
    original = ImapSession.__init__

    def no_condstore(self, *a, **kw):
        original(self, *a, **kw)
        self.condstore = self.qresync = False

    monkeypatch.setattr(ImapSession, "__init__", no_condstore)
    seed_small(dovecot, imap_user, shared_data, limit=5)
    engine = open_store(sqlite_url)
    sync(engine, dovecot, imap_user)
    before = store_dump(engine)
    again = sync(engine, dovecot, imap_user)
    assert not any(f.unchanged for f in by_name(again).values())  # cannot know without CONDSTORE
    assert store_dump(engine) == before
    c = dovecot.client(imap_user)
    c.select_folder("INBOX")
    c.add_flags([1], [b"\\Flagged"])
    c.add_flags([2], [b"\\Deleted"])
    c.expunge()
    c.logout()
    summary = sync(engine, dovecot, imap_user)
    assert (by_name(summary)["INBOX"].flags_changed, by_name(summary)["INBOX"].gone) == (1, 1)
    assert [(u, f, g) for u, f, g, _s in folder_locations(engine, "INBOX")][:2] == [
        (1, "\\Answered \\Flagged \\Seen", False), (2, "\\Seen", True)]


def test_qresync_off_counts_reveal_expunges(dovecot, imap_user, shared_data, sqlite_url, monkeypatch):
    original = ImapSession.__init__

    def condstore_only(self, *a, **kw):
        original(self, *a, **kw)
        self.qresync = False

    monkeypatch.setattr(ImapSession, "__init__", condstore_only)
    seed_small(dovecot, imap_user, shared_data, limit=5)
    engine = open_store(sqlite_url)
    sync(engine, dovecot, imap_user)
    c = dovecot.client(imap_user)
    c.select_folder("INBOX")
    c.add_flags([5], [b"\\Deleted"])
    c.expunge()
    c.append("INBOX", fixture("lunch.eml"), msg_time=datetime(2001, 12, 3, 16, tzinfo=timezone.utc))
    c.logout()
    summary = sync(engine, dovecot, imap_user)
    assert (by_name(summary)["INBOX"].gone, by_name(summary)["INBOX"].new) == (1, 1)
    assert [(u, g) for u, _f, g, _s in folder_locations(engine, "INBOX")] == [
        (1, False), (2, False), (3, False), (4, False), (5, True), (6, False)]


# -- what is fetched ----------------------------------------------------------------------------------------

def test_bodies_only_inside_the_window_within_the_cap_and_once(dovecot, imap_user, sqlite_url):
    recent, old = fixture("call-me.eml"), fixture("old.eml")
    dovecot.seed(imap_user, "INBOX", [SeedMessage(recent, datetime(2001, 12, 3, tzinfo=timezone.utc)),
                                      SeedMessage(old, datetime(1999, 12, 3, tzinfo=timezone.utc))])
    dovecot.seed(imap_user, "copies", [SeedMessage(recent, datetime(2001, 12, 3, tzinfo=timezone.utc))])
    engine = open_store(sqlite_url)
    summary = sync(engine, dovecot, imap_user, [account_for(dovecot, imap_user, body_max_bytes=100)])
    assert summary.total("bodies") == 1  # the copy in "copies" is not fetched again
    with engine.connect() as conn:
        rows = dict((r.message_id, (r.has_body, r.body_text)) for r in conn.execute(
            select(messages.c.message_id, messages.c.has_body, messages.c.body_text)))
    assert rows["old@example.com"] == (False, None)
    has_body, text = rows["recent@example.com"]
    assert has_body and text.startswith("Call me tomorrow about the numbers.") and len(text) <= 100

    other = dovecot.new_user()
    # another message (not a copy under another Message-ID: its text differs too)
    another = recent.replace(b"recent@", b"r2@").replace(b"Call me", b"Ring me")
    dovecot.seed(other, "INBOX", [SeedMessage(another, datetime(2001, 12, 3, tzinfo=timezone.utc))])
    s2 = sync(engine, dovecot, other, [account_for(dovecot, other, "nobodies", body_window_days=0)])
    assert s2.total("bodies") == 0 and s2.total("new") == 1


def test_unparseable_message_is_quarantined_once(dovecot, imap_user, sqlite_url):
    dovecot.seed(imap_user, "INBOX", [
        SeedMessage(fixture("not-an-email.eml"), datetime(2001, 5, 1, tzinfo=timezone.utc)),
        SeedMessage(fixture("lunch.eml"), datetime(2001, 12, 3, tzinfo=timezone.utc))])
    engine = open_store(sqlite_url)
    summary = sync(engine, dovecot, imap_user)
    assert (summary.total("new"), summary.total("quarantined")) == (1, 1)
    with engine.connect() as conn:
        q = conn.execute(select(quarantine.c.key, quarantine.c.reason, quarantine.c.raw)).one()
    assert q.key == "1" and "not an email message" in q.reason and q.raw.startswith(b"X-Garbage: yes")
    sync(engine, dovecot, imap_user)
    assert count(engine, quarantine) == 1


def test_two_accounts_in_one_store_share_people(dovecot, shared_data, sqlite_url):
    work, home = dovecot.new_user(), dovecot.new_user()
    seed_enron(dovecot, work, shared_data, "heard-m", limit=5)
    seed_enron(dovecot, home, shared_data, "allen-p", limit=5, folders=["inbox", "sent", "_sent_mail"])
    shared_msg = fixture("to-both.eml")
    for user in (work, home):
        dovecot.seed(user, "INBOX", [SeedMessage(shared_msg, datetime(2001, 12, 3, tzinfo=timezone.utc))])
    engine = open_store(sqlite_url)
    accts = [account_for(dovecot, work, "work", me=["marie.heard@enron.com"]),
             account_for(dovecot, home, "home", me=["phillip.allen@enron.com"])]
    from inboxrel.pipelines.ingest import ingest

    before = {u: dovecot.snapshot(u) for u in (work, home)}
    summary = ingest(engine, accts, now=NOW, environ=ENV)
    assert {u: dovecot.snapshot(u) for u in (work, home)} == before
    assert summary.error() is None
    dump = store_dump(engine)
    assert ("home", "phillip.allen@enron.com", "given") in dump["mine"]
    assert ("work", "marie.heard@enron.com", "given") in dump["mine"]
    with engine.connect() as conn:
        assert conn.execute(select(accounts.c.name, accounts.c.kind).order_by(accounts.c.name)).all() == [
            ("home", "imap"), ("work", "imap")]
        both = conn.execute(select(messages.c.id).where(messages.c.message_id == "both@example.org")).scalars().all()
        assert len(both) == 1  # one message, a copy in each account
        assert count(engine, locations, locations.c.message_id == both[0]) == 2
        bob = conn.execute(select(participants.c.address_id).where(participants.c.message_id == both[0],
                                                                    participants.c.role == "from")).scalar()
    assert bob is not None
    # both of "me" are one person marked is_me, shared by the two accounts
    me_people = [p for p in dump["people"] if p[1]]
    assert len(me_people) == 1 and {"marie.heard@enron.com", "phillip.allen@enron.com"} <= set(me_people[0][0])


def test_progress_and_after_batch_callbacks(dovecot, imap_user, shared_data, sqlite_url):
    seed_enron(dovecot, imap_user, shared_data, "heard-m", limit=7, folders=["inbox", "sent"])
    events, saved = [], []

    class Recorder(ingest_mod.Progress):
        def folder_start(self, name, total):
            events.append(("start", name, total))

        def advance(self, n):
            events.append(("advance", n))

    engine = open_store(sqlite_url)
    sync(engine, dovecot, imap_user, progress=Recorder(), after_batch=lambda _conn, batch: saved.extend(batch))
    assert ("start", "test:INBOX", 7) in events and ("advance", 7) in events
    with engine.connect() as conn:
        ids = set(conn.execute(select(messages.c.id)).scalars())
    assert {mid for mid, _p in saved} == ids


def test_full_rerun_reads_everything_again_without_duplicates(dovecot, imap_user, shared_data, sqlite_url):
    seed_small(dovecot, imap_user, shared_data, limit=5)
    engine = open_store(sqlite_url)
    first = sync(engine, dovecot, imap_user)
    before = store_dump(engine)
    full = sync(engine, dovecot, imap_user, full=True)
    assert full.total("new") == 0
    assert full.total("duplicates") == first.total("new") + first.total("duplicates")
    assert not any(f.unchanged for f in by_name(full).values())
    assert store_dump(engine) == before


def test_special_use_on_request_for_servers_that_only_say_it_when_asked(dovecot, imap_user):
    from inboxrel.pipelines.imap import Credential, fetch_session
    from tests.servers_imap import PASSWORD

    session = fetch_session(account_for(dovecot, imap_user), Credential(imap_user, PASSWORD))
    try:
        assert session._special_use_flags() == {"INBOX": (), "Sent": ("\\Sent",), "Drafts": ("\\Drafts",),
                                                 "Junk": ("\\Junk",), "Trash": ("\\Trash",), "Archive": ("\\Archive",)}
    finally:
        session.logout()
