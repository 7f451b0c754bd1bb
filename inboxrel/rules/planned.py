"""planned: a conversation is already planned, so no suggestion until its date has passed.

A plan with no date ("let's have lunch next week") holds for planned_default_days after the message.
"""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date, medium_word, plural
from inboxrel.rules.conditions import Clause, custom


class Planned(Rule):
    name = "planned"
    description = ("A planned call or meeting suppresses the suggestion until its date has passed "
                   "(planned_default_days after the message when it gave no date).")
    action = "suppress"
    priority = 10

    def gate(self, th):
        return [Clause("planned", custom("p.planned is not None and p.planned_until is not None "
                                         "and p.planned_until > p.now", None), lambda p: "nothing planned")]

    def check(self, p, th):
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, planned_until=None)
        ev, until = p.planned, p.planned_until
        days = max(1, (until - p.now).days)
        what = medium_word(ev.medium)
        if ev.at is not None:
            reason = f"{what} planned for {fmt_date(ev.at, p.now)} (in {plural(days, 'day')})"
        else:
            reason = (f"{what} planned on {fmt_date(ev.seen_at, p.now)} without a date; waiting until "
                      f"{fmt_date(until, p.now)}")
        return self.verdict(True, reason, planned_until=until.isoformat(timespec="seconds"), medium=ev.medium)


RULE = Planned()
