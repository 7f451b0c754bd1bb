"""CalDAV calendars, read-only and incremental: meetings on the calendar become conversation evidence.

A sync asks the server what changed since the last one (the sync-collection REPORT of RFC 6578, with the
sync token kept in ``calendar_sources``); a server that lost the token, or never gave one, is listed in
full with each object's ETag, and compared with the ETags kept in ``calendar_items``. Only new or changed
objects are downloaded (calendar-multiget); an object that is gone (deleted, or moved to another
calendar) takes its evidence with it. Nothing is ever written to the server: the only requests are
PROPFIND, REPORT and GET.

Each object's events are expanded within a window (``past_days`` back, ``future_days`` ahead; recurring
series, exceptions, EXDATEs and time zones by ``recurring_ical_events``), and each occurrence is saved
through :func:`inboxrel.signals.save.save_calendar_event`: a past meeting with each attendee who did not
decline, a planned one in the future, video with a Zoom/Teams/Meet/Webex link, in person with a physical
location. Not personal conversations, so not evidence: cancelled occurrences, events I declined, and
events with more than ``MAX_OTHERS`` other attendees. Attendees are matched to people by address, then by
their name (CN) when exactly one person has it.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

from inboxrel.errors import AuthError, ConfigError, InboxrelError, UnreachableError, UsageError

MAX_OTHERS = 5  # more other attendees than this: a meeting, not a personal conversation
MULTIGET_BATCH = 200
MAX_OCCURRENCES = 2000  # per object in the window: a daily series for a year and a month is 396


# -- the URL and the credentials ----------------------------------------------------------------------------

def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, what: str) -> None:
    """HTTPS, or plain HTTP to a loopback address only; never credentials inside the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{what}: {url!r} is not an http(s) URL (e.g. https://dav.example.com/u/work/)")
    if parts.username or parts.password:
        raise UsageError(f"{what}: put the user name in --username and the password in a password source, "
                         "not in the URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise UsageError(f"{what}: plain http is accepted only for loopback addresses; use https://{parts.netloc}"
                         f"{parts.path}")


def _secret_holder(cal) -> SimpleNamespace:
    """The calendar as :func:`inboxrel.secrets.fetch_credential` reads an account (keyring service
    ``inboxrel/calendar/NAME``, apart from the IMAP account of the same name)."""
    return SimpleNamespace(name=f"calendar/{cal.name}", username=cal.username, password_env=cal.password_env,
                           password_command=cal.password_command, keyring=cal.keyring,
                           oauth2_token_command=cal.oauth2_token_command)


def connect(cal, environ):
    """A read-only handle on the calendar collection at ``cal.url``: (client, caldav ``Calendar``)."""
    client = connect_client(cal, environ)
    return client, client.calendar(url=cal.url)


def connect_client(cal, environ):
    """A DAV client for ``cal.url`` logged in with the source's secret (also for CardDAV address books)."""
    import caldav

    from inboxrel.secrets import fetch_credential

    check_url(cal.url, f"calendar {cal.name!r}")
    if not cal.username:
        raise ConfigError(f"calendar {cal.name!r} has no username: add it with `inboxrel calendar add "
                          f"{cal.name} --url ... --username U --replace`")
    cred = fetch_credential(_secret_holder(cal), environ)
    kwargs = {"auth_type": "bearer"} if cred.mechanism == "xoauth2" else {"auth_type": "basic"}
    return caldav.DAVClient(url=cal.url, username=cred.username, password=cred.secret,
                            timeout=cal.timeout, ssl_verify_cert=cal.ca_file or True,
                            require_tls=urlsplit(cal.url).scheme == "https", enable_rfc6764=False, **kwargs)


def _translate(exc: Exception, cal) -> InboxrelError:
    """A network or DAV error as the named error whose message says what to do (never the secret)."""
    from caldav.lib import error as dav_error

    where = f"calendar {cal.name!r} ({_safe(cal.url)})"
    if isinstance(exc, dav_error.AuthorizationError):
        if "Forbidden" in str(exc):
            return AuthError(f"{where}: the server forbids {cal.username!r} to read it (403): check the URL and "
                             "that this user may read the calendar")
        return AuthError(f"{where}: the server refused the login for {cal.username!r}: check the password "
                         f"source (`inboxrel calendar test {cal.name}`)")
    if isinstance(exc, dav_error.NotFoundError):
        return ConfigError(f"{where}: no calendar at this URL (404): copy the calendar's CalDAV URL from the "
                           f"server and run `inboxrel calendar add {cal.name} --url URL --replace`")
    if isinstance(exc, dav_error.DAVError):
        return UnreachableError(f"{where}: the server answered with an error ({type(exc).__name__}); try again "
                                "later, or check the URL")
    if isinstance(exc, OSError) or type(exc).__module__.startswith(("niquests", "urllib3", "requests")):
        text = str(exc)
        why = ("its TLS certificate is not trusted: pass the CA with --ca-file" if "CERTIFICATE" in text.upper()
               else "it timed out" if "timed out" in text.lower() or "Timeout" in type(exc).__name__
               else "the connection failed")
        return UnreachableError(f"{where}: the server cannot be reached ({why}); check the URL and the network")
    return UnreachableError(f"{where}: {type(exc).__name__}: the server's answer could not be read")


def _safe(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.hostname}{':' + str(p.port) if p.port else ''}{p.path}"


# -- fetching ----------------------------------------------------------------------------------------

@dataclass
class Changes:
    """What a sync learned from the server."""

    token: str | None
    full: bool  # a complete listing: every object not in it is gone
    changed: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # href -> (etag, data)
    present: dict[str, str | None] = field(default_factory=dict)  # href -> etag, every object listed
    deleted: set[str] = field(default_factory=set)


def _href(url) -> str:
    return unquote(urlsplit(str(url)).path)


def fetch_changes(calendar, token: str | None, known: dict[str, str | None]) -> Changes:
    """The objects that changed since ``token`` (or all, compared by ETag with ``known``), with their data."""
    from caldav.elements import dav
    from caldav.lib import error as dav_error

    result = None
    full = True
    if token:
        try:
            result = calendar.get_objects_by_sync_token(token, load_objects=False, disable_fallback=True)
            full = False
        except dav_error.AuthorizationError as exc:
            if "Forbidden" not in str(exc) and "Precondition" not in str(exc):
                raise  # a refused login; a forgotten token is a 403/412 and means: list everything
        except dav_error.ReportError:
            pass
    if result is None:
        result = calendar.get_objects_by_sync_token(None, load_objects=False)
    changes = Changes(token=getattr(result, "sync_token", None), full=full)
    deleted = {_href(u) for u in (getattr(result, "deleted_urls", None) or ())}
    want = []
    for obj in result:
        href = _href(obj.url)
        if href in deleted:
            continue
        etag = (obj.props or {}).get(dav.GetEtag.tag)
        changes.present[href] = etag
        if etag is None or known.get(href) != etag or href not in known:
            want.append(obj.url)
    changes.deleted = deleted
    for i in range(0, len(want), MULTIGET_BATCH):
        for obj in calendar.multiget(want[i:i + MULTIGET_BATCH]):
            href = _href(obj.url)
            changes.changed[href] = ((obj.props or {}).get(dav.GetEtag.tag) or changes.present.get(href),
                                     obj.data)
    if full:
        changes.deleted |= set(known) - set(changes.present)
    return changes


# -- parsing -------------------------------------------------------------------------------------------

def parse_object(data: str | bytes, *, start: datetime, end: datetime):
    """(UID, occurrences as CalendarEvents) of one calendar object within [start, end); ValueError if bad."""
    import recurring_ical_events
    from icalendar import Calendar

    from inboxrel.signals.calendar import _as_utc, event_from_component

    try:
        cal = Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises many kinds on broken input
        raise ValueError(f"not a readable iCalendar object ({type(exc).__name__}: {str(exc)[:120]})") from None
    for comp in cal.walk("VEVENT"):
        rule = comp.get("RRULE")
        for r in rule if isinstance(rule, list) else [rule] if rule is not None else []:
            if any(int(i) < 1 for i in (r.get("INTERVAL") or [1])):  # dateutil would loop for ever
                raise ValueError("its RRULE has INTERVAL=0")
            if {str(f).upper() for f in r.get("FREQ") or []} & {"SECONDLY", "MINUTELY"}:
                raise ValueError("it repeats every second or minute: not a meeting")
    uid = next((str(c.get("UID")) for c in cal.walk("VEVENT") if c.get("UID")), None)
    try:
        occurrences = recurring_ical_events.of(cal).between(start, end)
    except Exception as exc:
        raise ValueError(f"its recurrence cannot be expanded ({type(exc).__name__}: {str(exc)[:120]})") from None
    if len(occurrences) > MAX_OCCURRENCES:
        raise ValueError(f"{len(occurrences)} occurrences in the window (more than {MAX_OCCURRENCES}): not meetings")
    events = []
    for comp in occurrences:
        if comp.name != "VEVENT":
            continue
        ev = event_from_component(comp, start=_as_utc(comp.get("DTSTART")))
        if ev is not None and ev.start is not None:
            events.append(ev)
    return uid, events


# -- saving ----------------------------------------------------------------------------------------------

def _me_and_names(conn):
    from sqlalchemy import select

    from inboxrel.identity.names import normalize_name
    from inboxrel.models import addresses, people

    me = {r.email for r in conn.execute(select(addresses.c.email).join(people, people.c.id == addresses.c.person_id)
                                        .where(people.c.is_me.is_(True)))}
    by_name: dict[str, set[str]] = {}
    primary = addresses.alias("p")
    for r in conn.execute(select(people.c.name, primary.c.email)
                          .join(primary, primary.c.id == people.c.primary_address_id)
                          .where(people.c.name.is_not(None), people.c.is_me.is_(False))):
        key = normalize_name(r.name) or r.name.strip().lower()
        by_name.setdefault(key, set()).add(r.email)
    return me, {k: next(iter(v)) for k, v in by_name.items() if len(v) == 1}


def _known_emails(conn, emails) -> set[str]:
    from sqlalchemy import select

    from inboxrel.models import addresses

    emails = list(set(emails))
    return {r.email for r in conn.execute(select(addresses.c.email).where(addresses.c.email.in_(emails)))} if emails else set()


def evidence_for(conn, item_id: int, events, *, now: datetime, me: set[str], names: dict[str, str]) -> tuple[int, int]:
    """Replace one object's evidence with its occurrences'; return (occurrences saved, rows written)."""
    from sqlalchemy import delete

    from inboxrel.clock import iso
    from inboxrel.identity.names import normalize_name
    from inboxrel.models import interactions
    from inboxrel.signals.save import save_calendar_event

    conn.execute(delete(interactions).where(interactions.c.source == "calendar",
                                            interactions.c.source_ref.like(f"cal:{item_id}|%")))
    saved = written = 0
    for ev in events:
        if ev.status == "CANCELLED":
            continue
        if any(a in me and ps == "DECLINED" for a, ps in ev.attendees):
            continue
        others = {a for a, _ in ev.attendees if a not in me} | ({ev.organizer} - me - {None})
        if len(others) > MAX_OTHERS:
            continue
        known = _known_emails(conn, others)
        attendees = []
        for a, ps in ev.attendees:
            if a not in known and a not in me and ev.names.get(a):  # by name when the address is new to us
                a = names.get(normalize_name(ev.names[a]) or ev.names[a].lower(), a)
            attendees.append((a, ps))
        ev.attendees = attendees
        ev.uid = f"cal:{item_id}|{iso(ev.start)}"
        ev.recurring = False
        ev.method = "PUBLISH"
        n = save_calendar_event(conn, ev, now=now)
        written += n
        saved += 1 if n else 0
    return saved, written


def source_row(conn, name: str, kind: str):
    """The ``calendar_sources`` row of source ``name``, made (with ``kind``) on its first sync."""
    from sqlalchemy import insert, select

    from inboxrel.models import calendar_sources

    query = select(calendar_sources).where(calendar_sources.c.name == name)
    src = conn.execute(query).first()
    if src is None:
        conn.execute(insert(calendar_sources).values(name=name, kind=kind, items=0))
        src = conn.execute(query).first()
    return src


def sync_calendar(engine, cal, *, now: datetime, environ, full: bool = False) -> dict:
    """Sync one calendar into the store; raise the named error when the server cannot be read."""
    from sqlalchemy import delete, insert, select, update

    from inboxrel.clock import as_utc, to_db
    from inboxrel.models import calendar_items, calendar_sources, interactions

    started = time.monotonic()
    now = as_utc(now)
    with engine.begin() as conn:
        src = source_row(conn, cal.name, "caldav")
        known = {r.href: r.etag for r in conn.execute(select(calendar_items.c.href, calendar_items.c.etag)
                                                      .where(calendar_items.c.source_id == src.id))}
    try:
        _client, calendar = connect(cal, environ)
        changes = fetch_changes(calendar, None if full else src.sync_token, {} if full else known)
    except InboxrelError as exc:
        _record_error(engine, src.id, exc, now)
        raise
    except Exception as exc:
        err = _translate(exc, cal)
        _record_error(engine, src.id, err, now)
        raise err from None
    window = window_bounds(now, cal)
    out = {"calendar": cal.name, "changed": 0, "deleted": 0, "unchanged": 0, "occurrences": 0,
           "interactions": 0, "skipped": 0, "problems": [], "full": changes.full}
    with engine.begin() as conn:
        me, names = _me_and_names(conn)
        ids = {r.href: r.id for r in conn.execute(select(calendar_items.c.href, calendar_items.c.id)
                                                  .where(calendar_items.c.source_id == src.id))}
        for href in sorted(changes.deleted):
            if href in ids:
                conn.execute(delete(interactions).where(interactions.c.source == "calendar",
                                                        interactions.c.source_ref.like(f"cal:{ids[href]}|%")))
                conn.execute(delete(calendar_items).where(calendar_items.c.id == ids.pop(href)))
                out["deleted"] += 1
        for href, (etag, data) in sorted(changes.changed.items()):
            if href not in ids:
                ids[href] = conn.execute(insert(calendar_items).values(
                    source_id=src.id, href=href[:1000], etag=etag, events=0, updated_at=to_db(now))
                    .returning(calendar_items.c.id)).scalar_one()
            try:
                uid, events = parse_object(data or "", start=window[0], end=window[1])
            except ValueError as exc:
                out["skipped"] += 1
                out["problems"].append({"href": href, "reason": str(exc)})
                uid, events = None, []
            saved, written = evidence_for(conn, ids[href], events, now=now, me=me, names=names)
            conn.execute(update(calendar_items).where(calendar_items.c.id == ids[href]).values(
                etag=etag, uid=(uid or "")[:500] or None, events=saved, updated_at=to_db(now)))
            out["changed"] += 1
            out["occurrences"] += saved
            out["interactions"] += written
        out["unchanged"] = len(ids) - out["changed"]
        conn.execute(update(calendar_sources).where(calendar_sources.c.id == src.id).values(
            sync_token=changes.token, items=len(ids), last_sync_at=to_db(now), last_ok_at=to_db(now),
            last_error=None, last_error_at=None))
    out["items"] = len(ids)
    out["seconds"] = round(time.monotonic() - started, 2)
    return out


def _record_error(engine, source_id: int, exc: Exception, now: datetime) -> None:
    from sqlalchemy import update

    from inboxrel.clock import to_db
    from inboxrel.models import calendar_sources

    with engine.begin() as conn:
        conn.execute(update(calendar_sources).where(calendar_sources.c.id == source_id).values(
            last_sync_at=to_db(now), last_error=str(exc)[:1000], last_error_at=to_db(now)))


def sync_calendars(engine, calendars: dict, names=(), *, now: datetime, environ, full: bool = False,
                   region: str = "US"):
    """Sync the named calendars and address books (all when none are named), each on its own: one failing
    never stops the others. Return (results, errors) where errors are the named exceptions of the ones that
    failed. ``region`` reads the numbers of address books' cards."""
    if names:
        missing = [n for n in names if n not in calendars]
        if missing:
            raise UsageError(f"no calendar named {missing[0]!r} in the config; `inboxrel calendar list` shows them")
    results, errors = [], []
    for name in (names or sorted(calendars)):
        cal = calendars[name]
        try:
            if getattr(cal, "kind", "caldav") == "carddav":
                from inboxrel.sources.carddav import sync_addressbook

                results.append(sync_addressbook(engine, cal, now=now, environ=environ, region=region, full=full))
            elif getattr(cal, "kind", "caldav") == "ics":
                from inboxrel.sources.ics_url import sync_ics

                results.append(sync_ics(engine, cal, now=now, full=full))
            else:
                results.append(sync_calendar(engine, cal, now=now, environ=environ, full=full))
        except InboxrelError as exc:
            errors.append(exc)
            results.append({"calendar": name, "error": str(exc), "exit_code": exc.exit_code})
    from inboxrel.sources.contacts import apply_contact_names

    with engine.begin() as conn:  # after the night's mail has named people from their messages
        apply_contact_names(conn)
    return results, errors


def check_calendar(cal, environ) -> dict:
    """Log in and list the calendar without saving anything (`inboxrel calendar test`)."""
    if getattr(cal, "kind", "caldav") == "ics":
        from inboxrel.sources.ics_url import fetch_ics, redact, split_by_uid

        _status, body, _v = fetch_ics(cal, {})
        return {"calendar": cal.name, "url": redact(cal.url), "username": None, "display_name": None,
                "objects": len(split_by_uid(body or b"")), "sync_token": False}
    if getattr(cal, "kind", "caldav") == "carddav":
        from inboxrel.sources.carddav import fetch_changes as fetch_cards

        try:
            listed, _ = fetch_cards(connect_client(cal, environ), cal.url, {}, download=False)
        except InboxrelError:
            raise
        except Exception as exc:
            raise _translate(exc, cal) from None
        return {"calendar": cal.name, "url": _safe(cal.url), "username": cal.username, "display_name": None,
                "objects": len(listed), "sync_token": False}
    try:
        _client, calendar = connect(cal, environ)
        result = calendar.get_objects_by_sync_token(None, load_objects=False)
        objects = len(list(result))
        try:
            display = calendar.get_display_name()
        except Exception:
            display = None
        supports_sync = bool(getattr(result, "sync_token", None))
    except InboxrelError:
        raise
    except Exception as exc:
        raise _translate(exc, cal) from None
    return {"calendar": cal.name, "url": _safe(cal.url), "username": cal.username, "display_name": display,
            "objects": objects, "sync_token": supports_sync}


def calendar_status(engine) -> list[dict]:
    """Each calendar's last sync as the store has it (for `status` and `calendar list`)."""
    from sqlalchemy import select

    from inboxrel.clock import iso
    from inboxrel.models import calendar_sources

    if engine is None:
        return []
    with engine.connect() as conn:
        return [{"calendar": r.name, "kind": r.kind, "items": r.items, "last_sync_at": iso(r.last_sync_at),
                 "last_ok_at": iso(r.last_ok_at), "last_error": r.last_error,
                 "last_error_at": iso(r.last_error_at)}
                for r in conn.execute(select(calendar_sources).order_by(calendar_sources.c.name))]


def window_bounds(now: datetime, cal) -> tuple[datetime, datetime]:
    """The span recurring events are expanded in: ``past_days`` back and ``future_days`` ahead."""
    now = now.astimezone(timezone.utc)
    return now - timedelta(days=cal.past_days), now + timedelta(days=cal.future_days)
