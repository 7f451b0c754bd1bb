"""Benchmark `inboxrel ingest` against a real Dovecot on loopback, beside mbsync pulling the same mail.

Seeds a Dovecot (started here, as the tests do) with the Enron practice users (allen-p, heard-m) and a
generated mailbox of 100,000 deterministic, realistic messages (INBOX, Sent, Archive; replies with
References, newsletters, real-looking Received/DKIM headers), then measures, each in a child process with
its wall time (process start included) and peak RSS:

- the first `inboxrel ingest` of the Enron users, and of the 100,000-message mailbox (headers into SQLite),
- the no-change nightly re-run over all three accounts,
- `mbsync` (isync) pulling the same 100,000-message mailbox into a local Maildir, and its no-change re-run.

    python bench/bench_ingest.py                     # everything (about 2-3 minutes)
    python bench/bench_ingest.py --messages 20000 --skip-mbsync

Targets (2 cores): first run >= 3,000 msg/s; no-change run < 2 s; peak RSS < 300 MB. Wall times depend on
what else the machine runs, so the CPU seconds of inboxrel (with its parse worker) and of Dovecot are printed
too, with the load average when each run started.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchkit import compile_package

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers_imap import PASSWORD, Dovecot, SeedMessage, seed_enron  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
ME = "pat.morgan@example.com"

FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Carlos", "Karen",
         "Wei", "Priya", "Ahmed", "Olga", "Kenji", "Fatima", "Lars", "Ana", "Tomasz", "Chloe"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
        "Chen", "Patel", "Khan", "Ivanova", "Tanaka", "Novak", "Schmidt", "Rossi", "Dubois", "Silva"]
DOMAINS = ["example.com", "example.org", "example.net", "acme-corp.example", "globex.example", "initech.example",
           "umbrella.example", "hooli.example", "stark.example", "wayne.example", "gmail.example",
           "outlook.example", "fastmail.example", "uni.example.edu"]
TOPICS = ["quarterly numbers", "the offsite", "contract renewal", "hiring plan", "Q3 roadmap", "budget review",
          "design doc", "customer escalation", "release notes", "travel to Berlin", "board deck", "lunch friday",
          "server migration", "invoice 4471", "vendor shortlist", "weekend plans", "kids' soccer", "new office"]
WORDS = ("the a to and of we for on this that is in it with be as have will can at by from our you not are "
         "please let me know thanks meeting draft numbers review next week call tomorrow update plan team "
         "project deadline budget client agree send attached notes changes question follow up soon").split()
NEWSLETTERS = [("news@updates.shop.example", "Shop Weekly"), ("digest@community.example", "Community Digest"),
               ("noreply@notifications.example", "Notifications"), ("hello@saas-tool.example", "SaaS Tool")]


def generate_mailbox(n: int, seed: int = 7) -> dict[str, list[SeedMessage]]:
    """``n`` deterministic messages over INBOX (60%), Sent (25%) and Archive (15%), dated 2016-2019."""
    rng = random.Random(seed)
    people = []
    seen = set()
    while len(people) < 2000:
        first, middle, last = rng.choice(FIRST), chr(65 + rng.randrange(26)), rng.choice(LAST)
        if (first, middle, last) in seen:
            continue
        seen.add((first, middle, last))
        people.append((f"{first} {middle}. {last}", f"{first.lower()}.{middle.lower()}.{last.lower()}@"
                                                     f"{rng.choice(DOMAINS)}"))
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(people))]  # a few people write most of the mail
    start = datetime(2016, 1, 1, tzinfo=timezone.utc)
    span = 4 * 365 * 86400
    folders: dict[str, list[SeedMessage]] = {"INBOX": [], "Sent": [], "Archive": []}
    recent: list[tuple[str, str, str, int]] = []  # (message-id, subject, references, depth) to reply to
    for i in range(n):
        when = start + timedelta(seconds=int(span * i / n) + rng.randint(0, 3000))
        r = rng.random()
        folder = "INBOX" if r < 0.60 else "Sent" if r < 0.85 else "Archive"
        newsletter = folder == "INBOX" and rng.random() < 0.15
        other = rng.choices(people, weights)[0]
        if newsletter:
            sender, to = rng.choice(NEWSLETTERS)[::-1], [("Pat Morgan", ME)]
        elif folder == "Sent":
            sender, to = ("Pat Morgan", ME), [other]
        else:
            sender, to = other, [("Pat Morgan", ME)]
        cc = rng.sample(people, rng.choice((0, 0, 0, 1, 2)))
        mid = f"{i:07d}.{rng.getrandbits(40):010x}@{sender[1].split('@')[1]}"
        headers_extra = []
        candidates = [r for r in recent[-50:] if r[3] < 6]  # threads of a few messages, like real ones
        if candidates and not newsletter and rng.random() < 0.4:
            parent_id, subject, refs, depth = rng.choice(candidates)
            subject = subject if subject.startswith("Re: ") else "Re: " + subject
            refs = (refs + " " if refs else "") + f"<{parent_id}>"
            headers_extra += [f"In-Reply-To: <{parent_id}>", f"References: {refs}"]
            depth += 1
        else:
            subject = (f"{rng.choice(TOPICS).capitalize()} ({rng.randrange(10_000)})" if not newsletter
                       else f"This week at {sender[0]}, issue {i}")
            refs, depth = "", 0
        if newsletter:
            headers_extra += [f"List-Unsubscribe: <mailto:unsubscribe@{sender[1].split('@')[1]}>",
                              "Precedence: bulk"]
        recent.append((mid, subject, refs, depth))
        date = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
        lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) for _ in range(rng.randint(4, 30))]
        body = "\n".join(lines) + f"\n\n-- \n{sender[0]}\n"
        head = [
            f"Return-Path: <{sender[1]}>",
            f"Received: from mail.{sender[1].split('@')[1]} (mail.{sender[1].split('@')[1]} [192.0.2.{i % 250 + 1}])"
            f"\n\tby mx.example.com (Postfix) with ESMTPS id {rng.getrandbits(32):08X}\n\tfor <{ME}>; {date}",
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={sender[1].split('@')[1]}; s=s1;"
            f"\n\th=from:to:subject:date:message-id; bh={rng.getrandbits(128):032x}=;"
            f"\n\tb={rng.getrandbits(256):064x}{rng.getrandbits(256):064x}",
            f"Message-ID: <{mid}>",
            f"Date: {date}",
            f'From: "{sender[0]}" <{sender[1]}>',
            "To: " + ", ".join(f'"{n_}" <{a}>' for n_, a in to),
        ]
        if cc:
            head.append("Cc: " + ", ".join(f'"{n_}" <{a}>' for n_, a in cc))
        head += [f"Subject: {subject}", *headers_extra, "MIME-Version: 1.0",
                 'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 7bit"]
        raw = ("\n".join(head) + "\n\n" + body).encode()
        flags = "S" if rng.random() < 0.8 else ""
        if rng.random() < 0.05:
            flags += "F"
        folders[folder].append(SeedMessage(raw, when, flags))
    return folders


def write_config(path: Path, server: Dovecot, accounts: dict[str, str]) -> None:
    text = ""
    for name, user in accounts.items():
        text += (f'[accounts.{name}]\nhost = "127.0.0.1"\nport = {server.imaps_port}\nusername = "{user}"\n'
                 f'tls = "ssl"\nca_file = "{server.cert}"\npassword_env = "BENCH_IMAP_PASSWORD"\n\n')
    path.write_text(text)


def run_measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` under /usr/bin/time -v (or a getrusage wrapper); wall seconds, peak RSS (MB), stdout."""
    if Path("/usr/bin/time").exists():
        full = ["/usr/bin/time", "-v", *cmd]
    else:
        wrapper = ("import resource,subprocess,sys;r=subprocess.run(sys.argv[1:]);"
                   "sys.stderr.write('Maximum resident set size (kbytes): %d\\n'%"
                   "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);sys.exit(r.returncode)")
        full = [sys.executable, "-c", wrapper, *cmd]
    load = os.getloadavg()[0]
    server_cpu = _server_cpu()
    t = time.perf_counter()
    proc = subprocess.run(full, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    rss = cpu = 0.0
    for line in proc.stderr.splitlines():
        if "Maximum resident set size" in line:
            rss = int(line.rsplit(":", 1)[1]) / 1024
        elif "User time (seconds)" in line or "System time (seconds)" in line:
            cpu += float(line.rsplit(":", 1)[1])
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return {"wall": wall, "rss_mb": rss, "stdout": proc.stdout, "cpu": cpu, "load": load,
            "server_cpu": _server_cpu() - server_cpu}


SERVER_PID: list[int] = []


def _server_cpu() -> float:
    """CPU seconds used by Dovecot's finished child processes (each IMAP session is one), from /proc."""
    if not SERVER_PID:
        return 0.0
    try:
        fields = Path(f"/proc/{SERVER_PID[0]}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime


def rate_text(n: int, r: dict) -> str:
    return f"{n / r['wall']:,.0f}"


def mbsync_pull(server: Dovecot, user: str, work: Path) -> dict:
    """Pull every folder of ``user`` with mbsync into a fresh local Maildir (Sync Pull: the server is not changed)."""
    local = work / "mbsync-mail"
    if local.exists():
        shutil.rmtree(local)
    local.mkdir()
    cfg = work / "mbsyncrc"
    # FSync no: the store side of inboxrel does not fsync each message either (SQLite WAL, synchronous=NORMAL)
    cfg.write_text(f"""FSync no

IMAPAccount bench
Host 127.0.0.1
Port {server.imaps_port}
User {user}
Pass {PASSWORD}
SSLType IMAPS
CertificateFile {server.cert}

IMAPStore bench-remote
Account bench

MaildirStore bench-local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel bench
Far :bench-remote:
Near :bench-local:
Patterns *
Create Near
Sync Pull
Expunge None
SyncState *
""")
    first = run_measured(["mbsync", "-c", str(cfg), "-q", "-a"])
    again = run_measured(["mbsync", "-c", str(cfg), "-q", "-a"])
    return {"first": first, "again": again}


def warm(server: Dovecot, user: str) -> None:
    """Open every folder read-write once, as the user's mail client would have, before anything is timed.

    Dovecot writes a folder's main index only from a read-write session; a freshly seeded Maildir that is
    only ever EXAMINEd makes every STATUS replay the whole transaction log (0.4-1.7 s for 12,000 messages).
    """
    c = server.client(user)
    try:
        for _flags, _delim, name in c.list_folders():
            c.select_folder(name)
            c.noop()
    finally:
        c.logout()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=100_000, help="size of the generated mailbox")
    ap.add_argument("--skip-mbsync", action="store_true")
    ap.add_argument("--skip-enron", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work dir and print its path")
    args = ap.parse_args()
    compile_package()

    work = Path(tempfile.mkdtemp(prefix="irbench"))
    server = Dovecot()
    try:
        server.start()
        SERVER_PID.append(server.proc.pid)
        print(f"# inboxrel ingest benchmark: {os.cpu_count()} cores, Dovecot on 127.0.0.1 (IMAPS), SQLite store")
        users = {}
        t = time.perf_counter()
        if not args.skip_enron and (SHARED / "enron").is_dir():
            for enron_user in ("allen-p", "heard-m"):
                users[enron_user] = server.new_user("enron")
                seed_enron(server, users[enron_user], SHARED, enron_user)
        users["bulk"] = server.new_user("bulk")
        seeded = 0
        for folder, msgs in generate_mailbox(args.messages).items():
            seeded += server.seed(users["bulk"], folder, msgs)
        for user in users.values():
            warm(server, user)
        print(f"seeded {len(users)} mailboxes ({seeded} generated messages) in {time.perf_counter() - t:.1f} s")

        cfg = work / "config.toml"
        write_config(cfg, server, users)
        db = work / "store.db"
        env = dict(os.environ, BENCH_IMAP_PASSWORD=PASSWORD)
        base = [sys.executable, "-m", "inboxrel", "--config", str(cfg), "--db", f"sqlite:///{db}"]

        def ingest(*names: str) -> dict:
            r = run_measured([*base, "ingest", "--quiet", "--format", "json", *names], env)
            r["summary"] = json.loads(r["stdout"])
            return r

        results = {}
        enron_names = [n for n in users if n != "bulk"]
        if enron_names:
            results["enron"] = ingest(*enron_names)
        results["bulk"] = ingest("bulk")
        results["again"] = ingest()
        results["again2"] = ingest()

        print()
        print(f"{'run':<44} {'messages':>9} {'wall s':>8} {'msg/s':>8} {'peak RSS MB':>12} {'CPU s':>7} "
              f"{'server CPU s':>12} {'load':>5}")

        def row(label, n, r, rate=True, note=""):
            print(f"{label:<44} {n:>9,} {r['wall']:>8.2f} {rate_text(n, r) if rate else '':>8} "
                  f"{r['rss_mb']:>12.0f} {r['cpu']:>7.1f} {r['server_cpu']:>12.1f} {r['load']:>5.1f}{note}")

        for key, label in (("enron", "first ingest, Enron allen-p + heard-m"),
                           ("bulk", f"first ingest, generated {args.messages:,}")):
            if key not in results:
                continue
            s = results[key]["summary"]
            n = s["new"] + s["duplicates"] + s["quarantined"]
            row(label, n, results[key], note=f"   (new {s['new']:,}, known {s['duplicates']:,}, "
                                             f"quarantined {s['quarantined']})")
        total = sum(results[k]["summary"]["new"] + results[k]["summary"]["duplicates"] +
                    results[k]["summary"]["quarantined"] for k in ("enron", "bulk") if k in results)
        for key in ("again", "again2"):
            row("no-change re-run, all accounts", total, results[key], rate=False)

        if not args.skip_mbsync and shutil.which("mbsync"):
            m = mbsync_pull(server, users["bulk"], work)
            n = args.messages
            row(f"mbsync pull, generated {n:,} (whole messages)", n, m["first"])
            row("mbsync no-change re-run", n, m["again"], rate=False)
            ratio = results["bulk"]["wall"] / m["first"]["wall"]
            print(f"\ninboxrel's first ingest takes {ratio:.1f}x the wall time of mbsync's first pull of the same "
                  f"mailbox (inboxrel: header fields parsed into an indexed SQLite store; mbsync: whole messages "
                  f"written as files); the no-change runs: {results['again2']['wall']:.2f} s against "
                  f"{m['again']['wall']:.2f} s")
        print(f"store: {db.stat().st_size / 1e6:.0f} MB")
        targets = [("first run >= 3,000 msg/s", (results["bulk"]["summary"]["new"] +
                                                  results["bulk"]["summary"]["duplicates"]) / results["bulk"]["wall"] >= 3000),
                   ("no-change run < 2 s", results["again2"]["wall"] < 2.0),
                   ("peak RSS < 300 MB", max(r["rss_mb"] for r in results.values()) < 300)]
        print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))
    finally:
        server.stop()
        if args.keep:
            print(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
