"""Calendar invitations, replies and cancellations (text/calendar parts, .ics files), read with ``icalendar``.

Each VEVENT becomes a :class:`CalendarEvent`: its UID, METHOD (REQUEST, REPLY, CANCEL, PUBLISH), status,
start (UTC), organizer, attendees with their PARTSTAT, and the medium: a Zoom/Teams/Meet/Webex link makes it
``video``, a dial-in only ``phone``, a physical location ``in_person``. Recurring events report the last
occurrence at or before ``now`` (or the first after it), so a weekly one-to-one counts as a recent meeting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

_VIDEO = re.compile(r"zoom\.us|zoom\.com|\bzoom\b|teams\.microsoft|teams\.live|microsoft teams|\bteams meeting\b|"
                    r"meet\.google|google meet|hangouts\.google|webex|gotomeeting|bluejeans|whereby\.com|"
                    r"meet\.jit\.si|skype|facetime|chime\.aws", re.I)
_PHONE = re.compile(r"\bdial[- ]?in\b|\bconference call\b|\bcall[- ]in\b|\btel:|\bphone\b|\bbridge\b|\bpasscode\b", re.I)


@dataclass
class CalendarEvent:
    """One event of a calendar object, as the organizer or an attendee sent it."""

    uid: str
    method: str  # REQUEST | REPLY | CANCEL | PUBLISH | ""
    status: str  # CONFIRMED | TENTATIVE | CANCELLED | ""
    summary: str
    start: datetime | None  # aware UTC
    organizer: str | None
    attendees: list[tuple[str, str]] = field(default_factory=list)  # (email, PARTSTAT)
    medium: str = "unspecified"
    location: str = ""
    sequence: int = 0
    recurring: bool = False
    names: dict[str, str] = field(default_factory=dict)  # attendee email -> CN, to match people by name

    @property
    def ref(self) -> str:
        return self.uid if not self.recurring else f"{self.uid}#rrule"


def _email(value) -> str | None:
    if value is None:
        return None
    s = str(value)
    if s.lower().startswith("mailto:"):
        s = s[7:]
    s = s.strip().lower()
    return s if "@" in s else None


def _as_utc(value) -> datetime | None:
    if value is None:
        return None
    dt = getattr(value, "dt", value)
    if isinstance(dt, datetime):
        if dt.tzinfo is None:
            return dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc)
    if isinstance(dt, date):
        return datetime.combine(dt, time(12, 0), tzinfo=timezone.utc)
    return None


def _medium(event) -> str:
    texts = []
    for key in ("LOCATION", "DESCRIPTION", "URL", "SUMMARY", "X-GOOGLE-CONFERENCE", "X-MICROSOFT-SKYPETEAMSMEETINGURL",
                "X-MICROSOFT-ONLINEMEETINGCONFLINK", "CONFERENCE"):
        value = event.get(key)
        if value is not None:
            texts.append(str(value))
    blob = "\n".join(texts)
    if _VIDEO.search(blob) or str(event.get("X-MICROSOFT-ISONLINEMEETING", "")).upper() == "TRUE":
        return "video"
    location = str(event.get("LOCATION") or "").strip()
    if location and not _PHONE.search(location):
        return "in_person"
    if _PHONE.search(blob):
        return "phone"
    return "unspecified"


def _occurrence(event, start: datetime | None, now: datetime | None) -> tuple[datetime | None, bool]:
    rrule = event.get("RRULE")
    if rrule is None or start is None or now is None:
        return start, False
    try:
        from dateutil.rrule import rrulestr

        rule = rrulestr(rrule.to_ical().decode(), dtstart=start)
        last = rule.before(now, inc=True)
        if last is not None:
            return last.astimezone(timezone.utc), True
        nxt = rule.after(now)
        return (nxt.astimezone(timezone.utc) if nxt else start), True
    except Exception:  # an odd RRULE must not lose the event: keep its first start
        return start, True


def parse_calendar(raw: bytes | str, *, now: datetime | None = None) -> list[CalendarEvent]:
    """Every VEVENT in one calendar object; an unreadable object gives an empty list."""
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(raw)
    except Exception:
        return []
    method = str(cal.get("METHOD") or "").upper()
    out = []
    for ev in cal.walk("VEVENT"):
        start = _as_utc(ev.get("DTSTART"))
        start, recurring = _occurrence(ev, start, now)
        item = event_from_component(ev, method=method, start=start)
        if item is not None:
            item.recurring = recurring
            out.append(item)
    return out


def event_from_component(ev, *, method: str = "", start: datetime | None = None) -> CalendarEvent | None:
    """A :class:`CalendarEvent` from one icalendar VEVENT (``start``: this occurrence's, else DTSTART);
    None when it has no UID."""
    uid = str(ev.get("UID") or "").strip()
    if not uid:
        return None
    if start is None:
        start = _as_utc(ev.get("DTSTART"))
    attendees = []
    names = {}
    raw_att = ev.get("ATTENDEE")
    if raw_att is not None:
        for a in raw_att if isinstance(raw_att, list) else [raw_att]:
            email = _email(a)
            if email:
                params = getattr(a, "params", {})
                attendees.append((email, str(params.get("PARTSTAT", "NEEDS-ACTION")).upper()))
                if params.get("CN"):
                    names[email] = str(params.get("CN")).strip().strip('"')
    try:
        seq = int(str(ev.get("SEQUENCE") or 0))
    except ValueError:
        seq = 0
    return CalendarEvent(
        uid=uid[:400] + (f"@{ev.get('RECURRENCE-ID').to_ical().decode()}" if ev.get("RECURRENCE-ID") else ""),
        method=method, status=str(ev.get("STATUS") or "").upper(), summary=str(ev.get("SUMMARY") or "")[:300],
        start=start, organizer=_email(ev.get("ORGANIZER")), attendees=attendees, medium=_medium(ev),
        location=str(ev.get("LOCATION") or "")[:300], sequence=seq, names=names)
