"""What the benchmarks share."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compile_package() -> None:
    """Write inboxrel's bytecode (``__pycache__``) before anything is timed.

    A user's install has it: pip compiles a package's modules when it installs them, and an editable
    install writes them on the first run. A shell with PYTHONDONTWRITEBYTECODE set (this sandbox has it)
    would otherwise recompile every module of ours at each start, ~0.1 s a command that no user pays.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "inboxrel")], check=True,
                   stdout=subprocess.DEVNULL)


def _tree_rss_kb(root: int) -> int:
    """Resident KB of ``root`` and all its descendants now (from /proc; 0 once they are gone)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as f:
                pages = int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parent[int(entry)] = int(fields[1])
        rss[int(entry)] = pages * PAGE_KB
    tree, todo = {root}, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in tree:
                tree.add(child)
                todo.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def run_tree(cmd: list[str], env: dict | None = None, every: float = 0.02) -> dict:
    """Run ``cmd``; return its wall seconds, CPU seconds (it and its children), the peak RSS of its whole
    process tree (the writer and its workers together, sampled every ``every`` s), its stdout, and the
    1-minute load average when it started."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(every)
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{out.decode()[-2000:]}\n{err.decode()[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "tree_mb": peak / 1024, "stdout": out.decode(), "load": load}


def write_reply_mailbox(path: Path, n: int, seed: int = 7, reply_share: float = 0.4) -> dict[str, int]:
    """A Maildir of ``n`` small messages where ``reply_share`` of them answer an earlier one, read replies
    first: the replies (mine) are in Sent, which an import reads before INBOX, and every folder lists its
    newest message first. Replies carry only In-Reply-To (as much real mail does) and no subject repeats,
    so only Message-IDs join the mail: threads meet, and merge, when a parent arrives after its children
    and siblings. The same arguments give the same files."""
    import random

    rng = random.Random(seed)
    root = Path(path)
    dirs = {"INBOX": root, "Sent": root / ".Sent"}
    for d in dirs.values():
        for sub in ("cur", "new", "tmp"):
            (d / sub).mkdir(parents=True, exist_ok=True)
    start = 1_000_000_000
    people = [f"person{i}@corp{i % 97}.example" for i in range(max(50, n // 20))]
    subject_of: list[int] = []
    counts = {"INBOX": 0, "Sent": 0}
    for i in range(n):
        reply = i > 0 and rng.random() < reply_share
        parent = i - 1 - rng.randrange(min(i, 5000)) if reply else None  # often in another batch
        root_subject = subject_of[parent] if parent is not None else i
        subject_of.append(root_subject)
        other = people[int(len(people) * rng.random() ** 2)]
        when = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(start + i * 600))
        if reply:
            head = (f"From: Me <me@home.example>\nTo: {other}\nSubject: Re: item {i} of topic {root_subject}\n"
                    f"In-Reply-To: <m{parent}@bench.example>\n")
            folder = "Sent"
        else:
            head = f"From: {other}\nTo: Me <me@home.example>\nSubject: item {i} of topic {root_subject}\n"
            folder = "INBOX"
        body = f"Message {i} about topic {root_subject}.\nThanks, {rng.choice(['Al', 'Bo', 'Cy', 'Di'])}\n"
        raw = f"Message-ID: <m{i}@bench.example>\nDate: {when}\n{head}\n{body}".encode()
        name = dirs[folder] / "cur" / f"{start - i:010d}.M{i}.bench:2,S"  # newest first
        name.write_bytes(raw)
        counts[folder] += 1
    return counts
