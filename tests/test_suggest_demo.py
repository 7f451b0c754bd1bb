"""`inboxrel demo`'s story, end to end: import (with the conversation signals) and the call list it gives."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from inboxrel.demo import DEMO_ME, DEMO_NOW, generate_demo

    base = tmp_path_factory.mktemp("demo")
    info = generate_demo(base / "mail")
    (base / "config.toml").write_text("")
    url = f"sqlite:///{base / 'store.db'}"

    def run(*args):
        result = CliRunner().invoke(cli, ["--db", url, "--config", str(base / "config.toml"), "--now",
                                          DEMO_NOW.isoformat(), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    run("import", str(base / "mail"), "--account", "demo", "--me", DEMO_ME, "--quiet")
    return info, run


def test_demo_call_list_tells_the_story(demo):
    info, run = demo
    story = info["story"]
    rows = json.loads(run("suggest", "--format", "json"))
    emails = [r["email"] for r in rows]
    assert set(story["suggest"]) <= set(emails[:5]), emails
    assert not set(story["not_suggested"]) & set(emails)
    assert not set(story["never"]) & set(emails)
    assert set(story["cooling"]) <= set(emails)
    cooling = next(r for r in rows if r["email"] == story["cooling"][0])
    assert "cooling" in cooling["rules"]
    for r in rows[:3]:
        assert r["rules"][0] == "heavy-email-overdue-call" and r["status"] == "overdue"
        assert r["starters"] and r["good_time"].endswith(")")


def test_demo_explains_who_is_left_out(demo):
    info, run = demo
    dana, jonah = list(info["story"]["not_suggested"])
    dana_why = json.loads(run("explain", dana, "--format", "json"))
    heavy = next(v for v in dana_why["verdicts"] if v["rule"] == "heavy-email-overdue-call")
    assert not dana_why["suggested"] and not heavy["fired"]
    assert dana_why["conversation"]["last_at"].startswith("2026-11-1")
    jonah_why = json.loads(run("explain", jonah, "--format", "json"))
    assert jonah_why["suppressed_by"] == "planned"
    assert jonah_why["conversation"]["planned_at"].startswith("2026-11-19")
