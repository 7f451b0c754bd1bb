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

    def may_fire_sql(self, t, th, now):
        """:meth:`may_fire` as a SQL condition over the columns ``t`` of ``person_totals`` (with the day's
        windowed counts), or None when it cannot be written so. With one for every suggest rule, the call
        list reads only the people they may pick."""
        return None

    def may_fire(self, facts, th) -> bool:
        """A cheap necessary condition: False only when :meth:`check` cannot fire.

        ``suggest`` runs it over everyone first and checks in full only the people some suggest rule may
        pick, so a store with thousands of correspondents answers fast. The default is always True.
        """
        return True

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
