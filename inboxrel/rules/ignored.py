"""ignored: people the user ignored (`inboxrel ignore`, `dismiss --reason not-a-relationship`)."""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date
from inboxrel.rules.conditions import Clause, custom


class Ignored(Rule):
    name = "ignored"
    description = "People you ignored (inboxrel ignore PERSON, or dismissed as not a relationship) are never suggested."
    action = "suppress"
    priority = 10

    def gate(self, th):
        return [Clause("ignored", custom("p.ignored is not None", None), lambda p: "not ignored")]

    def check(self, p, th):
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, ignored=False)
        why = f": {p.ignored}" if p.ignored else ""
        return self.verdict(True, f"ignored by you on {fmt_date(p.ignored_at, p.now)}{why}", ignored=True)


RULE = Ignored()
