"""Evidence into the store: interactions and phone numbers, idempotently, one transaction per batch.

``analyze_messages`` runs every signal over a batch of saved messages (reply stripping, cues, call notices,
calendars, signature numbers; the text ones usually arrive already computed by the import's parse workers,
see :mod:`inboxrel.signals.text`) and ``save_*`` writes the results. Whether a message can show a personal
conversation at all is :mod:`inboxrel.signals.context`'s to say, and with whom each cue's is
:mod:`inboxrel.signals.attribution`'s. Re-running replaces a message's own evidence instead of adding to it,
so nothing is ever counted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import delete, insert, select, update

from inboxrel.clock import to_db
from inboxrel.identity.owner import delegate_person_ids
from inboxrel.models import addresses, interactions, messages, participants, people, phone_numbers
from inboxrel.signals import VERSION
from inboxrel.signals.attribution import attribute, initiator
from inboxrel.signals.calendar import CalendarEvent, parse_calendar
from inboxrel.signals.context import no_evidence_reason
from inboxrel.signals.phones import normalize_number
from inboxrel.signals.review import drop_rejected
from inboxrel.signals.shape import MessageShape, Party, name_tokens
from inboxrel.signals.text import TextSignals, empty_signals, text_signals

log = logging.getLogger(__name__)


@dataclass
class MessageInput:
    """What the signals need of one message: its body, calendar parts, date and sender's offset."""

    body: str | None
    calendars: list[bytes] = field(default_factory=list)
    date: datetime | None = None  # aware or naive UTC
    tz_offset: int | None = None
    subject: str | None = None
    signals: TextSignals | None = None  # computed by a parse worker; None: computed here


MAX_FAILURES_KEPT = 20


@dataclass
class EvidenceSummary:
    messages: int = 0
    interactions: int = 0
    phone_numbers: int = 0
    calendar_events: int = 0
    failed: int = 0  # messages whose evidence could not be computed (each alone; the rest keep theirs)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (messages.id, reason), the first few

    def add(self, other: EvidenceSummary) -> None:
        self.messages += other.messages
        self.interactions += other.interactions
        self.phone_numbers += other.phone_numbers
        self.calendar_events += other.calendar_events
        self.failed += other.failed
        self.failures.extend(other.failures[:max(0, MAX_FAILURES_KEPT - len(self.failures))])

    def fail(self, mid: int, reason: str) -> None:
        """Count one message whose evidence failed, with its reason (logged as a warning)."""
        self.failed += 1
        if len(self.failures) < MAX_FAILURES_KEPT:
            self.failures.append((mid, reason))
        log.warning("message %s: no evidence: %s", mid, reason)


def input_from_parsed(parsed) -> MessageInput:
    """A :class:`MessageInput` from a ``ParsedMessage``."""
    return MessageInput(body=parsed.body, calendars=list(parsed.calendars or []), date=parsed.date,
                        tz_offset=parsed.tz_offset, subject=parsed.subject, signals=getattr(parsed, "signals", None))


def _day_at(day: date, offset: int | None) -> datetime:
    """Noon of a local day, as naive UTC: the day survives the conversion for any offset."""
    return datetime.combine(day, time(12, 0)) - timedelta(minutes=offset or 0)


def _participants(conn, ids: list[int]) -> dict[int, dict]:
    meta = {}
    for r in conn.execute(select(messages.c.id, messages.c.direction, messages.c.automated, messages.c.date,
                                 messages.c.tz_offset, messages.c.subject).where(messages.c.id.in_(ids))):
        meta[r.id] = {"direction": r.direction, "automated": r.automated, "date": r.date, "tz": r.tz_offset,
                      "subject": r.subject, "from": [], "to": [], "cc": [], "names": {}}
    q = (select(participants.c.message_id, participants.c.role, participants.c.name, addresses.c.email,
                addresses.c.automated.label("a_auto"), people.c.id.label("pid"), people.c.is_me,
                people.c.automated.label("p_auto"), people.c.name.label("pname"))
         .join(addresses, addresses.c.id == participants.c.address_id)
         .join(people, people.c.id == addresses.c.person_id)
         .where(participants.c.message_id.in_(ids)))
    for r in conn.execute(q):
        m = meta.get(r.message_id)
        if m is None or r.role not in ("from", "to", "cc"):
            continue
        person = {"pid": r.pid, "me": bool(r.is_me), "auto": bool(r.a_auto or r.p_auto), "email": r.email,
                  "name": r.name or r.pname}
        m[r.role].append(person)
        for nm in (r.name, r.pname):
            if nm:
                m["names"][_name_key(nm)] = r.pid
    return meta


def _name_key(name: str) -> str:
    from inboxrel.identity.names import normalize_name

    return normalize_name(name) or name.strip().lower()


def build_shape(meta: dict, owner_names: frozenset[str], delegates: set[int] = frozenset()) -> MessageShape:
    """The :class:`MessageShape` of one message from what :func:`_participants` read."""
    def party(p):
        return Party(pid=p["pid"], email=p["email"], name=p.get("name"), me=p["me"], auto=p["auto"],
                     delegate=p["pid"] in delegates)

    author = party(meta["from"][0]) if meta["from"] else None
    return MessageShape(author=author, to=[party(p) for p in meta["to"]], cc=[party(p) for p in meta["cc"]],
                        automated=meta["automated"], subject=meta.get("subject") or "", owner_names=owner_names)


def _owner_names(conn) -> frozenset[str]:
    """The owner's first and last names, from every name and address of my people."""
    out: set[str] = set()
    for r in conn.execute(select(people.c.name, addresses.c.email, addresses.c.name.label("aname"))
                          .join(addresses, addresses.c.person_id == people.c.id).where(people.c.is_me.is_(True))):
        out |= name_tokens(r.name, r.email) | name_tokens(r.aname)
    return frozenset(out)


def analyze_messages(conn, items: Iterable[tuple[int, MessageInput]], *, now: datetime, region: str = "US",
                     regions: dict[int, str] | None = None, replace_calendar: bool = True) -> EvidenceSummary:
    """Run every signal over ``items`` ((messages.id, input)) and save the evidence on ``conn``, in the
    caller's transaction (the import saves a batch's messages and their evidence in the same one)."""
    items = list(items)
    summary = EvidenceSummary()
    if not items:
        return summary
    ids = [mid for mid, _ in items]
    meta = {}
    for i in range(0, len(ids), 500):
        meta.update(_participants(conn, ids[i:i + 500]))
    sigs = _text_signals(items, meta, region, regions)
    owner_names = _owner_names(conn)
    delegates = delegate_person_ids(conn)
    rows: list[dict] = []
    numbers: list[tuple[int, str, str, str | None, datetime | None, int]] = []
    notices = []
    now_db = to_db(now)
    for mid, inp in items:
        m = meta.get(mid)
        if m is None:
            continue
        ts = sigs[mid]
        if ts.error:
            summary.fail(mid, ts.error)
            continue
        marks = (len(rows), len(numbers), len(notices))
        try:
            _message_evidence(conn, mid, inp, m, ts, owner_names, delegates, now_db, rows, numbers, notices)
        except Exception as exc:  # noqa: BLE001 - this message's evidence only; the batch keeps the rest
            del rows[marks[0]:], numbers[marks[1]:], notices[marks[2]:]
            summary.fail(mid, f"{type(exc).__name__}: {str(exc)[:200]}")
    conn.execute(delete(interactions).where(interactions.c.source == "message",
                                            interactions.c.message_id.in_(ids)))
    summary.interactions += save_interactions(conn, drop_rejected(conn, rows))
    summary.phone_numbers += save_phone_numbers(conn, numbers)
    # call notices name the caller by number: match them after this batch's numbers are saved
    attempt_rows = []
    for mid, notice, msg_date, subject in notices:
        pid = _notice_person(conn, notice, (regions or {}).get(mid) or region)
        if pid is not None:
            attempt_rows.append({"person_id": pid, "kind": "attempt", "medium": "phone", "at": msg_date,
                                 "source": "message", "source_ref": str(mid), "message_id": mid,
                                 "confidence": 0.9, "direction": "to_me", "sentence": subject[:1000],
                                 "note": f"{notice.kind} notice", "created_at": now_db})
    summary.interactions += save_interactions(conn, drop_rejected(conn, attempt_rows))
    for mid, inp in items:
        if not inp.calendars or mid not in meta:
            continue
        m = meta[mid]
        msg_date = to_db(inp.date) if inp.date else m["date"]
        for raw in inp.calendars:
            try:
                events = list(parse_calendar(raw, now=now))
            except Exception as exc:  # noqa: BLE001 - a bad calendar part loses only itself
                summary.fail(mid, f"calendar part unreadable: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            for ev in events:
                summary.calendar_events += 1
                summary.interactions += save_calendar_event(conn, ev, now=now, message_id=mid,
                                                            message_date=msg_date,
                                                            sender=(m["from"][0]["email"] if m["from"] else None))
    conn.execute(update(messages).where(messages.c.id.in_(ids)).values(analyzed_version=VERSION))
    summary.messages = len(items)
    return summary


def _message_evidence(conn, mid, inp, m, ts, owner_names, delegates, now_db, rows, numbers, notices) -> None:
    """One message's cues, numbers and call notice, appended to the batch's lists (see analyze_messages)."""
    shape = build_shape(m, owner_names, delegates)
    why_not = no_evidence_reason(shape, inp.body)
    msg_date = to_db(inp.date) if inp.date else m["date"]
    for cue in ([] if why_not else ts.cues):
        who = attribute(shape, cue.sentence, cue.party)
        share = 1.0 if len(who) <= 1 else 0.7
        at = _day_at(cue.when, inp.tz_offset) if cue.when else (msg_date if cue.kind != "planned" else None)
        for pid in who:
            rows.append({"person_id": pid, "kind": cue.kind, "medium": cue.medium, "at": at,
                         "source": "message", "source_ref": str(mid), "message_id": mid,
                         "confidence": round(cue.confidence * share, 2),
                         "direction": initiator(shape, cue.kind, cue.sentence),
                         "sentence": cue.sentence[:1000], "note": None, "created_at": now_db})
    if ts.notice is not None and m["direction"] == "received":
        notices.append((mid, ts.notice, msg_date, inp.subject or m["subject"] or ""))
    # numbers: the sender's own signature; quoted signatures belong to their quoted author
    senders = [p for p in m["from"] if not p["me"] and not p["auto"]]
    if senders and not m["automated"]:
        for num in ts.numbers:
            numbers.append((senders[0]["pid"], num.e164, num.raw, num.label, msg_date, mid))
    for q in ts.quoted:
        pid = _quoted_author(conn, q, m)
        if pid is None:
            continue
        for num in q.numbers:
            # the quoted message is older than this one: its date is unknown, so this one bounds it
            numbers.append((pid, num.e164, num.raw, num.label, msg_date, mid))


def _text_signals(items, meta: dict, region: str, regions: dict[int, str] | None) -> dict[int, TextSignals]:
    """Each message's text signals: the parse worker's when it read the numbers with the right region."""
    want = {mid: (regions or {}).get(mid) or region for mid, _ in items}
    out = {mid: inp.signals for mid, inp in items if inp.signals is not None and inp.signals.region == want[mid]}
    todo = [(mid, inp) for mid, inp in items if mid not in out]
    for reg in dict.fromkeys(want[mid] for mid, _ in todo):
        group = [(mid, inp) for mid, inp in todo if want[mid] == reg]
        try:
            found = text_signals([(inp.body, inp.date, inp.tz_offset,
                                   inp.subject or (meta.get(mid) or {}).get("subject")) for mid, inp in group], reg)
        except Exception as exc:  # noqa: BLE001 - text_signals fails per message already; never the batch
            found = [empty_signals(reg, f"text signals failed: {type(exc).__name__}: {str(exc)[:200]}")] * len(group)
        out.update((mid, ts) for (mid, _), ts in zip(group, found))
    return out


def _notice_person(conn, notice, region: str) -> int | None:
    if notice.number:
        e164 = normalize_number(notice.number, region)
        if e164:
            rows = {r.person_id for r in conn.execute(select(phone_numbers.c.person_id)
                                                      .where(phone_numbers.c.e164 == e164))}
            if len(rows) == 1:
                return rows.pop()
    if notice.email:
        r = conn.execute(select(addresses.c.person_id).where(addresses.c.email == notice.email)).first()
        if r:
            return r.person_id
    if notice.name:
        key = _name_key(notice.name)
        found = {r.id for r in conn.execute(select(people.c.id, people.c.name).where(people.c.name.is_not(None)))
                 if _name_key(r.name) == key}
        if len(found) == 1:
            return found.pop()
    return None


def _quoted_author(conn, q, meta: dict) -> int | None:
    """The person who wrote a quoted block: by the address in its header, else by name among the participants."""
    if q.author_email:
        r = conn.execute(select(addresses.c.person_id, people.c.is_me)
                         .join(people, people.c.id == addresses.c.person_id)
                         .where(addresses.c.email == q.author_email)).first()
        if r:
            return None if r.is_me else r.person_id
    if q.author_name:
        pid = meta["names"].get(_name_key(q.author_name))
        if pid is not None:
            is_me = any(p["pid"] == pid and p["me"] for role in ("from", "to", "cc") for p in meta[role])
            return None if is_me else pid
    return None


def save_interactions(conn, rows: list[dict]) -> int:
    """Insert interaction rows, one per (source, source_ref, person, kind, medium); return rows written."""
    seen = set()
    fresh = []
    for r in rows:
        key = (r["source"], r["source_ref"], r["person_id"], r["kind"], r["medium"])
        if key in seen:
            continue
        seen.add(key)
        fresh.append(r)
    if not fresh:
        return 0
    # rows of the same key from another run (manual logs, call logs) are replaced, never doubled
    for r in fresh:
        if r["source"] == "message":
            continue  # the caller already cleared this message's rows
        conn.execute(delete(interactions).where(
            interactions.c.source == r["source"], interactions.c.source_ref == r["source_ref"],
            interactions.c.person_id == r["person_id"], interactions.c.kind == r["kind"],
            interactions.c.medium == r["medium"]))
    conn.execute(insert(interactions), fresh)
    return len(fresh)


def save_phone_numbers(conn, numbers: list[tuple]) -> int:
    """Upsert (person, e164, raw, label, seen_at, message_id): first/last seen widen, never duplicate."""
    if not numbers:
        return 0
    written = 0
    merged: dict[tuple[int, str], list] = {}
    for pid, e164, raw, label, seen, mid in numbers:
        cur = merged.get((pid, e164))
        if cur is None:
            merged[(pid, e164)] = [raw, label, seen, seen, mid]
        else:
            cur[1] = cur[1] or label
            if seen and (cur[3] is None or seen > cur[3]):
                cur[3], cur[4], cur[0] = seen, mid, raw
            if seen and (cur[2] is None or seen < cur[2]):
                cur[2] = seen
    for (pid, e164), (raw, label, first, last, mid) in merged.items():
        row = conn.execute(select(phone_numbers).where(phone_numbers.c.person_id == pid,
                                                       phone_numbers.c.e164 == e164)).first()
        if row is None:
            conn.execute(insert(phone_numbers).values(person_id=pid, e164=e164, raw=raw, label=label,
                                                      first_seen=first, last_seen=last, message_id=mid))
            written += 1
            continue
        values = {}
        if last and (row.last_seen is None or last > row.last_seen):
            values.update(last_seen=last, message_id=mid, raw=raw)
        if first and (row.first_seen is None or first < row.first_seen):
            values["first_seen"] = first
        if label and not row.label:
            values["label"] = label
        if values:
            conn.execute(update(phone_numbers).where(phone_numbers.c.id == row.id).values(**values))
    return written


def _people_by_email(conn, emails: Iterable[str]) -> dict[str, tuple[int, bool]]:
    emails = list({e for e in emails if e})
    if not emails:
        return {}
    return {r.email: (r.person_id, bool(r.is_me)) for r in conn.execute(
        select(addresses.c.email, addresses.c.person_id, people.c.is_me)
        .join(people, people.c.id == addresses.c.person_id).where(addresses.c.email.in_(emails)))}


def save_calendar_event(conn, ev: CalendarEvent, *, now: datetime, message_id: int | None = None,
                        message_date: datetime | None = None, sender: str | None = None) -> int:
    """Record one calendar event as planned/past meetings with its attendees, or cancel them.

    REQUEST/PUBLISH: the organizer and every attendee who has not declined; REPLY: the attendee who answered;
    CANCEL (or STATUS:CANCELLED, or my own decline): the event's rows become ``cancelled``. An older message
    about the same event never overwrites what a newer one said.
    """
    people_of = _people_by_email(conn, [ev.organizer, sender] + [a for a, _ in ev.attendees])
    me_emails = {e for e, (_, is_me) in people_of.items() if is_me}
    my_partstat = next((ps for a, ps in ev.attendees if a in me_emails), None)
    cancelled = ev.method == "CANCEL" or ev.status == "CANCELLED" or my_partstat == "DECLINED"
    states: dict[int, str] = {}
    if ev.method == "REPLY":
        for a, ps in ev.attendees:
            if a in people_of and a not in me_emails:
                states[people_of[a][0]] = "cancelled" if ps == "DECLINED" else "ok"
    else:
        for a, ps in ev.attendees:
            if a in people_of and a not in me_emails:
                states[people_of[a][0]] = "cancelled" if ps == "DECLINED" else "ok"
        if ev.organizer in people_of and ev.organizer not in me_emails:
            states[people_of[ev.organizer][0]] = "ok"
    if not states:
        return 0
    at = to_db(ev.start) if ev.start else None
    kind_ok = "planned" if ev.start is not None and ev.start > now else "past"
    written = 0
    for pid, state in states.items():
        existing = conn.execute(
            select(interactions.c.id, messages.c.date)
            .select_from(interactions.outerjoin(messages, messages.c.id == interactions.c.message_id))
            .where(interactions.c.source == "calendar", interactions.c.source_ref == ev.ref,
                   interactions.c.person_id == pid)).all()
        if message_date is not None and any(r.date is not None and r.date > message_date for r in existing):
            continue  # a newer message already said where this event stands
        conn.execute(delete(interactions).where(interactions.c.source == "calendar",
                                                interactions.c.source_ref == ev.ref,
                                                interactions.c.person_id == pid))
        kind = "cancelled" if cancelled or state == "cancelled" else kind_ok
        conn.execute(insert(interactions).values(
            person_id=pid, kind=kind, medium=ev.medium, at=at, source="calendar", source_ref=ev.ref,
            message_id=message_id, confidence=1.0 if kind != "cancelled" else 0.9,
            direction=None, sentence=(ev.summary or None), note=(ev.location or None), created_at=to_db(now)))
        written += 1
    return written


def analyze_parsed(conn, saved: list[tuple[int, object]], *, now: datetime, region: str = "US",
                   regions: dict[int, str] | None = None) -> EvidenceSummary:
    """The import/ingest hook: ``saved`` is [(messages.id, ParsedMessage)] of a batch being saved on ``conn``."""
    items = [(mid, input_from_parsed(p)) for mid, p in saved if p is not None and p.body is not None]
    return analyze_messages(conn, items, now=now, region=region, regions=regions)


def as_utc_naive(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt
