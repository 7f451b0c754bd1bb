"""Text signals computed in the import's worker processes store exactly what the main process would store.

With signals on, the import hands each saved batch to its worker processes for reply stripping, cues, phone
numbers and call notices (``ParserPool.text_signals``) and attaches the result to each ParsedMessage; the
evidence stage then only attributes and saves. Messages without that result (small imports parsed
in-process, the IMAP ingest's own path, re-analysis, a result read with another phone region) are analysed
by the evidence stage itself. Both paths must give the same rows.
"""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from inboxrel.db import open_store
from inboxrel.models import interactions, phone_numbers
from inboxrel.pipelines import importer
from inboxrel.pipelines.local import discover_folders, iter_items
from inboxrel.pipelines.parse import parse_message
from inboxrel.signals.save import analyze_parsed
from inboxrel.signals.text import TextSignals, attach_text_signals, text_signals
from tests.conftest import FIXTURES

MAIL = FIXTURES / "signals" / "mail"
NOW = datetime(2024, 5, 25, 12, tzinfo=timezone.utc)


def _rows(engine) -> tuple[list, list]:
    with engine.connect() as conn:
        inter = [tuple(r) for r in conn.execute(
            select(*[c for c in interactions.c if c.name not in ("id", "created_at")]))]
        nums = [tuple(r) for r in conn.execute(select(*[c for c in phone_numbers.c if c.name != "id"]))]
    return sorted(inter, key=repr), sorted(nums, key=repr)


def _import(url: str, path, *, workers_signals: bool, region: str, analyse_region: str, calls: list, full=False,
            me=("me@me.example",)):
    engine = open_store(url)

    def after_batch(conn, saved):
        calls.append([getattr(p, "signals", None) is not None for _, p in saved])
        analyze_parsed(conn, saved, now=NOW, region=analyse_region)

    summary = importer.import_path(engine, path, now=NOW, me=list(me), sent_folders=["sent"], full=full,
                                   after_batch=after_batch, signals=workers_signals, region=region)
    rows = _rows(engine)
    engine.dispose()
    return rows, summary


@pytest.fixture
def pool_always(monkeypatch):
    """Use the worker pool even for a handful of files (the import normally parses small sets in-process)."""
    monkeypatch.setattr(importer, "POOL_MIN", 0)


@pytest.mark.parametrize("region", ["US", "GB"])
def test_worker_signals_store_what_the_main_process_stores(tmp_path, pool_always, region):
    calls_w, calls_m = [], []
    workers, _ = _import(f"sqlite:///{tmp_path / 'w.db'}", MAIL, workers_signals=True, region="US",
                         analyse_region=region, calls=calls_w)
    main, _ = _import(f"sqlite:///{tmp_path / 'm.db'}", MAIL, workers_signals=False, region="US",
                      analyse_region=region, calls=calls_m)
    assert workers == main
    inter, nums = workers
    assert len(inter) == 6 and len(nums) == (2 if region == "US" else 1)  # GB cannot read (212) 504-6918
    # the workers did the text work; the main-process path had none precomputed
    assert sum(len(c) for c in calls_w) == 8 and all(all(c) for c in calls_w)
    assert not any(any(c) for c in calls_m)
    if region == "GB":
        # read with another region, the numbers differ: the workers' US reading was not used
        us, _ = _import(f"sqlite:///{tmp_path / 'us.db'}", MAIL, workers_signals=False, region="US",
                        analyse_region="US", calls=[])
        assert us[1] != nums


@pytest.mark.corpus
def test_worker_signals_on_enron_match_the_main_process(shared_data, tmp_path, pool_always):
    """Every interaction and number of a real Enron user, both ways (heard-m: 1,631 files)."""
    path = shared_data / "enron" / "heard-m" / "maildir"
    calls: list = []
    workers, summary = _import(f"sqlite:///{tmp_path / 'w.db'}", path, workers_signals=True, region="US",
                               analyse_region="US", calls=calls, me=["marie.heard@enron.com"])
    main, _ = _import(f"sqlite:///{tmp_path / 'm.db'}", path, workers_signals=False, region="US",
                      analyse_region="US", calls=[], me=["marie.heard@enron.com"])
    assert workers == main
    assert len(workers[0]) > 40 and len(workers[1]) > 10
    # only the saved messages were analysed (not the duplicates), all of them in the workers
    assert sum(len(c) for c in calls) == summary.new and all(all(c) for c in calls)
    assert summary.duplicates > 0


def test_full_reimport_analyses_nothing(tmp_path, pool_always):
    """`import --full` re-reads every file; all come back as duplicates, so there is no text work at all."""
    url = f"sqlite:///{tmp_path / 'f.db'}"
    calls: list = []
    first, s1 = _import(url, MAIL, workers_signals=True, region="US", analyse_region="US", calls=calls)
    assert (s1.new, sum(len(c) for c in calls)) == (8, 8)
    calls.clear()
    again, s2 = _import(url, MAIL, workers_signals=True, region="US", analyse_region="US", calls=calls, full=True)
    assert (s2.new, s2.duplicates, calls) == (0, 8, [])
    assert again == first


def _saved_batch():
    items = [item for f in discover_folders(MAIL) for item in iter_items(f)]
    return [(i, parse_message(item.raw)) for i, item in enumerate(items)]


def test_pool_attaches_what_text_signals_computes():
    saved = _saved_batch()
    expected = text_signals([(p.body, p.date, p.tz_offset, p.subject) for _, p in saved], "US")
    with importer.ParserPool(enabled=True, signals=True, region="US") as pool:
        pool.text_signals(saved)
    assert [p.signals for _, p in saved] == expected
    assert all(isinstance(ts, TextSignals) and ts.region == "US" for ts in expected)
    # Alice's reply: her mobile from her signature, Bob's office number from the quoted block
    alice = next(p for _, p in saved if p.message_id == "r1@alpha.example").signals
    assert [(n.e164, n.label) for n in alice.numbers] == [("+17138533907", "mobile")]
    assert [(q.author_name, q.author_email, [n.e164 for n in q.numbers]) for q in alice.quoted] == [
        ("Bob Jones", "bob@beta.example", ["+12125046918"])]
    # without signals, or parsing in-process, nothing is attached (the evidence stage computes it)
    for enabled, signals in ((True, False), (False, True)):
        again = _saved_batch()
        with importer.ParserPool(enabled=enabled, signals=signals) as pool:
            pool.text_signals(again)
        assert all(p.signals is None for _, p in again)


def _failing_text_signals(items, region):
    raise RuntimeError("a bug in the text signals")


def test_a_failing_worker_leaves_the_work_to_the_evidence_stage(monkeypatch):
    import inboxrel.signals.text as text

    monkeypatch.setattr(text, "text_signals", _failing_text_signals)
    saved = _saved_batch()
    with importer.ParserPool(enabled=True, signals=True) as pool:
        pool.text_signals(saved)
    assert all(p.signals is None for _, p in saved)


def test_text_signals_survive_pickling():
    parsed = parse_message((MAIL / "inbox" / "4.eml").read_bytes())
    attach_text_signals([parsed], "US")
    back = pickle.loads(pickle.dumps(parsed))
    assert back.signals == parsed.signals and back.signals.notice.kind == "voicemail"
