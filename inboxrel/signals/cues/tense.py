"""Tense and mood: whether a trigger tells of the past or points ahead, negations, sign-offs."""

from __future__ import annotations

import re

from inboxrel.signals import when as when_mod
from inboxrel.signals.cues.parties import is_imperative
from inboxrel.signals.cues.patterns import families, lexicon, time_words
from inboxrel.signals.cues.segment import clause_end, clause_start, next_word, token_before


def longest_markers(markers):
    """Overlapping markers: the longest wins ("would be great to" over "great to")."""
    markers = sorted(markers, key=lambda m: (m[0].start, -(m[0].end - m[0].start)))
    kept = []
    for m in markers:
        if kept and m[0].start < kept[-1][0].end:
            if (m[0].end - m[0].start) > (kept[-1][0].end - kept[-1][0].start):
                kept[-1] = m
            continue
        kept.append(m)
    return kept


def negated_before(sp, negation, clause_of, doc) -> bool:
    """A negation span earlier in the trigger's clause ("we never met")."""
    c = clause_of[sp.start]
    for n in negation:
        if n.start < sp.start and clause_of[n.start] == c:
            return True
    return False


def negated_after(doc, sp, clause_of) -> bool:
    """'a meeting isn't necessary', 'lunch was cancelled': a negation right after the trigger."""
    lex = lexicon()
    c = clause_of[sp.start]
    seen_aux = False
    for j in range(sp.end, min(len(doc), sp.end + 4)):
        if clause_of[j] != c:
            break
        w = doc[j].lower_
        if w in lex["auxiliaries"]:
            seen_aux = True
            continue
        if seen_aux and w in lex["negating_after"]:
            return True
        if not seen_aux:
            break
    return False


def kind_of(doc, sp, role, family, markers, clause_of, sent_of, scope, local, lex) -> tuple[str | None, float]:
    """'past' or 'future' (planned or request is decided by the time) and how sure we are."""
    head = doc[sp.start].lower_
    prev = token_before(doc, sp.start)
    pw = prev.lower_ if prev is not None else ""
    c = clause_of[sp.start]
    s = sent_of[sp.start]
    # the trigger's own tense
    if role == "verb" and (head in lex["past_forms"] or (head.endswith("ed") and head not in lex["future_adjectives"])):
        if pw not in lex["modal_before"]:
            return "past", 1.0
    if role == "verb" and pw in lex["future_before"] or (pw in ("'s",) and token_before(doc, sp.start, 2) is not None and token_before(doc, sp.start, 2).lower_ == "let"):
        return "future", 1.0
    if role == "verb" and is_imperative(doc, sp, clause_of) and head in lex["future_when_imperative"]:
        return "future", 1.0
    if family == "see" and head in lex["see_forms"] and pw not in lex["see_not_after"]:
        return "future", 0.9  # "see you there", "catch you Friday": never a report of the past
    # the nearest tense or mood marker, in the clause, then in the sentence
    for scope_level, weight in (("clause", 1.0), ("sentence", 0.85)):
        best = None
        for m, label in markers:
            if scope_level == "clause" and clause_of[m.start] != c:
                continue
            if scope_level == "sentence" and sent_of[m.start] != s:
                continue
            dist = sp.start - m.end if m.end <= sp.start else m.start - sp.end
            dist = max(dist, 0) + (0 if m.end <= sp.start else 1)
            if best is None or dist < best[0]:
                best = (dist, label)
        tok_best = _past_token(doc, sp, clause_of, sent_of, scope_level, lex)
        if tok_best is not None and (best is None or tok_best < best[0]):
            best = (tok_best, "past")
        if best is not None:
            return best[1], weight
        if scope_level == "clause" and _question(doc, sp, sent_of):
            return "future", 0.9
    # the time says which way it points
    for t in sorted(scope, key=lambda t: abs(t.tok_start - sp.start)):
        d = t.direction
        if t.form == "rel" and not t.offset and t.modifier is None:
            low = t.text.lower()  # "this afternoon" written at 5 pm is behind us; "this morning" at 7 am is ahead
            if "afternoon" in low and local.hour >= 17 or "evening" in low and local.hour >= 21:
                d = "past"
            elif "morning" in low and local.hour < 8:
                d = "future"
        if d is None and t.kind == "day" and t.form in ("date", "dom"):
            day = when_mod.resolve_day(t, "any", local)
            if day is not None and day != local.date():
                d = "past" if day < local.date() else "future"
        if d is None and t.form == "wd" and not t.possessive:
            d = "future"
        if d:
            return d, 0.8
    if family in families()["past_by_default"]:
        return "past", 0.8
    if family in families()["future_by_default"]:
        return "future", 0.8
    return None, 0.0


def _question(doc, sp, sent_of) -> bool:
    s = sent_of[sp.start]
    j = sp.end
    while j < len(doc) and sent_of[j] == s:
        j += 1
    last = doc[j - 1] if j - 1 < len(doc) else None
    while last is not None and last.is_space and last.i > sp.start:
        last = doc[last.i - 1]
    return last is not None and "?" in last.text


def _past_token(doc, sp, clause_of, sent_of, level, lex) -> int | None:
    """Distance to the nearest past-tense word (other than the trigger) in the clause or sentence."""
    best = None
    c, s = clause_of[sp.start], sent_of[sp.start]
    a, b = sp.start, sp.end
    while a > 0 and sent_of[a - 1] == s:
        a -= 1
    while b < len(sent_of) and sent_of[b] == s:
        b += 1
    for tok in doc[a:b]:
        if level == "clause" and clause_of[tok.i] != c:
            continue
        if sp.start <= tok.i < sp.end:
            continue
        w = tok.lower_
        if w in lex["irregular_past"] or (w.endswith("ed") and len(w) > 4 and w not in lex["future_adjectives"]
                                          and tok.is_alpha):
            if w == "had" and next_word(doc, tok.i + 1) is not None and next_word(doc, tok.i + 1).lower_ in ("better", "to"):
                continue
            prev = token_before(doc, tok.i)
            if prev is not None and prev.lower_ in lex["participle_before"]:
                continue  # "to be attached", "will be scheduled"
            if prev is not None and w not in lex["irregular_past"] and _attributive(doc, tok, prev, lex):
                continue  # "mince pies and mulled wine", "the revised draft": an adjective, not a tense
            dist = sp.start - tok.i if tok.i < sp.start else tok.i - sp.end + 1
            if best is None or dist < best:
                best = dist
    return best


def _attributive(doc, tok, prev, lex) -> bool:
    """An -ed word used as an adjective ('the revised draft', 'pies and mulled wine'), not a past tense."""
    p = prev.lower_
    if p in lex["attributive_before"] or p in lex["determiners"]:
        return True
    if p == "and":
        nxt = next_word(doc, tok.i + 1)
        return nxt is not None and nxt.is_alpha and nxt.lower_ not in lex["function_words"] \
            and nxt.lower_ not in lex["first_person"] | lex["second_person"] | lex["third_pronouns"] \
            and nxt.lower_ not in time_words()
    return False


def is_signoff(sentence: str, lex) -> bool:
    """The whole sentence is a sign-off ("Talk soon!", "Looking forward to speaking with you.")."""
    s = sentence.strip().lower()
    if re.match(lex["signoff"], s):
        return True
    return bool(re.match(lex["look_forward"], s))


def signoff_clause(doc, sp, clause_of, lex) -> bool:
    """'Speak soon, and thanks again for the referral': a sign-off clause inside a longer sentence."""
    if sp.id_ not in families()["signoff"]:
        return False
    a = clause_start(doc, sp.start, clause_of)
    if a != sp.start:
        return False
    end = clause_end(doc, sp.start, clause_of)
    words = [doc[k].lower_ for k in range(sp.end, end) if doc[k].is_alpha]
    return bool(words) and all(w in lex["signoff_words"] or w in lex["signoff_clause_words"] for w in words)


def declared_plan(doc, sp, clause_of, lex) -> bool:
    """A plan stated with a vague time: "I will stay after the meeting to talk", "we can talk about it then".

    The author says what they will do (I/we and a modal before the trigger, not a question) and the sentence
    places it in time without a day (``vague_times``): a plan with no date, not a request.
    """
    a = clause_start(doc, sp.start, clause_of)
    before = [doc[j].lower_ for j in range(a, sp.start)]
    subject = next((j for j, w in enumerate(before) if w in lex["declared_plan_subjects"]), None)
    if subject is None or not any(w in lex["declared_plan_modals"] for w in before[subject + 1:subject + 3]):
        return False
    start, end = sp.start, sp.end
    while start > 0 and not doc[start - 1].is_sent_start and doc[start - 1].text not in (".", "!", "?", "\n"):
        start -= 1
    while end < len(doc) and doc[end].text not in (".", "!", "?") and "\n" not in doc[end].text:
        end += 1
    if end < len(doc) and doc[end].text == "?":
        return False
    return any(doc[j].lower_ in lex["vague_times"] for j in range(start, end))

