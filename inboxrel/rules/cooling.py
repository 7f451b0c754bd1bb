"""cooling: mail with a long-standing correspondent dropped well below their own baseline.

The baseline is the person's rate over the months before the last 90 days (up to nine months), scaled to
90 days. It needs enough history (cooling_min_history_days) and enough mail (cooling_min_baseline) to
mean anything; a conversation (or a dismissal) within the person's cadence means the relationship is not
cooling, only the mail.
"""

from __future__ import annotations

from inboxrel.rules.base import Rule, plural


class Cooling(Rule):
    name = "cooling"
    description = ("Emails in the last 90 days fell below cooling_ratio of the person's own baseline "
                   "(their usual 90 days over the prior nine months), and no conversation (or dismissal) within the cadence.")
    action = "suggest"
    needs_cadence = True
    priority = 7

    def may_fire_sql(self, t, th, now):
        from datetime import timedelta

        from inboxrel.clock import to_db

        # relationship_days >= N: the first email at least N whole days before now
        return ((t.first_at <= to_db(now - timedelta(days=th.cooling_min_history_days)))
                & (t.sent_365d + t.received_365d - t.sent_90d - t.received_90d >= th.cooling_min_baseline))

    def may_fire(self, p, th):
        # the baseline needs at least cooling_min_baseline emails before the last 90 days
        return (p.relationship_days >= th.cooling_min_history_days
                and p.total_365d - p.total_90d >= th.cooling_min_baseline)

    def check(self, p, th):
        recent = p.total_90d
        before = max(0, p.total_365d - recent)
        history = min(275, max(0, p.relationship_days - 90))
        numbers = {"emails_90d": recent, "relationship_days": p.relationship_days, "ratio": th.cooling_ratio}
        if p.relationship_days < th.cooling_min_history_days or history < 90:
            return self.verdict(False, f"corresponding for {plural(p.relationship_days, 'day')}: too new to "
                                       f"cool (needs {th.cooling_min_history_days})", **numbers)
        baseline = before * 90 / history
        numbers["baseline_90d"] = round(baseline, 1)
        if baseline < th.cooling_min_baseline:
            return self.verdict(False, f"usual {baseline:.0f} emails per 90 days: below "
                                       f"{th.cooling_min_baseline:g}, not a heavy correspondent", **numbers)
        if recent > baseline * th.cooling_ratio:
            return self.verdict(False, f"{plural(recent, 'email')} in the last 90 days against a usual "
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
            return self.verdict(False, f"email fell to {recent} in 90 days from a usual {baseline:.0f}, but "
                                       f"{why} (cadence {cadence.ideal} days)", **numbers)
        drop = round(100 * (1 - recent / baseline)) if baseline else 0
        return self.verdict(True, f"email fell to {recent} in the last 90 days from a usual {baseline:.0f} "
                                  f"(down {drop}%)", **numbers)


RULE = Cooling()
