"""Benchmark the local import: Enron practice users and a generated 100,000-message Maildir, beside notmuch.

Prints messages per second, peak RSS and database size for a first import into SQLite (headers, bodies,
people and threads; `--no-signals`, with a second Enron run that extracts conversation evidence too), the wall time of
a no-change re-import of a 10,000-file mailbox (process start included), and `notmuch new` on the same
data in the same run.

    python bench/bench_import.py                 # everything (about 3 minutes)
    python bench/bench_import.py --messages 20000 --skip-notmuch
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import compile_package

ROOT = Path(__file__).resolve().parents[1]
ENRON = ROOT.parent / "shared" / "data" / "enron"


def run_import(db: Path, path: Path, account: str, extra=()) -> dict:
    """Run `inboxrel import` in a child process; return wall seconds, the summary and the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cmd = [sys.executable, "-m", "inboxrel", "--db", f"sqlite:///{db}", "import", str(path), "--account", account,
           "--format", "json", *extra]
    t = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall": wall, "summary": json.loads(out.stdout), "rss_mb": max(rss, before) / 1024}


def count_files(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


def notmuch_new(path: Path, work: Path) -> float | None:
    """Time `notmuch new` over a copy of ``path`` (notmuch writes its index inside the mail root)."""
    if not shutil.which("notmuch"):
        return None
    root = work / "notmuch-mail"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(path, root)
    cfg = work / "notmuch-config"
    cfg.write_text(f"[database]\npath={root}\n[user]\nname=Bench\nprimary_email=bench@example.com\n"
                   "[new]\ntags=new\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n")
    env = dict(os.environ, NOTMUCH_CONFIG=str(cfg))
    t = time.perf_counter()
    subprocess.run(["notmuch", "new", "--quiet"], check=True, env=env, capture_output=True)
    return time.perf_counter() - t


def line(label: str, n: int, r: dict, db: Path) -> None:
    s = r["summary"]
    print(f"{label:<28} {n:>7} files {r['wall']:7.2f} s {n / r['wall']:8.0f} msg/s  "
          f"imported {s['imported']:>6}  dupes {s['duplicates']:>5}  quarantined {s['quarantined']:>3}  "
          f"peak RSS {r['rss_mb']:6.0f} MB  db {db.stat().st_size / 1e6:6.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000, help="size of the generated Maildir")
    ap.add_argument("--skip-notmuch", action="store_true")
    args = ap.parse_args()
    compile_package()
    from inboxrel.demo import generate_maildir

    work = Path(tempfile.mkdtemp(prefix="irbench"))
    try:
        print(f"# inboxrel import benchmark ({os.cpu_count()} cores)")
        if ENRON.is_dir():
            enron = work / "enron"
            enron.mkdir()
            for user in ("allen-p", "heard-m"):
                shutil.copytree(ENRON / user / "maildir", enron / user)
            db = work / "enron.db"
            total_n, total_t = 0, 0.0
            for user in ("allen-p", "heard-m"):
                n = count_files(enron / user)
                r = run_import(db, enron / user, user, ["--no-signals"])
                line(f"enron {user} (first import)", n, r, db)
                total_n += n
                total_t += r["wall"]
            print(f"{'enron both users':<28} {total_n:>7} files {total_t:7.2f} s {total_n / total_t:8.0f} msg/s")
            # the same import with conversation evidence extracted from every body (issue 4's signals)
            db2, t_sig = work / "enron-signals.db", 0.0
            for user in ("allen-p", "heard-m"):
                r = run_import(db2, enron / user, user)
                t_sig += r["wall"]
            print(f"{'enron both, with signals':<28} {total_n:>7} files {t_sig:7.2f} s {total_n / t_sig:8.0f} msg/s"
                  f"  peak RSS {r['rss_mb']:6.0f} MB")
            if not args.skip_notmuch:
                t = notmuch_new(enron, work)
                if t:
                    print(f"{'notmuch new (same files)':<28} {total_n:>7} files {t:7.2f} s {total_n / t:8.0f} msg/s"
                          f"   ratio inboxrel/notmuch {(total_n / total_t) / (total_n / t):.2f}x")

        gen = work / "generated"
        t = time.perf_counter()
        generate_maildir(gen, args.messages, seed=1)
        print(f"(generated {args.messages} messages in {time.perf_counter() - t:.1f} s)")
        db = work / "gen.db"
        n = count_files(gen)
        r = run_import(db, gen, "generated", ["--no-signals"])
        line(f"generated {args.messages} (first)", n, r, db)
        if not args.skip_notmuch:
            t = notmuch_new(gen, work)
            if t:
                print(f"{'notmuch new (same files)':<28} {n:>7} files {t:7.2f} s {n / t:8.0f} msg/s"
                      f"   ratio inboxrel/notmuch {(n / r['wall']) / (n / t):.2f}x")

        small = work / "small"
        generate_maildir(small, 10_000, seed=2)
        db = work / "small.db"
        run_import(db, small, "small", ["--no-signals"])
        walls = []
        for _ in range(5):
            walls.append(run_import(db, small, "small")["wall"])
        print(f"{'re-import unchanged 10k':<28} {count_files(small):>7} files  best {min(walls):.3f} s, "
              f"median {sorted(walls)[2]:.3f} s (wall, process start included)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
