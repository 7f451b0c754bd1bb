"""The period report: known answers on the scenario store (SQLite and PostgreSQL), and its text formats."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from inboxrel.cli import cli
from inboxrel.clock import to_db
from inboxrel.db import open_store
from inboxrel.models import folders
from inboxrel.report.summary import build_report
from inboxrel.report.volume import refresh_summary
from inboxrel.rules.policy import build_policy
from tests.rules_mail import CAROL, DAN, ERIN, FRANK, GINA, NOW, add_interaction, import_scenario


@pytest.fixture
def store(db_url, tmp_path):
    engine = open_store(db_url)
    import_scenario(engine, tmp_path / "mail")
    refresh_summary(engine)
    yield engine
    engine.dispose()


def test_report_known_answers(store):
    add_interaction(store, FRANK, "past", NOW - timedelta(days=10), medium="phone", sentence="Good call today.",
                    seen=NOW - timedelta(days=10))
    add_interaction(store, CAROL, "request", None, direction="to_me", sentence="Lunch sometime?",
                    seen=NOW - timedelta(days=50))  # before the period
    with store.begin() as conn:
        conn.execute(update(folders).where(folders.c.name == "Sent").values(
            last_success_at=to_db(NOW - timedelta(days=5)), last_error="connection reset",
            last_error_at=to_db(NOW - timedelta(hours=3))))
    with store.connect() as conn:
        rep = build_report(conn, NOW, build_policy(), since=NOW - timedelta(days=30))
    assert rep["period"] == {"since": "2024-05-02T12:00:00+00:00", "until": "2024-06-01T12:00:00+00:00", "days": 30}
    # in the 30 days: Carol 6, news 10 + 3 replies, Dan 4 + 1, Erin 3, Gina 3
    assert rep["mail"] == {"received": 17, "sent": 13, "received_personal": 7, "automated": 10, "people": 4,
                           "new_people": 2}
    assert [(r["email"], r["sent"], r["received"]) for r in rep["most_written"]] == [
        (CAROL, 3, 3), (DAN, 4, 1), (ERIN, 1, 2), (GINA, 2, 1)]
    assert [r["email"] for r in rep["new_people"]] == [ERIN, GINA]
    # Frank's call ten days ago: his mail still fell, but within his cadence it is not "cooling"
    assert rep["cooling"] == []
    assert [r["email"] for r in rep["call_list"]] == [CAROL, ERIN]
    assert [(r["subject"], r["last_from"], r["days_waiting"]) for r in rep["awaiting"]] == [
        ("Idea 1", DAN, 4), ("Contract question", ERIN, 12), ("Long time", FRANK, 40)]
    assert rep["evidence"]["counts"] == {"past": 1} and rep["evidence"]["rows"][0]["sentence"] == "Good call today."
    sync = {r["folder"]: r for r in rep["sync"]}
    assert (sync["INBOX"]["state"], sync["Sent"]["state"]) == ("ok", "failing")
    assert sync["Sent"]["last_error"] == "connection reset"
    charts = rep["charts"]
    assert len(charts["months"]) == 18 and charts["months"][-1] == "2024-06"
    carol = charts["people"][0]
    assert carol["email"] == CAROL and sum(carol["sent"]) == 17 and sum(carol["received"]) == 17
    assert {p["email"] for p in charts["circle"]} == {CAROL, DAN, ERIN, FRANK, GINA}
    assert [p["suggested"] for p in charts["circle"] if p["email"] in (CAROL, DAN)] == [True, False]


def test_cooling_in_the_report(store):
    with store.connect() as conn:
        rep = build_report(conn, NOW, build_policy(), since=NOW - timedelta(days=7), charts=False)
    assert rep["cooling"] == [{"person_id": rep["cooling"][0]["person_id"], "name": "Frank Faded", "email": FRANK,
                               "emails_90d": 1, "personal_90d": 1.0, "baseline_90d": 20.0, "last_email_at": "2024-04-22T12:00:00+00:00",
                               "reason": "personal email fell to 1 in the last 90 days from a usual 20 (down 95%; 20 sent and 20 "
                                         "received before)"}]
    assert "charts" not in rep
    assert rep["sync"][0]["state"] == "ok"
    with store.connect() as conn:
        stale = build_report(conn, NOW + timedelta(days=3), build_policy(), since=NOW - timedelta(days=7))
    assert {r["state"] for r in stale["sync"]} == {"stale"}


def run(db_url, tmp_path, *args, code: int = 0) -> str:
    config = tmp_path / "config.toml"
    config.write_text("")
    result = CliRunner().invoke(cli, ["--db", db_url, "--config", str(config), "--now", NOW.isoformat(), *args],
                                catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_report_formats(store, db_url, tmp_path):
    table = run(db_url, tmp_path, "report")
    assert table.startswith("inboxrel report: 2024-05-02 to 2024-06-01 (30 days)\n")
    assert "Mail: 17 received (7 from people, 10 automated), 13 sent; 4 people, 2 new" in table
    for title in ("Call list", "Most written", "New people", "Cooling relationships", "Threads awaiting your reply",
                  "Sync health"):
        assert title in table
    assert "Conversation evidence found: none" in table
    md = run(db_url, tmp_path, "report", "--format", "markdown", "--since", "2024-05-25")
    assert md.startswith("# inboxrel report: 2024-05-25 to 2024-06-01\n")
    assert "## Call list" in md and "| 1 | Carol Colleague |" in md
    assert "| Frank Faded | frank@faded.example | 1 | 20 | personal email fell to 1" in md
    data = json.loads(run(db_url, tmp_path, "report", "--format", "json", "--since", "7d", "--limit", "1"))
    assert data["period"]["days"] == 7 and len(data["call_list"]) == 1
    assert "charts" in data
    assert "give a duration such as 30d" in run(db_url, tmp_path, "report", "--since", "last week", code=2)
    assert "--format html needs --output FILE" in run(db_url, tmp_path, "report", "--format", "html", code=2)
    assert "is not before now" in run(db_url, tmp_path, "report", "--since", "2025-01-01", code=2)


def test_markdown_escapes_mail(tmp_path):
    from inboxrel.report.text import md

    assert md("<b>x</b> | [link](http://e) *y*") == "&lt;b&gt;x&lt;/b&gt; \\| \\[link\\](http://e) \\*y\\*"


def test_tables_keep_rich_markup_in_mail_as_text():
    from inboxrel.report.render import render_table
    from inboxrel.report.text import suggestions_table

    text = render_table([{"subject": "[EXTERNAL] budget [/] [bold]x[/bold]"}], ["subject"])
    assert "[EXTERNAL] budget [/] [bold]x[/bold]" in text
    row = {"rank": 1, "name": "[red]Eve[/red]", "email": "eve@x.example", "phone": None, "score": 50.0,
           "status": "due", "reasons": ["[/] odd"], "last_conversation_at": None, "cadence_days": 60,
           "cadence_source": "default", "planned_at": None, "starters": ["[b]hi[/b]"], "good_time": "10:00"}
    text = suggestions_table([row])
    assert "[red]Eve[/red]" in text and "- [/] odd" in text and "\u201c[b]hi[/b]\u201d" in text
