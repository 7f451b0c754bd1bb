"""Benchmark the local import beside `notmuch new` on the same files: Enron practice users and generated mailboxes.

For each mailbox, a first import into a fresh SQLite store (`--no-signals`; for Enron also with the
conversation evidence), each command a child process timed with its start-up, with its CPU per message
and the peak RSS of its whole process tree (the writer and its parse workers, sampled from /proc), and
the 1-minute load average when it started. Mailboxes:

- Enron allen-p and heard-m (real mail, half of it copies);
- the project's generator (`inboxrel.demo.generate_maildir`) at each size of ``--sizes``;
- "replies first" at each size: 40% of the messages answer an earlier one with In-Reply-To only, and are
  read before their parents (Sent before INBOX, newest first), so threads merge as real ones do.

Then ten new messages are added to the biggest replies-first mailbox and imported into its store (what a
nightly run costs), and an unchanged 10,000-file mailbox is re-imported. With ``--before DIR`` (a checkout
of an older inboxrel, e.g. `git worktree add /tmp/old HEAD~3`) every inboxrel row is also run with that
code, interleaved, so before and after meet the same machine load.

    python bench/bench_import.py                            # Enron, 10k and 100k (several minutes)
    python bench/bench_import.py --sizes 10000 --skip-notmuch --before /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchkit import compile_package, run_tree, write_reply_mailbox

ROOT = Path(__file__).resolve().parents[1]
ENRON = ROOT.parent / "shared" / "data" / "enron"


def run_import(code: str | None, db: Path, path: Path, account: str, extra=()) -> dict:
    """`inboxrel import` in a child process (``code``: another checkout to run instead of this one)."""
    cmd = [sys.executable, "-m", "inboxrel", "--db", f"sqlite:///{db}", "import", str(path), "--account", account,
           "--format", "json", *extra]
    env = dict(os.environ, PYTHONPATH=code) if code else None
    r = run_tree(cmd, env)
    r["summary"] = json.loads(r["stdout"])
    return r


def count_files(path: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(path))


def notmuch_new(path: Path, work: Path) -> dict | None:
    """`notmuch new` over a copy of ``path`` (notmuch writes its index inside the mail root)."""
    if not shutil.which("notmuch"):
        return None
    root = work / "notmuch-mail"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(path, root)
    cfg = work / "notmuch-config"
    cfg.write_text(f"[database]\npath={root}\n[user]\nname=Bench\nprimary_email=bench@example.com\n"
                   "[new]\ntags=new\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n")
    r = run_tree(["notmuch", "new", "--quiet"], dict(os.environ, NOTMUCH_CONFIG=str(cfg)))
    shutil.rmtree(root, ignore_errors=True)
    return r


HEADER = (f"{'run':<40} {'files':>7} {'wall s':>7} {'msg/s':>7} {'CPU ms/msg':>10} {'tree MB':>8} "
          f"{'load':>5}  notes")


def row(label: str, n: int, r: dict, note: str = "") -> None:
    print(f"{label:<40} {n:>7} {r['wall']:7.2f} {n / r['wall']:7.0f} {1000 * r['cpu'] / max(n, 1):10.3f} "
          f"{r['tree_mb']:8.0f} {r['load']:5.1f}  {note}", flush=True)


def summary_note(r: dict) -> str:
    s = r["summary"]
    return f"imported {s['imported']}, dupes {s['duplicates']}, quarantined {s['quarantined']}"


def compare(label: str, path: Path, n: int, variants: dict, work: Path, run: int, notmuch: bool,
            extra=("--no-signals",)) -> dict:
    """One first import per variant (alternating their order by run) and notmuch, all on ``path``."""
    stores = {}
    order = list(variants.items())
    if run % 2:
        order.reverse()
    for name, code in order:
        db = work / f"{label}-{name}-{run}.db".replace(" ", "_")
        r = run_import(code, db, path, "bench", extra)
        row(f"{label} [{name}]", n, r, f"{summary_note(r)}; store {db.stat().st_size / 1e6:.0f} MB")
        stores[name] = (db, r)
    if notmuch:
        r = notmuch_new(path, work)
        if r:
            rates = ", ".join(f"{name} {(n / s[1]['wall']) / (n / r['wall']):.2f}x" for name, s in stores.items())
            row(f"{label} [notmuch new]", n, r, f"inboxrel/notmuch: {rates}")
    return stores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="sizes of the generated mailboxes (comma-separated)")
    ap.add_argument("--runs", type=int, default=1, help="runs of each first import")
    ap.add_argument("--before", help="an older checkout of inboxrel to run beside this one")
    ap.add_argument("--skip-notmuch", action="store_true")
    ap.add_argument("--skip-enron", action="store_true")
    ap.add_argument("--mailboxes", default="generated,replies", help="generated mailboxes to run (comma-separated)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = set(args.mailboxes.split(","))
    compile_package()
    variants: dict[str, str | None] = {"this": None}
    if args.before:
        before = str(Path(args.before).resolve())
        subprocess.run([sys.executable, "-m", "compileall", "-q", before + "/inboxrel"], check=True,
                       stdout=subprocess.DEVNULL)
        variants["before"] = before
    notmuch = not args.skip_notmuch
    from inboxrel.demo import generate_maildir

    work = Path(tempfile.mkdtemp(prefix="irbench"))
    try:
        print(f"# inboxrel import benchmark ({os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start)")
        print(HEADER)
        if not args.skip_enron and ENRON.is_dir():
            enron = work / "enron"
            enron.mkdir()
            for user in ("allen-p", "heard-m"):
                shutil.copytree(ENRON / user / "maildir", enron / user)
            n = count_files(enron)
            for run in range(args.runs):
                compare("enron allen-p + heard-m", enron, n, variants, work, run, notmuch)
                compare("enron, with evidence", enron, n, variants, work, run, False, ())

        last = None
        for size in sizes:
            if "generated" in kinds:
                gen = work / f"generated-{size}"
                generate_maildir(gen, size, seed=1)
                for run in range(args.runs):
                    compare(f"generated {size}", gen, count_files(gen), variants, work, run, notmuch)
                shutil.rmtree(gen, ignore_errors=True)
            if "replies" in kinds:
                replies = work / f"replies-{size}"
                write_reply_mailbox(replies, size)
                for run in range(args.runs):
                    last = (replies, compare(f"replies first {size}", replies, count_files(replies), variants,
                                             work, run, notmuch))

        if last is not None:  # ten new messages into the biggest store: what a nightly run costs
            replies, stores = last
            cur = replies / "cur"
            for i in range(10):
                (cur / f"0000000001.new{i}.bench:2,").write_bytes(
                    f"Message-ID: <new{i}@bench.example>\nDate: Mon, 01 Jan 2035 10:0{i}:00 +0000\n"
                    f"From: late{i}@corp.example\nTo: me@home.example\nSubject: new {i}\n\nhello {i}\n".encode())
            for name, (db, _) in stores.items():
                r = run_import(variants[name], db, replies, "bench", ["--no-signals"])
                row(f"10 new into the {count_files(replies) - 10} store [{name}]", 10, r, summary_note(r))

        small = work / "small"
        generate_maildir(small, 10_000, seed=2)
        for name, code in variants.items():
            db = work / f"small-{name}.db"
            run_import(code, db, small, "small", ["--no-signals"])
            walls = sorted(run_import(code, db, small, "small")["wall"] for _ in range(5))
            print(f"{'re-import unchanged 10k [' + name + ']':<40} {count_files(small):>7} files  best "
                  f"{walls[0]:.3f} s, median {walls[2]:.3f} s (wall, process start included)", flush=True)
        print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
