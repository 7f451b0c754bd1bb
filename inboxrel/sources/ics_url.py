"""ICS subscription URLs (Google's "secret address in iCal format", Outlook's published calendars).

A ``[[calendars]]`` table with ``kind = "ics"`` names the URL. The URL is a secret (anyone holding it reads
the calendar): it lives only in the config file (written 0600), and every message, log line and store row
names the calendar and the host only (:func:`redact`). A sync is a conditional GET (If-None-Match /
If-Modified-Since with what the server last sent); 304 Not Modified costs nothing more. A changed
calendar is diffed by UID: each UID's events (a series with its exceptions) are hashed, and only the UIDs
whose hash changed are expanded and saved again, with the evidence rules of CalDAV
(:func:`inboxrel.sources.caldav.evidence_for`); a UID that disappeared takes its evidence with it.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import time
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import urlsplit

from inboxrel.errors import ConfigError, InboxrelError, UnreachableError, UsageError


def redact(url: str) -> str:
    """Scheme and host of a secret URL, for messages."""
    p = urlsplit(url)
    return f"{p.scheme}://{p.hostname}{':' + str(p.port) if p.port else ''}/…"


def fetch_ics(cal, validators: dict) -> tuple[int, bytes | None, dict]:
    """(status, body or None on 304, the new validators) of a conditional GET of ``cal.url``."""
    from inboxrel.sources.caldav import check_url

    check_url(cal.url, f"calendar {cal.name!r}")
    req = urllib.request.Request(cal.url, headers={"User-Agent": "inboxrel", "Accept": "text/calendar"})
    if validators.get("etag"):
        req.add_header("If-None-Match", validators["etag"])
    if validators.get("last_modified"):
        req.add_header("If-Modified-Since", validators["last_modified"])
    context = ssl.create_default_context(cafile=cal.ca_file) if cal.ca_file else None
    where = f"calendar {cal.name!r} ({redact(cal.url)})"
    try:
        with urllib.request.urlopen(req, timeout=cal.timeout, context=context) as resp:
            body = resp.read()
            new = {"etag": resp.headers.get("ETag"), "last_modified": resp.headers.get("Last-Modified")}
            return resp.status, body, new
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, None, validators
        if exc.code in (401, 403, 404, 410):
            raise ConfigError(f"{where}: the server answered {exc.code}: the secret address may have been reset; "
                              f"copy it again and run `inboxrel calendar add {cal.name} --ics-url URL --replace`"
                              ) from None
        raise UnreachableError(f"{where}: the server answered {exc.code}; try again later") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        why = ("its TLS certificate is not trusted: pass the CA with --ca-file"
               if isinstance(reason, ssl.SSLError) or "CERTIFICATE" in str(reason).upper()
               else "it timed out" if "timed out" in str(reason).lower() else "the connection failed")
        raise UnreachableError(f"{where}: the server cannot be reached ({why}); check the network") from None


def split_by_uid(raw: bytes) -> dict[str, str]:
    """UID -> a VCALENDAR holding that UID's events (and every time zone): the unit the diff compares."""
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(raw)
    except Exception as exc:
        raise UsageError(f"not an iCalendar file ({type(exc).__name__}): the address must give an .ics calendar"
                         ) from None
    zones = [c for c in cal.walk("VTIMEZONE")]
    groups: dict[str, list] = {}
    for ev in cal.walk("VEVENT"):
        uid = str(ev.get("UID") or "").strip()
        if uid:
            groups.setdefault(uid, []).append(ev)
    out = {}
    for uid, events in groups.items():
        part = Calendar()
        part.add("VERSION", "2.0")
        part.add("PRODID", "-//inboxrel//ics diff//EN")
        for z in zones:
            part.add_component(z)
        for ev in events:
            part.add_component(ev)
        out[uid] = part.to_ical().decode("utf-8", errors="replace")
    return out


def sync_ics(engine, cal, *, now: datetime, full: bool = False) -> dict:
    """Sync one ICS subscription into the store (see the module docstring)."""
    from sqlalchemy import delete, insert, select, update

    from inboxrel.clock import as_utc, to_db
    from inboxrel.models import calendar_items, calendar_sources, interactions
    from inboxrel.sources.caldav import (
        _me_and_names,
        _record_error,
        evidence_for,
        parse_object,
        source_row,
        window_bounds,
    )

    started = time.monotonic()
    now = as_utc(now)
    with engine.begin() as conn:
        src = source_row(conn, cal.name, "ics")
        known = {r.href: (r.id, r.etag) for r in conn.execute(
            select(calendar_items.c.href, calendar_items.c.id, calendar_items.c.etag)
            .where(calendar_items.c.source_id == src.id))}
    validators = {} if full or not src.sync_token else json.loads(src.sync_token)
    out = {"calendar": cal.name, "kind": "ics", "changed": 0, "deleted": 0, "unchanged": 0, "occurrences": 0,
           "interactions": 0, "skipped": 0, "problems": [], "not_modified": False}
    try:
        status, body, validators = fetch_ics(cal, validators)
        parts = None if status == 304 else split_by_uid(body or b"")
    except InboxrelError as exc:
        _record_error(engine, src.id, exc, now)
        raise
    window = window_bounds(now, cal)
    with engine.begin() as conn:
        if parts is None:
            out["not_modified"] = True
            out["unchanged"] = len(known)
        else:
            me, names = _me_and_names(conn)
            for uid in sorted(set(known) - set(parts)):
                iid = known[uid][0]
                conn.execute(delete(interactions).where(interactions.c.source == "calendar",
                                                        interactions.c.source_ref.like(f"cal:{iid}|%")))
                conn.execute(delete(calendar_items).where(calendar_items.c.id == iid))
                out["deleted"] += 1
            for uid, text in sorted(parts.items()):
                digest = hashlib.sha256(text.encode()).hexdigest()
                if uid in known and known[uid][1] == digest:
                    out["unchanged"] += 1
                    continue
                if uid in known:
                    iid = known[uid][0]
                else:
                    iid = conn.execute(insert(calendar_items).values(
                        source_id=src.id, href=uid[:1000], etag=digest, uid=uid[:500], events=0,
                        updated_at=to_db(now)).returning(calendar_items.c.id)).scalar_one()
                try:
                    _uid, events = parse_object(text, start=window[0], end=window[1])
                except ValueError as exc:
                    out["skipped"] += 1
                    out["problems"].append({"href": uid, "reason": str(exc)})
                    events = []
                saved, written = evidence_for(conn, iid, events, now=now, me=me, names=names)
                conn.execute(update(calendar_items).where(calendar_items.c.id == iid).values(
                    etag=digest, events=saved, updated_at=to_db(now)))
                out["changed"] += 1
                out["occurrences"] += saved
                out["interactions"] += written
        items = len(known) if parts is None else len(parts)
        conn.execute(update(calendar_sources).where(calendar_sources.c.id == src.id).values(
            kind="ics", sync_token=json.dumps(validators), items=items, last_sync_at=to_db(now),
            last_ok_at=to_db(now), last_error=None, last_error_at=None))
    out["items"] = items
    out["seconds"] = round(time.monotonic() - started, 2)
    return out
