"""Sync IMAP accounts into the store: incremental per folder, read-only, crash-safe and resumable.

Per folder the store keeps UIDVALIDITY, the highest UID saved, UIDNEXT, HIGHESTMODSEQ and the number of
messages on the server (``folders`` columns). A run:

1. ``STATUS`` each folder it reads; a folder whose UIDVALIDITY, UIDNEXT, message count and HIGHESTMODSEQ
   are unchanged is done (servers without CONDSTORE cannot promise that flags did not change, so their
   folders are always looked at).
2. ``EXAMINE`` (read-only) the others. A new UIDVALIDITY starts a rescan: the old copies are set aside and,
   once the folder has been read again, copies found again are dropped and the rest marked gone.
3. Flags of known messages: only those changed since the stored HIGHESTMODSEQ (CONDSTORE), else all.
   Expunged messages (QRESYNC ``VANISHED``, or missing from a full flag list, or from ``UID SEARCH`` when
   the count does not add up) stay in the store, their copy marked ``gone``.
4. New UIDs in batches of 1,000: the header fields with the first 2 KB of the body text (for the content
   fingerprint, so copies under other Message-IDs merge as in a local import), and the body text (up to a
   size cap) only of messages received (INTERNALDATE) inside the body window whose Message-ID the store
   does not hold yet, so a body is fetched once. The next batches are fetched in a thread and, for big folders, parsed in a worker
   process while this one is saved. Each batch is saved with the folder's new state in one transaction:
   killed at any point, a re-run resumes after the last saved batch and ends with exactly what a clean
   run gives (batches always end at the same UIDs, so even threads and names come out the same).
5. After all folders: identities settle (my addresses, directions, automatic merges) when mail arrived;
   only then is each folder's UIDNEXT stored, so a run killed before that settles them on the next run.

A dropped connection or a timeout reconnects with exponential backoff and resumes the folder; after
``retries`` failures in a row without progress the account's remaining folders fail for this run.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, literal, select, update

from inboxrel import identity
from inboxrel.clock import to_db
from inboxrel.errors import AuthError, InboxrelError, PartialError, UnreachableError
from inboxrel.models import folders, locations, messages
from inboxrel.pipelines.imap import (
    ConnectionLost,
    FetchedMessage,
    FolderError,
    FolderStatus,
    ImapSession,
    RemoteFolder,
    choose_folders,
    fetch_session,
    parse_fetched,
)
from inboxrel.pipelines.local import is_sent_name
from inboxrel.pipelines.memory import bulk_collection
from inboxrel.pipelines.parse import normalize_address
from inboxrel.pipelines.save import (
    Item,
    MailWriter,
    bulk_indexes,
    ensure_account,
    ensure_folder,
    my_addresses,
)

POOL_MIN = 3000  # new messages in a folder from which parsing moves to a worker process
QUARANTINE_BYTES = 64 * 1024  # how much of an unusable message is kept in the quarantine
BATCH = 2000  # UIDs per saved transaction: fewer, bigger commits write each index page to the WAL fewer times
FETCH_SIZE = 1000  # UIDs per FETCH command (a 1,000-UID set stays far below the ~64 KB line limit)
MIN_FETCH = 50  # smallest FETCH after lost connections (see _sync_folder_with_retries)
RETRIES = 4  # connection failures in a row (without a saved batch in between) before an account gives up
BACKOFF = 2.0  # seconds before the first retry; doubles each time (2, 4, 8, 16)
TIMEOUT = 60.0  # seconds without an answer before a connection counts as lost
OLD_PREFIX = "old:"  # location keys of copies from before a UIDVALIDITY change

log = logging.getLogger("inboxrel.ingest")


class Progress:
    """Callbacks for long work; the CLI passes a progress bar with these methods."""

    def folder_start(self, name: str, total: int | None) -> None: ...

    def advance(self, n: int) -> None: ...

    def folder_done(self, summary) -> None: ...

    def waiting(self, what: str) -> None:
        """What the run waits for now (connecting, logging in, a retry's pause)."""


@dataclass
class FolderSummary:
    name: str
    kind: str
    special_use: str | None = None
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    gone: int = 0
    flags_changed: int = 0
    bodies: int = 0
    unchanged: bool = False  # nothing changed on the server since the last sync: not opened
    rescanned: bool = False  # UIDVALIDITY changed: read again from the start
    error: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class AccountSummary:
    account: str
    folders: list[FolderSummary] = field(default_factory=list)
    error: str | None = None  # the account failed as a whole (login, connection)
    error_kind: str | None = None  # auth | unreachable
    discovered: list[str] = field(default_factory=list)
    merges: int = 0

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.folders)

    @property
    def failed_folders(self) -> list[FolderSummary]:
        return [f for f in self.folders if f.error]

    def as_dict(self) -> dict:
        return {"account": self.account, "error": self.error, "error_kind": self.error_kind,
                "new": self.total("new"), "duplicates": self.total("duplicates"),
                "quarantined": self.total("quarantined"), "gone": self.total("gone"),
                "flags_changed": self.total("flags_changed"), "bodies": self.total("bodies"),
                "discovered_me": self.discovered, "merges": self.merges,
                "folders": [f.as_dict() for f in self.folders]}


@dataclass
class IngestSummary:
    accounts: list[AccountSummary] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, attr: str) -> int:
        return sum(a.total(attr) for a in self.accounts)

    def as_dict(self) -> dict:
        return {"new": self.total("new"), "duplicates": self.total("duplicates"),
                "quarantined": self.total("quarantined"), "gone": self.total("gone"),
                "flags_changed": self.total("flags_changed"), "bodies": self.total("bodies"),
                "seconds": round(self.seconds, 3), "ok": self.error() is None,
                "accounts": [a.as_dict() for a in self.accounts]}

    def error(self) -> InboxrelError | None:
        """The error this run ends with, or None when everything was synced.

        Every account failing the same way gives that error (auth 77, unreachable 69); anything else that
        failed while something else succeeded is partial (3).
        """
        failures = [a for a in self.accounts if a.error or a.failed_folders]
        if not failures:
            return None
        lines = []
        for a in failures:
            if a.error:
                lines.append(f"{a.account}: {a.error}")
            else:
                names = [f.name for f in a.failed_folders]
                first = a.failed_folders[0].error
                lines.append(f"{a.account}: {len(names)} folder(s) failed ({', '.join(names[:5])}"
                             f"{', ...' if len(names) > 5 else ''}): {first}")
        message = "; ".join(lines)
        whole = [a for a in failures if a.error]  # failed as a whole: no folder was synced
        if len(whole) == len(self.accounts):
            kinds = {a.error_kind for a in whole}
            if kinds == {"auth"}:
                return AuthError(message)
            if kinds == {"unreachable"}:
                return UnreachableError(message + "; the next run resumes where this one stopped")
        return PartialError(message + "; the rest was saved, and the next run resumes where this one stopped")


@dataclass
class _Context:
    engine: object
    writer: MailWriter
    account_id: int
    now: datetime
    full: bool
    progress: Progress
    after_batch: Callable[[object, list], None] | None
    window_start: datetime | None
    body_max: int
    on_saved: Callable[[], None]
    label: str = ""
    fetch_size: int = FETCH_SIZE  # UIDs per FETCH command; shrinks after a lost connection
    # Fetched but not yet saved, kept across reconnects (for one folder and UIDVALIDITY): a resumed batch
    # fetches only what it lacks. ``stale``: entries from an earlier connection, whose flags are re-read.
    unsaved: dict[int, FetchedMessage] = field(default_factory=dict)
    unsaved_key: tuple | None = None
    stale: set[int] = field(default_factory=set)

    def resume_cache(self, folder_id: int, uidvalidity: int) -> None:
        if self.unsaved_key != (folder_id, uidvalidity):
            self.unsaved.clear()
            self.unsaved_key = (folder_id, uidvalidity)
        self.stale = set(self.unsaved)
    completed: dict[int, int | None] = field(default_factory=dict)  # folder id -> UIDNEXT to store at the end
    settle: bool = False  # mail arrived (now or in a run killed before settling): identities need a pass
    body_ids: set[str] = field(default_factory=set)  # Message-IDs whose body text this run fetched
    me_added: bool = False  # the config named an address of mine the store did not know
    signals: bool = False  # compute the text signals of bodies next to the parse (for ``after_batch``)
    region: str = "US"  # default region phone numbers are read with
    parser: _Parser | None = None
    statuses: dict[str, FolderStatus] = field(default_factory=dict)  # read up front; see _inbox_status

    def parser_for(self, n_new: int) -> _Parser:
        """The worker-process parser once a folder is big enough to repay starting it, else inline parsing."""
        if self.parser is None and n_new >= POOL_MIN and (os.cpu_count() or 1) > 1:
            self.parser = _Parser(use_pool=True)
        return self.parser or _INLINE

    def close(self) -> None:
        if self.parser is not None:
            self.parser.close()


class _Link:
    """The account's connection: reconnects with backoff; gives up after ``retries`` failures in a row."""

    def __init__(self, account, credential, *, timeout, retries, backoff, sleep, end=None, deadline=None,
                 progress=None):
        self.account, self.credential = account, credential
        self.timeout, self.retries, self.backoff, self.sleep = timeout, retries, backoff, sleep
        self.end, self.deadline = end, deadline  # the run's end (time.monotonic()), its length in seconds
        self.progress = progress or Progress()
        self.failures = 0
        self.session: ImapSession | None = None

    def _left(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def _past_deadline(self, why) -> UnreachableError:
        return UnreachableError(f"{why} (the run's deadline of {self.deadline:g} s has passed: "
                                f"ingest_deadline in the config)")

    def get(self) -> ImapSession:
        while self.session is None or self.session.broken:
            self.close()
            left = self._left()
            if left is not None and left <= 0:
                raise self._past_deadline(f"{self.account.name}: no connection")
            try:
                self.session = fetch_session(self.account, self.credential,
                                             timeout=self.timeout if left is None else min(self.timeout, left),
                                             waiting=self.progress.waiting)
            except ConnectionLost as exc:
                self.failed(exc)
        return self.session

    def failed(self, exc: ConnectionLost) -> None:
        """Count a failure and wait before the next try; raise when the retries are used up, or when the
        wait would go past the run's deadline."""
        self.failures += 1
        if self.session is not None:
            self.session.broken = True
        if self.failures > self.retries:
            raise UnreachableError(f"{exc} (gave up after {self.failures} attempts)")
        delay = self.backoff * 2 ** (self.failures - 1)
        left = self._left()
        if left is not None and left <= delay:
            raise self._past_deadline(exc)
        log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", self.account.name, exc, delay,
                    self.failures + 1, self.retries + 1)
        self.progress.waiting(f"{exc}; retrying in {delay:g} s")
        self.sleep(delay)

    def close(self) -> None:
        if self.session is not None:
            self.session.logout()
            self.session = None


@bulk_collection()
def ingest(
    engine,
    accounts: Sequence,
    *,
    now: datetime,
    environ: Mapping[str, str],
    full: bool = False,
    store_bodies: bool = True,
    progress: Progress | None = None,
    after_batch: Callable[[object, list], None] | None = None,
    signals: bool = False,
    region: str = "US",
    retries: int = RETRIES,
    backoff: float = BACKOFF,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    deadline: float | None = None,
) -> IngestSummary:
    """Sync every account in ``accounts`` (AccountConfig objects); see the module docstring.

    ``environ`` is where ``password_env`` is looked up and what password commands run with.
    ``after_batch(conn, saved)`` runs inside each batch's transaction with [(messages.id, ParsedMessage)] of
    its new messages, so what it stores commits with them (see :meth:`MailWriter.save_batch`); with
    ``signals`` the parse step also computes the bodies' text signals for it (phone numbers read with
    ``region`` unless the account sets its own). Returns the summary; ``summary.error()`` is the error the
    run should end with (None when all went well). ``deadline`` (seconds) bounds the whole run's waits for
    its servers: no connection attempt or retry goes past it, and what remains then fails as unreachable.
    """
    started = time.perf_counter()
    end = time.monotonic() + deadline if deadline else None
    progress = progress or Progress()
    summary = IngestSummary()
    pending = []
    with bulk_indexes(engine):
        for account in accounts:
            acc_summary, ctx = _sync_account(engine, account, now=now, environ=environ, full=full,
                                             store_bodies=store_bodies, progress=progress, after_batch=after_batch,
                                             signals=signals, region=region, retries=retries, backoff=backoff,
                                             timeout=timeout, sleep=sleep, end=end, deadline=deadline)
            summary.accounts.append(acc_summary)
            if ctx is not None:
                pending.append((acc_summary, ctx))
    settle = [(a, c) for a, c in pending if c.settle or full]
    if settle:
        discovered, merges = identity.settle_identities(
            engine, [ctx.account_id for _, ctx in settle], now, full=full,
            me_changed=any(ctx.me_added for _, ctx in settle))
        for acc_summary, ctx in settle:
            acc_summary.discovered += discovered[ctx.account_id]
            with engine.connect() as conn:  # a sender sampled before the sync may have turned out a delegate
                mine = my_addresses(conn, ctx.account_id)
            acc_summary.discovered = sorted(set(acc_summary.discovered) & mine)
        settle[0][0].merges = merges
    for _acc_summary, ctx in pending:
        _store_uidnext(engine, ctx.completed)
    summary.seconds = time.perf_counter() - started
    return summary


def _sync_account(engine, account, *, now, environ, full, store_bodies, progress, after_batch, signals, region,
                  retries, backoff, timeout, sleep, end=None, deadline=None) -> tuple[AccountSummary, _Context | None]:
    from inboxrel.secrets import fetch_credential

    summary = AccountSummary(account.name)
    account_id = ensure_account(engine, account.name, "imap", now)
    me_added = bool(account.me and identity.add_my_addresses(engine, account_id, account.me, "given", now=now))
    _record_account(engine, account_id, now, None, started=True)
    link = None
    try:
        credential = fetch_credential(account, environ)
        link = _Link(account, credential, timeout=timeout or getattr(account, "timeout", None) or TIMEOUT,
                     retries=retries, backoff=backoff, sleep=sleep, end=end, deadline=deadline, progress=progress)
        while True:
            try:
                session = link.get()
                statuses = _inbox_status(session)
                remote = session.list_folders()
                break
            except ConnectionLost as exc:
                link.failed(exc)
    except (AuthError, UnreachableError) as exc:
        summary.error = str(exc)
        summary.error_kind = "auth" if isinstance(exc, AuthError) else "unreachable"
        log.error("%s: %s", account.name, exc)
        _record_account(engine, account_id, now, str(exc))
        if link is not None:
            link.close()
        return summary, None

    chosen = [f for f, reason in choose_folders(remote, account.include, account.exclude) if reason is None]
    kinds = {f.name: "sent" if f.special_use == "\\Sent" or is_sent_name(f.name) else "received" for f in chosen}
    chosen.sort(key=lambda f: (kinds[f.name] != "sent", f.name.upper() != "INBOX", f.name))
    with engine.connect() as conn:
        known_me = my_addresses(conn, account_id)
    if not known_me:
        # Learn my addresses from a sample of the sent folders before saving, so directions are right the
        # first time (a whole-store pass to fix them afterwards costs seconds on a big mailbox).
        guess = _sample_my_addresses(link, [f for f in chosen if kinds[f.name] == "sent"])
        if guess:
            evidence = "From address that dominates a sample of the sent folders"
            summary.discovered += identity.add_my_addresses(engine, account_id, guess, "discovered", evidence,
                                                                now=now)
    window = account.body_window_days
    ctx = _Context(engine=engine, writer=MailWriter(engine, account_id, now=now, store_bodies=store_bodies),
                   account_id=account_id, now=now, full=full, progress=progress, after_batch=after_batch,
                   window_start=now - timedelta(days=window) if window and window > 0 else None,
                   body_max=int(account.body_max_bytes or 0), on_saved=lambda: setattr(link, "failures", 0))
    ctx.label = account.name
    ctx.me_added = me_added
    ctx.signals = signals
    ctx.region = account.default_region or region
    ctx.statuses = statuses
    dead: str | None = None
    try:
        for folder in chosen:
            fs = FolderSummary(name=folder.name, kind=kinds[folder.name], special_use=folder.special_use)
            summary.folders.append(fs)
            folder_id = ensure_folder(engine, account_id, folder.name, fs.kind, special_use=folder.special_use)
            if dead:
                fs.error = f"not synced: {dead}"
            else:
                dead = _sync_folder_with_retries(ctx, link, folder_id, folder, fs)
            if fs.error:
                log.error("%s/%s: %s", account.name, folder.name, fs.error)
                _record_folder_error(engine, folder_id, now, fs.error)
            else:
                log.info("%s/%s: %s", account.name, folder.name, _folder_line(fs))
            progress.folder_done(fs)
        if not dead and remote:
            _mark_vanished_folders(engine, account_id, {f.name for f in remote}, now)
    finally:
        ctx.close()
        link.close()
    if dead and not any(f.error is None for f in summary.folders):
        summary.error, summary.error_kind = dead, "unreachable"
    _record_account(engine, account_id, now, summary.error or (summary.failed_folders[0].error
                                                                 if summary.failed_folders else None))
    return summary, ctx


def _sync_folder_with_retries(ctx: _Context, link: _Link, folder_id: int, folder: RemoteFolder,
                              fs: FolderSummary) -> str | None:
    """Sync one folder, reconnecting after lost connections; returns the error that ends the account, if any."""
    while True:
        try:
            _sync_folder(ctx, link.get(), folder_id, folder, fs)
            return None
        except ConnectionLost as exc:
            # Smaller FETCH commands from now on, and what was fetched is kept: a link that drops every few
            # megabytes still makes progress. Batches are saved at the same UIDs as always, so the store
            # ends exactly as a clean run leaves it (threads and names depend on what a batch holds).
            ctx.fetch_size = max(MIN_FETCH, ctx.fetch_size // 4)
            try:
                link.failed(exc)  # waits, then the loop reconnects and resumes from the saved state
            except UnreachableError as final:
                fs.error = str(final)
                return fs.error
        except (AuthError, UnreachableError) as exc:  # reconnecting failed for good
            fs.error = str(exc)
            return fs.error
        except FolderError as exc:
            fs.error = str(exc)
            return None


def _inbox_status(session: ImapSession) -> dict[str, FolderStatus]:
    """STATUS INBOX, asked before the folder list is read, for INBOX's no-change check.

    Dovecot's Maildir++ layout keeps the other folders inside INBOX's directory: once the folder list has
    been read, STATUS INBOX rescans its whole maildir (0.6-0.8 s for 60,000 messages); asked first, it
    answers at once. A changed INBOX is EXAMINEd anyway, so a status read a little early only ever delays
    a change to the next run, never loses it.
    """
    try:
        return {"INBOX": session.folder_status("INBOX")}
    except FolderError:
        return {}


SAMPLE = 300  # recent messages per sent folder read to learn my addresses on a first sync


def _sample_my_addresses(link: _Link, sent_folders: list[RemoteFolder]) -> list[str]:
    """From addresses that dominate the newest messages of the sent folders (empty when unsure or offline)."""
    from email.utils import getaddresses

    counts: Counter = Counter()
    try:
        session = link.get()
        for f in sent_folders:
            session.examine(f.name)
            uids = session.fetch_uids(1)[-SAMPLE:]
            for raw in session.fetch_field(uids, "from").values():
                value = raw.decode("utf-8", "replace").partition(":")[2]
                for _name, addr in getaddresses([value])[:1]:
                    email = normalize_address(addr)
                    if email:
                        counts[email] += 1
    except (InboxrelError, ConnectionLost):
        return []  # only a head start: the sync itself reconnects, and discover_me runs after it
    total = sum(counts.values())
    return [a for a, n in counts.items() if n >= identity.DISCOVER_MIN and n >= identity.DISCOVER_SHARE * total]


def _folder_line(fs: FolderSummary) -> str:
    if fs.unchanged:
        return "unchanged"
    return (f"{fs.new} new, {fs.duplicates} already known, {fs.quarantined} quarantined, {fs.gone} gone, "
            f"{fs.flags_changed} flag changes, {fs.bodies} bodies" + (" (rescanned)" if fs.rescanned else ""))


# -- one folder ------------------------------------------------------------------------------------------

def _sync_folder(ctx: _Context, session: ImapSession, folder_id: int, remote: RemoteFolder, fs: FolderSummary):
    engine = ctx.engine
    row = _folder_row(engine, folder_id)
    st = ctx.statuses.pop(remote.name, None) or session.folder_status(remote.name)
    if not ctx.full and _unchanged(row, st, session.condstore):
        fs.unchanged = True
        _record_success(engine, folder_id, ctx.now, {})
        return
    sel = session.examine(remote.name)
    if row.uidvalidity is not None and row.uidvalidity != sel.uidvalidity:
        _start_rescan(engine, folder_id, row.uidvalidity, sel.uidvalidity)
        row = _folder_row(engine, folder_id)
        fs.rescanned = True
    if row.uidnext != sel.uidnext:
        ctx.settle = True  # UIDs advanced since the last complete sync: identities get a pass at the end
    known_highest = row.highest_uid or 0
    count = row.message_count or 0
    live = _live_uids(engine, folder_id) if known_highest else {}
    gone: set[int] = set()
    exact = False  # True when we know exactly which of the known UIDs still exist

    # 1. flags and expunges of the messages we already have
    if known_highest:
        use_modseq = bool(session.condstore and row.highestmodseq and not ctx.full)
        flags, vanished = session.fetch_flags(known_highest, row.highestmodseq if use_modseq else None)
        if not use_modseq:
            exact = True
            gone = set(live) - set(flags)
            count = len(flags)
        elif vanished is not None:
            gone = vanished & set(live)
            count -= len(gone)
        changed = {u: f for u, f in flags.items() if u in live and live[u] != f and u not in gone}
        fs.flags_changed += len(changed)
        fs.gone += _save_flags_and_gone(engine, folder_id, changed, gone, ctx.now, count)

    # 2. new messages, batch by batch: the next batch is fetched (and parsed) while this one is saved
    start = 1 if ctx.full else known_highest + 1
    new_uids = session.fetch_uids(start)
    ctx.progress.folder_start(f"{ctx.label}:{remote.name}", len(new_uids))
    fetched_new = 0
    arrived_later = 0
    batches = [new_uids[i:i + BATCH] for i in range(0, len(new_uids), BATCH)]
    ctx.resume_cache(folder_id, sel.uidvalidity)
    parser = ctx.parser_for(len(new_uids))
    for chunk, fetched, results in _pipeline(ctx, session, batches, parser):
        items = _build_items(fetched, results, fs)
        n_new = sum(1 for m in fetched if m.uid > known_highest)
        fetched_new += n_new
        arrived_later += sum(1 for m in fetched if sel.uidnext and m.uid >= sel.uidnext)
        count += n_new
        state = {"uidvalidity": sel.uidvalidity, "highest_uid": max(chunk[-1], known_highest),
                 "message_count": count, "last_sync_at": to_db(ctx.now)}
        res = ctx.writer.save_batch(folder_id, items, state, after=ctx.after_batch)
        # only now, saved, do these bodies count as fetched (a batch lost to a cut connection is fetched again)
        ctx.body_ids.update(m.message_id for m in fetched if m.text is not None and m.message_id)
        for uid in chunk:
            ctx.unsaved.pop(uid, None)
        fs.new += res.new
        fs.duplicates += res.duplicates
        fs.quarantined += res.quarantined
        if res.new:
            ctx.settle = True
        ctx.on_saved()
        ctx.progress.advance(len(chunk))

    # 3. expunges we could not see directly: the count tells whether there were any
    if known_highest and not exact and count - arrived_later != sel.messages:
        present = set(session.fetch_uids(1, known_highest))
        missing = set(_live_uids(engine, folder_id)) - present
        missing = {u for u in missing if u <= known_highest}
        count = len(present) + fetched_new
        fs.gone += _save_flags_and_gone(engine, folder_id, {}, missing, ctx.now, count)

    # 4. the folder is complete: HIGHESTMODSEQ now, UIDNEXT after identities settle (see module docstring)
    _record_success(engine, folder_id, ctx.now, {"highestmodseq": sel.highestmodseq, "message_count": count,
                                                  "uidvalidity": sel.uidvalidity})
    _finish_rescan(engine, folder_id, ctx.now)
    ctx.completed[folder_id] = sel.uidnext


def _unchanged(row, st: FolderStatus, condstore: bool) -> bool:
    """Nothing to do: same UIDVALIDITY, UIDNEXT, count and (CONDSTORE) HIGHESTMODSEQ, no error last time."""
    return (condstore and row.uidvalidity == st.uidvalidity and row.uidnext is not None
            and row.uidnext == st.uidnext and row.message_count == st.messages
            and row.highestmodseq is not None and row.highestmodseq == st.highestmodseq and row.last_error is None)


def _build_items(fetched: list[FetchedMessage], results, fs: FolderSummary) -> list[Item]:
    """Items for the save stage from parse results; unparseable messages go to the quarantine with their header."""
    by_uid = {m.uid: m for m in fetched}
    items = []
    for uid, parsed, error in results:
        m = by_uid[uid]
        if parsed is None:
            items.append(Item(key=str(uid), error=error, raw=m.raw or m.header, uid=uid, flags=m.flags))
        else:
            if m.text is not None and parsed.body is not None:
                fs.bodies += 1
            items.append(Item(key=str(uid), parsed=parsed, uid=uid, flags=m.flags))
    return items


def _pipeline(ctx: _Context, session: ImapSession, batches: list[list[int]], parser: _Parser):
    """Yield (uids, fetched, parse results) per batch, fetching ahead in a thread and parsing ahead.

    The IMAP connection belongs to the fetch thread until this generator finishes; an error there (lost
    connection, refused command) is raised here, in the caller's thread.
    """
    if not batches:
        return
    pending: deque = deque()
    for chunk, fetched in _prefetched(ctx, session, batches):
        pending.append((chunk, fetched, parser.submit(fetched, ctx.signals, ctx.region)))
        if len(pending) > 1:
            chunk0, fetched0, future = pending.popleft()
            yield chunk0, fetched0, future.result()
    while pending:
        chunk0, fetched0, future = pending.popleft()
        yield chunk0, fetched0, future.result()


_DONE = object()


def _prefetched(ctx: _Context, session: ImapSession, batches: list[list[int]]):
    """Fetch header fields (and body text inside the window) batch after batch in a thread, two ahead."""
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        in_flight: set[str] = set()
        try:
            for chunk in batches:
                if stop.is_set():
                    return
                fetched = _fetch_batch(ctx, session, chunk, in_flight)
                if not put((chunk, fetched)):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(exc)

    thread = threading.Thread(target=run, name="imap-fetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(0.5)
        if thread.is_alive():
            # still waiting for the server: closing the socket ends its read; the session is spent
            session.broken = True
            try:
                session.client.shutdown()
            except Exception:  # already closed
                pass
            thread.join(10)


def _fetch_batch(ctx: _Context, session: ImapSession, chunk: list[int], in_flight: set[str]) -> list[FetchedMessage]:
    """Header fields of the UIDs in ``chunk`` (those that still exist), fetched in pieces of ``fetch_size``.

    Each piece lands in ``ctx.unsaved`` at once, so a connection lost half-way through a batch costs only
    the piece in flight. Entries kept from an earlier connection get their flags read again.
    """
    cache = ctx.unsaved
    need = [u for u in chunk if u not in cache]
    for i in range(0, len(need), ctx.fetch_size):
        got = session.fetch_headers(need[i:i + ctx.fetch_size])
        odd = [m for m in got if m.looks_unusable]
        if odd:  # rare: keep the start of the message itself for the quarantine
            prefixes = session.fetch_prefixes([m.uid for m in odd], QUARANTINE_BYTES)
            for m in odd:
                m.raw = prefixes.get(m.uid)
        _attach_texts(ctx, session, got, in_flight)
        for m in got:
            cache[m.uid] = m
    stale = [u for u in chunk if u in ctx.stale]
    if stale:
        flags = session.fetch_flags_of(stale)
        for u in stale:
            if u in flags:
                cache[u].flags = flags[u]
            else:  # expunged while we were reconnecting
                cache.pop(u, None)
        ctx.stale.difference_update(stale)
    return [cache[u] for u in chunk if u in cache]


def _attach_texts(ctx: _Context, session: ImapSession, fetched: list[FetchedMessage], in_flight: set[str]) -> None:
    """Fetch body text (up to the size cap) for messages received inside the body window, once per message.

    Runs in the fetch thread. "Inside the window" is by INTERNALDATE, known before anything is parsed;
    messages whose Message-ID the store already has, or this run saved or is about to save with a body
    (``in_flight``: fetched ahead, not saved yet), are skipped.
    """
    if ctx.window_start is None or ctx.body_max <= 0:
        return
    candidates = [m for m in fetched if m.received_since(ctx.window_start)]
    if not candidates:
        return
    ids = {m.uid: m.message_id for m in candidates}
    known = _stored_ids(ctx.engine, {i for i in ids.values() if i} - ctx.body_ids)
    wanted = []
    for m in candidates:
        mid = ids[m.uid]
        if mid and (mid in known or mid in ctx.body_ids or mid in in_flight):
            continue
        wanted.append(m)
        if mid:
            in_flight.add(mid)
    if wanted:
        texts = session.fetch_texts([m.uid for m in wanted], ctx.body_max)
        for m in wanted:
            m.text = texts.get(m.uid)


class _Parser:
    """Parses fetched batches: in a worker process for big folders (parsing is half the CPU), else inline.

    The worker is forked once, before any fetch thread runs (forking a process that has threads can
    deadlock the child), and serves every later folder of the run.
    """

    def __init__(self, use_pool: bool):
        self.executor = None
        if use_pool:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from inboxrel.pipelines.workers import die_with_parent

            self.executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                                initializer=die_with_parent, initargs=(os.getpid(),))
            self.executor.submit(int).result()  # start the worker now, while this process has one thread

    def submit(self, fetched: list[FetchedMessage], signals: bool, region: str) -> Future:
        if self.executor is not None:
            return self.executor.submit(parse_fetched, fetched, signals, region)
        future: Future = Future()
        future.set_result(parse_fetched(fetched, signals, region))
        return future

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


_INLINE = _Parser(use_pool=False)


# -- store helpers ---------------------------------------------------------------------------------------

def _folder_row(engine, folder_id: int):
    with engine.connect() as conn:
        return conn.execute(select(folders).where(folders.c.id == folder_id)).first()


def _current(folder_id: int):
    return (locations.c.folder_id == folder_id) & ~locations.c.key.like(OLD_PREFIX + "%")


def _live_uids(engine, folder_id: int) -> dict[int, str]:
    """{uid: flags} of the copies in this folder that are still on the server, as far as we know."""
    with engine.connect() as conn:
        return {r.uid: r.flags or "" for r in conn.execute(
            select(locations.c.uid, locations.c.flags).where(_current(folder_id), locations.c.gone.is_(False),
                                                             locations.c.uid.is_not(None)))}


def _stored_ids(engine, message_ids: set[str]) -> set[str]:
    """Which of these Message-IDs the store already holds."""
    if not message_ids:
        return set()
    ids = sorted(message_ids)
    out: set[str] = set()
    with engine.connect() as conn:
        for i in range(0, len(ids), 500):
            out |= {r[0] for r in conn.execute(select(messages.c.message_id).where(
                messages.c.message_id.in_(ids[i:i + 500])))}
    return out


def _save_flags_and_gone(engine, folder_id: int, changed: dict[int, str], gone: Iterable[int], now: datetime,
                         count: int) -> int:
    gone = sorted(gone)
    with engine.begin() as conn:
        if changed:
            conn.execute(update(locations).where(_current(folder_id), locations.c.uid == bindparam("u"))
                         .values(flags=bindparam("f")), [{"u": u, "f": f} for u, f in changed.items()])
        for i in range(0, len(gone), 500):
            conn.execute(update(locations).where(_current(folder_id), locations.c.uid.in_(gone[i:i + 500]),
                                                 locations.c.gone.is_(False))
                         .values(gone=True, gone_at=to_db(now)))
        conn.execute(update(folders).where(folders.c.id == folder_id).values(message_count=count))
    return len(gone)


def _start_rescan(engine, folder_id: int, old_validity: int, new_validity: int) -> None:
    """UIDVALIDITY changed: set the old copies aside (their UIDs mean nothing now) and read from UID 1."""
    log.warning("folder %d: UIDVALIDITY changed from %s to %s; reading it again", folder_id, old_validity,
                new_validity)
    with engine.begin() as conn:
        conn.execute(update(locations).where(_current(folder_id))
                     .values(key=literal(f"{OLD_PREFIX}{old_validity}:") + locations.c.key))
        conn.execute(update(folders).where(folders.c.id == folder_id).values(
            uidvalidity=new_validity, highest_uid=0, uidnext=None, highestmodseq=None, message_count=0))


def _finish_rescan(engine, folder_id: int, now: datetime) -> None:
    """After a rescan: drop set-aside copies that were found again; the others are gone from the server."""
    with engine.begin() as conn:
        old = conn.execute(select(locations.c.id, locations.c.message_id, locations.c.gone).where(
            locations.c.folder_id == folder_id, locations.c.key.like(OLD_PREFIX + "%"))).all()
        if not old:
            return
        current = {r.message_id for r in conn.execute(select(locations.c.message_id).where(_current(folder_id)))}
        drop = [r.id for r in old if r.message_id in current]
        lost = [r.id for r in old if r.message_id not in current and not r.gone]
        for i in range(0, len(drop), 500):
            conn.execute(delete(locations).where(locations.c.id.in_(drop[i:i + 500])))
        for i in range(0, len(lost), 500):
            conn.execute(update(locations).where(locations.c.id.in_(lost[i:i + 500]))
                         .values(gone=True, gone_at=to_db(now)))


def _record_success(engine, folder_id: int, now: datetime, values: dict) -> None:
    with engine.begin() as conn:
        conn.execute(update(folders).where(folders.c.id == folder_id).values(
            last_sync_at=to_db(now), last_success_at=to_db(now), last_error=None, **values))


def _record_folder_error(engine, folder_id: int, now: datetime, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(folders).where(folders.c.id == folder_id).values(
            last_sync_at=to_db(now), last_error=error[:2000], last_error_at=to_db(now)))


def _record_account(engine, account_id: int, now: datetime, error: str | None, started: bool = False) -> None:
    """Account-level outcome (columns on ``accounts``), so `inboxrel status` shows a failing cron job."""
    from inboxrel.models import accounts

    values: dict = {"last_sync_at": to_db(now)}
    if not started:
        if error:
            values.update(last_error=error[:2000], last_error_at=to_db(now))
        else:
            values.update(last_success_at=to_db(now), last_error=None)
    with engine.begin() as conn:
        conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


def _store_uidnext(engine, completed: dict[int, int | None]) -> None:
    if not completed:
        return
    with engine.begin() as conn:
        conn.execute(update(folders).where(folders.c.id == bindparam("fid")).values(uidnext=bindparam("un")),
                     [{"fid": fid, "un": un} for fid, un in completed.items()])


def _mark_vanished_folders(engine, account_id: int, remote_names: set[str], now: datetime) -> None:
    """Folders deleted on the server: their copies are gone (the messages stay in the history)."""
    with engine.begin() as conn:
        rows = [r for r in conn.execute(select(folders.c.id, folders.c.name, folders.c.uidvalidity).where(
            folders.c.account_id == account_id, folders.c.uidvalidity.is_not(None))) if r.name not in remote_names]
        if not rows:
            return
        stale = [r.id for r in rows]
        for r in rows:
            # Set the copies aside like a UIDVALIDITY change does: a folder created again under this name
            # starts from UID 1, and its copies must not collide with these keys.
            conn.execute(update(locations).where(_current(r.id), locations.c.gone.is_(False))
                         .values(gone=True, gone_at=to_db(now)))
            conn.execute(update(locations).where(_current(r.id))
                         .values(key=literal(f"{OLD_PREFIX}{r.uidvalidity}:") + locations.c.key))
        conn.execute(update(folders).where(folders.c.id.in_(stale)).values(
            message_count=0, uidnext=None, uidvalidity=None, highest_uid=0, highestmodseq=None,
            last_error="folder no longer on the server", last_error_at=to_db(now)))


# -- `inboxrel account test` -----------------------------------------------------------------------------

def check_account(account, *, environ: Mapping[str, str], timeout: float | None = None) -> dict:
    """Log in, list the folders a sync would read (and why others are skipped) with their counts, log out."""
    from inboxrel.secrets import fetch_credential

    credential = fetch_credential(account, environ)
    started = time.perf_counter()
    session = fetch_session(account, credential, timeout=timeout or getattr(account, "timeout", None) or TIMEOUT)
    try:
        rows = []
        for f, reason in choose_folders(session.list_folders(), account.include, account.exclude):
            count = None
            if f.selectable:
                try:
                    count = session.folder_status(f.name).messages
                except FolderError:
                    count = None
            rows.append({"folder": f.name, "special_use": f.special_use, "messages": count,
                         "read": reason is None, "reason": reason})
        caps = sorted(c for c in ("CONDSTORE", "QRESYNC", "SPECIAL-USE", "MOVE", "IDLE") if c in session.capabilities)
        return {"account": account.name, "host": account.host, "username": account.username,
                "auth": credential.source, "capabilities": caps, "folders": rows,
                "seconds": round(time.perf_counter() - started, 3)}
    finally:
        session.logout()


# -- `inboxrel status` -----------------------------------------------------------------------------------

def sync_status(engine, configured: Mapping | None = None, names: Iterable[str] = ()) -> list[dict]:
    """Per account (stored or configured) and folder: last sync, last success, counts and the last error."""
    from sqlalchemy import func

    from inboxrel.clock import iso
    from inboxrel.models import accounts

    names = set(names)
    configured = dict(configured or {})
    out: dict[str, dict] = {}
    if engine is not None:
        with engine.connect() as conn:
            counts: dict[int, dict[bool, int]] = {}
            for r in conn.execute(select(locations.c.folder_id, locations.c.gone, func.count())
                                  .group_by(locations.c.folder_id, locations.c.gone)):
                counts.setdefault(r[0], {})[bool(r[1])] = r[2]
            per_account = dict(conn.execute(select(messages.c.account_id, func.count())
                                            .group_by(messages.c.account_id)).all())
            folder_rows: dict[int, list] = {}
            for f in conn.execute(select(folders).order_by(folders.c.name)):
                folder_rows.setdefault(f.account_id, []).append(f)
            for a in conn.execute(select(accounts).order_by(accounts.c.name)):
                if names and a.name not in names:
                    continue
                out[a.name] = {
                    "account": a.name, "kind": a.kind, "configured": a.name in configured,
                    "host": getattr(configured.get(a.name), "host", None), "messages": per_account.get(a.id, 0),
                    "last_sync_at": iso(a.last_sync_at), "last_success_at": iso(a.last_success_at),
                    "last_error": a.last_error, "last_error_at": iso(a.last_error_at),
                    "folders": [{
                        "folder": f.name, "kind": f.kind, "special_use": f.special_use,
                        "messages": counts.get(f.id, {}).get(False, 0), "gone": counts.get(f.id, {}).get(True, 0),
                        "on_server": f.message_count, "last_sync_at": iso(f.last_sync_at),
                        "last_success_at": iso(f.last_success_at), "last_error": f.last_error,
                        "last_error_at": iso(f.last_error_at)} for f in folder_rows.get(a.id, [])],
                }
    for name, acct in sorted(configured.items()):
        if name in out or (names and name not in names) or not acct.host:
            continue
        out[name] = {"account": name, "kind": "imap", "configured": True, "host": acct.host, "messages": 0,
                     "last_sync_at": None, "last_success_at": None, "last_error": None, "last_error_at": None,
                     "folders": []}
    return [out[k] for k in sorted(out)]
