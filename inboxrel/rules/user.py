"""The user's own rules, from ``[[rules]]`` tables in the config, validated with errors naming the bad key.

\b
    [[rules]]
    name = "quiet-client"
    description = "A client I write to a lot who has gone quiet"
    when = ["sent_365d >= 20", "received_30d == 0", "domain == 'client.example'"]
    action = "suggest"          # suggest (default) | suppress | boost
    priority = 8                # 1-10, default 5
    reason = "{sent_365d} emails to them this year, nothing back in 30 days"

Every condition in ``when`` must hold. A condition is ``FIELD OP VALUE`` with OP one of
``>= > <= < == !=``; VALUE is a number, a quoted string, or ``never`` (for days_since_conversation
when we never talked). For ``circle``, ``== "inner"`` means "is in circle inner". The fields are
:attr:`inboxrel.rules.facts.PersonFacts.FIELDS`.
"""

from __future__ import annotations

import re
import string

from inboxrel.errors import ConfigError
from inboxrel.rules.base import ACTIONS, Rule
from inboxrel.rules.facts import PersonFacts

KEYS = ("name", "description", "when", "action", "priority", "reason")
_COND = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}
NEVER = object()  # days_since_conversation when there was no conversation: longer than any number


class Condition:
    def __init__(self, text: str, where: str):
        m = _COND.match(text) if isinstance(text, str) else None
        if not m:
            raise ConfigError(f"{where}: cannot read condition {text!r}: write FIELD OP VALUE, "
                              f"e.g. \"sent_90d >= 10\" (OP is one of >= > <= < == !=)")
        self.text = text.strip()
        self.field, self.op, raw = m.groups()
        kind = PersonFacts.FIELDS.get(self.field)
        if kind is None:
            raise ConfigError(f"{where}: unknown field {self.field!r} in condition {text!r}; fields: "
                              f"{', '.join(PersonFacts.FIELDS)}")
        if raw[:1] in "\"'" and raw[-1:] == raw[:1] and len(raw) >= 2:
            value = raw[1:-1]
        elif raw.lower() == "never":
            value = NEVER
        else:
            try:
                value = float(raw) if "." in raw else int(raw)
            except ValueError:
                raise ConfigError(f"{where}: value {raw!r} in condition {text!r} must be a number, a quoted "
                                  f"string or never") from None
        if kind in ("str", "list") and (not isinstance(value, str) or self.op not in ("==", "!=")):
            raise ConfigError(f"{where}: {self.field} is text: compare it with == or != and a quoted "
                              f"string, as in {self.field} == \"...\" (got {text!r})")
        if kind in ("int", "days", "float") and isinstance(value, str):
            raise ConfigError(f"{where}: {self.field} is a number: compare it with a number (got {text!r})")
        if value is NEVER and (kind != "days" or self.op not in ("==", "!=")):
            raise ConfigError(f"{where}: only days_since_conversation/days_since_email == never or != never "
                              f"are allowed (got {text!r})")
        self.value = value

    def holds(self, facts: PersonFacts) -> tuple[bool, object]:
        actual = facts.value(self.field)
        if self.value is NEVER:
            return (actual is None) == (self.op == "=="), actual
        if isinstance(actual, list):
            inside = self.value in actual
            return inside if self.op == "==" else not inside, actual
        if actual is None:
            # "never" is longer than any number of days; other missing values match nothing but !=
            if PersonFacts.FIELDS[self.field] == "days":
                return self.op in (">", ">=", "!="), actual
            return self.op == "!=", actual
        if isinstance(self.value, str):
            return _OPS[self.op](str(actual).lower(), self.value.lower()), actual
        return _OPS[self.op](actual, self.value), actual


class _Values(dict):
    def __init__(self, facts: PersonFacts):
        super().__init__()
        self.facts = facts

    def __missing__(self, key):
        value = self.facts.value(key)
        if value is None:
            return "never" if PersonFacts.FIELDS.get(key) == "days" else "-"
        if isinstance(value, list):
            return ", ".join(value) or "-"
        return value


class UserRule(Rule):
    """A rule written in the config: conditions that must all hold, an action, a priority, a reason."""

    def __init__(self, table: dict, index: int, where: str = "config"):
        label = f"{where}: [[rules]] #{index}"
        if not isinstance(table, dict):
            raise ConfigError(f"{label} must be a table with name, when and reason")
        bad = sorted(set(table) - set(KEYS))
        if bad:
            raise ConfigError(f"{label}: unknown key {bad[0]!r}; allowed: {', '.join(KEYS)}")
        name = table.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"{label}: name must be lower-case letters, digits and dashes, not {name!r}")
        label = f"{where}: [[rules]] {name!r}"
        self.name = name
        when = table.get("when")
        if isinstance(when, str):
            when = [when]
        if not when or not isinstance(when, list):
            raise ConfigError(f"{label}: when must be a list of conditions, e.g. [\"sent_90d >= 10\"]")
        self.conditions = [Condition(c, f"{label}: when") for c in when]
        self.action = table.get("action", "suggest")
        if self.action not in ACTIONS:
            raise ConfigError(f"{label}: action must be one of {', '.join(ACTIONS)}, not {self.action!r}")
        priority = table.get("priority", 5)
        if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 10:
            raise ConfigError(f"{label}: priority must be a whole number from 1 to 10, not {priority!r}")
        self.priority = priority
        self.description = table.get("description") or " and ".join(c.text for c in self.conditions)
        if not isinstance(self.description, str):
            raise ConfigError(f"{label}: description must be a string")
        self.reason = table.get("reason") or self.description
        if not isinstance(self.reason, str):
            raise ConfigError(f"{label}: reason must be a string")
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(self.reason) if f is not None]
        except ValueError as exc:
            raise ConfigError(f"{label}: reason {self.reason!r} is not a valid template: {exc}") from None
        for f in fields:
            if f not in PersonFacts.FIELDS:
                raise ConfigError(f"{label}: reason refers to unknown field {{{f}}}; fields: "
                                  f"{', '.join(PersonFacts.FIELDS)}")

    def check(self, facts, th):
        numbers, failed = {}, None
        for c in self.conditions:
            ok, actual = c.holds(facts)
            numbers[c.field] = actual
            if not ok and failed is None:
                failed = c
        if failed is not None:
            return self.verdict(False, f"{failed.text} does not hold ({failed.field} is "
                                       f"{_Values(facts)[failed.field]})", **numbers)
        return self.verdict(True, self.reason.format_map(_Values(facts)), **numbers)


def build_user_rules(tables, where: str = "config") -> list[UserRule]:
    """Validate ``[[rules]]``; names must be unique and must not shadow a built-in rule."""
    from inboxrel.rules.policy import BUILTIN

    if tables is None:
        return []
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: rules must be an array of tables ([[rules]])")
    out, seen = [], set()
    for i, table in enumerate(tables, start=1):
        rule = UserRule(table, i, where)
        if rule.name in BUILTIN:
            raise ConfigError(f"{where}: [[rules]] {rule.name!r} has the name of a built-in rule; choose another")
        if rule.name in seen:
            raise ConfigError(f"{where}: [[rules]] {rule.name!r} is defined twice")
        seen.add(rule.name)
        out.append(rule)
    return out
