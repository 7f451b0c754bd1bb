"""automated: newsletters, notifications, role and no-reply addresses are never suggested."""

from __future__ import annotations

from inboxrel.rules.base import Rule
from inboxrel.rules.conditions import Clause, custom


class Automated(Rule):
    name = "automated"
    description = "Automated senders (newsletters, notifications, role and no-reply addresses) are never suggested."
    action = "suppress"
    priority = 10

    def gate(self, th):
        return [Clause("automated", custom("p.automated", None), lambda p: "a person, not an automated sender")]

    def check(self, p, th):
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, automated=None)
        return self.verdict(True, f"automated sender ({p.automated})", automated=p.automated)


RULE = Automated()
