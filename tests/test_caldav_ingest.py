"""`inboxrel ingest` syncs the calendars of the config after the mail, in the same run (the one nightly cron
line), and `status` shows each calendar's last sync; a failing calendar leaves the mail saved and exits 3.
Against the real Dovecot and the real Radicale the session starts."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from tests.servers_dav import PASSWORD as DAV_PASSWORD
from tests.servers_imap import PASSWORD, seed_enron
from tests.test_caldav_sync import ics

pytestmark = pytest.mark.imap

NOW = "2002-01-05T12:00:00+00:00"


def test_ingest_reads_mail_and_calendars_in_one_run(tmp_path, dovecot, imap_user, dav, shared_data):
    seed_enron(dovecot, imap_user, shared_data, "heard-m", limit=4, folders=["inbox", "sent"])
    user = dav.user()
    dav.calendar(user, "work")
    dav.put(user, "work", "lunch.ics", ics("lunch", "20020103T120000Z", organizer="heard-m@enron.example",
                                           attendees=[]))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[accounts.test]\nhost = "127.0.0.1"\nport = {dovecot.imaps_port}\nusername = "{imap_user}"\n'
        f'ca_file = "{dovecot.cert}"\npassword_env = "IRPW"\n\n'
        f'[[calendars]]\nname = "work"\nurl = "{dav.url}/{user}/work/"\nusername = "{user}"\npassword_env = "DAVPW"\n')
    db = f"sqlite:///{tmp_path / 'store.db'}"

    def run(*args, code=0, env=None):
        res = CliRunner().invoke(cli, ["--config", str(config), "--db", db, "--now", NOW, *args],
                                 env={"IRPW": PASSWORD, "DAVPW": DAV_PASSWORD, **(env or {})})
        assert res.exit_code == code, (res.stdout, res.stderr)
        return res

    files = dav.item_files(user)
    text = run("ingest").stdout
    assert "ingested 6 new messages" in text
    assert "  calendar work: 1 new or changed, 0 gone, 0 unchanged" in text
    data = json.loads(run("ingest", "--format", "json").stdout)
    assert data["new"] == 0 and [(c["calendar"], c["changed"], c["unchanged"]) for c in data["calendars"]] == [
        ("work", 0, 1)]
    assert run("ingest", "--quiet").stdout == ""
    assert dav.item_files(user) == files
    status = run("status").stdout
    assert f"calendar work: 1 items; last success {NOW}" in status
    # naming an account syncs only that account
    assert "calendar work" not in run("ingest", "test").stdout
    # a calendar that fails: the mail is still read, the run exits 3, status keeps the error
    bad = run("ingest", code=3, env={"DAVPW": "wrong"})
    assert "calendar(s) failed, the mail and the other calendars were saved" in bad.stderr
    assert "wrong" not in bad.stderr.replace("wrong password", "")
    assert "ingested 0 new messages" in bad.stdout
    assert "last error" in run("status").stdout
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert DAV_PASSWORD.encode() not in path.read_bytes(), path
