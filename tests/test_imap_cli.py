"""The IMAP commands: `account add`, `account test`, `ingest`, `status` and `schedule`, against the real Dovecot."""

from __future__ import annotations

import json
import stat
import tomllib

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from tests.servers_imap import PASSWORD, seed_enron

pytestmark = pytest.mark.imap

NOW = "2002-01-05T12:00:00+00:00"


@pytest.fixture
def home(tmp_path):
    """A config path and a store in a temp dir, and a runner with the password in IRPW."""
    config, db = tmp_path / "cfg" / "config.toml", f"sqlite:///{tmp_path / 'data' / 'store.db'}"

    def run(*args, password=PASSWORD, code=0, stdin=None):
        result = CliRunner().invoke(cli, ["--config", str(config), "--db", db, "--now", NOW, *args],
                                    env={"IRPW": password}, input=stdin)
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result

    run.config, run.log = config, tmp_path / "data" / "inboxrel.log"
    return run


def add_account(run, dovecot, user, *extra):
    return run("account", "add", "test", "--host", "127.0.0.1", "--port", str(dovecot.imaps_port),
               "--username", user, "--ca-file", str(dovecot.cert), "--password-env", "IRPW", *extra)


def test_account_add_writes_the_config_without_any_password(home, dovecot, imap_user):
    out = home("account", "add", "work", "--host", "imap.example.com", "--username", "me@example.com",
               "--password-command", "pass show mail/work", "--me", "Me@Example.com", "--include", "INBOX",
               "--exclude", "Lists/*", "--body-window", "90")
    assert out.stdout.strip() == (f"account work written to {home.config}; check it with "
                                  f"`inboxrel account test work`")
    assert tomllib.loads(home.config.read_text()) == {"accounts": {"work": {
        "host": "imap.example.com", "username": "me@example.com", "tls": "ssl", "password_command": "pass show mail/work",
        "me": ["me@example.com"], "include": ["INBOX"], "exclude": ["Lists/*"], "body_window_days": 90,
        "body_max_bytes": 262144}}}
    assert stat.S_IMODE(home.config.stat().st_mode) == 0o600
    # bad input: one line, exit 2, the config untouched
    before = home.config.read_text()
    for args, needle in (
        (["work", "--host", "h", "--username", "u", "--password-env", "X"], "already exists"),
        (["two", "--host", "h", "--username", "u"], "give exactly one of"),
        (["two", "--host", "h", "--username", "u", "--password-env", "X", "--keyring"], "give exactly one of"),
        (["two", "--host", "h", "--password-env", "X", "--me", "not-an-address"], "is not an email address"),
        (["bad name", "--host", "h", "--username", "u", "--password-env", "X"], "use letters, digits"),
    ):
        r = home("account", "add", *args, code=2)
        assert needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert home.config.read_text() == before


def test_account_test_lists_what_a_sync_would_read(home, dovecot, imap_user, shared_data):
    seed_enron(dovecot, imap_user, shared_data, "heard-m", limit=3, folders=["inbox", "sent", "deleted_items"])
    add_account(home, dovecot, imap_user)
    before = dovecot.snapshot(imap_user)
    data = json.loads(home("account", "test", "test", "--format", "json").stdout)
    assert dovecot.snapshot(imap_user) == before
    assert (data["username"], data["auth"]) == (imap_user, "environment variable IRPW")
    assert {"CONDSTORE", "QRESYNC", "SPECIAL-USE"} <= set(data["capabilities"])
    assert {f["folder"]: (f["special_use"], f["messages"], f["read"], f["reason"]) for f in data["folders"]} == {
        "INBOX": (None, 3, True, None), "Sent": ("\\Sent", 2, True, None), "Trash": ("\\Trash", 3, False, "trash"),
        "Junk": ("\\Junk", 0, False, "junk"), "Drafts": ("\\Drafts", 0, False, "drafts"),
        "Archive": ("\\Archive", 0, True, None)}
    text = home("account", "test", "test").stdout
    assert "skip (trash)" in text and "3 folders would be read; logged out" in text
    bad = home("account", "test", "test", password="nope", code=77)
    assert "refused the login" in bad.stderr and "nope" not in bad.stderr


def test_ingest_output_quiet_text_json_and_status(home, dovecot, imap_user, shared_data):
    seed_enron(dovecot, imap_user, shared_data, "heard-m", limit=4, folders=["inbox", "sent"])
    add_account(home, dovecot, imap_user)
    before = dovecot.snapshot(imap_user)
    text = home("ingest").stdout.splitlines()
    assert text[:2] == ["  test: Sent: 2 new, 0 already known, 0 quarantined, 2 bodies",
                        "  test: INBOX: 4 new, 0 already known, 0 quarantined, 4 bodies"]
    assert text[-1].startswith("ingested 6 new messages, 0 already known, 0 quarantined, 0 gone, 0 flag changes; "
                               "3 folders (0 unchanged) in 1 account(s), ")
    quiet = home("ingest", "--quiet")
    assert (quiet.stdout, quiet.stderr) == ("", "")
    data = json.loads(home("ingest", "--format", "json").stdout)
    assert (data["ok"], data["new"], [f["unchanged"] for f in data["accounts"][0]["folders"]]) == (
        True, 0, [True, True, True])
    assert dovecot.snapshot(imap_user) == before

    status = json.loads(home("status", "--format", "json").stdout)
    assert [(a["account"], a["kind"], a["messages"], a["last_success_at"], a["last_error"]) for a in status] == [
        ("test", "imap", 6, NOW, None)]
    assert [(f["folder"], f["kind"], f["messages"], f["gone"], f["on_server"], f["last_success_at"], f["last_error"])
            for f in status[0]["folders"]] == [
        ("Archive", "received", 0, 0, 0, NOW, None), ("INBOX", "received", 4, 0, 4, NOW, None),
        ("Sent", "sent", 2, 0, 2, NOW, None)]
    table = home("status").stdout
    assert table.startswith(f"test (imap): 6 messages; last success {NOW}")
    log = home.log.read_text()
    assert "ingest started: test" in log and "ingest finished: ingested 6 new messages" in log
    # the password is nowhere: not in the config, the log, or any file of the store
    store_files = [p for p in home.log.parent.iterdir() if p.name.startswith("store.db")]
    assert store_files and all(PASSWORD.encode() not in p.read_bytes() for p in store_files)
    assert PASSWORD not in log and PASSWORD not in home.config.read_text()


def test_ingest_without_accounts_or_with_an_unknown_one_is_bad_input(home):
    home.config.parent.mkdir()
    home.config.write_text("")
    r = home("ingest", code=2)
    assert "no IMAP account in" in r.stderr and "inboxrel account add NAME" in r.stderr
    home("account", "add", "a", "--host", "h.example", "--username", "u", "--password-env", "X")
    r = home("ingest", "nope", code=2)
    assert "no IMAP account named 'nope'" in r.stderr and "configured: a" in r.stderr


def test_status_before_any_sync_shows_configured_accounts(home):
    home("account", "add", "a", "--host", "h.example", "--username", "u", "--password-env", "X")
    data = json.loads(home("status", "--format", "json").stdout)
    assert data == [{"account": "a", "kind": "imap", "configured": True, "host": "h.example", "messages": 0,
                     "last_sync_at": None, "last_success_at": None, "last_error": None, "last_error_at": None,
                     "folders": []}]


def test_schedule_prints_cron_and_systemd(home, tmp_path):
    home("account", "add", "a", "--host", "h.example", "--username", "u", "--password-env", "X")
    out = home("schedule", "--at", "04:05").stdout
    cron = [line for line in out.splitlines() if line.startswith("5 4 * * * ")]
    assert len(cron) == 1
    assert " ingest --quiet && " in cron[0]
    assert cron[0].endswith(f"report --format html --output {tmp_path / 'data' / 'report.html'}")
    assert f"--config {home.config}" in cron[0]
    assert "[Timer]\nOnCalendar=*-*-* 04:05:00" in out and "systemctl --user enable --now inboxrel.timer" in out
    assert home("schedule", "--at", "04:05", "--format", "cron").stdout.strip() == cron[0]
    r = home("schedule", "--at", "25:00", code=2)
    assert "is not a time of day" in r.stderr


@pytest.mark.parametrize("path", [["ingest"], ["status"], ["schedule"], ["account", "add"], ["account", "test"]])
def test_help_has_examples(path):
    r = CliRunner().invoke(cli, [*path, "--help"])
    assert r.exit_code == 0 and "Examples:" in r.stdout


def test_ingest_feeds_the_conversation_evidence_of_bodies_in_the_window(home, dovecot, imap_user):
    from datetime import datetime, timezone

    from sqlalchemy import select

    from inboxrel.db import open_store
    from inboxrel.models import addresses, interactions, messages, people
    from tests.conftest import FIXTURES
    from tests.servers_imap import SeedMessage

    dovecot.seed(imap_user, "INBOX", [SeedMessage((FIXTURES / "imap" / "talked.eml").read_bytes(),
                                                  datetime(2001, 12, 4, 15, tzinfo=timezone.utc))])
    add_account(home, dovecot, imap_user, "--me", "marie.heard@enron.com")
    home("ingest", "--quiet")
    engine = open_store(f"sqlite:///{home.log.parent / 'store.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            select(interactions.c.kind, interactions.c.medium, interactions.c.source, addresses.c.email)
            .join(messages, messages.c.id == interactions.c.message_id)
            .join(people, people.c.id == interactions.c.person_id)
            .join(addresses, addresses.c.id == people.c.primary_address_id)
            .where(messages.c.message_id == "talk@example.com")).all()
    assert [tuple(r) for r in rows] == [("past", "phone", "message", "alice@example.com")]


def test_reanalyze_refetches_bodies_over_imap_when_they_were_not_kept(home, dovecot, imap_user):
    msg = (b"Message-ID: <rf1@example.org>\r\nDate: Fri, 04 Jan 2002 09:00:00 -0600\r\n"
           b"From: Dana Field <dana@example.org>\r\nTo: me@example.com\r\nSubject: catch up\r\n\r\n"
           b"Great talking with you yesterday! Let's do it again soon.\r\n")
    with dovecot.client(imap_user) as c:
        c.append("INBOX", msg)
    add_account(home, dovecot, imap_user, "--me", "me@example.com")
    home.config.write_text("store_bodies = false\n" + home.config.read_text())
    before = dovecot.snapshot(imap_user)
    home("ingest", "--quiet", "--no-signals")
    out = json.loads(home("reanalyze", "--all", "--format", "json").stdout)
    assert out["refetched"] == 1 and out["interactions"] == 1
    person = json.loads(home("person", "dana@example.org", "--format", "json").stdout)
    assert [(e["kind"], e["medium"], e["at"][:10]) for e in person["evidence"]] == [("past", "unspecified",
                                                                                    "2002-01-03")]
    assert dovecot.snapshot(imap_user) == before  # read-only: no flag changed by the re-fetch
