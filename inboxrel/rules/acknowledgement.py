"""Is a message only an acknowledgement or a closer ("ok", "thanks", "sounds good", "will do")?

Such a message ends a thread: it waits for no reply, so ``awaiting-reply`` does not count it. The
phrases, the filler words allowed around them and the limits are data, in ``acknowledgements.json``.
Only the message's own words count: the text from the first quoted or forwarded block on is cut off,
and so is a signature after "-- ".
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

# where the quoted or forwarded part of a reply starts (Outlook, Lotus Notes, most clients)
_QUOTED = re.compile(r"^\s*(-{2,}\s*(original|forwarded) message|_{8,}|={8,}|>|from:\s|sent:\s|"
                     r"on .{3,120}wrote:|.{0,80}\d{2}/\d{2}/\d{2,4}\s+\d{1,2}:\d{2}\s*(am|pm)?\s*$|"
                     r"\S+@\S+\s*$|.{0,80}\sto:\s)",  # Lotus Notes: the sender's address, then "To:" mid-line
                     re.I | re.M)
_SIGNATURE = re.compile(r"^--\s*$", re.M)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@lru_cache(maxsize=1)
def _data():
    data = json.loads(Path(__file__).with_name("acknowledgements.json").read_text(encoding="utf-8"))
    phrases = sorted((tuple(p.split()) for p in data["phrases"]), key=len, reverse=True)
    return phrases, frozenset(data["filler"]), int(data["max_words"]), int(data["max_other_words"])


def own_text(body: str) -> str:
    """The words the sender wrote in this message: before any quoted block and before the signature."""
    m = _QUOTED.search(body)
    text = body[:m.start()] if m else body
    m = _SIGNATURE.search(text)
    return text[:m.start()] if m else text


def is_acknowledgement(body: str | None) -> bool:
    """True when the message's own text is only a thank-you, an "ok" or another closer (no question)."""
    if not body:
        return False
    text = own_text(body)
    if "?" in text:
        return False
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    phrases, filler, max_words, max_other = _data()
    if not words or len(words) > max_words:
        return False
    found, other, i = 0, 0, 0
    while i < len(words):
        for phrase in phrases:
            if tuple(words[i:i + len(phrase)]) == phrase:
                found += 1
                i += len(phrase)
                break
        else:
            if words[i] not in filler:
                other += 1  # a name, initials, a word or two of thanks for something
            i += 1
    return found > 0 and other <= max_other
