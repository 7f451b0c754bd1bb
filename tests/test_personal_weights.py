"""Personal mail, not volume: each message weighs by its shape, the same in the metrics and the derived tables.

A small mailbox built for the purpose shows each shape once; the Enron practice user heard-m shows the
real ones (out-of-office replies, no.address@enron.com, "Enron General Announcements", credit notices to
dozens of people).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inboxrel.db import open_store
from inboxrel.models import messages
from inboxrel.pipelines.classify import classify_message, is_autoreply
from inboxrel.pipelines.importer import import_path
from inboxrel.report.metrics import compute_metrics
from inboxrel.report.personal import GROUP_WEIGHT, broadcast_senders, personal_weight
from inboxrel.report.queries import people_rows
from inboxrel.report.volume import load_volumes, refresh_summary
from inboxrel.rules.policy import build_policy
from tests.rules_mail import ME, ME_NAME, NOW, Mail, person_id, write_maildir

PAT = (ME_NAME, ME)
ANN = ("Ann One", "ann@one.example")
BEN = ("Ben Group", "ben@group.example")
BOSS = ("Big Boss", "boss@corp.example")
NEWS = ("Corp Announcements", "announce.corp@corp.example")
LONG = "Dear all,\n\n" + "Please find the quarterly figures attached and read them before Monday. " * 5 + "\n"


def shapes() -> list[Mail]:
    others = [(f"Other {k}", f"other{k}@group.example") for k in range(8)]
    mails = []
    day = lambda k: NOW - timedelta(days=10 + k)  # noqa: E731
    for k in range(4):  # one-to-one, from Ann: 1 each
        mails.append(Mail(ANN, [PAT], f"Question {k}", day(k), msgid=f"ann{k}@one.example"))
    for k in range(2):  # one-to-one, to Ann
        mails.append(Mail(PAT, [ANN], f"Re: Question {k}", day(k) + timedelta(hours=2), msgid=f"me-ann{k}@ex"))
    # Ann's out-of-office reply: automated, weighs nothing, and Ann stays a person
    mails.append(Mail(ANN, [PAT], "Out of Office AutoReply: Re: Question 0", day(0) + timedelta(hours=3),
                      msgid="ann-oof@one.example", body="I am out of the office until Monday.\n"))
    for k in range(2):  # small group of three: a part each
        mails.append(Mail(BEN, [PAT, others[0], others[1]], f"Group {k}", day(k), msgid=f"ben{k}@group.example"))
    for k in range(3):  # to nine people: a broadcast
        mails.append(Mail(BOSS, [PAT, *others], f"Weekly report {k}", day(k), msgid=f"boss{k}@corp.example"))
    mails.append(Mail(PAT, [BOSS], "Re: Weekly report 0", day(0) + timedelta(hours=1), msgid="me-boss@ex"))
    for k in range(6):  # the same text, sent to six people one by one: a broadcast too
        mails.append(Mail(PAT, [others[k]], "Quarterly figures", day(k), msgid=f"me-fig{k}@ex", body=LONG))
    for k in range(3):  # an announcement sender I never answer, one recipient each
        mails.append(Mail(NEWS, [PAT], f"Office move {k}", day(k), msgid=f"news{k}@corp.example"))
    return mails


@pytest.fixture
def store(db_url, tmp_path):
    engine = open_store(db_url)
    write_maildir(tmp_path / "mail", shapes())
    import_path(engine, tmp_path / "mail", now=NOW, account="test", me=[ME])
    refresh_summary(engine, now=NOW)
    yield engine
    engine.dispose()


def test_each_shape_weighs_its_part(store):
    ids = {who[1]: person_id(store, who[1]) for who in (ANN, BEN, BOSS, NEWS)}
    with store.connect() as conn:
        metrics = compute_metrics(conn, NOW)
        volumes = load_volumes(conn, NOW)
        assert set(broadcast_senders(conn)) == {ids[NEWS[1]]}
        auto = dict(conn.execute(select(messages.c.message_id, messages.c.automated)).all())
    assert auto["ann-oof@one.example"] == "autoreply" and auto["ann0@one.example"] is None
    expected = {  # (personal sent, personal received, not counted in 90 days)
        ANN[1]: (2.0, 4.0, 1),  # the auto-reply is the one not counted
        BEN[1]: (0.0, 2 * GROUP_WEIGHT, 0),
        BOSS[1]: (1.0, 0.0, 3),
        NEWS[1]: (0.0, 0.0, 3),
    }
    for email, (ps, pr, bulk) in expected.items():
        m, v = metrics[ids[email]], volumes[ids[email]]
        assert (m.personal_sent_90d, m.personal_received_90d, m.bulk_90d) == (ps, pr, bulk), email
        # the derived tables count exactly what the metrics count, all time and in every window
        for name in ("personal_sent", "personal_received", "personal_sent_30d", "personal_received_30d",
                     "personal_sent_90d", "personal_received_90d", "personal_sent_365d", "personal_received_365d",
                     "bulk_90d"):
            assert getattr(v, name) == getattr(m, name), (email, name)
    assert metrics[ids[ANN[1]]].received_90d == 5  # the raw count still has every message
    for k in range(6):  # the six copies of one text count nothing for anyone
        assert metrics[person_id(store, f"other{k}@group.example")].personal_sent == 0
    assert metrics[ids[NEWS[1]]].automated and not metrics[ids[ANN[1]]].automated


def test_people_json_and_the_call_list_use_personal_counts(store):
    with store.connect() as conn:
        rows = {r["email"]: r for r in people_rows(conn, NOW)}
    assert rows[ANN[1]]["personal_sent_90d"] == 2.0 and rows[ANN[1]]["personal_received_90d"] == 4.0
    assert rows[NEWS[1]]["automated"] is True
    from inboxrel.report.suggest import explain_person

    with store.connect() as conn:
        boss = explain_person(conn, BOSS[1], NOW, build_policy())
    heavy = next(v for v in boss["verdicts"] if v["rule"] == "heavy-email-overdue-call")
    assert not heavy["fired"]
    assert heavy["reason"] == ("1 personal email both ways in 90 days (1 sent, 0 received); 3 broadcast or "
                               "automated messages not counted: fewer than 8")


def test_weight_in_python_matches_the_rule_of_shapes():
    assert personal_weight(1) == 1.0 and personal_weight(3) == GROUP_WEIGHT and personal_weight(5) == GROUP_WEIGHT
    assert personal_weight(6) == 0.0 and personal_weight(0) == 0.0
    assert personal_weight(1, "autoreply") == 0.0 and personal_weight(1, broadcast=True) == 0.0


@pytest.mark.parametrize("headers,subject,kind", [
    ({}, "Out of Office AutoReply: Amerada Hess Corporation", "autoreply"),
    ({}, "Automatic reply: budget", "autoreply"),
    ({"auto-submitted": "auto-replied"}, "Re: budget", "autoreply"),
    ({"x-autoreply": "yes"}, "Re: budget", "autoreply"),
    ({}, "KC out of office from noon today", None),  # a person telling us, not a machine
    ({}, "Mark Taylor - Out of Office", None),
    ({"auto-submitted": "auto-generated"}, "Your report", "notification"),
])
def test_auto_replies_are_automated(headers, subject, kind):
    assert classify_message(headers, "kc@example.com", subject) == kind
    assert is_autoreply(headers, subject) == (kind == "autoreply")


def test_no_address_sender_is_a_role():
    assert classify_message({}, "no.address@enron.com", "eSource Presents Briefings") == "role"


def test_heard_m_broadcasts_and_auto_replies_do_not_count(shared_data, sqlite_url, now):
    engine = open_store(sqlite_url)
    import_path(engine, shared_data / "enron" / "heard-m" / "maildir", now=now, account="heard-m", signals=False)
    refresh_summary(engine, now=now)
    with engine.connect() as conn:
        oof = conn.execute(select(messages.c.automated).where(
            messages.c.subject.like("Out of Office AutoReply:%"))).scalars().all()
        assert len(oof) >= 10 and set(oof) == {"autoreply"}
        found = broadcast_senders(conn)
        rows = {r["email"]: r for r in people_rows(conn, now)}
    # the company's announcement senders, told apart by the mailbox alone
    assert rows["no.address@enron.com"]["automated"]
    announcers = [e for e, r in rows.items() if "announcement" in (r["name"] or "").lower()]
    assert announcers and all(rows[e]["automated"] for e in announcers)
    assert all(rows[e]["id"] in found or rows[e]["automated"] for e in announcers)
    # Mary Cook's UCC filing notices go to 18 people on average: they weigh nothing, her own mail does
    cook = rows["mary.cook@enron.com"]
    assert cook["received_90d"] > cook["personal_received_90d"] > 0 and cook["bulk_90d"] > 20
    for r in rows.values():
        assert r["personal_sent_90d"] <= r["sent_90d"] and r["personal_received_90d"] <= r["received_90d"]
    engine.dispose()


def test_upgrade_to_0004_keeps_the_mail_and_rebuilds_the_personal_counts(db_url, tmp_path):
    """A store at 0003 with mail and built derived tables: after the upgrade the mail is all there and the
    first read rebuilds the tables with the personal counts."""
    from sqlalchemy import func

    from inboxrel.db import current_revision, migrate
    from inboxrel.models import person_totals, summary_state

    engine = open_store(db_url)
    write_maildir(tmp_path / "mail", shapes())
    import_path(engine, tmp_path / "mail", now=NOW, account="test", me=[ME])
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(messages)).scalar()
    from alembic import command

    from inboxrel.db import _alembic_config

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    assert current_revision(engine) == "0003"
    with engine.begin() as conn:  # derived tables built by the 0003 code: no personal columns
        conn.execute(person_totals.delete())
        conn.exec_driver_sql("INSERT INTO person_totals (person_id, sent, received, sent_30d, received_30d, "
                             "sent_90d, received_90d, sent_365d, received_365d) VALUES (1, 1, 1, 0, 0, 0, 0, 0, 0)")
        conn.execute(summary_state.insert().values(key="fingerprint", value="built-by-0003"))
    migrate(engine)
    assert current_revision(engine) == "0004" or current_revision(engine) > "0004"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == before
        assert conn.execute(select(summary_state.c.value)).all() == []  # forgotten: rebuilt on the next read
    assert refresh_summary(engine, now=NOW) is True
    ann = person_id(engine, ANN[1])
    with engine.connect() as conn:
        assert load_volumes(conn, NOW, [ann])[ann].personal_received_90d == 4.0
    engine.dispose()


@pytest.mark.parametrize("user", ["heard-m", "allen-p"])
def test_the_call_list_on_real_mail_is_people_writing_both_ways(shared_data, sqlite_url, now, user):
    """As the owner reads it: nobody on the list is a broadcast sender, a machine or a one-way correspondent,
    and the load the reasons cite is personal mail."""
    from inboxrel.report.suggest import build_suggestions

    engine = open_store(sqlite_url)
    import_path(engine, shared_data / "enron" / user / "maildir", now=now, account=user, signals=False)
    refresh_summary(engine, now=now)
    with engine.connect() as conn:
        rows = build_suggestions(conn, now, build_policy(), limit=10)
        people = {r["id"]: r for r in people_rows(conn, now)}
        found = broadcast_senders(conn)
    assert len(rows) >= 5, [r["email"] for r in rows]
    for r in rows:
        p = people[r["person_id"]]
        assert not p["automated"] and r["person_id"] not in found, r["email"]
        assert p["personal_sent_365d"] > 0 and p["personal_received_365d"] > 0, r["email"]  # two-way
        for reason in r["reasons"]:
            assert " emails both ways" not in reason or " personal emails both ways" in reason, reason
    assert any("personal emails both ways in 90 days" in reason for r in rows for reason in r["reasons"])
    engine.dispose()
