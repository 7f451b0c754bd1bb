"""The cheap test a text passes before spaCy sees it: the prefilter words as one regex."""

from __future__ import annotations

import json
import re
from functools import lru_cache

from inboxrel.signals.cues.patterns import _read


class Prefilter:
    """The prefilter words as one regex, searched like ``re.compile(r"\\b(?:w1|w2|...)", re.I)``, only faster.

    A case-insensitive search tries both cases at every position and costs about five times a plain search of
    the lower-cased text, so ASCII text is lower-cased first (same length, same word boundaries). Non-ASCII
    text keeps the case-insensitive regex: it also folds a few other letters onto ASCII ones (the Kelvin
    sign onto k, the long s onto s, dotted and dotless i onto i), which lower-casing does not.
    """

    def __init__(self, words: list[str]):
        source = r"\b(?:" + "|".join(words) + r")"
        self.folded = re.compile(source, re.I)
        # a word with an upper-case letter would never match lower-cased text: then always fold
        self.lower = None if re.search(r"(?<!\\)[A-Z]", "".join(words)) else re.compile(self._by_first_letter(words))
        # sentence hits from one pass over the whole text equal per-sentence searches when the only context
        # the words look at is a word boundary (no anchors, no lookarounds)
        self.context_free = not re.search(r"\^|\$|\(\?<?[=!]|\\[AZ]", source)

    @staticmethod
    def _by_first_letter(words: list[str]) -> str:
        """The same alternation with the words grouped by their first letter: ``c(?:all|offee)|d(?:ial)``.

        The regex engine tries the alternatives one after another at every word start; grouped, it tests
        one letter per group instead of every word. A position matches when any alternative does, so the
        order of the alternatives changes which match is reported, never whether there is one. Words that
        do not start with a plain letter or digit (a group, an escape, a quantified first letter, a
        top-level ``|``) stay as they are.
        """
        groups: dict[str, list[str]] = {}
        rest = []
        for w in words:
            if w[:1].isascii() and w[:1].isalnum() and w[1:2] not in ("*", "+", "?", "{") and not _top_level_bar(w):
                groups.setdefault(w[0], []).append(w[1:])
            else:
                rest.append(w)
        alternatives = [c + "(?:" + "|".join(tails) + ")" for c, tails in groups.items()] + rest
        return r"\b(?:" + "|".join(alternatives) + r")"

    def search(self, text: str):
        """The first match in ``text`` (a match object, or None)."""
        if self.lower is not None and text.isascii():
            return self.lower.search(text.lower())
        return self.folded.search(text)

    def finditer(self, text: str):
        """Every non-overlapping match in ``text``, as ``re.finditer`` gives them."""
        if self.lower is not None and text.isascii():
            return self.lower.finditer(text.lower())
        return self.folded.finditer(text)


def _top_level_bar(regex: str) -> bool:
    """True when ``regex`` has a ``|`` outside any group or character class."""
    depth = 0
    in_class = False
    i = 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


@lru_cache(maxsize=1)
def prefilter() -> Prefilter:
    """The test every text with a possible cue or call attempt passes (texts that fail it skip spaCy)."""
    return Prefilter(json.loads(_read("prefilter.json"))["words"])
