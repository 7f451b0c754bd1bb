"""The pure parts of IMAP ingestion: folder choice, UID sets, secrets, the schedule text, header parsing."""

from __future__ import annotations

import os
import stat

import pytest

from inboxrel.config import AccountConfig
from inboxrel.errors import AuthError, ConfigError
from inboxrel.pipelines import parse
from inboxrel.pipelines.imap import (
    FetchedMessage,
    RemoteFolder,
    build_uid_set,
    choose_folders,
    parse_fetched,
    parse_uid_set,
)
from inboxrel.schedule import build_schedule
from inboxrel.secrets import fetch_credential, keyring_service, run_secret_command, save_keyring_password

# -- folders ------------------------------------------------------------------------------------------------

def folders(*specs) -> list[RemoteFolder]:
    return [RemoteFolder(name, tuple(flags)) for name, *flags in specs]


def test_default_folder_choice_skips_junk_trash_drafts_and_unselectable():
    remote = folders(("INBOX",), ("Sent", "\\Sent"), ("Junk", "\\Junk"), ("Trash", "\\Trash"),
                     ("Drafts", "\\Drafts"), ("Archive", "\\Archive"), ("Projects",), ("Projects/2001",),
                     ("[Gmail]", "\\Noselect", "\\HasChildren"))
    assert [(f.name, reason) for f, reason in choose_folders(remote)] == [
        ("INBOX", None), ("Sent", None), ("Junk", "junk"), ("Trash", "trash"), ("Drafts", "drafts"),
        ("Archive", None), ("Projects", None), ("Projects/2001", None), ("[Gmail]", "not selectable")]


def test_gmail_reads_all_mail_inbox_and_sent_not_the_label_copies():
    remote = folders(("INBOX",), ("[Gmail]/All Mail", "\\All"), ("[Gmail]/Sent Mail", "\\Sent"),
                     ("[Gmail]/Starred", "\\Flagged"), ("[Gmail]/Important", "\\Important"),
                     ("[Gmail]/Spam", "\\Junk"), ("Work/Clients",))
    assert {f.name: reason for f, reason in choose_folders(remote)} == {
        "INBOX": None, "[Gmail]/All Mail": None, "[Gmail]/Sent Mail": None, "[Gmail]/Starred": "virtual (flagged)",
        "[Gmail]/Important": "virtual (important)", "[Gmail]/Spam": "junk", "Work/Clients": "copy of \\All"}


def test_include_replaces_the_default_and_exclude_removes():
    remote = folders(("INBOX",), ("Sent", "\\Sent"), ("Trash", "\\Trash"), ("Lists/python",), ("Lists/rust",))
    chosen = choose_folders(remote, include=["INBOX", "Lists/*", "Trash"], exclude=["Lists/rust"])
    assert {f.name: reason for f, reason in chosen} == {
        "INBOX": None, "Sent": "not included", "Trash": None, "Lists/python": None, "Lists/rust": "excluded"}


# -- UID sets -----------------------------------------------------------------------------------------------

def test_uid_sets_are_compact_and_round_trip():
    uids = [1, 2, 3, 7, 9, 10, 11, 20]
    assert build_uid_set(uids) == "1:3,7,9:11,20"
    assert build_uid_set(reversed(uids)) == "1:3,7,9:11,20"
    assert parse_uid_set("1:3,7,11:9,20") == set(uids)
    assert len(build_uid_set(range(1, 100_001))) == len("1:100000")


# -- secrets ------------------------------------------------------------------------------------------------

def acct(**kw) -> AccountConfig:
    return AccountConfig(name="work", host="imap.example.com", username="me@example.com", **kw)


def test_password_from_environment_variable():
    cred = fetch_credential(acct(password_env="MAILPW"), {"MAILPW": "pw-1"})
    assert (cred.username, cred.secret, cred.mechanism, cred.source) == (
        "me@example.com", "pw-1", "password", "environment variable MAILPW")
    assert "pw-1" not in repr(cred)
    with pytest.raises(AuthError, match="MAILPW, which is not set"):
        fetch_credential(acct(password_env="MAILPW"), {})


def test_password_command_runs_without_a_shell_and_uses_the_first_line(tmp_path):
    marker = tmp_path / "marker"
    # with a shell, `;` would run touch; without one, it is just text printed by echo
    cred = fetch_credential(acct(password_command=f"echo 'pw 2'; touch {marker}"), dict(os.environ))
    assert cred.secret == f"pw 2; touch {marker}" and not marker.exists()
    assert cred.source == "password command `echo`"
    script = tmp_path / "pass.sh"
    script.write_text("#!/bin/sh\nprintf 'line-one\\nline-two\\n'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert fetch_credential(acct(password_command=str(script)), dict(os.environ)).secret == "line-one"


def test_password_command_failures_name_the_program_never_the_output(tmp_path):
    script = tmp_path / "fail.sh"
    script.write_text("#!/bin/sh\necho hunter2-secret\necho 'gpg: decryption failed: No secret key' >&2\nexit 2\n")
    script.chmod(0o755)
    with pytest.raises(AuthError) as exc:
        run_secret_command(str(script), "password command", dict(os.environ), 10)
    assert str(exc.value) == (f"password command `{script}` failed with exit status 2 (gpg: decryption failed: "
                              f"No secret key): run it yourself to see why")
    with pytest.raises(AuthError, match="`/nonexistent/pass` not found"):
        run_secret_command("/nonexistent/pass show mail", "password command", {}, 10)
    with pytest.raises(AuthError, match="printed nothing"):
        run_secret_command("true", "password command", dict(os.environ), 10)
    with pytest.raises(ConfigError, match="quotes"):
        run_secret_command("pass 'unterminated", "password command", {}, 10)
    with pytest.raises(AuthError, match="did not finish within 1 s"):
        run_secret_command("sleep 5", "password command", dict(os.environ), 1)


def test_oauth2_token_command_logs_in_with_xoauth2():
    cred = fetch_credential(acct(oauth2_token_command="printf ya29.token"), dict(os.environ))
    assert (cred.secret, cred.mechanism) == ("ya29.token", "xoauth2")


def test_no_password_source_says_how_to_add_one():
    with pytest.raises(AuthError, match="inboxrel account add work --password-command"):
        fetch_credential(acct(), {})


class MemoryKeyring:
    """A keyring backend in memory (the system keyring is not available in a test run)."""

    priority = 1

    def __init__(self):
        self.data = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        self.data.pop((service, username), None)


def test_keyring_source(monkeypatch):
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    backend = type("TestKeyring", (MemoryKeyring, KeyringBackend), {})()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        a = acct(keyring=True)
        with pytest.raises(AuthError, match="keyring set inboxrel/work me@example.com"):
            fetch_credential(a, {})
        save_keyring_password(a, "pw-from-keyring")
        assert backend.data == {("inboxrel/work", "me@example.com"): "pw-from-keyring"}
        cred = fetch_credential(a, {})
        assert (cred.secret, cred.source) == ("pw-from-keyring", "keyring entry inboxrel/work")
        assert keyring_service(a) == "inboxrel/work"
    finally:
        keyring.set_keyring(previous)


# -- schedule -----------------------------------------------------------------------------------------------

def test_schedule_cron_and_systemd_run_ingest_then_report(tmp_path):
    out = build_schedule(hour=3, minute=30, data_dir=tmp_path / "my data", config=str(tmp_path / "c.toml"),
                         executable=["/opt/ir/bin/inboxrel"])
    cfg = str(tmp_path / "c.toml")
    report_path = f"{tmp_path}/my data/report.html"
    assert out["cron"] == (f"30 3 * * * /opt/ir/bin/inboxrel --config {cfg} ingest --quiet && /opt/ir/bin/inboxrel "
                           f"--config {cfg} report --format html --output '{report_path}'")
    assert f'ExecStart=/opt/ir/bin/inboxrel --config {cfg} ingest --quiet\n' in out["service"]
    assert f'ExecStart=/opt/ir/bin/inboxrel --config {cfg} report --format html --output "{report_path}"\n' \
        in out["service"]
    assert "Type=oneshot" in out["service"]
    assert "OnCalendar=*-*-* 03:30:00" in out["timer"] and "Persistent=true" in out["timer"]


# -- parsing fetched header fields --------------------------------------------------------------------------

def test_parse_fetched_keeps_the_header_fingerprint_when_a_body_is_added():
    header = (b"Message-ID: <a1@example.com>\r\nDate: Mon, 03 Dec 2001 10:00:00 -0600\r\n"
              b"From: \"Smith, Al\" <al@example.com>\r\nTo: bo@example.org, \"Cy\" <cy@example.org>\r\n"
              b"Subject: Call tomorrow?\r\nContent-Type: text/plain\r\n\r\n")
    start = b"Can we talk at 10?\r\n"  # a header fetch brings the start of the text with it
    without = parse_fetched([FetchedMessage(1, "\\Seen", None, 900, header, prefix=start)])[0]
    with_body = parse_fetched([FetchedMessage(2, "", None, 900, header, text=start, prefix=start)])[0]
    assert without[0] == 1 and without[2] is None and without[1].body is None
    p = with_body[1]
    assert p.body.strip() == "Can we talk at 10?" and p.fingerprint == without[1].fingerprint
    assert p.from_ == ("Smith, Al", "al@example.com") and p.to == [("", "bo@example.org"), ("Cy", "cy@example.org")]
    bad = parse_fetched([FetchedMessage(3, "", None, 10, b"\r\n", raw=b"X-Thing: 1\r\n\r\nbody")])[0]
    assert bad == (3, None, "no From, To, Date, Subject or Message-ID header: not an email message")


def test_fast_header_paths_give_what_the_email_package_gives(shared_data, monkeypatch):
    """parse.py's fast header split and quoted-name address path against the email package, on Enron mail."""
    files = sorted(p for p in (shared_data / "enron" / "heard-m" / "maildir").glob("*/*") if p.is_file())
    raws = [p.read_bytes() for p in files[:800]]
    raws += [b'From: "A, B" <a@b.com>, c@d.com\nTo: "" <e@f.com>, "G H" <g@h.com> (note)\nSubject: x\n y\n\n',
             b"From foo Mon Jan 1 00:00:00 2001\nFrom: a@b.com\n\n", b"Subject: x\nX Bad: 1\nFrom: a@b.com\n\n",
             'From: "José" <j@x.com>\nSubject: café\n\n'.encode("latin-1"), b" lead\nFrom: a@b.com\n\n",
             b'From: "Q\\"x" <a@b.com>\nTo: x@y.com,\r\n\t"Z" <z@y.com>\r\n\r\n']

    def run():
        out = []
        for raw in raws:
            try:
                out.append(parse.parse_message(raw, headers_only=True))
            except parse.ParseError as exc:
                out.append(str(exc))
        return out

    fast = run()
    monkeypatch.setattr(parse, "_header_fields", lambda raw: None)
    monkeypatch.setattr(parse, "_split_quoted", lambda value: None)
    assert run() == fast
    assert isinstance(fast[-6], parse.ParsedMessage) and fast[-6].from_ == ("A, B", "a@b.com")



@pytest.mark.parametrize("value, ok", [("whole", True), ("fields", True), ("headers", False)])
def test_header_fetch_setting_is_validated(tmp_path, value, ok):
    from inboxrel.config import load_settings
    from inboxrel.pipelines.imap import HEADER_ITEMS

    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[accounts.work]\nhost = "imap.example.org"\nheader_fetch = "{value}"\n')
    if ok:
        assert load_settings(cfg, "sqlite://").accounts["work"].header_fetch in HEADER_ITEMS
    else:
        with pytest.raises(ConfigError, match='header_fetch must be "whole" or "fields"'):
            load_settings(cfg, "sqlite://")
