"""Benchmark: ``inboxrel suggest`` and ``inboxrel report --format html`` on a large store.

Builds (once, cached by size and seed) a store of 100,000 messages and 5,000 people by inserting rows
directly with ``executemany`` (the import path is benchmarked elsewhere), then times each command as a
subprocess, so the figures include interpreter start and imports, as a user or cron sees them.

\b
Usage:
  .venv/bin/python bench/bench_suggest.py                       # 100k messages, 5k people, 5 runs each
  .venv/bin/python bench/bench_suggest.py --messages 20000 --people 1000 --runs 3
  .venv/bin/python bench/bench_suggest.py --db postgresql+psycopg://postgres@127.0.0.1:54329/bench

Targets (issue 5): suggest < 1 s wall, report --format html < 3 s wall.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchkit import compile_package

NOW = datetime(2024, 6, 1, 12, 0)
SUBJECTS = ["Budget review", "Quarterly numbers", "Contract draft", "Site visit", "Hiring plan", "Board deck",
            "Pricing update", "Offsite agenda", "Vendor shortlist", "Pipeline forecast", "Launch checklist",
            "Legal questions", "Travel plans", "Team dinner", "Product roadmap", "Customer escalation"]
FIRST = ["Alice", "Bob", "Carol", "Dan", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory", "Niaj",
         "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yolanda"]
LAST = ["Smith", "Jones", "Brown", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Anderson", "Thomas", "Moore",
        "Martin", "Lee", "Perez", "White", "Harris", "Clark", "Lewis", "Young", "Walker"]


def build_store(url: str, *, n_messages: int = 100_000, n_people: int = 5_000, seed: int = 1,
                now: datetime = NOW) -> dict:
    """Fill an empty store with a synthetic mailbox: Zipf-like correspondents, threads, evidence."""
    from sqlalchemy import insert

    from inboxrel.db import open_store
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
        threads,
    )

    rng = random.Random(seed)
    engine = open_store(url)
    start = now - timedelta(days=3 * 365)
    span = (now - start).total_seconds()
    with engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": 1, "name": "bench", "kind": "imap", "created_at": start}])
        conn.execute(insert(folders), [
            {"id": 1, "account_id": 1, "name": "INBOX", "kind": "received", "last_success_at": now - timedelta(hours=8),
             "last_error": None, "last_error_at": None},
            {"id": 2, "account_id": 1, "name": "Sent", "kind": "sent", "last_success_at": now - timedelta(hours=8),
             "last_error": None, "last_error_at": None},
            {"id": 3, "account_id": 1, "name": "Archive", "kind": "received", "last_success_at": now - timedelta(days=9),
             "last_error": "connection reset by peer", "last_error_at": now - timedelta(hours=8)}])
        person_rows = [{"id": 1, "name": "Me Myself", "primary_address_id": 1, "is_me": True,
                    "automated": None, "created_at": start}]
        addr_rows = [{"id": 1, "email": "me@bench.example", "name": "Me Myself", "person_id": 1, "automated": None}]
        kinds = {}
        for i in range(2, n_people + 2):
            auto = "newsletter" if i % 20 == 0 else None
            kinds[i] = auto
            name = None if auto else f"{FIRST[i % 20]} {LAST[(i // 20) % 20]} {i}"
            email = f"news{i}@list{i % 50}.example" if auto else f"p{i}@corp{i % 40}.example"
            person_rows.append({"id": i, "name": name or f"News {i}", "primary_address_id": i, "automated": auto,
                                "is_me": False, "created_at": start})
            addr_rows.append({"id": i, "email": email, "name": name, "person_id": i, "automated": auto})
        conn.execute(insert(people), person_rows)
        conn.execute(insert(addresses), addr_rows)
        conn.execute(insert(account_addresses), [{"account_id": 1, "address_id": 1, "source": "given"}])

        # Correspondents: Zipf weights, each with an active period (some relationships end: cooling).
        pids = list(range(2, n_people + 2))
        weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(pids))]
        rng.shuffle(pids)
        active = {}
        for pid in pids:
            a = rng.random() * 0.8
            b = 1.0 if rng.random() < 0.8 else a + rng.random() * (1 - a)
            active[pid] = (a, max(b, a + 0.05))
        msg_rows, part_rows, loc_rows = [], [], []
        open_thread: dict[int, int] = {}
        thread_msgs: dict[int, list] = {}
        picks = rng.choices(pids, weights=weights, k=n_messages)
        for mid, pid in enumerate(picks, start=1):
            a, b = active[pid]
            t = start + timedelta(seconds=span * min(1.0, a + (b - a) * rng.random()))
            auto = kinds[pid]
            sent = not auto and rng.random() < 0.42
            tid = open_thread.get(pid)
            if tid is None or rng.random() < 0.35:
                tid = len(thread_msgs) + 1
                open_thread[pid] = tid
                thread_msgs[tid] = []
            subject = SUBJECTS[tid % len(SUBJECTS)] + f" #{tid}"
            if auto:
                subject = f"Weekly digest #{mid}"
            msg_rows.append({"id": mid, "account_id": 1, "message_id": f"m{mid}@bench.example",
                             "fingerprint": hashlib.sha1(str(mid).encode()).hexdigest(), "date": t,
                             "tz_offset": -300 if pid % 3 == 0 else 60, "subject": subject, "subject_norm": subject.lower(),
                             "from_address_id": 1 if sent else pid, "direction": "sent" if sent else "received",
                             "automated": auto, "recipient_count": 1, "thread_id": tid, "has_body": False,
                             "has_calendar": False, "created_at": t})
            part_rows.append({"message_id": mid, "address_id": 1 if sent else pid, "role": "from", "name": None})
            part_rows.append({"message_id": mid, "address_id": pid if sent else 1, "role": "to", "name": None})
            loc_rows.append({"message_id": mid, "folder_id": 2 if sent else 1, "key": str(mid), "uid": mid,
                             "gone": False})
            thread_msgs[tid].append((t, mid, sent, pid, auto))
        thread_rows = []
        for tid, msgs in thread_msgs.items():
            msgs.sort()
            first, last = msgs[0], msgs[-1]
            n_sent = sum(1 for m in msgs if m[2])
            awaiting = None if last[4] else ("them" if last[2] else "me")
            thread_rows.append({"id": tid, "subject": SUBJECTS[tid % len(SUBJECTS)] + f" #{tid}" if not last[4]
                                else "Weekly digest", "first_at": first[0], "last_at": last[0],
                                "message_count": len(msgs), "sent_count": n_sent, "received_count": len(msgs) - n_sent,
                                "last_message_id": last[1], "last_from_address_id": 1 if last[2] else last[3],
                                "awaiting": awaiting})
        conn.execute(insert(threads), thread_rows)
        for i in range(0, len(msg_rows), 20_000):
            conn.execute(insert(messages), msg_rows[i:i + 20_000])
        for i in range(0, len(part_rows), 40_000):
            conn.execute(insert(participants), part_rows[i:i + 40_000])
        for i in range(0, len(loc_rows), 40_000):
            conn.execute(insert(locations), loc_rows[i:i + 40_000])

        # Evidence: past calls, planned meetings, requests for about a fifth of the people.
        ev_rows, phone_rows = [], []
        humans = [p for p in pids if not kinds[p]]
        for n, pid in enumerate(humans[: len(humans) // 5]):
            for k in range(rng.randint(1, 4)):
                at = start + timedelta(seconds=span * rng.random())
                ev_rows.append({"person_id": pid, "kind": "past", "medium": rng.choice(["phone", "video", "in_person"]),
                                "at": at, "source": "message", "source_ref": f"{pid}-{k}", "confidence": 0.9,
                                "direction": "from_me", "sentence": "Great talking yesterday.", "created_at": at})
            if n % 7 == 0:
                ev_rows.append({"person_id": pid, "kind": "planned", "medium": "in_person",
                                "at": now + timedelta(days=rng.randint(-30, 30)), "source": "message",
                                "source_ref": f"{pid}-p", "confidence": 0.9, "direction": "to_me",
                                "sentence": "Lunch next Tuesday?", "created_at": now - timedelta(days=40)})
            if n % 11 == 0:
                ev_rows.append({"person_id": pid, "kind": "request", "medium": "phone", "at": None, "source": "message",
                                "source_ref": f"{pid}-r", "confidence": 0.8, "direction": "to_me",
                                "sentence": "Give me a ring when you get a chance.",
                                "created_at": now - timedelta(days=rng.randint(1, 60))})
            if n % 3 == 0:
                phone_rows.append({"person_id": pid, "e164": f"+1415555{pid:04d}"[:12], "raw": None,
                                   "first_seen": start, "last_seen": now - timedelta(days=rng.randint(1, 300))})
        conn.execute(insert(interactions), ev_rows)
        if phone_rows:
            conn.execute(insert(phone_numbers), phone_rows)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            from sqlalchemy import text

            for table in ("messages", "threads", "people", "addresses", "participants", "interactions"):
                # ids were given explicitly: move the sequences past them
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))")) if table != "participants" else None
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {"messages": n_messages, "people": n_people, "threads": len(thread_rows), "interactions": len(ev_rows)}


def _empty(url: str) -> bool:
    from sqlalchemy import func, select

    from inboxrel.db import open_store
    from inboxrel.models import messages

    engine = open_store(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(messages)).scalar()
    engine.dispose()
    return n == 0


def time_command(args: list[str], runs: int, env: dict) -> tuple[list[float], list[float]]:
    """Wall times and CPU times (user + system of the child) of ``runs`` runs."""
    import resource

    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, env=env)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", help="database URL (default: a cached SQLite file in the temp dir)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached store")
    opts = parser.parse_args()
    compile_package()

    if opts.db:
        url = opts.db
        build = _empty(url)
    else:
        path = Path(tempfile.gettempdir()) / f"inboxrel-bench-{opts.messages}-{opts.people}-{opts.seed}.db"
        if opts.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        build = not path.exists()
        url = f"sqlite:///{path}"
    if build:
        t0 = time.perf_counter()
        info = build_store(url, n_messages=opts.messages, n_people=opts.people, seed=opts.seed)
        print(f"built store {url}: {info} in {time.perf_counter() - t0:.1f}s")
    # The derived per-day tables are rebuilt once after mail changes (the nightly report does it right
    # after the ingest); time that separately from the commands.
    from inboxrel.db import open_store
    from inboxrel.report.volume import refresh_summary

    engine = open_store(url)
    t0 = time.perf_counter()
    refresh_summary(engine, force=True)
    t1 = time.perf_counter()
    refresh_summary(engine, now=NOW.replace(tzinfo=timezone.utc))
    t2 = time.perf_counter()
    print(f"derived per-day tables rebuilt in {t1 - t0:.2f}s (once per change to the mail), the day's windowed "
          f"counts stored in {t2 - t1:.2f}s (once a day); the nightly report does both after the ingest")
    engine.dispose()
    exe = str(Path(sys.executable).with_name("inboxrel"))
    # an empty config: the user's own config must not change the figures
    config = Path(tempfile.gettempdir()) / "inboxrel-bench.toml"
    config.write_text("")
    env = {**os.environ, "INBOXREL_CONFIG": str(config)}
    env.pop("INBOXREL_DB", None)
    out = Path(tempfile.gettempdir()) / "inboxrel-bench-report.html"
    base = [exe, "--db", url, "--now", NOW.isoformat()]
    cases = [
        ("inboxrel --help", [exe, "--help"], None),
        ("inboxrel suggest", base + ["suggest"], 1.0),
        ("inboxrel suggest --format json", base + ["suggest", "--format", "json"], 1.0),
        ("inboxrel explain p2@corp2.example", base + ["explain", "p2@corp2.example"], None),
        ("inboxrel report --format html", base + ["report", "--format", "html", "--output", str(out)], 3.0),
        # the first command on a new day stores that day's windowed counts (a write), later ones read them
        ("suggest, first of a new day", None, None),
    ]
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'command':<42} {'wall best':>9} {'median':>7} {'cpu median':>10}  target (median wall)")
    failed = False
    for label, args, target in cases:
        if args is None:  # a different day each run
            walls, cpus = [], []
            for k in range(opts.runs):
                day = (NOW + timedelta(days=k + 1)).isoformat()
                w, c = time_command([exe, "--db", url, "--now", day, "suggest"], 1, env)
                walls += w
                cpus += c
        else:
            walls, cpus = time_command(args, opts.runs, env)
        best, med = min(walls), statistics.median(walls)
        verdict = "" if target is None else (f"< {target:.0f} s  " + ("ok" if med < target else "MISSED"))
        failed |= target is not None and med >= target
        print(f"{label:<42} {best:9.3f} {med:7.3f} {statistics.median(cpus):10.3f}  {verdict}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"html report: {out} ({out.stat().st_size // 1024} KB)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
