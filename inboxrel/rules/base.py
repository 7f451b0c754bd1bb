"""What every rule shares: the verdict it returns, its attributes, and wording helpers for reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from inboxrel.clock import as_utc

# What a fired rule does to a person (the policy table lists rules; the rule says what it is for):
#   suggest  - put the person on the call list
#   suppress - keep the person off it, whatever else fired
#   boost    - raise the score of someone already on it
ACTIONS = ("suggest", "suppress", "boost")


@dataclass
class Verdict:
    """One rule's answer for one person: fired or not, with the numbers compared and a readable reason."""

    rule: str
    action: str
    fired: bool
    reason: str
    numbers: dict = field(default_factory=dict)
    priority: int = 5

    def as_dict(self) -> dict:
        return {"rule": self.rule, "action": self.action, "fired": self.fired, "reason": self.reason,
                "priority": self.priority, "numbers": self.numbers}


class Rule:
    """A rule: ``name``, ``description``, ``action``, ``priority`` and ``check(facts, thresholds)``.

    Built-in rules are one subclass per module in ``inboxrel/rules/``; the user's ``[[rules]]`` are
    :class:`inboxrel.rules.user.UserRule` objects. ``priority`` (1-10) weighs a suggest rule in the score
    and sets how much a boost rule raises it.
    """

    name = ""
    description = ""
    action = "suggest"
    priority = 5
    needs_cadence = False  # check() reads facts.cadence once may_fire() holds: load histories up front

    def check(self, facts, th) -> Verdict:  # pragma: no cover - every rule overrides it
        raise NotImplementedError

    def gate(self, th) -> list:
        """The rule's necessary conditions, written once (:class:`inboxrel.rules.conditions.Clause`).

        :meth:`may_fire`, :meth:`may_fire_sql` and :meth:`unmet` (which :meth:`check` starts with) are all
        read from it. The default is no condition.
        """
        return []

    def _gate(self, th):
        cache = self.__dict__.get("_gate_cache")
        if cache is None or cache[0] is not th:
            from inboxrel.rules.conditions import all_of, compile_condition

            clauses = self.gate(th)
            whole = all_of(clauses)
            cache = (th, whole, compile_condition(whole) if whole is not None else None,
                     [(c, compile_condition(c.condition)) for c in clauses])
            self.__dict__["_gate_cache"] = cache
        return cache

    def may_fire_sql(self, t, th, now):
        """:meth:`may_fire` as a SQL condition over the columns ``t`` of ``person_totals`` (with the day's
        windowed counts), or None when it cannot be written so. With one for every suggest rule, the call
        list reads only the people they may pick."""
        whole = self._gate(th)[1]
        return None if whole is None or whole.sql is None else whole.sql(t, now)

    def may_fire(self, facts, th) -> bool:
        """A cheap necessary condition: False only when :meth:`check` cannot fire.

        ``suggest`` runs it over everyone first and checks in full only the people some suggest rule may
        pick, so a store with thousands of correspondents answers fast. It is :meth:`gate` compiled; with
        no gate, always True.
        """
        cache = self.__dict__.get("_gate_cache")
        fn = (cache if cache is not None and cache[0] is th else self._gate(th))[2]
        return True if fn is None else fn(facts)

    def may_fire_source(self, th) -> str | None:
        """:meth:`may_fire` as Python source over ``p`` (None: not from a gate, or no gate), so a policy can
        compile the pre-check of all its rules into one function."""
        if type(self).may_fire is not Rule.may_fire:
            return None
        whole = self._gate(th)[1]
        return None if whole is None else whole.py

    def unmet(self, facts, th) -> str | None:
        """The reason of the first clause of :meth:`gate` that does not hold, or None when all hold."""
        for clause, holds in self._gate(th)[3]:
            if not holds(facts):
                return clause.unmet(facts)
        return None

    def verdict(self, fired: bool, reason: str, **numbers) -> Verdict:
        return Verdict(self.name, self.action, fired, reason, numbers, self.priority)


# -- wording ----------------------------------------------------------------------------------------------

def fmt_date(dt: datetime | None, now: datetime | None = None) -> str:
    """'12 March' in the year of ``now``, else '12 March 2001'."""
    if dt is None:
        return "never"
    dt = as_utc(dt)
    text = f"{dt.day} {dt.strftime('%B')}"
    if now is None or as_utc(now).year != dt.year:
        text += f" {dt.year}"
    return text


def plural(n: int | float, word: str, many: str | None = None) -> str:
    n_text = f"{n:g}" if isinstance(n, float) else str(n)
    return f"{n_text} {word if n == 1 else (many or word + 's')}"


MEDIUM_WORDS = {"phone": "call", "video": "video call", "in_person": "meeting in person",
                "unspecified": "conversation", None: "conversation"}


def medium_word(medium: str | None) -> str:
    return MEDIUM_WORDS.get(medium, "conversation")
