"""Time: the send time on the sender's wall clock, the time expressions of a sentence and the day a cue names."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from inboxrel.signals import when as when_mod
from inboxrel.signals.cues.cue import Candidate
from inboxrel.signals.cues.patterns import lexicon
from inboxrel.signals.cues.segment import clause_end, clause_start, next_word


def local_datetime(value: str | datetime) -> datetime:
    """The send time as written (local wall clock) from an ISO string or an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.replace(tzinfo=None) if value.tzinfo is None else value.replace(tzinfo=None)


def local_from_utc(dt: datetime | None, offset_minutes: int | None) -> datetime:
    """The sender's local wall-clock time from a UTC datetime and the Date header's offset."""
    if dt is None:
        return datetime(2000, 1, 1, 12)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt + timedelta(minutes=offset_minutes or 0)).replace(tzinfo=None)


class LazyTimes(dict):
    """Time expressions per sentence, found only for the sentences a trigger asks about."""

    def __init__(self, doc, bounds):
        super().__init__()
        self.doc, self.bounds = doc, bounds

    def __contains__(self, s):
        return s in self.bounds

    def __missing__(self, s):
        a, b = self.bounds[s]
        self[s] = value = _times_in(self.doc, a, b)
        if any(t.form == "anaphor" for t in value) and s - 1 in self.bounds:
            # "I'm in SF on the 15th. Dinner that evening?": the day of the sentence before
            days = [t for t in self[s - 1] if t.kind == "day" and t.form != "anaphor"]
            for t in value:
                if t.form == "anaphor" and days:
                    when_mod.link_anaphor(t, days[-1])
        return value


def _times_in(doc, a: int, b: int) -> list:
    span = doc[a:b]
    base = span.start_char
    out = []
    for t in when_mod.find_times(span.text):
        tok = doc.char_span(base + t.start, base + t.end, alignment_mode="expand")
        t.tok_start = tok.start if tok is not None else a
        t.tok_end = tok.end if tok is not None else a
        out.append(t)
    return out


def refers_back(doc, sp) -> bool:
    """'see you there', 'speak then': the cue takes the time of what came before."""
    nxt = next_word(doc, sp.end)
    return nxt is not None and nxt.lower_ in ("there", "then")


def borrow_time(doc, s, sents_with_trigger, times_by_sent, sent_text, local, back=False):
    """A planned cue may take its time from the sentence before or after: 'Five o'clock today work for you?'

    With ``back`` ("see you there", "speak then") the cue points at the sentence before, whatever it says.
    """
    fits = lexicon()["time_fits"]  # "Five o'clock today work for you?"
    for other in (s - 1, s + 1):
        if other not in times_by_sent or other in sents_with_trigger and not (back and other == s - 1):
            continue
        text = sent_text[other].lower()
        if not (back and other == s - 1) and not (text.rstrip().endswith("?") or re.search(fits, text)):
            continue
        ts = [t for t in times_by_sent[other] if not t.deadline and t.direction != "past"]
        if ts:
            return ts
    return []


def pick_day(scope, sp, kind, local) -> date | None:
    if kind not in ("past", "planned"):
        return None
    days = [t for t in scope if t.kind == "day"]
    if any(t.alternative for t in days):
        return None
    if days:
        nearest = min(days, key=lambda t: abs(t.tok_start - sp.start))
        return when_mod.resolve_day(nearest, kind, local)
    clocks = [t for t in scope if t.kind == "clock"]
    if clocks and not any(t.kind == "range" for t in scope):
        return when_mod.clock_day(clocks[0], kind, local)
    return None


DAY_WORD = re.compile(r"\b(?:mon|tue|wed|thu|fri|sat|sun)\w*|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|"
                       r"\d|\b(?:tomorrow|tonight|today|morning|afternoon|evening|noon|week|weekend)\b", re.I)


def moved_cues(doc, moved_spans, negated, cands, clauses_with_trigger, sent_of, clause_of, times_by_sent, sent_text,
           local, lex) -> list:
    """'I can't make lunch Thursday - how about Tuesday the 7th?': a called-off conversation moved to a new time.

    Also 'Thanks for the pint last night. Same again Friday?': a conversation repeated at a new time. The
    new time must sit in the clause of the moving phrase, and that clause must not name a conversation itself.
    """
    out = []
    people = lex["first_person"] | lex["second_person"]
    for r in moved_spans:
        s, c = sent_of[r.start], clause_of[r.start]
        if c in clauses_with_trigger or r.start > 0 and doc[r.start - 1].lower_ in ("the", "a"):
            continue  # "at the same time" is not "same time, next week?"
        again = r.id_ == "again"
        antecedent = None
        for sp, medium in negated:
            if sent_of[sp.start] in (s, s - 1) and sp.start < r.start:
                antecedent = medium
        moving = None
        if antecedent is None and r.id_ == "push":
            prior = [m for m in cands if m.kind == "planned" and m.sent_index in (s, s - 1) and m.start < doc[r.start].idx]
            if prior:
                moving = prior[-1]
                antecedent = moving.medium
        if antecedent is None and again:
            prior = [m for m in cands if m.kind in ("past", "planned") and m.sent_index in (s, s - 1)
                     and m.start < doc[r.start].idx]
            if prior:
                antecedent = prior[-1].medium
        if antecedent is None:
            continue
        a, b = clause_start(doc, r.start, clause_of), clause_end(doc, r.start, clause_of)
        if r.id_ == "instead" and not any(doc[k].lower_ in people for k in range(a, b)):
            continue
        times = [t for t in times_by_sent[s] if not t.deadline and clause_of[t.tok_start] == c and t.direction != "past"]
        if not times:
            continue
        day = pick_day(times, r, "planned", local)
        if moving is not None:
            if any(t.kind != "clock" for t in times):
                moving.when = day  # the same conversation at its new time ("can we change to 2 PM?" keeps the day)
            continue
        out.append(Candidate("planned", antecedent, day, s, doc[r.start].idx, 0.7, sent_text[s], True))
    return out
