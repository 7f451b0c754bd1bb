"""Who I am and who is who: my own addresses, and merging the addresses of one person.

Automatic merges use evidence a person would accept (the same full display name used from several
addresses, a Reply-To that names the sender's other address) and are recorded in ``identity_events`` with
that evidence; ``people merge`` / ``people split`` are the user's corrections, and automatic merging never
re-joins what the user split.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, insert, select, update

from inboxrel.clock import to_db
from inboxrel.errors import AmbiguousError, NotFoundError, UsageError
from inboxrel.models import (
    account_addresses,
    addresses,
    folders,
    identity_events,
    locations,
    messages,
    participants,
    people,
)

DISCOVER_SHARE = 0.10  # an address sending at least this share of the sent folders' mail is mine
DISCOVER_MIN = 3
_NAME_WS = re.compile(r"[\s._]+")
_NOT_A_NAME = re.compile(r"@|\d|^(the|team|admin|support|info|mailer|postmaster|undisclosed)\b", re.I)


def normalize_name(name: str | None) -> str | None:
    """'Allen, Phillip K.' and 'Phillip K Allen' both give 'allen k phillip'; None for non-names."""
    if not name:
        return None
    name = name.strip().strip("'\"").strip()
    if _NOT_A_NAME.search(name):
        return None
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    tokens = [t.strip(".-'").lower() for t in _NAME_WS.split(name) if t.strip(".-'")]
    if len(tokens) < 2 or len("".join(tokens)) < 5:
        return None
    return " ".join(sorted(tokens))


def add_my_addresses(engine, account_id: int, emails, source: str, evidence: str | None = None, *,
                     now: datetime) -> list[str]:
    """Record addresses as mine for the account (creating them); return the ones that were new."""
    from inboxrel.pipelines.parse import normalize_address

    added = []
    with engine.begin() as conn:
        for raw in emails:
            email = normalize_address(raw)
            if not email:
                raise UsageError(f"{raw!r} is not an email address")
            aid = _ensure_address(conn, email, now)
            have = conn.execute(select(account_addresses.c.source).where(
                account_addresses.c.account_id == account_id, account_addresses.c.address_id == aid)).first()
            if have:
                continue
            conn.execute(insert(account_addresses).values(account_id=account_id, address_id=aid, source=source,
                                                          evidence=evidence))
            added.append(email)
        _merge_me(conn)
    return added


def _ensure_address(conn, email: str, now: datetime) -> int:
    row = conn.execute(select(addresses.c.id).where(addresses.c.email == email)).first()
    if row:
        return row.id
    pid = conn.execute(insert(people).values(name=None, created_at=to_db(now))).inserted_primary_key[0]
    aid = conn.execute(insert(addresses).values(email=email, person_id=pid)).inserted_primary_key[0]
    conn.execute(update(people).where(people.c.id == pid).values(primary_address_id=aid))
    return aid


def _merge_me(conn) -> None:
    """All my addresses belong to one person, marked ``is_me``."""
    pids = sorted({r.person_id for r in conn.execute(
        select(addresses.c.person_id).join(account_addresses, account_addresses.c.address_id == addresses.c.id))})
    if not pids:
        return
    keep = pids[0]
    for other in pids[1:]:
        _move_person(conn, other, keep)
    conn.execute(update(people).where(people.c.id == keep).values(is_me=True, automated=None))


def discover_me(engine, account_id: int, now: datetime) -> list[tuple[str, int, int]]:
    """Propose the From addresses that dominate the sent folders; store them as the account's own.

    Returns (address, messages from it, messages in the sent folders) for each address newly stored.
    """
    with engine.connect() as conn:
        sent_folder_ids = [r.id for r in conn.execute(select(folders.c.id).where(
            folders.c.account_id == account_id, folders.c.kind == "sent"))]
        if not sent_folder_ids:
            return []
        rows = conn.execute(
            select(addresses.c.email, func.count(func.distinct(messages.c.id)))
            .select_from(locations.join(messages, messages.c.id == locations.c.message_id)
                         .join(addresses, addresses.c.id == messages.c.from_address_id))
            .where(locations.c.folder_id.in_(sent_folder_ids))
            .group_by(addresses.c.email)
        ).all()
    total = sum(n for _, n in rows)
    proposed = [(email, n) for email, n in rows if n >= DISCOVER_MIN and n >= DISCOVER_SHARE * total]
    if not proposed:
        return []
    added = []
    for email, n in sorted(proposed, key=lambda x: -x[1]):
        ev = f"From address of {n} of {total} messages in the sent folders"
        if add_my_addresses(engine, account_id, [email], "discovered", ev, now=now):
            added.append((email, n, total))
    return added


# -- people: automatic merges -------------------------------------------------------------------------

def _user_separated(conn) -> set[frozenset[int]]:
    """Address pairs the user split apart: automatic merging must not join them again."""
    pairs = set()
    for r in conn.execute(select(identity_events.c.address_ids, identity_events.c.person_id,
                                 identity_events.c.other_person_id)
                          .where(identity_events.c.kind == "split", identity_events.c.by_user.is_(True),
                                 identity_events.c.undone_at.is_(None))):
        moved = json.loads(r.address_ids)
        stay = [a.id for a in conn.execute(select(addresses.c.id).where(addresses.c.person_id == r.person_id))]
        for a in moved:
            for b in stay:
                pairs.add(frozenset((a, b)))
    return pairs


def merge_people_automatically(engine, now: datetime) -> int:
    """Merge addresses that evidently belong to one person; return how many merges were made."""
    merged = 0
    with engine.begin() as conn:
        separated = _user_separated(conn)
        me_pids = {r.id for r in conn.execute(select(people.c.id).where(people.c.is_me.is_(True)))}
        info = {r.id: r for r in conn.execute(select(addresses.c.id, addresses.c.email, addresses.c.person_id,
                                                     addresses.c.automated))}
        # 1. the same full display name used by the sender from several addresses
        names: dict[str, Counter] = defaultdict(Counter)
        for r in conn.execute(select(participants.c.address_id, participants.c.name)
                              .where(participants.c.role == "from", participants.c.name.is_not(None))):
            norm = normalize_name(r.name)
            if norm:
                names[norm][r.address_id] += 1
        groups = []
        for norm, counter in names.items():
            ids = [a for a in counter if info[a].automated is None]
            if len(ids) > 1:
                groups.append((f"same name {norm!r} used as sender from each address", ids))
        # 2. Reply-To naming another personal address of the sender (not a list)
        rt = conn.execute(
            select(messages.c.from_address_id, participants.c.address_id)
            .join(participants, and_(participants.c.message_id == messages.c.id, participants.c.role == "reply-to"))
            .where(messages.c.automated.is_(None), messages.c.from_address_id.is_not(None))
            .distinct()
        ).all()
        for sender, reply in rt:
            if sender != reply and info[sender].automated is None and info[reply].automated is None \
                    and _same_mailbox_owner(info[sender].email, info[reply].email):
                groups.append(("Reply-To names the sender's other address", [sender, reply]))
        for reason, ids in groups:
            pids = sorted({_person_of(conn, a) for a in ids})
            if len(pids) < 2 or set(pids) & me_pids and not set(pids) <= me_pids:
                continue
            if any(frozenset((a, b)) in separated for a in ids for b in ids if a != b):
                continue
            keep = pids[0]
            for other in pids[1:]:
                moved = _move_person(conn, other, keep)
                conn.execute(insert(identity_events).values(
                    kind="merge", by_user=False, person_id=keep, other_person_id=other,
                    address_ids=json.dumps(moved), reason=reason, created_at=to_db(now)))
                merged += 1
    return merged


def _same_mailbox_owner(a: str, b: str) -> bool:
    """Reply-To is often a list or an assistant; only trust it when the local parts share a name part."""
    la = set(re.split(r"[._+-]", a.split("@")[0])) - {""}
    lb = set(re.split(r"[._+-]", b.split("@")[0])) - {""}
    return bool({t for t in la & lb if len(t) >= 3})


def _person_of(conn, address_id: int) -> int:
    return conn.execute(select(addresses.c.person_id).where(addresses.c.id == address_id)).scalar_one()


def _move_person(conn, other: int, keep: int) -> list[int]:
    """Move every address of person ``other`` to ``keep``; return the moved address ids."""
    moved = [r.id for r in conn.execute(select(addresses.c.id).where(addresses.c.person_id == other))]
    conn.execute(update(addresses).where(addresses.c.person_id == other).values(person_id=keep))
    keep_row = conn.execute(select(people.c.name).where(people.c.id == keep)).first()
    other_row = conn.execute(select(people.c.name, people.c.is_me).where(people.c.id == other)).first()
    values = {}
    if keep_row and not keep_row.name and other_row and other_row.name:
        values["name"] = other_row.name
    if other_row and other_row.is_me:
        values["is_me"] = True
    if values:
        conn.execute(update(people).where(people.c.id == keep).values(**values))
    _move_person_refs(conn, other, keep)
    return moved


def _move_person_refs(conn, other: int, keep: int) -> None:
    """Evidence, numbers, circles and feedback follow the addresses to the kept person."""
    from inboxrel.models import circle_members, feedback, ignores, interactions, phone_numbers

    # one message may be evidence for both people (mail to both addresses): keep a single row
    mine = interactions.alias("mine")
    dupes = select(interactions.c.id).where(
        interactions.c.person_id == other,
        select(mine.c.id).where(mine.c.person_id == keep, mine.c.source == interactions.c.source,
                                mine.c.source_ref == interactions.c.source_ref, mine.c.kind == interactions.c.kind,
                                mine.c.medium == interactions.c.medium).exists())
    conn.execute(interactions.delete().where(interactions.c.id.in_(dupes.scalar_subquery())))
    for table in (interactions, feedback, ignores):
        conn.execute(update(table).where(table.c.person_id == other).values(person_id=keep))
    for table, key in ((phone_numbers, "e164"), (circle_members, "circle_id")):
        have = {r[0] for r in conn.execute(select(table.c[key]).where(table.c.person_id == keep))}
        for r in conn.execute(select(table.c[key]).where(table.c.person_id == other)).all():
            if r[0] in have:
                conn.execute(table.delete().where(table.c.person_id == other, table.c[key] == r[0]))
        conn.execute(update(table).where(table.c.person_id == other).values(person_id=keep))


def refresh_people(engine) -> None:
    """Primary address = the one used most; a person is automated when every address is."""
    with engine.begin() as conn:
        usage = Counter()
        for r in conn.execute(select(participants.c.address_id, func.count()).group_by(participants.c.address_id)):
            usage[r[0]] = r[1]
        per_person: dict[int, list] = defaultdict(list)
        for r in conn.execute(select(addresses.c.id, addresses.c.person_id, addresses.c.automated, addresses.c.name)):
            per_person[r.person_id].append(r)
        # addresses whose own mail is mostly newsletters/notifications are machines too
        auto_share = {}
        machine = case((messages.c.automated.in_(("newsletter", "notification", "role")), 1), else_=0)
        for r in conn.execute(select(messages.c.from_address_id, func.count().label("n"),
                                     func.sum(machine).label("auto")).group_by(messages.c.from_address_id)):
            if r.from_address_id is not None:
                auto_share[r.from_address_id] = (r.auto or 0) / r.n
        addr_updates, person_updates = [], []
        for pid, addrs in per_person.items():
            for a in addrs:
                if a.automated is None and auto_share.get(a.id, 0) > 0.5:
                    addr_updates.append({"aid": a.id, "auto": "notification"})
            kinds = [("notification" if auto_share.get(a.id, 0) > 0.5 and a.automated is None else a.automated)
                     for a in addrs]
            automated = kinds[0] if all(kinds) else None
            primary = max(addrs, key=lambda a: (usage.get(a.id, 0), -a.id))
            name = next((a.name for a in sorted(addrs, key=lambda a: -usage.get(a.id, 0)) if a.name), None)
            person_updates.append({"pid": pid, "primary": primary.id, "auto": automated, "name": name})
        if addr_updates:
            conn.execute(update(addresses).where(addresses.c.id == bindparam("aid"))
                         .values(automated=bindparam("auto")), addr_updates)
        if person_updates:
            conn.execute(update(people).where(people.c.id == bindparam("pid"), people.c.is_me.is_(False))
                         .values(primary_address_id=bindparam("primary"), automated=bindparam("auto"),
                                 name=func.coalesce(people.c.name, bindparam("name"))), person_updates)
            conn.execute(update(people).where(people.c.id == bindparam("pid"), people.c.is_me.is_(True))
                         .values(primary_address_id=bindparam("primary")), person_updates)


# -- people: the user's corrections --------------------------------------------------------------------

def resolve_person(conn, ref: str) -> int:
    """A person id from an address, a name or a unique prefix of either.

    Raises :class:`NotFoundError` when nothing matches and :class:`AmbiguousError` (with candidates) when
    several people do.
    """
    ref_l = ref.strip().lower()
    if ref_l.isdigit() and ref_l.startswith("#"):
        ref_l = ref_l[1:]
    row = conn.execute(select(addresses.c.person_id).where(addresses.c.email == ref_l)).first()
    if row:
        return row.person_id
    # people emptied by a merge keep their row (for undo) but no address: they are nobody now
    live = people.c.id.in_(select(addresses.c.person_id))
    exact = {r.id for r in conn.execute(select(people.c.id).where(func.lower(people.c.name) == ref_l, live))}
    if len(exact) == 1:
        return exact.pop()
    like = ref_l.replace("%", r"\%").replace("_", r"\_") + "%"
    by_addr = {r.person_id for r in conn.execute(select(addresses.c.person_id)
                                                 .where(addresses.c.email.like(like, escape="\\")))}
    by_name = {r.id for r in conn.execute(select(people.c.id).where(func.lower(people.c.name).like(like, escape="\\"),
                                                                    live))}
    found = exact or (by_addr | by_name)
    if not found:
        raise NotFoundError(f"no person matches {ref!r}: try an email address, or `inboxrel people` to list them")
    if len(found) > 1:
        cands = conn.execute(
            select(people.c.id, people.c.name, addresses.c.email)
            .join(addresses, addresses.c.id == people.c.primary_address_id).where(people.c.id.in_(found))
            .order_by(addresses.c.email)).all()
        listing = [f"{c.email} ({c.name})" if c.name else c.email for c in cands]
        raise AmbiguousError(f"{ref!r} matches {len(found)} people: {', '.join(listing[:10])}"
                             f"{' …' if len(listing) > 10 else ''}; give a full address", listing)
    return found.pop()


def merge_people(engine, a: str, b: str, now: datetime) -> dict:
    """Merge person ``b`` into person ``a`` (the user's decision); returns the event."""
    with engine.begin() as conn:
        keep, other = resolve_person(conn, a), resolve_person(conn, b)
        if keep == other:
            raise UsageError(f"{a} and {b} are already the same person")
        moved = _move_person(conn, other, keep)
        eid = conn.execute(insert(identity_events).values(
            kind="merge", by_user=True, person_id=keep, other_person_id=other, address_ids=json.dumps(moved),
            reason=f"merged by the user: {b} is {a}", created_at=to_db(now))).inserted_primary_key[0]
    refresh_people(engine)
    return {"event": eid, "person": keep, "moved": moved}


def split_address(engine, address: str, now: datetime) -> dict:
    """Detach one address from its person into a person of its own (the user's decision)."""
    from inboxrel.pipelines.parse import normalize_address

    email = normalize_address(address)
    with engine.begin() as conn:
        row = conn.execute(select(addresses.c.id, addresses.c.person_id, addresses.c.name)
                           .where(addresses.c.email == (email or ""))).first()
        if row is None:
            raise NotFoundError(f"no address {address!r} in the store: give one address as shown by `inboxrel person`")
        count = conn.execute(select(func.count()).where(addresses.c.person_id == row.person_id)).scalar()
        if count < 2:
            raise UsageError(f"{address} is the only address of its person; nothing to split")
        new_pid = conn.execute(insert(people).values(name=row.name, primary_address_id=row.id,
                                                     created_at=to_db(now))).inserted_primary_key[0]
        conn.execute(update(addresses).where(addresses.c.id == row.id).values(person_id=new_pid))
        eid = conn.execute(insert(identity_events).values(
            kind="split", by_user=True, person_id=row.person_id, other_person_id=new_pid,
            address_ids=json.dumps([row.id]), reason=f"split by the user: {email} is someone else",
            created_at=to_db(now))).inserted_primary_key[0]
    refresh_people(engine)
    return {"event": eid, "person": new_pid, "from_person": row.person_id}


def undo_event(engine, event_id: int, now: datetime) -> dict:
    """Undo a merge (its addresses go back to a person of their own) or a split."""
    with engine.begin() as conn:
        ev = conn.execute(select(identity_events).where(identity_events.c.id == event_id)).first()
        if ev is None:
            raise NotFoundError(f"no merge or split #{event_id}: `inboxrel people history` lists them")
        if ev.undone_at is not None:
            raise UsageError(f"#{event_id} was already undone")
        moved = json.loads(ev.address_ids)
        if ev.kind == "merge":
            exists = conn.execute(select(people.c.id).where(people.c.id == ev.other_person_id)).first()
            target = ev.other_person_id
            if not exists:
                first = conn.execute(select(addresses.c.name).where(addresses.c.id == moved[0])).scalar()
                target = conn.execute(insert(people).values(id=ev.other_person_id, name=first,
                                                            created_at=to_db(now))).inserted_primary_key[0]
            conn.execute(update(addresses).where(addresses.c.id.in_(moved)).values(person_id=target))
        else:
            conn.execute(update(addresses).where(addresses.c.id.in_(moved)).values(person_id=ev.person_id))
        conn.execute(update(identity_events).where(identity_events.c.id == event_id).values(undone_at=to_db(now)))
        if ev.kind == "merge":
            # an undone automatic merge must not come back on the next import
            conn.execute(insert(identity_events).values(
                kind="split", by_user=True, person_id=ev.person_id, other_person_id=ev.other_person_id,
                address_ids=ev.address_ids, reason=f"undo of merge #{event_id}", created_at=to_db(now)))
    refresh_people(engine)
    return {"event": event_id, "kind": ev.kind}


def history(engine) -> list[dict]:
    with engine.connect() as conn:
        emails = dict(conn.execute(select(addresses.c.id, addresses.c.email)).all())
        return [
            {"id": r.id, "kind": r.kind, "by_user": r.by_user, "person_id": r.person_id,
             "other_person_id": r.other_person_id, "addresses": [emails.get(a) for a in json.loads(r.address_ids)],
             "reason": r.reason, "at": r.created_at.isoformat() if r.created_at else None,
             "undone": r.undone_at is not None}
            for r in conn.execute(select(identity_events).order_by(identity_events.c.id))
        ]


def directions_stale(engine) -> bool:
    """True when mail from one of my addresses is still marked received (an address became mine)."""
    with engine.connect() as conn:
        mine = select(account_addresses.c.address_id)
        return conn.execute(select(messages.c.id).where(messages.c.from_address_id.in_(mine),
                                                        messages.c.direction == "received").limit(1)).first() is not None


def settle_identities(engine, account_ids, now: datetime, *, me_changed: bool = False,
                      full: bool = False) -> tuple[dict[int, list[str]], int]:
    """After new mail: confirm my addresses, fix directions when they may be wrong, merge people.

    Returns the addresses newly discovered per account and the number of automatic merges. Directions are
    recomputed over the whole store only when my addresses changed (or ``full``): that pass reads every
    message, and people are shared by accounts, so it runs once for all of them.
    """
    from inboxrel.pipelines.save import refresh_directions

    discovered = {aid: [e for e, _, _ in discover_me(engine, aid, now)] for aid in account_ids}
    if me_changed or full or any(discovered.values()) or directions_stale(engine):
        with engine.begin() as conn:
            refresh_directions(conn)
    merges = merge_people_automatically(engine, now)
    refresh_people(engine)
    return discovered, merges
