"""Queries behind ``people``, ``person``, ``threads`` and ``stats``: plain rows, no formatting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, or_, select, union

from inboxrel.clock import as_utc, iso, to_db
from inboxrel.identity import resolve_person
from inboxrel.models import (
    accounts,
    addresses,
    folders,
    interactions,
    locations,
    messages,
    participants,
    people,
    quarantine,
    threads,
)
from inboxrel.report.metrics import compute_metrics, correspondence_pairs
from inboxrel.report.volume import is_cut

PEOPLE_FIELDS = ["name", "email", "emails", "sent", "received", "sent_90d", "received_90d", "first_at", "last_at",
                 "last_sent_at", "last_received_at", "threads", "two_way_threads", "automated"]


def people_rows(conn, now: datetime, *, limit: int | None = None, include_automated: bool = True,
                detail: bool = False) -> list[dict]:
    """Everyone I correspond with, most mail first (not my delegates: they write for me)."""
    from inboxrel.identity import delegate_person_ids

    metrics = compute_metrics(conn, now, detail=detail)
    delegates = delegate_person_ids(conn)
    rows = [m for m in metrics.values()
            if m.total > 0 and (include_automated or not m.automated) and m.person_id not in delegates]
    rows.sort(key=lambda m: (-m.total, -(m.last_at.timestamp() if m.last_at else 0), m.email or ""))
    if limit:
        rows = rows[:limit]
    return [_person_dict(m) for m in rows]


def _person_dict(m) -> dict:
    d = m.as_dict()
    d["id"] = d.pop("person_id")
    return d


def person_timeline(conn, ref: str, now: datetime, *, limit: int = 50) -> dict:
    """One person: their metrics, addresses and the threads we share, newest first."""
    pid = resolve_person(conn, ref)
    m = compute_metrics(conn, now, [pid], detail=True).get(pid)
    if m is None:
        raise_me(ref)
    addr_ids = [r.id for r in conn.execute(select(addresses.c.id).where(addresses.c.person_id == pid))]
    involved = (select(messages.c.thread_id)
                .select_from(messages.join(participants, participants.c.message_id == messages.c.id))
                .where(participants.c.address_id.in_(addr_ids)).distinct())
    rows = conn.execute(select(threads).where(threads.c.id.in_(involved))
                        .order_by(threads.c.last_at.desc().nulls_last()).limit(limit)).all()
    thread_rows = [{"thread": r.id, "subject": r.subject, "first_at": iso(r.first_at), "last_at": iso(r.last_at),
                    "messages": r.message_count, "sent": r.sent_count, "received": r.received_count,
                    "awaiting": r.awaiting} for r in rows]
    evidence = [{"kind": r.kind, "medium": r.medium, "at": iso(r.at), "source": r.source, "sentence": r.sentence}
                for r in conn.execute(select(interactions).where(interactions.c.person_id == pid)
                                      .order_by(interactions.c.at.desc().nulls_last()))]
    out = _person_dict(m)
    out["threads_list"] = thread_rows
    out["evidence"] = evidence
    return out


def raise_me(ref: str):
    from inboxrel.errors import UsageError

    raise UsageError(f"{ref} is one of your own addresses; `inboxrel account show` lists them")


def thread_rows(conn, now: datetime, *, awaiting: str | None = None, limit: int | None = 50) -> list[dict]:
    """Threads, newest first; ``awaiting='me'`` keeps the ones whose last message waits for my reply."""
    q = select(threads, addresses.c.email.label("last_from"), people.c.name.label("last_from_name")) \
        .select_from(threads.outerjoin(addresses, addresses.c.id == threads.c.last_from_address_id)
                     .outerjoin(people, people.c.id == addresses.c.person_id))
    if awaiting:
        q = q.where(threads.c.awaiting == awaiting)
        if awaiting == "me":
            q = q.where(or_(people.c.automated.is_(None), people.c.id.is_(None)))
    q = q.order_by(threads.c.last_at.desc().nulls_last())
    # --now is a cut: a thread begun after it does not exist yet, and one whose last message came after it is
    # shown as it stood then (its messages up to now; whether its last one waits for a reply is not claimed)
    cut = to_db(now)
    if not is_cut(conn, now):
        rows, stood = conn.execute(q.limit(limit) if limit else q).all(), {}
    else:
        rows = conn.execute(q.where(or_(threads.c.first_at.is_(None), threads.c.first_at <= cut))).all()
        later = [r.id for r in rows if r.last_at is not None and as_utc(r.last_at) > as_utc(now)]
        stood = {}
        for i in range(0, len(later), 500):
            for tid, count, last_at, sent in conn.execute(
                    select(messages.c.thread_id, func.count(), func.max(messages.c.date),
                           func.sum(case((messages.c.direction == "sent", 1), else_=0)))
                    .where(messages.c.thread_id.in_(later[i:i + 500]), messages.c.date <= cut)
                    .group_by(messages.c.thread_id)):
                stood[tid] = (count, last_at, int(sent or 0))
        if awaiting:
            rows = [r for r in rows if r.id not in stood]  # waiting as of now is not known for these
    out = []
    for r in rows:
        count, last_at, sent, waiting = r.message_count, r.last_at, r.sent_count, r.awaiting
        who, who_name = r.last_from, r.last_from_name
        if r.id in stood:
            (count, last_at, sent), waiting, who, who_name = stood[r.id], None, None, None
        last = as_utc(last_at)
        out.append({"thread": r.id, "subject": r.subject, "messages": count, "sent": sent,
                    "received": count - sent, "first_at": iso(r.first_at), "last_at": iso(last_at),
                    "last_from": who, "last_from_name": who_name, "awaiting": waiting,
                    "days_waiting": (now - last).days if last and waiting else None})
    if stood:
        out.sort(key=lambda d: d["last_at"] or "", reverse=True)
    return out[:limit] if limit else out


def stats(conn, now: datetime) -> dict:
    """Store-wide counts over distinct messages."""
    def count(q):
        return conn.execute(q).scalar() or 0

    by_dir = dict(conn.execute(select(messages.c.direction, func.count()).group_by(messages.c.direction)).all())
    first, last = conn.execute(select(func.min(messages.c.date), func.max(messages.c.date))).one()
    return {
        "messages": count(select(func.count()).select_from(messages)),
        "sent": by_dir.get("sent", 0),
        "received": by_dir.get("received", 0),
        "self": by_dir.get("self", 0),
        "automated": count(select(func.count()).where(messages.c.automated.is_not(None))),
        "copies": count(select(func.count()).select_from(locations)),
        "people": count(correspondents_count()),
        "addresses": count(select(func.count()).select_from(addresses)),
        "threads": count(select(func.count()).select_from(threads)),
        "quarantined": count(select(func.count()).select_from(quarantine)),
        "interactions": count(select(func.count()).select_from(interactions)),
        "accounts": count(select(func.count()).select_from(accounts)),
        "folders": count(select(func.count()).select_from(folders)),
        "first_at": iso(first),
        "last_at": iso(last),
    }


def correspondents_count():
    """People I wrote to or who wrote to me (the same set ``people`` lists), as a scalar query."""
    received, sent = correspondence_pairs(None)
    both = union(select(received.c.pid), select(sent.c.pid)).subquery()
    from inboxrel.identity import candidate_clause

    return select(func.count()).select_from(both).join(people, people.c.id == both.c.pid).where(candidate_clause())


def quarantine_rows(conn, limit: int | None = 100) -> list[dict]:
    q = select(quarantine.c.id, quarantine.c.path, quarantine.c.key, quarantine.c.reason, quarantine.c.created_at,
               folders.c.name.label("folder")).select_from(
        quarantine.outerjoin(folders, folders.c.id == quarantine.c.folder_id)).order_by(quarantine.c.id)
    if limit:
        q = q.limit(limit)
    return [{"id": r.id, "folder": r.folder, "path": r.path or r.key, "reason": r.reason} for r in conn.execute(q)]


def account_rows(conn) -> list[dict]:
    from inboxrel.models import account_addresses

    out = []
    for acct in conn.execute(select(accounts).order_by(accounts.c.name)):
        mine = conn.execute(select(addresses.c.email, account_addresses.c.source, account_addresses.c.evidence)
                            .join(account_addresses, account_addresses.c.address_id == addresses.c.id)
                            .where(account_addresses.c.account_id == acct.id).order_by(addresses.c.email)).all()
        fl = conn.execute(select(folders.c.name, folders.c.kind, folders.c.last_success_at, folders.c.last_error)
                          .where(folders.c.account_id == acct.id).order_by(folders.c.name)).all()
        n = conn.execute(select(func.count()).where(messages.c.account_id == acct.id)).scalar()
        out.append({"name": acct.name, "kind": acct.kind, "messages": n,
                    "me": [{"email": m.email, "source": m.source, "evidence": m.evidence} for m in mine],
                    "folders": [{"name": f.name, "kind": f.kind, "last_success_at": iso(f.last_success_at),
                                 "last_error": f.last_error} for f in fl]})
    return out


