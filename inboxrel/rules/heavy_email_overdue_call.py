"""heavy-email-overdue-call: lots of personal mail both ways, and no real conversation for longer than the cadence.

The reason inboxrel exists: the people who matter get email all the time, but a relationship is kept by
talking. The load is personal mail (one-to-one in full, small groups in part; broadcasts, automated mail
and auto-replies not at all: ``inboxrel.report.personal``), and one-way mail (only me writing, or only
them) is no relationship, so both directions must count.
"""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date, medium_word, plural
from inboxrel.rules.conditions import Clause, field


def personal_load(p) -> str:
    """'28 personal emails both ways in 90 days (15 sent, 13 received); 41 broadcast or automated messages
    not counted'."""
    text = (f"{plural(_n(p.personal_90d), 'personal email')} both ways in 90 days "
            f"({_n(p.personal_sent_90d):g} sent, {_n(p.personal_received_90d):g} received)")
    if p.bulk_90d:
        text += f"; {plural(p.bulk_90d, 'broadcast or automated message')} not counted"
    return text


def _n(x: float) -> float:
    return round(float(x), 1)


class HeavyEmailOverdueCall(Rule):
    name = "heavy-email-overdue-call"
    description = ("At least heavy_min_messages personal emails both ways in the last 90 days (heavy_min_each_way "
                   "in each direction; group mail counts in part, broadcasts and automated mail not at all) "
                   "and no call or meeting for longer than the person's cadence, or never.")
    action = "suggest"
    needs_cadence = True
    priority = 10

    def gate(self, th):
        sent, received = field("personal_sent_90d"), field("personal_received_90d")
        return [
            Clause("load", sent + received >= th.heavy_min_messages,
                   lambda p: f"{personal_load(p)}: fewer than {th.heavy_min_messages}"),
            Clause("two-way", (sent >= th.heavy_min_each_way) & (received >= th.heavy_min_each_way),
                   lambda p: f"{personal_load(p)}: one-way, fewer than {th.heavy_min_each_way} in one direction"),
        ]

    def check(self, p, th):
        numbers = {"personal_90d": _n(p.personal_90d), "personal_sent_90d": _n(p.personal_sent_90d),
                   "personal_received_90d": _n(p.personal_received_90d), "not_counted_90d": p.bulk_90d,
                   "emails_90d": p.total_90d, "min_messages": th.heavy_min_messages,
                   "min_each_way": th.heavy_min_each_way}
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, **numbers)
        cadence = p.cadence
        days, start, last = p.days_without_conversation, p.clock_start, p.last_conversation
        numbers.update(cadence_days=cadence.ideal, cadence_max_days=cadence.max, cadence_source=cadence.source,
                       days_since_conversation=p.days_since_conversation, days_counted=days)
        fired = days > cadence.ideal
        if p.dismissed_at is not None and start == p.dismissed_at:
            since = f"dismissed ({p.dismissed_reason}) on {fmt_date(start, p.now)}, {plural(days, 'day')} ago"
        elif last is None:
            since = f"no call or meeting on record; first email {plural(days, 'day')} ago"
        elif fired:
            since = f"no call or meeting since {fmt_date(last.when, p.now)} ({plural(days, 'day')})"
        else:
            since = f"last {medium_word(last.medium)} {fmt_date(last.when, p.now)} ({plural(days, 'day')} ago)"
        text = f"{personal_load(p)}; {since}; cadence {cadence.ideal} days ({cadence.source})"
        return self.verdict(fired, text if fired else f"{text}: not due yet", **numbers)


RULE = HeavyEmailOverdueCall()
