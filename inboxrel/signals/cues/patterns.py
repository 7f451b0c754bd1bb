"""The pattern data: the span_ruler patterns and the word lists, read from ``signals/patterns/``."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


def _read(name: str) -> str:
    return resources.files("inboxrel.signals").joinpath("patterns").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The word lists of ``patterns/lexicon.json``, lists turned into sets."""
    raw = json.loads(_read("lexicon.json"))
    return {k: (set(v) if isinstance(v, list) else v) for k, v in raw.items() if not k.startswith("_")}


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
