"""heavy-email-overdue-call: lots of mail both ways, and no real conversation for longer than the cadence.

The reason inboxrel exists: the people who matter get email all the time, but a relationship is kept by
talking. One-way mail (only me writing, or only them) is no relationship, so both directions must count.
"""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date, medium_word, plural


class HeavyEmailOverdueCall(Rule):
    name = "heavy-email-overdue-call"
    description = ("At least heavy_min_messages emails both ways in the last 90 days (heavy_min_each_way "
                   "in each direction) and no call or meeting for longer than the person's cadence, or never.")
    action = "suggest"
    needs_cadence = True
    priority = 10

    def may_fire_sql(self, t, th, now):
        return ((t.sent_90d + t.received_90d >= th.heavy_min_messages) & (t.sent_90d >= th.heavy_min_each_way)
                & (t.received_90d >= th.heavy_min_each_way))

    def may_fire(self, p, th):
        return p.total_90d >= th.heavy_min_messages and min(p.sent_90d, p.received_90d) >= th.heavy_min_each_way

    def check(self, p, th):
        n, s, r = p.total_90d, p.sent_90d, p.received_90d
        numbers = {"emails_90d": n, "sent_90d": s, "received_90d": r, "min_messages": th.heavy_min_messages,
                   "min_each_way": th.heavy_min_each_way}
        load = f"{plural(n, 'email')} both ways in 90 days ({s} sent, {r} received)"
        if n < th.heavy_min_messages:
            return self.verdict(False, f"{load}: fewer than {th.heavy_min_messages}", **numbers)
        if min(s, r) < th.heavy_min_each_way:
            return self.verdict(False, f"{load}: one-way, fewer than {th.heavy_min_each_way} in one direction",
                                **numbers)
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
        text = f"{load}; {since}; cadence {cadence.ideal} days ({cadence.source})"
        return self.verdict(fired, text if fired else f"{text}: not due yet", **numbers)


RULE = HeavyEmailOverdueCall()
