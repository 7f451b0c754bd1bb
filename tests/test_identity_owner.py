"""My identity on a small fixture Maildir: the owner, a delegate who sends most of the sent folder, a proposed
relative, the user's word (--me, add-me, remove-me) over discovery, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inboxrel import identity
from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import accounts, addresses, messages, people
from inboxrel.pipelines.importer import import_path
from inboxrel.report.queries import people_rows
from tests.conftest import FIXTURES

MAILDIR = FIXTURES / "mail" / "identity"


@pytest.fixture
def now() -> datetime:
    """After the fixture mailbox's mail (November 2026): --now is a cut, and mail after it does not count."""
    return datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _import(url, now, **kw):
    engine = open_store(url)
    summary = import_path(engine, MAILDIR, now=now, account="dana", **kw)
    return engine, summary


def _ident(engine):
    with engine.connect() as conn:
        aid = conn.execute(select(accounts.c.id).where(accounts.c.name == "dana")).scalar_one()
        return identity.account_identity(conn, aid)


def _emails(rows):
    return sorted(r["email"] for r in rows)


def test_owner_delegate_and_proposed_are_told_apart(db_url, now):
    engine, summary = _import(db_url, now)
    ident = _ident(engine)
    assert ident["owner_name"] == "Dana Owner"
    assert _emails(ident["me"]) == ["d.owner@home.example", "dana@corp.example"]
    # the assistant sent five of the sent folder's eight messages: the old share rule made her "me"
    assert _emails(ident["delegates"]) == ["sam.assist@corp.example"]
    assert _emails(ident["proposed"]) == ["lee.owner@family.example"]
    assert summary.discovered == ["d.owner@home.example", "dana@corp.example"]
    evidence = {r["email"]: r["evidence"] for r in ident["me"] + ident["delegates"]}
    assert "in To/Cc of 2 received messages" in evidence["d.owner@home.example"]
    assert "sent 5 of 8 messages in the sent folders as 'Sam Assistant'" in evidence["sam.assist@corp.example"]


def test_delegate_mail_is_my_sent_mail_but_the_delegate_is_no_one_i_correspond_with(db_url, now):
    engine, _ = _import(db_url, now)
    with engine.connect() as conn:
        rows = {r["email"]: r for r in people_rows(conn, now)}
        me, delegates = identity.my_person_ids(conn), identity.delegate_person_ids(conn)
        sam = conn.execute(select(addresses.c.person_id).where(addresses.c.email == "sam.assist@corp.example")).scalar()
        sam_mail = dict(conn.execute(select(messages.c.subject, messages.c.direction)
                                     .join(addresses, addresses.c.id == messages.c.from_address_id)
                                     .where(addresses.c.email == "sam.assist@corp.example")).all())
        is_me = conn.execute(select(people.c.is_me).where(people.c.id == sam)).scalar()
    assert "sam.assist@corp.example" not in rows
    assert delegates == {sam} and sam not in me and len(me) == 1 and not is_me
    # five sent on my behalf to Carol plus my own one
    assert rows["carol@client.example"]["sent"] == 6 and rows["carol@client.example"]["received"] == 2
    assert {s: d for s, d in sam_mail.items() if s.startswith("Scheduling")} == \
        {f"Scheduling {i}": "sent" for i in range(5)}
    assert sam_mail["Your calendar"] == "received"  # her own mail to me, outside the sent folder


def test_me_given_wins_and_the_assistant_never_becomes_me(db_url, now):
    engine, summary = _import(db_url, now, me=["dana@corp.example"])
    ident = _ident(engine)
    assert {r["email"]: r["source"] for r in ident["me"]} == {"dana@corp.example": "given",
                                                            "d.owner@home.example": "discovered"}
    assert _emails(ident["delegates"]) == ["sam.assist@corp.example"]


def test_remove_me_survives_a_full_reimport_and_add_me_confirms_a_proposal(db_url, now):
    engine, _ = _import(db_url, now)
    with engine.connect() as conn:
        aid = conn.execute(select(accounts.c.id).where(accounts.c.name == "dana")).scalar_one()
    identity.remove_my_address(engine, aid, "d.owner@home.example", now=now)
    identity.add_my_addresses(engine, aid, ["lee.owner@family.example"], "given", "added by the user", now=now)
    identity.after_user_change(engine)
    _import(db_url, now, full=True)
    ident = _ident(engine)
    assert _emails(ident["me"]) == ["dana@corp.example", "lee.owner@family.example"]
    assert _emails(ident["removed"]) == ["d.owner@home.example"]
    assert ident["proposed"] == []
    with engine.connect() as conn:
        rows = {r["email"]: r for r in people_rows(conn, now)}
        of = dict(conn.execute(select(addresses.c.email, addresses.c.person_id)).all())
        me = identity.my_person_ids(conn)
    assert of["d.owner@home.example"] not in me and of["lee.owner@family.example"] in me
    assert "lee.owner@family.example" not in rows  # mine now: its mail is mine, not a relationship's
    assert rows["carol@client.example"]["received"] == 2


def test_account_commands(sqlite_url, now):
    _import(sqlite_url, now)
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(cli, ["--db", sqlite_url, "--now", "2026-11-30", *args])
        assert result.exit_code == code, result.output
        return result.output

    out = run("account", "show", "dana")
    assert "owner: Dana Owner" in out and "delegate: sam.assist@corp.example" in out
    assert "proposed: lee.owner@family.example" in out
    assert "not mine from now on: d.owner@home.example" in run("account", "remove-me", "dana", "d.owner@home.example")
    assert "not me: d.owner@home.example" in run("account", "show", "dana")
    assert "added sam.assist@corp.example" in run("account", "add-me", "dana", "sam.assist@corp.example")
    assert "me: sam.assist@corp.example" in run("account", "show", "dana")
    err = runner.invoke(cli, ["--db", sqlite_url, "account", "remove-me", "nobody", "x@y.example"])
    assert err.exit_code != 0 and "Traceback" not in err.output and "no account 'nobody'" in err.output
    err = runner.invoke(cli, ["--db", sqlite_url, "account", "remove-me", "dana", "never@seen.example"])
    assert err.exit_code != 0 and "no address" in err.output


def test_names_follow_the_mail_and_notifications_keep_the_service_name(db_url, now):
    engine, _ = _import(db_url, now)
    with engine.connect() as conn:
        rows = {r["email"]: r for r in people_rows(conn, now)}
        kevin = identity.resolve_person(conn, "Kevin Hyatt")
    # first seen in a To line without a name (Sent), named by his own From lines in another folder
    assert rows["kevin@partner.example"]["name"] == "Kevin Hyatt"
    assert kevin == rows["kevin@partner.example"]["id"]
    assert rows["notifications@codehub.example"]["name"] == "codehub.example"


def test_one_name_from_two_addresses_merges_only_where_each_address_fits_it(db_url, now):
    engine, _ = _import(db_url, now)
    with engine.connect() as conn:
        of = dict(conn.execute(select(addresses.c.email, addresses.c.person_id)).all())
    assert of["bob.stone@home.example"] == of["bob@work.example"]
    assert of["b.assistant@work.example"] != of["bob@work.example"]  # "Bob Stone" from an address that is not his
    (merge,) = [e for e in identity.history(engine) if e["kind"] == "merge"]
    assert sorted(merge["addresses"]) in (["bob.stone@home.example"], ["bob@work.example"])
    assert merge["reason"].startswith("same full name 'Bob Stone' used as sender from each address (")
    assert "bob@work.example: 3" in merge["reason"] and "bob.stone@home.example: 1" in merge["reason"]
    assert not merge["by_user"]
    identity.undo_event(engine, merge["id"], now)
    _import(db_url, now, full=True)  # an undone merge stays undone
    with engine.connect() as conn:
        of = dict(conn.execute(select(addresses.c.email, addresses.c.person_id)).all())
    assert of["bob.stone@home.example"] != of["bob@work.example"]


def test_a_contact_cards_name_outlasts_later_mail(sqlite_url, now):
    from sqlalchemy import insert

    from inboxrel.models import contacts

    engine, _ = _import(sqlite_url, now)
    with engine.begin() as conn:
        pid = conn.execute(select(addresses.c.person_id).where(addresses.c.email == "kevin@partner.example")).scalar()
        conn.execute(insert(contacts).values(source="phone", uid="k1", person_id=pid, name="Kev Hyatt",
                                             updated_at=now.replace(tzinfo=None)))
    _import(sqlite_url, now, full=True)
    with engine.connect() as conn:
        assert conn.execute(select(people.c.name).where(people.c.id == pid)).scalar() == "Kev Hyatt"
