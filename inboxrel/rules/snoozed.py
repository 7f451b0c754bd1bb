"""snoozed: the user asked for a break from this person (`inboxrel snooze PERSON --days N`)."""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date, plural


class Snoozed(Rule):
    name = "snoozed"
    description = "People you snoozed (inboxrel snooze PERSON --days N) are left out until the snooze ends."
    action = "suppress"
    priority = 10

    def may_fire(self, p, th):
        return p.snoozed_until is not None and p.snoozed_until > p.now

    def check(self, p, th):
        until = p.snoozed_until
        if until is not None and until > p.now:
            days = max(1, (until - p.now).days)
            return self.verdict(True, f"snoozed until {fmt_date(until, p.now)} ({plural(days, 'day')} left)",
                                snoozed_until=until.isoformat(timespec="seconds"))
        return self.verdict(False, "not snoozed", snoozed_until=None)


RULE = Snoozed()
