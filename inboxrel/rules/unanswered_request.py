"""unanswered-request: they asked to talk (or tried to call) and no conversation has happened since.

A boost: it raises the score of someone already on the call list. Requests older than
request_window_days have gone stale.
"""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date, plural
from inboxrel.rules.conditions import Clause, custom


class UnansweredRequest(Rule):
    name = "unanswered-request"
    description = ("They asked for a call or meeting (or tried to call) within request_window_days and we have "
                   "not talked since: raises priority.")
    action = "boost"
    priority = 5

    def gate(self, th):
        return [Clause("requests", custom("p.requests", None), lambda p: "no unanswered request to talk")]

    def check(self, p, th):
        numbers = {"requests": 0, "window_days": th.request_window_days}
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, **numbers)
        open_ = [r for r in p.requests if r.when and (p.now - r.when).days <= th.request_window_days
                 and p.conversation_since(r.when) is None]
        numbers = {"requests": len(open_), "window_days": th.request_window_days}
        if not open_:
            return self.verdict(False, "no unanswered request to talk", **numbers)
        r = open_[0]
        days = max(0, (p.now - r.when).days)
        what = "tried to call you" if r.kind == "attempt" else "asked to talk"
        quote = f": \u201c{r.sentence.strip()}\u201d" if r.sentence else ""
        numbers["days_since_request"] = days
        return self.verdict(True, f"they {what} on {fmt_date(r.when, p.now)} ({plural(days, 'day')} ago) and "
                                  f"you have not talked since{quote}", **numbers)


RULE = UnansweredRequest()
