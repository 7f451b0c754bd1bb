"""The plain data the message-level evidence stages read: who wrote a message, to whom, and how.

Built from the store by :func:`inboxrel.signals.save.analyze_messages`; the stages
(:mod:`inboxrel.signals.context`, :mod:`inboxrel.signals.attribution`) take it as it is, so each can be
tested alone on hand-made values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Party:
    """One participant: the person, an address, the display name written, and what they are to the owner."""

    pid: int
    email: str
    name: str | None = None
    me: bool = False
    auto: bool = False
    delegate: bool = False


@dataclass(slots=True)
class MessageShape:
    """Who wrote the message (``author``), its To and Cc, its automated class and subject."""

    author: Party | None
    to: list[Party] = field(default_factory=list)
    cc: list[Party] = field(default_factory=list)
    automated: str | None = None
    subject: str = ""
    owner_names: frozenset[str] = frozenset()  # lower-case first and last names of the owner

    @property
    def by_owner(self) -> bool:
        return self.author is not None and self.author.me

    def others(self) -> list[Party]:
        """Every distinct participant but the owner (author included)."""
        seen: dict[str, Party] = {}
        for p in ([self.author] if self.author else []) + self.to + self.cc:
            if not p.me:
                seen.setdefault(p.email, p)
        return list(seen.values())


@lru_cache(maxsize=1)
def message_patterns() -> dict:
    """``patterns/message.json``, its regexes compiled."""
    raw = json.loads(resources.files("inboxrel.signals").joinpath("patterns", "message.json").read_text("utf-8"))
    out = {}
    for k, v in raw.items():
        if k.startswith("_"):
            continue
        if isinstance(v, list) and k != "not_names":
            out[k] = re.compile("|".join(f"(?:{x})" for x in v), re.I | re.M)
        elif isinstance(v, str):
            out[k] = re.compile(v, re.I)
        elif k == "not_names":
            out[k] = frozenset(v)
        else:
            out[k] = v
    return out


_NAME_SPLIT = re.compile(r"[^a-z]+")


def name_tokens(name: str | None, email: str | None = None) -> set[str]:
    """The lower-case words of a display name and of an address's local part ("Allen, Phillip K." -> allen, phillip)."""
    out = {w for w in _NAME_SPLIT.split((name or "").lower()) if len(w) > 1}
    if email:
        out |= {w for w in _NAME_SPLIT.split(email.split("@")[0].lower()) if len(w) > 1}
    return out
