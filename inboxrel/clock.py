"""Time helpers: parsing ``--now`` and durations, and converting to and from UTC.

Time is always passed in (``now=``); nothing in the library reads the wall clock except :func:`utcnow`,
which only the CLI calls when ``--now`` is not given.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from inboxrel.errors import UsageError

UTC = timezone.utc

_DURATION = re.compile(r"^\s*(\d+)\s*(d|w|m|y|h)?\s*$", re.I)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_datetime(value: str | datetime | date, *, end_of_day: bool = False) -> datetime:
    """Parse an ISO 8601 date or datetime; naive values are taken as UTC."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, datetime.max.time() if end_of_day else datetime.min.time())
    else:
        text = value.strip()
        if text.lower() == "now":
            return utcnow()
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"cannot read {value!r} as a date or time: use ISO 8601, e.g. 2001-05-14 or 2001-05-14T09:30:00-05:00"
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def parse_duration(value: str | int | timedelta) -> timedelta:
    """Parse '30d', '12w', '6m', '1y', '48h' or a bare number of days."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int):
        return timedelta(days=value)
    m = _DURATION.match(value)
    if not m:
        raise UsageError(f"cannot read {value!r} as a duration: use e.g. 30d, 12w, 6m or 1y")
    n, unit = int(m.group(1)), (m.group(2) or "d").lower()
    if unit == "h":
        return timedelta(hours=n)
    return timedelta(days=n * _UNIT_DAYS[unit])


def as_utc(dt: datetime | None) -> datetime | None:
    """Return an aware UTC datetime; naive values (as stored in SQLite) are taken as UTC."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_db(dt: datetime | None) -> datetime | None:
    """Naive UTC, the form every timestamp column stores."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(UTC).replace(tzinfo=None)


def iso(dt: datetime | None, offset_minutes: int | None = None) -> str | None:
    """ISO 8601 with offset; shown in ``offset_minutes`` local time when given, else UTC."""
    if dt is None:
        return None
    dt = as_utc(dt)
    if offset_minutes is not None:
        dt = dt.astimezone(timezone(timedelta(minutes=offset_minutes)))
    return dt.isoformat(timespec="seconds")
