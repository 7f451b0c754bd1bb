"""occasion: a birthday or anniversary (from the person's contact card) in the coming week.

A boost: it raises the score of someone already on the call list, in the ``DAYS_BEFORE`` days before the
day (and on it). A date without a year recurs every year; 29 February is kept on 28 February in other
years.
"""

from __future__ import annotations

from datetime import date

from inboxrel.rules.base import Rule, plural
from inboxrel.rules.conditions import Clause, custom

DAYS_BEFORE = 7  # the week before the day


def next_day(value: str, today: date) -> date | None:
    """The next occurrence (today or later) of ``YYYY-MM-DD`` / ``--MM-DD``, or None if not a date."""
    try:
        month, day = int(value[-5:-3]), int(value[-2:])
    except ValueError:
        return None
    for year in (today.year, today.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:  # 29 February in a common year
            d = date(year, 2, 28) if (month, day) == (2, 29) else None
        if d is not None and d >= today:
            return d
    return None


class Occasion(Rule):
    name = "occasion"
    description = (f"A birthday or anniversary from their contact card within {DAYS_BEFORE} days: a good "
                   "reason to call, raises priority.")
    action = "boost"
    priority = 4

    def gate(self, th):
        return [Clause("occasions", custom("p.occasions", None),
                       lambda p: "no birthday or anniversary on their contact card")]

    def check(self, p, th):
        window = int(getattr(th, "occasion_days", DAYS_BEFORE))
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, window_days=window)
        today = p.now.date()
        soon = []
        for kind, value in p.occasions:
            d = next_day(value, today)
            if d is not None and (d - today).days <= window:
                soon.append((d, kind, value))
        if not soon:
            return self.verdict(False, "no birthday or anniversary in the coming week", window_days=window)
        d, kind, value = min(soon)
        days = (d - today).days
        when = "today" if days == 0 else f"in {plural(days, 'day')}"
        age = ""
        if kind == "birthday" and not value.startswith("--"):
            age = f", turning {d.year - int(value[:4])}"
        return self.verdict(True, f"{kind} on {d.day} {d.strftime('%B')} ({when}{age})", occasion=kind,
                            date=d.isoformat(), days=days, window_days=window)


RULE = Occasion()
