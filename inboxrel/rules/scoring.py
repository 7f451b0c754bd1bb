"""The call-list score: personal email load, days overdue, reciprocity and the relationship's length, weighed.

Load and reciprocity read the personal counts (``inboxrel.report.personal``): a weekly broadcast to
nine people adds nothing to either.

Each part is scaled to 0..1; the weighted mean (weights from ``[thresholds]``) times 100 is the base.
The rules that fired (suggest and boost) scale it by their combined strength, 1 - the product of
(1 - priority/11): one priority-10 rule keeps 91%, a priority-6 rule alone 55%, and every further rule
moves the score up without ever passing 100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Score:
    """A person's score with the parts it was made of, for ``explain``."""

    value: float
    parts: dict = field(default_factory=dict)  # part -> (0..1 value, weight)
    factor: float = 1.0
    rules: list = field(default_factory=list)  # (rule, priority) that made the factor

    def explain(self) -> str:
        terms = " + ".join(f"{name} {v:.2f}\u00d7{w:g}" for name, (v, w) in self.parts.items())
        text = f"100 \u00d7 ({terms}) / {sum(w for _, w in self.parts.values()):g}"
        if self.rules:
            names = ", ".join(f"{n} {p}" for n, p in self.rules)
            text += f" \u00d7 {self.factor:.2f} (rules fired: {names})"
        return f"{text} = {self.value:g}"

    def as_dict(self) -> dict:
        return {"value": self.value, "factor": round(self.factor, 3), "rules": [list(r) for r in self.rules],
                "parts": {k: {"value": round(v, 3), "weight": w} for k, (v, w) in self.parts.items()}}


def _load_and_reciprocity(p, th) -> tuple[float, float]:
    """Personal mail of the last 90 days against ``load_cap``, and how even it is (the last year's when
    the last 90 days had none)."""
    load = min(1.0, math.log1p(p.personal_90d) / math.log1p(max(1, th.load_cap)))
    s, r = p.personal_sent_90d, p.personal_received_90d
    if s + r == 0:
        s, r = p.personal_sent_365d, p.personal_received_365d
    return load, (min(s, r) / max(s, r) if max(s, r) else 0.0)


def score_bound(p, fired, th) -> float:
    """An upper bound of :func:`score` that needs no cadence (the overdue part taken at its maximum)."""
    return score(p, fired, th, overdue=1.0).value + 0.1  # + rounding


def score_ceiling(p, priorities, th) -> float:
    """An upper bound of :func:`score` from mail volume alone: overdue at its maximum, and every rule in
    ``priorities`` (those that may fire) taken as fired. Needs no evidence, feedback or cadence."""
    load, reciprocity = _load_and_reciprocity(p, th)
    length = min(1.0, p.relationship_days / 730)
    weights = th.weight_load + th.weight_overdue + th.weight_reciprocity + th.weight_length or 1.0
    base = 100 * (load * th.weight_load + th.weight_overdue + reciprocity * th.weight_reciprocity
                  + length * th.weight_length) / weights
    keep = 1.0
    for priority in priorities:
        keep *= 1 - min(10, max(1, priority)) / 11
    return base * (1 - keep if priorities else 1.0) + 0.1  # + rounding


def score(p, fired, th, *, overdue: float | None = None) -> Score:
    """Score one person from their facts and the verdicts that fired.

    ``overdue`` fixes that part (0..1) instead of computing it from the cadence: 1.0 gives an upper bound
    without loading the person's history.
    """
    load, reciprocity = _load_and_reciprocity(p, th)
    if overdue is None:
        overdue = min(1.0, p.days_without_conversation / max(1, p.cadence.ideal) / 3)
    length = min(1.0, p.relationship_days / 730)
    parts = {"load": (load, th.weight_load), "overdue": (overdue, th.weight_overdue),
             "reciprocity": (reciprocity, th.weight_reciprocity), "length": (length, th.weight_length)}
    total_w = sum(w for _, w in parts.values()) or 1.0
    base = 100 * sum(v * w for v, w in parts.values()) / total_w
    rules = [(v.rule, v.priority) for v in fired if v.action in ("suggest", "boost")]
    factor = 1.0
    if rules:
        keep = 1.0
        for _, priority in rules:
            keep *= 1 - min(10, max(1, priority)) / 11
        factor = 1 - keep
    return Score(round(base * factor, 1), parts, factor, rules)
