"""Throughput of the text signals: message bodies per second through reply stripping + cues + phone numbers.

Reads the real Enron practice mailboxes (../shared/data/enron), parses every file once (not timed), then
times the text signals (``inboxrel.signals.text.text_signals``: reply stripping, cues, phone numbers and
call notices) over all bodies, in chunks of 100 as the import's parse workers get them:

* single process: one pass in a freshly forked process (the spaCy pipeline loaded before the fork, its
  caches and ours cold), best of ``--repeat`` passes;
* two processes: the same chunks over a fresh 2-worker pool, as the import's ``ParserPool`` runs them
  (bodies pickled to the workers, results pickled back), timed once each worker has loaded the spaCy
  pipeline (which the import's workers do once, on their first batch); best of ``--repeat``. The
  per-worker load is printed apart.

Then times `inboxrel --help` (process start included; it must stay under 0.5 s because spaCy is imported
lazily) and a real `inboxrel import` of the two Enron users (allen-p, then heard-m, into a fresh SQLite
store) with the signals on, with ``--no-signals``, and (``--compare``) with the text signals run in the
main process by the evidence stage, as before they moved to the workers. CPU seconds (all processes) are
printed next to wall seconds: on a shared machine the wall clock also measures the other processes.

    python bench/bench_signals.py [--data ../shared/data] [--repeat 3] [--limit N] [--skip-import] [--compare]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import compile_package

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USERS = ("allen-p", "heard-m")
CHUNK = 100  # bodies per job, as inboxrel.pipelines.importer.CHUNK


def load_bodies(data: Path, limit: int | None):
    from inboxrel.pipelines.parse import ParseError, parse_message

    out = []
    for user in USERS:
        for dirpath, dirs, files in os.walk(data / "enron" / user / "maildir"):
            dirs.sort()
            for name in sorted(files):
                try:
                    p = parse_message(Path(dirpath, name).read_bytes())
                except ParseError:
                    continue
                if p.body is not None:
                    out.append(p)
                if limit and len(out) >= limit:
                    return out
    return out


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_chunk(chunk) -> list:
    """One parse worker's share: the text signals of a chunk of (body, date, tz offset, subject)."""
    from inboxrel.signals.text import text_signals

    return text_signals(chunk, "US")


def _chunks(parsed) -> list[list]:
    items = [(p.body, p.date, p.tz_offset, p.subject) for p in parsed]
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]


def _count(results) -> tuple[int, int]:
    cues = sum(len(ts.cues) for chunk in results for ts in chunk)
    numbers = sum(len(ts.numbers) + sum(len(q.numbers) for q in ts.quoted) for chunk in results for ts in chunk)
    return cues, numbers


def single_pass(chunks, out_fd: int) -> None:
    """In a forked child: one timed pass, (wall, cpu, cues, numbers) written to ``out_fd`` as JSON."""
    t, c = time.perf_counter(), _cpu()
    results = [run_chunk(ch) for ch in chunks]
    wall, cpu = time.perf_counter() - t, _cpu() - c
    os.write(out_fd, json.dumps([wall, cpu, *_count(results)]).encode())


def time_single(chunks) -> tuple[float, float, int, int]:
    """Wall and CPU seconds of one pass in a fresh forked process (cold caches)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, leave without the parent's cleanup
        os.close(r)
        try:
            single_pass(chunks, w)
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    wall, cpu, cues, numbers = json.loads(data)
    return wall, cpu, cues, numbers


def _warm(_) -> tuple[float, float]:
    """Load the pipeline in a worker, as its first batch does in an import: seconds, and the worker's CPU."""
    t = time.perf_counter()
    from inboxrel.signals.cues import build_nlp

    build_nlp()
    wall = time.perf_counter() - t
    time.sleep(0.5)  # hold this worker so that the other one takes the second warm-up job
    return wall, _cpu()


def time_pool(chunks, workers: int = 2) -> tuple[float, float, float, int, int]:
    """Wall and CPU seconds (all processes) of the chunks over a fresh pool; and the per-worker load."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork")
    kids = _children_cpu()
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        warm = list(pool.map(_warm, range(workers)))
        c, t = _cpu(), time.perf_counter()
        # all submitted up front and read in order: both workers stay busy
        results = list(pool.map(run_chunk, chunks))
        wall = time.perf_counter() - t
        mine = _cpu() - c
    # the workers' CPU is counted once they are reaped (when the pool shuts down), less their warm-up
    cpu = mine + (_children_cpu() - kids) - sum(cpu for _, cpu in warm)
    return wall, cpu, max(w for w, _ in warm), *_count(results)


def help_time(repeat: int) -> float:
    exe = Path(sys.executable).with_name("inboxrel")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "inboxrel"]
    best = 1e9
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd + ["--help"], check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t)
    return best


# `inboxrel import` with the text signals left to the evidence stage in the main process (the design before)
MAIN_PROCESS_IMPORT = """
import json, sys
from inboxrel.clikit import App
from inboxrel.commands.evidence import signal_stage
from inboxrel.pipelines.importer import import_path
db, path, account = sys.argv[1:]
app = App(db, None, "2002-06-01T00:00:00Z")
engine = app.engine()
s = import_path(engine, path, now=app.now, account=account, after_batch=signal_stage(app), signals=False)
print(json.dumps(s.as_dict()))
"""


def time_import(data: Path, mode: str) -> dict:
    """An import of allen-p then heard-m into a fresh SQLite store (``mode`` workers|off|main): counts, seconds."""
    work = Path(tempfile.mkdtemp(prefix="irsig"))
    db = work / "bench.db"
    files = imported = 0
    wall = cpu = 0.0
    for user in USERS:
        path = data / "enron" / user / "maildir"
        files += sum(len(f) for _, _, f in os.walk(path))
        cmd = [sys.executable, "-m", "inboxrel", "--db", f"sqlite:///{db}", "--now", "2002-06-01T00:00:00Z",
               "import", str(path), "--account", user, "--format", "json"] + (["--no-signals"] if mode == "off" else [])
        if mode == "main":
            cmd = [sys.executable, "-c", MAIN_PROCESS_IMPORT, f"sqlite:///{db}", str(path), user]
        c, t = _children_cpu(), time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ, HOME=str(work)))
        wall += time.perf_counter() - t
        cpu += _children_cpu() - c
        imported += json.loads(out.stdout)["imported"]
    evidence = None
    if mode != "off":
        import sqlite3

        with sqlite3.connect(db) as conn:
            evidence = conn.execute("select count(*) from interactions").fetchone()[0]
    return {"files": files, "imported": imported, "wall": wall, "cpu": cpu, "interactions": evidence}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--skip-import", action="store_true", help="leave out the `inboxrel import` runs")
    ap.add_argument("--compare", action="store_true",
                    help="also import with the text signals run in the main process (the design before)")
    args = ap.parse_args()
    compile_package()
    data = Path(args.data)
    parsed = load_bodies(data, args.limit)
    chunks = _chunks(parsed)
    n = len(parsed)
    chars = sum(len(p.body) for p in parsed)
    print(f"# {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the start")
    print(f"bodies: {n} real Enron bodies ({chars / n:.0f} chars on average), in chunks of {CHUNK}")

    # the pool first: its workers fork from this process before it has loaded spaCy, as in an import
    pool = min((time_pool(chunks) for _ in range(args.repeat)), key=lambda r: r[0])
    from inboxrel.signals.cues import build_nlp

    t = time.perf_counter()
    build_nlp()  # before the forks: the single-process children inherit the loaded pipeline
    load = time.perf_counter() - t
    wall, cpu, cues, numbers = min((time_single(chunks) for _ in range(args.repeat)), key=lambda r: r[0])
    print(f"single process: {n / wall:,.0f} bodies/s (best of {args.repeat}: {wall:.2f} s wall, {cpu:.2f} s CPU "
          f"= {n / cpu:,.0f} bodies per CPU-second; {cues} cues, {numbers} numbers); pipeline load {load:.2f} s")
    wall, cpu, wload, cues, numbers = pool
    print(f"2-worker pool:  {n / wall:,.0f} bodies/s (best of {args.repeat}: {wall:.2f} s wall, {cpu:.2f} s CPU in all "
          f"processes = {n / cpu:,.0f} bodies per CPU-second; {cues} cues, {numbers} numbers); "
          f"each worker loads the pipeline once first: {wload:.2f} s")
    print(f"inboxrel --help: {help_time(5):.3f} s (best of 5, process start included)")
    if args.skip_import:
        return
    labels = {"workers": "import with signals", "off": "import --no-signals",
              "main": "import, signals in the main process"}
    for mode in ("workers", "off") + (("main",) if args.compare else ()):
        r = time_import(data, mode)
        label = labels[mode]
        extra = f", {r['interactions']} interactions" if mode != "off" else ""
        print(f"{label}: {r['imported'] / r['wall']:,.0f} messages/s, {r['files'] / r['wall']:,.0f} files/s "
              f"({r['files']} files, {r['imported']} messages imported{extra}; {r['wall']:.2f} s wall, "
              f"{r['cpu']:.2f} s CPU; allen-p then heard-m into a fresh SQLite store, process start included)")
    print(f"# load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
