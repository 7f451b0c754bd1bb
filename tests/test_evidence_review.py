"""`inboxrel evidence` and `evidence reject`: the list, its JSON, and rejections that survive re-analysis
and re-imports. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import evidence_rejections, interactions
from tests.conftest import FIXTURES

MAIL = FIXTURES / "signals" / "mail"
NOW = "2024-05-25T12:00:00Z"
KEYS = {"id", "name", "email", "emails", "kind", "medium", "at", "confidence", "source", "message_id", "folder",
        "location", "sentence"}


def run(db_url, *args):
    return CliRunner().invoke(cli, ["--db", db_url, "--now", NOW, *args])


def items(db_url, *args) -> list[dict]:
    res = run(db_url, "evidence", "--format", "json", *args)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def imported(db_url):
    res = run(db_url, "import", str(MAIL), "--me", "me@me.example", "--sent-folder", "sent", "-q")
    assert res.exit_code == 0, res.output


def test_evidence_lists_every_item_with_its_source(db_url):
    imported(db_url)
    rows = items(db_url)
    assert rows and all(KEYS <= set(r) for r in rows)
    great = next(r for r in rows if r["sentence"] == "Great talking yesterday.")
    assert (great["email"], great["kind"], great["source"]) == ("alice@alpha.example", "past", "message")
    assert great["emails"] == ["alice@alpha.example"]
    assert great["message_id"] and not great["message_id"].startswith("<")
    assert great["folder"] in ("inbox", "sent") and great["location"].endswith(".eml")
    # the filters
    assert {r["email"] for r in items(db_url, "--person", "alice@alpha.example")} == {"alice@alpha.example"}
    assert {r["kind"] for r in items(db_url, "--kind", "planned")} == {"planned"}
    assert items(db_url, "--since", "2030-01-01") == []
    # the table and CSV
    table = run(db_url, "evidence")
    assert table.exit_code == 0 and "Great talking yesterday." in table.output
    csv = run(db_url, "evidence", "--format", "csv")
    assert csv.output.splitlines()[0].startswith("id,person_id,name,email,emails,kind")


def test_a_rejected_item_stops_counting_and_stays_rejected(db_url):
    imported(db_url)
    great = next(r for r in items(db_url) if r["sentence"] == "Great talking yesterday.")
    before = len(items(db_url))
    res = run(db_url, "evidence", "reject", str(great["id"]), "--reason", "we never spoke")
    assert res.exit_code == 0 and "rejected evidence" in res.output
    after = items(db_url)
    assert len(after) == before - 1 and all(r["sentence"] != "Great talking yesterday." for r in after)
    # re-analysis and a full re-import compute the evidence again: the rejected item does not come back
    assert run(db_url, "reanalyze", "--all").exit_code == 0
    assert run(db_url, "import", str(MAIL), "--me", "me@me.example", "--sent-folder", "sent", "--full", "-q").exit_code == 0
    again = items(db_url)
    assert all(r["sentence"] != "Great talking yesterday." for r in again)
    assert len(again) == before - 1  # nothing else was lost or doubled
    engine = open_store(db_url)
    with engine.connect() as conn:
        kept = conn.execute(select(evidence_rejections)).all()
        left = conn.execute(select(interactions.c.id).where(interactions.c.sentence == "Great talking yesterday.")).all()
    engine.dispose()
    assert [(k.kind, k.email, k.reason, k.sentence) for k in kept] == [
        ("past", "alice@alpha.example", "we never spoke", "Great talking yesterday.")]
    assert left == []
    # the explain text names item ids and how to reject one
    text = run(db_url, "explain", "alice@alpha.example").output
    assert "`inboxrel evidence reject ID`" in text and f"#{again[0]['id']}" in run(
        db_url, "explain", again[0]["email"]).output


def test_rejecting_what_does_not_exist_is_one_line(db_url):
    imported(db_url)
    res = run(db_url, "evidence", "reject", "999999")
    assert res.exit_code == 2 and res.output.strip().count("\n") == 0 and "no evidence item 999999" in res.output


def test_evidence_of_a_missing_store_creates_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'nowhere' / 'store.db'}"
    res = run(url, "evidence")
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert not (tmp_path / "nowhere" / "store.db").exists()


def test_now_is_a_cut_for_the_list_but_plans_learned_before_it_stay(db_url):
    imported(db_url)
    res = CliRunner().invoke(cli, ["--db", db_url, "--now", "2024-05-14T20:00:00Z", "evidence", "--format", "json"])
    assert res.exit_code == 0, res.output
    seen = {r["sentence"] for r in json.loads(res.output)}
    # learned on 14 May: the past talk and the lunch planned for the 17th (after now, but already known)
    assert {"Great talking yesterday.", "Lunch on Friday at Luigi's?"} <= seen
    # written on the 15th and 18th: not arrived yet
    assert "Sounds good, see you Friday!" not in seen and not any("voicemail" in (s or "") for s in seen)
