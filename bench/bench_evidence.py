"""Conversation evidence on real mail, scored against the hand labels of ../shared/data/evidence-dev.

For each practice user: a fresh SQLite store, ``inboxrel --now 2002-01-05 import`` of the whole Enron maildir
with the default settings (evidence on, my addresses discovered), ``inboxrel evidence --format json``, then
the reference scorer (``evidence-dev/score.py``) on the items. Prints precision, recall and date accuracy,
and with ``--show`` every wrong or missed item, to read.

    python bench/bench_evidence.py                 # both users, the figures
    python bench/bench_evidence.py --show allen-p  # and the errors, to read
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("INBOXREL_SHARED", HERE.parent.parent / "shared"))
DEV = SHARED / "data" / "evidence-dev"
ENRON = SHARED / "data" / "enron"
USERS = ("allen-p", "heard-m")
NOW = "2002-01-05"


def inboxrel(db: str, *args: str) -> str:
    cmd = [sys.executable, "-m", "inboxrel", "--db", db, "--now", NOW, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "INBOXREL_CONFIG": os.devnull})
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return out.stdout


def evaluate(user: str, workdir: Path, *, show: bool = False, given_me: bool = False) -> dict:
    db = f"sqlite:///{workdir / (user + ('-me' if given_me else '') + '.db')}"
    maildir = ENRON / user / "maildir"
    me: list[str] = []
    if given_me:  # the owner's addresses as a user would confirm them (identity.json), not discovered
        for a in json.loads((DEV / f"{user}.identity.json").read_text())["owner_addresses"]:
            me += ["--me", a]
    t0 = time.perf_counter()
    inboxrel(db, "import", str(maildir), "--account", user, "-q", *me)
    seconds = time.perf_counter() - t0
    items = json.loads(inboxrel(db, "evidence", "--format", "json"))
    items_path = workdir / f"{user}.items.json"
    items_path.write_text(json.dumps(items))
    labels = DEV / f"{user}.labels.jsonl"
    out = subprocess.run([sys.executable, str(DEV / "score.py"), str(maildir), str(labels), str(items_path)],
                         capture_output=True, text=True, check=True)
    scores = json.loads(out.stdout)
    scores["import_seconds"] = round(seconds, 1)
    scores["items_in_store"] = len(items)
    if show:
        show_errors(user, maildir, labels, items)
    return scores


def show_errors(user: str, maildir: Path, labels: Path, items: list[dict]) -> None:
    """Each labelled message with a wrong or missing item: the labels, the items, the sentences."""
    from email.parser import BytesParser

    by_mid: dict[str, list[dict]] = {}
    for it in items:
        by_mid.setdefault(it.get("message_id") or "", []).append(it)
    parser = BytesParser()
    for line in labels.read_text().splitlines():
        rec = json.loads(line)
        with open(maildir / rec["path"], "rb") as fh:
            msg = parser.parse(fh, headersonly=True)
        mid = str(msg.get("Message-ID", "")).strip().strip("<>")
        got = by_mid.get(mid, [])
        gold = {(e["kind"], a) for e in rec["events"] for a in e["with"]}
        found = {(it["kind"], a) for it in got for a in it["emails"]}
        if not got and not rec["events"]:
            continue
        ok = all(any((it["kind"], a) in gold for a in it["emails"]) for it in got) and \
            all(any((e["kind"], a) in found for a in e["with"]) for e in rec["events"])
        if ok:
            continue
        print(f"--- {rec['id']} {rec['path']}  ({rec['note']})")
        for e in rec["events"]:
            print(f"    gold  {e['kind']:8} {e['medium']:11} {e.get('when')}  {','.join(e['with'])}")
        for it in got:
            print(f"    found {it['kind']:8} {it['medium']:11} {(it['at'] or '')[:10]:10}  {it['email']}  "
                  f"c={it['confidence']}  {(it['sentence'] or '')[:110]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("users", nargs="*", default=list(USERS))
    ap.add_argument("--show", action="store_true", help="Print each wrong or missed item.")
    ap.add_argument("--given-me", action="store_true",
                    help="Also import with the owner's addresses given (--me from evidence-dev's identity files).")
    args = ap.parse_args()
    if not DEV.is_dir():
        raise SystemExit(f"no labelled set at {DEV}: set INBOXREL_SHARED to the shared folder")
    with tempfile.TemporaryDirectory() as tmp:
        rows = {u: evaluate(u, Path(tmp), show=args.show) for u in args.users}
        if args.given_me:
            rows.update({f"{u} (--me)": evaluate(u, Path(tmp), show=args.show, given_me=True) for u in args.users})
    print(f"{'user':16} {'msgs':>5} {'gold':>5} {'found':>6} {'tp':>4} {'fp':>4} {'fn':>4} {'prec':>6} {'recall':>7} "
          f"{'when':>6} {'false-ev msgs':>14} {'import s':>9}")
    for u, s in rows.items():
        print(f"{u:16} {s['messages']:>5} {s['gold_events']:>5} {s['predicted']:>6} {s['tp']:>4} {s['fp']:>4} "
              f"{s['fn']:>4} {s['precision']:>6.3f} {s['recall']:>7.3f} {s['when_acc'] or 0:>6.3f} "
              f"{s['false_evidence_messages']:>14} {s['import_seconds']:>9}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
