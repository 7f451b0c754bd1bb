"""Synthetic mailboxes: the deterministic ``inboxrel demo`` story, and a fast generator for benchmarks.

:func:`generate_demo` writes a Maildir++ tree (INBOX, Sent, Archive, Clients/Contoso, Lists/dataeng,
Newsletters) for Sam Rivera (:data:`DEMO_ME`), about 18 months of mail ending just before :data:`DEMO_NOW`:
colleagues heavy on email, clients, friends and family, one person who changed address, one who writes
with a Reply-To to their other address, newsletters, a discussion list, notifications, calendar
invitations, a voicemail and a missed call, and a few threads waiting for Sam's reply. The story is made
for the call list: some heavy correspondents have not talked to Sam in months, one talked to him last
week, one has lunch planned for next week, and newsletters never count. The names, words and story
people are data (``demo_data.json``); this module only schedules and renders them.

The output is a pure function of the seed (``random.Random(seed)``, no clock, no hash ordering), so the
same seed writes byte-identical files, and a re-run leaves unchanged files (and their folders' mtimes)
alone, so a re-import skips them. The returned dict lists what was planted (aliases, automated senders,
threads awaiting a reply, conversation cues with their resolved dates, hard negatives, invitations), so
tests compare against the generator's own facts rather than hard-coded numbers.

:func:`generate_maildir` is the benchmark generator: plain small messages, any size, written at tens of
thousands of files per second.
"""

from __future__ import annotations

import json
import os
import quopri
import random
import time as _time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from email.utils import format_datetime, formataddr
from functools import lru_cache
from pathlib import Path

UTC = timezone.utc

DEMO_ME = "sam.rivera@northwind.example"
DEMO_NAME = "Sam Rivera"
# A Monday morning (03:00 in Chicago, where Sam lives): the nightly report's point of view. The mailbox ends
# before midnight UTC, so `--now 2026-11-16` (midnight) and `--now` DEMO_NOW see the same mail.
DEMO_NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
DEMO_DAYS = 545  # about 18 months of mail
DATA_FILE = Path(__file__).with_name("demo_data.json")

FOLDERS = {  # folder name -> directory under the root (Maildir++: subfolders are dot-directories)
    "INBOX": "",
    "Sent": ".Sent",
    "Archive": ".Archive",
    "Clients/Contoso": ".Clients.Contoso",
    "Lists/dataeng": ".Lists.dataeng",
    "Newsletters": ".Newsletters",
}
HOST = "sams-laptop.northwind.example"
SUBJECT_GAP = timedelta(days=45)
_B62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"  # threads sharing a subject are further apart than the importer's 30-day window


@lru_cache(maxsize=1)
def load_demo_data() -> dict:
    """The demo's names, words and story people (``inboxrel/demo_data.json``)."""
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


# -- time zones: UTC offsets with daylight-saving rules, so Date headers carry the offsets people really use --

def _sunday(year: int, month: int, n: int) -> date:
    """The n-th Sunday of a month (n = -1: the last one)."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


@lru_cache(maxsize=256)
def _dst_bounds(rule: str, std: int, year: int) -> tuple[datetime, datetime]:
    """The naive UTC instants daylight-saving time starts and ends in ``year``."""
    if rule == "us":  # second Sunday of March 02:00 to first Sunday of November 02:00, local time
        return (datetime.combine(_sunday(year, 3, 2), time(2)) - timedelta(minutes=std),
                datetime.combine(_sunday(year, 11, 1), time(2)) - timedelta(minutes=std + 60))
    if rule == "eu":  # last Sunday of March to last Sunday of October, 01:00 UTC
        return datetime.combine(_sunday(year, 3, -1), time(1)), datetime.combine(_sunday(year, 10, -1), time(1))
    if rule == "au":  # southern summer: from the first Sunday of October to the first Sunday of April
        return (datetime.combine(_sunday(year, 10, 1), time(2)) - timedelta(minutes=std),
                datetime.combine(_sunday(year, 4, 1), time(3)) - timedelta(minutes=std + 60))
    raise ValueError(f"unknown daylight-saving rule {rule!r}")


def zone_offset(zone: dict, utc: datetime) -> int:
    """Minutes east of UTC in ``zone`` (a ``zones`` entry of the data) at the instant ``utc``."""
    std, rule = zone["std"], zone.get("dst")
    if not rule:
        return std
    naive = utc.replace(tzinfo=None)
    start, end = _dst_bounds(rule, std, utc.year)
    if start <= end:
        return std + 60 if start <= naive < end else std
    return std + 60 if naive < end or naive >= start else std


# -- the cast ------------------------------------------------------------------------------------------------

@dataclass
class Person:
    key: str
    name: str
    email: str
    zone: str
    kind: str  # me, colleague, client, friend, family, contact, poster, exec, automated
    org: str | None = None  # key into the data's orgs
    title: str | None = None
    phone: str | None = None
    phone_label: str = "M:"
    client: str = "gmail"  # mail program: shapes Message-IDs, quoting and signatures
    display: str | None = None  # the name as their From header writes it ("Natarajan, Priya")
    reply_to: str | None = None
    sig: int = 0

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def shown(self) -> str:
        return self.display or self.name


@dataclass
class Mail:
    date: datetime  # UTC
    zone: str  # the sender's zone: the Date header's offset
    sender: Person
    from_email: str
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    subject: str
    own: str  # the author's own text (greeting, words, sign-off, signature)
    body: str  # own text plus any quoted or forwarded block
    msgid: str
    thread: int
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    reply_to: str | None = None
    sender_header: str | None = None
    calendar: tuple[str, str, bool] | None = None  # (METHOD, ics text, also as an invite.ics attachment)
    html: str | None = None
    html_only: bool = False
    automated: str | None = None  # newsletter | list | notification: what the classifier should say
    folder: str = "INBOX"
    copies: list[str] = field(default_factory=list)
    flags: str = "S"


def _ascii(text: str) -> str:
    text = text.translate(str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d"}))
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


class _Demo:
    """Builds the demo mailbox in memory: people, then mail, then files."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.d = load_demo_data()
        self.now = DEMO_NOW
        self.start = DEMO_NOW - timedelta(days=DEMO_DAYS)
        self.cutoff = DEMO_NOW.replace(hour=0) - timedelta(hours=1)  # last possible Date of any message
        self.people: dict[str, Person] = {}
        self.emails: set[str] = set()
        self.names: set[str] = set()
        self.phones: set[str] = set()
        self.mails: list[Mail] = []
        self.threads = 0
        self.subjects: dict[str, list[datetime]] = {}
        self.cues: list[dict] = []
        self.pending: list[dict] = []  # facts about the message being written
        self.negatives: list[dict] = []
        self.calendar: list[dict] = []
        self.call_attempts: list[dict] = []
        self.colleagues: list[Person] = []
        m = self.d["me"]
        self.me = Person("me", m["name"], m["email"], m["zone"], "me", "northwind", m["title"], m["phone"],
                         "m.", "gmail")
        self._claim(self.me)

    # -- helpers ------------------------------------------------------------------------------------------
    def _claim(self, p: Person) -> None:
        from inboxrel.identity import normalize_name

        self.emails.add(p.email)
        self.names.add(normalize_name(p.name) or p.name.lower())
        if p.phone:
            self.phones.add("".join(c for c in p.phone if c.isdigit())[-7:])
        self.people[p.key] = p

    def offset(self, zone: str, utc: datetime) -> int:
        return zone_offset(self.d["zones"][zone], utc)

    def at(self, zone: str, day: date, hour: int, minute: int = 0) -> datetime:
        """The UTC instant of a local wall-clock time in ``zone``."""
        naive = datetime.combine(day, time(hour, minute))
        guess = naive - timedelta(minutes=self.d["zones"][zone]["std"])
        off = self.offset(zone, guess.replace(tzinfo=UTC))
        return (naive - timedelta(minutes=off)).replace(tzinfo=UTC)

    def local(self, zone: str, utc: datetime) -> datetime:
        return (utc + timedelta(minutes=self.offset(zone, utc))).replace(tzinfo=None)

    def fill(self, template: str, ctx: dict) -> str:
        return template.format_map(ctx)

    def ctx(self, p: Person | None = None) -> dict:
        """Words for one thread's templates, so a thread keeps talking about the same project."""
        rng, d = self.rng, self.d
        org = d["orgs"].get(p.org) if p and p.org else None
        others = [c for c in self.colleagues if p is None or c.key != p.key]
        return {
            "project": rng.choice(d["projects"]), "doc": rng.choice(d["docs"]), "metric": rng.choice(d["metrics"]),
            "system": rng.choice(d["systems"]), "team": rng.choice(d["teams"]), "month": rng.choice(d["months"]),
            "weekday": rng.choice(d["weekdays"][:5]), "q": rng.randint(1, 4), "n": rng.randint(2, 9),
            "pct": rng.randint(3, 28), "letter": rng.choice("ABC"),
            "colleague": rng.choice(others).first if others else "Jordan",
            "client": org["name"] if org and p.kind == "client" else d["orgs"][rng.choice(d["client_orgs"])]["name"],
            "event": rng.choice(d["events"]), "city": rng.choice(d["cities"]),
            "title": rng.choice(d["titles"]), "org": org["name"] if org else "Lucerne Publishing",
            "other": rng.choice(others).name if others else "Jordan Lee", "conference": rng.choice(d["conferences"]),
        }

    def claim_subject(self, subject: str, when: datetime) -> None:
        """Register a new thread's subject; two threads sharing one within 31 days would be joined."""
        from inboxrel.pipelines.parse import normalize_subject

        norm = normalize_subject(subject)
        used = self.subjects.setdefault(norm, [])
        when = when.replace(microsecond=0)
        if when in used:
            return
        if any(abs(when - other) <= SUBJECT_GAP for other in used):
            raise RuntimeError(f"subject {subject!r} used twice within {SUBJECT_GAP.days} days")
        used.append(when)

    def unique_subject(self, make, when: datetime) -> str:
        """A subject no other thread uses near ``when``, so the importer's subject fallback (30 days) never
        joins two threads."""
        from inboxrel.pipelines.parse import normalize_subject

        when = when.replace(microsecond=0)
        for attempt in range(40):
            subject = make()
            if attempt >= 30:
                subject = f"{subject} ({when:%b} {when.day}{', ' + str(attempt - 29) if attempt > 30 else ''})"
            used = self.subjects.setdefault(normalize_subject(subject), [])
            if all(abs(when - other) > SUBJECT_GAP for other in used):
                used.append(when)
                return subject
        raise RuntimeError("could not find a unique subject")

    def msgid(self, p: Person, when: datetime) -> str:
        rng = self.rng
        domain = p.email.split("@", 1)[1]
        if p.client == "outlook":
            return f"<{rng.getrandbits(128):032X}@{domain.split('.')[0].upper()}-EXCH01.{domain}>"
        if p.client == "gmail":
            n, chars = rng.getrandbits(227), []
            for _ in range(38):
                n, r = divmod(n, 62)
                chars.append(_B62[r])
            return f"<CA{''.join(chars)}@mail.{domain}>"
        if p.client == "apple":
            h = f"{rng.getrandbits(128):032X}"
            return f"<{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}@{domain}>"
        return f"<{when:%Y%m%d%H%M%S}.{rng.getrandbits(40):010x}@{domain}>"

    def new_person(self, kind: str, *, org: str | None = None, zone: str | None = None, key: str | None = None,
                   phone: bool = True) -> Person:
        from inboxrel.identity import normalize_name

        rng, d = self.rng, self.d
        while True:
            first, last = rng.choice(d["first_names"]), rng.choice(d["last_names"])
            name = f"{first} {last}"
            norm = normalize_name(name) or name.lower()
            if norm in self.names:
                continue
            f, la = _ascii(first), _ascii(last).replace(" ", "")
            if org:
                style = d["orgs"][org]["style"]
                local = {"first.last": f"{f}.{la}", "flast": f"{f[0]}{la}", "first": f,
                         "first_last": f"{f}_{la}"}[style]
                email = f"{local}@{d['orgs'][org]['domain']}"
            else:
                pattern = rng.choice(["{f}.{l}", "{f}{l0}", "{f0}{l}{nn}", "{f}_{l}", "{l}.{f}"])
                local = pattern.format(f=f, l=la, f0=f[0], l0=la[0], nn=rng.randint(10, 99))
                email = f"{local}@{rng.choice(d['personal_domains'])}"
            if email in self.emails:
                continue
            break
        p = Person(key or f"{kind}{len(self.people)}", name, email, zone or "chicago", kind, org)
        p.client = rng.choices(["gmail", "outlook", "apple", "thunderbird"],
                               [3, 4 if org == "northwind" else 2, 2, 1])[0]
        if p.client == "outlook" and rng.random() < 0.4:
            p.display = f"{last}, {first}"
        if kind in ("colleague", "client", "contact"):
            p.title = rng.choice(d["titles"])
        if phone:
            p.phone = self.new_phone(p.zone)
            p.phone_label = rng.choice(d["phone_labels"])
        p.sig = rng.randint(0, 3)
        self._claim(p)
        return p

    def new_phone(self, zone: str) -> str | None:
        rng, d = self.rng, self.d
        codes = d["area_codes"].get(zone)
        if not codes:
            return None
        for _ in range(200):
            code = rng.choice(codes)
            if code == "uk":
                n = f"{rng.randint(0, 999):04d}"
                phone, key = rng.choice(d["phone_formats"]["uk"]).format(n=n), "207946" + n
            elif code == "au":
                n3 = rng.randint(110, 159)
                phone, key = rng.choice(d["phone_formats"]["au"]).format(n3=n3), f"491570{n3}"
            else:
                n = f"01{rng.randint(0, 99):02d}"
                phone, key = rng.choice(d["phone_formats"]["us"]).format(a=code, n=n), f"{code}555{n}"
            if key[-7:] not in self.phones:
                self.phones.add(key[-7:])
                return phone
        return None

    # -- bodies ----------------------------------------------------------------------------------------------
    def signature(self, p: Person, personal: bool) -> str:
        if p.kind in ("friend", "family", "poster") or personal:
            tail = "\n\nSent from my iPhone" if p.client == "apple" and self.rng.random() < 0.5 else ""
            return p.first + tail
        org = self.d["orgs"][p.org]["name"] if p.org else ""
        lines = [p.name]
        if p.sig == 0:
            lines = ["-- ", p.name, f"{p.title}, {org}" if p.title else org]
        elif p.sig == 1:
            lines = [p.first, "", p.name, f"{p.title} | {org}" if p.title else org]
        elif p.sig == 2:
            lines = [p.name, p.title or "", org]
        else:
            lines = ["--", f"{p.name} | {p.title or ''} | {org}".replace("|  |", "|")]
        if p.phone:
            lines.append(f"{p.phone_label} {p.phone}")
        if p.sig == 2 and p.email:
            lines.append(p.email)
        return "\n".join(line for line in lines if line is not None)

    def compose(self, sender: Person, to_first: str | None, paragraphs: list[str], personal: bool,
                quote: Mail | None = None, forward: str | None = None, sign: bool = True) -> tuple[str, str]:
        """The author's own text (greeting, paragraphs, sign-off, signature) and the full body."""
        rng = self.rng
        parts = []
        greeting = rng.choice(self.d["greetings"]) if to_first else ""
        if greeting:
            parts.append(greeting.format(first=to_first))
        for par in paragraphs:
            # preformatted blocks (invitations, dial-in details) keep their lines
            parts.append(par if "\n" in par else _wrap(par))
        if sign:
            signoff = rng.choice(self.d["signoffs_personal" if personal else "signoffs_work"])
            sig = self.signature(sender, personal)
            parts.append((signoff + "\n" if signoff else "") + sig)
        own = "\n\n".join(parts) + "\n"
        body = own
        if forward:
            body = own + "\n" + forward
        elif quote is not None:
            body = own + "\n" + self.quote_block(sender, quote)
        return own, body

    def quote_block(self, replier: Person, prev: Mail) -> str:
        local = self.local(replier.zone, prev.date)
        who = f"{prev.sender.name} <{prev.from_email}>"
        hour12 = local.strftime("%I").lstrip("0") or "12"
        ampm = "AM" if local.hour < 12 else "PM"
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        if replier.client == "outlook":
            full_days = self.d["weekdays"]
            to = "; ".join(f"{n} <{e}>" for n, e in prev.to)
            return ("________________________________\n"
                    f"From: {prev.sender.shown} <{prev.from_email}>\n"
                    f"Sent: {full_days[local.weekday()]}, {self.d['months'][local.month - 1]} {local.day}, "
                    f"{local.year} {hour12}:{local:%M} {ampm}\n"
                    f"To: {to}\nSubject: {prev.subject}\n\n{prev.own}")
        if replier.client == "apple":
            head = f"On {months[local.month - 1]} {local.day}, {local.year}, at {local:%H:%M}, {who} wrote:\n\n"
        elif replier.client == "thunderbird":
            head = f"On {local:%m/%d/%y} {local:%H:%M}, {prev.sender.name} wrote:\n"
        else:
            head = (f"On {days[local.weekday()]}, {months[local.month - 1]} {local.day}, {local.year} at "
                    f"{hour12}:{local:%M} {ampm} {who} wrote:\n")
        quoted = "\n".join(("> " + line) if line else ">" for line in prev.own.rstrip("\n").split("\n"))
        return head + quoted + "\n"

    # -- mail and threads --------------------------------------------------------------------------------
    def post(self, sender: Person, to: list[Person], when: datetime, subject: str, paragraphs: list[str], *,
             cc: list[Person] = (), personal: bool = False, thread: int | None = None, prev: Mail | None = None,
             quote: bool | None = None, forward: str | None = None, greet: bool = True, sign: bool = True) -> Mail:
        """One message; a reply when ``prev`` is given (threaded with In-Reply-To and References)."""
        when = when.replace(microsecond=0)  # a Date header has whole seconds; so do file names and mtimes
        if when > self.cutoff:
            raise ValueError(f"message dated after the demo's end: {when}")
        rng = self.rng
        if quote is None:
            quote = prev is not None and rng.random() < 0.55
        to_first = to[0].first if greet and to else None
        own, body = self.compose(sender, to_first, paragraphs, personal, prev if quote else None, forward, sign)
        if thread is None:
            thread = self._new_thread()
            self.claim_subject(subject, when)
        addr = [(p.shown, self.address_for(p, sender)) for p in to]
        mail = Mail(date=when, zone=sender.zone, sender=sender, from_email=sender.email, to=addr,
                    cc=[(p.shown, self.address_for(p, sender)) for p in cc], subject=subject, own=own, body=body,
                    msgid=self.msgid(sender, when), thread=thread, reply_to=self.reply_to_header(sender))
        if prev is not None:
            mail.in_reply_to = prev.msgid
            mail.references = (prev.references + [prev.msgid])[-12:]
        self.mails.append(mail)
        return mail

    def address_for(self, p: Person, sender: Person) -> str:
        # I write to Tom at the address his Reply-To names
        return p.reply_to if sender is self.me and p.reply_to else p.email

    def reply_to_header(self, p: Person) -> str | None:
        return formataddr((p.name, p.reply_to)) if p.reply_to else None

    def reply_subject(self, subject: str, replier: Person) -> str:
        if subject.lower().startswith(("re:", "aw:")):
            return subject
        return ("RE: " if replier.client == "outlook" else "Re: ") + subject

    def delay(self, after: datetime, zone: str, personal: bool) -> datetime:
        """When a reply to a message sent at ``after`` goes out, in the responder's waking (or working) hours."""
        rng = self.rng
        r = rng.random()
        if r < 0.6:
            gap = timedelta(minutes=rng.randint(6, 240))
        elif r < 0.9:
            gap = timedelta(minutes=rng.randint(240, 1200))
        else:
            gap = timedelta(minutes=rng.randint(1440, 2880))
        when = after + gap
        local = self.local(zone, when)
        lo, hi = (7, 23) if personal else (8, 19)
        day = local.date()
        if local.hour < lo:
            when = self.at(zone, day, lo, rng.randint(0, 59)) + timedelta(minutes=rng.randint(0, 90))
        elif local.hour >= hi:
            when = self.at(zone, day + timedelta(days=1), lo, rng.randint(0, 59)) + timedelta(minutes=rng.randint(0, 90))
        if not personal:
            local = self.local(zone, when)
            if local.weekday() >= 5:
                monday = local.date() + timedelta(days=7 - local.weekday())
                when = self.at(zone, monday, 8, rng.randint(0, 59)) + timedelta(minutes=rng.randint(0, 120))
        return when

    def start_time(self, zone: str, day: date, personal: bool) -> datetime:
        rng = self.rng
        if personal:
            if day.weekday() >= 5:
                return self.at(zone, day, rng.randint(9, 20), rng.randint(0, 59))
            return self.at(zone, day, rng.randint(18, 22), rng.randint(0, 59))
        if day.weekday() >= 5:
            day -= timedelta(days=day.weekday() - 4)
        return self.at(zone, day, rng.randint(8, 17), rng.randint(0, 59))

    def words(self, p: Person, first: bool, ctx: dict, personal: bool) -> list[str]:
        rng, d = self.rng, self.d
        kind = "personal" if personal else ("client" if p.kind == "client" else
                                            "contact" if p.kind == "contact" else "work")
        if personal and first and ctx.get("opener"):
            return [self.fill(ctx["opener"], ctx)]  # personal mail keeps to its subject
        pool = d[f"{kind}_openers" if first else f"{kind}_replies"]
        n = 1 if personal or kind == "contact" else rng.choice([1, 1, 2, 2, 3])
        picks = rng.sample(pool, min(n, len(pool)))
        return [self.fill(" ".join(picks), ctx)]

    def subject_for(self, p: Person, ctx: dict, personal: bool) -> str:
        d, rng = self.d, self.rng
        if personal:
            subject, ctx["opener"] = rng.choice(d["personal_topics"])
            return self.fill(subject, ctx)
        if p.kind == "client":
            pool = d["client_subjects"] + d["work_subjects"][:8]
        elif p.kind == "contact":
            pool = d["contact_subjects"]
        else:
            pool = d["work_subjects"]
        return self.fill(rng.choice(pool), {**ctx, "event": ctx["conference"] if p.kind == "contact" else ctx["event"]})

    def thread(self, p: Person, begin: datetime, *, personal: bool, cc: list[Person] = (), length: int | None = None,
               first_from_me: bool | None = None, cue: dict | None = None, negative: str | None = None,
               subject: str | None = None) -> list[Mail] | None:
        """A regular thread between me and ``p`` (and ``cc``) that ends with my message."""
        rng = self.rng
        if length is None:
            length = rng.choices([1, 2, 3, 4, 5, 6], [10, 35, 25, 15, 10, 5])[0]
        if first_from_me is None:
            first_from_me = rng.random() < 0.45
        ctx = self.ctx(p)
        when = self.start_time((self.me if first_from_me else p).zone, begin.date(), personal)
        # the whole thread must end before the demo does; threads are short, a week is plenty
        if when > self.cutoff - timedelta(days=8) or when < self.start:
            return None
        subject = subject or self.unique_subject(lambda: self.subject_for(p, ctx, personal), when)
        group = [self.me, p, *cc]
        sender = self.me if first_from_me else p
        out: list[Mail] = []
        cue_index = rng.randrange(length) if cue else -1
        neg_index = rng.randrange(length) if negative else -1
        for i in range(length):
            recipients = [x for x in group if x is not sender]
            to, cc_now = ([recipients[0]], recipients[1:]) if i == 0 else self._reply_all(out[-1], sender, group)
            paragraphs = self.words(p, i == 0, ctx, personal)
            if i == cue_index and not cc:
                paragraphs = self._with_cue(paragraphs, cue, sender, to[0], when)
            if i == neg_index:
                text = self.fill(negative, ctx)
                paragraphs = [paragraphs[0] + " " + text] + paragraphs[1:]
                self.negatives.append({"message_id": None, "author": sender.email, "text": text})
                self.pending.append(self.negatives[-1])
            mail = self.post(sender, to, when, subject if i == 0 else self.reply_subject(subject, sender), paragraphs,
                             cc=cc_now, personal=personal, thread=out[0].thread if out else None,
                             prev=out[-1] if out else None)
            self._settle(mail)
            out.append(mail)
            nxt = self._next_sender(sender, group)
            when = self.delay(when, nxt.zone, personal)
            sender = nxt
        if out[-1].sender is not self.me:
            closer = self.post(self.me, [out[-1].sender], when, self.reply_subject(subject, self.me),
                               [rng.choice(self.d["closers"])], cc=[x for x in group[1:] if x is not out[-1].sender],
                               personal=personal, thread=out[0].thread, prev=out[-1], quote=rng.random() < 0.5)
            out.append(closer)
        return out

    def _settle(self, mail: Mail) -> None:
        """Attach the cues and negatives just written into a text to the message that carries it."""
        for fact in self.pending:
            fact["message_id"] = mail.msgid.strip("<>")
            fact["date"] = mail.date.isoformat()
        self.pending.clear()

    def _reply_all(self, prev: Mail, sender: Person, group: list[Person]) -> tuple[list[Person], list[Person]]:
        to = [prev.sender] if prev.sender is not sender else [x for x in group if x is not sender][:1]
        cc = [x for x in group if x is not sender and x not in to]
        return to, cc

    def _next_sender(self, sender: Person, group: list[Person]) -> Person:
        if len(group) == 2:
            return group[1] if sender is group[0] else group[0]
        if sender is not self.me and self.rng.random() < 0.55:
            return self.me
        return self.rng.choice([x for x in group if x is not sender])

    def _with_cue(self, paragraphs: list[str], cue: dict, author: Person, other: Person, when: datetime) -> list[str]:
        """Put a conversation cue into the text and record it with its date resolved as the rules say."""
        text, resolved = self.resolve_cue(cue, author.zone, when)
        self.cues.append({"message_id": None, "author": author.email,
                          "person": other.email if author is self.me else author.email,
                          "kind": cue["kind"], "medium": cue["medium"], "when": resolved, "text": text,
                          "date": when.isoformat(), "story": False})
        self.pending.append(self.cues[-1])
        return [text + " " + paragraphs[0]] + paragraphs[1:]

    def resolve_cue(self, cue: dict, zone: str, when: datetime) -> tuple[str, str | None]:
        day = self.local(zone, when).date()
        rule = cue.get("when")
        weekdays = self.d["weekdays"]
        fill = {}
        target = None
        if rule == "today":
            target = day
        elif rule == "yesterday":
            target = day - timedelta(days=1)
        elif rule == "tomorrow":
            target = day + timedelta(days=1)
        elif rule == "weekday_past":
            target = day - timedelta(days=self.rng.randint(2, 4))
            fill["weekday_past"] = weekdays[target.weekday()]
        elif rule == "weekday_next":
            target = day + timedelta(days=self.rng.randint(2, 5))
            fill["weekday_next"] = weekdays[target.weekday()]
        elif isinstance(rule, str) and rule[:4].isdigit():
            target = date.fromisoformat(rule)
        text = cue["text"].format_map(fill) if fill else cue["text"]
        return text, target.isoformat() if target else None

    # -- relationships ---------------------------------------------------------------------------------------
    def count(self, rate: float, days: float) -> int:
        lam = rate * days / 30
        return max(0, round(self.rng.gauss(lam, lam ** 0.5))) if lam > 0 else 0

    def relationship(self, p: Person, rate: float, begin: datetime, end: datetime, *, personal: bool = False,
                     talk_every: float | None = None, cc_pool: list[Person] = (), cc_share: float = 0.0,
                     negative_share: float = 0.03) -> list[list[Mail]]:
        """Threads with ``p`` at ``rate`` threads per 30 days; a talker's mail mentions a conversation now and then."""
        rng = self.rng
        begin, end = max(begin, self.start), min(end, self.cutoff - timedelta(days=8))
        days = (end - begin).total_seconds() / 86400
        if days <= 0:
            return []
        starts = sorted(begin + timedelta(days=rng.uniform(0, days)) for _ in range(self.count(rate, days)))
        next_cue = begin + timedelta(days=rng.uniform(0, talk_every)) if talk_every else None
        threads = []
        for s in starts:
            cc = []
            pool = [c for c in cc_pool if c is not p]
            if pool and rng.random() < cc_share:
                cc = rng.sample(pool, min(len(pool), rng.randint(1, 3)))
            cue = None
            if next_cue is not None and s >= next_cue and not cc:
                cue = self.pick_cue(s)
                next_cue = s + timedelta(days=talk_every * rng.uniform(0.7, 1.3))
            negative = rng.choice(self.d["negatives"]) if rng.random() < negative_share else None
            t = self.thread(p, s, personal=personal, cc=cc, cue=cue, negative=negative)
            if t:
                threads.append(t)
        return threads

    def pick_cue(self, when: datetime) -> dict:
        rng = self.rng
        kind = "past" if rng.random() < 0.85 else "planned"
        cue = dict(rng.choice(self.d["cues"][kind]))
        cue["kind"] = kind
        return cue

    def last_past_cue(self, email: str) -> datetime | None:
        dates = [c["when"] for c in self.cues if c["person"] == email and c["kind"] == "past" and c["when"]]
        return datetime.fromisoformat(max(dates)).replace(tzinfo=UTC) if dates else None

    # -- the cast --------------------------------------------------------------------------------------------
    def cast(self) -> None:
        d, rng = self.d, self.rng
        for c in d["cast"]:
            p = Person(c["key"], c["name"], c["email"], c["zone"], c["kind"], c.get("org"), c.get("title"),
                       c.get("phone"), rng.choice(d["phone_labels"]), c.get("client", "gmail"), c.get("display"),
                       c.get("reply_to"), rng.randint(0, 3))
            self._claim(p)
            if c.get("reply_to"):
                self.emails.add(c["reply_to"])
            if c.get("email2"):
                self.emails.add(c["email2"])
        northwind = [self.people[k] for k in ("ravi", "dana", "jonah", "rachel")]  # Elena leaves: not cc'd
        self.talkers = [self.new_person("colleague", org="northwind", zone=rng.choice(d["offices"]))
                        for _ in range(5)]
        self.moderate = [self.new_person("colleague", org="northwind", zone=rng.choice(d["offices"]))
                         for _ in range(30)]
        self.colleagues = northwind + self.talkers + self.moderate
        self.clients = [self.new_person("client", org=rng.choice(d["client_orgs"]), zone=rng.choice(d["client_zones"]))
                        for _ in range(20)]
        self.friends = [self.new_person("friend", zone=rng.choice(d["friend_zones"])) for _ in range(10)]
        self.family = [self.new_person("family", zone="chicago")]
        self.contacts = [self.new_person("contact", org=rng.choice(d["contact_orgs"]) if rng.random() < 0.6 else None,
                                         zone=rng.choice(d["client_zones"]), phone=rng.random() < 0.3)
                         for _ in range(130)]
        self.posters = [self.new_person("poster", zone=rng.choice(list(d["zones"])[:-1]), phone=False)
                        for _ in range(d["list"]["posters"])]

    def everyday_mail(self) -> None:
        """Regular threads with everyone, at each relationship's own pace (rates in the data)."""
        rng, P, R = self.rng, self.people, self.d["rates"]
        start, end = self.start, self.cutoff
        team = [P[k] for k in ("ravi", "dana", "jonah")] + self.talkers  # Rachel has drifted away
        neg = R["negative_share"]
        for c in self.d["cast"]:
            p = P[c["key"]]
            if not c.get("rate") or c["key"] == "elena":
                continue
            personal = p.kind in ("friend", "family")
            if p.kind == "colleague":
                pool, share = team, R["team_cc_share"]
            elif p.kind == "client":
                pool = [x for x in self.clients if x.org == p.org] + [P[k] for k in c.get("cc_with", [])]
                share = R["client_cc_share"]
            else:
                pool, share = [], 0.0
            until = self.now - timedelta(days=c["until_days_before_now"]) if c.get("until_days_before_now") else end
            # the story people's own mail holds only the cues and negatives the story plants
            self.relationship(p, c["rate"], start, until, personal=personal, cc_pool=pool, cc_share=share,
                              talk_every=c.get("talk_every"), negative_share=0.0)
            if until < end:  # cooling: the same person, much less mail since
                self.relationship(p, c["after_rate"], until, end, personal=personal, negative_share=0.0)
        for p in self.talkers:
            self.relationship(p, rng.uniform(*R["talkers"]), start, end, cc_pool=team, cc_share=R["team_cc_share"],
                              talk_every=rng.uniform(*R["talkers_talk_every"]), negative_share=neg)
        for p in self.moderate:
            every = rng.uniform(*R["moderate_talk_every"]) if rng.random() < R["moderate_talk_share"] else None
            self.relationship(p, rng.uniform(*R["moderate"]), start, end, cc_pool=team,
                              cc_share=R["moderate_cc_share"], talk_every=every, negative_share=neg)
        for p in self.clients:
            self.relationship(p, rng.uniform(*R["clients"]), start, end,
                              cc_pool=[x for x in self.clients if x.org == p.org], cc_share=R["client_cc_share"],
                              negative_share=neg)
        for p in self.friends:
            self.relationship(p, rng.uniform(*R["friends"]), start, end, personal=True,
                              talk_every=rng.uniform(*R["friends_talk_every"]), negative_share=neg)
        for p in self.family:
            self.relationship(p, rng.uniform(*R["family"]), start, end, personal=True,
                              talk_every=rng.uniform(*R["family_talk_every"]), negative_share=neg)
        # Elena leaves Northwind: the old address goes quiet, the same name writes from a new one
        elena = next(c for c in self.d["cast"] if c["key"] == "elena")
        switch = self.now - timedelta(days=elena["switch_days_before_now"])
        self.relationship(P["elena"], elena["rate"], start, switch - timedelta(days=10), cc_pool=team,
                          cc_share=R["team_cc_share"], negative_share=0.0)
        self.elena_switch(switch, elena)
        # one-off contacts: an introduction, an invoice, a recruiter; I answer each once
        for p in self.contacts:
            s = start + timedelta(days=rng.uniform(0, DEMO_DAYS - 10))
            self.thread(p, s, personal=False, length=rng.choice([1, 1, 2, 3]),
                        first_from_me=rng.random() < 0.25)

    def elena_switch(self, switch: datetime, spec: dict) -> None:
        elena, me = self.people["elena"], self.me
        last_day = self.at(elena.zone, switch.date(), 16, 40)
        m1 = self.post(elena, [me], last_day, "My last day at Northwind",
                       ["Today is my last day at Northwind. It has been a real pleasure working with you on "
                        "Harbor and Atlas. From next month you can reach me at elena@brightline.example, where "
                        "I'm joining the analytics team."], quote=False)
        self.post(me, [elena], self.delay(last_day, me.zone, False), self.reply_subject(m1.subject, me),
                  ["Congratulations, Elena! Brightline is lucky to have you. Keep in touch."], prev=m1, thread=m1.thread)
        new = Person("elena", elena.name, "elena@brightline.example", elena.zone, "colleague", "brightline",
                     "Lead Data Scientist", elena.phone, elena.phone_label, elena.client, None, None, elena.sig)
        self.people["elena"] = new
        self.elena_old = elena
        first = self.at(new.zone, (switch + timedelta(days=20)).date(), 9, 12)
        m = self.post(new, [me], first, "New address, same me",
                      ["Settled in at Brightline! This is my new work address. Would be good to catch up in "
                       "person soon."], quote=False)
        self.cues.append({"message_id": m.msgid.strip("<>"), "author": new.email, "person": new.email,
                          "kind": "request", "medium": "in_person", "when": None,
                          "text": "Would be good to catch up in person soon.", "date": m.date.isoformat(),
                          "story": True})
        self.post(me, [new], self.delay(first, me.zone, False), self.reply_subject(m.subject, me),
                  ["Great to hear from you. I'll update my contacts."], prev=m, thread=m.thread)
        self.relationship(new, spec["after_rate"], first + timedelta(days=5), self.cutoff,
                          talk_every=spec["talk_every"], negative_share=0.0)

    # -- the story: what the call list should make of this mailbox ------------------------------------------
    def story(self) -> None:
        P, me = self.people, self.me

        def on(zone, iso_day, hour, minute):
            return self.at(zone, date.fromisoformat(iso_day), hour, minute)

        def exchange(first: Person, second: Person, subject: str, t1: datetime, text1: str, t2: datetime | None,
                     text2: str | None, *, personal=False, cue1=None, cue2=None, quote2=True):
            m1 = self.post(first, [second], t1, subject, [text1], personal=personal)
            if cue1:
                self.record_cue(m1, cue1)
            if t2 is None:
                return m1, None
            m2 = self.post(second, [first], t2, self.reply_subject(subject, second), [text2], prev=m1,
                           thread=m1.thread, personal=personal, quote=quote2)
            if cue2:
                self.record_cue(m2, cue2)
            return m1, m2

        priya, marcus, ravi, dana, jonah = P["priya"], P["marcus"], P["ravi"], P["dana"], P["jonah"]
        # Priya: met in person once, at the kickoff 14 months ago; since then email, a voicemail and a
        # cancelled meeting. Her newest message waits for my answer.
        exchange(priya, me, "Kickoff follow-ups", on("chicago", "2025-09-16", 17, 40),
                 "It was great to finally meet in person at the kickoff yesterday. I've listed the follow-ups "
                 "we agreed on below; shout if I missed any.",
                 on("chicago", "2025-09-17", 8, 55), "Thanks Priya, that's the complete list.",
                 cue1={"kind": "past", "medium": "in_person", "when": "2025-09-15",
                       "text": "It was great to finally meet in person at the kickoff yesterday."})
        self.notification_voicemail(priya, on("chicago", "2026-09-15", 14, 22), voicemail=True)
        self.invitation(priya, [me], "Contoso vendor sync", on("chicago", "2026-09-28", 10, 5),
                        on("chicago", "2026-10-08", 10, 0), 45, cancel_at=on("chicago", "2026-10-06", 8, 15),
                        link="https://teams.microsoft.com/l/meetup-join/19%3ameeting_NWQ2ZTk4%40thread.v2/0")
        m1, _ = exchange(me, priya, "Contoso renewal: pricing questions", on("chicago", "2026-11-10", 11, 2),
                         "Attaching the renewal pricing we discussed by email last week, with the tiering "
                         "options laid out side by side.", on("chicago", "2026-11-12", 16, 48),
                         "Thanks Sam. Two questions on the tiering: does tier 2 include the export add-on, and "
                         "can the discount apply from January? Could you send revised numbers by Wednesday?")
        # Marcus: last saw him in London in April (an accepted invitation); a missed call since
        self.invitation(me, [marcus], "Fabrikam partnership check-in", on("chicago", "2026-04-14", 9, 30),
                        on("london", "2026-04-22", 16, 0), 60, location="Fabrikam offices, Canary Quay, London")
        exchange(marcus, me, "London visit", on("london", "2026-04-23", 8, 10),
                 "Great to see you in London yesterday, thanks for making the trip. I'll circulate the "
                 "action items to the team.", on("chicago", "2026-04-23", 9, 20),
                 "Thanks for hosting, Marcus. Looking forward to the action items.",
                 cue1={"kind": "past", "medium": "in_person", "when": "2026-04-22",
                       "text": "Great to see you in London yesterday, thanks for making the trip."},
                 cue2={"kind": "past", "medium": "in_person", "when": None, "text": "Thanks for hosting, Marcus."})
        self.notification_voicemail(marcus, on("chicago", "2026-10-20", 11, 5), voicemail=False)
        exchange(me, marcus, "Fabrikam Q1 statement of work", on("chicago", "2026-11-09", 10, 30),
                 "Here is the draft statement of work for Q1. Phase 2 dates are in section 3.",
                 on("london", "2026-11-10", 14, 30),
                 "Thanks Sam. Legal has a couple of edits to section 4; let me know if the phase 2 dates "
                 "work for your side before we send it back.")
        # Ravi: a video call in August (Zoom invitation), then only email; he now asks for a Zoom call
        self.invitation(ravi, [me, dana, *self.talkers[:2]], "Sprint 44 demo", on("kolkata", "2026-08-18", 19, 10),
                        on("chicago", "2026-08-20", 9, 30), 45,
                        link="https://zoom.us/j/84422319902?pwd=c3ByaW50NDRkZW1v")
        exchange(me, ravi, "Sprint 48 retro notes", on("chicago", "2026-11-11", 10, 20),
                 "Notes from the retro are in the doc; I've assigned owners for the five action items.",
                 on("kolkata", "2026-11-12", 21, 45),
                 "Thanks for the notes. A few of the action items need more context than email allows, can "
                 "we hop on a Zoom call sometime?",
                 cue2={"kind": "request", "medium": "video", "when": None,
                       "text": "can we hop on a Zoom call sometime?"})
        # Dana: talks to me often; "great talking yesterday" last Thursday
        exchange(dana, me, "Platform reorg: notes", on("new_york", "2026-11-12", 9, 5),
                 "Great talking yesterday. Here are my notes on the reorg plan; let me know if I missed anything.",
                 on("chicago", "2026-11-12", 10, 30), "Thanks Dana, these match my notes. I'll share them with "
                 "the leads on Monday.",
                 cue1={"kind": "past", "medium": "unspecified", "when": "2026-11-11",
                       "text": "Great talking yesterday."})
        # Dana forwards a client's mail: the conversation in it is someone else's
        fwd_when = on("new_york", "2026-07-14", 11, 12)
        forwarded = ("---------- Forwarded message ---------\n"
                     "From: Lena Fischer <lena.fischer@contoso.example>\n"
                     "Date: Mon, Jul 13, 2026 at 4:02 PM\n"
                     "Subject: Contoso data export questions\n"
                     f"To: {dana.name} <{dana.email}>\n\n"
                     "Hi Dana,\n\nGreat talking to you yesterday. As discussed, we need the full export by the "
                     "30th, and a call with your engineers next week would help.\n\nLena\n")
        m = self.post(dana, [me], fwd_when, "Fwd: Contoso data export questions",
                      ["FYI, see below. Can you take this one? I'm out the rest of the week."], forward=forwarded)
        self.negatives.append({"message_id": m.msgid.strip("<>"), "author": dana.email, "date": m.date.isoformat(),
                               "text": "Great talking to you yesterday. (forwarded, written by someone else)"})
        self.post(me, [dana], on("chicago", "2026-07-14", 13, 5), "Re: Fwd: Contoso data export questions",
                  ["Yes, I'll take it and reply to Lena today."], prev=m, thread=m.thread)
        # Jonah: lunch next Thursday, by email and by invitation
        m1, m2 = exchange(jonah, me, "Lunch next week?", on("chicago", "2026-11-13", 11, 5),
                          "Now that the Q4 forecast is closed, let's grab lunch Thursday at 12:30. Luca's on "
                          "Wells Street?", on("chicago", "2026-11-13", 11, 40),
                          "Thursday at 12:30 works. See you at Luca's.",
                          cue1={"kind": "planned", "medium": "in_person", "when": "2026-11-19",
                                "text": "let's grab lunch Thursday at 12:30."},
                          cue2={"kind": "planned", "medium": "in_person", "when": "2026-11-19",
                                "text": "Thursday at 12:30 works. See you at Luca's."})
        self.invitation(jonah, [me], "Lunch at Luca's", on("chicago", "2026-11-13", 12, 2),
                        on("chicago", "2026-11-19", 12, 30), 60, location="Luca's Trattoria, Wells St", google=True)
        # Jonah's last lunch before that was in June
        exchange(jonah, me, "Thanks for lunch", on("chicago", "2026-06-10", 14, 5),
                 "Thanks for lunch today, my treat next time. The forecast template is attached.",
                 on("chicago", "2026-06-10", 15, 20), "Anytime! Got the template, thanks.",
                 cue1={"kind": "past", "medium": "in_person", "when": "2026-06-10",
                       "text": "Thanks for lunch today, my treat next time."})
        # Maya: an old friend asks me to call; not answered yet
        exchange(me, P["maya"], "Portland in December?", on("chicago", "2026-11-09", 20, 15),
                 "We're thinking of coming out to Portland the week before Christmas. Would that work for you?",
                 on("los_angeles", "2026-11-10", 18, 40),
                 "Yes!! We'd love to have you. There's a lot to figure out with the kids' schedule though, "
                 "call me when you get a chance.", personal=True,
                 cue2={"kind": "request", "medium": "phone", "when": None, "text": "call me when you get a chance."})
        # Gareth asks me to speak; his mail mentions a call for papers (not a call)
        g = P["event_organizer"]
        m1, m2 = exchange(g, me, "Speaker invitation: Midwest Analytics Summit 2027",
                          on("chicago", "2026-10-28", 13, 10),
                          "The call for papers closes December 15, but we'd love to invite you directly to give "
                          "a talk on product analytics.", on("chicago", "2026-10-29", 9, 40),
                          "Thanks Gareth, I'm interested. Let me check dates with my team.")
        self.negatives.append({"message_id": m1.msgid.strip("<>"), "author": g.email, "date": m1.date.isoformat(),
                               "text": "The call for papers closes December 15"})
        self.post(g, [me], on("chicago", "2026-11-06", 15, 25), "Re: Speaker invitation: Midwest Analytics Summit 2027",
                  ["Great! Could you send a title and a short abstract by the 20th?"], prev=m2, thread=m1.thread)
        # Mom: "sorry I missed your call" is not a conversation; Sunday dinner is
        linda = P["linda"]
        m1, _ = exchange(linda, me, "The lake", on("chicago", "2026-07-13", 19, 30),
                         "Sorry I missed your call, we were at the lake all weekend with no signal. Dad caught "
                         "two fish and won't stop talking about it.", on("chicago", "2026-07-13", 21, 5),
                         "Ha, tell him congratulations. Glad you had a good time.", personal=True)
        self.negatives.append({"message_id": m1.msgid.strip("<>"), "author": linda.email, "date": m1.date.isoformat(),
                               "text": "Sorry I missed your call"})
        exchange(linda, me, "Sunday", on("chicago", "2026-10-05", 8, 45),
                 "So nice to have you all over for dinner last night. The kids are getting so big!",
                 on("chicago", "2026-10-05", 12, 10), "Thanks Mom, it was lovely. Next time at our place.",
                 personal=True, cue1={"kind": "past", "medium": "in_person", "when": "2026-10-04",
                                      "text": "So nice to have you all over for dinner last night."})
        # Derek's margin call and Anjali's call for papers are other senses of "call"
        m1, _ = exchange(P["derek"], me, "Rough week", on("chicago", "2026-03-05", 20, 40),
                         "Markets were wild this week. My brother-in-law got a margin call on Tuesday and has "
                         "been in a mood since.", on("chicago", "2026-03-05", 22, 2),
                         "Oof, hope he's OK. Drinks soon to take your mind off it?", personal=True,
                         cue2={"kind": "request", "medium": "in_person", "when": None,
                               "text": "Drinks soon to take your mind off it?"})
        self.negatives.append({"message_id": m1.msgid.strip("<>"), "author": P["derek"].email,
                               "date": m1.date.isoformat(), "text": "got a margin call on Tuesday"})
        m1, _ = exchange(P["anjali"], me, "Workshop on product data", on("toronto", "2026-05-19", 10, 15),
                         "The call for papers for our workshop on product data closes on the 30th; I thought of "
                         "your pipeline work right away.", on("chicago", "2026-05-19", 13, 30),
                         "Thanks Anjali, I'll see if I can put something together.", personal=True)
        self.negatives.append({"message_id": m1.msgid.strip("<>"), "author": P["anjali"].email,
                               "date": m1.date.isoformat(), "text": "The call for papers for our workshop"})
        # Ines: from the dataeng list, wrote to me directly
        ines = P["ines"]
        exchange(ines, me, "CDC without Debezium: our notes", on("sao_paulo", "2026-03-11", 14, 20),
                 "Saw your question on the list. Sharing the notes from our migration off logical replication; "
                 "hope they help.", on("chicago", "2026-03-11", 15, 5), "These are great, thank you Ines!")
        exchange(ines, me, "Follow-up on the CDC notes", on("sao_paulo", "2026-04-02", 9, 50),
                 "One more thing I forgot: watch out for replica identity on tables without a primary key.",
                 on("chicago", "2026-04-02", 10, 30), "Good to know, thanks!")

    def talkers_recent(self) -> None:
        """A talker's last conversation is always recent: they are not due for a call."""
        rng = self.rng
        for p in self.talkers:
            last = self.last_past_cue(p.email)
            if last is None or last < self.now - timedelta(days=14):
                day = (self.now - timedelta(days=rng.randint(9, 13))).date()
                t = self.thread(p, datetime.combine(day, time(12), UTC), personal=False, length=2,
                                first_from_me=False, cue={"kind": "past", **self.d["cues"]["past"][0]})
                if not t:
                    raise RuntimeError(f"no room for a recent thread with {p.email}")

    def record_cue(self, mail: Mail, cue: dict) -> None:
        author = mail.sender
        person = author.email if author is not self.me else mail.to[0][1]
        self.cues.append({"message_id": mail.msgid.strip("<>"), "author": author.email, "person": person,
                          "kind": cue["kind"], "medium": cue["medium"], "when": cue["when"], "text": cue["text"],
                          "date": mail.date.isoformat(), "story": True})

    # -- calendar ---------------------------------------------------------------------------------------------
    def invitation(self, organizer: Person, attendees: list[Person], summary: str, sent: datetime,
                   start: datetime, minutes: int, *, location: str | None = None, link: str | None = None,
                   cancel_at: datetime | None = None, google: bool = False) -> None:
        """An invitation (METHOD:REQUEST), each attendee's acceptance, and optionally a cancellation."""
        me = self.me
        end = start + timedelta(minutes=minutes)
        uid = f"{self.rng.getrandbits(64):016x}-{start:%Y%m%d}@{organizer.email.split('@')[1]}"
        when_local = self.local(me.zone, start)
        hour12 = when_local.strftime("%I").lstrip("0")
        stamp = (f"{self.d['weekdays'][when_local.weekday()][:3]} {when_local:%b} {when_local.day}, {when_local.year} "
                 f"{hour12}:{when_local:%M}{'am' if when_local.hour < 12 else 'pm'}")
        title = f"{summary} @ {stamp} (CST)" if self.offset(me.zone, start) == -360 else f"{summary} @ {stamp} (CDT)"
        desc = f"Join: {link}" if link else ""
        text = [f"{organizer.name} has invited you to {summary}.",
                f"When: {stamp}, {minutes} minutes" + (f"\nWhere: {location}" if location else "")]
        if link:
            text.append(f"Join Zoom Meeting\n{link}\n\nMeeting ID: 844 2231 9902\nPasscode: 441122\n"
                        "One tap mobile: +13125550100,,84422319902#" if "zoom" in link else
                        f"Microsoft Teams meeting\nJoin on your computer or mobile app:\n{link}\n"
                        "Or call in (audio only): +1 312-555-0100, phone conference ID: 551 220 417#")
        invite_to = [a for a in attendees if a is not organizer]
        ics = self.ics("REQUEST", uid, 0, organizer, invite_to, summary, start, end, sent, location, desc, {})
        m = self.post(organizer, invite_to, sent, f"Invitation: {title}", ["\n".join(text)], greet=False,
                      quote=False, sign=False)
        m.calendar = ("REQUEST", ics, google)
        self.calendar.append({"message_id": m.msgid.strip("<>"), "method": "REQUEST", "uid": uid, "summary": summary,
                              "organizer": organizer.email, "attendees": [a.email for a in invite_to],
                              "start": start.isoformat(), "end": end.isoformat(), "video": bool(link),
                              "location": location})
        prev = m
        # my mailbox holds my own answer, or, when I organise, each attendee's
        for a in invite_to:
            if organizer is not me and a is not me:
                continue
            reply_at = self.delay(sent, a.zone, False) if a is not me else sent + timedelta(minutes=8)
            reply_at = min(reply_at, start - timedelta(minutes=30))
            ics_r = self.ics("REPLY", uid, 0, organizer, [a], summary, start, end, reply_at, location, desc,
                             {a.email: "ACCEPTED"})
            r = self.post(a, [organizer], reply_at, f"Accepted: {title}",
                          [f"{a.name} has accepted this invitation."], prev=m, thread=m.thread, greet=False, quote=False,
                          sign=False)
            r.calendar = ("REPLY", ics_r, False)
            self.calendar.append({"message_id": r.msgid.strip("<>"), "method": "REPLY", "uid": uid,
                                  "summary": summary, "organizer": organizer.email, "attendees": [a.email],
                                  "partstat": "ACCEPTED", "start": start.isoformat(), "end": end.isoformat(),
                                  "video": bool(link), "location": location})
            prev = r
        if organizer is me:
            self.post(me, invite_to, prev.date + timedelta(hours=2), self.reply_subject(summary, me),
                      ["Great, I'll send an agenda beforehand."], prev=prev, thread=m.thread, quote=False)
        if cancel_at:
            ics_c = self.ics("CANCEL", uid, 1, organizer, invite_to, summary, start, end, cancel_at, location, desc, {})
            c = self.post(organizer, invite_to, cancel_at, f"Canceled: {title}",
                          [f"{organizer.name} has canceled this event. Sorry for the late change, the renewal "
                           "review is taking longer than planned."], prev=prev, thread=m.thread, greet=False,
                          quote=False)
            c.calendar = ("CANCEL", ics_c, False)
            self.calendar.append({"message_id": c.msgid.strip("<>"), "method": "CANCEL", "uid": uid,
                                  "summary": summary, "organizer": organizer.email,
                                  "attendees": [a.email for a in invite_to], "start": start.isoformat(),
                                  "end": end.isoformat(), "video": bool(link), "location": location})
            self.post(me, [organizer], cancel_at + timedelta(minutes=47), self.reply_subject(c.subject, me),
                      ["No problem, thanks for letting me know."], prev=c, thread=m.thread, quote=False)

    def ics(self, method, uid, sequence, organizer, attendees, summary, start, end, stamp, location, desc,
            partstat) -> str:
        def esc(v: str) -> str:
            return v.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")

        def z(dt: datetime) -> str:
            return dt.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

        lines = ["BEGIN:VCALENDAR", "PRODID:-//Northwind Traders//Demo Calendar 1.0//EN", "VERSION:2.0",
                 "CALSCALE:GREGORIAN", f"METHOD:{method}", "BEGIN:VEVENT", f"DTSTART:{z(start)}", f"DTEND:{z(end)}",
                 f"DTSTAMP:{z(stamp)}", f"ORGANIZER;CN={organizer.name}:mailto:{organizer.email}", f"UID:{uid}"]
        for a in attendees:
            status = partstat.get(a.email, "CANCELLED" if method == "CANCEL" else "NEEDS-ACTION")
            if method == "CANCEL":
                status = "NEEDS-ACTION"
            lines.append(f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT={status};"
                         f"RSVP={'TRUE' if method == 'REQUEST' else 'FALSE'};CN={a.name}:mailto:{a.email}")
        if method != "REPLY":
            lines.append(f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=CHAIR;PARTSTAT=ACCEPTED;CN={organizer.name}:"
                         f"mailto:{organizer.email}")
        if desc:
            lines.append(f"DESCRIPTION:{esc(desc)}")
        if location:
            lines.append(f"LOCATION:{esc(location)}")
        lines += [f"SEQUENCE:{sequence}", f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
                  f"SUMMARY:{esc(summary)}", "TRANSP:OPAQUE", "END:VEVENT", "END:VCALENDAR"]
        return "".join(_fold(line) + "\r\n" for line in lines)

    # -- machines and lists ----------------------------------------------------------------------------------
    def notification_voicemail(self, caller: Person, when: datetime, voicemail: bool) -> None:
        voice = self.machine("voice", "Northwind Voice", "voicemail@voice.northwind.example")
        local = self.local(self.me.zone, when)
        number = _dial_format(caller.phone)
        if voicemail:
            subject = f"New voicemail from {caller.name} ({number})"
            text = (f"You received a new voicemail from {caller.name} ({number}) on "
                    f"{local:%A, %B} {local.day} at {local:%H:%M}. Duration: 0:42.\n\n"
                    f"Transcript (preview): \"Hi Sam, it's {caller.first}, tried to catch you about the "
                    f"renewal numbers. Give me a call back when you can.\"\n\n"
                    "Listen to the message in the Northwind Voice app.")
        else:
            subject = f"Missed call from {caller.name} ({number})"
            text = (f"You missed a call from {caller.name} ({number}) on {local:%A, %B} {local.day} at "
                    f"{local:%H:%M}. No voicemail was left.\n\nCall back from the Northwind Voice app.")
        m = self.post(voice, [self.me], when, self.unique_subject(lambda: subject, when), [text], greet=False, quote=False)
        m.own = m.body = text + "\n"
        m.automated = "notification"
        m.headers = [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")]
        self.call_attempts.append({"message_id": m.msgid.strip("<>"), "person": caller.email, "phone": caller.phone,
                                   "kind": "voicemail" if voicemail else "missed_call", "at": when.isoformat()})

    def machine(self, key: str, name: str, email: str, zone: str = "utc") -> Person:
        if key not in self.people:
            p = Person(key, name, email, zone, "automated", client="machine")
            self.people[key] = p
            self.emails.add(email)
        return self.people[key]

    def machine_mail(self, sender: Person, when: datetime, subject: str, text: str, kind: str,
                     headers: list[tuple[str, str]], *, display: str | None = None, prev: Mail | None = None,
                     html: str | None = None, html_only: bool = False) -> Mail:
        m = self.post(sender, [self.me], when, subject, [text], greet=False, quote=False, prev=prev,
                      thread=prev.thread if prev else None)
        m.own = m.body = text + "\n"
        m.automated = kind
        m.headers = headers
        m.html, m.html_only = html, html_only
        if display:
            m.sender = Person(sender.key, display, sender.email, sender.zone, "automated", client="machine")
        return m

    def newsletters(self) -> None:
        rng = self.rng
        for nl in self.d["newsletters"]:
            sender = self.machine(nl["email"], nl["name"], nl["email"], nl["zone"])
            day = self.start.date() + timedelta(days=(nl["weekday"] - self.start.weekday()) % 7)
            issue = rng.randint(40, 180)
            while True:
                when = self.at(nl["zone"], day, nl["hour"], rng.randint(0, 20))
                if when > self.cutoff:
                    break
                issue += 1
                chosen = {}

                def make(nl=nl, issue=issue, chosen=chosen):
                    chosen["topic"] = rng.choice(nl["topics"])
                    return self.fill(rng.choice(nl["subjects"]), {"topic": chosen["topic"], "n": issue})

                subject = self.unique_subject(make, when)
                topic = chosen["topic"]
                lines = [self.fill(line, {"topic": topic}) for line in nl["lines"]]
                text = "\n\n".join(lines) + (f"\n\nYou are receiving this because you subscribed at "
                                             f"{nl['email'].split('@')[1]}.\nUnsubscribe: "
                                             f"https://{nl['email'].split('@')[1]}/u/{rng.getrandbits(32):08x}")
                domain = nl["email"].split("@")[1]
                headers = [("List-Unsubscribe", f"<https://{domain}/unsubscribe?u={rng.getrandbits(48):012x}>, "
                                                f"<mailto:unsubscribe@{domain}>"),
                           ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
                esp = nl["esp"]
                if esp == "mailchimp":
                    headers += [("List-Id", f"{nl['name']} <{rng.getrandbits(40):010x}.list-id.{domain}>"),
                                ("X-MC-User", f"{rng.getrandbits(64):016x}"), ("Precedence", "bulk")]
                elif esp == "ses":
                    headers += [("Feedback-ID", f"1.us-east-1.{rng.getrandbits(64):016x}:AmazonSES"),
                                ("X-SES-Outgoing", f"{when:%Y.%m.%d}-54.240.8.{rng.randint(2, 250)}")]
                elif esp == "sendgrid":
                    headers += [("X-SG-EID", f"{rng.getrandbits(96):024x}")]
                elif esp == "plain":
                    headers += [("List-Id", f"{nl['name']} <members.{domain}>"), ("Precedence", "bulk")]
                html = None
                if esp in ("html", "mailchimp"):
                    paras = "".join(f"<p>{line}</p>" for line in lines)
                    html = (f"<html><head><style>p {{ font-family: sans-serif; }}</style></head><body>"
                            f"<h1>{subject}</h1>{paras}<p><a href=\"https://{domain}/u\">Unsubscribe</a></p>"
                            "</body></html>")
                m = self.machine_mail(sender, when, subject, text, "newsletter", headers, html=html,
                                      html_only=esp == "html")
                m.folder = "Newsletters"
                m.flags = "S" if rng.random() < 0.6 else ""
                day += timedelta(days=nl["every_days"])

    def notifications(self) -> None:
        rng = self.rng
        for spec in self.d["notifications"]:
            sender = self.machine(spec["email"], spec["name"], spec["email"], spec["zone"])
            t = self.start + timedelta(hours=rng.uniform(1, 48))
            n = 0
            open_items: list[tuple[Mail, str]] = []
            while True:
                t += timedelta(days=rng.expovariate(1 / spec["every_days"]))
                local = self.local("chicago", t)
                if local.hour < 7:
                    t += timedelta(hours=7 - local.hour)
                if t > self.cutoff:
                    break
                n += 1
                self.notification(spec, sender, t, n, open_items)

    def notification(self, spec: dict, sender: Person, t: datetime, n: int, open_items: list) -> None:
        rng, kind = self.rng, spec["kind"]
        if kind == "codehub":
            actor = rng.choice(self.colleagues[:10])
            if open_items and rng.random() < 0.6:
                first, subject = rng.choice(open_items)
                text = f"{actor.name} commented on this pull request.\n\n{rng.choice(['LGTM', 'Could you add a test for the empty case?', 'Rebased on main.', 'Merged.'])}"
                prev = first
                subj = "Re: " + subject
            else:
                repo = rng.choice(spec["repos"])
                number = 200 + n
                subject = f"[{repo}] {rng.choice(spec['titles'])} (#{number})"
                text = f"{actor.name} requested your review on this pull request.\n\nhttps://codehub.example/{repo}/pull/{number}"
                prev, subj = None, subject
            repo_name = subject.split("]")[0][1:]
            headers = [("List-ID", f"{repo_name} <{repo_name.replace('/', '.')}.codehub.example>"),
                       ("List-Unsubscribe", "<https://codehub.example/notifications/unsubscribe>"),
                       ("X-GitHub-Reason", rng.choice(["review_requested", "mention", "subscribed"]))]
            m = self.machine_mail(sender, t, subj, text, "newsletter", headers, display=actor.name, prev=prev)
            if prev is None:
                open_items.append((m, subject))
                del open_items[:-6]
        elif kind == "tracker":
            actor = rng.choice(self.colleagues[:12])
            key = f"{rng.choice(spec['keys'])}-{100 + n}"
            subject = f"[JIRA] ({key}) {rng.choice(spec['titles'])}"
            text = f"{actor.name} assigned {key} to you.\n\nPriority: {rng.choice(['Major', 'Minor', 'Critical'])}"
            headers = [("Auto-Submitted", "auto-generated"), ("Precedence", "bulk"),
                       ("X-JIRA-FingerPrint", f"{rng.getrandbits(64):016x}")]
            self.machine_mail(sender, t, subject, text, "notification", headers, display=f"{actor.name} (Jira)")
        elif kind == "bank":
            local = self.local("chicago", t)
            if (local.year, local.month) not in open_items:  # one statement a month, then card alerts
                open_items.append((local.year, local.month))
                subject = f"Your {self.d['months'][local.month - 1]} {local.year} statement is ready"
            else:
                subject = f"Card alert: ${rng.randint(12, 480)}.{rng.randint(0, 99):02d} at {rng.choice(['Harbor Books', 'Luca’s Trattoria', 'Parcelway', 'City Market', 'Northside Fuel'])}"
            text = f"{subject}.\n\nSign in to First Harbor online banking to see the details. Please do not reply to this message."
            headers = [("Feedback-ID", f"0.us-east-2.{rng.getrandbits(48):012x}:AmazonSES"),
                       ("X-SES-Outgoing", f"{t:%Y.%m.%d}-23.251.234.{rng.randint(2, 250)}")]
            self.machine_mail(sender, t, self.unique_subject(lambda: subject, t), text, "notification", headers)
        elif kind == "parcel":
            subject = self.unique_subject(
                lambda: f"Your package is on its way (order #A{rng.randint(10000, 99999)})", t)
            order = subject.split("#", 1)[1].split(")", 1)[0]
            text = f"Good news! Order #{order} has shipped and should arrive within 3 business days."
            headers = [("X-Mailgun-Sid", f"W{rng.getrandbits(64):016x}"), ("X-Mailgun-Tag", "tracking")]
            self.machine_mail(sender, t, subject, text, "notification", headers)
        elif kind == "expense":
            local = self.local("chicago", t)
            subject = f"Expense report EXP-{local.year}-{n:04d} {rng.choice(['approved', 'submitted', 'reimbursed'])}"
            text = f"{subject}.\n\nTotal: ${rng.randint(40, 900)}.00. View it in Expensely."
            self.machine_mail(sender, t, subject, text, "notification", [("Auto-Submitted", "auto-generated")])
        elif kind == "it":
            local = self.local("chicago", t)
            subject = f"Scheduled maintenance on {self.d['months'][local.month - 1]} {local.day}"
            text = ("The VPN and the file servers will be unavailable from 22:00 to 23:30 on that day. "
                    "No action is needed.")
            self.machine_mail(sender, t, self.unique_subject(lambda: subject, t), text, "notification",
                              [("Precedence", "bulk")], display="Northwind IT Helpdesk")

    def discussion_list(self) -> None:
        rng, spec = self.rng, self.d["list"]
        posters = self.posters + [self.people["ines"]]
        lst = Person("list", spec["name"], spec["address"], "utc", "automated", client="machine")
        self.emails.add(spec["address"])
        headers = [("List-Id", spec["id"]), ("List-Post", f"<mailto:{spec['address']}>"),
                   ("List-Unsubscribe", f"<mailto:dataeng-leave@{spec['address'].split('@')[1]}>"),
                   ("List-Archive", "<https://lists.riverside.example/archives/dataeng>"), ("Precedence", "list")]
        sender_header = f"dataeng-bounces@{spec['address'].split('@')[1]}"
        days = (self.cutoff - self.start).days - 4
        n_threads = self.count(self.d["rates"]["list_threads"], days)
        starts = sorted(self.start + timedelta(days=rng.uniform(0, days)) for _ in range(n_threads))
        announcements = list(spec["announcements"])
        for i, s in enumerate(starts):
            author = rng.choice(posters)
            when = self.at(author.zone, s.date(), rng.randint(7, 21), rng.randint(0, 59))
            if when > self.cutoff - timedelta(days=4):
                continue
            if announcements and i in (n_threads // 3, 2 * n_threads // 3):
                a = announcements.pop(0)
                topic, opener = a["subject"], a["text"]
            else:
                topic = None
                opener = None
            subject_plain = self.unique_subject(lambda topic=topic: topic or rng.choice(spec["subjects"]), when)
            subject = f"{spec['tag']} {subject_plain}"
            opener = opener or rng.choice(spec["openers"])
            own, body = self.compose(author, None, [opener], False)
            prev = None
            for k in range(rng.choices([1, 2, 3, 4, 5, 6], [25, 20, 20, 15, 12, 8])[0]):
                if k:
                    author = rng.choice([p for p in posters if p is not prev.sender])
                    when = when + timedelta(minutes=rng.randint(20, 2000))
                    if when > self.cutoff:
                        break
                    own, body = self.compose(author, None, [rng.choice(spec["replies"])], False,
                                             quote=prev if rng.random() < 0.6 else None)
                m = Mail(date=when, zone=author.zone, sender=author, from_email=author.email,
                         to=[(lst.name, lst.email)], cc=[], subject=subject if not k else f"Re: {subject}",
                         own=own, body=body, msgid=self.msgid(author, when),
                         thread=prev.thread if prev else self._new_thread(), headers=headers,
                         sender_header=sender_header, automated="list", folder="Lists/dataeng",
                         flags="S" if rng.random() < 0.4 else "")
                if prev:
                    m.in_reply_to = prev.msgid
                    m.references = (prev.references + [prev.msgid])[-12:]
                self.mails.append(m)
                prev = m

    def all_hands(self) -> None:
        """Monthly all-hands invitations to all@ (a company list): dial-in boilerplate, not a conversation."""
        rng = self.rng
        alicia = self.people["alicia"]
        all_list = Person("all", "All Northwind", "all@northwind.example", "chicago", "automated", client="machine")
        self.emails.add(all_list.email)
        day = date(self.start.year, self.start.month, 1)
        while True:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            first_tue = day + timedelta(days=(1 - day.weekday()) % 7)
            when = self.at("chicago", first_tue - timedelta(days=6), 9, rng.randint(0, 30))
            if when > self.cutoff:
                break
            month = self.d["months"][first_tue.month - 1]
            text = (f"Team,\n\nOur {month} all-hands is on Tuesday, {month} {first_tue.day} at 10:00 CT. Agenda: "
                    "quarterly results, hiring, and Q&A.\n\nJoin Zoom Meeting\n"
                    "https://zoom.us/j/95510020030\n\nMeeting ID: 955 1002 0030\nDial by your location\n"
                    "        +1 312 555 0100 US (Chicago)\n        +1 646 555 0100 US (New York)\n\nAlicia")
            m = Mail(date=when, zone="chicago", sender=alicia, from_email=alicia.email,
                     to=[(all_list.name, all_list.email)], cc=[], subject=f"All-hands: {month} {first_tue.year}",
                     own=text + "\n", body=text + "\n", msgid=self.msgid(alicia, when), thread=self._new_thread(),
                     headers=[("List-Id", "<all.northwind.example>"), ("List-Post", "<mailto:all@northwind.example>"),
                              ("Precedence", "list")],
                     sender_header="all+bounces@northwind.example", automated="list")
            self.mails.append(m)
            self.negatives.append({"message_id": m.msgid.strip("<>"), "author": alicia.email,
                                   "date": when.isoformat(), "text": "dial-in boilerplate (all-hands)"})

    def _new_thread(self) -> int:
        self.threads += 1
        return self.threads

    # -- folders and flags -----------------------------------------------------------------------------------
    def file_mail(self) -> None:
        replied = {m.in_reply_to for m in self.mails if m.sender is self.me and m.in_reply_to}
        last_of_thread: dict[int, Mail] = {}
        for m in self.mails:
            cur = last_of_thread.get(m.thread)
            if cur is None or (m.date, m.msgid) > (cur.date, cur.msgid):
                last_of_thread[m.thread] = m
        recent = self.now - timedelta(days=30)
        for m in self.mails:
            if m.sender is self.me:
                m.folder, m.flags = "Sent", "S"
                continue
            if m.automated in ("list", "newsletter") and m.folder in ("Lists/dataeng", "Newsletters"):
                continue
            m.folder = "INBOX" if m.date >= recent else "Archive"
            if m.msgid in replied:
                m.flags = "RS"
            elif last_of_thread[m.thread] is m and m.automated is None:
                m.flags = "FS"  # waiting for my answer: flagged
            elif m.date >= self.now - timedelta(days=2):
                m.flags = ""
            else:
                m.flags = "S"
            if m.sender.key == "priya" and m.date >= self.now - timedelta(days=365):
                m.copies = ["Clients/Contoso"]

    def build(self) -> None:
        self.cast()
        self.story()
        self.everyday_mail()
        self.talkers_recent()
        self.all_hands()
        self.discussion_list()
        self.newsletters()
        self.notifications()
        self.file_mail()
        self.mails.sort(key=lambda m: (m.date, m.msgid))


def _dial_format(phone: str) -> str:
    """A number as a phone system prints it: +1 312-555-0142, +44 20 7946 0321."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) == 10 or (len(digits) == 11 and digits[0] == "1"):
        d = digits[-10:]
        return f"+1 {d[:3]}-{d[3:6]}-{d[6:]}"
    if digits.startswith("44") and len(digits) == 12:
        return f"+44 {digits[2:4]} {digits[4:8]} {digits[8:]}"
    return phone


def _wrap(text: str, width: int = 76) -> str:
    """Greedy word wrap (textwrap.fill without its cost; the demo wraps thousands of paragraphs)."""
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    lines.append(cur)
    return "\n".join(lines)


def _fold(line: str, limit: int = 75) -> str:
    """Fold an iCalendar content line at 75 octets (RFC 5545, 3.1)."""
    data = line.encode("utf-8")
    if len(data) <= limit:
        return line
    out, cur = [], b""
    for ch in line:
        b = ch.encode("utf-8")
        if len(cur) + len(b) > (limit if not out else limit - 1):
            out.append(cur.decode("utf-8"))
            cur = b""
        cur += b
    out.append(cur.decode("utf-8"))
    return "\r\n ".join(out)


def _fold_addresses(name: str, addrs: list[tuple[str, str]]) -> str:
    items = [formataddr((n, e), charset="utf-8") if n else e for n, e in addrs]
    return f"{name}: " + ",\n ".join(items)


def _b64(data: bytes) -> str:
    import base64

    enc = base64.b64encode(data).decode("ascii")
    return "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))


def _encode_body(text: str, client: str) -> tuple[str, str]:
    """(Content-Transfer-Encoding, encoded text) the way the author's mail program would send it."""
    if text.isascii():
        return "7bit", text
    if client in ("outlook", "apple"):
        return "quoted-printable", quopri.encodestring(text.encode("utf-8")).decode("ascii")
    return "8bit", text


def _header_value(value: str) -> str:
    if value.isascii():
        return value
    from email.header import Header

    return Header(value, "utf-8").encode()


def render_mail(m: Mail, me_email: str) -> bytes:
    """The RFC 5322 bytes of one message (LF line ends, as Maildir files are kept)."""
    h = []
    if m.from_email != me_email:
        h.append(f"Return-Path: <{m.sender_header or m.from_email}>")
    h.append(f"Date: {format_datetime(m.date.astimezone(timezone(timedelta(minutes=zone_offset_of(m)))))}")
    h.append(f"From: {formataddr((m.sender.shown, m.from_email), charset='utf-8')}")
    if m.sender_header:
        h.append(f"Sender: {m.sender_header}")
    if m.reply_to:
        h.append(f"Reply-To: {m.reply_to}")
    h.append(_fold_addresses("To", m.to))
    if m.cc:
        h.append(_fold_addresses("Cc", m.cc))
    h.append(f"Subject: {_header_value(m.subject)}")
    h.append(f"Message-ID: {m.msgid}")
    if m.in_reply_to:
        h.append(f"In-Reply-To: {m.in_reply_to}")
        h.append("References: " + "\n ".join(m.references))
    h.append("MIME-Version: 1.0")
    client = m.sender.client
    if client == "apple":
        h.append("X-Mailer: iPhone Mail (22B83)")
    elif client == "thunderbird":
        h.append("User-Agent: Mozilla Thunderbird")
    elif client == "outlook":
        h.append("X-Mailer: Microsoft Outlook 16.0")
    for k, v in m.headers:
        h.append(f"{k}: {v}")
    boundary = f"=_{m.msgid.strip('<>').split('@')[0][-16:]}"
    cte, text = _encode_body(m.body, client)
    plain = f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: {cte}\n\n{text}"
    if m.calendar:
        method, ics, attach = m.calendar
        cal = (f"Content-Type: text/calendar; charset=UTF-8; method={method}\nContent-Transfer-Encoding: base64\n\n"
               f"{_b64(ics.encode('utf-8'))}\n")
        alt = f"Content-Type: multipart/alternative; boundary=\"{boundary}a\"\n\n--{boundary}a\n{plain}\n--{boundary}a\n{cal}--{boundary}a--\n"
        if attach:
            att = (f"Content-Type: application/ics; name=\"invite.ics\"\nContent-Disposition: attachment; "
                   f"filename=\"invite.ics\"\nContent-Transfer-Encoding: base64\n\n{_b64(ics.encode('utf-8'))}\n")
            h.append(f"Content-Type: multipart/mixed; boundary=\"{boundary}m\"")
            body = f"--{boundary}m\n{alt}\n--{boundary}m\n{att}--{boundary}m--\n"
        else:
            h.append(f"Content-Type: multipart/alternative; boundary=\"{boundary}a\"")
            body = f"--{boundary}a\n{plain}\n--{boundary}a\n{cal}--{boundary}a--\n"
    elif m.html and m.html_only:
        hcte, html = _encode_body(m.html, "outlook")
        h.append("Content-Type: text/html; charset=utf-8")
        h.append(f"Content-Transfer-Encoding: {hcte}")
        body = html + "\n"
    elif m.html:
        hcte, html = _encode_body(m.html, "outlook")
        h.append(f"Content-Type: multipart/alternative; boundary=\"{boundary}a\"")
        body = (f"This is a multi-part message in MIME format.\n\n--{boundary}a\n{plain}\n--{boundary}a\n"
                f"Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: {hcte}\n\n{html}\n--{boundary}a--\n")
    else:
        h.append("Content-Type: text/plain; charset=utf-8" + ("; format=flowed" if client == "thunderbird" else ""))
        h.append(f"Content-Transfer-Encoding: {cte}")
        body = text
    return ("\n".join(h) + "\n\n" + body).encode("utf-8")


def zone_offset_of(m: Mail) -> int:
    return zone_offset(load_demo_data()["zones"][m.zone], m.date)


# -- writing Maildir files -------------------------------------------------------------------------------------

def _maildir_name(when: datetime, rng: random.Random, size: int, lines: int, flags: str, host: str = HOST) -> str:
    return (f"{int(when.timestamp())}.M{rng.randrange(1_000_000)}P{rng.randrange(1000, 65000)}.{host},"
            f"S={size},W={size + lines}:2,{flags}")


def _write_tree(root: Path, files: dict[str, list[tuple[str, bytes, float]]]) -> tuple[int, int]:
    """Make ``root`` hold exactly these files per folder; return (files written, files removed).

    Unchanged files are not touched, nor are their folders' mtimes, so a re-import skips the folders.
    Missing or changed files are written straight into cur/ (nothing reads the tree while it is made),
    one worker thread per folder; demo files of another seed are removed. A tree holding any other mail
    is refused before anything is changed: the demo never deletes someone's real mail.
    """
    from concurrent.futures import ThreadPoolExecutor

    from inboxrel.errors import UsageError

    plan = []
    for folder, entries in files.items():
        base = root / FOLDERS[folder] if FOLDERS[folder] else root
        present = {sub: set(os.listdir(base / sub)) if (base / sub).is_dir() else set() for sub in ("cur", "new")}
        wanted = {name for name, _, _ in entries}
        stale = [base / "cur" / n for n in sorted(present["cur"] - wanted)] + \
                [base / "new" / n for n in sorted(present["new"])]
        foreign = [p for p in stale if f".{HOST}," not in p.name]
        if foreign:
            raise UsageError(f"{root} holds mail that is not the demo's ({foreign[0]}): give --path an empty "
                             "directory or one the demo wrote")
        plan.append((folder, base, entries, present["cur"], stale))
    removed = 0
    work: list[list[tuple[str, bytes, float]]] = []
    for folder, base, entries, present, stale in plan:
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
        if FOLDERS[folder] and not (base / "maildirfolder").exists():
            (base / "maildirfolder").touch()  # Maildir++ marks subfolders so (Dovecot)
        for path in stale:
            os.unlink(path)
            removed += 1
        todo = []
        for name, data, mtime in entries:
            target = base / "cur" / name
            if name in present:
                with open(target, "rb") as fh:
                    if fh.read(len(data) + 1) == data:
                        continue
                os.unlink(target)  # a new entry, not an in-place rewrite: the folder's mtime must change
            todo.append((str(target), data, mtime))
        if todo:
            work.append(todo)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(_write_files, todo, True) for todo in work]:
            future.result()
    return sum(len(todo) for todo in work), removed


def generate_demo(path, seed: int = 7) -> dict:
    """Write the demo Maildir under ``path`` and return what it holds and what was planted.

    The same seed gives byte-identical files; re-running leaves unchanged files alone. Keys: ``messages``
    (distinct messages), ``files`` (including copies), ``folders`` (files per folder), ``people`` (people who
    wrote to me or I wrote to, outside list mail, after the two expected merges), ``people_all`` (everyone in
    any header), ``addresses`` (every address, mine included), ``threads``, ``sent``, ``received``,
    ``aliases``, ``automated`` (newsletter and notification senders), ``lists`` (list posters),
    ``awaiting_me`` (subjects of threads whose last message waits for my reply), ``cues`` (planted
    conversation cues with the date they resolve to), ``negatives`` (hard negatives), ``calendar``,
    ``call_attempts``, ``story`` (whom the call list should and should not suggest),
    ``heavy_without_conversation`` and ``counts_90d``, plus ``written``/``removed`` (files this run changed).
    """
    started = _time.perf_counter()
    demo = _Demo(seed)
    demo.build()
    info = _facts(demo)
    root = Path(path).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    name_rng = random.Random(seed * 7919 + 1)
    files: dict[str, list[tuple[str, bytes, float]]] = {name: [] for name in FOLDERS}
    for m in demo.mails:
        data = render_mail(m, DEMO_ME)
        lines = data.count(b"\n")
        for folder in [m.folder, *m.copies]:
            files[folder].append((_maildir_name(m.date, name_rng, len(data), lines, m.flags), data, m.date.timestamp()))
    written, removed = _write_tree(root, files)
    info.update(path=str(root), seed=seed, written=written, removed=removed,
                seconds=round(_time.perf_counter() - started, 3))
    return info


def demo_facts(seed: int = 7) -> dict:
    """What :func:`generate_demo` writes and plants for ``seed`` (the same dict), without writing a file."""
    demo = _Demo(seed)
    demo.build()
    return {**_facts(demo), "seed": seed}


def _facts(demo: _Demo) -> dict:
    """What the generated mailbox holds, computed from the messages themselves."""
    me = demo.me.email
    mails = demo.mails
    addresses: set[str] = set()
    for m in mails:
        for _, e in [(None, m.from_email), *m.to, *m.cc]:
            addresses.add(e.lower())
        if m.reply_to:
            addresses.add(m.reply_to.rsplit("<", 1)[-1].rstrip(">").lower())
    elena_old, elena_new = demo.elena_old.email, demo.people["elena"].email
    tom = demo.people["tom"]
    alias_of = {elena_old: elena_new, tom.reply_to: tom.email}
    # correspondents: who wrote to me, or to whom I wrote, outside list mail (what `inboxrel people` lists)
    correspondents: set[str] = set()
    for m in mails:
        if m.automated == "list":
            continue
        for e in ([e for _, e in m.to + m.cc] if m.from_email == me else [m.from_email]):
            correspondents.add(alias_of.get(e, e))
    correspondents.discard(me)
    aliases = [{"name": "Elena Vasquez", "emails": sorted([elena_old, elena_new]),
                "evidence": "same name from both addresses (old address went quiet, new one appeared)"},
               {"name": tom.name, "emails": sorted([tom.email, tom.reply_to]),
                "evidence": "Reply-To names his other address"}]
    # threads: the last message of each decides who owes a reply
    by_thread: dict[int, list[Mail]] = {}
    for m in mails:
        by_thread.setdefault(m.thread, []).append(m)
    awaiting = []
    for tid in sorted(by_thread):
        msgs = sorted(by_thread[tid], key=lambda m: (m.date, m.msgid))
        last = msgs[-1]
        if last.from_email != me and last.automated is None:
            awaiting.append(msgs[0].subject)
    automated = sorted({m.from_email for m in mails if m.automated in ("newsletter", "notification")})
    list_posters = sorted({m.from_email for m in mails if m.automated == "list"})
    # per person, messages both ways in the last 90 days (list mail is not mail between us)
    since = DEMO_NOW - timedelta(days=90)
    counts: dict[str, dict] = {}
    for m in mails:
        if m.automated is not None or m.date < since:
            continue
        if m.from_email == me:
            for _, e in m.to + m.cc:
                c = counts.setdefault(alias_of.get(e, e), {"sent_90d": 0, "received_90d": 0})
                c["sent_90d"] += 1
        else:
            c = counts.setdefault(alias_of.get(m.from_email, m.from_email), {"sent_90d": 0, "received_90d": 0})
            c["received_90d"] += 1
    # conversations: past cues, and meetings that were accepted and not cancelled
    today = DEMO_NOW.date().isoformat()
    cancelled = {c["uid"] for c in demo.calendar if c["method"] == "CANCEL"}
    met: dict[str, list[str]] = {}
    for c in demo.calendar:
        if c["method"] == "REQUEST" and c["uid"] not in cancelled:
            for e in [c["organizer"], *c["attendees"]]:
                met.setdefault(e, []).append(c["start"][:10])
    for email, c in counts.items():
        past = [x["when"] for x in demo.cues if x["person"] == email and x["kind"] == "past" and x["when"]]
        past += [d for d in met.get(email, []) if d < today]
        c["last_conversation"] = max(past) if past else None
        planned = [x["when"] for x in demo.cues if x["person"] == email and x["kind"] == "planned" and x["when"]
                   and x["when"] > today]
        planned += [d for d in met.get(email, []) if d > today]
        c["planned"] = min(planned) if planned else None
    heavy_quiet = sorted(
        e for e, c in counts.items()
        if c["sent_90d"] + c["received_90d"] >= 8 and min(c["sent_90d"], c["received_90d"]) >= 2
        and not c["planned"]
        and (c["last_conversation"] is None or c["last_conversation"] < (DEMO_NOW - timedelta(days=60)).date().isoformat()))
    P = demo.people
    story = {
        "suggest": [P["priya"].email, P["marcus"].email, P["ravi"].email],
        "not_suggested": {
            P["dana"].email: "talked on 2026-11-11 ('Great talking yesterday.' on 2026-11-12)",
            P["jonah"].email: "lunch planned for 2026-11-19 (email and accepted invitation)",
        },
        "never": automated,
        "cooling": [P["rachel"].email],
        "requests_unanswered": [P["ravi"].email, P["maya"].email],
    }
    sent = sum(1 for m in mails if m.from_email == me)
    folders = {name: 0 for name in FOLDERS}
    for m in mails:
        for folder in [m.folder, *m.copies]:
            folders[folder] += 1
    return {
        "me": me, "now": DEMO_NOW.isoformat(), "messages": len(mails), "sent": sent, "received": len(mails) - sent,
        "people": len(correspondents), "people_all": len(addresses) - 1 - len(aliases), "addresses": len(addresses),
        "threads": len(by_thread),
        "aliases": aliases, "automated": automated, "lists": list_posters, "awaiting_me": awaiting,
        "cues": demo.cues, "negatives": demo.negatives, "calendar": demo.calendar, "call_attempts": demo.call_attempts,
        "story": story, "heavy_without_conversation": heavy_quiet, "counts_90d": dict(sorted(counts.items())),
        "files": sum(folders.values()), "folders": folders,
    }


# -- the benchmark generator -------------------------------------------------------------------------------

BENCH_ME = "pat.morgan@bench.example"
BENCH_NOW = datetime(2026, 1, 1, tzinfo=UTC)
_WRITE_BATCH = 1000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _write_files(batch: list[tuple[str, bytes, float]], set_mtime: bool) -> None:
    """Write one batch of files (run in a worker thread: the system calls release the GIL)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for path, raw, mtime in batch:
        fd = os.open(path, flags, 0o644)
        try:
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view):]
            if set_mtime:
                os.utime(fd, (mtime, mtime))
        finally:
            os.close(fd)


def _bench_people(d: dict, rng: random.Random, n_people: int) -> list[tuple[str, str, int]]:
    """(name, address, UTC offset in minutes) for each correspondent; names and addresses are unique."""
    firsts = [n for n in d["first_names"] if n.isascii()]
    lasts = [n for n in d["last_names"] if n.isascii()]
    combos = len(firsts) * len(lasts)
    picks = rng.sample(range(combos), min(n_people, combos))
    domains = [o["domain"] for o in d["orgs"].values()]
    offsets = (-480, -420, -360, -300, -240, 0, 60, 120, 330, 480, 540, 600)
    people, seen = [], set()
    for i in range(n_people):
        k = picks[i] if i < len(picks) else rng.randrange(combos)
        first, last = firsts[k % len(firsts)], lasts[k // len(firsts)]
        if i >= len(picks):
            first = f"{first} {chr(65 + i % 26)}."  # a middle initial keeps names unique past the pool's size
        local = f"{_ascii(first).replace(' ', '').replace('.', '')}.{_ascii(last)}"
        while local in seen:
            local += str(rng.randrange(10))
        seen.add(local)
        domain = rng.choice(domains) if rng.random() < 0.6 else rng.choice(d["personal_domains"])
        people.append((f"{first} {last}", f"{local}@{domain}", rng.choice(offsets)))
    return people


def generate_maildir(path, n_messages: int, seed: int = 1, n_people: int = 5000, *, days: int = 3 * 365,
                     set_mtime: bool = True) -> dict:
    """Write a Maildir of ``n_messages`` plain small messages among ``n_people`` correspondents, fast.

    For benchmarks: INBOX, Sent (about a quarter of the mail, from :data:`BENCH_ME`, so discovery finds
    me), Archive and Newsletters (List-Unsubscribe mail). Correspondents are Zipf-like (a few heavy, many
    rare), replies carry In-Reply-To/References, Date offsets vary. The same arguments give the same files.
    ``set_mtime`` sets each file's mtime to its Date (what Dovecot reports as INTERNALDATE). Messages are
    built in this thread while a worker thread writes the previous batch.

    Returns ``messages``, ``people``, ``me``, ``folders`` (files per folder), ``seconds`` and ``files_per_s``.
    """
    import bisect
    from concurrent.futures import ThreadPoolExecutor

    started = _time.perf_counter()
    d = load_demo_data()
    rng = random.Random(seed)
    root = Path(path).expanduser()
    dirs = {"INBOX": root, "Sent": root / ".Sent", "Archive": root / ".Archive", "Newsletters": root / ".Newsletters"}
    for base in dirs.values():
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir(parents=True, exist_ok=True)
    cur = {k: str(v / "cur") + "/" for k, v in dirs.items()}
    people = _bench_people(d, rng, n_people)
    cum, total = [], 0.0
    for i in range(n_people):  # Zipf-like: a few heavy correspondents, a long tail of rare ones
        total += 1.0 / (i + 1) ** 1.1
        cum.append(total)
    news = [(n["name"], n["email"]) for n in d["newsletters"]]
    ctx = {"project": "Atlas", "doc": "plan", "weekday": "Friday", "month": "March", "metric": "churn", "pct": 7,
           "n": 3, "team": "data", "system": "the CRM", "letter": "B", "colleague": "Jo", "q": 2, "client": "Contoso",
           "event": "the reunion", "city": "Lisbon", "title": "Engineer", "org": "Contoso", "other": "Jo Lee",
           "topic": "news", "conference": "DataConf"}
    openers = [t.format_map(ctx) for t in d["work_openers"] + d["personal_openers"]]
    replies = [t.format_map(ctx) for t in d["work_replies"] + d["personal_replies"]]
    subjects = [t.format_map({**ctx, "project": p}) for t in d["work_subjects"] for p in d["projects"][:4]]
    me_name, me_email = "Pat Morgan", BENCH_ME
    t = (BENCH_NOW - timedelta(days=days)).timestamp()
    recent = BENCH_NOW.timestamp() - 60 * 86400
    step = days * 86400 / max(n_messages, 1)
    last_msg: dict[int, tuple[str, str, tuple]] = {}  # person -> (Message-ID, subject, References)
    counts = {k: 0 for k in dirs}
    random_, choice, gmtime = rng.random, rng.choice, _time.gmtime
    batch: list[tuple[str, bytes, float]] = []
    pending = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        for i in range(n_messages):
            t += step * 2 * random_()
            r = random_()
            if r < 0.06:
                name, email = choice(news)
                pid, off, folder = -1, 0, "Newsletters"
            else:
                pid = min(bisect.bisect_left(cum, random_() * total), n_people - 1)
                name, email, off = people[pid]
                if r < 0.31:
                    folder, off = "Sent", -360
                else:
                    folder = "INBOX" if t > recent else "Archive"
            g = gmtime(t + off * 60)
            date_h = (f"{_DAYS[g.tm_wday]}, {g.tm_mday:02d} {_MONTHS[g.tm_mon - 1]} {g.tm_year} "
                      f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d} {'+' if off >= 0 else '-'}"
                      f"{abs(off) // 60:02d}{abs(off) % 60:02d}")
            msgid = f"{i:08d}.{seed}.{pid}@bench.example"
            prev = last_msg.get(pid) if pid >= 0 else None
            if prev and random_() < 0.5:
                pmid, subj, refs = prev
                subject = subj if subj.startswith("Re: ") else "Re: " + subj
                refs = (refs + (f"<{pmid}>",))[-10:]
                thread_h = f"In-Reply-To: <{pmid}>\nReferences: {' '.join(refs)}\n"
                text = choice(replies)
            else:
                subject, refs, thread_h, text = f"{choice(subjects)} #{i}", (), "", choice(openers)
            if folder == "Sent":
                head = f"From: {me_name} <{me_email}>\nTo: {name} <{email}>\n"
                greeting, sig = name.split()[0], f"{me_name}\nm. +1 (312) 555-0117"
            else:
                head = f"From: {name} <{email}>\nTo: {me_name} <{me_email}>\n"
                greeting, sig = "Pat", name
            extra = ""
            if pid < 0:
                domain = email.split("@")[1]
                extra = f"List-Unsubscribe: <https://{domain}/u>\nList-Id: <news.{domain}>\n"
                text = "This week's issue is out. " + text
            else:
                last_msg[pid] = (msgid, subject, refs)
            raw = (f"Date: {date_h}\n{head}Subject: {subject}\nMessage-ID: <{msgid}>\n{thread_h}{extra}"
                   "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
                   f"Hi {greeting},\n\n{text}\n\nThanks,\n{sig}\n").encode()
            batch.append((f"{cur[folder]}{int(t)}.M{i % 1000000}P{seed}Q{i}.bench,S={len(raw)}:2,S", raw, t))
            counts[folder] += 1
            if len(batch) >= _WRITE_BATCH:
                pending.append(pool.submit(_write_files, batch, set_mtime))
                batch = []
                if len(pending) > 4:  # bound memory: wait for the oldest batch
                    pending.pop(0).result()
        pending.append(pool.submit(_write_files, batch, set_mtime))
        for f in pending:
            f.result()
    seconds = _time.perf_counter() - started
    return {"path": str(root), "messages": n_messages, "people": n_people, "me": me_email, "folders": counts,
            "seconds": round(seconds, 3), "files_per_s": round(n_messages / seconds) if seconds else None}
