"""cooling: personal mail with a long-standing, two-way correspondent dropped well below their own baseline.

The baseline is the person's rate of personal mail (``inboxrel.report.personal``) over the months before
the last 90 days (up to nine months), scaled to 90 days. It needs enough history
(cooling_min_history_days), enough mail (cooling_min_baseline) and mail both ways in that period
(cooling_min_each_way: a sender I never wrote to has no relationship to cool); a conversation (or a
dismissal) within the person's cadence means the relationship is not cooling, only the mail.
"""

from __future__ import annotations

from datetime import timedelta

from inboxrel.rules.base import Rule, plural
from inboxrel.rules.conditions import Clause, custom, field


def _n(x: float) -> float:
    return round(float(x), 1)


class Cooling(Rule):
    name = "cooling"
    description = ("Personal emails in the last 90 days fell below cooling_ratio of the person's own baseline "
                   "(their usual 90 days over the prior nine months, with mail both ways then), and no "
                   "conversation (or dismissal) within the cadence.")
    action = "suggest"
    needs_cadence = True
    priority = 7

    def gate(self, th):
        from inboxrel.clock import to_db

        days = th.cooling_min_history_days
        # relationship_days >= N: the first email at least N whole days before now
        history = custom(f"p.relationship_days >= {int(days)}",
                         lambda t, now: t["first_at"] <= to_db(now - timedelta(days=days)))
        sent_before = field("personal_sent_365d") - field("personal_sent_90d")
        received_before = field("personal_received_365d") - field("personal_received_90d")
        return [
            Clause("history", history, lambda p: f"corresponding for {plural(p.relationship_days, 'day')}: too "
                                                 f"new to cool (needs {days})"),
            # the baseline needs at least cooling_min_baseline personal emails before the last 90 days
            Clause("baseline", sent_before + received_before >= th.cooling_min_baseline,
                   lambda p: f"{plural(_n(p.personal_365d - p.personal_90d), 'personal email')} in the nine "
                             f"months before the last 90 days: below {th.cooling_min_baseline:g}, not a heavy "
                             f"correspondent"),
            Clause("two-way", (sent_before >= th.cooling_min_each_way) & (received_before >= th.cooling_min_each_way),
                   lambda p: f"one-way before the last 90 days ({_n(p.personal_sent_365d - p.personal_sent_90d):g} "
                             f"sent, {_n(p.personal_received_365d - p.personal_received_90d):g} received): no "
                             f"two-way relationship to cool"),
        ]

    def check(self, p, th):
        recent = _n(p.personal_90d)
        before = max(0.0, p.personal_365d - p.personal_90d)
        history = min(275, max(0, p.relationship_days - 90))
        numbers = {"personal_90d": recent, "relationship_days": p.relationship_days, "ratio": th.cooling_ratio,
                   "not_counted_90d": p.bulk_90d}
        unmet = self.unmet(p, th)
        if unmet is None and history < 90:
            unmet = (f"corresponding for {plural(p.relationship_days, 'day')}: too new to cool (needs "
                     f"{max(180, th.cooling_min_history_days)})")
        if unmet is not None:
            return self.verdict(False, unmet, **numbers)
        baseline = before * 90 / history
        numbers["baseline_90d"] = round(baseline, 1)
        if baseline < th.cooling_min_baseline:
            return self.verdict(False, f"usual {baseline:.0f} personal emails per 90 days: below "
                                       f"{th.cooling_min_baseline:g}, not a heavy correspondent", **numbers)
        if recent > baseline * th.cooling_ratio:
            return self.verdict(False, f"{plural(recent, 'personal email')} in the last 90 days against a usual "
                                       f"{baseline:.0f}: not cooling", **numbers)
        cadence, waited = p.cadence, p.days_without_conversation
        numbers.update(days_since_conversation=p.days_since_conversation, days_counted=waited,
                       cadence_days=cadence.ideal)
        if waited <= cadence.ideal:
            if p.dismissed_at is not None and p.clock_start == p.dismissed_at:
                why = f"you dismissed them {plural(waited, 'day')} ago"
            elif p.last_conversation is not None:
                why = f"we talked {plural(waited, 'day')} ago"
            else:
                why = f"the first email was {plural(waited, 'day')} ago"
            return self.verdict(False, f"personal email fell to {recent:g} in 90 days from a usual {baseline:.0f}, "
                                       f"but {why} (cadence {cadence.ideal} days)", **numbers)
        drop = round(100 * (1 - recent / baseline)) if baseline else 0
        both = (f"{_n(p.personal_sent_365d - p.personal_sent_90d):g} sent and "
                f"{_n(p.personal_received_365d - p.personal_received_90d):g} received before")
        return self.verdict(True, f"personal email fell to {recent:g} in the last 90 days from a usual "
                                  f"{baseline:.0f} (down {drop}%; {both})", **numbers)


RULE = Cooling()
