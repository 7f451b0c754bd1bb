"""ignored-domain: people whose every address is in a domain the user ignored (`inboxrel ignore @domain`)."""

from __future__ import annotations

from inboxrel.rules.base import Rule
from inboxrel.rules.conditions import Clause, custom


class IgnoredDomain(Rule):
    name = "ignored-domain"
    description = "People whose every address is in a domain you ignored (inboxrel ignore @example.com) are never suggested."
    action = "suppress"
    priority = 10

    def gate(self, th):
        return [Clause("ignored-domain", custom("p.ignored_domain", None), lambda p: "no ignored domain")]

    def check(self, p, th):
        unmet = self.unmet(p, th)
        if unmet is not None:
            return self.verdict(False, unmet, domain=None)
        return self.verdict(True, f"every address is in ignored domain {p.ignored_domain}", domain=p.ignored_domain)


RULE = IgnoredDomain()
