"""Conversation evidence on the two real Enron practice mailboxes, imported as a new user would (defaults).

Scored with evidence-dev's reference scorer against its hand labels (a floor that guards what was reached,
not a target: the figures are in the README), and read for the kinds of false evidence a user sees at once:
no item from a broadcast, an automated sender, a message the owner was only copied on, a courtesy line, or a
delegate; and `suggest` quotes none of them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import addresses, interactions, messages, participants, people
from inboxrel.signals.courtesy import is_courtesy

pytestmark = pytest.mark.corpus
NOW = "2002-01-05"
FLOORS = {"allen-p": (0.7, 0.65), "heard-m": (0.7, 0.6)}  # (precision, recall) reached when this was written


@pytest.fixture(scope="module", params=sorted(FLOORS))
def mailbox(request, shared_data, tmp_path_factory):
    user = request.param
    url = f"sqlite:///{tmp_path_factory.mktemp(user) / 'store.db'}"
    res = CliRunner().invoke(cli, ["--db", url, "--now", NOW, "import", str(shared_data / "enron" / user / "maildir"),
                                   "--account", user, "-q"])
    assert res.exit_code == 0, res.output
    return user, url, shared_data


def run(url, *args):
    res = CliRunner().invoke(cli, ["--db", url, "--now", NOW, *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_scored_against_the_hand_labels(mailbox, tmp_path):
    user, url, shared = mailbox
    items = tmp_path / "items.json"
    items.write_text(run(url, "evidence", "--format", "json"))
    dev = shared / "evidence-dev"
    out = subprocess.run([sys.executable, str(dev / "score.py"), str(shared / "enron" / user / "maildir"),
                          str(dev / f"{user}.labels.jsonl"), str(items)], capture_output=True, text=True, check=True)
    scores = json.loads(out.stdout)
    precision, recall = FLOORS[user]
    assert scores["precision"] >= precision and scores["recall"] >= recall, scores


def test_no_evidence_from_mail_that_cannot_hold_a_personal_conversation(mailbox):
    _, url, _ = mailbox
    engine = open_store(url)
    with engine.connect() as conn:
        rows = conn.execute(select(interactions.c.message_id, interactions.c.kind, interactions.c.sentence,
                                   messages.c.automated, messages.c.direction)
                            .join(messages, messages.c.id == interactions.c.message_id)
                            .where(interactions.c.source == "message")).all()
        assert len(rows) > 20
        ids = [r.message_id for r in rows]
        others = dict(conn.execute(
            select(participants.c.message_id, func.count(func.distinct(participants.c.address_id)))
            .join(addresses, addresses.c.id == participants.c.address_id)
            .join(people, people.c.id == addresses.c.person_id)
            .where(participants.c.message_id.in_(ids), participants.c.role.in_(("from", "to", "cc")),
                   people.c.is_me.is_(False))
            .group_by(participants.c.message_id)).all())
        copied_only = {r.message_id for r in conn.execute(
            select(participants.c.message_id)
            .join(addresses, addresses.c.id == participants.c.address_id)
            .join(people, people.c.id == addresses.c.person_id)
            .where(participants.c.message_id.in_(ids), participants.c.role == "to", people.c.is_me.is_(True)))}
        announcers = conn.execute(select(func.count()).select_from(interactions)
                                  .join(addresses, addresses.c.person_id == interactions.c.person_id)
                                  .where(addresses.c.email.like("no.address@%"))).scalar()
    engine.dispose()
    for r in rows:
        assert not r.automated, r
        assert others.get(r.message_id, 0) <= 4, r  # broadcasts give nothing
        if r.direction == "received":
            assert r.message_id in copied_only, r  # to me, not only copied
        if r.kind in ("request", "planned"):
            assert not is_courtesy(r.sentence or "", r.kind), r
    assert announcers == 0


def test_suggest_quotes_no_courtesy_line(mailbox):
    _, url, _ = mailbox
    rows = json.loads(run(url, "suggest", "--format", "json", "--limit", "10"))
    for r in rows:
        for reason in r["reasons"]:
            if "asked to talk" in reason and "\u201c" in reason:
                quote = reason.split("\u201c", 1)[1]
                assert not is_courtesy(quote, "request"), reason
