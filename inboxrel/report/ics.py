"""The call list as iCalendar: one VTODO per suggestion, for a task app or a calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from inboxrel.clock import as_utc


def ics_priority(score: float | None) -> int:
    """iCalendar PRIORITY (1 highest .. 9 lowest) from a 0-100 score."""
    if score is None:
        return 5
    return max(1, min(9, round(10 - score / 10)))


def render_ics(rows: list[dict], now: datetime) -> str:
    """A VCALENDAR with one VTODO per call-list entry; UIDs are stable for a person and a day."""
    from icalendar import Calendar, Todo, vText

    now = as_utc(now)
    cal = Calendar()
    cal.add("prodid", "-//inboxrel//call list//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "inboxrel call list")
    for r in rows:
        who = r.get("name") or r.get("email") or f"person #{r['person_id']}"
        todo = Todo()
        todo.add("uid", f"inboxrel-{r['person_id']}-{now:%Y%m%d}@inboxrel")
        todo.add("dtstamp", now)
        todo.add("created", now)
        todo.add("summary", f"Call {who}" + (f" ({r['phone']})" if r.get("phone") else ""))
        lines = list(r.get("reasons") or [])
        if r.get("phone"):
            lines.append(f"Phone: {r['phone']}")
        if r.get("email"):
            lines.append(f"Email: {r['email']}")
        if r.get("last_conversation_at"):
            lines.append(f"Last conversation: {r['last_conversation_at'][:10]} ({r.get('last_conversation_medium')})")
        if r.get("starters"):
            lines.append("Talk about: " + "; ".join(r["starters"]))
        if r.get("good_time"):
            lines.append(f"Good time to call: {r['good_time']}")
        if r.get("score") is not None:
            lines.append(f"Score {r['score']:g} ({r.get('status')})")
        todo.add("description", "\n".join(lines))
        # overdue people today, the rest within the week
        todo.add("due", (now if r.get("status") == "overdue" else now + timedelta(days=7)).date())
        todo.add("priority", ics_priority(r.get("score")))
        todo.add("status", "NEEDS-ACTION")
        todo.add("categories", ["inboxrel", "call"])
        if r.get("email"):
            # CONTACT, not ATTENDEE: a task app must not mail the person an invitation
            todo.add("contact", vText(f"{who} <{r['email']}>"))
        cal.add_component(todo)
    return cal.to_ical().decode("utf-8")
