"""The user's feedback on the call list: snoozes, dismissals, ignores and circles (``save_*`` writes).

Each write is stored (tables in ``models/feedback.py``) and read by the next ``suggest`` through the rules
``snoozed``, ``ignored``, ``ignored-domain`` and the cadence (circles, ``dismiss --reason seasonal``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from inboxrel.clock import as_utc, iso, to_db
from inboxrel.errors import NotFoundError, UsageError
from inboxrel.identity import resolve_person
from inboxrel.models import addresses, circle_members, circles, feedback, ignores, interactions, people

DISMISS_REASONS = ("talked", "not-a-relationship", "seasonal")
_DOMAIN = re.compile(r"^@?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)$", re.I)
_CIRCLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$")


def _person(conn, ref: str) -> tuple[int, str]:
    pid = resolve_person(conn, ref)
    row = conn.execute(select(people.c.name, people.c.is_me, addresses.c.email)
                       .select_from(people.outerjoin(addresses, addresses.c.id == people.c.primary_address_id))
                       .where(people.c.id == pid)).one()
    if row.is_me:
        raise UsageError(f"{ref} is one of your own addresses; give someone else")
    label = f"{row.name} <{row.email}>" if row.name else (row.email or f"#{pid}")
    return pid, label


def save_snooze(engine, ref: str, days: int, now: datetime) -> dict:
    """Leave PERSON out of the call list for ``days`` days from ``now``."""
    if days < 1:
        raise UsageError(f"--days must be at least 1, not {days}")
    until = as_utc(now) + timedelta(days=days)
    with engine.begin() as conn:
        pid, label = _person(conn, ref)
        conn.execute(insert(feedback).values(person_id=pid, action="snooze", reason=None, until=to_db(until),
                                             created_at=to_db(now)))
    return {"person_id": pid, "person": label, "action": "snooze", "until": iso(until)}


def save_dismiss(engine, ref: str, reason: str, now: datetime, th, *, cadence_days: int | None = None,
                 medium: str = "unspecified", note: str | None = None) -> dict:
    """Dismiss PERSON from the call list.

    ``talked`` logs a conversation now (they drop off until their cadence comes round again);
    ``not-a-relationship`` ignores them for good; ``seasonal`` sets a long cadence (``cadence_days`` or
    ``seasonal_cadence_days`` from the thresholds).
    """
    if reason not in DISMISS_REASONS:
        raise UsageError(f"--reason must be one of {', '.join(DISMISS_REASONS)}, not {reason!r}")
    if medium not in ("phone", "video", "in_person", "unspecified"):
        raise UsageError(f"--medium must be phone, video, in_person or unspecified, not {medium!r}")
    out: dict = {"action": "dismiss", "reason": reason}
    with engine.begin() as conn:
        pid, label = _person(conn, ref)
        out.update(person_id=pid, person=label)
        cadence = None
        if reason == "seasonal":
            cadence = cadence_days or th.seasonal_cadence_days
            if cadence < 1:
                raise UsageError(f"--cadence must be at least 1 day, not {cadence}")
            out["cadence_days"] = cadence
        fid = conn.execute(insert(feedback).values(
            person_id=pid, action="dismiss", reason=reason, cadence_days=cadence, until=None,
            created_at=to_db(now))).inserted_primary_key[0]
        if reason == "talked":
            conn.execute(insert(interactions).values(
                person_id=pid, kind="past", medium=medium, at=to_db(now), source="manual",
                source_ref=f"dismiss:{fid}", confidence=1.0, direction="from_me", sentence=None,
                note=note or "dismissed from the call list: talked", created_at=to_db(now)))
            out["logged"] = {"kind": "past", "medium": medium, "at": iso(now)}
        elif reason == "not-a-relationship":
            conn.execute(insert(ignores).values(person_id=pid, domain=None, reason="not a relationship",
                                                created_at=to_db(now)))
    return out


def parse_ignore_target(target: str) -> str | None:
    """The domain of an ``@domain`` target (lower-case), or None when the target is a person."""
    if target.startswith("@"):
        m = _DOMAIN.match(target.strip())
        if not m:
            raise UsageError(f"{target!r} is not a domain: write it as @example.com")
        return m.group(1).lower()
    return None


def save_ignore(engine, target: str, now: datetime, reason: str | None = None) -> dict:
    """Never suggest PERSON, or anyone whose every address is in ``@domain``."""
    domain = parse_ignore_target(target)
    with engine.begin() as conn:
        if domain:
            have = conn.execute(select(ignores.c.id).where(func.lower(ignores.c.domain) == domain)).first()
            if not have:
                conn.execute(insert(ignores).values(person_id=None, domain=domain, reason=reason,
                                                    created_at=to_db(now)))
            return {"action": "ignore", "domain": domain, "new": not have}
        pid, label = _person(conn, target)
        have = conn.execute(select(ignores.c.id).where(ignores.c.person_id == pid)).first()
        if not have:
            conn.execute(insert(ignores).values(person_id=pid, domain=None, reason=reason, created_at=to_db(now)))
        return {"action": "ignore", "person_id": pid, "person": label, "new": not have}


def remove_ignore(engine, target: str) -> dict:
    """Take back ``ignore`` (and ``dismiss --reason not-a-relationship``) for PERSON or ``@domain``."""
    domain = parse_ignore_target(target)
    with engine.begin() as conn:
        if domain:
            n = conn.execute(delete(ignores).where(func.lower(ignores.c.domain) == domain)).rowcount
            if not n:
                raise NotFoundError(f"@{domain} is not ignored: `inboxrel ignore --list` shows what is")
            return {"action": "unignore", "domain": domain}
        pid, label = _person(conn, target)
        n = conn.execute(delete(ignores).where(ignores.c.person_id == pid)).rowcount
        if not n:
            raise NotFoundError(f"{label} is not ignored: `inboxrel ignore --list` shows who is")
        return {"action": "unignore", "person_id": pid, "person": label}


def ignore_rows(conn) -> list[dict]:
    """Who and which domains are ignored, oldest first."""
    q = (select(ignores.c.id, ignores.c.domain, ignores.c.reason, ignores.c.created_at, people.c.name,
                addresses.c.email)
         .select_from(ignores.outerjoin(people, people.c.id == ignores.c.person_id)
                      .outerjoin(addresses, addresses.c.id == people.c.primary_address_id))
         .order_by(ignores.c.id))
    return [{"target": f"@{r.domain}" if r.domain else (r.email or ""), "name": r.name, "reason": r.reason,
             "since": iso(r.created_at)} for r in conn.execute(q)]


# -- circles ----------------------------------------------------------------------------------------------

def save_circle(engine, name: str, refs, *, cadence_days: int | None = None, max_days: int | None = None,
                overdue_factor: float = 1.5) -> dict:
    """Create or update circle NAME (cadence: due after ``cadence_days``, overdue after ``max_days``) and
    add the people in ``refs`` to it."""
    if not _CIRCLE.match(name or ""):
        raise UsageError(f"circle name {name!r}: use letters, digits, spaces, dots, dashes (up to 100)")
    with engine.begin() as conn:
        row = conn.execute(select(circles).where(circles.c.name == name)).first()
        if row is None and cadence_days is None:
            raise UsageError(f"circle {name!r} is new: give its cadence, e.g. --cadence 30d")
        ideal = cadence_days if cadence_days is not None else row.cadence_days
        most = max_days if max_days is not None else (
            row.max_days if row is not None and cadence_days is None else round(ideal * overdue_factor))
        if ideal < 1:
            raise UsageError(f"--cadence must be at least 1 day, not {ideal}")
        if most < ideal:
            raise UsageError(f"--max ({most} days) must not be shorter than --cadence ({ideal} days)")
        if row is None:
            cid = conn.execute(insert(circles).values(name=name, cadence_days=ideal, max_days=most)
                               ).inserted_primary_key[0]
        else:
            cid = row.id
            conn.execute(update(circles).where(circles.c.id == cid).values(cadence_days=ideal, max_days=most))
        added = []
        for ref in refs:
            pid, label = _person(conn, ref)
            have = conn.execute(select(circle_members.c.person_id).where(
                circle_members.c.circle_id == cid, circle_members.c.person_id == pid)).first()
            if not have:
                conn.execute(insert(circle_members).values(circle_id=cid, person_id=pid))
            added.append(label)
    return {"circle": name, "cadence_days": ideal, "max_days": most, "added": added, "new": row is None}


def remove_circle(engine, name: str, refs=()) -> dict:
    """Remove people from circle NAME, or the whole circle when no one is named."""
    with engine.begin() as conn:
        row = conn.execute(select(circles).where(circles.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no circle named {name!r}: `inboxrel circle list` shows them")
        if not refs:
            conn.execute(delete(circle_members).where(circle_members.c.circle_id == row.id))
            conn.execute(delete(circles).where(circles.c.id == row.id))
            return {"circle": name, "removed": "circle"}
        removed = []
        for ref in refs:
            pid, label = _person(conn, ref)
            n = conn.execute(delete(circle_members).where(circle_members.c.circle_id == row.id,
                                                          circle_members.c.person_id == pid)).rowcount
            if not n:
                raise NotFoundError(f"{label} is not in circle {name!r}")
            removed.append(label)
        return {"circle": name, "removed": removed}


def circle_rows(conn) -> list[dict]:
    """Every circle with its cadence and members."""
    out = []
    for c in conn.execute(select(circles).order_by(circles.c.name)):
        members = conn.execute(
            select(people.c.id, people.c.name, addresses.c.email)
            .select_from(circle_members.join(people, people.c.id == circle_members.c.person_id)
                         .outerjoin(addresses, addresses.c.id == people.c.primary_address_id))
            .where(circle_members.c.circle_id == c.id).order_by(people.c.name, addresses.c.email)).all()
        out.append({"circle": c.name, "cadence_days": c.cadence_days, "max_days": c.max_days,
                    "members": [{"person_id": m.id, "name": m.name, "email": m.email} for m in members]})
    return out
