"""Reviewing evidence: list every item with where it came from, and reject the wrong ones.

A rejection is kept in ``evidence_rejections`` keyed on what survives re-analysis and re-imports: the
source, the message's Message-ID (or the calendar/call-log reference), the person's primary address and the
kind. The rejected row is deleted at once, and :func:`rejected_keys` lets the save path drop the same item
whenever the evidence is computed again. The rejections stay as data for improving the rules.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select

from inboxrel.clock import to_db
from inboxrel.errors import NotFoundError
from inboxrel.models import (
    addresses,
    evidence_rejections,
    folders,
    interactions,
    locations,
    messages,
    people,
)

EVIDENCE_FIELDS = ["id", "person_id", "name", "email", "emails", "kind", "medium", "at", "confidence", "source",
                   "message_id", "folder", "location", "subject", "direction", "sentence", "note"]


def _ref(source: str, header_id: str | None, row_id: int | None, source_ref: str) -> str:
    if source == "message":
        return header_id or f"row:{row_id}"
    return source_ref


def list_evidence(conn, *, person_ids: list[int] | None = None, kind: str | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """Every evidence item, newest first, as plain dicts with the keys of ``EVIDENCE_FIELDS``."""
    i = interactions.c
    primary = addresses.alias("primary_address")
    q = (select(i.id, i.person_id, people.c.name, primary.c.email, i.kind, i.medium, i.at, i.confidence, i.source,
                i.source_ref, i.message_id.label("row_id"), messages.c.message_id.label("header_id"),
                messages.c.subject, messages.c.date.label("msg_date"), i.direction, i.sentence, i.note)
         .select_from(interactions.join(people, people.c.id == i.person_id)
                      .outerjoin(primary, primary.c.id == people.c.primary_address_id)
                      .outerjoin(messages, messages.c.id == i.message_id))
         .where(i.kind != "cancelled"))
    if person_ids is not None:
        q = q.where(i.person_id.in_(person_ids))
    if kind:
        q = q.where(i.kind == kind)
    when = func.coalesce(i.at, messages.c.date)  # when it happened or is planned
    if since is not None:
        q = q.where(when >= to_db(since))
    if until is not None:
        # --now is a cut: what was learned after it is not known yet (a plan for later, learned before, is)
        q = q.where(func.coalesce(messages.c.date, i.created_at) <= to_db(until))
    rows = conn.execute(q.order_by(when.desc(), i.id.desc())).all()
    pids = {r.person_id for r in rows}
    emails: dict[int, list[str]] = {}
    for r in conn.execute(select(addresses.c.person_id, addresses.c.email)
                          .where(addresses.c.person_id.in_(pids)).order_by(addresses.c.email)):
        emails.setdefault(r.person_id, []).append(r.email)
    mids = {r.row_id for r in rows if r.row_id is not None}
    where: dict[int, tuple[str, str]] = {}
    for r in conn.execute(select(locations.c.message_id, folders.c.name, folders.c.source, locations.c.key,
                                 locations.c.uid)
                          .join(folders, folders.c.id == locations.c.folder_id)
                          .where(locations.c.message_id.in_(mids), locations.c.gone.is_(False))
                          .order_by(locations.c.id)):
        if r.message_id not in where:
            loc = f"UID {r.uid}" if r.uid is not None else (f"{r.source.rstrip('/')}/{r.key}" if r.source else r.key)
            where[r.message_id] = (r.name, loc)
    out = []
    for r in rows:
        folder, loc = where.get(r.row_id, (None, None))
        out.append({"id": r.id, "person_id": r.person_id, "name": r.name, "email": r.email,
                    "emails": emails.get(r.person_id, []), "kind": r.kind, "medium": r.medium,
                    "at": r.at.isoformat() if r.at else None, "confidence": r.confidence, "source": r.source,
                    "message_id": r.header_id, "folder": folder, "location": loc, "subject": r.subject,
                    "direction": r.direction, "sentence": r.sentence, "note": r.note})
    return out


def reject_evidence(conn, item_id: int, *, reason: str | None, now: datetime) -> dict:
    """Mark evidence item ``item_id`` wrong: it stops counting now and is never stored again."""
    i = interactions.c
    primary = addresses.alias("primary_address")
    r = conn.execute(select(interactions, primary.c.email, messages.c.message_id.label("header_id"))
                     .select_from(interactions.join(people, people.c.id == i.person_id)
                                  .outerjoin(primary, primary.c.id == people.c.primary_address_id)
                                  .outerjoin(messages, messages.c.id == i.message_id))
                     .where(i.id == item_id)).first()
    if r is None:
        raise NotFoundError(f"no evidence item {item_id}: `inboxrel evidence` lists the ids")
    ref = _ref(r.source, r.header_id, r.message_id, r.source_ref)
    email = r.email or ""
    key = (r.source, ref, email, r.kind)
    exists = conn.execute(select(evidence_rejections.c.id).where(
        evidence_rejections.c.source == key[0], evidence_rejections.c.ref == key[1],
        evidence_rejections.c.email == key[2], evidence_rejections.c.kind == key[3])).first()
    if exists is None:
        conn.execute(insert(evidence_rejections).values(
            source=r.source, ref=ref, email=email, kind=r.kind, medium=r.medium, at=r.at, sentence=r.sentence,
            reason=reason, interaction_id=r.id, created_at=to_db(now)))
    conn.execute(delete(interactions).where(i.id == item_id))
    return {"id": item_id, "rejected": True, "source": r.source, "ref": ref, "email": email, "kind": r.kind,
            "reason": reason}


def rejected_keys(conn, refs: list[str]) -> set[tuple[str, str, str, str]]:
    """The (source, ref, email, kind) keys rejected among ``refs``."""
    out: set[tuple[str, str, str, str]] = set()
    refs = list(dict.fromkeys(x for x in refs if x))
    for k in range(0, len(refs), 500):
        part = refs[k:k + 500]
        out.update((r.source, r.ref, r.email, r.kind) for r in conn.execute(
            select(evidence_rejections.c.source, evidence_rejections.c.ref, evidence_rejections.c.email,
                   evidence_rejections.c.kind).where(evidence_rejections.c.ref.in_(part))))
    return out


def drop_rejected(conn, rows: list[dict]) -> list[dict]:
    """``rows`` (interaction rows about to be saved) without the ones the user rejected."""
    if not rows or conn.execute(select(evidence_rejections.c.id).limit(1)).first() is None:
        return rows
    mids = {r["message_id"] for r in rows if r.get("message_id") is not None}
    header: dict[int, str | None] = {}
    for k in range(0, len(mids), 500):
        part = list(mids)[k:k + 500]
        header.update((m.id, m.message_id) for m in conn.execute(
            select(messages.c.id, messages.c.message_id).where(messages.c.id.in_(part))))
    pids = {r["person_id"] for r in rows}
    email_of = {p.id: p.email for p in conn.execute(
        select(people.c.id, addresses.c.email).join(addresses, addresses.c.id == people.c.primary_address_id)
        .where(people.c.id.in_(pids)))}

    def key(r):
        ref = _ref(r["source"], header.get(r.get("message_id")), r.get("message_id"), r["source_ref"])
        return (r["source"], ref, email_of.get(r["person_id"], ""), r["kind"])

    keys = [key(r) for r in rows]
    bad = rejected_keys(conn, [k[1] for k in keys])
    return [r for r, k in zip(rows, keys) if k not in bad]
