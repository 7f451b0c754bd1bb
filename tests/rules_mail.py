"""Build small Maildirs for the rules, suggest and report tests, and stores imported from them.

The known-answer scenario (``scenario_messages``) as of ``NOW``:

- Carol Colleague: 24 emails both ways in the last 80 days, 12 sent and 12 received, no conversation on
  record: heavy-email-overdue-call fires.
- The Weekly Letter (List-Unsubscribe): 30 received and 3 sent: heavy on email, but automated.
- Dan One-way: 10 sent, 1 received: one-way mail is no relationship.
- Erin Waiting: a two-way thread whose last message (hers, 12 days ago) waits for my reply.
- Frank Faded: 40 emails both ways 9 to 5 months ago, 1 in the last 90 days: cooling.
- Gina Light: 3 emails in 90 days: below every threshold.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
ME = "me@example.com"
ME_NAME = "Pat Example"
CAROL = "carol@work.example"
NEWS = "news@letters.example"
DAN = "dan@oneway.example"
ERIN = "erin@waiting.example"
FRANK = "frank@faded.example"
GINA = "gina@light.example"


@dataclass
class Mail:
    sender: tuple[str, str]  # (name, address)
    to: list[tuple[str, str]]
    subject: str
    date: datetime
    body: str = "Hello,\n\nSee below.\n"
    msgid: str | None = None
    in_reply_to: str | None = None
    headers: dict = field(default_factory=dict)
    tz_minutes: int = 0


def render(m: Mail, n: int) -> bytes:
    """RFC 5322 bytes for one message (UTF-8 headers encoded as RFC 2047 where needed)."""
    from email.header import Header

    def addr(name: str, address: str) -> str:
        if not name:
            return address
        if name.isascii():
            return email.utils.formataddr((name, address))
        return f"{Header(name, 'utf-8').encode()} <{address}>"

    local = m.date.astimezone(timezone(timedelta(minutes=m.tz_minutes)))
    subject = m.subject if m.subject.isascii() else Header(m.subject, "utf-8").encode()
    lines = [
        f"From: {addr(*m.sender)}",
        f"To: {', '.join(addr(*t) for t in m.to)}",
        f"Subject: {subject}",
        f"Date: {email.utils.format_datetime(local)}",
        f"Message-ID: <{m.msgid or f'm{n}@rules.test'}>",
    ]
    if m.in_reply_to:
        lines += [f"In-Reply-To: <{m.in_reply_to}>", f"References: <{m.in_reply_to}>"]
    lines += [f"{k}: {v}" for k, v in m.headers.items()]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
              "", m.body]
    return "\r\n".join(lines).encode("utf-8")


def write_maildir(root: Path, mails: list[Mail], *, me: str = ME) -> Path:
    """A Maildir++ tree: my mail in .Sent, the rest in the INBOX."""
    for sub in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n, m in enumerate(mails, start=1):
        folder = root / ".Sent" / "cur" if m.sender[1] == me else root / "cur"
        (folder / f"{1700000000 + n}.{n}.rules:2,S").write_bytes(render(m, n))
    return root


def thread(who: tuple[str, str], subject: str, start: datetime, *, replies: int, first_from_them: bool = True,
           tag: str = "", tz: int = 0, gap: timedelta = timedelta(hours=5)) -> list[Mail]:
    """An exchange of ``replies + 1`` messages alternating between ``who`` and me."""
    me = (ME_NAME, ME)
    out, prev = [], None
    for i in range(replies + 1):
        theirs = (i % 2 == 0) == first_from_them
        mid = f"{tag}{subject.replace(' ', '-')}-{i}@{who[1].split('@')[1]}"
        out.append(Mail(who if theirs else me, [me if theirs else who], subject if i == 0 else f"Re: {subject}",
                        start + gap * i, msgid=mid, in_reply_to=prev, tz_minutes=tz if theirs else 60))
        prev = mid
    return out


def scenario_messages(now: datetime = NOW) -> list[Mail]:
    carol = ("Carol Colleague", CAROL)
    mails: list[Mail] = []
    # Carol: 12 two-message threads over the last 80 days (she asks, I answer), 24 emails both ways
    for k in range(12):
        mails += thread(carol, f"Budget item {k + 1}", now - timedelta(days=80 - 6 * k), replies=1, tz=-300,
                        tag="c")
    # and a long history: one thread a month for the 5 months before that, so she is no new acquaintance
    for k in range(5):
        mails += thread(carol, f"Older topic {k + 1}", now - timedelta(days=110 + 30 * k), replies=1, tz=-300,
                        tag="co")
    news = ("The Weekly Letter", NEWS)
    for k in range(30):
        mails.append(Mail(news, [(ME_NAME, ME)], f"This week #{k + 1}", now - timedelta(days=3 * k + 1),
                          msgid=f"news{k}@letters.example",
                          headers={"List-Unsubscribe": "<mailto:leave@letters.example>",
                                   "List-Id": "weekly.letters.example"}))
    for k in range(3):
        mails.append(Mail((ME_NAME, ME), [news], f"Re: This week #{k + 1}", now - timedelta(days=3 * k),
                          msgid=f"news-reply{k}@example.com"))
    dan = ("Dan One-way", DAN)
    for k in range(10):
        mails.append(Mail((ME_NAME, ME), [dan], f"Idea {k + 1}", now - timedelta(days=5 + 7 * k),
                          msgid=f"dan{k}@example.com"))
    mails.append(Mail(dan, [(ME_NAME, ME)], "Re: Idea 1", now - timedelta(days=4), msgid="dan-r@oneway.example",
                      in_reply_to="dan0@example.com"))
    erin = ("Erin Waiting", ERIN)
    mails += thread(erin, "Contract question", now - timedelta(days=14), replies=2, tag="e",
                    gap=timedelta(hours=24))  # hers, mine, hers (12 days ago)
    frank = ("Frank Faded", FRANK)
    for k in range(20):
        mails += thread(frank, f"Project {k + 1}", now - timedelta(days=270 - 6 * k), replies=1, tag="f")
    mails.append(Mail(frank, [(ME_NAME, ME)], "Long time", now - timedelta(days=40), msgid="frank-last@faded.example"))
    gina = ("Gina Light", GINA)
    mails += thread(gina, "Quick one", now - timedelta(days=20), replies=2, first_from_them=False, tag="g")
    return mails


def import_scenario(engine, root: Path, mails: list[Mail] | None = None, now: datetime = NOW):
    """Write the scenario Maildir under ``root`` and import it through the real parser and save path."""
    from inboxrel.pipelines.importer import import_path

    write_maildir(root, scenario_messages(now) if mails is None else mails)
    return import_path(engine, root, now=now, account="test", me=[ME])


def person_id(engine, email: str) -> int:
    from sqlalchemy import select

    from inboxrel.models import addresses

    with engine.connect() as conn:
        return conn.execute(select(addresses.c.person_id).where(addresses.c.email == email)).scalar_one()


def add_interaction(engine, email: str, kind: str, at: datetime | None, *, medium: str = "unspecified",
                    sentence: str | None = None, direction: str | None = None, source: str = "message",
                    seen: datetime | None = None, ref: str | None = None, confidence: float = 0.9) -> int:
    """Insert one evidence row directly, as the signals stage would (no dependency on its code)."""
    from sqlalchemy import insert

    from inboxrel.clock import to_db
    from inboxrel.models import interactions

    pid = person_id(engine, email)
    with engine.begin() as conn:
        return conn.execute(insert(interactions).values(
            person_id=pid, kind=kind, medium=medium, at=to_db(at), source=source,
            source_ref=ref or f"test-{kind}-{medium}-{at.isoformat() if at else 'none'}", message_id=None,
            confidence=confidence, direction=direction, sentence=sentence,
            created_at=to_db(seen or at or NOW))).inserted_primary_key[0]
