"""Import every message in ../shared/data: no crash, sensible quarantine reasons, exact distinct counts."""

from __future__ import annotations

import email
import hashlib
import re
from collections import Counter
from email.policy import compat32

import pytest
from sqlalchemy import select

from inboxrel.db import open_store
from inboxrel.models import quarantine
from inboxrel.pipelines.importer import import_path
from inboxrel.pipelines.local import discover_folders, iter_items
from inboxrel.report.queries import people_rows, stats

# Every reason the parser or reader gives; anything else would be an unexpected exception text.
REASONS = (
    "empty message",
    "no RFC 822 header lines at the start of the message",
    "no From, To, Date, Subject or Message-ID header: not an email message",
    "no usable From, To, Cc or Date: nothing to attribute this message to",
    "body cannot be decoded:",
    "unparseable message:",
    "unreadable file:",
    "cannot be stored:",
)


@pytest.mark.parametrize("corpus", ["enron", "spamassassin", "mailing-lists", "parser-testmsgs"])
def test_every_shared_message_imports_without_a_crash(corpus, shared_data, tmp_path, now):
    root = shared_data / corpus
    if corpus == "enron":
        root = root / "allen-p" / "maildir"
    files = sum(1 for f in discover_folders(root) for _ in iter_items(f))
    engine = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    summary = import_path(engine, root, now=now, account=corpus)
    assert summary.new + summary.duplicates + summary.quarantined == files
    with engine.connect() as conn:
        reasons = [r.reason for r in conn.execute(select(quarantine.c.reason))]
    assert all(r.startswith(REASONS) for r in reasons), Counter(reasons)
    # the quarantine is for garbage, not for the odd-but-real: real mail almost never lands there; the
    # parser test suites are mostly deliberate breakage and MIME fragments without any address
    assert summary.quarantined <= (0.12 if corpus == "parser-testmsgs" else 0.01) * files, Counter(reasons)


def _oracle_distinct(maildir) -> int:
    """Distinct messages by (From, Date, Subject, To+Cc, body with whitespace collapsed), computed independently."""
    seen = set()
    for path in maildir.rglob("*"):
        if not path.is_file():
            continue
        msg = email.message_from_bytes(path.read_bytes(), policy=compat32)
        payload = msg.get_payload(decode=True) or b""
        key = "|".join([str(msg["from"]).strip().lower(), str(msg["date"]), str(msg["subject"]),
                        ",".join(sorted(a.strip().lower() for a in re.split(r"[,\s]+", f"{msg['to'] or ''},{msg['cc'] or ''}") if a.strip())),
                        hashlib.sha1(b" ".join(payload.split())).hexdigest()])
        seen.add(key)
    return len(seen)


@pytest.mark.parametrize("user,me", [("allen-p", "phillip.allen@enron.com"), ("heard-m", "marie.heard@enron.com")])
def test_enron_practice_users(user, me, shared_data, db_url, now):
    maildir = shared_data / "enron" / user / "maildir"
    engine = open_store(db_url)
    summary = import_path(engine, maildir, now=now, account=user)
    assert me in summary.me  # discovered from the sent folders, not given
    with engine.connect() as conn:
        s = stats(conn, now)
        people = people_rows(conn, now)
    assert s["messages"] == _oracle_distinct(maildir)
    assert s["copies"] == sum(1 for p in maildir.rglob("*") if p.is_file())
    assert s["sent"] + s["received"] + s["self"] == s["messages"]
    assert s["quarantined"] == 0
    # every counted person has mail with me in it, and totals add up to the distinct messages' participants
    assert all(p["sent"] + p["received"] > 0 for p in people)
    assert len(people) == s["people"]
    if user == "allen-p":
        # his sent folders' two senders, and more from received mail (tests/test_identity_enron.py checks all)
        assert {"phillip.allen@enron.com", "k..allen@enron.com"} <= set(summary.me)
