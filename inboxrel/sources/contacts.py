"""Address books: vCard files (Google Contacts and Apple Contacts exports, vCard 2.1 to 4.0).

``read_vcards`` is pure (a file in, cards and problems out): the file is cut into cards at BEGIN/END
lines first, so one card with a broken line is reported with its line number and skipped while the rest
is read. ``save_contacts`` links each card to the person its addresses belong to:

- a card listing addresses of several people is strong evidence they are one: they are merged, with the
  card named as the evidence in the merge history (``inboxrel people history``; ``people undo`` takes it
  back, and an undone or user-split pair is never merged again);
- its other addresses become that person's, so mail from them lands on the same person;
- its name wins over names seen in mail (applied again at every import of the card);
- its phone numbers go to the person with their labels (mobile, work, home); a contact's number is kept
  with no message, which is how the call-log import prefers it over signature numbers;
- birthdays and anniversaries are kept (``contacts``) for the ``occasion`` rule.

A card whose addresses are all unknown is kept unlinked and linked by a later import, once mail from one
of its addresses has arrived. Cards are keyed by their UID (else a digest of name and addresses), so
importing the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from inboxrel.errors import SourceError, UsageError


@lru_cache(maxsize=1)
def labels() -> dict:
    return json.loads(Path(__file__).with_name("contact_labels.json").read_text(encoding="utf-8"))


@dataclass
class Card:
    """One contact as the card gives it."""

    line: int
    uid: str
    name: str | None
    emails: list[str] = field(default_factory=list)
    phones: list[tuple[str, str | None]] = field(default_factory=list)  # (as written, label)
    birthday: str | None = None  # YYYY-MM-DD, or --MM-DD without a year
    anniversary: str | None = None


# -- reading --------------------------------------------------------------------------------------------

def read_vcards(path: str | Path) -> tuple[list[Card], list[tuple[int, str]]]:
    """Every card of a .vcf file, and the (line, reason) of each card that could not be read."""
    from inboxrel.sources.calllog import decode

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    text, _encoding = decode(raw)
    lines = text.splitlines()
    if not any(ln.strip().upper() == "BEGIN:VCARD" for ln in lines[:2000]):
        raise UsageError(f"{path} is not a vCard file (no BEGIN:VCARD): export the contacts as vCard (.vcf)")
    cards, problems = [], []
    start = None
    for n, ln in enumerate(lines, 1):
        key = ln.strip().upper()
        if key == "BEGIN:VCARD":
            if start is not None:
                problems.append((start, "card has no END:VCARD before the next BEGIN:VCARD"))
            start = n
        elif key == "END:VCARD" and start is not None:
            block = "\r\n".join(lines[start - 1:n]) + "\r\n"
            try:
                cards.append(parse_card(block, start))
            except ValueError as exc:
                problems.append((start, str(exc)))
            start = None
    if start is not None:
        problems.append((start, "the file ends inside this card (no END:VCARD)"))
    return cards, problems


def parse_card(block: str, line: int = 1) -> Card:
    """One BEGIN:VCARD ... END:VCARD block; ValueError (with the card's line) when it cannot be read."""
    import vobject

    try:
        vc = vobject.readOne(block, ignoreUnreadable=False)
    except Exception as exc:  # vobject raises ParseError and assorted others on broken cards
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        m = re.search(r"Failed to parse line: (.+)$", text)
        bad = m.group(1).strip() if m else None
        # vobject counts lines its own way: find the offending one in the block to name the file's line
        offset = next((i for i, ln in enumerate(block.splitlines()) if bad and ln.strip() == bad), None)
        where = f"line {line + offset}: " if offset is not None else ""
        what = f"a line that is not NAME:VALUE ({bad[:80]!r})" if bad else text[:120]
        raise ValueError(f"{where}unreadable card: {what}") from None
    children = list(vc.getChildren())
    group_labels = {c.group: str(c.value).strip().lower() for c in children
                    if c.name == "X-ABLABEL" and c.group}
    name = _text(vc, "FN")
    if not name and "n" in vc.contents:
        n = vc.n.value
        name = " ".join(p for p in (getattr(n, "given", ""), getattr(n, "family", "")) if p).strip() or None
    emails = []
    for c in children:
        if c.name == "EMAIL":
            email = str(c.value).strip().lower().removeprefix("mailto:")
            if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) and email not in emails:
                emails.append(email)
    phones = []
    table = labels()["phone_labels"]
    for c in children:
        if c.name != "TEL":
            continue
        value = str(c.value).strip().removeprefix("tel:")
        if not value:
            continue
        kinds = [t.lower() for t in c.params.get("TYPE", [])] + [t.lower() for t in getattr(c, "singletonparams", [])]
        if c.group and c.group in group_labels:
            kinds.insert(0, group_labels[c.group])
        found = [table[k] for k in kinds if k in table]
        label = min(found, key=labels()["label_order"].index) if found else None
        phones.append((value, label))
    birthday = _date(vc, "BDAY")
    anniversary = _date(vc, "ANNIVERSARY") or _date(vc, "X-ANNIVERSARY")
    if anniversary is None:
        for c in children:
            if c.name == "X-ABDATE" and group_labels.get(c.group) in labels()["anniversary_labels"]:
                anniversary = _iso_day(str(c.value), c.params)
    uid = _text(vc, "UID")
    if not uid:
        digest = hashlib.sha1(json.dumps([name, emails, [p for p, _ in phones]]).encode()).hexdigest()[:20]
        uid = f"sha1:{digest}"
    return Card(line=line, uid=uid[:500], name=name, emails=emails, phones=phones, birthday=birthday,
                anniversary=anniversary)


def _text(vc, key: str) -> str | None:
    item = vc.contents.get(key.lower())
    if not item:
        return None
    value = str(item[0].value).strip()
    return value or None


def _date(vc, key: str) -> str | None:
    item = vc.contents.get(key.lower())
    if not item:
        return None
    return _iso_day(str(item[0].value), item[0].params)


def _iso_day(value: str, params: dict) -> str | None:
    """``1980-03-14``, ``19800314``, ``1980-03-14T00:00:00Z``, ``--0314``, ``--03-14`` or Apple's
    no-year form (year 1604 with X-APPLE-OMIT-YEAR) as ``YYYY-MM-DD`` / ``--MM-DD``; None if none."""
    v = value.strip()
    m = re.fullmatch(r"--(\d\d)-?(\d\d)", v)
    if m:
        month, day, year = int(m.group(1)), int(m.group(2)), None
    else:
        m = re.match(r"(\d{4})-?(\d\d)-?(\d\d)", v)
        if not m:
            return None
        year, month, day = (int(g) for g in m.groups())
        omit = params.get(labels()["apple_omit_year"].upper()) or params.get(labels()["apple_omit_year"])
        if omit and str(omit[0]) == str(year):
            year = None
    try:
        datetime(2000, month, day)  # a leap year, so 29 February is a date
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


# -- saving ----------------------------------------------------------------------------------------------

def _identity():
    """The identity service's merge internals."""
    from inboxrel.identity import people as mod

    return mod


def save_contacts(engine, cards: list[Card], *, source: str, now: datetime, region: str = "US") -> dict:
    """Link, merge and enrich people from ``cards`` (see the module docstring); return counts."""
    from sqlalchemy import insert, select, update

    from inboxrel.clock import to_db
    from inboxrel.models import addresses, contacts, identity_events, people
    from inboxrel.signals.phones import normalize_number
    from inboxrel.signals.save import save_phone_numbers

    ident = _identity()
    out = {"cards": len(cards), "linked": 0, "unlinked": 0, "merged": 0, "addresses_added": 0,
           "numbers": 0, "birthdays": 0, "anniversaries": 0, "mine": 0, "merges": []}
    with engine.begin() as conn:
        separated = ident._user_separated(conn)
        for card in cards:
            known = {r.email: r for r in conn.execute(
                select(addresses.c.id, addresses.c.email, addresses.c.person_id, people.c.is_me)
                .join(people, people.c.id == addresses.c.person_id)
                .where(addresses.c.email.in_(card.emails)))} if card.emails else {}
            if any(r.is_me for r in known.values()):
                out["mine"] += 1  # my own card: my addresses are settled elsewhere
                continue
            pids = sorted({r.person_id for r in known.values()})
            pid = pids[0] if pids else None
            for other in pids[1:]:
                mine_ids = [r.id for r in known.values() if r.person_id == pid]
                their_ids = [r.id for r in known.values() if r.person_id == other]
                if any(frozenset((a, b)) in separated for a in mine_ids for b in their_ids):
                    continue  # the user said these are different people
                moved = ident._move_person(conn, other, pid)
                reason = (f"contact card {card.name or card.uid!r} ({source}) lists "
                          f"{', '.join(r.email for r in known.values() if r.person_id in (pid, other))}")
                eid = conn.execute(insert(identity_events).values(
                    kind="merge", by_user=False, person_id=pid, other_person_id=other, address_ids=json.dumps(moved),
                    reason=reason, created_at=to_db(now))).inserted_primary_key[0]
                out["merged"] += 1
                out["merges"].append({"event": eid, "reason": reason})
            if pid is not None:
                for email in card.emails:
                    if email not in known:  # mail from it later lands on this person
                        conn.execute(insert(addresses).values(email=email, name=card.name, person_id=pid))
                        out["addresses_added"] += 1
                if card.name:
                    conn.execute(update(people).where(people.c.id == pid).values(name=card.name))
                    conn.execute(update(addresses).where(addresses.c.person_id == pid).values(name=card.name))
                numbers = []
                for raw, label in card.phones:
                    e164 = normalize_number(raw, region)
                    if e164:
                        numbers.append((pid, e164, raw, label, None, None))
                out["numbers"] += save_phone_numbers(conn, numbers)
                # a contact's label wins over the one guessed from a signature
                for _pid, e164, _raw, label, _s, _m in numbers:
                    if label:
                        from inboxrel.models import phone_numbers

                        conn.execute(update(phone_numbers).where(phone_numbers.c.person_id == pid,
                                                                 phone_numbers.c.e164 == e164).values(label=label))
                out["linked"] += 1
            else:
                out["unlinked"] += 1
            out["birthdays"] += 1 if card.birthday else 0
            out["anniversaries"] += 1 if card.anniversary else 0
            values = {"person_id": pid, "name": card.name, "birthday": card.birthday,
                      "anniversary": card.anniversary, "updated_at": to_db(now)}
            row = conn.execute(select(contacts.c.id).where(contacts.c.source == source,
                                                           contacts.c.uid == card.uid)).first()
            if row is None:
                conn.execute(insert(contacts).values(source=source, uid=card.uid, **values))
            else:
                conn.execute(update(contacts).where(contacts.c.id == row.id).values(**values))
    ident.refresh_people(engine)
    # refresh_people names people after their mail: the card's name wins, so it goes back on
    with engine.begin() as conn:
        apply_contact_names(conn)
    return out


def apply_contact_names(conn) -> int:
    """Give every person linked to a contact card the card's name (the newest card's), following merges
    made since; return how many people were renamed. Mail imports name people after their mail, so the
    nightly sync runs this after the mail."""
    from sqlalchemy import select, update

    from inboxrel.models import addresses, contacts, people

    rows = conn.execute(select(contacts.c.person_id, contacts.c.name)
                        .where(contacts.c.person_id.is_not(None), contacts.c.name.is_not(None))
                        .order_by(contacts.c.updated_at, contacts.c.id)).all()
    if not rows:
        return 0
    alive = {r.person_id for r in conn.execute(select(addresses.c.person_id).distinct())}
    moved = _merged_into(conn)
    wanted: dict[int, str] = {}
    for r in rows:
        pid, seen = r.person_id, set()
        while pid not in alive and pid in moved and pid not in seen:
            seen.add(pid)
            pid = moved[pid]
        wanted[pid] = r.name
    current = {r.id: r.name for r in conn.execute(select(people.c.id, people.c.name)
                                                  .where(people.c.id.in_(list(wanted)), people.c.is_me.is_(False)))}
    renamed = 0
    for pid, name in wanted.items():
        if pid in current and current[pid] != name:
            conn.execute(update(people).where(people.c.id == pid).values(name=name))
            renamed += 1
    return renamed


def import_contacts(engine, path: str | Path, *, now: datetime, source: str | None = None,
                    region: str = "US") -> dict:
    """Read a vCard file and save its cards; return counts and the cards skipped with their line."""
    cards, problems = read_vcards(path)
    out = save_contacts(engine, cards, source=source or "vcf", now=now, region=region)
    out.update(path=str(path), skipped=len(problems),
               problems=[{"line": ln, "reason": why} for ln, why in problems[:50]])
    return out


def occasions_of(conn, person_ids) -> dict[int, list[tuple[str, str]]]:
    """person id -> [(kind, date)] with kind birthday|anniversary and date YYYY-MM-DD or --MM-DD.

    A card linked to a person that was merged into another since follows the merge."""
    from sqlalchemy import select

    from inboxrel.models import addresses, contacts

    ids = list(person_ids) if person_ids is not None else None
    rows = conn.execute(select(contacts.c.person_id, contacts.c.birthday, contacts.c.anniversary, contacts.c.uid)
                        .where(contacts.c.person_id.is_not(None),
                               (contacts.c.birthday.is_not(None)) | (contacts.c.anniversary.is_not(None)))).all()
    if not rows:
        return {}
    alive = {r.person_id for r in conn.execute(select(addresses.c.person_id).distinct())}
    moved = _merged_into(conn)
    out: dict[int, list[tuple[str, str]]] = {}
    for r in rows:
        pid = r.person_id
        seen = set()
        while pid not in alive and pid in moved and pid not in seen:
            seen.add(pid)
            pid = moved[pid]
        if ids is not None and pid not in ids:
            continue
        for kind, value in (("birthday", r.birthday), ("anniversary", r.anniversary)):
            if value and (kind, value) not in out.get(pid, []):
                out.setdefault(pid, []).append((kind, value))
    return out


def _merged_into(conn) -> dict[int, int]:
    from sqlalchemy import select

    from inboxrel.models import identity_events

    return {r.other_person_id: r.person_id for r in conn.execute(
        select(identity_events.c.other_person_id, identity_events.c.person_id)
        .where(identity_events.c.kind == "merge", identity_events.c.undone_at.is_(None))
        .order_by(identity_events.c.id))}


def contact_info(conn, person_id: int) -> dict:
    """A person's phone numbers (labelled; from a card or a signature) and contact cards, for `person`."""
    from sqlalchemy import select

    from inboxrel.clock import iso
    from inboxrel.models import contacts, phone_numbers

    phones = [{"e164": r.e164, "label": r.label, "from": "signature" if r.message_id is not None else "contact",
               "last_seen": iso(r.last_seen)}
              for r in conn.execute(select(phone_numbers).where(phone_numbers.c.person_id == person_id)
                                    .order_by(phone_numbers.c.message_id.is_not(None), phone_numbers.c.e164))]
    cards = [{"source": r.source, "uid": r.uid, "name": r.name, "birthday": r.birthday, "anniversary": r.anniversary}
             for r in conn.execute(select(contacts).where(contacts.c.person_id == person_id)
                                   .order_by(contacts.c.source, contacts.c.uid))]
    return {"phones": phones, "contacts": cards}
