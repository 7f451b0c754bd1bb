"""The known-answer scenario, on a store imported from a Maildir (SQLite and PostgreSQL).

A colleague heavy on email with no conversation in months is suggested; the same colleague after "great
talking yesterday" is not; a newsletter never is; a planned lunch next week suppresses the suggestion
until then.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.report.suggest import build_suggestions, evaluate, explain_person
from inboxrel.report.volume import refresh_summary
from inboxrel.rules.policy import build_policy
from tests.rules_mail import CAROL, DAN, ERIN, FRANK, GINA, NEWS, NOW, add_interaction, import_scenario

JSON_KEYS = {"name", "email", "phone", "score", "reasons", "rules", "sent_90d", "received_90d", "last_email_at",
             "last_conversation_at", "planned_at"}


@pytest.fixture
def store(db_url, tmp_path):
    engine = open_store(db_url)
    import_scenario(engine, tmp_path / "mail")
    refresh_summary(engine)
    yield engine
    engine.dispose()


def suggested(engine, now=NOW, **kw) -> list[dict]:
    refresh_summary(engine)
    with engine.connect() as conn:
        return build_suggestions(conn, now, build_policy(**kw))


def by_email(rows) -> dict[str, dict]:
    return {r["email"]: r for r in rows}


def test_known_answers(store):
    rows = suggested(store)
    assert [r["email"] for r in rows] == [CAROL, FRANK, ERIN]
    carol, frank, erin = rows
    assert carol["rules"] == ["heavy-email-overdue-call"]
    assert carol["reasons"] == ["24 personal emails both ways in 90 days (12 sent, 12 received); no call or meeting on "
                                "record; first email 230 days ago; cadence 30 days (learned from 6 email bursts "
                                "(one every 30 days))"]
    assert (carol["sent_90d"], carol["received_90d"], carol["status"]) == (12, 12, "overdue")
    assert carol["starters"] == ["Budget item 12", "Budget item 11", "Budget item 10"]
    assert carol["good_time"].endswith("their time (UTC-05:00)") and carol["tz_offset"] == -300
    assert carol["last_conversation_at"] is None and carol["planned_at"] is None and carol["phone"] is None
    assert frank["rules"] == ["cooling"]
    assert frank["reasons"] == ["personal email fell to 1 in the last 90 days from a usual 20 (down 95%; 20 sent "
                                "and 20 received before)"]
    assert erin["rules"] == ["awaiting-reply"]
    assert erin["reasons"] == ["their message in \u201cContract question\u201d has waited 12 days for your reply"]
    assert carol["score"] > frank["score"] > erin["score"] > 0
    # never: the newsletter (automated), one-way Dan, light Gina
    assert not {NEWS, DAN, GINA} & set(by_email(rows))


def test_great_talking_yesterday_removes_the_colleague(store):
    add_interaction(store, CAROL, "past", NOW - timedelta(days=1), sentence="Great talking yesterday.",
                    direction="to_me", seen=NOW - timedelta(hours=20))
    rows = suggested(store)
    assert CAROL not in by_email(rows)
    with store.connect() as conn:
        data = explain_person(conn, CAROL, NOW, build_policy())
    heavy = next(v for v in data["verdicts"] if v["rule"] == "heavy-email-overdue-call")
    assert not heavy["fired"]
    assert heavy["reason"].endswith("last conversation 31 May (1 day ago); cadence 30 days (learned from 6 "
                                    "email bursts (one every 30 days)): not due yet")
    assert data["evidence"][0]["sentence"] == "Great talking yesterday." and data["evidence"][0]["counted"]
    # a month and more later she is due again
    assert CAROL in by_email(suggested(store, NOW + timedelta(days=32)))


def test_planned_lunch_next_week_suppresses_until_then(store):
    add_interaction(store, CAROL, "planned", NOW + timedelta(days=7), medium="in_person",
                    sentence="Lunch next Thursday?", direction="to_me", seen=NOW - timedelta(days=1))
    assert CAROL not in by_email(suggested(store))
    assert CAROL not in by_email(suggested(store, NOW + timedelta(days=6)))
    with store.connect() as conn:
        data = explain_person(conn, CAROL, NOW, build_policy())
    assert data["suppressed_by"] == "planned"
    planned = next(v for v in data["verdicts"] if v["rule"] == "planned")
    assert planned["reason"] == "meeting in person planned for 8 June (in 7 days)"
    # the day passed and nothing cancelled it: a probable conversation (lower confidence), shown as such
    assert CAROL not in by_email(suggested(store, NOW + timedelta(days=8)))
    with store.connect() as conn:
        after = explain_person(conn, CAROL, NOW + timedelta(days=8), build_policy())
    assert after["entry"]["last_conversation_probable"] == "meeting in person planned for 8 June 2024; not cancelled"
    assert after["entry"]["last_conversation_at"].startswith("2024-06-08")
    assert after["conversation"]["last_at"].startswith("2024-06-08")
    # and a cadence later she is due again
    assert CAROL in by_email(suggested(store, NOW + timedelta(days=7 + 32)))


def test_low_confidence_evidence_never_counts_alone(store):
    weak = add_interaction(store, CAROL, "past", NOW - timedelta(days=1), sentence="Thanks for meeting with us.",
                           direction="to_me", seen=NOW - timedelta(hours=20), confidence=0.45)
    rows = suggested(store)
    assert CAROL in by_email(rows)  # a weak item does not say "last talked"
    assert by_email(rows)[CAROL]["last_conversation_at"] is None
    assert "no call or meeting on record" in by_email(rows)[CAROL]["reasons"][0]
    with store.connect() as conn:
        data = explain_person(conn, CAROL, NOW, build_policy())
    item = next(e for e in data["evidence"] if e["id"] == weak)
    assert item["weak"] and item["counted"]


def test_passed_plan_that_was_cancelled_counts_for_nothing(store):
    when = NOW - timedelta(days=3)
    add_interaction(store, CAROL, "planned", when, medium="in_person", ref="lunch", seen=NOW - timedelta(days=9))
    add_interaction(store, CAROL, "cancelled", when, medium="in_person", ref="lunch-off", seen=NOW - timedelta(days=4))
    rows = suggested(store)
    assert CAROL in by_email(rows) and by_email(rows)[CAROL]["last_conversation_at"] is None


def test_cancelled_plan_does_not_suppress(store):
    when = NOW + timedelta(days=7)
    add_interaction(store, CAROL, "planned", when, medium="video", ref="evt-1")
    add_interaction(store, CAROL, "cancelled", when, medium="video", ref="evt-1-cancel")
    assert CAROL in by_email(suggested(store))


def test_newsletter_never_even_when_heavy(store):
    with store.connect() as conn:
        data = explain_person(conn, NEWS, NOW, build_policy())
    assert not data["suggested"] and data["suppressed_by"] == "automated"
    fired = [v["rule"] for v in data["verdicts"] if v["fired"]]
    assert fired == ["automated"]  # heavy on mail, but a machine: its letters are no personal mail
    heavy = next(v for v in data["verdicts"] if v["rule"] == "heavy-email-overdue-call")
    assert heavy["reason"] == ("3 personal emails both ways in 90 days (3 sent, 0 received); 30 broadcast or "
                               "automated messages not counted: fewer than 8")
    assert data["volume"]["sent_90d"] == 3 and data["volume"]["received_90d"] == 30


def test_request_raises_priority(store):
    before = by_email(suggested(store))[CAROL]["score"]
    add_interaction(store, CAROL, "request", None, medium="phone", direction="to_me",
                    sentence="Can you give me a ring when you get a chance?", seen=NOW - timedelta(days=2))
    after = by_email(suggested(store))[CAROL]
    assert after["score"] > before
    assert after["rules"] == ["heavy-email-overdue-call", "unanswered-request"]
    assert after["reasons"][1] == ("they asked to talk on 30 May (2 days ago) and you have not talked since: "
                                   "\u201cCan you give me a ring when you get a chance?\u201d")


def test_phone_and_last_conversation_in_the_entry(store):
    from sqlalchemy import insert

    from inboxrel.models import phone_numbers
    from tests.rules_mail import person_id

    add_interaction(store, CAROL, "past", NOW - timedelta(days=100), medium="video")
    with store.begin() as conn:
        conn.execute(insert(phone_numbers).values(person_id=person_id(store, CAROL), e164="+12125550147",
                                                  label="mobile", last_seen=NOW.replace(tzinfo=None)))
    carol = by_email(suggested(store))[CAROL]
    assert carol["phone"] == "+12125550147"
    assert carol["last_conversation_at"] == "2024-02-22T12:00:00+00:00"
    assert carol["last_conversation_medium"] == "video" and carol["days_since_conversation"] == 100


# -- through the command line ---------------------------------------------------------------------------------

def run(db_url, tmp_path, *args, code: int = 0) -> str:
    config = tmp_path / "config.toml"
    if not config.exists():
        config.write_text("")
    result = CliRunner().invoke(cli, ["--db", db_url, "--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_cli_json_has_the_promised_keys(store, db_url, tmp_path):
    out = run(db_url, tmp_path, "suggest", "--format", "json", "--now", NOW.isoformat())
    rows = json.loads(out)
    assert [r["email"] for r in rows] == [CAROL, FRANK, ERIN]
    for r in rows:
        assert JSON_KEYS <= set(r)
        assert isinstance(r["reasons"], list) and all(isinstance(x, str) for x in r["reasons"])
    assert rows[0]["name"] == "Carol Colleague" and rows[0]["last_email_at"].startswith("2024-05-18")
    assert len(json.loads(run(db_url, tmp_path, "--now", NOW.isoformat(), "suggest", "--format", "json",
                              "--limit", "1"))) == 1


def test_cli_formats(store, db_url, tmp_path):
    now = ["--now", NOW.isoformat()]
    table = run(db_url, tmp_path, "suggest", *now)
    assert "Carol Colleague" in table and "carol@work.example" in table and "Contract question" in table
    csv = run(db_url, tmp_path, "suggest", "--format", "csv", *now).splitlines()
    assert csv[0].startswith("rank,name,email,phone,score,status,reasons,rules")
    assert csv[1].startswith("1,Carol Colleague,carol@work.example,,")
    md = run(db_url, tmp_path, "suggest", "--format", "markdown", *now).splitlines()
    assert md[0].startswith("| # | Name | Email |") and md[2].startswith("| 1 | Carol Colleague |")
    ics = run(db_url, tmp_path, "suggest", "--format", "ics", *now)
    from icalendar import Calendar

    todos = [c for c in Calendar.from_ical(ics).walk("VTODO")]
    assert [str(t["summary"]) for t in todos] == ["Call Carol Colleague", "Call Frank Faded", "Call Erin Waiting"]
    assert "24 personal emails both ways" in str(todos[0]["description"])
    assert str(todos[0]["uid"]) == f"inboxrel-{json.loads(run(db_url, tmp_path, 'suggest', '--format', 'json', *now))[0]['person_id']}-20240601@inboxrel"
    out = tmp_path / "calls.ics"
    run(db_url, tmp_path, "suggest", "--format", "ics", "--output", str(out), *now)
    assert out.read_text().startswith("BEGIN:VCALENDAR")


def test_cli_explain(store, db_url, tmp_path):
    text = run(db_url, tmp_path, "--now", NOW.isoformat(), "explain", "carol")
    assert text.startswith("Carol Colleague <carol@work.example>")
    assert "SUGGESTED: score" in text and "FIRED heavy-email-overdue-call" in text
    assert ("compared: personal_90d=24.0, personal_sent_90d=12.0, personal_received_90d=12.0, not_counted_90d=0, "
            "emails_90d=24, min_messages=8") in text
    data = json.loads(run(db_url, tmp_path, "--now", NOW.isoformat(), "explain", "news@letters.example",
                          "--format", "json"))
    assert data["suppressed_by"] == "automated" and data["metrics"]["received"] == 30
    err = run(db_url, tmp_path, "explain", "nobody@nowhere.example", code=2)
    assert "no person matches 'nobody@nowhere.example'" in err
    err = run(db_url, tmp_path, "explain", "me@example.com", code=2)
    assert "one of your own addresses" in err


def test_cli_bad_config_is_one_line(store, db_url, tmp_path):
    (tmp_path / "config.toml").write_text("[thresholds]\nheavy_min_mesages = 3\n")
    out = run(db_url, tmp_path, "suggest", code=2)
    assert out.startswith("Error: ") and "unknown key 'heavy_min_mesages'" in out and len(out.splitlines()) == 1


def test_sql_prefilter_gives_the_same_call_list(store):
    from sqlalchemy import select

    from inboxrel.models import summary_state

    add_interaction(store, ERIN, "request", None, direction="to_me", seen=NOW - timedelta(days=1))
    for when in (NOW, NOW + timedelta(days=9), NOW - timedelta(days=40)):
        summed = suggested(store, when)  # windows summed in Python: every person checked
        refresh_summary(store, now=when)  # the day's windows stored: the database picks the candidates
        with store.connect() as conn:
            assert conn.execute(select(summary_state.c.value).where(summary_state.c.key == "asof")).scalar() == \
                when.date().isoformat()
            assert build_suggestions(conn, when, build_policy()) == summed
            # the top found by ceilings is the top of everyone scored
            for limit in (1, 2, 10):
                everyone = evaluate(conn, when, build_policy(), everyone=True).ranked[:limit]
                top = evaluate(conn, when, build_policy(), limit=limit).ranked
                assert [(p.person_id, s.value) for p, _, s in top] == \
                    [(p.person_id, s.value) for p, _, s in everyone]
    # a rule of yours has no SQL form: everyone is checked in Python, and it can fire
    mine = build_policy(rules=[{"name": "light", "when": ["total_90d >= 1", "total_90d <= 3"],
                                "reason": "{total_90d} emails"}])
    assert mine.candidates_sql(NOW) is None
    refresh_summary(store, now=NOW)
    with store.connect() as conn:
        rows = build_suggestions(conn, NOW, mine)
    assert {r["email"]: r["rules"] for r in rows}[GINA] == ["light"]
