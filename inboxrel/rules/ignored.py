"""ignored: people the user ignored (`inboxrel ignore`, `dismiss --reason not-a-relationship`)."""

from __future__ import annotations

from inboxrel.rules.base import Rule, fmt_date


class Ignored(Rule):
    name = "ignored"
    description = "People you ignored (inboxrel ignore PERSON, or dismissed as not a relationship) are never suggested."
    action = "suppress"
    priority = 10

    def may_fire(self, p, th):
        return p.ignored is not None

    def check(self, p, th):
        if p.ignored is not None:
            why = f": {p.ignored}" if p.ignored else ""
            return self.verdict(True, f"ignored by you on {fmt_date(p.ignored_at, p.now)}{why}", ignored=True)
        return self.verdict(False, "not ignored", ignored=False)


RULE = Ignored()
