"""CalDAV calendars against a real Radicale (tests/servers_dav.py): incremental sync by sync token and
ETags, deletes, moves, recurring series with exceptions and time zones, declined and large meetings,
cancellations, matching attendees by name, bad servers and credentials, and read-only behaviour (the
server's stored items are byte for byte the same after every sync).

The people come from tests/fixtures/signals/mail (me@me.example; Alice Walker, Bob, Dan) and, for the
call-list story, from the demo mailbox.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.models import calendar_sources
from tests.servers_dav import PASSWORD
from tests.test_signals_store import _import

NOW = "2024-05-25T12:00:00Z"


def ics(uid: str, start: str, *, attendees=(("alice@alpha.example", "ACCEPTED"),), extra: str = "",
        rrule: str | None = None, organizer: str = "me@me.example", summary: str = "Sync",
        tz: str | None = None, more: str = "") -> str:
    """One VCALENDAR holding one VEVENT (plus ``more`` components, e.g. exceptions of a series)."""
    dtstart = f"DTSTART;TZID={tz}:{start}" if tz else f"DTSTART:{start}"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//inboxrel tests//EN"]
    if tz == "America/New_York":
        lines += ["BEGIN:VTIMEZONE", "TZID:America/New_York", "BEGIN:DAYLIGHT", "TZOFFSETFROM:-0500",
                  "TZOFFSETTO:-0400", "TZNAME:EDT", "DTSTART:19700308T020000", "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
                  "END:DAYLIGHT", "BEGIN:STANDARD", "TZOFFSETFROM:-0400", "TZOFFSETTO:-0500", "TZNAME:EST",
                  "DTSTART:19701101T020000", "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU", "END:STANDARD",
                  "END:VTIMEZONE"]
    lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20240501T000000Z", dtstart, "DURATION:PT30M",
              f"SUMMARY:{summary}", f"ORGANIZER;CN=Me:mailto:{organizer}"]
    if rrule:
        lines.append(f"RRULE:{rrule}")
    for email, partstat in attendees:
        lines.append(f"ATTENDEE;PARTSTAT={partstat}:mailto:{email}")
    if extra:
        lines += extra.split("\n")
    lines.append("END:VEVENT")
    if more:
        lines += more.split("\n")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def run(db_url, *args, config=None, env=None):
    base = ["--db", db_url, "--now", NOW]
    if config:
        base += ["--config", str(config)]
    return CliRunner().invoke(cli, base + list(args), env=env or {"DAV_PW": PASSWORD})


def config_for(tmp_path, dav, user, *calendars) -> object:
    path = tmp_path / "config.toml"
    text = ""
    for name in calendars:
        text += (f'[[calendars]]\nname = "{name}"\nurl = "{dav.url}/{user}/{name}/"\nusername = "{user}"\n'
                 f'password_env = "DAV_PW"\n\n')
    path.write_text(text)
    return path


def calendar_rows(db_url) -> list[tuple]:
    """The evidence from CalDAV (the mail fixture's own invitations are left out)."""
    from inboxrel.models import addresses, interactions, people

    engine = open_store(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(addresses.c.email, interactions.c.kind, interactions.c.medium, interactions.c.at,
                   interactions.c.sentence)
            .select_from(interactions.join(people, people.c.id == interactions.c.person_id)
                         .join(addresses, addresses.c.id == people.c.primary_address_id))
            .where(interactions.c.source == "calendar", interactions.c.source_ref.like("cal:%"))
            .order_by(addresses.c.email, interactions.c.at)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def sync(db_url, config, *names, env=None) -> dict:
    res = run(db_url, "calendar", "sync", *names, "--format", "json", config=config, env=env)
    assert res.exit_code == 0, res.output
    return {r["calendar"]: r for r in json.loads(res.output)}


def D(*a):
    return datetime(*a)


@pytest.fixture
def store(db_url):
    _import(db_url)
    return db_url


def test_first_sync_then_only_changes_and_the_server_is_never_changed(store, dav, tmp_path):
    user = dav.user()
    dav.calendar(user, "work")
    dav.put(user, "work", "a.ics", ics("a", "20240520T150000Z", summary="Pricing", extra="LOCATION:Luigi's, 5 Main St"))
    dav.put(user, "work", "b.ics", ics("b", "20240528T150000Z", attendees=[("bob@beta.example", "ACCEPTED")],
                                       extra="DESCRIPTION:Join https://zoom.us/j/123", summary="Plan"))
    dav.put(user, "work", "c.ics", ics("c", "20240521T150000Z", attendees=[("nobody@nowhere.example", "ACCEPTED")]))
    config = config_for(tmp_path, dav, user, "work")
    files = dav.item_files(user)
    out = sync(store, config)["work"]
    assert (out["changed"], out["deleted"], out["occurrences"], out["items"]) == (3, 0, 2, 3)
    assert calendar_rows(store) == [
        ("alice@alpha.example", "past", "in_person", D(2024, 5, 20, 15, 0), "Pricing"),
        ("bob@beta.example", "planned", "video", D(2024, 5, 28, 15, 0), "Plan"),
    ]
    assert dav.item_files(user) == files
    out = sync(store, config)["work"]  # nothing changed on the server: nothing fetched
    assert (out["changed"], out["deleted"], out["unchanged"], out["full"]) == (0, 0, 3, False)
    # moved to another day, and one deleted: only those are read again
    dav.put(user, "work", "a.ics", ics("a", "20240522T150000Z", summary="Pricing", extra="LOCATION:Luigi's"))
    dav.delete(user, "work", "b.ics")
    files = dav.item_files(user)
    out = sync(store, config)["work"]
    assert (out["changed"], out["deleted"], out["unchanged"]) == (1, 1, 1)
    assert calendar_rows(store) == [("alice@alpha.example", "past", "in_person", D(2024, 5, 22, 15, 0), "Pricing")]
    assert dav.item_files(user) == files


def test_recurring_series_with_exceptions_time_zones_and_cancellations(store, dav, tmp_path):
    user = dav.user()
    dav.calendar(user, "work")
    # weekly on Mondays 10:00 New York time (14:00 UTC in May); 13 May is excluded, 20 May moved an hour
    # later, and the one on 6 May cancelled
    exceptions = "\n".join([
        "BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20240501T000000Z", "RECURRENCE-ID;TZID=America/New_York:20240520T100000",
        "DTSTART;TZID=America/New_York:20240520T110000", "DURATION:PT30M", "SUMMARY:1:1 (moved)",
        "ORGANIZER:mailto:me@me.example", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@alpha.example", "END:VEVENT",
        "BEGIN:VEVENT", "UID:weekly", "DTSTAMP:20240501T000000Z", "RECURRENCE-ID;TZID=America/New_York:20240506T100000",
        "DTSTART;TZID=America/New_York:20240506T100000", "DURATION:PT30M", "SUMMARY:1:1", "STATUS:CANCELLED",
        "ORGANIZER:mailto:me@me.example", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@alpha.example", "END:VEVENT"])
    dav.put(user, "work", "weekly.ics", ics("weekly", "20240429T100000", tz="America/New_York", summary="1:1",
                                            rrule="FREQ=WEEKLY;COUNT=6", extra="EXDATE;TZID=America/New_York:20240513T100000",
                                            more=exceptions))
    # I declined this one; this one has seven other people; Dan is known by name only
    dav.put(user, "work", "declined.ics", ics("declined", "20240521T150000Z",
                                              attendees=[("me@me.example", "DECLINED"), ("bob@beta.example", "ACCEPTED")]))
    crowd = [(f"p{i}@crowd.example", "ACCEPTED") for i in range(6)] + [("bob@beta.example", "ACCEPTED")]
    dav.put(user, "work", "allhands.ics", ics("allhands", "20240522T150000Z", attendees=crowd))
    dav.put(user, "work", "dan.ics", ics("dan", "20240523T150000Z", attendees=[], summary="Coffee",
                                         extra="ATTENDEE;CN=Dan Delta;PARTSTAT=ACCEPTED:mailto:dan.d@personal.example"))
    config = config_for(tmp_path, dav, user, "work")
    engine = open_store(store)
    with engine.begin() as conn:  # Dan's name as the store knows it
        from inboxrel.models import addresses, people
        pid = conn.execute(select(addresses.c.person_id).where(addresses.c.email == "dan@delta.example")).scalar()
        conn.execute(update(people).where(people.c.id == pid).values(name="Dan Delta"))
    engine.dispose()
    sync(store, config)
    assert calendar_rows(store) == [
        ("alice@alpha.example", "past", "unspecified", D(2024, 4, 29, 14, 0), "1:1"),
        ("alice@alpha.example", "past", "unspecified", D(2024, 5, 20, 15, 0), "1:1 (moved)"),
        ("alice@alpha.example", "planned", "unspecified", D(2024, 5, 27, 14, 0), "1:1"),
        ("alice@alpha.example", "planned", "unspecified", D(2024, 6, 3, 14, 0), "1:1"),
        ("dan@delta.example", "past", "unspecified", D(2024, 5, 23, 15, 0), "Coffee"),
    ]
    # the whole series cancelled: its evidence goes
    dav.put(user, "work", "weekly.ics", ics("weekly", "20240429T100000", tz="America/New_York", summary="1:1",
                                            rrule="FREQ=WEEKLY;COUNT=6", extra="STATUS:CANCELLED"))
    sync(store, config)
    assert [r[0] for r in calendar_rows(store)] == ["dan@delta.example"]


def test_an_event_moved_to_another_calendar_moves_its_evidence(store, dav, tmp_path):
    user = dav.user()
    dav.calendar(user, "work")
    dav.calendar(user, "home")
    dav.put(user, "work", "m.ics", ics("m", "20240521T150000Z", summary="Lunch"))
    config = config_for(tmp_path, dav, user, "work", "home")
    sync(store, config)
    dav.move(user, "work", "m.ics", "home")
    out = sync(store, config)
    assert (out["work"]["deleted"], out["home"]["changed"]) == (1, 1)
    assert calendar_rows(store) == [("alice@alpha.example", "past", "unspecified", D(2024, 5, 21, 15, 0), "Lunch")]


def test_a_forgotten_sync_token_lists_everything_again(store, dav, tmp_path):
    user = dav.user()
    dav.calendar(user, "work")
    dav.put(user, "work", "a.ics", ics("a", "20240521T150000Z"))
    dav.put(user, "work", "b.ics", ics("b", "20240522T150000Z"))
    config = config_for(tmp_path, dav, user, "work")
    sync(store, config)
    dav.delete(user, "work", "b.ics")
    engine = open_store(store)
    with engine.begin() as conn:
        conn.execute(update(calendar_sources).values(sync_token="http://radicale.org/ns/sync/0000"))
    engine.dispose()
    out = sync(store, config)["work"]
    assert (out["full"], out["changed"], out["deleted"], out["unchanged"]) == (True, 0, 1, 1)
    assert [r[3] for r in calendar_rows(store)] == [D(2024, 5, 21, 15, 0)]


def test_an_event_that_cannot_be_expanded_is_skipped_and_counted(store, dav, tmp_path):
    user = dav.user()
    dav.calendar(user, "work")
    dav.put(user, "work", "good.ics", ics("good", "20240521T150000Z"))
    # Radicale stores these as valid iCalendar; expanding them would never end or flood the store
    dav.put(user, "work", "zero.ics", ics("zero", "20240521T150000Z", rrule="FREQ=WEEKLY;INTERVAL=0"))
    dav.put(user, "work", "tick.ics", ics("tick", "20240521T150000Z", rrule="FREQ=MINUTELY"))
    config = config_for(tmp_path, dav, user, "work")
    res = run(store, "calendar", "sync", config=config)
    assert res.exit_code == 0, res.output
    assert "3 new or changed" in res.output and "2 unreadable skipped" in res.output, res.output
    assert f"skipped /{user}/work/zero.ics: its RRULE has INTERVAL=0" in res.output
    assert "tick.ics: it repeats every second or minute" in res.output
    assert len(calendar_rows(store)) == 1
    out = sync(store, config)["work"]  # not read again until it changes
    assert (out["changed"], out["skipped"]) == (0, 0)


def test_bad_credentials_servers_and_urls_are_one_line_errors(store, dav, tmp_path):
    user = dav.user()
    dav.calendar(user, "work")
    dav.put(user, "work", "a.ics", ics("a", "20240521T150000Z"))
    config = config_for(tmp_path, dav, user, "work")
    res = run(store, "calendar", "sync", config=config, env={"DAV_PW": "wrong-password"})
    assert res.exit_code == 77, res.output
    assert "refused the login" in res.output and "wrong-password" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = run(store, "calendar", "sync", config=config, env={"DAV_PW": None})
    assert res.exit_code == 77 and "DAV_PW, which is not set" in res.output
    # status keeps the failure
    res = run(store, "calendar", "list", "--format", "json", config=config)
    assert "DAV_PW, which is not set" in json.loads(res.output)[0]["last_error"]
    # a calendar that is not there (404), one whose server is down, and a good one: the good one syncs
    from tests.conftest import free_port

    bad = config.read_text() + (
        f'[[calendars]]\nname = "gone"\nurl = "{dav.url}/{user}/nope/"\nusername = "{user}"\npassword_env = "DAV_PW"\n\n'
        f'[[calendars]]\nname = "down"\nurl = "http://127.0.0.1:{free_port()}/x/"\nusername = "{user}"\n'
        'password_env = "DAV_PW"\n')
    config.write_text(bad)
    res = run(store, "calendar", "sync", config=config)
    assert res.exit_code == 3, res.output
    assert "calendar gone: FAILED" in res.output and "no calendar at this URL (404)" in res.output
    assert "calendar down: FAILED" in res.output and "cannot be reached" in res.output
    assert "calendar work: 1 new or changed" in res.output
    assert len(calendar_rows(store)) == 1
    res = run(store, "calendar", "sync", "down", config=config)
    assert res.exit_code == 69 and "Traceback" not in res.output
    res = run(store, "calendar", "sync", "gone", config=config)
    assert res.exit_code == 2


def test_calendar_add_list_and_test(store, dav, tmp_path):
    user = dav.user()
    dav.calendar(user, "work")
    config = tmp_path / "new.toml"
    res = run(store, "calendar", "add", "work", "--url", f"{dav.url}/{user}/work/", "--username", user,
              "--password-env", "DAV_PW", config=config)
    assert res.exit_code == 0, res.output
    assert PASSWORD not in config.read_text() and 'password_env = "DAV_PW"' in config.read_text()
    res = run(store, "calendar", "add", "work", "--url", f"{dav.url}/{user}/work/", "--username", user,
              "--password-env", "DAV_PW", config=config)
    assert res.exit_code == 2 and "--replace" in res.output
    res = run(store, "calendar", "add", "w2", "--url", "http://dav.example.com/u/w/", "--username", "u",
              "--password-env", "DAV_PW", config=config)
    assert res.exit_code == 2 and "plain http is accepted only for loopback" in res.output
    res = run(store, "calendar", "add", "w3", "--url", "https://u:pw@dav.example.com/u/w/", "--username", "u",
              "--password-env", "DAV_PW", config=config)
    assert res.exit_code == 2 and "not in the URL" in res.output
    res = run(store, "calendar", "test", "work", config=config)
    assert res.exit_code == 0, res.output
    assert "holds 0 objects; incremental sync supported" in res.output
    res = run(store, "calendar", "list", config=config)
    assert res.exit_code == 0 and f"work: {dav.url}/{user}/work/ as {user} (password_env DAV_PW)" in res.output


def test_a_weekly_meeting_keeps_a_heavy_emailer_off_the_call_list_until_the_series_is_cancelled(dav, tmp_path):
    from inboxrel.demo import DEMO_ME, DEMO_NOW, generate_demo

    info = generate_demo(tmp_path / "mail")
    person = info["story"]["suggest"][0]
    url = f"sqlite:///{tmp_path / 'store.db'}"
    user = dav.user()
    dav.calendar(user, "work")
    config = config_for(tmp_path, dav, user, "work")

    def cli_run(*args):
        res = CliRunner().invoke(cli, ["--db", url, "--config", str(config), "--now", DEMO_NOW.isoformat(), *args],
                                 env={"DAV_PW": PASSWORD})
        assert res.exit_code == 0, res.output
        return res.output

    cli_run("import", str(tmp_path / "mail"), "--account", "demo", "--me", DEMO_ME, "--quiet")
    listed = [r["email"] for r in json.loads(cli_run("suggest", "--format", "json", "--limit", "50"))]
    assert person in listed
    weekly = ics("weekly-1-1", "20260907T090000", tz="America/New_York", rrule="FREQ=WEEKLY",
                 organizer=DEMO_ME, attendees=[(person, "ACCEPTED")], summary="Weekly 1:1",
                 extra="LOCATION:https://zoom.us/j/98765")
    dav.put(user, "work", "weekly.ics", weekly)
    cli_run("calendar", "sync")
    listed = [r["email"] for r in json.loads(cli_run("suggest", "--format", "json", "--limit", "50"))]
    assert person not in listed
    why = json.loads(cli_run("explain", person, "--format", "json"))
    assert why["conversation"]["medium"] == "video"
    assert why["conversation"]["last_at"] == "2026-11-09T14:00:00+00:00"  # 9:00 in New York, EST
    assert why["conversation"]["planned_at"] == "2026-11-16T14:00:00+00:00"  # later today
    dav.put(user, "work", "weekly.ics", weekly.replace("SUMMARY:Weekly 1:1", "SUMMARY:Weekly 1:1\r\nSTATUS:CANCELLED"))
    cli_run("calendar", "sync")
    listed = [r["email"] for r in json.loads(cli_run("suggest", "--format", "json", "--limit", "50"))]
    assert person in listed


def test_bad_calendar_tables_are_one_line_errors(sqlite_url, tmp_path):
    _import(sqlite_url)
    config = tmp_path / "config.toml"
    for text, words in (
        ('[[calendars]]\nname = "w"\nurl = "https://dav.example/w/"\npast_days = "a year"\n',
         "past_days must be a whole number"),
        ('[[calendars]]\nname = "w"\nurl = "https://dav.example/w/"\nkind = "webcal"\n', "kind"),
        ('[[calendars]]\nname = "w"\n', "url"),
        ('[[calendars]]\nname = "w"\nurl = "https://dav.example/w/"\nkeyring = "yes"\n', "keyring"),
    ):
        config.write_text(text)
        res = run(sqlite_url, "calendar", "sync", config=config)
        assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output, (text, res.output)
        assert len(res.output.strip().splitlines()) == 1
