"""The pattern data: the span_ruler patterns, the word lists and the family table, from ``signals/patterns/``.

Every word the cue stages reason with is in ``patterns/lexicon.json`` (read by :func:`lexicon`, lists as
sets); the code holds only punctuation, clitics and the one or two words a single rule names.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from inboxrel.signals import when as when_mod


def _read(name: str) -> str:
    return resources.files("inboxrel.signals").joinpath("patterns").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The word lists of ``patterns/lexicon.json``, lists turned into sets."""
    raw = json.loads(_read("lexicon.json"))
    return {k: (set(v) if isinstance(v, list) else v) for k, v in raw.items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def families() -> dict[str, frozenset[str]]:
    """The family table of ``lexicon.json`` ("families": family -> traits) read the other way: trait -> families.

    A trait says how the resolver treats a trigger family ("needs_people": the sentence must name the author
    or the recipient); ``_families`` in the file says what each trait means.
    """
    out: dict[str, set[str]] = {}
    for family, traits in lexicon()["families"].items():
        for trait in traits:
            out.setdefault(trait, set()).add(family)
    return {trait: frozenset(fams) for trait, fams in out.items()}


@lru_cache(maxsize=1)
def time_words() -> frozenset[str]:
    """Weekdays, months and the words of the day ("today", "tonight", "morning"): never a name or a place."""
    return frozenset(when_mod.WEEKDAYS) | frozenset(when_mod.MONTHS) | lexicon()["time_words"]


@lru_cache(maxsize=1)
def weekday_words() -> frozenset[str]:
    """Weekday names, whole and abbreviated ("wednesday", "wed", "weds")."""
    return frozenset(when_mod.WEEKDAYS) | lexicon()["weekday_abbreviations"]


@lru_cache(maxsize=1)
def month_words() -> frozenset[str]:
    """Month names, whole and abbreviated ("september", "sep", "sept")."""
    return frozenset(when_mod.MONTHS) | lexicon()["month_abbreviations"]


def load_patterns(expand: bool = True) -> list[dict]:
    """Every span_ruler pattern: the triggers, then the context phrases.

    With ``expand``, a first token given as a word list becomes one pattern per word: spaCy's matcher tests
    a plain word with a hash lookup but a word list with a predicate call on every token, which made the
    first-token test the whole cost of matching.
    """
    out = []
    for name in ("triggers.jsonl", "context.jsonl"):
        for line in _read(name).splitlines():
            if not line.strip():
                continue
            pat = json.loads(line)
            first = pat["pattern"][0]
            if expand and set(first) == {"LOWER"} and isinstance(first["LOWER"], dict) and set(first["LOWER"]) == {"IN"}:
                for word in first["LOWER"]["IN"]:
                    out.append({**pat, "pattern": [{"LOWER": word}] + pat["pattern"][1:]})
            else:
                out.append(pat)
    return out
