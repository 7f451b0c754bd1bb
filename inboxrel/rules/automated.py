"""automated: newsletters, notifications, role and no-reply addresses are never suggested."""

from __future__ import annotations

from inboxrel.rules.base import Rule


class Automated(Rule):
    name = "automated"
    description = "Automated senders (newsletters, notifications, role and no-reply addresses) are never suggested."
    action = "suppress"
    priority = 10

    def may_fire(self, p, th):
        return bool(p.automated)

    def check(self, p, th):
        if p.automated:
            return self.verdict(True, f"automated sender ({p.automated})", automated=p.automated)
        return self.verdict(False, "a person, not an automated sender", automated=None)


RULE = Automated()
