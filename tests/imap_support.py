"""Helpers for the IMAP tests: an account for a test user, a checked sync, and a canonical dump of the store."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from inboxrel.config import AccountConfig
from inboxrel.models import (
    account_addresses,
    accounts,
    addresses,
    folders,
    interactions,
    locations,
    messages,
    participants,
    people,
    phone_numbers,
    quarantine,
)
from tests.servers_imap import PASSWORD

NOW = datetime(2002, 1, 5, 12, 0, tzinfo=timezone.utc)
ENV = {"IRPW": PASSWORD}


def account_for(server, user: str, name: str = "test", *, tls: str = "ssl", port: int | None = None, **extra):
    """An AccountConfig for ``user`` on the test Dovecot (IMAPS, or STARTTLS on the plain port)."""
    if port is None:
        port = server.imaps_port if tls == "ssl" else server.imap_port
    return AccountConfig(name=name, host="127.0.0.1", port=port, username=user, tls=tls, ca_file=str(server.cert),
                         password_env="IRPW", **extra)


def sync(engine, server, user: str, accounts_: list | None = None, *, now=NOW, **kw):
    """Run the library's ingest and assert the mailbox (every folder, UID and flag) is exactly as before."""
    from inboxrel.pipelines.ingest import ingest

    before = server.snapshot(user)
    kw.setdefault("backoff", 0.01)
    kw.setdefault("timeout", 10)
    summary = ingest(engine, accounts_ or [account_for(server, user)], now=now, environ=ENV, **kw)
    assert server.snapshot(user) == before, "ingest changed the mailbox"
    return summary


def store_dump(engine) -> dict:
    """Everything the store says about the mail, without row ids or anything else that depends on timing."""
    with engine.connect() as conn:
        email = {r.id: r.email for r in conn.execute(select(addresses.c.id, addresses.c.email))}
        fname = {r.id: r.name for r in conn.execute(select(folders.c.id, folders.c.name))}
        msgs = conn.execute(select(messages)).all()
        key = {m.id: f"{m.message_id}|{m.fingerprint}" for m in msgs}
        out_msgs = {key[m.id]: (m.date, m.subject, m.direction, m.automated, m.has_body, m.body_hash,
                                email.get(m.from_address_id), m.recipient_count, m.size, m.in_reply_to)
                    for m in msgs}
        locs = sorted(((key[r.message_id], fname[r.folder_id], r.key, r.uid, r.flags, r.gone)
                       for r in conn.execute(select(locations))), key=str)
        parts = sorted((key[r.message_id], email[r.address_id], r.role, r.name or "")
                       for r in conn.execute(select(participants)))
        threads: dict[int, set] = {}
        for m in msgs:
            threads.setdefault(m.thread_id, set()).add(key[m.id])
        by_person: dict[int, set] = {}
        for r in conn.execute(select(addresses.c.email, addresses.c.person_id)):
            by_person.setdefault(r.person_id, set()).add(r.email)
        person_rows = {r.id: r for r in conn.execute(select(people))}
        persons = sorted((tuple(sorted(v)), bool(person_rows[pid].is_me), person_rows[pid].name or "")
                         for pid, v in by_person.items())
        mine = sorted((r.name, email[r.address_id], r.source) for r in conn.execute(
            select(accounts.c.name, account_addresses.c.address_id, account_addresses.c.source)
            .join(account_addresses, account_addresses.c.account_id == accounts.c.id)))
        fold = sorted((r.name, r.kind, r.special_use, r.uidvalidity, r.uidnext, r.highest_uid, r.message_count,
                       r.highestmodseq, r.last_error) for r in conn.execute(select(folders)))
        quar = sorted((fname.get(r.folder_id), r.key, r.reason) for r in conn.execute(select(quarantine)))
        who = {pid: tuple(sorted(v)) for pid, v in by_person.items()}
        evidence = sorted(((who[r.person_id], r.kind, r.medium, r.at, r.source, key.get(r.message_id),
                            r.confidence, r.direction, r.sentence) for r in conn.execute(select(interactions))), key=repr)
        phones = sorted(((who[r.person_id], r.e164, r.label, r.first_seen, r.last_seen)
                         for r in conn.execute(select(phone_numbers))), key=repr)
    return {"messages": out_msgs, "locations": locs, "participants": parts,
            "threads": sorted(tuple(sorted(t)) for t in threads.values()), "people": persons,
            "mine": mine, "folders": fold, "quarantine": quar, "evidence": evidence, "phones": phones}


def count(engine, table, *where) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def folder_locations(engine, name: str) -> list:
    """(uid, flags, gone, message subject) of the copies in folder ``name``, by UID."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(locations.c.uid, locations.c.flags, locations.c.gone, messages.c.subject)
            .join(folders, folders.c.id == locations.c.folder_id)
            .join(messages, messages.c.id == locations.c.message_id)
            .where(folders.c.name == name).order_by(locations.c.uid, locations.c.key))]
