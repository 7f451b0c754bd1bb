"""Names: reading display names, matching a name against an address, and names for machines (pure).

Imported by the parser (in worker processes), so it imports nothing beyond the standard library.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_NAME_WS = re.compile(r"[\s._]+")
_NOT_A_NAME = re.compile(r"@|\d|^(the|team|admin|support|info|mailer|postmaster|undisclosed)\b", re.I)
_BRACKETS = re.compile(r"\s*(<[^<>]*>|\([^()]*\)|\[[^\[\]]*\])")
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"}
_LOCAL_SPLIT = re.compile(r"[._\-]+")
_TRAILING_DIGITS = re.compile(r"\d+$")


def normalize_name(name: str | None) -> str | None:
    """'Allen, Phillip K.' and 'Phillip K Allen' both give 'allen k phillip'; None for non-names."""
    if not name:
        return None
    name = name.strip().strip("'\"").strip()
    if _NOT_A_NAME.search(name):
        return None
    if "," in name:
        last, _, first = name.partition(",")
        name = f"{first} {last}"
    tokens = [t.strip(".-'").lower() for t in _NAME_WS.split(name) if t.strip(".-'")]
    if len(tokens) < 2 or len("".join(tokens)) < 5:
        return None
    return " ".join(sorted(tokens))


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name split for matching: 'Allen, Phillip K.' is first 'phillip', middles ('k',), last 'allen'."""

    first: str
    middles: tuple[str, ...]
    last: str
    text: str  # as written

    @property
    def initials(self) -> set[str]:
        return {self.first[0], *(m[0] for m in self.middles)}

    @property
    def given(self) -> set[str]:
        return {self.first, *self.middles}


def clean_display(text: str | None) -> str:
    """A display name without quotes, bracketed parts (Exchange's ``</O=ENRON/...>``) or an ``@ENRON`` tail."""
    if not text:
        return ""
    text = text.strip()
    # X-From: "Jeff Smith" <jsmith@austintx.com>@ENRON  ->  Jeff Smith
    text = _BRACKETS.sub("", text)
    text = re.sub(r"\s*@\s*[A-Za-z]+$", "", text)
    text = text.split(" - ", 1)[0]  # "Phillip Allen - Home (email)"
    return " ".join(text.strip().strip("'\"").split())


@lru_cache(maxsize=1)
def _group_words() -> frozenset[str]:
    data = json.loads(Path(__file__).with_name("not_names.json").read_text(encoding="utf-8"))
    return frozenset(data["words"])


def split_name(display: str | None) -> PersonName | None:
    """The parts of a person's display name, or None when it is no name of a person (one word, an address,
    a list's or a team's name: the words are data, in ``not_names.json``)."""
    text = clean_display(display)
    if not text or _NOT_A_NAME.search(text):
        return None
    if _group_words() & {t.strip(".-'()").lower() for t in _NAME_WS.split(text.replace(",", " "))}:
        return None
    if "," in text:
        last_part, _, given_part = text.partition(",")
    else:
        parts = text.split()
        last_part, given_part = (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (text, "")
    given = [t for t in (t.strip(".-'").lower() for t in given_part.split()) if t and t not in _SUFFIXES]
    # 'Celedon-Renovato' and 'Van Gelder' are one family name, written without separators
    last = [t for t in (t.strip(".-'").lower().replace("-", "") for t in last_part.split()) if t and t not in _SUFFIXES]
    if not given or not last:
        return None
    return PersonName(first=given[0], middles=tuple(given[1:]), last="".join(last), text=text)


def local_tokens(email: str) -> list[str]:
    """'Phillip.K.Allen70+x@...' -> ['phillip', 'k', 'allen']."""
    local = email.rsplit("@", 1)[0].lower().split("+", 1)[0]
    return [t for t in (_TRAILING_DIGITS.sub("", p) for p in _LOCAL_SPLIT.split(local)) if t]


def address_fits(email: str, name: PersonName) -> str | None:
    """How the address's local part fits the name: ``full`` (phillip.allen, k..allen, pallen, mheard),
    ``surname`` (gallen, anne_heard: the family name only), ``first`` (dana@ for Dana Owner) or None."""
    parts = local_tokens(email)
    if not parts:
        return None
    last = name.last
    for i in range(len(parts) - 1):  # esther.celedon-renovato: the family name spans two parts
        if parts[i] + parts[i + 1] == last:
            parts = parts[:i] + [last] + parts[i + 2:]
            break
    if last in parts:
        others = [p for p in parts if p != last]
        if others and all(p in name.given or (len(p) == 1 and p in name.initials) for p in others):
            return "full"
        return "surname"
    joined = {name.first + last, name.first[0] + last, last + name.first, last + name.first[0]}
    for m in name.middles:
        joined |= {name.first[0] + m[0] + last, name.first + m[0] + last}
    for p in parts:
        if p in joined and all(len(o) <= 1 for o in parts if o != p):
            return "full"
    if len(last) >= 4 and any(p.endswith(last) or p.startswith(last) for p in parts):
        return "surname"
    if parts == [name.first] and len(name.first) >= 3:
        return "first"  # dana@corp.example for Dana Owner: consistent with the name, but proves little
    return None


def name_fits(display: str | None, name: PersonName) -> str | None:
    """``full`` when a display name is this person's (short forms and initials allowed), ``surname`` when it
    only shares the family name, else None."""
    other = split_name(display)
    if other is None or other.last != name.last:
        return None
    if other.first == name.first or (len(other.first) == 1 and other.first == name.first[0]) \
            or (len(name.first) == 1 and name.first == other.first[0]):
        return "full"
    return "surname"


# -- Exchange / Lotus Notes exports: names in X-To and X-cc ------------------------------------------------

_X_BRACKETED = re.compile(r"((?:[^,<>\"]+,)?[^,<>\"]+?)\s*<([^<>]*)>")
_X_QUOTED = re.compile(r"\"([^\"]+)\"\s*<([^<>\s]+@[^<>\s]+)>")


def x_header_names(value: str | None) -> list[tuple[str, str | None]]:
    """(display name, address or None) for each entry of an X-To / X-cc header that carries a name.

    Enron's headers mix Exchange entries (``Allen, Phillip K. </O=ENRON/...>``), quoted ones
    (``"mary richards" <maryrichards7@hotmail.com> @ ENRON``) and plain Notes names separated by commas
    (``Mike Grigsby, Keith Holst``); which name goes with which To address is left to the caller.
    """
    if not value or len(value) > 500_000:
        return []
    out: list[tuple[str, str | None]] = []
    rest = value
    for m in _X_QUOTED.finditer(value):
        out.append((m.group(1).strip(), m.group(2).strip().lower()))
    rest = _X_QUOTED.sub(",", rest)
    for m in _X_BRACKETED.finditer(rest):
        name = m.group(1).strip(" '\"")
        inner = m.group(2).strip()
        addr = inner.lower() if "@" in inner and "/" not in inner and " " not in inner else None
        if name and "@" not in name:
            out.append((name, addr))
    rest = _X_BRACKETED.sub(",", rest)
    for chunk in rest.split(","):
        chunk = chunk.strip(" '\"")
        if chunk and "@" not in chunk and len(chunk.split()) >= 2:
            out.append((chunk, None))
    return out


@lru_cache(maxsize=2048)  # copies of one message, and mail to one list, repeat the same header
def _x_index(x_value: str) -> tuple[dict[str, str], dict[str, list[tuple[str, PersonName]]]]:
    entries = x_header_names(x_value)
    by_addr = {a: clean_display(n) for n, a in entries if a}
    by_last: dict[str, list[tuple[str, PersonName]]] = {}
    for n, _ in entries:
        pn = split_name(n)
        if pn is not None:
            by_last.setdefault(pn.last, []).append((n, pn))
    return by_addr, by_last


def fill_names(pairs: list[tuple[str, str]], x_value: str | None) -> list[tuple[str, str]]:
    """Give the (name, address) pairs that have no name the X-To/X-cc name that belongs to the address: the
    entry naming the address itself, else the one name whose parts fit the address's local part."""
    if not x_value or all(n for n, _ in pairs):
        return pairs
    by_addr, by_last = _x_index(x_value)
    if not by_addr and not by_last:
        return pairs
    out = []
    for name, email in pairs:
        if not name:
            name = by_addr.get(email, "")
            if not name and by_last:
                # only the entries whose family name ends or starts a part of the local part can fit it
                # (a list of 80 names against 80 addresses stays 80 lookups, not 6,400 matches)
                cands = {}
                toks = local_tokens(email)
                for t in toks + [a + b for a, b in zip(toks, toks[1:])]:
                    for i in range(len(t)):
                        for key in (t[i:], t[:len(t) - i]):
                            for n, pn in by_last.get(key, ()):
                                cands[n] = pn
                fits = {n for n, pn in cands.items() if address_fits(email, pn) == "full"}
                if len(fits) > 1:  # 'Williams, Bill' over 'Williams III, Bill' for bill.williams@
                    exact = {n for n in fits if set((normalize_name(n) or "").split()) == set(local_tokens(email))}
                    fits = exact or fits
                if len(fits) == 1:
                    name = clean_display(fits.pop())
        out.append((name, email))
    return out


def service_name(email: str, names: dict[str, int]) -> str:
    """The name a notification sender should keep: what all its display names share ("Ana (Jira)",
    "Bo (Jira)" -> "Jira"), else its domain ("notifications@codehub.example" -> "codehub.example")."""
    common = None
    for n in names:
        words = set(re.findall(r"[\w.-]+", n.lower()))
        common = words if common is None else common & words
    if common:
        for n in names:  # keep the spelling as written, in the order written
            kept = [w for w in re.findall(r"[\w.-]+", n) if w.lower() in common and w.lower() not in ("via", "on")]
            if kept:
                return " ".join(kept)
    return email.rsplit("@", 1)[-1]
