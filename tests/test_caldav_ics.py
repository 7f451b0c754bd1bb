"""ICS subscription URLs (`calendar add NAME --ics-url URL`) against a local HTTPS server started here with
its own certificate: conditional requests (ETag, If-Modified-Since; 304 costs nothing), the diff by UID
(only changed series are read again; a removed one takes its evidence), the URL kept secret (never in
output, logs or the store), and bad answers as one-line errors. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inboxrel.cli import cli
from inboxrel.db import open_store
from tests.servers_imap import make_cert
from tests.test_caldav_sync import calendar_rows, ics
from tests.test_signals_store import _import

NOW = "2024-05-25T12:00:00Z"
SECRET_PATH = "/calendar/ical/me%40me.example/private-7f3a9c2e51d84b06a1e2/basic.ics"


class Feed:
    """What the server serves, and what it was asked."""

    def __init__(self):
        self.body = b""
        self.version = 0
        self.requests: list[dict] = []
        self.status = None  # force an error status

    def set(self, *events: str):
        parts = [e.split("BEGIN:VEVENT", 1)[1].rsplit("END:VEVENT", 1)[0] for e in events]
        self.body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
                     + "".join(f"BEGIN:VEVENT{p}END:VEVENT\r\n" for p in parts) + "END:VCALENDAR\r\n").encode()
        self.version += 1


@pytest.fixture
def feed(tmp_path):
    import ssl

    cert = make_cert(tmp_path)
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            state.requests.append({"path": self.path, "if_none_match": self.headers.get("If-None-Match"),
                                   "if_modified_since": self.headers.get("If-Modified-Since")})
            if state.status:
                self.send_response(state.status)
                self.end_headers()
                return
            etag = f'"v{state.version}"'
            if self.path != SECRET_PATH.replace("%40", "%40"):
                self.send_response(404)
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=UTF-8")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", f"Sat, 25 May 2024 0{state.version % 10}:00:00 GMT")
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, tmp_path / "key.pem")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"https://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
    state.cert = cert
    yield state
    server.shutdown()
    server.server_close()


def run(db_url, config, *args):
    return CliRunner().invoke(cli, ["--db", db_url, "--config", str(config), "--now", NOW, *args])


def test_a_subscription_is_read_conditionally_and_diffed_by_uid(db_url, tmp_path, feed):
    _import(db_url)
    config = tmp_path / "config.toml"
    res = run(db_url, config, "calendar", "add", "google", "--ics-url", feed.url, "--ca-file", str(feed.cert))
    assert res.exit_code == 0, res.output
    assert feed.url not in res.output and 'kind = "ics"' in config.read_text()
    lunch = ics("lunch@google.com", "20240521T120000Z", summary="Lunch", extra="LOCATION:Luigi's")
    weekly = ics("weekly@google.com", "20240506T150000Z", rrule="FREQ=WEEKLY;COUNT=4",
                 attendees=[("bob@beta.example", "ACCEPTED")], summary="Bob 1:1")
    feed.set(lunch, weekly)
    res = run(db_url, config, "calendar", "sync", "--format", "json")
    assert res.exit_code == 0, res.output
    (out,) = json.loads(res.output)
    assert (out["changed"], out["occurrences"], out["not_modified"]) == (2, 5, False)
    assert [r[0] for r in calendar_rows(db_url)] == ["alice@alpha.example"] + ["bob@beta.example"] * 4
    # nothing changed: a 304, nothing read
    res = run(db_url, config, "calendar", "sync")
    assert res.exit_code == 0 and "calendar google: not modified since the last sync" in res.output
    assert feed.requests[-1]["if_none_match"] == '"v1"' and feed.requests[-1]["if_modified_since"]
    # the series cancelled, the lunch unchanged: only the series is read again
    cancelled = weekly.replace("SUMMARY:Bob 1:1", "SUMMARY:Bob 1:1\r\nSTATUS:CANCELLED")
    feed.set(lunch, cancelled)
    (out,) = json.loads(run(db_url, config, "calendar", "sync", "--format", "json").output)
    assert (out["changed"], out["unchanged"], out["deleted"]) == (1, 1, 0)
    assert [r[0] for r in calendar_rows(db_url)] == ["alice@alpha.example"]
    # the lunch removed from the calendar
    feed.set(cancelled)
    (out,) = json.loads(run(db_url, config, "calendar", "sync", "--format", "json").output)
    assert out["deleted"] == 1 and calendar_rows(db_url) == []
    res = run(db_url, config, "calendar", "list")
    assert feed.url not in res.output and "https://127.0.0.1:" in res.output and "/…" in res.output
    res = run(db_url, config, "calendar", "test", "google")
    assert res.exit_code == 0 and "holds 1 events" in res.output
    # the secret address is nowhere in the store
    from inboxrel.models import calendar_items, calendar_sources

    engine = open_store(db_url)
    with engine.connect() as conn:
        dump = repr(conn.execute(select(calendar_sources)).all()) + repr(conn.execute(select(calendar_items)).all())
    engine.dispose()
    assert "private-7f3a9c2e51d84b06a1e2" not in dump


def test_bad_answers_and_addresses_are_one_line_errors(sqlite_url, tmp_path, feed):
    _import(sqlite_url)
    config = tmp_path / "config.toml"
    bad = feed.url.replace("private-", "reset-")
    assert run(sqlite_url, config, "calendar", "add", "g", "--ics-url", bad, "--ca-file", str(feed.cert)).exit_code == 0
    res = run(sqlite_url, config, "calendar", "sync")
    assert res.exit_code == 2 and "answered 404: the secret address may have been reset" in res.output
    assert "reset-7f3a" not in res.output and len(res.output.strip().splitlines()) == 1
    # no CA given: the self-signed certificate is not trusted
    config.write_text(f'[[calendars]]\nname = "g"\nkind = "ics"\nurl = "{feed.url}"\n')
    res = run(sqlite_url, config, "calendar", "sync")
    assert res.exit_code == 69 and "TLS certificate is not trusted" in res.output
    assert "private-7f3a" not in res.output
    # not a calendar
    config.write_text(f'[[calendars]]\nname = "g"\nkind = "ics"\nurl = "{feed.url}"\nca_file = "{feed.cert}"\n')
    feed.body = b"<html>sign in</html>"
    res = run(sqlite_url, config, "calendar", "sync")
    assert res.exit_code == 2 and "not an iCalendar file" in res.output
    res = run(sqlite_url, config, "calendar", "add", "h", "--ics-url", "http://calendar.example.com/x.ics")
    assert res.exit_code == 2 and "must be an https:// address" in res.output and "x.ics" not in res.output
