"""Import local mail: discover folders, parse each new file, save in batches, then settle identities.

Incremental by default: a folder whose mtimes and sizes are unchanged is skipped without being listed,
and a known file is skipped without being read; ``full=True`` re-reads everything (still never duplicates).
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses

from sqlalchemy import func, select

from inboxrel import identity
from inboxrel.clock import to_db
from inboxrel.models import folders, locations
from inboxrel.pipelines.local import LocalFolder, count_items, discover_folders, is_sent_name, iter_items
from inboxrel.pipelines.memory import bulk_collection
from inboxrel.pipelines.parse import normalize_address, parse_raw_items
from inboxrel.pipelines.save import (
    BatchResult,
    Item,
    MailWriter,
    bulk_indexes,
    ensure_account,
    ensure_folder,
    my_addresses,
)

BATCH = 500
CHUNK = 100  # messages per parse job sent to a worker process
POOL_MIN = 400  # fewer messages than this are parsed in-process
BODY_MAX = 256 * 1024  # characters of a body kept (the config's body_max_bytes)
RAW_MIN = 2 * 1024 * 1024  # a message file is parsed up to max(8 x BODY_MAX, this) bytes (see raw_limit)
IN_FLIGHT = 12  # parse jobs queued ahead, so workers keep parsing while the main process writes a batch
SAMPLE = 100  # messages per sent folder read up front to learn my addresses before saving


@dataclass
class FolderSummary:
    name: str
    kind: str
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: bool = False  # unchanged since the last import: not read


@dataclass
class ImportSummary:
    account: str
    folders: list[FolderSummary] = field(default_factory=list)
    me: list[str] = field(default_factory=list)
    discovered: list[str] = field(default_factory=list)
    merges: int = 0
    seconds: float = 0.0

    @property
    def new(self) -> int:
        return sum(f.new for f in self.folders)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.folders)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.folders)

    @property
    def skipped(self) -> int:
        return sum(1 for f in self.folders if f.skipped)

    def as_dict(self) -> dict:
        return {
            "account": self.account, "imported": self.new, "duplicates": self.duplicates,
            "quarantined": self.quarantined, "folders_skipped": self.skipped, "me": self.me,
            "discovered_me": self.discovered, "merges": self.merges, "seconds": round(self.seconds, 3),
            "folders": [f.__dict__ for f in self.folders],
        }


class Progress:
    """Callbacks for long work; the CLI subclasses this with a progress bar."""

    def folder_start(self, name: str, total: int | None) -> None: ...

    def advance(self, n: int) -> None: ...

    def folder_done(self, summary: FolderSummary) -> None: ...


def folder_kind(name: str, sent_folders: Iterable[str]) -> str:
    overrides = {s.strip().lower() for s in sent_folders}
    if overrides:
        low = name.lower()
        return "sent" if low in overrides or low.rsplit("/", 1)[-1] in overrides else "received"
    return "sent" if is_sent_name(name) else "received"


_FROM_LINE = re.compile(rb"(?mi)^from:[ \t]*(.*(?:\r?\n[ \t]+.*)*)")


def sample_senders(folder: LocalFolder, limit: int = SAMPLE) -> Counter:
    """Count From addresses over the first messages of a folder, reading only the From header line."""
    counts: Counter = Counter()
    for n, item in enumerate(iter_items(folder)):
        if n >= limit:
            break
        if item.raw is None:
            continue
        head = item.raw[: item.raw.find(b"\n\n") if b"\n\n" in item.raw[:65536] else 65536]
        m = _FROM_LINE.search(head)
        if not m:
            continue
        for _, a in getaddresses([m.group(1).decode("latin-1")])[:1]:
            email = normalize_address(a)
            if email:
                counts[email] += 1
    return counts


@bulk_collection()
def import_path(
    engine,
    path,
    *,
    now: datetime,
    account: str = "local",
    me: Iterable[str] = (),
    sent_folders: Iterable[str] = (),
    store_bodies: bool = True,
    body_max: int | None = None,
    full: bool = False,
    progress: Progress | None = None,
    after_batch: Callable[[object, list], None] | None = None,
    signals: bool = False,
    region: str = "US",
) -> ImportSummary:
    """Import every message under ``path`` into ``account``; see the module docstring.

    With ``signals`` the worker processes also run the text signals (reply split, cues, phone numbers read
    with ``region``) of each saved batch and attach them to its ParsedMessages before ``after_batch``
    runs, so ``after_batch`` only attributes and stores the evidence. ``after_batch(conn, saved)`` runs
    inside each batch's transaction (see :meth:`MailWriter.save_batch`).
    """
    started = time.perf_counter()
    progress = progress or Progress()
    local_folders = discover_folders(path)
    account_id = ensure_account(engine, account, "local", now)
    summary = ImportSummary(account=account)
    me_changed = False  # an address became mine in this run: stored mail may change direction
    if me:
        me_changed = bool(identity.add_my_addresses(engine, account_id, me, "given", now=now))
    sent_folders = list(sent_folders)
    kinds = {f.name: folder_kind(f.name, sent_folders) for f in local_folders}
    ordered = sorted(local_folders, key=lambda f: (kinds[f.name] != "sent", f.name))

    with engine.connect() as conn:
        stored = {r.name: r for r in conn.execute(
            select(folders.c.id, folders.c.name, folders.c.source_state).where(folders.c.account_id == account_id))}
        known_me = my_addresses(conn, account_id)

    plan = []
    for f in ordered:
        state = f.state()
        row = stored.get(f.name)
        unchanged = row is not None and row.source_state == state and not full
        plan.append((f, state, unchanged))

    # Learn my addresses from the sent folders before saving, so directions are right the first time.
    if not known_me:
        counts: Counter = Counter()
        for f, _, unchanged in plan:
            if kinds[f.name] == "sent" and not unchanged:
                counts += sample_senders(f)
        total = sum(counts.values())
        guess = [a for a, n in counts.items() if n >= identity.DISCOVER_MIN and n >= identity.DISCOVER_SHARE * total]
        if guess:
            evidence = "From address that dominates a sample of the sent folders"
            added = identity.add_my_addresses(engine, account_id, guess, "discovered", evidence, now=now)
            summary.discovered += added
            me_changed = me_changed or bool(added)

    writer = MailWriter(engine, account_id, now=now, store_bodies=store_bodies)
    pending = _expected_new(engine, stored, [f for f, _, unchanged in plan if not unchanged], full)
    with bulk_indexes(engine), ParserPool(enabled=pending >= POOL_MIN, signals=signals, region=region,
                                            body_max=body_max) as pool:
        for f, state, unchanged in plan:
            fs = FolderSummary(name=f.name, kind=kinds[f.name])
            summary.folders.append(fs)
            folder_id = ensure_folder(engine, account_id, f.name, fs.kind, source=str(f.path))
            if unchanged:
                fs.skipped = True
                progress.folder_done(fs)
                continue
            progress.folder_start(f.name, count_items(f))
            known = set() if full else writer.known_keys(folder_id)
            _import_folder(writer, folder_id, f, state, known, fs, now, pool, progress, after_batch)
            progress.folder_done(fs)

    if summary.new or full:
        discovered, summary.merges = identity.settle_identities(engine, [account_id], now, full=full,
                                                                 me_changed=me_changed)
        summary.discovered += discovered[account_id]
    with engine.connect() as conn:
        summary.me = sorted(my_addresses(conn, account_id))
    summary.discovered = sorted(set(summary.discovered) & set(summary.me))  # a sampled sender may be a delegate
    summary.seconds = time.perf_counter() - started
    return summary


def _expected_new(engine, stored: dict, changed: list[LocalFolder], full: bool) -> int:
    """About how many files the changed folders hold that the store has not seen: what decides whether
    parse workers are worth starting (ten new files in a folder of 100,000 are parsed in this process)."""
    located: dict[int, int] = {}
    ids = [stored[f.name].id for f in changed if f.name in stored]
    if ids and not full:
        with engine.connect() as conn:
            located = dict(conn.execute(select(locations.c.folder_id, func.count()).where(
                locations.c.folder_id.in_(ids)).group_by(locations.c.folder_id)).all())
    total = 0
    for f in changed:
        n = count_items(f)
        if n is None:  # an mbox: unknown without reading it
            n = POOL_MIN
        elif f.name in stored:
            n -= located.get(stored[f.name].id, 0)
        total += max(n, 0)
    return total


def _import_folder(writer, folder_id, folder, state, known, fs, now, pool, progress, after_batch) -> None:
    batch: list[Item] = []

    def with_signals(conn, saved) -> None:  # in the batch's transaction: text signals in the pool, then evidence
        pool.text_signals(saved)
        after_batch(conn, saved)

    after = with_signals if after_batch else None

    def flush(final: bool) -> None:
        # The folder's state is written with its last batch only: a run killed before then re-lists the
        # folder next time and skips the files already saved.
        state_values = {"source_state": state, "last_sync_at": to_db(now), "last_success_at": to_db(now),
                        "last_error": None} if final else None
        res = save_resilient(writer, folder_id, batch, state_values, after)
        fs.new += res.new
        fs.duplicates += res.duplicates
        fs.quarantined += res.quarantined
        progress.advance(len(batch))
        batch.clear()

    for key, path, parsed, error, raw in pool.parse(iter_items(folder, known)):
        batch.append(Item(key=key, parsed=parsed, error=error, path=path, raw=raw))
        if len(batch) >= BATCH:
            flush(False)
    flush(True)


def save_resilient(writer: MailWriter, folder_id: int, batch: list[Item], state_values, after=None) -> BatchResult:
    """Save a batch; if the store rejects it, save message by message and quarantine the ones it rejects.

    One bad message must never stop a run: a value the database cannot hold (an over-long header, a
    control character PostgreSQL refuses) costs that message, not the batch.
    """
    from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError, StatementError

    try:
        return writer.save_batch(folder_id, batch, state_values, after)
    except OperationalError:
        raise  # a full disk, a read-only or damaged store: the machine's fault, never a message's
    except (DataError, IntegrityError, ProgrammingError, StatementError, UnicodeError, ValueError):
        pass
    total = BatchResult()
    for i, item in enumerate(batch):
        last = state_values if i == len(batch) - 1 else None
        try:
            res = writer.save_batch(folder_id, [item], last, after)
        except OperationalError:
            raise
        except (DataError, IntegrityError, ProgrammingError, StatementError, UnicodeError, ValueError) as exc:
            reason = f"cannot be stored: {type(getattr(exc, 'orig', None) or exc).__name__}: " \
                     f"{str(getattr(exc, 'orig', None) or exc).splitlines()[0][:200]}"
            res = writer.save_batch(folder_id, [Item(key=item.key, error=reason, path=item.path, raw=item.raw)], last)
        total.new += res.new
        total.duplicates += res.duplicates
        total.quarantined += res.quarantined
        total.saved += res.saved
    return total


class ParserPool:
    """Parse in worker processes while the main process reads files and writes the store.

    Parsing is most of an import's CPU time; with two cores a worker keeps the writer busy. Small imports
    parse in-process (starting workers costs more than it saves). With ``signals`` the workers also run the
    text signals of the messages each batch saved (:meth:`text_signals`); each worker loads the spaCy
    pipeline once, on its first such job, so the main process never loads it.
    """

    def __init__(self, enabled: bool, workers: int | None = None, signals: bool = False, region: str = "US",
                 body_max: int | None = None):
        self.body_max = BODY_MAX if body_max is None else body_max
        self.enabled = enabled and (os.cpu_count() or 1) > 1
        self.workers = workers or min(2, os.cpu_count() or 1)
        self.signals = signals
        self.region = region
        self._executor = None

    def __enter__(self):
        if self.enabled:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from inboxrel.pipelines.workers import die_with_parent

            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
            self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                                 initializer=die_with_parent, initargs=(os.getpid(),))
        return self

    def __exit__(self, *exc):
        if self._executor:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def parse(self, raw_items):
        """Yield (key, path, parsed, error, raw) in input order."""
        chunks = _chunks(((r.key, r.path, r.raw, r.error) for r in raw_items), CHUNK)
        if self._executor is None:
            for chunk in chunks:
                yield from parse_capped(chunk, self.body_max)
            return
        in_flight = deque()
        for chunk in chunks:
            in_flight.append(self._executor.submit(parse_capped, chunk, self.body_max))
            if len(in_flight) > IN_FLIGHT:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()

    def text_signals(self, saved: list) -> None:
        """Run the text signals of a saved batch ([(messages.id, ParsedMessage)]) in the workers.

        Sets ``ParsedMessage.signals``; the evidence stage then only attributes and stores. Only saved
        messages are analysed (duplicates never are), and the batch is finished before the next one is
        saved, so the evidence is what analysing it in this process would give. Without workers, or when
        a worker fails, ``signals`` stays None and the evidence stage analyses the message itself.
        """
        if not self.signals or self._executor is None:
            return
        from inboxrel.signals.text import text_signals

        todo = [p for _, p in saved if p is not None and p.body is not None]
        jobs = []
        for i in range(0, len(todo), CHUNK):
            part = todo[i:i + CHUNK]
            items = [(p.body, p.date, p.tz_offset, p.subject) for p in part]
            jobs.append((part, self._executor.submit(text_signals, items, self.region)))
        for part, job in jobs:
            try:
                found = job.result()
            except Exception:  # the evidence stage runs the signals again and reports what fails there
                continue
            for p, ts in zip(part, found):
                p.signals = ts


def parse_capped(chunk, body_max: int) -> list:
    """:func:`parse_raw_items` with every message bounded, as an IMAP fetch of ``body_max_bytes`` is.

    A message file longer than :func:`raw_limit` is parsed from its start only (its size stays the file's),
    so a 50 MB body never costs the parser's gigabyte; each body is then cut to its first ``body_max``
    characters. In the worker, so a huge body never travels back whole: what is stored and analysed of a
    local message is bounded whatever its source.
    """
    limit = raw_limit(body_max)
    sizes: dict[int, int] = {}
    cut = []
    for i, (key, path, raw, error) in enumerate(chunk):
        if raw is not None and len(raw) > limit:
            sizes[i] = len(raw)
            raw = raw[:limit]
        cut.append((key, path, raw, error))
    out = parse_raw_items(cut)
    for i, item in enumerate(out):
        parsed = item[2]
        if parsed is None:
            continue
        if i in sizes:
            parsed.size = sizes[i]
        if parsed.body is not None and len(parsed.body) > body_max:
            parsed.body = parsed.body[:body_max]
    return out


def raw_limit(body_max: int) -> int:
    """Bytes of one message file that are parsed: room for the headers, a bounded body and its encoding."""
    return max(8 * body_max, RAW_MIN)


def _chunks(iterable, size):
    chunk = []
    for x in iterable:
        chunk.append(x)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
