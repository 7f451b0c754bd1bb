"""Save stage: write parsed messages into the store, idempotently, one transaction per batch.

A batch's messages, their copies (locations), addresses, threads and the folder's sync state are committed
together, so a run killed at any point leaves the store as it was after the last whole batch, and a re-run
adds exactly what is missing. Copies of a message already stored (same content fingerprint, or same
Message-ID with content that agrees: see :func:`same_message`) only add a location: counts are always over
distinct messages. A reused or forged Message-ID on other content is another message.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, insert, select, update

from inboxrel.clock import as_utc, to_db
from inboxrel.models import (
    account_addresses,
    accounts,
    addresses,
    folders,
    locations,
    messages,
    participants,
    people,
    quarantine,
    thread_keys,
    threads,
)
from inboxrel.pipelines.classify import classify_sender
from inboxrel.pipelines.parse import ParsedMessage, fingerprint_of

log = logging.getLogger(__name__)

SUBJECT_WINDOW = timedelta(days=30)  # replies without References join a same-subject thread this recent
MESSAGE_COLUMNS = ("id", "thread_id", "account_id", "message_id", "fingerprint", "date", "tz_offset", "subject",
                   "subject_norm", "from_address_id", "direction", "automated", "recipient_count", "in_reply_to",
                   "references", "size", "body_text", "body_hash", "has_body", "has_calendar", "analyzed_version",
                   "created_at")
THREAD_COLUMNS = ("subject", "first_at", "last_at", "message_count", "sent_count", "received_count",
                  "last_message_id", "last_from_address_id", "awaiting")
ROLES = (("from", "from_"), ("to", "to"), ("cc", "cc"), ("bcc", "bcc"), ("reply-to", "reply_to"))


# Secondary indexes that nothing on the save path reads. A sync into a small store (a first sync, mostly)
# builds them once at its end, sorted, instead of updating eight B-trees message by message (a fifth of
# the writer's CPU).
DEFERRED_INDEXES = ("ix_messages_date", "ix_messages_direction", "ix_messages_from_address_id",
                    "ix_messages_account_date", "ix_participants_address_id", "ix_locations_message_id",
                    "ix_threads_last_at", "ix_addresses_person_id")
BULK_MAX_STORED = 20_000  # a store with fewer messages than this defers them (see bulk_indexes)


def _deferred_indexes() -> list:
    from inboxrel.models import metadata

    found = [ix for table in metadata.tables.values() for ix in table.indexes if ix.name in DEFERRED_INDEXES]
    assert len(found) == len(DEFERRED_INDEXES), "DEFERRED_INDEXES names an index the models do not have"
    return found


def ensure_indexes(engine) -> None:
    """Build any of :data:`DEFERRED_INDEXES` that is missing (a first sync killed before its end)."""
    with engine.begin() as conn:
        for index in _deferred_indexes():
            index.create(conn, checkfirst=True)


@contextmanager
def bulk_indexes(engine) -> Iterator[bool]:
    """Around a sync: while the store is small, drop :data:`DEFERRED_INDEXES` for the block's duration.

    A store of fewer than :data:`BULK_MAX_STORED` messages is at its first sync or close to it: rebuilding
    the indexes over what it holds costs less than maintaining them row by row for what is coming.
    Yields whether they were dropped. Whatever is missing is built when the block ends, even by an error;
    a run killed meanwhile leaves them to the end of the next sync (queries stay right without them, only
    slower).
    """
    with engine.connect() as conn:
        small = conn.execute(select(messages.c.id).limit(1).offset(BULK_MAX_STORED - 1)).first() is None
    if small:
        with engine.begin() as conn:
            for index in _deferred_indexes():
                index.drop(conn, checkfirst=True)
    try:
        yield small
    finally:
        ensure_indexes(engine)


def allocate_ids(conn, table, n: int) -> list[int]:
    """Reserve ``n`` primary keys, so a batch is inserted with one ``executemany`` and no RETURNING.

    PostgreSQL hands them out from the table's sequence; SQLite gives max(id)+1 onwards (the import holds
    the store's write lock, so nobody else is inserting).
    """
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, {int(n)})")
        return [r[0] for r in rows]
    start = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
    return list(range(start, start + n))


def _placeholder(conn) -> str:
    """The driver's positional parameter marker, for SQL sent straight to it."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def insert_rows(conn, table, columns: Sequence[str], rows: list[tuple]) -> None:
    """INSERT many rows (tuples in the order of ``columns``) through the driver's executemany: several
    times faster than Core for big batches.

    Values are plain Python (naive UTC datetimes, str, int, bool, bytes).
    """
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    mark = _placeholder(conn)
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    conn.exec_driver_sql(sql, rows)


def fast_insert(conn, table, rows: list[dict]) -> None:
    """:func:`insert_rows` for dicts that all have the same keys."""
    if rows:
        cols = list(rows[0])
        insert_rows(conn, table, cols, [tuple(r[c] for c in cols) for r in rows])


def update_rows(conn, table, columns: Sequence[str], rows: list[tuple], key: str = "id") -> None:
    """UPDATE many rows by primary key through the driver's executemany; each row is the values of
    ``columns`` followed by the key."""
    if not rows:
        return
    quote = conn.dialect.identifier_preparer.quote
    mark = _placeholder(conn)
    sql = (f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(c)} = {mark}' for c in columns)} "
           f"WHERE {quote(key)} = {mark}")
    conn.exec_driver_sql(sql, rows)


def role_pairs(p: ParsedMessage):
    """(role, display name, address) for every participant of a parsed message."""
    if p.from_:
        yield "from", p.from_[0], p.from_[1]
    for role, attr in ROLES[1:]:
        for name, email in getattr(p, attr):
            yield role, name, email


@dataclass
class Item:
    """One copy of a message handed to the save stage: parsed, or with the reason it could not be."""

    key: str
    parsed: ParsedMessage | None = None
    error: str | None = None
    path: str | None = None
    raw: bytes | None = None  # kept in the quarantine when there is no path to point at
    uid: int | None = None
    flags: str | None = None


class _AfterFailed(Exception):
    """``save_batch``'s ``after`` step failed; the batch was rolled back (the cause is ``__cause__``)."""

    def __init__(self, count: int):
        super().__init__(count)
        self.count = count


@dataclass
class BatchResult:
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    saved: list[tuple[int, ParsedMessage]] = field(default_factory=list)  # (messages.id, parsed) of new rows


def ensure_account(engine, name: str, kind: str, now: datetime) -> int:
    """Return the id of account ``name``, creating it."""
    with engine.begin() as conn:
        row = conn.execute(select(accounts.c.id).where(accounts.c.name == name)).first()
        if row:
            return row.id
        return conn.execute(insert(accounts).values(name=name, kind=kind, created_at=to_db(now))).inserted_primary_key[0]


def ensure_folder(engine, account_id: int, name: str, kind: str, source: str | None = None, special_use=None) -> int:
    with engine.begin() as conn:
        row = conn.execute(select(folders.c.id, folders.c.kind).where(
            folders.c.account_id == account_id, folders.c.name == name)).first()
        if row:
            if row.kind != kind or source is not None:
                values = {"kind": kind}
                if source is not None:
                    values["source"] = source
                if special_use is not None:
                    values["special_use"] = special_use
                conn.execute(update(folders).where(folders.c.id == row.id).values(**values))
            return row.id
        return conn.execute(insert(folders).values(
            account_id=account_id, name=name, kind=kind, source=source, special_use=special_use)).inserted_primary_key[0]


def my_addresses(conn, account_id: int | None = None) -> set[str]:
    """Every address of mine (of one account, or of all accounts: people are shared across accounts)."""
    q = select(addresses.c.email).join(account_addresses, account_addresses.c.address_id == addresses.c.id) \
        .where(account_addresses.c.source.in_(("given", "discovered")))  # not delegates, proposals, removals
    if account_id is not None:
        q = q.where(account_addresses.c.account_id == account_id)
    return {r.email for r in conn.execute(q)}


LOOKUP_CHUNK = 500  # values per IN (...) when a batch looks its keys up in the store's indexes
ADDRESS_CACHE = 50_000  # addresses kept between batches (the frequent correspondents); cleared past this


def lookup(conn, column, values: Iterable, *extra) -> list:
    """Rows of ``column``'s table whose ``column`` is one of ``values``, through its index, in chunks.

    ``extra`` are the other columns to return; each row is (value, *extra).
    """
    values = sorted({v for v in values if v is not None})
    rows: list = []
    for i in range(0, len(values), LOOKUP_CHUNK):
        rows += conn.execute(select(column, *extra).where(column.in_(values[i:i + LOOKUP_CHUNK]))).all()
    return rows


# Body hashes are compared only for messages this small: an IMAP body text is fetched up to the account's
# ``body_max_bytes`` (256 KiB by default), so a bigger message's hash over IMAP may be of a cut text.
BODY_TRUST_BYTES = 256 * 1024


@dataclass(frozen=True)
class Identity:
    """What tells two messages with one Message-ID apart: the parts of their fingerprint."""

    sender: str | None
    date: datetime | None  # aware UTC
    subject_norm: str
    recipients: frozenset[str]  # To and Cc
    body_hash: str | None
    size: int
    fingerprint: str

    @classmethod
    def of(cls, p: ParsedMessage) -> Identity:
        return cls(p.from_[1] if p.from_ else None, p.date, p.subject_norm or "",
                   frozenset(a for _, a in p.to + p.cc), p.body_hash, p.size or 0, p.fingerprint)

    def has_text_key(self) -> bool:
        """Whether a fingerprint without a body hash has the start of the text in it (an IMAP header fetch
        with ``BODY.PEEK[TEXT]<0.2048>``), rather than the headers alone."""
        return self.fingerprint != fingerprint_of(self.sender, self.date, self.subject_norm, self.recipients)


def same_message(a: Identity, b: Identity) -> bool:
    """Whether two messages with one Message-ID are copies of one message, rather than a reused or forged ID.

    Copies when their fingerprints agree. Otherwise the sender, the date, the subject and the recipients
    must agree, and so must whatever both sides know of the body: the body hashes when both have one (and
    neither message is big enough for its IMAP text to have been cut), or the start of the text when
    neither has a body hash and both fingerprints were taken over it. A side that lacks what the other's
    fingerprint needs (headers fetched over IMAP against a file's decoded body) cannot disagree about it.
    """
    if a.fingerprint == b.fingerprint:
        return True
    if (a.sender, a.date, a.subject_norm, a.recipients) != (b.sender, b.date, b.subject_norm, b.recipients):
        return False
    if a.body_hash and b.body_hash:
        return a.body_hash == b.body_hash or max(a.size, b.size) > BODY_TRUST_BYTES
    if a.body_hash is None and b.body_hash is None:
        return not (a.has_text_key() and b.has_text_key())  # both took the text's start, and it differs
    return True


def stored_identities(conn, message_ids: Iterable[str]) -> dict[str, list[tuple[int, Identity]]]:
    """{Message-ID: [(messages.id, Identity)]} of the stored messages with those Message-IDs, oldest first."""
    rows: list = []
    values = sorted({v for v in message_ids if v})
    sender = addresses.alias("sender")
    cols = (messages.c.id, messages.c.message_id, messages.c.fingerprint, messages.c.date, messages.c.subject_norm,
            messages.c.body_hash, messages.c.size, sender.c.email)
    for i in range(0, len(values), LOOKUP_CHUNK):
        rows += conn.execute(select(*cols).select_from(
            messages.outerjoin(sender, sender.c.id == messages.c.from_address_id))
            .where(messages.c.message_id.in_(values[i:i + LOOKUP_CHUNK]))).all()
    recipients: dict[int, set[str]] = {r.id: set() for r in rows}
    ids = sorted(recipients)
    for i in range(0, len(ids), LOOKUP_CHUNK):
        for mid, email in conn.execute(
                select(participants.c.message_id, addresses.c.email)
                .join(addresses, addresses.c.id == participants.c.address_id)
                .where(participants.c.message_id.in_(ids[i:i + LOOKUP_CHUNK]),
                       participants.c.role.in_(("to", "cc")))):
            recipients[mid].add(email)
    out: dict[str, list[tuple[int, Identity]]] = {}
    for r in sorted(rows, key=lambda r: r.id):
        out.setdefault(r.message_id, []).append((r.id, Identity(
            r.email, as_utc(r.date) if r.date else None, r.subject_norm or "", frozenset(recipients[r.id]),
            r.body_hash, r.size or 0, r.fingerprint)))
    return out


class MailWriter:
    """Writes one account's parsed messages, a batch in a few queries and ``executemany`` calls.

    Nothing of the store is mirrored in memory: each batch looks up its Message-IDs, fingerprints, thread
    keys and addresses in the store's indexes (a query per kind and 500 values), so the writer's memory
    does not grow with the store, and adding ten messages to a big store costs what ten messages cost.
    Between batches it keeps only a bounded cache of addresses; a batch that fails takes back what it
    added to that cache (its undo list) as the transaction rolls back.
    """

    def __init__(self, engine, account_id: int, *, now: datetime, store_bodies: bool = True):
        self.engine = engine
        self.account_id = account_id
        self.now = now
        self.store_bodies = store_bodies
        self.me: set[str] | None = None
        self.addr: dict[str, int] = {}  # bounded cache: email -> addresses.id
        self._added: list[str] = []  # the batch's undo list: emails it put into ``addr``

    def known_keys(self, folder_id: int) -> set[str]:
        with self.engine.connect() as conn:
            return {r.key for r in conn.execute(select(locations.c.key).where(locations.c.folder_id == folder_id))}

    def set_me(self, emails: Iterable[str]) -> None:
        self.me = set(emails)

    # -- the batch ----------------------------------------------------------------------------------
    def save_batch(self, folder_id: int, items: list[Item], folder_state: dict | None = None,
                   after: Callable[[object, list], None] | None = None) -> BatchResult:
        """Save a batch and the folder's new sync state in one transaction.

        ``after(conn, saved)`` runs inside that transaction with the batch's new messages
        ([(messages.id, ParsedMessage)]), so what it writes (their evidence) commits with them or not at all.
        When ``after`` fails, the batch is saved again without it, and the failure logged: evidence that
        cannot be extracted must not stop the mail from being stored (``inboxrel reanalyze`` tries again).
        """
        try:
            return self._save_batch(folder_id, items, folder_state, after)
        except _AfterFailed as failed:
            cause = failed.__cause__
            log.warning("the evidence of %d new messages could not be extracted (%s: %s); they are saved "
                        "without it: run `inboxrel reanalyze` to try again", failed.count,
                        type(cause).__name__, str(cause).splitlines()[0][:200] if str(cause) else "")
            return self._save_batch(folder_id, items, folder_state, None)

    def _save_batch(self, folder_id: int, items: list[Item], folder_state: dict | None, after) -> BatchResult:
        self._added = []
        try:
            with self.engine.begin() as conn:
                if self.me is None:
                    self.me = my_addresses(conn)
                result = self._save(conn, folder_id, items)
                if folder_state:
                    conn.execute(update(folders).where(folders.c.id == folder_id).values(**folder_state))
                if after is not None and result.saved:
                    try:
                        after(conn, result.saved)
                    except Exception as exc:
                        raise _AfterFailed(len(result.saved)) from exc
            return result
        except BaseException:
            for email in self._added:  # their rows were rolled back with the batch
                self.addr.pop(email, None)
            raise
        finally:
            self._added = []

    def _save(self, conn, folder_id: int, items: list[Item]) -> BatchResult:
        res = BatchResult()
        now_db = to_db(self.now)
        parsed = [item.parsed for item in items if item.parsed is not None]
        by_msgid = stored_identities(conn, (p.message_id for p in parsed))
        by_fp = dict(lookup(conn, messages.c.fingerprint, (p.fingerprint for p in parsed), messages.c.id))
        q_rows, loc_rows, new_items = [], [], []
        batch_fp: dict[str, ParsedMessage] = {}
        batch_mid: dict[str, list[tuple[ParsedMessage, Identity]]] = {}
        for item in items:
            if item.parsed is None:
                raw = item.raw or b""
                sha = hashlib.sha1(raw if raw else (item.path or item.key).encode()).hexdigest()
                q_rows.append({"account_id": self.account_id, "folder_id": folder_id, "key": item.key,
                               "path": item.path, "raw": None if item.path else raw, "sha1": sha,
                               "reason": item.error or "unknown", "created_at": now_db})
                continue
            p = item.parsed
            me = Identity.of(p) if p.message_id else None
            existing = by_fp.get(p.fingerprint)
            if existing is None and me is not None:  # a Message-ID match is a copy only if the content agrees
                existing = next((mid for mid, other in by_msgid.get(p.message_id, ()) if same_message(me, other)),
                                None)
            if existing is None:
                existing = batch_fp.get(p.fingerprint)
            if existing is None and me is not None:
                existing = next((q for q, other in batch_mid.get(p.message_id, ()) if same_message(me, other)), None)
            if existing is not None:
                loc_rows.append({"_msg": existing, "folder_id": folder_id, "key": item.key, "uid": item.uid,
                                 "flags": item.flags, "gone": False})
                res.duplicates += 1
                continue
            batch_fp[p.fingerprint] = p
            if me is not None:
                batch_mid.setdefault(p.message_id, []).append((p, me))
            new_items.append((item, p))
            loc_rows.append({"_msg": p, "folder_id": folder_id, "key": item.key, "uid": item.uid,
                             "flags": item.flags, "gone": False})
        if q_rows:
            known = {r.sha1 for r in conn.execute(select(quarantine.c.sha1).where(
                quarantine.c.sha1.in_([r["sha1"] for r in q_rows])))}
            fresh = {r["sha1"]: r for r in q_rows if r["sha1"] not in known}
            if fresh:
                conn.execute(insert(quarantine), list(fresh.values()))
            res.quarantined = len(q_rows)
        ids: dict[int, int] = {}
        if new_items:
            addr = self._save_addresses(conn, [p for _, p in new_items])
            for (_item, p), mid in zip(new_items, allocate_ids(conn, messages, len(new_items))):
                ids[id(p)] = mid
            assign = self._thread(conn, [(ids[id(p)], p) for _, p in new_items])
            insert_rows(conn, messages, MESSAGE_COLUMNS,
                        [self._message_row(p, ids[id(p)], assign[ids[id(p)]], addr, now_db) for _, p in new_items])
            part_rows = []
            for (_item, p) in new_items:
                mid = ids[id(p)]
                res.saved.append((mid, p))
                seen = set()
                for role, name, email in role_pairs(p):
                    if (email, role) in seen:
                        continue
                    seen.add((email, role))
                    part_rows.append((mid, addr[email], role, name or None))
            insert_rows(conn, participants, ("message_id", "address_id", "role", "name"), part_rows)
            refresh_threads(conn, set(assign.values()))
            res.new = len(new_items)
        if loc_rows:
            for r in loc_rows:
                msg = r.pop("_msg")
                r["message_id"] = msg if isinstance(msg, int) else ids[id(msg)]
            keys = [r["key"] for r in loc_rows]
            have = {r.key for r in conn.execute(select(locations.c.key).where(
                locations.c.folder_id == folder_id, locations.c.key.in_(keys)))} if keys else set()
            fresh_locs = {r["key"]: r for r in loc_rows if r["key"] not in have}
            fast_insert(conn, locations, list(fresh_locs.values()))
        return res

    def _save_addresses(self, conn, parsed: list[ParsedMessage]) -> dict[str, int]:
        """{email: addresses.id} for every participant of ``parsed``, creating the addresses not yet stored."""
        names: dict[str, str] = {}
        for p in parsed:
            for _role, name, email in role_pairs(p):
                if email not in names or (name and not names[email]):
                    names[email] = name
        out = {e: self.addr[e] for e in names if e in self.addr}
        missing = [e for e in names if e not in out]
        if len(self.addr) + len(missing) > ADDRESS_CACHE:
            self.addr.clear()  # bounded: the next batches fill it again with who writes now
            self._added = []
        for email, aid in lookup(conn, addresses.c.email, missing, addresses.c.id):
            out[email] = self.addr[email] = aid
        emails = [e for e in missing if e not in out]
        if emails:
            now_db = to_db(self.now)
            pids = allocate_ids(conn, people, len(emails))
            aids = allocate_ids(conn, addresses, len(emails))
            fast_insert(conn, people, [{"id": pid, "name": names[e] or None, "created_at": now_db,
                                        "automated": classify_sender(e), "is_me": False}
                                       for e, pid in zip(emails, pids)])
            # people.primary_address_id is set by identity.refresh_people once the import settles
            fast_insert(conn, addresses, [{"id": aid, "email": e, "name": names[e] or None, "person_id": pid,
                                           "automated": classify_sender(e)} for e, pid, aid in zip(emails, pids, aids)])
            for e, aid in zip(emails, aids):
                out[e] = self.addr[e] = aid
                self._added.append(e)
        return out

    def _message_row(self, p: ParsedMessage, mid: int, thread_id: int, addr: dict[str, int], now_db) -> tuple:
        """The values of :data:`MESSAGE_COLUMNS` for a new message."""
        sender = p.from_[1] if p.from_ else None
        recipients = {a for _, a in p.to + p.cc + p.bcc}
        return (mid, thread_id, self.account_id, p.message_id, p.fingerprint, to_db(p.date), p.tz_offset,
                p.subject, p.subject_norm, addr[sender] if sender else None,
                direction_of(sender, recipients, self.me or set()), p.automated, len(recipients), p.in_reply_to,
                " ".join(p.references) or None, p.size, p.body if self.store_bodies else None, p.body_hash,
                p.body is not None, bool(p.calendars), None, now_db)

    # -- threads (JWZ over Message-IDs, subject fallback) ---------------------------------------------
    def _thread(self, conn, new: list[tuple[int, ParsedMessage]]) -> dict[int, int]:
        """Place each new message in a thread; return {message id: thread id}.

        The batch's thread keys are looked up in ``thread_keys`` first. Two threads that a message joins
        merge: the batch records which thread became which (``merged_into``, followed to the end by
        ``find``) instead of rewriting every key it holds, and the store moves the old thread's messages
        and keys by its indexed ``thread_id`` columns, so a merge costs the size of the merged thread.
        """
        order = sorted(new, key=lambda x: (x[1].date is None, x[1].date or datetime.min))
        keys_of: dict[int, tuple[list[str], str | None]] = {}
        wanted: set[str] = set()
        for mid, p in order:
            ids = ([p.message_id] if p.message_id else []) + p.references + ([p.in_reply_to] if p.in_reply_to else [])
            skey = "s:" + p.subject_norm[:900] if len(p.subject_norm) >= 3 else None
            keys_of[mid] = (ids, skey)
            wanted.update(ids)
            if skey:
                wanted.add(skey)
        tkeys: dict[str, int] = dict(lookup(conn, thread_keys.c.key, wanted, thread_keys.c.thread_id))
        stored = set(tkeys)  # keys that have a row already: updated, not inserted
        tlast: dict[int, datetime | None] = {
            tid: as_utc(last) for tid, last in lookup(conn, threads.c.id, set(tkeys.values()), threads.c.last_at)}
        merged_into: dict[int, int] = {}

        def find(t: int) -> int:
            while t in merged_into:
                t = merged_into[t]
            return t

        assign: dict[int, int] = {}
        new_threads: list[int] = []
        spare_ids = iter(allocate_ids(conn, threads, len(new)))  # at most one new thread per message
        key_rows: dict[str, int] = {}
        merges: list[tuple[int, int]] = []
        for mid, p in order:
            ids, skey = keys_of[mid]
            found = sorted({find(tkeys[k]) for k in ids if k in tkeys})
            tid = found[0] if found else None
            for other in found[1:]:
                merges.append((other, tid))
                merged_into[other] = tid
                last_old, last_keep = tlast.pop(other, None), tlast.get(tid)
                if last_old and (last_keep is None or last_old > last_keep):
                    tlast[tid] = last_old
            if tid is None and skey and skey in tkeys:
                cand = find(tkeys[skey])
                last = tlast.get(cand)
                if p.date is None or last is None or abs(p.date - last) <= SUBJECT_WINDOW:
                    tid = cand
            if tid is None:
                tid = next(spare_ids)
                new_threads.append(tid)
                tlast[tid] = p.date
            elif p.date and (tlast.get(tid) is None or p.date > tlast[tid]):
                tlast[tid] = p.date
            assign[mid] = tid
            for k in ids + ([skey] if skey else []):
                if k not in tkeys or find(tkeys[k]) != tid:
                    tkeys[k] = tid
                    key_rows[k] = tid
        merged = set(merged_into)
        insert_rows(conn, threads, ("id", "message_count", "sent_count", "received_count"),
                    [(t, 0, 0, 0) for t in new_threads if t not in merged])
        for old, keep in merges:
            conn.execute(update(messages).where(messages.c.thread_id == old).values(thread_id=keep))
            conn.execute(update(thread_keys).where(thread_keys.c.thread_id == old).values(thread_id=keep))
            conn.execute(delete(threads).where(threads.c.id == old))
        key_rows = {k: find(t) for k, t in key_rows.items()}
        insert_rows(conn, thread_keys, ("key", "thread_id"), [kt for kt in key_rows.items() if kt[0] not in stored])
        update_rows(conn, thread_keys, ("thread_id",), [(t, k) for k, t in key_rows.items() if k in stored], key="key")
        return {m: find(t) for m, t in assign.items()}


def direction_of(sender: str | None, recipients: set[str], me: set[str]) -> str:
    """``sent`` when I wrote it to someone, ``self`` between my own addresses, else ``received``."""
    if sender and sender in me:
        return "sent" if recipients - me else "self"
    return "received"


def _fetch_tuples(conn, sql: str, params: tuple) -> list[tuple]:
    """Rows as the driver returns them (plain tuples), on the connection's transaction: for queries that
    return thousands of rows in the save path, where SQLAlchemy's Row objects cost more than the query."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def refresh_threads(conn, thread_ids: Iterable[int]) -> None:
    """Recompute each thread's counts, first/last message, who wrote last and who owes a reply."""
    ids = sorted(set(thread_ids))
    mark = _placeholder(conn)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        # (id, thread, date, direction, from address, automated, subject): tuples straight from the driver
        rows = _fetch_tuples(
            conn, "SELECT id, thread_id, date, direction, from_address_id, automated, subject FROM messages "
                  f"WHERE thread_id IN ({', '.join([mark] * len(chunk))})", tuple(chunk))
        by_thread: dict[int, list] = {}
        for r in rows:
            by_thread.setdefault(r[1], []).append(r)
        updates = []
        for tid in chunk:
            msgs = by_thread.get(tid)
            if not msgs:
                continue
            # dates come back as ISO text on SQLite and as datetimes on PostgreSQL: either way they sort, and
            # are written back as they came; undated messages go last ("" is only compared with "")
            msgs.sort(key=lambda r: (r[2] is None, r[2] or "", r[0]))
            dated = [m for m in msgs if m[2] is not None]
            first = dated[0] if dated else msgs[0]
            last = dated[-1] if dated else msgs[-1]
            sent = received = 0
            personal = False
            for m in msgs:
                if m[3] == "sent":
                    sent += 1
                elif m[3] == "received":
                    received += 1
                if m[5] is None:
                    personal = True
            awaiting = None
            if last[5] is None and personal:
                if last[3] == "received":
                    awaiting = "me"
                elif last[3] == "sent":
                    awaiting = "them"
            updates.append((first[6], first[2], last[2], len(msgs), sent, received,
                            last[0], last[4], awaiting, tid))
        update_rows(conn, threads, THREAD_COLUMNS, updates)


def refresh_directions(conn) -> int:
    """Recompute every message's direction from the current set of my addresses; return rows changed."""
    me = my_addresses(conn)
    me_ids = {r.id for r in conn.execute(select(addresses.c.id).where(addresses.c.email.in_(me)))} if me else set()
    rows = conn.execute(select(messages.c.id, messages.c.from_address_id, messages.c.direction)).all()
    recips: dict[int, set[int]] = {}
    if me_ids:
        for r in conn.execute(select(participants.c.message_id, participants.c.address_id)
                              .where(participants.c.role.in_(("to", "cc", "bcc")))):
            recips.setdefault(r.message_id, set()).add(r.address_id)
    changes = []
    for r in rows:
        if r.from_address_id in me_ids:
            d = "sent" if recips.get(r.id, set()) - me_ids else "self"
        else:
            d = "received"
        if d != r.direction:
            changes.append({"mid": r.id, "d": d})
    if changes:
        conn.execute(update(messages).where(messages.c.id == bindparam("mid")).values(direction=bindparam("d")),
                     changes)
        tids = {r.thread_id for r in conn.execute(select(messages.c.thread_id).where(
            messages.c.id.in_([c["mid"] for c in changes])))} if len(changes) < 30000 else \
            {r.id for r in conn.execute(select(threads.c.id))}
        refresh_threads(conn, [t for t in tids if t is not None])
    return len(changes)


def folder_state_json(state: dict) -> str:
    return json.dumps(state, sort_keys=True)
