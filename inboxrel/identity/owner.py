"""Who I am: my addresses, my delegates, and the addresses proposed as mine, each with its evidence.

One row per (account, address) in ``account_addresses``; ``source`` says what the address is to the account:

- ``given``: mine, because the user said so (``--me``, the config, ``account add-me``); discovery never
  changes it;
- ``discovered``: mine, from the mailbox (see :func:`discover_identity`);
- ``delegate``: someone who sends from my sent folders under their own name (an assistant): that mail is
  my sent mail for the people it goes to, but the delegate is neither me nor a relationship candidate;
- ``proposed``: carries my name or surname, or fits it, without enough evidence: listed, never assumed;
- ``removed``: the user said it is not mine (``account remove-me``); discovery never adds it back.

Discovery reads the owner's name first (from the address most received mail is sent to, else from the
addresses the user gave, else from the address that dominates the sent folders), then classifies the
sent folders' senders and the addresses that fit that name. Every count is one SQL aggregate.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, case, delete, func, insert, or_, select, update

from inboxrel.clock import to_db
from inboxrel.errors import NotFoundError, UsageError
from inboxrel.identity.names import PersonName, address_fits, name_fits, split_name
from inboxrel.models import account_addresses, addresses, folders, locations, messages, participants, people

MINE = ("given", "discovered")
DELEGATE, PROPOSED, REMOVED = "delegate", "proposed", "removed"
DISCOVER_SHARE = 0.10  # without a name to go by: an address sending this share of the sent folders is mine
DISCOVER_MIN = 3  # messages in the sent folders before a sender is mine (or a delegate) at all
RECEIVED_MIN = 2  # received messages addressed to an address that fits my name before it is mine
TOP_RECIPIENTS = 5  # received mail's most frequent recipients read for the owner's name
RECENT = 20_000  # newest messages whose recipients the owner's name is read from
OWNER_SHARE = 0.05  # of that personal received mail, addressed to the address the owner's name is read from


# -- what the lead's evidence code and the reports ask ------------------------------------------------------

def my_person_ids(conn) -> set[int]:
    """The people who are me (normally one: every address of mine belongs to it)."""
    return {r.id for r in conn.execute(select(people.c.id).where(people.c.is_me.is_(True)))}


def delegate_person_ids(conn) -> set[int]:
    """The people who send on my behalf (assistants): never me, never a relationship candidate."""
    q = (select(addresses.c.person_id).join(account_addresses, account_addresses.c.address_id == addresses.c.id)
         .where(account_addresses.c.source == DELEGATE).distinct())
    return {r.person_id for r in conn.execute(q)} - my_person_ids(conn)


def mine_clause():
    """``account_addresses`` rows that make an address mine."""
    return account_addresses.c.source.in_(MINE)


# -- the user's word ---------------------------------------------------------------------------------------

def add_my_addresses(engine, account_id: int, emails, source: str, evidence: str | None = None, *,
                     now: datetime) -> list[str]:
    """Record addresses as mine for the account (creating them); return the ones that became mine.

    ``given`` (the user) overrides anything recorded before; ``discovered`` never overrides the user's
    ``removed`` nor an address already mine.
    """
    from inboxrel.pipelines.parse import normalize_address

    added = []
    with engine.begin() as conn:
        for raw in emails:
            email = normalize_address(raw)
            if not email:
                raise UsageError(f"{raw!r} is not an email address: give one like me@example.com")
            aid = _ensure_address(conn, email, now)
            have = conn.execute(select(account_addresses.c.source).where(
                account_addresses.c.account_id == account_id, account_addresses.c.address_id == aid)).scalar()
            if have in MINE or (have == REMOVED and source != "given"):
                continue
            conn.execute(delete(account_addresses).where(account_addresses.c.account_id == account_id,
                                                         account_addresses.c.address_id == aid))
            conn.execute(insert(account_addresses).values(account_id=account_id, address_id=aid, source=source,
                                                          evidence=evidence))
            if have == DELEGATE:
                conn.execute(update(addresses).where(addresses.c.id == aid, addresses.c.automated == DELEGATE)
                             .values(automated=None))
            added.append(email)
        settle_me(conn, now)
    return added


def remove_my_address(engine, account_id: int, email_in: str, *, now: datetime) -> str:
    """The user says the address is not mine: it leaves me for good (later imports never add it back)."""
    from inboxrel.pipelines.parse import normalize_address

    email = normalize_address(email_in)
    with engine.begin() as conn:
        aid = conn.execute(select(addresses.c.id).where(addresses.c.email == (email or ""))).scalar()
        if aid is None:
            raise NotFoundError(f"no address {email_in!r} in the store: `inboxrel account show` lists the addresses")
        conn.execute(delete(account_addresses).where(account_addresses.c.account_id == account_id,
                                                     account_addresses.c.address_id == aid))
        conn.execute(insert(account_addresses).values(account_id=account_id, address_id=aid, source=REMOVED,
                                                      evidence=f"removed by the user on {now.date().isoformat()}"))
        conn.execute(update(addresses).where(addresses.c.id == aid, addresses.c.automated == DELEGATE)
                     .values(automated=None))
        settle_me(conn, now)
    return email


def _ensure_address(conn, email: str, now: datetime) -> int:
    row = conn.execute(select(addresses.c.id).where(addresses.c.email == email)).first()
    if row:
        return row.id
    pid = conn.execute(insert(people).values(name=None, created_at=to_db(now))).inserted_primary_key[0]
    aid = conn.execute(insert(addresses).values(email=email, person_id=pid)).inserted_primary_key[0]
    conn.execute(update(people).where(people.c.id == pid).values(primary_address_id=aid))
    return aid


def settle_me(conn, now: datetime) -> None:
    """All my addresses belong to one person marked ``is_me``; an address no longer mine leaves it."""
    from inboxrel.identity.people import _move_person

    mine_ids = {r.id for r in conn.execute(select(addresses.c.id).join(
        account_addresses, account_addresses.c.address_id == addresses.c.id).where(mine_clause()))}
    pids = sorted({r.person_id for r in conn.execute(select(addresses.c.person_id)
                                                     .where(addresses.c.id.in_(mine_ids)))}) if mine_ids else []
    keep = pids[0] if pids else None
    for other in pids[1:]:
        _move_person(conn, other, keep)
    # an address of the me person that was removed or is a delegate becomes a person of its own
    not_mine = {r.address_id for r in conn.execute(select(account_addresses.c.address_id).where(
        account_addresses.c.source.in_((REMOVED, DELEGATE))))} - mine_ids
    for pid in {r.id for r in conn.execute(select(people.c.id).where(people.c.is_me.is_(True)))} | ({keep} - {None}):
        for a in conn.execute(select(addresses.c.id, addresses.c.name).where(addresses.c.person_id == pid)).all():
            if a.id in not_mine:
                new_pid = conn.execute(insert(people).values(name=a.name, primary_address_id=a.id, is_me=False,
                                                             created_at=to_db(now))).inserted_primary_key[0]
                conn.execute(update(addresses).where(addresses.c.id == a.id).values(person_id=new_pid))
    conn.execute(update(people).where(people.c.is_me.is_(True), people.c.id != (keep or -1)).values(is_me=False))
    if keep is not None:
        conn.execute(update(people).where(people.c.id == keep).values(is_me=True, automated=None))


# -- discovery --------------------------------------------------------------------------------------------

def _sent_folder_ids(conn, account_id: int) -> list[int]:
    return [r.id for r in conn.execute(select(folders.c.id).where(folders.c.account_id == account_id,
                                                                  folders.c.kind == "sent"))]


def _recent_cut(conn, account_id: int, recent: int = 0) -> int | None:
    """The id below the account's ``recent`` newest messages (None when it has fewer)."""
    return conn.execute(select(messages.c.id).where(messages.c.account_id == account_id)
                        .order_by(messages.c.id.desc()).offset(recent or RECENT).limit(1)).scalar()


def _names_of(conn, address_ids, cut: int | None = None) -> dict[int, dict[str, int]]:
    """{address id: {display name: messages}} over every role, From names counted twice (over the messages
    after ``cut`` only, when given)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    ids = list(address_ids)
    if not ids:
        return out
    weight = func.sum(case((participants.c.role == "from", 2), else_=1))
    q = (select(participants.c.address_id, participants.c.name, weight.label("n"))
         .where(participants.c.address_id.in_(ids), participants.c.name.is_not(None), participants.c.name != "")
         .group_by(participants.c.address_id, participants.c.name))
    if cut is not None:
        q = q.where(participants.c.message_id > cut)
    for r in conn.execute(q):
        out[r.address_id][r.name] = int(r.n)
    return out


def owner_name(conn, account_id: int, *, sent=None, received=None) -> tuple[PersonName | None, str]:
    """The owner's name and where it was read: the address most received mail is sent to, else the
    addresses the user gave, else the sent folders' main sender. A name read from mail counts only when the
    address fits it (a list address, or a colleague's name on my address, would not)."""
    given = [r.address_id for r in conn.execute(select(account_addresses.c.address_id).where(
        account_addresses.c.account_id == account_id, account_addresses.c.source == "given"))]
    if sent is None:
        sent = sent_senders(conn, account_id)
    if received is None:
        received = received_recipients(conn, account_id)
    auto = {r.id for r in conn.execute(select(addresses.c.id).where(addresses.c.automated.is_not(None),
                                                                    addresses.c.automated != DELEGATE))}
    least = OWNER_SHARE * _received_total(conn, account_id)  # a list archive has no such recipient
    top_received = [a for a, n in sorted(received.items(), key=lambda x: -x[1])
                    if a not in auto and n >= least][:TOP_RECIPIENTS]
    top_sent = [a for a, _ in sorted(sent.items(), key=lambda x: -x[1]) if a not in auto][:TOP_RECIPIENTS]
    emails = dict(conn.execute(select(addresses.c.id, addresses.c.email)
                               .where(addresses.c.id.in_(given + top_received + top_sent))).all())
    names = _names_of(conn, emails, _recent_cut(conn, account_id))
    # received mail first: the addresses the user gave are surely mine, but one may be shared (a household
    # address in a relative's name), while the address most mail is sent to is the owner's own
    for ids, where, strict in ((top_received, "the address most received mail is sent to", True),
                               (given, "the addresses you gave", False),
                               (top_sent, "the main sender of the sent folders", True)):
        for aid in ids:
            ranked = sorted(names.get(aid, {}).items(), key=lambda x: -x[1])
            for text, _n in ranked:
                pn = split_name(text)
                if pn and (not strict or address_fits(emails[aid], pn) in ("full", "first")):
                    return pn, f"{where} ({emails[aid]})"
    return None, ""


def sent_senders(conn, account_id: int) -> dict[int, int]:
    """{From address id: distinct messages} in the account's sent folders."""
    sent_ids = _sent_folder_ids(conn, account_id)
    if not sent_ids:
        return {}
    q = (select(messages.c.from_address_id, func.count(func.distinct(messages.c.id)))
         .select_from(locations.join(messages, messages.c.id == locations.c.message_id))
         .where(locations.c.folder_id.in_(sent_ids), messages.c.from_address_id.is_not(None))
         .group_by(messages.c.from_address_id))
    return {a: n for a, n in conn.execute(q)}


def _received_filter(conn, account_id: int, q, only):
    """Mail of the account not in a sent folder: all of it for the addresses in ``only``, else the personal
    mail (not list, newsletter or notification mail) among the newest ``RECENT`` messages."""
    q = q.where(messages.c.account_id == account_id)
    if only is not None:
        q = q.where(participants.c.address_id.in_(list(only)))
    else:
        q = q.where(messages.c.automated.is_(None))
        cut = _recent_cut(conn, account_id)
        if cut is not None:
            q = q.where(messages.c.id > cut)
    sent_ids = _sent_folder_ids(conn, account_id)
    if sent_ids:
        q = q.where(messages.c.id.not_in(select(locations.c.message_id).where(locations.c.folder_id.in_(sent_ids))))
    return q


def received_recipients(conn, account_id: int, only=None) -> dict[int, int]:
    """{address id: messages} over the To/Cc of received mail (see :func:`_received_filter`).

    Without ``only`` the count is over recent personal mail, what the owner's name is read from (the cost
    stays flat as the store grows); with ``only``, over all of the account's received mail.
    """
    if only is not None and not only:
        return {}
    q = (select(participants.c.address_id, func.count())
         .select_from(participants.join(messages, messages.c.id == participants.c.message_id))
         .where(participants.c.role.in_(("to", "cc")))
         .group_by(participants.c.address_id))
    return {a: n for a, n in conn.execute(_received_filter(conn, account_id, q, only))}


def _received_total(conn, account_id: int) -> int:
    """How many messages :func:`received_recipients` (without ``only``) counts over."""
    q = select(func.count()).select_from(messages)
    return conn.execute(_received_filter(conn, account_id, q, None)).scalar() or 0


def discover_identity(engine, account_id: int, now: datetime) -> list[tuple[str, str]]:
    """Classify the account's addresses as mine, delegate or proposed (see the module docstring).

    Returns (address, evidence) for each address that became mine. The user's ``given`` and ``removed``
    rows are never changed; a ``discovered`` address found to be a delegate becomes one.
    """
    with engine.connect() as conn:
        sent = sent_senders(conn, account_id)
        received = received_recipients(conn, account_id)
        owner, where = owner_name(conn, account_id, sent=sent, received=received)
        have = {r.address_id: r.source for r in conn.execute(
            select(account_addresses.c.address_id, account_addresses.c.source)
            .where(account_addresses.c.account_id == account_id))}
        rows = conn.execute(select(addresses.c.id, addresses.c.email, addresses.c.name, addresses.c.automated)).all()
        sent_names = _names_of(conn, sent, _recent_cut(conn, account_id))
    total = sum(sent.values())
    decided: dict[int, tuple[str, str]] = {}
    info = {r.id: r for r in rows}
    if owner is None:
        # no name to go by: the senders that dominate the sent folders are mine, and no one is a delegate
        for aid, n in sent.items():
            if n >= DISCOVER_MIN and n >= DISCOVER_SHARE * total and not info[aid].automated:
                decided[aid] = ("discovered", f"From address of {n} of {total} messages in the sent folders")
    else:
        who = f"the owner's name {owner.text!r}"
        for aid, n in sent.items():
            r = info[aid]
            if r.automated and r.automated != DELEGATE:
                continue
            named = sorted(sent_names.get(aid, {}).items(), key=lambda x: -x[1])
            fit = next((f for f in (name_fits(t, owner) for t, _ in named) if f), None)
            as_name = f" as {named[0][0]!r}" if named else ""
            if fit == "full" or (fit is None and not named and address_fits(r.email, owner) == "full"):
                why = "the name is" if fit else "the address fits"
                decided[aid] = ("discovered", f"From address of {n} of {total} messages in the sent folders"
                                              f"{as_name}; {why} {who}")
            elif n >= DISCOVER_MIN:
                decided[aid] = (DELEGATE, f"sent {n} of {total} messages in the sent folders{as_name}, "
                                          f"not {who}: mail sent on the owner's behalf")
        fitting = []
        for r in rows:
            if r.id in decided or (r.automated and r.automated != DELEGATE):
                continue
            by_addr = address_fits(r.email, owner)
            if by_addr == "first":  # marie@anywhere is no evidence of being Marie Heard
                by_addr = None
            by_name = name_fits(r.name, owner) if r.name else None
            if by_addr or by_name:
                fitting.append((r, by_addr, by_name))
        with engine.connect() as conn:
            received = received_recipients(conn, account_id, only=[r.id for r, _, _ in fitting])
        for r, by_addr, by_name in fitting:
            n = received.get(r.id, 0)
            if by_addr == "full" and by_name in (None, "full") and (n >= RECEIVED_MIN or by_name == "full"):
                ev = (f"in To/Cc of {n} received messages" if n else f"writes as {r.name!r}") \
                     + f"; the address fits {who}"
                decided[r.id] = ("discovered", ev)
            else:
                what = "name" if (by_name == "full" or by_addr == "full") else "surname"
                shown = f"name {r.name!r}" if by_name else "address"
                seen = f"; in To/Cc of {n} received messages" if n else ""
                decided[r.id] = (PROPOSED, f"its {shown} shares the owner's {what} ({owner.text}){seen}: "
                                           f"not assumed to be mine")
    became_mine = []
    with engine.begin() as conn:
        conn.execute(delete(account_addresses).where(account_addresses.c.account_id == account_id,
                                                     account_addresses.c.source == PROPOSED))
        have = {a: s for a, s in have.items() if s != PROPOSED}  # proposals are made afresh each time
        for aid, (source, evidence) in decided.items():
            old = have.get(aid)
            if old in ("given", REMOVED) or (old == "discovered" and source == PROPOSED):
                continue
            if old == source:  # the same verdict: keep its evidence up to date with the mail
                conn.execute(update(account_addresses).where(account_addresses.c.account_id == account_id,
                                                             account_addresses.c.address_id == aid)
                             .values(evidence=evidence))
                continue
            conn.execute(delete(account_addresses).where(account_addresses.c.account_id == account_id,
                                                         account_addresses.c.address_id == aid))
            conn.execute(insert(account_addresses).values(account_id=account_id, address_id=aid, source=source,
                                                          evidence=evidence))
            if source == "discovered":
                became_mine.append((info[aid].email, evidence))
        if any(s != PROPOSED for s, _ in decided.values()):
            _mark_delegates(conn)
            settle_me(conn, now)
    return became_mine


def _mark_delegates(conn) -> None:
    """Delegates' addresses are flagged ``automated = 'delegate'``: no rule, report or evidence takes them
    for a correspondent; an address that stopped being a delegate loses the flag."""
    delegates = select(account_addresses.c.address_id).where(account_addresses.c.source == DELEGATE)
    conn.execute(update(addresses).where(addresses.c.id.in_(delegates)).values(automated=DELEGATE))
    conn.execute(update(addresses).where(addresses.c.automated == DELEGATE, addresses.c.id.not_in(delegates))
                 .values(automated=None))


def apply_delegates(conn) -> int:
    """A delegate's mail in one of my sent folders is my sent mail; return the messages changed."""
    from inboxrel.pipelines.save import refresh_threads

    pairs = conn.execute(select(account_addresses.c.account_id, account_addresses.c.address_id)
                         .where(account_addresses.c.source == DELEGATE)).all()
    if not pairs:
        return 0
    changed = 0
    touched: set[int] = set()
    for account_id, aid in pairs:
        sent_ids = _sent_folder_ids(conn, account_id)
        if not sent_ids:
            continue
        todo = conn.execute(select(messages.c.id, messages.c.thread_id).where(
            messages.c.from_address_id == aid, messages.c.direction != "sent",
            messages.c.id.in_(select(locations.c.message_id).where(locations.c.folder_id.in_(sent_ids))))).all()
        if todo:
            conn.execute(update(messages).where(messages.c.id == bindparam("mid")).values(direction="sent"),
                         [{"mid": r.id} for r in todo])
            touched |= {r.thread_id for r in todo if r.thread_id is not None}
            changed += len(todo)
    if touched:
        refresh_threads(conn, touched)
    return changed


def identity_rows(conn, account_id: int) -> dict:
    """What ``account show`` prints: the owner's name and every address of the account with its status."""
    order = {"given": 0, "discovered": 0, DELEGATE: 1, PROPOSED: 2, REMOVED: 3}
    rows = conn.execute(select(addresses.c.email, account_addresses.c.source, account_addresses.c.evidence)
                        .join(account_addresses, account_addresses.c.address_id == addresses.c.id)
                        .where(account_addresses.c.account_id == account_id)).all()
    status = {"given": "me", "discovered": "me", DELEGATE: "delegate", PROPOSED: "proposed", REMOVED: "removed"}
    out = [{"email": r.email, "status": status.get(r.source, r.source), "source": r.source,
            "evidence": r.evidence} for r in sorted(rows, key=lambda r: (order.get(r.source, 9), r.email))]
    return {"me": [r for r in out if r["status"] == "me"],
            "delegates": [r for r in out if r["status"] == "delegate"],
            "proposed": [r for r in out if r["status"] == "proposed"],
            "removed": [r for r in out if r["status"] == "removed"]}


def candidate_clause():
    """A clause on ``people`` true for those who may be relationship candidates: not me, not a delegate."""
    return or_(people.c.automated.is_(None), people.c.automated != DELEGATE) & people.c.is_me.is_(False)


def account_identity(conn, account_id: int) -> dict:
    """:func:`identity_rows` plus the owner's name and where it was read."""
    name, where = owner_name(conn, account_id)
    return {"owner_name": name.text if name else None, "owner_name_from": where or None,
            **identity_rows(conn, account_id)}
