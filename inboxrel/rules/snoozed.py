"""snoozed: the user asked for a break from this person (`inboxrel snooze PERSON --days N`)."""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date, plural
from inboxrel.rules.conditions import Clause, custom


class Snoozed(Rule):
    name = "snoozed"
    description = "People you snoozed (inboxrel snooze PERSON --days N) are left out until the snooze ends."
    action = "suppress"
    priority = 10

    def gate(self, th):
        return [Clause("snoozed", custom("p.snoozed_until is not None and p.snoozed_until > p.now", None),
                       lambda p: "not snoozed")]

    def check(self, p, th):
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, snoozed_until=None)
        until = p.snoozed_until
        days = max(1, (until - p.now).days)
        return self.verdict(True, f"snoozed until {fmt_date(until, p.now)} ({plural(days, 'day')} left)",
                            snoozed_until=until.isoformat(timespec="seconds"))


RULE = Snoozed()
