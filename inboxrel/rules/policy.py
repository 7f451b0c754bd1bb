"""The policy: which rules are in force and in what order, and what their verdicts add up to.

A person is suggested when at least one *suggest* rule fires and no *suppress* rule does; *boost* rules
raise the score of someone already suggested. Rules run in the order of the table, so the filters come
first and a person they stop costs nothing more (``explain`` runs every rule anyway, to show each
verdict). The user replaces the table with ``policy = [...]`` in the config, listing built-in names and
the names of their own ``[[rules]]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inboxrel.errors import ConfigError
from inboxrel.rules import (
    automated,
    awaiting_reply,
    cooling,
    heavy_email_overdue_call,
    ignored,
    ignored_domain,
    occasion,
    planned,
    snoozed,
    unanswered_request,
)
from inboxrel.rules.base import Rule, Verdict

BUILTIN: dict[str, Rule] = {m.RULE.name: m.RULE for m in (
    automated, ignored, ignored_domain, snoozed, planned, heavy_email_overdue_call, cooling, awaiting_reply,
    unanswered_request, occasion)}

DEFAULT_POLICY = (
    # rule                        why it is in force
    "automated",                  # machines never get a call
    "ignored",                    # you said: not a relationship
    "ignored-domain",             # whole domains you never want suggested
    "snoozed",                    # you asked for a break
    "planned",                    # a conversation is already on the calendar
    "heavy-email-overdue-call",   # lots of mail both ways and no real conversation in too long
    "cooling",                    # a long relationship going quiet
    "awaiting-reply",             # they have been waiting for your answer
    "occasion",                   # their birthday or anniversary is coming: a reason to call
    "unanswered-request",         # they asked to talk: move them up
)


class _Probe:
    """Stands in for the columns when asking a rule whether it has a SQL form at all."""

    def __getattr__(self, name):
        from sqlalchemy import column

        return column(name)

    def __getitem__(self, name):
        return self.__getattr__(name)


@dataclass
class Decision:
    """What the policy concluded for one person."""

    suggested: bool
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def fired(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.fired]

    @property
    def suppressed_by(self) -> Verdict | None:
        return next((v for v in self.verdicts if v.fired and v.action == "suppress"), None)


class Policy:
    """An ordered list of rules plus the thresholds they compare against."""

    def __init__(self, rules: list[Rule], thresholds):
        self.rules = rules
        self.th = thresholds
        self._pickers = [r for r in rules if r.action == "suggest"]

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rules]

    def candidates_sql(self, now):
        """``where`` for :func:`inboxrel.report.volume.volume_rows`: the people some suggest rule may pick,
        or None when a rule (say one of yours) cannot say so in SQL."""
        from sqlalchemy import false, or_

        th = self.th

        def where(t):
            conds = [r.may_fire_sql(t, th, now) for r in self._pickers]
            return or_(*conds) if conds else false()

        if any(r.may_fire_sql(_Probe(), th, now) is None for r in self._pickers):
            return None
        return where

    def may_suggest(self, facts) -> bool:
        """False when no suggest rule can fire for this person (cheap; see :meth:`Rule.may_fire`).

        The suggest rules' gates compiled into one function (run over everyone: one call per person)."""
        cache = self.__dict__.get("_may_suggest")
        if cache is None or cache[0] is not self.th:
            cache = self._may_suggest = (self.th, self._compile_may_suggest())
        return cache[1](facts)

    def _compile_may_suggest(self):
        from inboxrel.rules.conditions import Condition, compile_condition

        th = self.th
        sources = [r.may_fire_source(th) for r in self._pickers]
        if not sources:
            return lambda p: False
        if all(sources):
            return compile_condition(Condition("(" + " or ".join(sources) + ")", None))
        return lambda p: any(r.may_fire(p, th) for r in self._pickers)

    def evaluate(self, facts, *, every: bool = False, picked: bool = False) -> Decision:
        """Run the rules over one person.

        With ``every`` (explain), every rule gives its verdict. Otherwise a rule whose cheap
        :meth:`Rule.may_fire` says it cannot fire is skipped without a verdict, and the first
        suppressing rule that fires ends the run: the call list only needs the verdicts that fired.
        ``picked`` says :meth:`may_suggest` already held.
        """
        th = self.th
        if not every and not picked and not self.may_suggest(facts):
            return Decision(False, [])
        verdicts: list[Verdict] = []
        suppressed = suggested = False
        for rule in self.rules:
            if not every and not rule.may_fire(facts, th):
                continue
            v = rule.check(facts, th)
            verdicts.append(v)
            if v.fired:
                if v.action == "suppress":
                    suppressed = True
                    if not every:
                        break
                elif v.action == "suggest":
                    suggested = True
        return Decision(suggested and not suppressed, verdicts)

    def table(self) -> list[dict]:
        """The policy as rows (for ``inboxrel rules`` and the README)."""
        return [{"order": i, "name": r.name, "action": r.action, "priority": r.priority,
                 "builtin": r.name in BUILTIN, "description": r.description}
                for i, r in enumerate(self.rules, start=1)]


def build_policy(settings=None, *, thresholds: dict | None = None, rules: list | None = None,
                 policy: list | None = None) -> Policy:
    """The policy in force: the config's ``policy``, ``[[rules]]`` and ``[thresholds]`` over the defaults.

    Without ``policy`` in the config, the built-in table is used with the user's rules added after the
    other suggest rules.
    """
    from inboxrel.rules.thresholds import build_thresholds
    from inboxrel.rules.user import build_user_rules

    where = str(settings.config_path) if settings is not None else "config"
    if settings is not None:
        thresholds = settings.thresholds if thresholds is None else thresholds
        rules = settings.rules if rules is None else rules
        policy = settings.policy if policy is None else policy
    th = build_thresholds(thresholds, f"{where}: [thresholds]")
    user = build_user_rules(rules, where)
    known: dict[str, Rule] = {**BUILTIN, **{r.name: r for r in user}}
    if policy is None:
        names = list(DEFAULT_POLICY)
        at = names.index("unanswered-request")
        names[at:at] = [r.name for r in user]
    else:
        if not isinstance(policy, list) or not all(isinstance(n, str) for n in policy):
            raise ConfigError(f"{where}: policy must be a list of rule names, e.g. "
                              f"policy = [\"automated\", \"heavy-email-overdue-call\"]")
        names = policy
        for n in names:
            if n not in known:
                raise ConfigError(f"{where}: policy names unknown rule {n!r}; known rules: {', '.join(known)}")
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup:
            raise ConfigError(f"{where}: policy lists rule {dup!r} twice")
    return Policy([known[n] for n in names], th)
