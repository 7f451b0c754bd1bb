"""A rule's gate written once, and read three ways: in Python, as SQL, and clause by clause for the reason.

A built-in rule lists its necessary conditions as :class:`Clause` objects (``Rule.gate``). From that one
list come :meth:`Rule.may_fire` (all clauses compiled into one plain Python function, as fast as a
hand-written one: ``suggest`` runs it over thousands of people), :meth:`Rule.may_fire_sql` (the same
clauses over the columns of ``person_totals``, so the database drops the people no rule may pick) and the
first clause that fails in :meth:`Rule.check` (which gives the reason why the rule did not fire).

Terms are fields of :class:`~inboxrel.rules.facts.PersonFacts` that ``person_totals`` stores under the same
name (``field``), sums of them, or a condition with its own SQL form (``custom``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable

# plain classes, not dataclasses: this module is imported by every `suggest`, and dataclass creation costs
# a few milliseconds of start-up each
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


class Term:
    """A number about a person: ``py`` is its Python source over ``p``, ``sql(t)`` its column expression."""

    __slots__ = ("py", "sql")

    def __init__(self, py: str, sql: Callable):
        self.py, self.sql = py, sql

    def __add__(self, other: Term) -> Term:
        return Term(f"({self.py} + {other.py})", lambda t, a=self.sql, b=other.sql: a(t) + b(t))

    def __sub__(self, other: Term) -> Term:
        return Term(f"({self.py} - {other.py})", lambda t, a=self.sql, b=other.sql: a(t) - b(t))

    def _compare(self, op: str, value) -> Condition:
        value = float(value) if isinstance(value, float) else int(value)  # numbers only: the source is eval'd
        return Condition(f"({self.py} {op} {value!r})", lambda t, now, s=self.sql: _OPS[op](s(t), value))

    def __ge__(self, value):
        return self._compare(">=", value)

    def __gt__(self, value):
        return self._compare(">", value)

    def __le__(self, value):
        return self._compare("<=", value)

    def __lt__(self, value):
        return self._compare("<", value)


def field(name: str) -> Term:
    """A field of the facts that ``person_totals`` stores as a column of the same name."""
    if not name.isidentifier():
        raise ValueError(f"not a field name: {name!r}")
    return Term(f"p.{name}", lambda t: t[name])


class Condition:
    """A yes/no question about a person: Python source over ``p``, and ``sql(t, now)`` (None: no SQL form)."""

    __slots__ = ("py", "sql")

    def __init__(self, py: str, sql: Callable | None):
        self.py, self.sql = py, sql

    def __and__(self, other: Condition) -> Condition:
        both = None if self.sql is None or other.sql is None else (
            lambda t, now, a=self.sql, b=other.sql: a(t, now) & b(t, now))
        return Condition(f"({self.py} and {other.py})", both)


def custom(py: str, sql: Callable | None) -> Condition:
    """A condition whose SQL form is not a plain comparison (a subquery, a date), given both ways."""
    return Condition(f"({py})", sql)


class Clause:
    """One necessary condition of a rule, with the reason to give when it fails (``unmet(p) -> str``)."""

    __slots__ = ("name", "condition", "unmet")

    def __init__(self, name: str, condition: Condition, unmet: Callable):
        self.name, self.condition, self.unmet = name, condition, unmet


def compile_condition(condition: Condition) -> Callable:
    """The condition as a plain Python function of the facts (compiled once, not interpreted per person)."""
    return eval(compile(f"lambda p: {condition.py}", f"<condition {condition.py[:60]}>", "eval"), {})  # noqa: S307


def all_of(clauses) -> Condition | None:
    """The conjunction of the clauses' conditions, or None for no clause."""
    out = None
    for c in clauses:
        out = c.condition if out is None else out & c.condition
    return out
