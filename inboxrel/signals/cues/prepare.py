"""Text preparation before tokenising: hard-wrapped lines joined, and only the sentences near a trigger word."""

from __future__ import annotations

import re
from bisect import bisect_right

_LINE_END = re.compile(r"[.!?:;]\s*$")


_BULLET = re.compile(r"^\s*(?:[-*•>]|\d+[.)])\s+")


def prepare_text(text: str) -> str:
    """Join hard-wrapped lines into paragraphs; keep paragraph and list breaks as newlines."""
    out_lines: list[str] = []
    for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        buf = ""
        for ln in lines:
            if not buf:
                buf = ln
            elif _LINE_END.search(buf) or _BULLET.match(ln) or len(buf) < 25:
                out_lines.append(buf)
                buf = ln
            else:
                buf += " " + ln
        if buf:
            out_lines.append(buf)
        out_lines.append("")
    return "\n".join(out_lines).strip()


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+")


def candidate_text(text: str, rx) -> str:
    """Only the sentences that hold a trigger word, with their neighbours (a time may sit next door).

    Long bodies cost spaCy time in proportion to their length; the sentences far from any trigger word
    cannot change a cue, so they are dropped before tokenising. Sentences are kept whole and in order.
    ``rx`` is :func:`prefilter` (or any compiled regex); a sentence is a hit when ``rx.search(sentence)``
    finds something.
    """
    if len(text) < 200:
        return text
    sents = []  # (start, end) of the pieces _SENT_SPLIT.split gives, without the blank ones
    pos = 0
    for m in _SENT_SPLIT.finditer(text):
        if pos < m.start() and not text[pos:m.start()].isspace():
            sents.append((pos, m.start()))
        pos = m.end()
    if pos < len(text) and not text[pos:].isspace():
        sents.append((pos, len(text)))
    hits = _sentence_hits(text, sents, rx)
    keep = sorted({j for i in hits for j in (i - 1, i, i + 1) if 0 <= j < len(sents)})
    out = []
    prev = None
    for j in keep:
        if prev is not None and j != prev + 1:
            out.append("\n")
        a, b = sents[j]
        out.append(text[a:b] + "\n")
        prev = j
    return "".join(out)


def _sentence_hits(text: str, sents: list[tuple[int, int]], rx) -> set[int]:
    """Indexes of the sentences ``rx`` finds something in, from one pass over the whole text.

    A match inside one sentence makes it a hit. A match that runs across a sentence break ("give me a\nbuzz")
    is not a match of either sentence and may hide one that starts under it, so each sentence it touches is
    searched on its own, exactly as a per-sentence search would.
    """
    if not getattr(rx, "context_free", False):
        return {i for i, (a, b) in enumerate(sents) if rx.search(text[a:b])}
    starts = [a for a, _ in sents]
    hits: set[int] = set()
    recheck: set[int] = set()
    for m in rx.finditer(text):
        s, e = m.start(), max(m.end(), m.start() + 1)
        i = bisect_right(starts, s) - 1
        if i >= 0 and e <= sents[i][1]:
            hits.add(i)
            continue
        j = max(i, 0)
        while j < len(sents) and sents[j][0] < e:
            if sents[j][1] > s:
                recheck.add(j)
            j += 1
    for j in recheck - hits:
        a, b = sents[j]
        if rx.search(text[a:b]):
            hits.add(j)
    return hits
