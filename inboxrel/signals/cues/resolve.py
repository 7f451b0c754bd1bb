"""The resolver: the ruler's marks on a Doc through the stages, to cues.

Per text: segment it; drop greetings to a crowd; note the attempts; keep the triggers in their
conversation sense (``triggers``) that are not quoted, boilerplate or another sense; per trigger decide
the party (``parties``), negation and kind (``tense``), the medium (``medium``) and the day (``dates``);
add the conversations moved to a new time; merge (``merge``).
"""

from __future__ import annotations

from datetime import datetime

from inboxrel.signals.cues.cue import MEDIA, SPANS_KEY, Candidate, Cue
from inboxrel.signals.cues.dates import DAY_WORD, LazyTimes, borrow_time, moved_cues, pick_day, refers_back
from inboxrel.signals.cues.medium import onsite_before, place_after, written_channel
from inboxrel.signals.cues.merge import merge
from inboxrel.signals.cues.parties import (
    engaged,
    first_person_subject,
    is_broadcast,
    is_imperative,
    reported_quotes,
    third_party,
)
from inboxrel.signals.cues.patterns import families, lexicon
from inboxrel.signals.cues.segment import segment
from inboxrel.signals.cues.tense import (
    declared_plan,
    is_signoff,
    kind_of,
    longest_markers,
    negated_after,
    negated_before,
    signoff_clause,
)
from inboxrel.signals.cues.triggers import valid_trigger


def resolve_cues(doc, local: datetime) -> list[Cue]:
    """Turn the ruler's marks on ``doc`` into cues (see :mod:`inboxrel.signals.cues`)."""
    lex = lexicon()
    traits = families()
    if not len(doc):
        return []
    quote_marks: list[int] = []
    sent_of, clause_of = segment(doc, quote_marks)
    spans = list(doc.spans.get(SPANS_KEY, []))
    triggers = [sp for sp in spans if sp.label_ in MEDIA]
    ctx: dict[str, list] = {}
    for sp in spans:
        if sp.label_ not in MEDIA:
            ctx.setdefault(sp.label_, []).append(sp)
    if is_broadcast(doc[:12].text):  # Doc.text joins every token: the opening words are enough here
        return []
    busy = ctx.get("busy", [])  # "I was in a meeting when you called": the author's own calls with others
    other = ctx.get("other", []) + busy
    busy_clauses = {clause_of[j] for sp in busy for j in range(sp.start, sp.end)}
    notneg = ctx.get("notneg", [])
    negation = [sp for sp in ctx.get("negation", [])
                if not any(x.start <= sp.start < x.end for x in notneg)]
    boiler_sents = {sent_of[sp.start] for sp in ctx.get("boilerplate", [])}
    third_sents = {sent_of[sp.start] for sp in ctx.get("third", [])}
    attempt_spans = ctx.get("attempt", [])
    markers = [(sp, "past") for sp in ctx.get("past", [])] + [(sp, "future") for sp in ctx.get("future", [])]
    markers = longest_markers(markers)
    sent_text: dict[int, str] = {}
    sent_bounds: dict[int, tuple[int, int]] = {}
    for i, s in enumerate(sent_of):
        a, b = sent_bounds.get(s, (i, i))
        sent_bounds[s] = (min(a, i), max(b, i + 1))
    for s, (a, b) in sent_bounds.items():
        sent_text[s] = doc[a:b].text.strip()
    times_by_sent = LazyTimes(doc, sent_bounds)

    cands: list[Candidate] = []
    attempt_sents = set()
    attempt_clauses = set()
    for sp in attempt_spans:
        s = sent_of[sp.start]
        if s in attempt_sents or s in boiler_sents:
            continue
        if negated_before(sp, negation, clause_of, doc) and sp.label_ == "attempt" and doc[sp.start].lower_ not in lex["negation_openers"]:
            continue
        attempt_sents.add(s)
        attempt_clauses.update(clause_of[j] for j in range(sp.start, sp.end))
        # "I left you a voice mail on Friday": the day it names, read as past
        day = pick_day([t for t in times_by_sent[s] if not t.deadline], sp, "past", local)
        cands.append(Candidate("attempt", "phone", day, s, doc[sp.start].idx, 0.8, sent_text[s], False))

    quoted = reported_quotes(doc, quote_marks, lex) if quote_marks else None
    valid: list[tuple] = []
    for sp in sorted(triggers, key=lambda x: x.start):
        s = sent_of[sp.start]
        if quoted and sp.start in quoted:
            continue  # 'Tom wrote: "lunch Friday?"': someone else's words
        if s in boiler_sents or s in third_sents or clause_of[sp.start] in attempt_clauses:
            continue
        if any(o.start < sp.end and sp.start < o.end for o in other):
            continue
        ok, role = valid_trigger(doc, sp, lex, clause_of)
        if not ok:
            continue
        valid.append((sp, role))
    clauses_with_trigger = {clause_of[sp.start] for sp, _ in valid}
    sents_with_trigger = {sent_of[sp.start] for sp, _ in valid}
    negated: list[tuple] = []
    third_clauses: set[int] = set()

    for sp, role in valid:
        s = sent_of[sp.start]
        c = clause_of[sp.start]
        family = sp.id_
        medium = sp.label_
        third = third_party(doc, sp, role, lex, clause_of, sent_of)
        party = None
        if isinstance(third, str) and first_person_subject(doc, sp, clause_of, lex):
            party = third  # "I just spoke with Elizabeth": whether she is a correspondent is for attribution
        elif third or (c in third_clauses and sp.start > 0 and doc[sp.start - 1].lower_ == "to"):
            third_clauses.add(c)  # "a meeting with the PUC staff to discuss ...": the purpose shares the party
            continue
        if negated_before(sp, negation, clause_of, doc) or negated_after(doc, sp, clause_of):
            negated.append((sp, medium if not place_after(doc, sp, clause_of, lex) else "in_person"))
            continue
        if family in traits["needs_people"] and not engaged(doc, sent_bounds[s], markers, sent_of, lex) \
                and not (role == "verb" and family in traits["imperative_addresses_you"] and is_imperative(doc, sp, clause_of)):
            continue  # an imperative ("Talk tomorrow.") addresses the recipient
        if medium == "unspecified" and (place_after(doc, sp, clause_of, lex) or onsite_before(doc, sp)):
            medium = "in_person"
        if medium in ("unspecified", "video") and family not in traits["names_channel"] and written_channel(doc, sp, clause_of):
            continue
        # the time expressions that belong to this trigger
        times = [t for t in times_by_sent[s] if not t.deadline]
        in_clause = [t for t in times if clause_of[t.tok_start] == c]
        scope = in_clause or [t for t in times if clause_of[t.tok_start] not in clauses_with_trigger]
        back = refers_back(doc, sp)
        if back and not scope:
            scope = times
        kind, strength = kind_of(doc, sp, role, family, markers, clause_of, sent_of, scope, local, lex)
        if kind is None:
            continue
        if kind == "past" and (s in attempt_sents or c in busy_clauses):
            continue  # "I rang twice but it went to voicemail": the attempt, not a conversation
        if kind == "future" and not scope:
            scope = borrow_time(doc, s, sents_with_trigger, times_by_sent, sent_text, local, back)
        time_attached = bool(scope)
        if kind == "future":
            kind = "planned" if time_attached or declared_plan(doc, sp, clause_of, lex) else "request"
        day = pick_day(scope, sp, kind, local)
        if kind == "past" and day is not None and day > local.date():
            kind = "planned"  # "we decided we would go eat supper tomorrow night": decided now, for later
        if kind == "request":
            day = None
            if is_signoff(sent_text[s], lex) or signoff_clause(doc, sp, clause_of, lex):
                continue
            if family == "see" and not any(m for m, _ in markers if sent_of[m.start] == s):
                continue  # "see you" with neither a time nor an invitation is a sign-off
        elif kind == "planned" and is_signoff(sent_text[s], lex) and not DAY_WORD.search(sent_text[s]):
            continue  # "Talk to you later.": a sign-off whose time names no day
        conf = (0.9 if medium != "unspecified" else 0.75) * strength
        cands.append(Candidate(kind, medium, day, s, sp.start_char, round(conf, 2), sent_text[s], time_attached,
                                party))
    cands += moved_cues(doc, ctx.get("moved", []), negated, cands, clauses_with_trigger, sent_of, clause_of, times_by_sent,
                    sent_text, local, lex)
    return merge(cands)
