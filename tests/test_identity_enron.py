"""My identity and people's names on the two Enron practice users, imported without --me, checked against
what a person read from the mailboxes (../shared/data/evidence-dev/<user>.identity.json) and against the
names the raw files carry (read here with the standard library, not with inboxrel's parser)."""

from __future__ import annotations

import json
import re
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inboxrel import identity
from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import accounts, addresses, people
from inboxrel.pipelines.importer import import_path
from inboxrel.report.queries import people_rows

USERS = ["allen-p", "heard-m"]
# Exchange entries in X-To/X-cc: 'Ratcliff, Renee </O=ENRON/...>' (the address is then renee.ratcliff@enron.com)
_EXCHANGE = re.compile(r"([A-Za-z][A-Za-z'-]+), ([A-Za-z]+)[^<>,]*</O=")


@pytest.fixture(scope="module")
def stores(shared_data, tmp_path_factory):
    from datetime import datetime, timezone

    now = datetime(2002, 1, 5, tzinfo=timezone.utc)
    out = {}
    for user in USERS:
        url = f"sqlite:///{tmp_path_factory.mktemp(user) / 'store.db'}"
        engine = open_store(url)
        summary = import_path(engine, shared_data / "enron" / user / "maildir", now=now, account=user)
        truth = json.loads((shared_data / "evidence-dev" / f"{user}.identity.json").read_text())
        out[user] = (url, engine, summary, truth, now)
    return out


def _ident(engine, user):
    with engine.connect() as conn:
        aid = conn.execute(select(accounts.c.id).where(accounts.c.name == user)).scalar_one()
        return identity.account_identity(conn, aid)


@pytest.mark.parametrize("user", USERS)
def test_my_addresses_are_the_owners_and_no_one_elses(stores, user):
    _, engine, summary, truth, _ = stores[user]
    ident = _ident(engine, user)
    me = {r["email"] for r in ident["me"]}
    proposed = {r["email"] for r in ident["proposed"]}
    owner = set(truth["owner_addresses"])
    assert me <= owner, f"not the owner's: {me - owner}"
    assert owner <= me | proposed, f"neither mine nor proposed: {owner - me - proposed}"
    assert len(me) >= len(owner) - 1  # at most one owner address left for the user to confirm
    assert not me & set(truth["family_or_personal"])
    assert {r["email"] for r in ident["delegates"]} == set(truth["delegates"])
    assert all(r["source"] == "discovered" and r["evidence"] for r in ident["me"])
    assert set(summary.me) == me and set(summary.discovered) <= me


def test_the_assistant_is_a_delegate_whose_sent_folder_mail_is_mine(stores):
    url, engine, _, truth, now = stores["allen-p"]
    ident = _ident(engine, "allen-p")
    (ina,) = ident["delegates"]
    assert ina["email"] == "ina.rangel@enron.com" and "'Ina Rangel'" in ina["evidence"]
    with engine.connect() as conn:
        rows = {r["email"]: r for r in people_rows(conn, now)}
        pid = conn.execute(select(addresses.c.person_id).where(addresses.c.email == ina["email"])).scalar_one()
        assert identity.delegate_person_ids(conn) == {pid}
        assert pid not in identity.my_person_ids(conn)
        assert not conn.execute(select(people.c.is_me).where(people.c.id == pid)).scalar()
    assert ina["email"] not in rows
    result = CliRunner().invoke(cli, ["--db", url, "--now", "2002-01-05", "suggest", "--limit", "50",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    suggested = {r["email"] for r in json.loads(result.output)}
    assert not suggested & (set(truth["owner_addresses"]) | set(truth["delegates"]))


def _names_in_files(maildir) -> set[str]:
    """Every address some raw file gives a display name: From/To/Cc, X-From for the sender, and Exchange
    X-To/X-cc entries for first.last@enron.com recipients."""
    named: set[str] = set()
    parser = BytesHeaderParser(policy=compat32)
    for path in maildir.rglob("*"):
        if not path.is_file():
            continue
        h = parser.parsebytes(path.read_bytes())
        for field in ("from", "to", "cc"):
            for name, addr in getaddresses([str(v) for v in h.get_all(field, [])]):
                if name.strip("'\" ") and "@" not in name and addr:
                    named.add(addr.strip().lower())
        sender = getaddresses([str(h["from"] or "")])
        x_from = str(h["x-from"] or "").split("<")[0].strip("'\" ")
        if sender and sender[0][1] and x_from and "@" not in x_from:
            named.add(sender[0][1].strip().lower())
        recipients = {a.strip().lower() for _, a in getaddresses([str(h["to"] or ""), str(h["cc"] or "")])}
        for last, first in _EXCHANGE.findall(f"{h['x-to'] or ''} {h['x-cc'] or ''}"):
            guess = f"{first}.{last}@enron.com".lower()
            if guess in recipients:
                named.add(guess)
    return named


@pytest.mark.parametrize("user", USERS)
def test_everyone_whose_mail_carries_a_name_has_one(stores, shared_data, user):
    _, engine, _, _, _ = stores[user]
    named = _names_in_files(shared_data / "enron" / user / "maildir")
    with engine.connect() as conn:
        rows = conn.execute(select(addresses.c.email, people.c.name)
                            .join(people, people.c.id == addresses.c.person_id)).all()
    nameless = sorted(e for e, n in rows if not n and e in named)
    assert len(named & {e for e, _ in rows}) > 300
    assert nameless == []


def test_names_from_other_folders_and_x_headers_reach_the_person(stores):
    url, engine, _, _, now = stores["allen-p"]
    with engine.connect() as conn:
        names = dict(conn.execute(select(addresses.c.email, people.c.name)
                                  .join(people, people.c.id == addresses.c.person_id)).all())
        # 'Ratcliff, Renee' exists only in X-To lines; "Renee Ratcliff" finds her all the same
        pid = identity.resolve_person(conn, "Renee Ratcliff")
        assert conn.execute(select(addresses.c.email).where(addresses.c.person_id == pid)).scalars().all() \
            == ["renee.ratcliff@enron.com"]
    assert names["renee.ratcliff@enron.com"] == "Ratcliff, Renee"
    assert names["ina.rangel@enron.com"] == "Ina Rangel"  # her From name, over 'Rangel, Ina' in X-To lines


def test_a_list_archive_has_no_owner(shared_data, sqlite_url, now):
    """List mail is addressed to the lists: no subscriber's name is taken for the owner's, nothing is proposed."""
    engine = open_store(sqlite_url)
    summary = import_path(engine, shared_data / "mailing-lists", now=now, account="lists")
    ident = _ident(engine, "lists")
    assert summary.new > 500
    assert (ident["owner_name"], ident["me"], ident["proposed"], ident["delegates"]) == (None, [], [], [])
