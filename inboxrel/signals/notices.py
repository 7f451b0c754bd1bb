"""Missed-call and voicemail notifications: call attempts, never conversations.

Phone systems and carriers mail "You have a new voicemail from ..." or "Missed call from ...". The patterns
live in ``patterns/notices.json``; :func:`parse_call_notice` returns who tried to call (a number and/or a
name, as the notice gives them) so the attempt can be matched to a person.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass
class CallNotice:
    """An automated notice of a call attempt: the caller's number and name when the notice names them."""

    kind: str  # voicemail | missed
    number: str | None
    name: str | None
    email: str | None


@lru_cache(maxsize=1)
def _patterns() -> dict:
    raw = json.loads(resources.files("inboxrel.signals").joinpath("patterns").joinpath("notices.json")
                     .read_text(encoding="utf-8"))
    return {
        "subject": [re.compile(p, re.I) for p in raw["subject"]],
        "body": [re.compile(p, re.I) for p in raw["body"]],
        "caller": [re.compile(p, re.I) for p in raw["caller"]],
    }


_NUMBER = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def parse_call_notice(subject: str | None, body: str | None) -> CallNotice | None:
    """A :class:`CallNotice` when the message is a missed-call or voicemail notification, else None."""
    pats = _patterns()
    subject = subject or ""
    head = (body or "")[:2000]
    hit = next((p for p in pats["subject"] if p.search(subject)), None) or \
        next((p for p in pats["body"] if p.search(head)), None)
    if hit is None:
        return None
    text = subject + "\n" + head
    kind = "voicemail" if re.search(r"voice\s*-?\s*mail|voice message|voicemail", text, re.I) else "missed"
    number = name = None
    for p in pats["caller"]:
        m = p.search(text)
        if m:
            who = m.group("who").strip(" .,:;-\"'()")
            num = _NUMBER.search(who)
            if num:
                number = num.group(0).strip()
                rest = (who[:num.start()] + who[num.end():]).strip(" .,:;-\"'()")
                name = rest or None
            else:
                name = who or None
            break
    if number is None:
        num = _NUMBER.search(text)
        number = num.group(0).strip() if num else None
    em = _EMAIL.search(text)
    return CallNotice(kind, number, name, em.group(0).lower() if em else None)
