"""`--now` is a cut: every command answers as if the mail after that instant had not arrived yet.

A real mailbox (heard-m) is cut in the middle: its whole store asked with `--now` must answer what a store
of only the mail up to that instant answers (counts, first and last dates), and nothing shown may lie after
the cut (threads, waits, the call list, evidence).
"""

from __future__ import annotations

import json
import shutil
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli

pytestmark = pytest.mark.corpus
CUT = "2001-09-01T00:00:00+00:00"
ME = "marie.heard@enron.com"


def run(url, *args):
    res = CliRunner().invoke(cli, ["--db", url, "--now", CUT, *args])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def stores(shared_data, tmp_path_factory):
    src = shared_data / "enron" / "heard-m" / "maildir"
    base = tmp_path_factory.mktemp("cut")
    early = base / "early"
    cut = parsedate_to_datetime("Sat, 01 Sep 2001 00:00:00 +0000")
    parser = BytesParser()
    kept = 0
    for path in src.rglob("*"):
        if not path.is_file():
            continue
        with open(path, "rb") as fh:
            date = parser.parse(fh, headersonly=True)["Date"]
        try:
            when = parsedate_to_datetime(str(date))
        except (TypeError, ValueError):
            continue
        if when <= cut:
            target = early / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            kept += 1
    assert 300 < kept < 1500  # a real cut in the middle
    full_url, early_url = f"sqlite:///{base / 'full.db'}", f"sqlite:///{base / 'early.db'}"
    for url, path in ((full_url, src), (early_url, early)):
        res = CliRunner().invoke(cli, ["--db", url, "--now", CUT, "import", str(path), "--account", "heard-m",
                                       "--me", ME, "-q", "--no-signals"])
        assert res.exit_code == 0, res.output
    return full_url, early_url


def test_people_counts_as_if_later_mail_had_not_arrived(stores):
    full, early = stores
    keys = ("sent", "received", "sent_90d", "received_90d", "first_at", "last_at")
    cut_rows = {r["email"]: r for r in json.loads(run(full, "people", "--format", "json"))}
    early_rows = {r["email"]: r for r in json.loads(run(early, "people", "--format", "json"))}
    assert len(early_rows) > 50
    for email, r in early_rows.items():
        assert email in cut_rows, email
        assert {k: cut_rows[email][k] for k in keys} == {k: r[k] for k in keys}, email
    assert all((r["last_at"] or "") <= CUT for r in cut_rows.values())
    # the same store asked later knows the later mail: the cut is what made the answers equal
    later = json.loads(CliRunner().invoke(cli, ["--db", full, "--now", "2002-01-05", "people", "--format",
                                                "json"]).output)
    assert sum((r["last_at"] or "") > CUT for r in later) > 50


def test_nothing_shown_lies_after_the_cut(stores):
    full, _ = stores
    threads = json.loads(run(full, "threads", "--format", "json"))
    assert threads and all((t["last_at"] or "") <= CUT and (t["first_at"] or "") <= CUT for t in threads)
    assert all(t["days_waiting"] is None or t["days_waiting"] >= 0 for t in threads)
    for r in json.loads(run(full, "suggest", "--format", "json", "--limit", "20")):
        assert (r["last_email_at"] or "") <= CUT and (r["last_conversation_at"] or "") <= CUT, r
