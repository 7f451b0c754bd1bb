"""People: merging the addresses of one person, the user's merges and splits, names and primary addresses.

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
from inboxrel.identity.names import address_fits, normalize_name, split_name
from inboxrel.models import (
    addresses,
    identity_events,
    messages,
    participants,
    people,
)

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
        # 1. the same full display name used by the sender from several addresses, each of which fits the
        # name (an assistant writing as her boss from her own address is not him)
        names: dict[str, Counter] = defaultdict(Counter)
        shown: dict[str, str] = {}
        for r in conn.execute(select(participants.c.address_id, participants.c.name, func.count().label("n"))
                              .where(participants.c.role == "from", participants.c.name.is_not(None))
                              .group_by(participants.c.address_id, participants.c.name)):
            norm = normalize_name(r.name)
            pn = split_name(r.name) if norm else None
            if norm and info[r.address_id].automated is None \
                    and (pn is None or address_fits(info[r.address_id].email, pn) is not None):
                names[norm][r.address_id] += r.n
                shown.setdefault(norm, r.name)
        groups = []
        for norm, counter in names.items():
            if len(counter) > 1:
                each = ", ".join(f"{info[a].email}: {n}" for a, n in sorted(counter.items(), key=lambda x: -x[1]))
                groups.append((f"same full name {shown[norm]!r} used as sender from each address ({each} "
                               f"messages), each address fitting the name", list(counter)))
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


def refresh_names(conn) -> int:
    """Each address's display name from all its mail: the most used From name, else the most used name in
    To/Cc lines; a notification sender keeps its service's name. Returns the addresses renamed.
    """
    from inboxrel.identity.names import service_name

    is_from = func.sum(case((participants.c.role == "from", 1), else_=0))
    q = (select(participants.c.address_id, participants.c.name, is_from.label("f"), func.count().label("n"))
         .where(participants.c.name.is_not(None), participants.c.name != "")
         .group_by(participants.c.address_id, participants.c.name))
    seen: dict[int, list] = defaultdict(list)
    for r in conn.execute(q):
        seen[r.address_id].append(r)
    if not seen:
        return 0
    current = {r.id: r for r in conn.execute(select(addresses.c.id, addresses.c.email, addresses.c.name,
                                                    addresses.c.automated))}
    changes = []
    for aid, rows in seen.items():
        row = current.get(aid)
        if row is None:
            continue
        # variants of one name ('Rangel, Ina' in X headers, 'Ina Rangel' in From) count together, and the
        # one written first name first is shown (a search for "Ina Rangel" finds it either way)
        groups: dict[str, list] = defaultdict(list)
        for r in rows:
            groups[normalize_name(r.name) or r.name].append(r)
        top = max(groups.values(), key=lambda g: (sum(r.f or 0 for r in g), sum(r.n for r in g), g[0].name))
        best = max(top, key=lambda r: ("," not in r.name, r.f or 0, r.n, r.name)).name
        from_names = {r.name: r.f for r in rows if r.f}
        if row.automated and row.automated != "delegate" and len(from_names) > 1 \
                and max(from_names.values()) < 0.8 * sum(from_names.values()):
            # "Ravi Shah" on notifications@codehub.example is whoever triggered the notice, not the sender
            best = service_name(row.email, from_names)
        if best != row.name:
            changes.append({"aid": aid, "name": best})
    if changes:
        conn.execute(update(addresses).where(addresses.c.id == bindparam("aid")).values(name=bindparam("name")),
                     changes)
    return len(changes)


def refresh_people(engine) -> None:
    """Primary address = the one used most; a person is automated when every address is."""
    with engine.begin() as conn:
        usage = Counter()
        for r in conn.execute(select(participants.c.address_id, func.count()).group_by(participants.c.address_id)):
            usage[r[0]] = r[1]
        from inboxrel.models import contacts

        carded = {r.person_id: r.name for r in conn.execute(
            select(contacts.c.person_id, contacts.c.name).where(contacts.c.person_id.is_not(None),
                                                                 contacts.c.name.is_not(None)))}
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
            # the name in the user's own contacts, else the name of the person's most used address that has
            # one: it follows the mail as it arrives
            name = carded.get(pid) or next(
                (a.name for a in sorted(addrs, key=lambda a: (-usage.get(a.id, 0), a.id)) if a.name), None)
            person_updates.append({"pid": pid, "primary": primary.id, "auto": automated, "name": name})
        if addr_updates:
            conn.execute(update(addresses).where(addresses.c.id == bindparam("aid"))
                         .values(automated=bindparam("auto")), addr_updates)
        if person_updates:
            conn.execute(update(people).where(people.c.id == bindparam("pid"), people.c.is_me.is_(False))
                         .values(primary_address_id=bindparam("primary"), automated=bindparam("auto"),
                                 name=func.coalesce(bindparam("name"), people.c.name)), person_updates)
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
    if not exact and not by_addr and not by_name and normalize_name(ref):
        # 'Kevin Hyatt' finds 'Hyatt, Kevin' (the same words in any order)
        want = normalize_name(ref)
        exact = {r.id for r in conn.execute(select(people.c.id, people.c.name).where(people.c.name.is_not(None), live))
                 if normalize_name(r.name) == want}
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
