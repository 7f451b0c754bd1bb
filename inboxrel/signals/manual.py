"""What the mailbox cannot know: logged conversations, phone call logs, exported calendars; and re-analysis.

Each save is idempotent: a logged call is keyed by its time, a call-log row by its time and number, a
calendar event by its UID, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from inboxrel.clock import as_utc, iso, to_db
from inboxrel.errors import InboxrelError, SourceError, UsageError
from inboxrel.models import accounts, addresses, interactions, messages, people

MEDIUM = {"call": "phone", "video": "video", "meeting": "in_person"}


class RefetchUnavailableError(InboxrelError):
    """Raised when message bodies were not kept and cannot be re-fetched to re-run the signals."""


def save_logged(engine, person_ref: str, medium: str, at: datetime, *, note: str | None, now: datetime) -> dict:
    """Record a conversation the user had (``medium`` call|video|meeting) with a person; return the row."""
    from inboxrel.identity.people import resolve_person
    from inboxrel.signals.save import save_interactions

    at = as_utc(at)
    kind = "planned" if at > as_utc(now) else "past"
    with engine.begin() as conn:
        pid = resolve_person(conn, person_ref)
        row = {"person_id": pid, "kind": kind, "medium": MEDIUM[medium], "at": to_db(at), "source": "manual",
               "source_ref": iso(at), "message_id": None, "confidence": 1.0, "direction": None,
               "sentence": None, "note": note, "created_at": to_db(now)}
        save_interactions(conn, [row])
        name = conn.execute(select(people.c.name, addresses.c.email)
                            .join(addresses, addresses.c.id == people.c.primary_address_id, isouter=True)
                            .where(people.c.id == pid)).first()
    who = (name.name or name.email) if name else str(pid)
    return {"person": who, "person_id": pid, "kind": kind, "medium": MEDIUM[medium], "at": iso(at), "note": note}


def import_call_log(engine, path: str, *, now: datetime, region: str = "US", min_seconds: int = 60) -> dict:
    """Import a phone call log (Android XML, iPhone call history, CSV): see :mod:`inboxrel.sources.calllog`."""
    from inboxrel.sources.calllog import import_calls

    return import_calls(engine, path, now=now, region=region, min_seconds=min_seconds)


def import_calendar_file(engine, path: str, *, now: datetime) -> dict:
    """Import an exported .ics calendar; see ``save_calendar_event`` for what becomes evidence."""
    from inboxrel.signals.calendar import parse_calendar
    from inboxrel.signals.save import save_calendar_event

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    events = parse_calendar(raw, now=now)
    if not events and b"BEGIN:VCALENDAR" not in raw[:4096].upper():
        raise UsageError(f"{path} is not an iCalendar file (no BEGIN:VCALENDAR): export your calendar as .ics")
    written = 0
    with engine.begin() as conn:
        for ev in events:
            written += save_calendar_event(conn, ev, now=now)
    return {"events": len(events), "interactions": written}


def reanalyze(engine, settings, *, now: datetime, everything: bool = False, batch: int = 500,
              environ=None, message_ids: list[int] | None = None) -> dict:
    """Re-run the signals over stored bodies; re-fetch over IMAP when bodies were not kept.

    ``message_ids`` limits the run to those messages (with ``everything``, whatever version analysed them).
    """
    from inboxrel.signals import VERSION
    from inboxrel.signals.save import EvidenceSummary, MessageInput, analyze_messages

    total = EvidenceSummary()
    q = select(messages.c.id, messages.c.body_text, messages.c.date, messages.c.tz_offset, messages.c.subject,
               messages.c.has_body, accounts.c.name, accounts.c.kind).join(accounts, accounts.c.id == messages.c.account_id)
    if not everything:
        q = q.where((messages.c.analyzed_version.is_(None)) | (messages.c.analyzed_version < VERSION))
    missing: dict[tuple[str, str], list[int]] = {}
    with engine.connect() as conn:
        if message_ids is None:
            rows = conn.execute(q.order_by(messages.c.id)).all()
        else:
            rows = []
            for i in range(0, len(message_ids), 500):
                rows += conn.execute(q.where(messages.c.id.in_(message_ids[i:i + 500])).order_by(messages.c.id)).all()
    chunk = []
    for r in rows:
        if r.body_text is None:
            if r.has_body or r.kind == "imap":
                missing.setdefault((r.name, r.kind), []).append(r.id)
            continue
        chunk.append((r.id, MessageInput(body=r.body_text, date=r.date, tz_offset=r.tz_offset, subject=r.subject)))
        if len(chunk) >= batch:
            with engine.begin() as conn:
                total.add(analyze_messages(conn, chunk, now=now, region=settings.default_region))
            chunk = []
    if chunk:
        with engine.begin() as conn:
            total.add(analyze_messages(conn, chunk, now=now, region=settings.default_region))
    refetched = 0
    problems = []
    for (name, kind), ids in missing.items():
        fetch = refetch_hook() if kind == "imap" else None
        if fetch is None:
            problems.append(f"{len(ids)} messages of account {name!r}")
            continue
        from inboxrel.signals.save import analyze_parsed

        saved = list(fetch(engine, settings, name, ids, environ=environ))
        refetched += len(saved)
        for i in range(0, len(saved), batch):
            with engine.begin() as conn:
                total.add(analyze_parsed(conn, saved[i:i + batch], now=now, region=settings.default_region))
    if problems and not total.messages and not refetched:
        raise RefetchUnavailableError(
            f"no stored bodies to re-analyse: the bodies of {'; '.join(problems)} were not kept (store_bodies = false) "
            "and cannot be re-fetched (local accounts: re-import the files into a fresh store; IMAP accounts: "
            "check the account is still in the config)")
    return {"messages": total.messages, "interactions": total.interactions, "phone_numbers": total.phone_numbers,
            "calendar_events": total.calendar_events, "refetched": refetched, "not_available": problems,
            "failed": total.failed, "failures": total.failures}


def identity_state(conn) -> dict[int, str]:
    """Address id -> what it is to the owner (me, delegate): what attribution reads, to compare after a run."""
    from inboxrel.identity.owner import delegate_person_ids

    delegates = delegate_person_ids(conn)
    out = {}
    for r in conn.execute(select(addresses.c.id, addresses.c.person_id, people.c.is_me)
                          .join(people, people.c.id == addresses.c.person_id)):
        if r.is_me:
            out[r.id] = "me"
        elif r.person_id in delegates:
            out[r.id] = "delegate"
    return out


def follow_identity(engine, settings, before: dict[int, str], *, now: datetime, environ=None) -> dict | None:
    """Evidence follows identity: re-analyse the messages of every address whose role changed since ``before``.

    An import learns some of my addresses (the ones received mail is sent to) and my delegates only after
    all the mail is in; evidence read before that attributed their messages as if they were someone else's.
    Returns what :func:`reanalyze` returns, or None when nothing changed.
    """
    from inboxrel.models import participants

    with engine.connect() as conn:
        after = identity_state(conn)
    changed = {a for a in set(before) | set(after) if before.get(a) != after.get(a)}
    if not changed:
        return None
    ids: set[int] = set()
    with engine.connect() as conn:
        part = list(changed)
        for i in range(0, len(part), 500):
            ids.update(r.message_id for r in conn.execute(
                select(participants.c.message_id).where(participants.c.address_id.in_(part[i:i + 500])).distinct()))
    if not ids:
        return None
    try:
        return reanalyze(engine, settings, now=now, everything=True, message_ids=sorted(ids), environ=environ)
    except RefetchUnavailableError:
        return None  # bodies not kept: `inboxrel reanalyze` says what it cannot redo


def refetch_hook():
    """The IMAP helper's ``refetch_bodies(engine, settings, account_name, message_ids)`` or None.

    The hook yields ``(messages.id, ParsedMessage)`` for the messages it could fetch again over IMAP
    (read-only, BODY.PEEK). It lives with the IMAP code; this module only calls it.
    """
    try:
        from inboxrel.pipelines import imap
    except ImportError:
        return None
    return getattr(imap, "refetch_bodies", None)


def person_interactions(conn, person_id: int) -> list[dict]:
    """Every interaction of one person, newest first (for reports and tests)."""
    rows = conn.execute(select(interactions).where(interactions.c.person_id == person_id)
                        .order_by(interactions.c.at.desc(), interactions.c.id)).all()
    return [dict(r._mapping) for r in rows]
