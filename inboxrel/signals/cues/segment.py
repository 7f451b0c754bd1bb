"""Segmentation: sentence and clause numbers for every token, and moving around a clause."""

from __future__ import annotations

from inboxrel.signals.cues.patterns import lexicon, month_words, weekday_words

_SENT_END = {".", "!", "?", "!!", "?!", "!?", "...", "…", "!!!", "??"}


_CLAUSE_BREAK = {",", ";", ":", "—", "–", "(", ")", "[", "]", "--"}


_QUOTES = {'"', "“", "”"}


def segment(doc, quotes: list[int] | None = None) -> tuple[list[int], list[int]]:
    """Sentence and clause number for every token (and, into ``quotes``, the indexes of quotation marks)."""
    clause_words, weekdays, months = lexicon()["clause_words"], weekday_words(), month_words()
    n = len(doc)
    sent = [0] * n
    clause = [0] * n
    s = c = 0
    prev_break = True
    # the previous two tokens' text, lower form and trailing whitespace (indexing the Doc builds Token objects)
    p1 = p1_low = p2_low = ""
    p1_ws = p2_ws = ""
    for i, tok in enumerate(doc):
        t = tok.text
        low = tok.lower_
        if i > 0:
            if p1 in _SENT_END or "\n" in p1:
                if not prev_break:
                    s += 1
                    c += 1
                    prev_break = True
            elif p1 == "," and i >= 2 and p2_low.rstrip(".") in weekdays and \
                    (tok.like_num or low.rstrip(".") in months):
                pass  # "Wednesday, October 10" is one date
            elif p1 in _CLAUSE_BREAK or (p1 in ("-", "–") and i >= 2 and p2_ws and p1_ws):
                c += 1
            elif low in clause_words:
                c += 1
        if t in _QUOTES and quotes is not None:
            quotes.append(i)
        if tok.is_space:
            if "\n" in t and not prev_break:
                s += 1
                c += 1
                prev_break = True
        else:
            prev_break = False
        sent[i], clause[i] = s, c
        p2_low, p2_ws = p1_low, p1_ws
        p1, p1_low, p1_ws = t, low, tok.whitespace_
    return sent, clause


def token_before(doc, i: int, n: int = 1):
    j = i - n
    return doc[j] if j >= 0 else None


def next_word(doc, i: int):
    j = i
    while j < len(doc) and doc[j].is_space:
        j += 1
    return doc[j] if j < len(doc) else None


def clause_start(doc, i: int, clause_of) -> int:
    j = i
    while j > 0 and clause_of[j - 1] == clause_of[i]:
        j -= 1
    while j < i and (doc[j].is_space or doc[j].is_punct):
        j += 1
    return j


def clause_end(doc, i: int, clause_of) -> int:
    j = i
    while j < len(doc) and clause_of[j] == clause_of[i]:
        j += 1
    return j
