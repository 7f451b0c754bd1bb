"""How often to talk to someone: ideal (due after it) and maximum (overdue after it), and where it came from.

In order: a cadence the user set for this person (``dismiss --reason seasonal``), else the tightest of the
circles they are in (``circle add inner --cadence 30d``), else one learned from their own history (the
usual gap between our conversations, or between email bursts when we have never talked), else the default.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Cadence:
    """How often to talk to someone: due after ``ideal`` days without a conversation, overdue after ``max``."""

    ideal: int  # days: due after this
    max: int  # days: overdue after this
    source: str  # readable: "circle inner", "learned from 5 conversations", "default"

    def as_dict(self) -> dict:
        return {"ideal_days": self.ideal, "max_days": self.max, "source": self.source}


def usual_gap(days: list[date]) -> tuple[float | None, int]:
    """Median gap in days between events on distinct days, and how many gaps there were."""
    days = sorted(set(days))
    gaps = [(b - a).days for a, b in zip(days, days[1:])]
    if not gaps:
        return None, 0
    return float(statistics.median(gaps)), len(gaps)


def resolve_cadence(th, *, own_days: int | None = None, own_source: str | None = None,
                    circles: list[tuple[str, int, int]] = (), conversation_days: list[date] = (),
                    bursts: tuple[int, date, date] | None = None) -> Cadence:
    """The person's cadence; see the module docstring for the order.

    ``bursts`` is (how many email bursts, the first one's day, the last one's day): a burst is mail after
    more than ``burst_gap_days`` quiet days. Their usual gap is the average, so it is computed in SQL.
    """
    factor = th.overdue_factor
    if own_days:
        return Cadence(own_days, round(own_days * factor), own_source or "set by you")
    if circles:
        name, ideal, most = min(circles, key=lambda c: (c[1], c[2], c[0]))
        return Cadence(ideal, most, f"circle {name}")
    lo, hi = th.learned_cadence_min_days, th.learned_cadence_max_days
    gap, n = usual_gap(list(conversation_days))
    if gap is not None and n >= th.learn_min_gaps:
        ideal = int(min(max(round(gap), lo), hi))
        return Cadence(ideal, round(ideal * factor), f"learned from {n + 1} conversations (usual gap {gap:g} days)")
    if bursts and bursts[0] - 1 >= th.learn_min_gaps:
        n, first, last = bursts
        gap = (last - first).days / (n - 1)
        ideal = int(min(max(round(gap), lo), hi))
        return Cadence(ideal, round(ideal * factor), f"learned from {n} email bursts (one every {gap:.0f} days)")
    ideal = th.default_cadence_days
    return Cadence(ideal, round(ideal * factor), "default")
