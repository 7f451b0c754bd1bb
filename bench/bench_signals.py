"""Throughput of the text signals: message bodies per second through reply stripping + cues + phone numbers.

Reads the real Enron practice mailboxes (../shared/data/enron), parses every file once (not timed), then
times the three signals together over all bodies, best of ``--repeat`` runs. Also times `inboxrel --help`
(process start included), which must stay under 0.5 s because spaCy is imported lazily.

    python bench/bench_signals.py [--data ../shared/data] [--repeat 3] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load_bodies(data: Path, limit: int | None):
    from inboxrel.pipelines.parse import ParseError, parse_message

    out = []
    for user in ("allen-p", "heard-m"):
        for dirpath, _, files in os.walk(data / "enron" / user / "maildir"):
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


def run_signals(parsed) -> tuple[int, int]:
    from inboxrel.signals.cues import analyze_texts, local_from_utc
    from inboxrel.signals.phones import extract_numbers
    from inboxrel.signals.strip import split_body

    bodies = [split_body(p.body) for p in parsed]
    cues = analyze_texts([(b.own, local_from_utc(p.date, p.tz_offset)) for b, p in zip(bodies, parsed)])
    numbers = 0
    for b in bodies:
        numbers += len(extract_numbers(b.signature, b.own, "US"))
        for q in b.quoted:
            if q.signature:
                numbers += len(extract_numbers(q.signature, "", "US"))
    return sum(len(c) for c in cues), numbers


def help_time(repeat: int) -> float:
    exe = Path(sys.executable).with_name("inboxrel")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "inboxrel"]
    best = 1e9
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd + ["--help"], check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    parsed = load_bodies(Path(args.data), args.limit)
    from inboxrel.signals.cues import build_nlp

    t = time.perf_counter()
    build_nlp()
    load = time.perf_counter() - t
    best = 1e9
    for _ in range(args.repeat):
        t = time.perf_counter()
        n_cues, n_numbers = run_signals(parsed)
        best = min(best, time.perf_counter() - t)
    chars = sum(len(p.body) for p in parsed)
    print(f"bodies: {len(parsed)} real Enron bodies ({chars / len(parsed):.0f} chars on average)")
    print(f"signals (strip + cues + phones): {len(parsed) / best:,.0f} bodies/s "
          f"(best of {args.repeat}: {best:.2f} s; {n_cues} cues, {n_numbers} numbers); pipeline load {load:.2f} s")
    print(f"inboxrel --help: {help_time(5):.3f} s (best of 5, process start included)")


if __name__ == "__main__":
    main()
