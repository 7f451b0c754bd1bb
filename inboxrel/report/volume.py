"""Per-person mail volume from the derived ``person_days``/``person_totals`` tables, and their upkeep.

``compute_metrics`` answers every question about a person but needs about two seconds on 100,000
messages; ``suggest`` must answer in under one, process start included. So the pairs metrics.py counts
(distinct person-message pairs in each direction, discussion-list mail left out) are summed once per
person and day, and re-summed only when a fingerprint of the store changes (new mail, merges, my own
addresses). Windows here count whole UTC days: "90 days" is the 90 days up to and including today. Each
day also holds the personal weight of its mail (``report/personal.py``) and how many messages weighed 0,
and each person whether the mailbox's statistics show them to be a broadcast sender.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)

from inboxrel.clock import UTC, as_utc, to_db
from inboxrel.models import (
    account_addresses,
    addresses,
    identity_events,
    messages,
    person_days,
    person_totals,
    summary_state,
)
from inboxrel.rules.facts import MailVolume

WINDOWS = (30, 90, 365)


# -- upkeep ---------------------------------------------------------------------------------------------

def store_fingerprint(conn) -> str:
    """A digest of what the derived tables depend on; cheap (a few index scans)."""
    parts = [
        conn.execute(select(func.count(), func.max(messages.c.id))).one(),
        conn.execute(select(func.count(), func.sum(addresses.c.person_id))).one(),
        conn.execute(select(func.count()).select_from(account_addresses)).one(),
        conn.execute(select(func.count(), func.max(identity_events.c.id),
                            func.count(identity_events.c.undone_at))).one(),
    ]
    return hashlib.sha1(repr([tuple(p) for p in parts]).encode()).hexdigest()


def _pairs(broadcast):
    """Distinct (person, message) pairs in each direction with their personal weight: the very pairs
    ``compute_metrics`` counts."""
    from inboxrel.report.metrics import correspondence_pairs

    r, s = correspondence_pairs(broadcast=broadcast)
    received = (select(r.c.pid, r.c.date, literal(0).label("s"), literal(1).label("r"), literal(0.0).label("ps"),
                       r.c.w.label("pr"), r.c.w.label("w"))
                .where(r.c.date.is_not(None)))
    sent = select(s.c.pid, s.c.date, literal(1), literal(0), s.c.w, literal(0.0), s.c.w).where(s.c.date.is_not(None))
    return union_all(received, sent).subquery("pairs")


def _day_gap(conn, later, earlier):
    """Whole days between two DATE expressions, in this database's dialect."""
    if conn.dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier


def refresh_summary(engine, *, force: bool = False, now: datetime | None = None) -> bool:
    """Bring the derived tables up to date; True when they were rebuilt from the messages.

    Rebuilt when the store changed since they were built (one transaction: readers see the old tables or
    the new ones). With ``now``, the windowed counts for that day are also stored, so every later read on
    the same day skips summing them. Nothing is written when both are current; when the store cannot be
    written (read-only file, another writer), the reads fall back to summing and nothing is lost.
    """
    from sqlalchemy.exc import IntegrityError, OperationalError

    with engine.connect() as conn:
        fp = store_fingerprint(conn)
        state = dict(conn.execute(select(summary_state.c.key, summary_state.c.value)).all())
    rebuild = force or state.get("fingerprint") != fp
    asof = as_utc(now).date().isoformat() if now is not None else None
    if not rebuild and (asof is None or state.get("asof") == asof):
        return False
    try:
        with engine.begin() as conn:
            if rebuild:
                _rebuild(conn)
                _set_state(conn, "fingerprint", fp, now)
                _set_state(conn, "asof", None, now)
            if asof is not None:
                _store_windows(conn, now)
                _set_state(conn, "asof", asof, now)
    except IntegrityError:
        return False  # another process rebuilt the same tables at the same moment: its result is as good
    except OperationalError as exc:
        if not any(w in str(exc.orig).lower() for w in ("readonly", "read-only", "read only", "locked")):
            raise
        return False  # a read-only or busy store: the reads sum from the tables there are
    return rebuild


def _set_state(conn, key: str, value, now) -> None:
    conn.execute(delete(summary_state).where(summary_state.c.key == key))
    conn.execute(insert(summary_state).values(key=key, value=value, built_at=to_db(now) if now else None))


def _rebuild(conn) -> None:
    from inboxrel.report.personal import broadcast_senders

    broadcast = broadcast_senders(conn)
    p = _pairs(broadcast)
    day = func.date(p.c.date)
    conn.execute(delete(person_days))
    conn.execute(delete(person_totals))
    # the gap to the person's previous day with mail comes with the row: bursts are then a plain filter
    prev = func.lag(day).over(partition_by=p.c.pid, order_by=day)
    bulk = func.sum(case((p.c.w == 0, 1), else_=0))
    conn.execute(insert(person_days).from_select(
        ["person_id", "day", "sent", "received", "gap", "personal_sent", "personal_received", "bulk"],
        select(p.c.pid, day, func.sum(p.c.s), func.sum(p.c.r), _day_gap(conn, day, prev), func.sum(p.c.ps),
               func.sum(p.c.pr), bulk)
        .where(p.c.pid.is_not(None)).group_by(p.c.pid, day)))
    conn.execute(insert(person_totals).from_select(
        ["person_id", "sent", "received", "first_at", "last_at", "last_sent_at", "last_received_at", "sent_30d",
         "received_30d", "sent_90d", "received_90d", "sent_365d", "received_365d", "personal_sent",
         "personal_received", *PERSONAL_WINDOWS, "bulk_90d", "broadcast"],
        select(p.c.pid, func.sum(p.c.s), func.sum(p.c.r), func.min(p.c.date), func.max(p.c.date),
               func.max(case((p.c.s == 1, p.c.date))), func.max(case((p.c.r == 1, p.c.date))),
               *([literal(0)] * 6), func.sum(p.c.ps), func.sum(p.c.pr), *([literal(0.0)] * 6), literal(0),
               p.c.pid.in_(sorted(broadcast)) if broadcast else literal(False))
        .where(p.c.pid.is_not(None)).group_by(p.c.pid)))


def _store_windows(conn, now: datetime) -> None:
    names = list(WINDOW_FIELDS)
    conn.execute(update(person_totals).values(**dict.fromkeys(names, 0)))
    rows = [{"pid": pid, **dict(zip(names, values))} for pid, values in _window_sums(conn, now).items()]
    if rows:
        conn.execute(update(person_totals).where(person_totals.c.person_id == bindparam("pid"))
                     .values(**{n: bindparam(n) for n in names}), rows)


# -- reads ----------------------------------------------------------------------------------------------

def _dt(value) -> datetime | None:
    """An aware UTC datetime from a driver value (a datetime, or SQLite's ISO text)."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite: naive UTC text; one C call makes it aware
        return datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day(now: datetime, days_back: int) -> date:
    return (as_utc(now) - timedelta(days=days_back - 1)).date()


PERSONAL_WINDOWS = tuple(f"personal_{d}_{w}d" for w in WINDOWS for d in ("sent", "received"))
# the windowed counts, in the order person_totals stores them and volume_rows returns them
WINDOW_FIELDS = (*(f"{d}_{w}d" for w in WINDOWS for d in ("sent", "received")), *PERSONAL_WINDOWS, "bulk_90d")
VOLUME_FIELDS = ("sent", "received", "first_at", "last_at", "last_sent_at", "last_received_at",
                 "personal_sent", "personal_received", *WINDOW_FIELDS)
_NO_WINDOWS = (0,) * 6 + (0.0,) * 6 + (0,)


def _window_sums(conn, now: datetime, person_ids=None) -> dict[int, tuple]:
    """The values of :data:`WINDOW_FIELDS` summed from the days."""
    today = as_utc(now).date()
    d = person_days.c
    cols = [d.person_id]
    for column in (d.sent, d.received, d.personal_sent, d.personal_received):
        for w in WINDOWS:
            cols.append(func.sum(case((d.day >= _day(now, w), column), else_=0)))
    cols.append(func.sum(case((d.day >= _day(now, 90), d.bulk), else_=0)))
    q = select(*cols).where(d.day >= _day(now, max(WINDOWS)), d.day <= today).group_by(d.person_id)
    if person_ids is not None:
        q = q.where(d.person_id.in_(list(person_ids)))
    out = {}
    n = len(WINDOWS)
    for r in conn.execute(q):
        s, rc, ps, pr = (r[1 + i * n:1 + (i + 1) * n] for i in range(4))
        counts = tuple(int(x or 0) for pair in zip(s, rc) for x in pair)
        personal = tuple(float(x or 0) for pair in zip(ps, pr) for x in pair)
        out[r[0]] = counts + personal + (int(r[-1] or 0),)
    return out


def is_cut(conn, now: datetime) -> bool:
    """True when ``now`` falls before the newest mail of the store (``--now`` as a cut in time)."""
    newest = conn.execute(select(func.max(messages.c.date))).scalar()
    return newest is not None and _dt(newest) > as_utc(now)


def volume_rows(conn, now: datetime, person_ids=None, *, where=None) -> dict[int, tuple]:
    """Person id -> values in the order of :data:`VOLUME_FIELDS`, for everyone with mail (or ``person_ids``).

    Plain tuples: the call list reads this for thousands of people, and objects cost more than the query.
    The windowed counts come stored when :func:`refresh_summary` ran for the same day, else summed here.
    ``where(columns of person_totals)`` may narrow the rows in SQL; it applies only when the windowed
    counts are stored (the caller must not rely on it).
    """
    if is_cut(conn, now):
        # --now before the newest mail: the tables count mail that has not arrived yet; count up to now
        from inboxrel.report.metrics import compute_metrics

        return {pid: tuple(getattr(m, f) for f in VOLUME_FIELDS)
                for pid, m in compute_metrics(conn, now, person_ids).items() if m.total > 0}
    asof = conn.execute(select(summary_state.c.value).where(summary_state.c.key == "asof")).scalar()
    stored = asof == as_utc(now).date().isoformat()
    t = person_totals.c
    # raw values: SQLAlchemy's SQLite datetime processor costs more than the query on 5,000 people; and
    # the last sent/received times are only wanted for a few people (explain), not for everyone
    few = person_ids is not None
    cols = [t.person_id, t.sent, t.received, *(type_coerce(c, String) for c in (
        t.first_at, t.last_at, t.last_sent_at if few else literal(None), t.last_received_at if few else literal(None))),
        t.personal_sent, t.personal_received]
    if stored:
        cols += [t[name] for name in WINDOW_FIELDS]
        windows = {}
    else:
        windows = _window_sums(conn, now, person_ids)
    q = select(*cols)
    if person_ids is not None:
        q = q.where(t.person_id.in_(list(person_ids)))
    if stored and where is not None:
        q = q.where(where(t))
    out = {}
    for row in conn.execute(q):
        pid, s, r, first, last, last_s, last_r, ps, pr = row[:9]
        out[pid] = (s, r, _dt(first), _dt(last), _dt(last_s), _dt(last_r), ps, pr) + (
            tuple(row[9:]) if stored else windows.get(pid, _NO_WINDOWS))
    return out


def broadcast_people(conn, person_ids=None) -> set[int]:
    """The people :func:`inboxrel.report.personal.broadcast_senders` found when the tables were built."""
    q = select(person_totals.c.person_id).where(person_totals.c.broadcast.is_(True))
    if person_ids is not None:
        q = q.where(person_totals.c.person_id.in_(list(person_ids)))
    return {pid for (pid,) in conn.execute(q)}


def load_volumes(conn, now: datetime, person_ids=None) -> dict[int, MailVolume]:
    """Volume for everyone with mail (or only ``person_ids``), from the derived tables."""
    return {pid: MailVolume(**dict(zip(VOLUME_FIELDS, values)))
            for pid, values in volume_rows(conn, now, person_ids).items()}


def burst_summary(conn, person_ids, now: datetime, gap_days: int) -> dict[int, tuple[int, date, date]]:
    """(bursts, first burst's day, last burst's day) per person up to ``now``; a burst is mail after more
    than ``gap_days`` quiet days. One row per person leaves the database, however much mail there is."""
    ids = list(person_ids)
    if not ids:
        return {}
    d = person_days.c
    q = (select(d.person_id, func.count(), type_coerce(func.min(d.day), String), type_coerce(func.max(d.day), String))
         .where(d.person_id.in_(ids), d.day <= as_utc(now).date(), or_(d.gap.is_(None), d.gap > gap_days))
         .group_by(d.person_id))
    return {pid: (n, _date(first), _date(last)) for pid, n, first, last in conn.execute(q)}


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def month_key(d: date | datetime) -> str:
    """'2024-05' for any day in May 2024."""
    return f"{d.year:04d}-{d.month:02d}"


def month_range(now: datetime, months: int) -> list[str]:
    """The last ``months`` calendar months up to and including the one of ``now``, oldest first."""
    y, m = as_utc(now).year, as_utc(now).month
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


def monthly_series(conn, person_ids, now: datetime, months: int = 18) -> dict[int, dict[str, list[int]]]:
    """Sent and received per calendar month for each person, over the last ``months`` months."""
    keys = month_range(now, months)
    index = {k: i for i, k in enumerate(keys)}
    out = {pid: {"sent": [0] * months, "received": [0] * months} for pid in person_ids}
    if not out:
        return out
    start = date.fromisoformat(keys[0] + "-01")
    q = (select(person_days.c.person_id, person_days.c.day, person_days.c.sent, person_days.c.received)
         .where(person_days.c.person_id.in_(list(out)), person_days.c.day >= start,
                person_days.c.day <= as_utc(now).date()))
    for pid, day, s, r in conn.execute(q):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        i = index.get(month_key(day))
        if i is not None:
            out[pid]["sent"][i] += s
            out[pid]["received"][i] += r
    return out


def period_people(conn, since: datetime, now: datetime) -> dict[int, tuple[int, int]]:
    """(sent, received) per person over the days from ``since`` to ``now``."""
    q = (select(person_days.c.person_id, func.sum(person_days.c.sent), func.sum(person_days.c.received))
         .where(person_days.c.day >= as_utc(since).date(), person_days.c.day <= as_utc(now).date())
         .group_by(person_days.c.person_id))
    return {pid: (int(s or 0), int(r or 0)) for pid, s, r in conn.execute(q)}

