"""Per-person metrics over distinct messages, computed in SQL so they answer fast on large stores.

"Sent" counts messages I sent with the person among the recipients; "received" counts messages the person
sent and I received. Discussion-list mail (a post to a list I read) is not mail between us and is left out.
The ``personal_*`` counts weigh each message by its shape (``report/personal.py``: one-to-one 1, small
group a part, broadcast and automated 0); ``bulk_90d`` counts the messages that weighed 0. All windows are
counted back from ``now``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, func, literal, or_, select, union_all

from inboxrel.clock import as_utc, to_db
from inboxrel.models import addresses, messages, participants, people, threads
from inboxrel.report.personal import broadcast_senders, weight_sql
from inboxrel.rules.facts import MailVolume

WINDOWS = (30, 90, 365)


@dataclass
class PersonMetrics(MailVolume):
    person_id: int
    name: str | None
    email: str | None
    emails: list[str] = field(default_factory=list)
    automated: bool = False
    threads: int = 0
    two_way_threads: int = 0
    one_to_one_share: float | None = None
    awaiting_me: int = 0
    awaiting_them: int = 0
    median_reply_me_hours: float | None = None  # how long I take to answer them
    median_reply_them_hours: float | None = None  # how long they take to answer me
    tz_offset: int | None = None  # their usual UTC offset (minutes), from their Date headers

    def as_dict(self) -> dict:
        d = asdict(self)
        # who first, then the mail (the fields of MailVolume come first in the dataclass)
        d = {k: d.pop(k) for k in ("person_id", "name", "email", "emails", "automated")} | d
        for k, v in d.items():
            if isinstance(v, datetime):
                d[k] = as_utc(v).isoformat(timespec="seconds")
        return d


def correspondence_pairs(now: datetime | None = None, person_ids=None, broadcast=frozenset()):
    """Subqueries of distinct (person, message) pairs in each direction (only ``person_ids`` when given),
    each with the message's personal weight ``w`` (``broadcast``: the people
    :func:`inboxrel.report.personal.broadcast_senders` found); with ``now``, only mail dated up to it."""
    not_list = or_(messages.c.automated.is_(None), messages.c.automated != "list")
    w = weight_sql(addresses.c.person_id, broadcast).label("w")
    received = (
        select(addresses.c.person_id.label("pid"), messages.c.id.label("mid"), messages.c.date.label("date"),
               messages.c.thread_id.label("tid"), messages.c.recipient_count.label("rc"),
               messages.c.tz_offset.label("tz"), w)
        .join(addresses, addresses.c.id == messages.c.from_address_id)
        .where(messages.c.direction == "received", not_list)
    )
    sent = (
        select(addresses.c.person_id.label("pid"), messages.c.id.label("mid"), messages.c.date.label("date"),
               messages.c.thread_id.label("tid"), messages.c.recipient_count.label("rc"), w)
        .select_from(messages.join(participants, and_(participants.c.message_id == messages.c.id,
                                                      participants.c.role.in_(("to", "cc", "bcc"))))
                     .join(addresses, addresses.c.id == participants.c.address_id))
        .where(messages.c.direction == "sent", not_list)
        .distinct()
    )
    if person_ids is not None:
        # a few people (explain) must not cost a pass over every message
        received = received.where(addresses.c.person_id.in_(list(person_ids)))
        sent = sent.where(addresses.c.person_id.in_(list(person_ids)))
    if now is not None:
        # --now is a cut: mail dated after it has not arrived yet
        known = or_(messages.c.date.is_(None), messages.c.date <= to_db(now))
        received, sent = received.where(known), sent.where(known)
    return received.subquery("r"), sent.subquery("s")


def _aggregate(sq, now: datetime):
    cols = [sq.c.pid, func.count().label("n"), func.min(sq.c.date).label("first"), func.max(sq.c.date).label("last"),
            func.sum(case((sq.c.rc == 1, 1), else_=0)).label("solo"), func.sum(sq.c.w).label("pw")]
    for days in WINDOWS:
        since = sq.c.date >= to_db(now - timedelta(days=days))
        cols.append(func.sum(case((since, 1), else_=0)).label(f"w{days}"))
        cols.append(func.sum(case((since, sq.c.w), else_=0)).label(f"p{days}"))
    cols.append(func.sum(case((and_(sq.c.date >= to_db(now - timedelta(days=90)), sq.c.w == 0), 1), else_=0))
                .label("bulk"))
    return select(*cols).group_by(sq.c.pid)


def compute_metrics(conn, now: datetime, person_ids=None, *, detail: bool = False) -> dict[int, PersonMetrics]:
    """Metrics for every person (or only ``person_ids``), excluding me. ``detail`` adds reply latencies."""
    broadcast = broadcast_senders(conn)
    r, s = correspondence_pairs(now, person_ids, broadcast)
    q_people = (select(people.c.id, people.c.name, people.c.automated, addresses.c.email)
                .select_from(people.outerjoin(addresses, addresses.c.id == people.c.primary_address_id))
                .where(people.c.is_me.is_(False)))
    if person_ids is not None:
        q_people = q_people.where(people.c.id.in_(list(person_ids)))
    out: dict[int, PersonMetrics] = {}
    for row in conn.execute(q_people):
        out[row.id] = PersonMetrics(person_id=row.id, name=row.name, email=row.email,
                                    automated=bool(row.automated) or row.id in broadcast)
    if not out:
        return out
    for row in conn.execute(select(addresses.c.person_id, addresses.c.email).order_by(addresses.c.email)):
        if row.person_id in out:
            out[row.person_id].emails.append(row.email)
    solo_total: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for sq, prefix in ((r, "received"), (s, "sent")):
        for row in conn.execute(_aggregate(sq, now)):
            m = out.get(row.pid)
            if m is None:
                continue
            setattr(m, prefix, row.n)
            setattr(m, f"personal_{prefix}", float(row.pw or 0))
            m.bulk_90d += int(row.bulk or 0)
            for days in WINDOWS:
                setattr(m, f"{prefix}_{days}d", row._mapping[f"w{days}"] or 0)
                setattr(m, f"personal_{prefix}_{days}d", float(row._mapping[f"p{days}"] or 0))
            setattr(m, f"last_{prefix}_at", as_utc(row.last))
            first, last = as_utc(row.first), as_utc(row.last)
            if first and (m.first_at is None or first < m.first_at):
                m.first_at = first
            if last and (m.last_at is None or last > m.last_at):
                m.last_at = last
            solo_total[row.pid][0] += row.solo or 0
            solo_total[row.pid][1] += row.n
    for pid, (solo, total) in solo_total.items():
        out[pid].one_to_one_share = round(solo / total, 3) if total else None
    # threads and two-way threads
    pairs = union_all(select(r.c.pid, r.c.tid, literal(1).label("inb"), literal(0).label("outb")),
                      select(s.c.pid, s.c.tid, literal(0), literal(1))).subquery("p")
    per_thread = (select(pairs.c.pid, pairs.c.tid, func.max(pairs.c.inb).label("i"), func.max(pairs.c.outb).label("o"))
                  .where(pairs.c.tid.is_not(None)).group_by(pairs.c.pid, pairs.c.tid).subquery("pt"))
    for row in conn.execute(select(per_thread.c.pid, func.count().label("n"),
                                   func.sum(case((and_(per_thread.c.i == 1, per_thread.c.o == 1), 1), else_=0)))
                            .group_by(per_thread.c.pid)):
        if row.pid in out:
            out[row.pid].threads = row.n
            out[row.pid].two_way_threads = row[2] or 0
    # threads awaiting a reply: mine when they wrote last, theirs when I did
    last_from = (select(addresses.c.person_id, func.count())
                 .join(threads, threads.c.last_from_address_id == addresses.c.id)
                 .where(threads.c.awaiting == "me").group_by(addresses.c.person_id))
    for pid, n in conn.execute(last_from):
        if pid in out:
            out[pid].awaiting_me = n
    last_to = (select(addresses.c.person_id, func.count(distinct(threads.c.id)))
               .select_from(threads.join(participants, and_(participants.c.message_id == threads.c.last_message_id,
                                                            participants.c.role.in_(("to", "cc"))))
                            .join(addresses, addresses.c.id == participants.c.address_id))
               .where(threads.c.awaiting == "them").group_by(addresses.c.person_id))
    for pid, n in conn.execute(last_to):
        if pid in out:
            out[pid].awaiting_them = n
    # their usual time zone, from the Date headers of their own mail
    tz = select(r.c.pid, r.c.tz, func.count().label("n")).where(r.c.tz.is_not(None)).group_by(r.c.pid, r.c.tz)
    best: dict[int, tuple[int, int]] = {}
    for row in conn.execute(tz):
        if row.pid in out and (row.pid not in best or row.n > best[row.pid][1]):
            best[row.pid] = (row.tz, row.n)
    for pid, (offset, _) in best.items():
        out[pid].tz_offset = offset
    if detail:
        _latencies(conn, out, r, s)
    return out


def _latencies(conn, out: dict[int, PersonMetrics], r, s) -> None:
    """Median reply time both ways, from consecutive messages in shared threads."""
    rows = conn.execute(union_all(select(r.c.pid, r.c.tid, r.c.date, literal("in").label("d")),
                                  select(s.c.pid, s.c.tid, s.c.date, literal("out")))
                        .order_by("pid", "tid", "date")).all()
    mine: dict[int, list[float]] = defaultdict(list)
    theirs: dict[int, list[float]] = defaultdict(list)
    prev = None
    for row in rows:
        if row.pid not in out or row.date is None or row.tid is None:
            prev = None
            continue
        if prev and prev.pid == row.pid and prev.tid == row.tid and prev.d != row.d:
            hours = (row.date - prev.date).total_seconds() / 3600
            (mine if row.d == "out" else theirs)[row.pid].append(hours)
        prev = row
    for pid, values in mine.items():
        out[pid].median_reply_me_hours = round(statistics.median(values), 1)
    for pid, values in theirs.items():
        out[pid].median_reply_them_hours = round(statistics.median(values), 1)
