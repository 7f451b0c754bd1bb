"""JWZ threading against a real archive's own thread index (fedora-devel-list, January 2010)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from inboxrel.db import open_store
from inboxrel.models import locations, messages
from inboxrel.pipelines.importer import import_path


class _ThreadIndex(HTMLParser):
    """Top-level <li> items of the archive's thread index are threads; msgNNNNN is the message's mbox position."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.threads: list[list[int]] = []
        self.started = False

    def handle_starttag(self, tag, attrs):
        if tag == "hr":
            self.started = True
        if not self.started:
            return
        if tag == "ul":
            self.depth += 1
        if tag == "a":
            href = dict(attrs).get("href") or ""
            m = re.match(r"msg(\d+)\.html", href)
            if m:
                n = int(m.group(1))
                if self.depth == 1:
                    self.threads.append([n])
                else:
                    self.threads[-1].append(n)

    def handle_endtag(self, tag):
        if self.started and tag == "ul":
            self.depth -= 1


def _ground_truth(folder) -> list[frozenset[int]]:
    parser = _ThreadIndex()
    parser.feed((folder / "2010-January_thread.html").read_text(encoding="latin-1"))
    return [frozenset(t) for t in parser.threads]


def test_threads_match_the_archive_index(shared_data, sqlite_url, now):
    folder = shared_data / "mailing-lists" / "fedora-devel-list-2010-01"
    truth = _ground_truth(folder)
    assert sum(len(t) for t in truth) == 292
    engine = open_store(sqlite_url)
    import_path(engine, folder / "2010-January.txt", now=now, account="list")
    with engine.connect() as conn:
        rows = conn.execute(select(locations.c.key, messages.c.thread_id, locations.c.id)
                            .join(messages, messages.c.id == locations.c.message_id)
                            .order_by(locations.c.id)).all()
    # locations are inserted in mbox order, which is the archive's message numbering
    assert len(rows) == 292
    ours: dict[int, int] = {n: r.thread_id for n, r in enumerate(rows)}
    exact = sum(1 for t in truth if len({ours[n] for n in t}) == 1
                and sum(1 for v in ours.values() if v == ours[next(iter(t))]) == len(t))
    print(f"{exact} of {len(truth)} threads reproduced exactly")
    assert exact == len(truth), f"{exact} of {len(truth)} threads reproduced exactly"
