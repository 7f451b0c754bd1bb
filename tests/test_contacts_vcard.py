"""Address books from vCard files (`inboxrel import-contacts`): merging a contact's addresses with the card
as evidence (undoable), names, labelled numbers preferred by the call-log import, birthdays and
anniversaries, broken cards skipped with their line, re-imports, and the `occasion` rule.

Fixtures (tests/fixtures/contacts/), in the exporters' own formats:

- ``google-contacts.vcf``: Google Contacts' vCard 3.0 export: Alice with three addresses (two of which the
  mail knows as two people) and a birthday on 28 May; Dan with an anniversary in Apple's grouped
  X-ABDATE/X-ABLabel form and the number Bob signs with; a card with a broken line (line 29); Erin, whom
  the mail does not know; my own card;
- ``apple-contacts.vcf``: Apple Contacts (macOS 14): grouped labels, an iPhone number, a birthday without
  a year (``BDAY;X-APPLE-OMIT-YEAR=1604:1604-05-30``).

Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner
from sqlalchemy import func, select

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import addresses, contacts, identity_events, people, phone_numbers
from tests.conftest import FIXTURES

MAIL = FIXTURES / "signals" / "mail"
CARDS = FIXTURES / "contacts"
NOW = "2024-05-25T12:00:00Z"

HOME_MAIL = """\
From: "A. Walker" <awalker@home.example>
To: Me <me@me.example>
Subject: weekend
Date: Tue, 21 May 2024 20:00:00 +0000
Message-ID: <home-1@home.example>

Thanks for the photos from the weekend.
"""


def run(db_url, *args, now=NOW):
    return CliRunner().invoke(cli, ["--db", db_url, "--now", now, *args])


def mailbox(tmp_path):
    """The signals fixture mail plus a message from Alice's home address (a second person until merged)."""
    box = tmp_path / "mail"
    shutil.copytree(MAIL, box)
    (box / "inbox" / "9.eml").write_text(HOME_MAIL)
    return box


def store(db_url, tmp_path):
    res = run(db_url, "import", str(mailbox(tmp_path)), "--me", "me@me.example", "--sent-folder", "sent", "-q")
    assert res.exit_code == 0, res.output
    return db_url


def person_of(db_url, email):
    engine = open_store(db_url)
    with engine.connect() as conn:
        pid = conn.execute(select(addresses.c.person_id).where(addresses.c.email == email)).scalar()
        row = conn.execute(select(people.c.name).where(people.c.id == pid)).first()
        emails = sorted(r.email for r in conn.execute(select(addresses.c.email).where(addresses.c.person_id == pid)))
        nums = sorted((r.e164, r.label, r.message_id is None) for r in conn.execute(
            select(phone_numbers).where(phone_numbers.c.person_id == pid)))
    engine.dispose()
    return {"id": pid, "name": row.name if row else None, "emails": emails, "numbers": nums}


def counts(db_url):
    engine = open_store(db_url)
    with engine.connect() as conn:
        out = tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                    for t in (contacts, addresses, phone_numbers, identity_events))
    engine.dispose()
    return out


def test_a_card_merges_its_addresses_names_the_person_and_brings_labelled_numbers(db_url, tmp_path):
    store(db_url, tmp_path)
    assert person_of(db_url, "alice@alpha.example")["id"] != person_of(db_url, "awalker@home.example")["id"]
    res = run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf"), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["cards"], out["linked"], out["merged"], out["unlinked"], out["mine"], out["skipped"]) == (4, 2, 1, 1, 1, 1)
    assert out["problems"] == [{"line": 25, "reason": "line 29: unreadable card: a line that is not NAME:VALUE "
                                                      "('this line has no colon')"}]
    alice = person_of(db_url, "awalker@home.example")
    assert alice == person_of(db_url, "alice@alpha.example") | {"id": alice["id"]}
    assert alice["name"] == "Alice M. Walker"  # the card's name wins over "Alice Walker" / "A. Walker"
    assert alice["emails"] == ["alice.walker@new.example", "alice@alpha.example", "awalker@home.example"]
    # the signature's number keeps its row (and its message); the card adds the work number
    assert alice["numbers"] == [("+12125550100", "work", True), ("+17138533907", "mobile", False)]
    # the merge is in the history with the card as its evidence, and can be undone
    res = run(db_url, "people", "history", "--format", "json")
    assert res.exit_code == 0, res.output
    merge = next(e for e in json.loads(res.output) if "contact card" in e["reason"])
    assert merge["reason"] == ("contact card 'Alice M. Walker' (vcf) lists alice@alpha.example, "
                               "awalker@home.example")
    res = run(db_url, "people", "undo", str(merge["id"]))
    assert res.exit_code == 0, res.output
    assert person_of(db_url, "alice@alpha.example")["id"] != person_of(db_url, "awalker@home.example")["id"]
    # importing the card again does not undo the user's undo
    res = run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf"), "--format", "json")
    assert json.loads(res.output)["merged"] == 0
    assert person_of(db_url, "alice@alpha.example")["id"] != person_of(db_url, "awalker@home.example")["id"]


def test_reimport_changes_nothing_and_a_card_links_once_its_mail_arrives(db_url, tmp_path):
    store(db_url, tmp_path)
    assert run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf")).exit_code == 0
    before = counts(db_url)
    res = run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf"), "--format", "json")
    assert json.loads(res.output)["merged"] == 0 and counts(db_url) == before
    # Erin writes; the next import of the address book links her card
    box = tmp_path / "later"
    (box / "inbox").mkdir(parents=True)
    (box / "inbox" / "1.eml").write_text(HOME_MAIL.replace('"A. Walker" <awalker@home.example>',
                                                           "Erin <erin@elsewhere.example>")
                                         .replace("home-1@", "erin-1@"))
    assert run(db_url, "import", str(box), "--account", "later", "--me", "me@me.example", "-q").exit_code == 0
    res = run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf"), "--format", "json")
    assert (json.loads(res.output)["linked"], json.loads(res.output)["unlinked"]) == (3, 0)
    assert person_of(db_url, "erin@elsewhere.example")["name"] == "Erin Unknown"


def test_apple_export_labels_and_birthday_without_a_year(db_url, tmp_path):
    store(db_url, tmp_path)
    res = run(db_url, "import-contacts", str(CARDS / "apple-contacts.vcf"), "--source", "apple")
    assert res.exit_code == 0, res.output
    assert "1 contacts read: 1 linked to people" in res.output
    bob = person_of(db_url, "bob@beta.example")
    assert bob["numbers"] == [("+12125046918", "office", False), ("+12125550142", "work", True),
                              ("+19175550199", "mobile", True)]
    engine = open_store(db_url)
    with engine.connect() as conn:
        row = conn.execute(select(contacts).where(contacts.c.source == "apple")).one()
    engine.dispose()
    assert (row.uid, row.name, row.birthday, row.anniversary) == (
        "6C3B2E9A-2F1D-4B8E-9C55-0A1B2C3D4E5F", "Bob Jones", "--05-30", None)


def test_contact_numbers_win_over_signature_numbers_in_call_logs(db_url, tmp_path):
    store(db_url, tmp_path)
    assert run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf")).exit_code == 0
    # Bob signs with +1 212 504 6918, and Dan's card holds it: the calls from it are Dan's
    res = run(db_url, "import-calls", str(FIXTURES / "calls" / "calls-20240525.xml"), "--format", "json")
    assert res.exit_code == 0, res.output
    engine = open_store(db_url)
    from inboxrel.models import interactions

    with engine.connect() as conn:
        who = [r.email for r in conn.execute(
            select(addresses.c.email).select_from(interactions.join(people, people.c.id == interactions.c.person_id)
                                                  .join(addresses, addresses.c.id == people.c.primary_address_id))
            .where(interactions.c.source == "calllog", interactions.c.note.like("%incoming%") |
                   interactions.c.note.like("missed%")).order_by(interactions.c.at))]
    engine.dispose()
    assert who == ["dan@delta.example", "dan@delta.example"]


def test_a_birthday_boosts_the_person_in_the_week_before(db_url, tmp_path):
    store(db_url, tmp_path)
    assert run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf")).exit_code == 0

    def occasion(now):
        res = run(db_url, "explain", "alice@alpha.example", "--format", "json", now=now)
        assert res.exit_code == 0, res.output
        data = json.loads(res.output)
        return next(v for v in data["verdicts"] if v["rule"] == "occasion"), data

    verdict, data = occasion("2024-05-25T12:00:00Z")
    assert verdict["fired"] and verdict["action"] == "boost"
    assert verdict["reason"] == "birthday on 28 May (in 3 days, turning 44)"
    assert "occasion" in [r[0] for r in data["score_parts"]["rules"]]
    verdict, _ = occasion("2024-05-28T08:00:00Z")
    assert verdict["fired"] and verdict["reason"].startswith("birthday on 28 May (today")
    for outside in ("2024-05-20T12:00:00Z", "2024-05-29T12:00:00Z"):  # 8 days before; the day after
        verdict, _ = occasion(outside)
        assert not verdict["fired"], outside
    res = run(db_url, "explain", "alice@alpha.example", now="2024-05-25T12:00:00Z")
    assert "birthday on 28 May (in 3 days, turning 44)" in res.output


def test_bad_files_are_one_line_errors(sqlite_url, tmp_path):
    store(sqlite_url, tmp_path)
    for name, data, words in (("x.vcf", b"hello\n", "is not a vCard file"),
                              ("cut.vcf", b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut\r\n", None)):
        f = tmp_path / name
        f.write_bytes(data)
        res = run(sqlite_url, "import-contacts", str(f))
        if words:
            assert res.exit_code == 2 and words in res.output and len(res.output.strip().splitlines()) == 1
        else:  # a file cut inside its only card: nothing to import, the card reported
            assert res.exit_code == 0 and "the file ends inside this card" in res.output
    utf16 = tmp_path / "u16.vcf"
    utf16.write_bytes((CARDS / "apple-contacts.vcf").read_text().encode("utf-16"))
    res = run(sqlite_url, "import-contacts", str(utf16))
    assert res.exit_code == 0 and "1 contacts read" in res.output


def test_person_shows_the_contacts_addresses_numbers_and_card(db_url, tmp_path):
    store(db_url, tmp_path)
    assert run(db_url, "import-contacts", str(CARDS / "google-contacts.vcf")).exit_code == 0
    res = run(db_url, "person", "awalker@home.example", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert sorted(data["emails"]) == ["alice.walker@new.example", "alice@alpha.example", "awalker@home.example"]
    assert [(p["e164"], p["label"], p["from"]) for p in data["phones"]] == [
        ("+12125550100", "work", "contact"), ("+17138533907", "mobile", "signature")]
    assert [(c["name"], c["birthday"]) for c in data["contacts"]] == [("Alice M. Walker", "1980-05-28")]
    text = run(db_url, "person", "alice@alpha.example").output
    assert "phones: +12125550100 (work), +17138533907 (mobile)" in text
    assert "contact card (vcf): Alice M. Walker; birthday 1980-05-28" in text
