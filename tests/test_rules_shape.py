"""Rules on the right shape of mail, and each rule's condition written once.

- cooling needs a two-way relationship: a sender I never wrote to does not "cool";
- awaiting-reply ignores a last message that only acknowledges ("thanks", "ok") and mail to many;
- the gate of every suggest rule selects the same people in SQL (``may_fire_sql`` over person_totals) as in
  Python (``may_fire`` over the facts), on real mail and on several dates.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from inboxrel.db import open_store
from inboxrel.models import person_totals
from inboxrel.pipelines.importer import import_path
from inboxrel.report.facts import load_facts
from inboxrel.report.suggest import explain_person
from inboxrel.report.volume import refresh_summary
from inboxrel.rules.acknowledgement import is_acknowledgement, own_text
from inboxrel.rules.policy import BUILTIN, build_policy
from tests.rules_mail import ME, ME_NAME, NOW, Mail, thread, write_maildir

PAT = (ME_NAME, ME)
OLGA = ("Olga Oneway", "olga@oneway.example")
FRANK = ("Frank Faded", "frank@faded.example")
THANKS = ("Tom Thanks", "tom@thanks.example")
QUINN = ("Quinn Question", "quinn@question.example")
ROSA = ("Rosa Round", "rosa@round.example")


def mailbox() -> list[Mail]:
    mails: list[Mail] = []
    for k in range(40):  # 40 one-to-one messages from Olga 9 to 5 months ago; I never wrote to her
        mails.append(Mail(OLGA, [PAT], f"Olga {k}", NOW - timedelta(days=270 - 4 * k), msgid=f"olga{k}@oneway.example"))
    mails.append(Mail(OLGA, [PAT], "Olga again", NOW - timedelta(days=40), msgid="olga-last@oneway.example"))
    for k in range(20):  # the same shape both ways: cooling
        mails += thread(FRANK, f"Project {k}", NOW - timedelta(days=270 - 6 * k), replies=1, tag="f")
    mails.append(Mail(FRANK, [PAT], "Long time", NOW - timedelta(days=40), msgid="frank-last@faded.example"))
    # three threads waiting on their last message, 12 days old: a thank-you, a question, a message to many
    tom = thread(THANKS, "Contract draft", NOW - timedelta(days=14), replies=2, tag="t", gap=timedelta(days=1))
    tom[-1].body = "Thanks!\n\nTom\n\n-----Original Message-----\nFrom: Pat\nCan you check clause 4?\n"
    quinn = thread(QUINN, "Contract terms", NOW - timedelta(days=14), replies=2, tag="q", gap=timedelta(days=1))
    quinn[-1].body = "Thanks. Could you send me the signed copy by Friday?\n"
    rosa = thread(ROSA, "Team dinner", NOW - timedelta(days=14), replies=2, tag="r", gap=timedelta(days=1))
    rosa[-1].to = [PAT] + [(f"Guest {k}", f"guest{k}@round.example") for k in range(7)]
    rosa[-1].body = "Everyone: the table is booked for 8 pm, what would you like to eat?\n"
    return mails + tom + quinn + rosa


@pytest.fixture
def store(db_url, tmp_path):
    engine = open_store(db_url)
    write_maildir(tmp_path / "mail", mailbox())
    import_path(engine, tmp_path / "mail", now=NOW, account="test", me=[ME])
    refresh_summary(engine, now=NOW)
    yield engine
    engine.dispose()


def verdict(engine, email: str, rule: str) -> dict:
    with engine.connect() as conn:
        data = explain_person(conn, email, NOW, build_policy())
    return next(v for v in data["verdicts"] if v["rule"] == rule)


def test_cooling_needs_mail_both_ways(store):
    olga = verdict(store, OLGA[1], "cooling")
    assert not olga["fired"]
    assert olga["reason"] == ("one-way before the last 90 days (0 sent, 40 received): no two-way relationship "
                              "to cool")
    frank = verdict(store, FRANK[1], "cooling")
    assert frank["fired"] and frank["reason"].startswith("personal email fell to 1 in the last 90 days")
    assert "20 sent and 20 received before" in frank["reason"]


def test_awaiting_reply_skips_acknowledgements_and_mail_to_many(store):
    tom = verdict(store, THANKS[1], "awaiting-reply")
    assert not tom["fired"] and tom["numbers"]["threads_closed"] == 1
    assert "ending in an acknowledgement or a message to many not counted" in tom["reason"]
    rosa = verdict(store, ROSA[1], "awaiting-reply")
    assert not rosa["fired"] and rosa["numbers"]["threads_open"] == 0
    quinn = verdict(store, QUINN[1], "awaiting-reply")
    assert quinn["fired"] and quinn["reason"] == "their message in \u201cContract terms\u201d has waited 12 days " \
                                                 "for your reply"
    with store.connect() as conn:
        from inboxrel.report.suggest import build_suggestions

        listed = {r["email"] for r in build_suggestions(conn, NOW, build_policy(), limit=20)}
    assert QUINN[1] in listed and THANKS[1] not in listed and ROSA[1] not in listed and OLGA[1] not in listed


@pytest.mark.parametrize("text,ack", [
    ("Thanks!", True),
    ("ok", True),
    ("Sounds good.\n\nMark", True),
    ("Will do.\n\n-----Original Message-----\nFrom: Pat\nCan you call Bob?", True),
    ("thank you.\n\n -----Original Message-----\nFrom: \tAllen, Phillip K.\nSent:\tThursday", True),
    (" \nThat is fine!\n\n\n            Phillip.K.Allen@enron.c\n            om    To:     Monica L. Brown", True),
    ("Thanks, can you send me the executed copy by Friday?", False),
    ("Thanks for the update. I will review the draft and send comments to Sara tomorrow morning.", False),
    ("", False),
])
def test_acknowledgements(text, ack):
    assert is_acknowledgement(text) is ack


def test_own_text_stops_at_the_quoted_block():
    assert own_text("Fine.\n> Can you call?\n").strip() == "Fine."


def _gate_agrees(engine, now, policy):
    th = policy.th
    refresh_summary(engine, now=now)
    with engine.connect() as conn:
        facts = load_facts(conn, now, th, enrich=False)
        for rule in (r for r in BUILTIN.values() if r.action == "suggest"):
            cond = rule.may_fire_sql(person_totals.c, th, now)
            assert cond is not None, rule.name
            in_sql = set(conn.execute(select(person_totals.c.person_id).where(cond)).scalars())
            in_python = {pid for pid, p in facts.items() if rule.may_fire(p, th)}
            assert in_sql == in_python, (rule.name, now, in_sql ^ in_python)
            yield rule.name, len(in_python)


def test_each_gate_is_the_same_in_sql_and_python_on_real_mail(shared_data, sqlite_url):
    engine = open_store(sqlite_url)
    import_path(engine, shared_data / "enron" / "heard-m" / "maildir", now=NOW, account="heard-m", signals=False)
    policy = build_policy()
    picked = {}
    for now in (datetime(2001, 6, 1, 12, tzinfo=timezone.utc), datetime(2001, 11, 15, 18, tzinfo=timezone.utc),
                datetime(2002, 1, 5, 12, tzinfo=timezone.utc)):
        for name, n in _gate_agrees(engine, now, policy):
            picked[name] = picked.get(name, 0) + n
    # a test that cannot pass by selecting no one: every gate picks somebody on some date
    assert all(n > 0 for n in picked.values()), picked
    engine.dispose()


def test_a_gate_is_written_once():
    """may_fire, may_fire_sql and the reason of a failing check all come from the rule's gate."""
    import inspect

    for rule in BUILTIN.values():
        cls = type(rule)
        assert rule.gate(build_policy().th), rule.name
        assert "may_fire" not in vars(cls) and "may_fire_sql" not in vars(cls), rule.name
        assert "self.unmet(" in inspect.getsource(cls.check), rule.name
