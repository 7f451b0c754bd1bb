"""Feedback commands (snooze, dismiss, ignore, circle) are stored and change the next `suggest`."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import circle_members, circles, feedback, ignores, interactions
from inboxrel.report.volume import refresh_summary
from tests.rules_mail import CAROL, ERIN, FRANK, NOW, import_scenario

T = NOW.isoformat()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One imported scenario store, copied for each test (SQLite)."""
    base = tmp_path_factory.mktemp("feedback")
    engine = open_store(f"sqlite:///{base / 'store.db'}")
    import_scenario(engine, base / "mail")
    refresh_summary(engine)
    engine.dispose()
    return base / "store.db"


@pytest.fixture
def url(template, tmp_path):
    shutil.copy(template, tmp_path / "store.db")
    return f"sqlite:///{tmp_path / 'store.db'}"


def run(url, tmp_path, *args, code: int = 0) -> str:
    config = tmp_path / "config.toml"
    if not config.exists():
        config.write_text("")
    result = CliRunner().invoke(cli, ["--db", url, "--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def emails(url, tmp_path, now=NOW) -> list[str]:
    rows = json.loads(run(url, tmp_path, "--now", now.isoformat(), "suggest", "--format", "json"))
    return [r["email"] for r in rows]


def count(url, table, *where) -> int:
    engine = open_store(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table).where(*where)).scalar()
    engine.dispose()
    return n


def test_snooze_until_the_days_pass(url, tmp_path):
    assert emails(url, tmp_path) == [CAROL, FRANK, ERIN]
    out = run(url, tmp_path, "--now", T, "snooze", "carol", "--days", "10")
    assert out == "snoozed Carol Colleague <carol@work.example> until 2024-06-11\n"
    assert emails(url, tmp_path) == [FRANK, ERIN]
    assert CAROL not in emails(url, tmp_path, NOW + timedelta(days=9))
    assert emails(url, tmp_path, NOW + timedelta(days=11))[0] == CAROL


def test_dismiss_talked_logs_a_conversation(url, tmp_path):
    out = run(url, tmp_path, "--now", T, "dismiss", CAROL, "--reason", "talked", "--medium", "phone")
    assert "logged a conversation with Carol Colleague" in out
    assert count(url, interactions, interactions.c.source == "manual", interactions.c.kind == "past",
                 interactions.c.medium == "phone") == 1
    assert emails(url, tmp_path) == [FRANK, ERIN]
    # her learned cadence is 30 days: due again after that
    assert CAROL in emails(url, tmp_path, NOW + timedelta(days=31))
    explain = run(url, tmp_path, "--now", T, "explain", CAROL)
    assert "manual dismiss:" in explain and "note: dismissed from the call list: talked" in explain


def test_dismiss_not_a_relationship_ignores_and_undo(url, tmp_path):
    run(url, tmp_path, "--now", T, "dismiss", FRANK, "--reason", "not-a-relationship")
    assert emails(url, tmp_path) == [CAROL, ERIN]
    assert count(url, ignores, ignores.c.reason == "not a relationship") == 1
    assert "frank@faded.example" in run(url, tmp_path, "ignore", "--list")
    run(url, tmp_path, "ignore", "--undo", FRANK)
    assert emails(url, tmp_path) == [CAROL, FRANK, ERIN]


def test_dismiss_seasonal_sets_a_long_cadence(url, tmp_path):
    out = run(url, tmp_path, "--now", T, "dismiss", CAROL, "--reason", "seasonal", "--cadence", "6m")
    assert out == "Carol Colleague <carol@work.example>: cadence set to 180 days\n"
    assert CAROL not in emails(url, tmp_path)
    assert CAROL not in emails(url, tmp_path, NOW + timedelta(days=100))
    data = json.loads(run(url, tmp_path, "--now", (NOW + timedelta(days=100)).isoformat(), "explain", CAROL,
                          "--format", "json"))
    assert data["cadence"] == {"ideal_days": 180, "max_days": 270, "source": "set by you: seasonal on 2024-06-01"}
    assert count(url, feedback, feedback.c.action == "dismiss", feedback.c.cadence_days == 180) == 1
    run(url, tmp_path, "dismiss", CAROL, "--reason", "talked", "--cadence", "6m", code=2)


def test_ignore_person_and_domain(url, tmp_path):
    assert run(url, tmp_path, "--now", T, "ignore", "erin waiting") == \
        "ignoring Erin Waiting <erin@waiting.example>\n"
    assert emails(url, tmp_path) == [CAROL, FRANK]
    assert run(url, tmp_path, "--now", T, "ignore", "@WORK.example") == "ignoring @work.example\n"
    assert emails(url, tmp_path) == [FRANK]
    assert "(already ignored)" in run(url, tmp_path, "--now", T, "ignore", "@work.example")
    data = json.loads(run(url, tmp_path, "ignore", "--list", "--format", "json"))
    assert [r["target"] for r in data] == ["erin@waiting.example", "@work.example"]
    run(url, tmp_path, "ignore", "--undo", "@work.example")
    assert emails(url, tmp_path) == [CAROL, FRANK]
    assert "is not a domain" in run(url, tmp_path, "ignore", "@not a domain", code=2)
    assert "no person matches" in run(url, tmp_path, "ignore", "zed@nowhere.example", code=2)


def test_circle_cadence_changes_due_and_overdue(url, tmp_path):
    out = run(url, tmp_path, "circle", "add", "inner", "--cadence", "1y", CAROL)
    assert out == "circle inner: due after 365 days, overdue after 548; added Carol Colleague <carol@work.example>\n"
    assert CAROL not in emails(url, tmp_path)  # first email 230 days ago: not due on a yearly cadence
    run(url, tmp_path, "circle", "add", "inner", "--cadence", "30d", "--max", "200d")
    rows = json.loads(run(url, tmp_path, "--now", T, "suggest", "--format", "json"))
    carol = next(r for r in rows if r["email"] == CAROL)
    assert (carol["cadence_days"], carol["cadence_max_days"], carol["cadence_source"], carol["status"]) == \
        (30, 200, "circle inner", "overdue")
    listing = json.loads(run(url, tmp_path, "circle", "list", "--format", "json"))
    assert listing == [{"circle": "inner", "cadence_days": 30, "max_days": 200,
                        "members": [{"person_id": carol["person_id"], "name": "Carol Colleague", "email": CAROL}]}]
    run(url, tmp_path, "circle", "remove", "inner", CAROL)
    assert count(url, circle_members) == 0
    run(url, tmp_path, "circle", "remove", "inner")
    assert count(url, circles) == 0
    assert "is new: give its cadence" in run(url, tmp_path, "circle", "add", "close", CAROL, code=2)
    assert "no circle named 'gone'" in run(url, tmp_path, "circle", "remove", "gone", code=2)


def test_feedback_on_postgres(pg_url, tmp_path):
    engine = open_store(pg_url)
    import_scenario(engine, tmp_path / "mail")
    engine.dispose()
    run(pg_url, tmp_path, "--now", T, "snooze", CAROL, "--days", "5")
    run(pg_url, tmp_path, "--now", T, "ignore", "@waiting.example")
    run(pg_url, tmp_path, "circle", "add", "old", "--cadence", "2y", FRANK)
    assert emails(pg_url, tmp_path) == []
    run(pg_url, tmp_path, "--now", T, "dismiss", FRANK, "--reason", "talked")
    later = emails(pg_url, tmp_path, NOW + timedelta(days=6))
    assert later[0] == CAROL and FRANK not in later and ERIN not in later
