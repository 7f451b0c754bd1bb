"""The numbers the built-in rules compare against: defaults, and the user's ``[thresholds]`` validated.

\b
    [thresholds]
    heavy_min_messages = 12      # both ways, last 90 days
    default_cadence_days = "45d" # a number of days or a duration
"""

from __future__ import annotations

from types import SimpleNamespace

from inboxrel.errors import ConfigError

# name: (default, kind, what it means). kind "days" also accepts durations such as "30d", "8w", "6m".
DEFAULTS: dict[str, tuple[float, str, str]] = {
    "heavy_min_messages": (8, "int", "personal emails both ways in the last 90 days for heavy-email-overdue-call"),
    "heavy_min_each_way": (2, "int", "at least this many personal emails sent and received (one-way mail is no relationship)"),
    "default_cadence_days": (60, "days", "days between conversations when no circle or history says otherwise"),
    "overdue_factor": (1.5, "float", "overdue after cadence x this (due after the cadence itself)"),
    "learned_cadence_min_days": (30, "days", "a cadence learned from history is at least this"),
    "learned_cadence_max_days": (365, "days", "... and at most this"),
    "learn_min_gaps": (2, "int", "gaps between conversations (or email bursts) needed to learn a cadence"),
    "burst_gap_days": (7, "days", "a new email burst starts after this many quiet days"),
    "seasonal_cadence_days": (365, "days", "cadence set by `dismiss --reason seasonal`"),
    "awaiting_reply_days": (7, "days", "their message waits this long before awaiting-reply fires"),
    "awaiting_reply_max_days": (90, "days", "older unanswered threads are history, not a reason to call"),
    "cooling_ratio": (0.4, "float", "cooling when the last 90 days fall below this share of their baseline"),
    "cooling_min_baseline": (10, "float", "baseline emails per 90 days a correspondent needs to cool"),
    "cooling_min_history_days": (180, "days", "how long we must have corresponded before cooling applies"),
    "cooling_min_each_way": (2, "float", "personal emails each way over the baseline period: cooling needs a two-way relationship"),
    "awaiting_reply_max_recipients": (5, "int", "their last message to more people than this is a broadcast, not waiting for you"),
    "request_window_days": (90, "days", "a request to talk older than this no longer raises priority"),
    "planned_default_days": (14, "days", "a planned conversation with no date suppresses for this long"),
    "min_confidence": (0.6, "float", "evidence below this confidence never counts as a conversation on its own"),
    "passed_plan_confidence": (0.8, "float", "a plan whose day has passed, not cancelled, counts as a probable "
                                             "conversation at its confidence x this"),
    "suggest_limit": (10, "int", "entries in the call list when --limit is not given"),
    "weight_load": (0.35, "float", "score weight: personal email load (both ways, 90 days)"),
    "weight_overdue": (0.30, "float", "score weight: days since the last conversation against the cadence"),
    "weight_reciprocity": (0.20, "float", "score weight: how even sent and received are"),
    "weight_length": (0.15, "float", "score weight: how long we have corresponded"),
    "load_cap": (60, "int", "personal emails in 90 days that count as full email load"),
}


def _value(key: str, value, kind: str, where: str):
    from inboxrel.clock import parse_duration
    from inboxrel.errors import UsageError

    if isinstance(value, bool):
        raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
    if kind == "days" and isinstance(value, str):
        try:
            return parse_duration(value).days
        except UsageError:
            raise ConfigError(f"{where}: {key} must be a number of days or a duration like \"30d\", "
                              f"not {value!r}") from None
    if not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key} must be a number, not {value!r}")
    if value < 0:
        raise ConfigError(f"{where}: {key} must not be negative ({value!r})")
    if kind in ("int", "days"):
        if value != int(value):
            raise ConfigError(f"{where}: {key} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def build_thresholds(raw: dict | None = None, where: str = "[thresholds]") -> SimpleNamespace:
    """Defaults overlaid with ``raw`` (the config's ``[thresholds]``); a bad key raises :class:`ConfigError`."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(DEFAULTS)}")
    values = {k: (v[0] if v[1] == "float" else int(v[0])) for k, v in DEFAULTS.items()}
    for key, value in raw.items():
        values[key] = _value(key, value, DEFAULTS[key][1], where)
    if values["learned_cadence_min_days"] > values["learned_cadence_max_days"]:
        raise ConfigError(f"{where}: learned_cadence_min_days ({values['learned_cadence_min_days']}) is above "
                          f"learned_cadence_max_days ({values['learned_cadence_max_days']})")
    if values["overdue_factor"] < 1:
        raise ConfigError(f"{where}: overdue_factor must be at least 1 (overdue comes after due), "
                          f"not {values['overdue_factor']}")
    if sum(values[k] for k in ("weight_load", "weight_overdue", "weight_reciprocity", "weight_length")) <= 0:
        raise ConfigError(f"{where}: at least one score weight (weight_*) must be above 0")
    return SimpleNamespace(**values)
