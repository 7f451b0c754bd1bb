"""The demo mailbox: deterministic files, mail that parses, a story the store agrees with; the bench generator."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.demo import (
    BENCH_ME,
    DEMO_ME,
    DEMO_NOW,
    FOLDERS,
    demo_facts,
    generate_demo,
    generate_maildir,
    load_demo_data,
    zone_offset,
)
from inboxrel.pipelines.parse import parse_message

NOW = DEMO_NOW.isoformat()


def tree_hashes(root: Path) -> dict[str, str]:
    """Relative path -> sha1 of every message file under a Maildir tree."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name == "maildirfolder":
                continue
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out


def message_files(root: Path):
    for folder, sub in FOLDERS.items():
        base = root / sub if sub else root
        for p in sorted((base / "cur").iterdir()):
            yield folder, p


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("demo") / "mail"
    return root, generate_demo(root, seed=7)


def test_deterministic_files_and_idempotent_reruns(demo, tmp_path):
    root, info = demo
    first = tree_hashes(root)
    assert len(first) == info["files"] and info["written"] == info["files"]
    # a re-run leaves every file, and so every folder's mtime, alone: a re-import skips the folders
    mtimes = {sub: (root / sub / "cur").stat().st_mtime_ns for sub in FOLDERS.values()}
    again = generate_demo(root, seed=7)
    assert (again["written"], again["removed"]) == (0, 0)
    assert {sub: (root / sub / "cur").stat().st_mtime_ns for sub in FOLDERS.values()} == mtimes
    assert tree_hashes(root) == first
    # the same seed elsewhere: byte-identical files and the same facts
    other_dir = tmp_path / "mail"
    same = generate_demo(other_dir, seed=7)
    assert tree_hashes(other_dir) == first
    volatile = ("path", "seconds", "written", "removed")
    assert {k: v for k, v in same.items() if k not in volatile} == {k: v for k, v in info.items() if k not in volatile}
    assert demo_facts(7) == {k: v for k, v in info.items() if k not in volatile}
    # another seed replaces every file: other filler, the same story
    other = generate_demo(other_dir, seed=8)
    assert other["removed"] == info["files"] and other["written"] == other["files"]
    hashes = tree_hashes(other_dir)
    assert len(hashes) == other["files"] and set(hashes.values()).isdisjoint(first.values())
    assert other["awaiting_me"] == info["awaiting_me"] and other["aliases"] == info["aliases"]


def test_every_file_is_a_well_formed_message(demo):
    root, info = demo
    start = DEMO_NOW - timedelta(days=546)
    end = DEMO_NOW.replace(hour=0)  # `--now 2026-11-16` (midnight) must see all of it too
    ids, offsets, per_folder = {}, set(), {}
    for folder, path in message_files(root):
        assert ":2," in path.name and path.name.split(".", 1)[0].isdigit()
        raw = path.read_bytes()
        assert f",S={len(raw)}," in path.name
        p = parse_message(raw)
        assert p.message_id and p.from_ and (p.to or p.cc), path
        assert start <= p.date < end, (path, p.date)
        assert p.body and p.body.strip(), path
        assert int(path.name.split(".", 1)[0]) == int(p.date.timestamp())
        assert path.stat().st_mtime == p.date.timestamp()
        ids.setdefault(p.message_id, set()).add(folder)
        offsets.add(p.tz_offset)
        per_folder[folder] = per_folder.get(folder, 0) + 1
        if folder == "Sent":
            assert p.from_[1] == DEMO_ME
    assert per_folder == {k: v for k, v in info["folders"].items() if v}
    assert len(ids) == info["messages"]
    copies = {m: f for m, f in ids.items() if len(f) > 1}
    assert len(copies) == info["files"] - info["messages"] > 0
    assert all(f == {"Clients/Contoso", "INBOX"} or f == {"Clients/Contoso", "Archive"} for f in copies.values())
    # Chicago in winter and summer, New York, London, Berlin, Kolkata, Sydney, ...
    assert {-360, -300, 0, 60, 330} <= offsets and len(offsets) >= 8


def test_planted_story_facts(demo):
    _, info = demo
    assert info["now"] == NOW and info["me"] == DEMO_ME
    assert 3000 <= info["messages"] <= 6000 and 150 <= info["people"] <= info["people_all"] <= 400
    assert sorted(info["awaiting_me"]) == sorted([
        "Contoso renewal: pricing questions", "Fabrikam Q1 statement of work", "Sprint 48 retro notes",
        "Portland in December?", "Speaker invitation: Midwest Analytics Summit 2027"])
    counts = info["counts_90d"]
    for email in info["story"]["suggest"]:
        c = counts[email]
        assert c["sent_90d"] >= 8 and c["received_90d"] >= 8 and c["planned"] is None
        assert c["last_conversation"] < "2026-09-01"
        assert email in info["heavy_without_conversation"]
    dana, jonah = info["story"]["not_suggested"]
    assert counts[dana]["last_conversation"] == "2026-11-11" and counts[dana]["sent_90d"] >= 8
    assert counts[jonah]["planned"] == "2026-11-19" and counts[jonah]["received_90d"] >= 8
    assert dana not in info["heavy_without_conversation"] and jonah not in info["heavy_without_conversation"]
    cooling = counts.get(info["story"]["cooling"][0], {"sent_90d": 0, "received_90d": 0})
    assert cooling["sent_90d"] + cooling["received_90d"] < 8
    cues = {c["text"]: c for c in info["cues"] if c["story"]}
    assert len(cues) == sum(c["story"] for c in info["cues"]) >= 10 and len(info["cues"]) > 100
    assert cues["Great talking yesterday."]["when"] == "2026-11-11"
    assert (cues["let's grab lunch Thursday at 12:30."]["kind"], cues["let's grab lunch Thursday at 12:30."]["medium"]) \
        == ("planned", "in_person")
    assert cues["can we hop on a Zoom call sometime?"]["medium"] == "video"
    maya = cues["call me when you get a chance."]
    assert (maya["kind"], maya["medium"], maya["when"], maya["person"]) == ("request", "phone", None,
                                                                            "maya.goldberg@fastpost.example")
    assert all(c["message_id"] and c["author"] and c["person"] != DEMO_ME for c in info["cues"])
    negatives = " ".join(n["text"] for n in info["negatives"])
    for phrase in ("call for papers", "margin call", "missed your call", "dial-in", "forwarded"):
        assert phrase in negatives
    assert all(n["message_id"] for n in info["negatives"])
    requests = {c["summary"]: c for c in info["calendar"] if c["method"] == "REQUEST"}
    assert sorted(requests) == ["Contoso vendor sync", "Fabrikam partnership check-in", "Lunch at Luca's",
                                "Sprint 44 demo"]
    assert requests["Sprint 44 demo"]["video"] and not requests["Lunch at Luca's"]["video"]
    assert requests["Lunch at Luca's"]["start"] == "2026-11-19T18:30:00+00:00"
    assert [c["summary"] for c in info["calendar"] if c["method"] == "CANCEL"] == ["Contoso vendor sync"]
    assert sorted(c["summary"] for c in info["calendar"] if c["method"] == "REPLY") == [
        "Contoso vendor sync", "Fabrikam partnership check-in", "Lunch at Luca's", "Sprint 44 demo"]
    assert sorted(a["kind"] for a in info["call_attempts"]) == ["missed_call", "voicemail"]


def test_invitations_are_valid_icalendar(demo):
    import icalendar

    root, info = demo
    wanted = {c["message_id"]: c for c in info["calendar"]}
    seen = set()
    for _, path in message_files(root):
        p = parse_message(path.read_bytes())
        if p.message_id not in wanted or not p.calendars:
            continue
        seen.add(p.message_id)
        fact = wanted[p.message_id]
        for data in p.calendars:
            cal = icalendar.Calendar.from_ical(data)
            assert str(cal["METHOD"]) == fact["method"]
            event = next(iter(cal.walk("VEVENT")))
            assert str(event["UID"]) == fact["uid"]
            assert str(event["ORGANIZER"]) == f"mailto:{fact['organizer']}"
            attendees = event.get("ATTENDEE")
            attendees = attendees if isinstance(attendees, list) else [attendees]
            assert {str(a).removeprefix("mailto:") for a in attendees} >= set(fact["attendees"])
            assert event.decoded("DTSTART") == datetime.fromisoformat(fact["start"])
            if fact["method"] == "CANCEL":
                assert str(event["STATUS"]) == "CANCELLED"
            if fact["video"] and fact["method"] == "REQUEST":
                assert "https://" in str(event["DESCRIPTION"])
    assert seen == set(wanted)


def test_signature_phone_numbers_are_valid_and_fictional():
    import phonenumbers

    for person in load_demo_data()["cast"]:
        if person.get("phone"):
            number = phonenumbers.parse(person["phone"], "US")
            assert phonenumbers.is_valid_number(number), person["phone"]
            national = str(number.national_number)
            assert "5550" in national or national.startswith(("2079460", "49157")), person["phone"]


@pytest.mark.parametrize("instant, zone, expected", [
    ("2026-03-08T07:59:00", "chicago", -360), ("2026-03-08T08:00:00", "chicago", -300),
    ("2026-11-01T06:59:00", "chicago", -300), ("2026-11-01T07:00:00", "chicago", -360),
    ("2026-03-29T00:59:00", "london", 0), ("2026-03-29T01:00:00", "london", 60),
    ("2025-10-26T01:00:00", "berlin", 60), ("2026-04-04T15:59:00", "sydney", 660),
    ("2026-04-04T16:00:00", "sydney", 600), ("2026-10-03T16:00:00", "sydney", 660),
    ("2026-07-01T12:00:00", "kolkata", 330),
])
def test_zone_offsets_follow_daylight_saving_rules(instant, zone, expected):
    zones = load_demo_data()["zones"]
    assert zone_offset(zones[zone], datetime.fromisoformat(instant).replace(tzinfo=timezone.utc)) == expected


def test_zone_offsets_agree_with_the_tz_database():
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    names = {"chicago": "America/Chicago", "new_york": "America/New_York", "london": "Europe/London",
             "berlin": "Europe/Berlin", "sydney": "Australia/Sydney", "kolkata": "Asia/Kolkata",
             "los_angeles": "America/Los_Angeles", "sao_paulo": "America/Sao_Paulo"}
    try:
        tzs = {k: ZoneInfo(v) for k, v in names.items()}
    except ZoneInfoNotFoundError:
        pytest.skip("no tz database on this machine")
    zones = load_demo_data()["zones"]
    t = datetime(2025, 1, 1, tzinfo=timezone.utc)
    while t < datetime(2027, 1, 1, tzinfo=timezone.utc):
        for key, tz in tzs.items():
            assert zone_offset(zones[key], t) == t.astimezone(tz).utcoffset() // timedelta(minutes=1), (key, t)
        t += timedelta(hours=7, minutes=13)


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_command_imports_the_story(db_url, tmp_path, monkeypatch):
    """`inboxrel demo` on SQLite and PostgreSQL: the store agrees with what the generator planted."""
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("INBOXREL_CONFIG", str(config))
    mail = tmp_path / "demo-mail"
    out = run("--db", db_url, "demo", "--path", str(mail), "--limit", "40")
    info = demo_facts(7)
    assert "People in the demo mailbox" in out
    for name in ("Dana Okafor", "Jonah Whitfield", "Ravi Shah", "Marcus Chen"):
        assert name in out
    assert f"demo mailbox: {info['messages']} messages written" in out
    assert f"imported {info['messages']}, {info['files'] - info['messages']} duplicates skipped, 0 quarantined" in out

    base = ("--db", db_url, "--now", NOW)
    stats = json.loads(run(*base, "stats", "--format", "json"))
    assert {k: stats[k] for k in ("messages", "sent", "received", "people", "addresses", "threads", "quarantined",
                                  "copies")} == {
        "messages": info["messages"], "sent": info["sent"], "received": info["received"], "people": info["people"],
        "addresses": info["addresses"], "threads": info["threads"], "quarantined": 0, "copies": info["files"]}

    people = json.loads(run(*base, "people", "--format", "json"))
    by_email = {e: p for p in people for e in p["emails"]}
    for alias in info["aliases"]:
        person = by_email[alias["emails"][0]]
        assert sorted(person["emails"]) == alias["emails"] and person["name"] == alias["name"]
        assert not person["automated"]
    for email in info["automated"]:
        assert by_email[email]["automated"] is True, email
    for email, c in info["counts_90d"].items():
        p = by_email[email]
        assert (p["sent_90d"], p["received_90d"]) == (c["sent_90d"], c["received_90d"]), email
    for email in [*info["story"]["suggest"], *info["story"]["not_suggested"]]:
        assert by_email[email]["automated"] is False and by_email[email]["two_way_threads"] >= 10

    awaiting = json.loads(run(*base, "threads", "--awaiting-me", "--format", "json"))
    assert sorted(t["subject"] for t in awaiting) == sorted(info["awaiting_me"])
    assert all(t["awaiting"] == "me" and t["messages"] >= 2 for t in awaiting)

    # a second run keeps the files, and the re-import adds nothing
    again = run("--db", db_url, "demo", "--path", str(mail))
    assert "imported 0, 0 duplicates skipped, 0 quarantined" in again
    assert json.loads(run(*base, "stats", "--format", "json"))["messages"] == info["messages"]


def test_bench_generator_is_fast_deterministic_and_importable(tmp_path, sqlite_url):
    from inboxrel.db import open_store
    from inboxrel.pipelines.importer import import_path

    info = generate_maildir(tmp_path / "a", 2000, seed=5, n_people=150)
    generate_maildir(tmp_path / "b", 2000, seed=5, n_people=150)
    hashes = tree_hashes(tmp_path / "a")
    assert hashes == tree_hashes(tmp_path / "b") and len(hashes) == 2000
    assert sum(info["folders"].values()) == 2000 and info["folders"]["Sent"] > 300
    senders = set()
    for path in (tmp_path / "a").rglob("*.bench,*"):
        p = parse_message(path.read_bytes())
        senders.add(p.from_[1])
        assert int(path.stat().st_mtime) == int(path.name.split(".", 1)[0]) == int(p.date.timestamp())
    assert BENCH_ME in senders and 60 < len(senders) <= 150 + 6
    summary = import_path(open_store(sqlite_url), tmp_path / "a", now=datetime(2026, 1, 2, tzinfo=timezone.utc),
                          account="bench")
    assert (summary.new, summary.duplicates, summary.quarantined) == (2000, 0, 0)
    assert summary.me == [BENCH_ME]


def test_demo_refuses_a_directory_holding_other_mail(tmp_path, sqlite_url, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text("")
    monkeypatch.setenv("INBOXREL_CONFIG", str(config))
    cur = tmp_path / "Maildir" / "cur"
    cur.mkdir(parents=True)
    mine = cur / "1700000000.M1P1.myhost:2,S"
    mine.write_bytes(b"From: a@b.example\nSubject: mine\n\nkeep me\n")
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "demo", "--path", str(tmp_path / "Maildir")])
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and len(result.output.splitlines()) == 1
    assert "holds mail that is not the demo's" in result.output and "give --path an empty directory" in result.output
    assert os.listdir(cur) == [mine.name] and not (tmp_path / "Maildir" / ".Sent").exists()
