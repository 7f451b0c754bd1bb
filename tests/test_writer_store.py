"""The writer keeps no mirror of the store: memory flat as the store grows, merges in any order, undo on failure.

Real SQLite files and real parsed mail (the bench's replies-first mailbox, written into ``tmp_path``, and
the Enron practice users); nothing here is timed.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inboxrel.db import open_store
from inboxrel.models import addresses, locations, messages, people, thread_keys, threads
from inboxrel.pipelines import save
from inboxrel.pipelines.importer import import_path
from inboxrel.pipelines.parse import parse_message
from inboxrel.pipelines.save import Item, MailWriter, ensure_account, ensure_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from benchkit import write_reply_mailbox  # noqa: E402

NOW = datetime(2026, 11, 16, tzinfo=timezone.utc)


def _parsed_mailbox(root: Path, n: int) -> list[tuple[str, object]]:
    """(key, ParsedMessage) of a replies-first mailbox of ``n`` messages, in the order an import reads them."""
    write_reply_mailbox(root, n)
    out = []
    for folder in (root / ".Sent" / "cur", root / "cur"):
        for path in sorted(folder.iterdir()):
            out.append((path.name, parse_message(path.read_bytes())))
    return out


def _writer(url):
    engine = open_store(url)
    account = ensure_account(engine, "bench", "local", NOW)
    return engine, MailWriter(engine, account, now=NOW), ensure_folder(engine, account, "INBOX", "received")


def _save_all(writer, folder, parsed, batch=500):
    for i in range(0, len(parsed), batch):
        writer.save_batch(folder, [Item(key=k, parsed=p) for k, p in parsed[i:i + batch]])


def _threads(engine) -> set[frozenset]:
    with engine.connect() as conn:
        rows = conn.execute(select(messages.c.message_id, messages.c.thread_id)).all()
    by: dict[int, set] = {}
    for mid, tid in rows:
        by.setdefault(tid, set()).add(mid)
    return {frozenset(v) for v in by.values()}


def test_memory_held_between_batches_does_not_grow_with_the_store(tmp_path):
    parsed = _parsed_mailbox(tmp_path / "mail", 9000)
    engine, writer, folder = _writer(f"sqlite:///{tmp_path / 's.db'}")
    _save_all(writer, folder, parsed[:1500])  # warm: statement caches, the connection pool
    gc.collect()
    tracemalloc.start()
    try:
        _save_all(writer, folder, parsed[1500:3000])
        gc.collect()
        small = tracemalloc.get_traced_memory()[0]
        _save_all(writer, folder, parsed[3000:])
        gc.collect()
        big = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == 9000
    # 6,000 more messages in the store; a mirror of their ids, fingerprints and thread keys is ~2.5 MB
    assert big - small < 400_000, (small, big)


def test_threads_come_out_the_same_whatever_order_the_mail_arrives_in(tmp_path):
    """Replies read before their parents merge threads as the parents arrive: the threads equal those
    of the same mail read oldest first, where no thread ever merges."""
    parsed = _parsed_mailbox(tmp_path / "mail", 3000)
    engine_a, writer_a, folder_a = _writer(f"sqlite:///{tmp_path / 'a.db'}")
    _save_all(writer_a, folder_a, parsed)
    oldest_first = sorted(parsed, key=lambda kp: kp[1].date)
    engine_b, writer_b, folder_b = _writer(f"sqlite:///{tmp_path / 'b.db'}")
    _save_all(writer_b, folder_b, oldest_first)
    a, b = _threads(engine_a), _threads(engine_b)
    assert a == b
    assert len(a) < 0.75 * len(parsed)  # there were threads to build: replies joined their parents
    with engine_a.connect() as conn:  # merged-away threads leave no rows and no keys behind
        assert conn.execute(select(func.count()).select_from(threads)).scalar() == len(a)
        orphans = conn.execute(select(func.count()).select_from(thread_keys).where(
            thread_keys.c.thread_id.not_in(select(threads.c.id)))).scalar()
        assert orphans == 0


def test_a_failed_batch_takes_back_its_cache_entries(tmp_path, monkeypatch):
    parsed = _parsed_mailbox(tmp_path / "mail", 400)
    engine, writer, folder = _writer(f"sqlite:///{tmp_path / 's.db'}")
    _save_all(writer, folder, parsed[:200])
    cached = dict(writer.addr)
    original = save.refresh_threads

    def failing(conn, ids):
        raise RuntimeError("disk full")

    monkeypatch.setattr(save, "refresh_threads", failing)
    with pytest.raises(RuntimeError):
        writer.save_batch(folder, [Item(key=k, parsed=p) for k, p in parsed[200:]])
    assert writer.addr == cached  # the addresses the rolled-back batch created are not remembered
    monkeypatch.setattr(save, "refresh_threads", original)
    writer.save_batch(folder, [Item(key=k, parsed=p) for k, p in parsed[200:]])
    with engine.connect() as conn:
        emails = [r[0] for r in conn.execute(select(addresses.c.email))]
        n_people = conn.execute(select(func.count()).select_from(people)).scalar()
        n_messages = conn.execute(select(func.count()).select_from(messages)).scalar()
    assert len(emails) == len(set(emails)) == n_people
    assert {e for e, aid in writer.addr.items()} <= set(emails) and n_messages == 400


def test_a_small_cache_gives_the_same_store(tmp_path, shared_data, monkeypatch):
    """The address cache is only a cache: cleared every few batches, the import stores the same rows."""
    src = shared_data / "enron" / "heard-m" / "maildir"

    def dump(url):
        engine = open_store(url)
        import_path(engine, src, now=NOW, account="heard-m")
        with engine.connect() as conn:
            email = dict(conn.execute(select(addresses.c.id, addresses.c.email)).all())
            return (sorted((r.fingerprint, r.subject, email.get(r.from_address_id)) for r in
                           conn.execute(select(messages))),
                    sorted(email.values()),
                    conn.execute(select(func.count()).select_from(locations)).scalar())

    full = dump(f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.setattr(save, "ADDRESS_CACHE", 50)
    assert dump(f"sqlite:///{tmp_path / 'b.db'}") == full
