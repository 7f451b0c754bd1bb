"""CardDAV address books against the real Radicale: cards kept in step (only changed cards downloaded,
deleted cards dropped), merges from a card, read-only behaviour; and one person whose evidence comes from
all three sources (a CalDAV calendar, an Android call log, a CardDAV card's birthday) as `explain` shows it.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import contacts
from tests.conftest import FIXTURES
from tests.servers_dav import PASSWORD
from tests.test_caldav_sync import ics
from tests.test_contacts_vcard import HOME_MAIL, person_of, store

NOW = "2024-05-25T12:00:00Z"

ALICE = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:alice-1\r\nFN:Alice M. Walker\r\nN:Walker;Alice;M.;;\r\n"
         "EMAIL;TYPE=WORK:alice@alpha.example\r\nEMAIL;TYPE=HOME:awalker@home.example\r\n"
         "TEL;TYPE=CELL:+1 713 853 3907\r\n{extra}END:VCARD\r\n")


def config(tmp_path, dav, user, *sources):
    path = tmp_path / "config.toml"
    text = ""
    for name, kind in sources:
        text += (f'[[calendars]]\nname = "{name}"\nkind = "{kind}"\nurl = "{dav.url}/{user}/{name}/"\n'
                 f'username = "{user}"\npassword_env = "DAV_PW"\n\n')
    path.write_text(text)
    return path


def run(db_url, cfg, *args, password=PASSWORD, now=NOW):
    return CliRunner().invoke(cli, ["--db", db_url, "--config", str(cfg), "--now", now, *args],
                              env={"DAV_PW": password})


def contact_rows(db_url):
    engine = open_store(db_url)
    with engine.connect() as conn:
        rows = [(r.uid, r.name, r.birthday) for r in conn.execute(
            select(contacts).where(contacts.c.source == "carddav:friends").order_by(contacts.c.uid))]
    engine.dispose()
    return rows


def test_an_address_book_is_kept_in_step_read_only(db_url, tmp_path, dav):
    assert HOME_MAIL  # the second address of Alice is in the mail as another person
    store(db_url, tmp_path)
    user = dav.user()
    dav.addressbook(user, "friends")
    dav.put(user, "friends", "alice.vcf", ALICE.format(extra=""))
    dav.put(user, "friends", "erin.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:erin-1\r\nFN:Erin\r\n"
                                         "EMAIL:erin@elsewhere.example\r\nEND:VCARD\r\n")
    cfg = config(tmp_path, dav, user, ("friends", "carddav"))
    files = dav.item_files(user)
    res = run(db_url, cfg, "carddav", "sync", "--format", "json")
    assert res.exit_code == 0, res.output
    (out,) = json.loads(res.output)
    assert (out["changed"], out["linked"], out["merged"], out["deleted"]) == (2, 1, 1, 0)
    assert person_of(db_url, "awalker@home.example")["id"] == person_of(db_url, "alice@alpha.example")["id"]
    assert dav.item_files(user) == files
    res = run(db_url, cfg, "carddav", "sync", "--format", "json")
    assert (json.loads(res.output)[0]["changed"], json.loads(res.output)[0]["unchanged"]) == (0, 2)
    # a birthday added on the phone; Erin deleted
    dav.put(user, "friends", "alice.vcf", ALICE.format(extra="BDAY:1980-05-28\r\n"))
    dav.delete(user, "friends", "erin.vcf")
    files = dav.item_files(user)
    res = run(db_url, cfg, "carddav", "sync")
    assert res.exit_code == 0, res.output
    assert "address book friends: 1 new or changed, 1 gone, 0 unchanged" in res.output
    assert contact_rows(db_url) == [("alice-1", "Alice M. Walker", "1980-05-28")]
    assert dav.item_files(user) == files
    res = run(db_url, cfg, "carddav", "test", "friends")
    assert res.exit_code == 0 and "the address book holds 1 cards" in res.output
    res = run(db_url, cfg, "carddav", "sync", password="wrong")
    assert res.exit_code == 77 and "refused the login" in res.output and "wrong" not in res.output.replace(
        "wrong password", "")


def test_explain_with_evidence_from_calendar_call_log_and_address_book(db_url, tmp_path, dav):
    store(db_url, tmp_path)
    user = dav.user()
    dav.calendar(user, "work")
    dav.addressbook(user, "friends")
    dav.put(user, "work", "pricing.ics", ics("pricing", "20240605T150000Z", summary="Pricing review",
                                             extra="LOCATION:https://teams.microsoft.com/l/meetup-join/1"))
    dav.put(user, "friends", "alice.vcf", ALICE.format(extra="BDAY:1980-05-28\r\n"))
    cfg = config(tmp_path, dav, user, ("work", "caldav"), ("friends", "carddav"))
    assert run(db_url, cfg, "calendar", "sync").exit_code == 0
    assert run(db_url, cfg, "carddav", "sync").exit_code == 0
    res = run(db_url, cfg, "import-calls", str(FIXTURES / "calls" / "calls-20240525.xml"))
    assert res.exit_code == 0, res.output
    res = run(db_url, cfg, "explain", "alice@alpha.example", "--format", "json")
    assert res.exit_code == 0, res.output
    why = json.loads(res.output)
    sources = {(e["source"], e["kind"], e["medium"]) for e in why["evidence"]}
    assert {("calendar", "planned", "video"), ("calllog", "past", "phone")} <= sources
    assert why["conversation"]["last_at"] == "2024-05-20T14:00:00+00:00"  # the 20-minute call
    assert why["conversation"]["planned_at"] == "2024-06-05T15:00:00+00:00"  # the Teams meeting
    occasion = next(v for v in why["verdicts"] if v["rule"] == "occasion")
    assert occasion["fired"] and occasion["reason"] == "birthday on 28 May (in 3 days, turning 44)"
    text = run(db_url, cfg, "explain", "alice@alpha.example").output
    assert "birthday on 28 May" in text
    (tmp_path / "explain.txt").write_text(text)
