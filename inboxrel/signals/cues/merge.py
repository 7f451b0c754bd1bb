"""Merging: the candidates about one conversation become one cue."""

from __future__ import annotations

from inboxrel.signals.cues.cue import SPECIFICITY, Candidate, Cue


def merge(cands: list[Candidate]) -> list[Cue]:
    """One cue per conversation: same kind in one sentence, or compatible medium and day across sentences."""
    merged: list[Candidate] = []
    for c in sorted(cands, key=lambda c: c.start):
        target = None
        for m in merged:
            if m.kind != c.kind:
                continue
            same_sentence = m.sent_index == c.sent_index
            medium_ok = same_sentence or m.medium == c.medium or "unspecified" in (m.medium, c.medium)
            when_ok = m.when is None or c.when is None or m.when == c.when
            if medium_ok and when_ok:
                target = m
                break
        if target is None:
            merged.append(c)
            continue
        if SPECIFICITY[c.medium] > SPECIFICITY[target.medium]:
            target.medium = c.medium
            target.sentence = c.sentence
        target.when = target.when or c.when
        target.confidence = max(target.confidence, c.confidence)
        target.party = target.party or c.party
    return [Cue(m.kind, m.medium, m.when, m.sentence, m.confidence, m.start, m.party) for m in merged]
