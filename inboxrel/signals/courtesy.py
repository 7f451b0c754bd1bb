"""Courtesy and conditional offers: "call me if you have any questions" is not a request to talk.

Business mail closes with offers ("feel free to call", "please contact me at x3-1234 with questions", "happy to
hop on a call if that's easier") that say nothing about a relationship. A request is an explicit ask to talk
("can we get together to discuss this"). The phrases are data: ``patterns/courtesy.json``, one list of
case-insensitive regexes for requests and a stricter one that also drops plans ("give me a call at 3 if you
have questions"). Pure and testable alone: a sentence and a kind in, a yes or no out.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern]:
    raw = json.loads(resources.files("inboxrel.signals").joinpath("patterns", "courtesy.json").read_text("utf-8"))
    return {kind: re.compile("|".join(f"(?:{p})" for p in pats), re.I)
            for kind, pats in raw.items() if not kind.startswith("_")}


def is_courtesy(sentence: str, kind: str) -> bool:
    """True when ``sentence``, read as a cue of ``kind``, is a courtesy or conditional offer."""
    rx = _patterns().get(kind)
    return bool(rx is not None and sentence and rx.search(sentence))


def drop_courtesy(cues: list) -> list:
    """``cues`` without the courtesy offers (requests and plans whose sentence is one)."""
    return [c for c in cues if not is_courtesy(c.sentence, c.kind)]
