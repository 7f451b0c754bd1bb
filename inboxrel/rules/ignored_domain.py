"""ignored-domain: people whose every address is in a domain the user ignored (`inboxrel ignore @domain`)."""

from __future__ import annotations

from inboxrel.rules.base import Rule


class IgnoredDomain(Rule):
    name = "ignored-domain"
    description = "People whose every address is in a domain you ignored (inboxrel ignore @example.com) are never suggested."
    action = "suppress"
    priority = 10

    def may_fire(self, p, th):
        return bool(p.ignored_domain)

    def check(self, p, th):
        if p.ignored_domain:
            return self.verdict(True, f"every address is in ignored domain {p.ignored_domain}",
                                domain=p.ignored_domain)
        return self.verdict(False, "no ignored domain", domain=None)


RULE = IgnoredDomain()
