"""Triggers: whether a trigger word is used in its conversation sense, and whether it is a verb or a noun.

Each trigger family (the ``id`` of its patterns in ``triggers.jsonl``) has its own check in ``CHECKS``, a
table from family to a function of the trigger's :class:`Use`; a family without one is always a
conversation. The words the checks test are in ``patterns/lexicon.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inboxrel.signals.cues.parties import is_imperative
from inboxrel.signals.cues.segment import clause_end, clause_start, next_word, token_before


def _role(doc, sp, clause_of, lex) -> str:
    """'verb' or 'noun' for the trigger's head word, from the word before it."""
    head = doc[sp.start]
    prev = token_before(doc, sp.start)
    if prev is not None and prev.lower_ in ("'s", "’s") and (token_before(doc, sp.start, 2) is None or token_before(doc, sp.start, 2).lower_ != "let"):
        return "noun"
    if prev is not None and prev.lower_ in lex["verb_context"] and clause_of[prev.i] == clause_of[sp.start]:
        return "verb"
    if prev is not None and prev.lower_ == "'s" and token_before(doc, sp.start, 2).lower_ == "let":
        return "verb"
    if is_imperative(doc, sp, clause_of) and head.lower_ in lex["verb_when_imperative"]:
        return "verb"
    if head.lower_.endswith("ed") or head.lower_ in lex["past_forms"]:
        return "verb"
    if head.lower_.endswith("ing") and prev is not None and prev.lower_ in lex["gerund_before"]:
        return "verb"  # "thanks for calling Acme support": a gerund with its own object
    return "noun"


def _object_ok(doc, sp, lex) -> bool:
    """The word after a verb trigger lets it be a conversation: nothing, a pronoun, a time ("met the other day")."""
    nxt = next_word(doc, sp.end)
    if nxt is None or nxt.is_punct or nxt.lower_ in lex["ok_object"] or nxt.like_num:
        return True
    if nxt.lower_ in ("'s",):
        return True
    if nxt.lower_ == "the":  # "met the day before yesterday", "spoke the other day", "call the 4th"
        after = next_word(doc, nxt.i + 1)
        return after is not None and (after.lower_ in lex["after_the_time"] or re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", after.lower_) is not None)
    return False


@dataclass(slots=True)
class Use:
    """A trigger in its sentence, as the family checks read it."""

    doc: object
    sp: object  # the trigger's Span
    lex: dict
    clause_of: list[int]
    w: str  # the trigger's first word, lower-cased
    pw: str  # the word before it ("" at the start)
    nxt: object  # the next non-space token after the trigger, or None
    nw: str  # its lower form ("" when there is none)
    role: str  # "verb" or "noun"
    plural_ok: bool  # the word before allows a plural ("any calls", "more meetings")

    def before(self, n: int) -> str:
        """The lower form of the word ``n`` tokens before the trigger ("" before the start)."""
        tok = token_before(self.doc, self.sp.start, n)
        return tok.lower_ if tok is not None else ""

    def object_ok(self) -> bool:
        return _object_ok(self.doc, self.sp, self.lex)

    def clause_words(self):
        """The lower forms of the words in the trigger's clause."""
        a, b = clause_start(self.doc, self.sp.start, self.clause_of), clause_end(self.doc, self.sp.start, self.clause_of)
        return (self.doc[j].lower_ for j in range(a, b))

    def given(self, n: int) -> bool:
        """A form of "give" in the ``n`` words before the trigger ("give me a ring")."""
        return any(self.doc[j].lower_ in self.lex["give_forms"] for j in range(max(0, self.sp.start - n), self.sp.start))


def _call(u: Use) -> tuple[bool, str]:
    if u.w == "calls" and u.role != "verb":
        return u.plural_ok, "noun"
    if u.role == "verb":
        return u.object_ok(), u.role
    return True, u.role


def _ring(u: Use) -> tuple[bool, str]:
    if u.w in ("ring", "rings") and u.pw == "a":
        return u.given(4), "noun"  # "give me a ring"
    return u.nw in u.lex["ring_objects"] or (u.w == "rang" and (u.nxt is None or u.nxt.is_punct)), "verb"


def _phone(u: Use) -> tuple[bool, str]:
    if u.w in u.lex["phone_verb_forms"]:
        return u.object_ok(), "verb"
    if u.w == "phones":
        return False, "noun"
    if u.pw in u.lex["by_phone_before"] or (u.pw == "the" and u.before(2) in u.lex["on_the_phone_before"]):
        return True, "noun"
    if u.w.endswith("ally"):
        return True, "verb"  # "discuss telephonically"
    return u.nw in u.lex["phone_before_noun"], "verb"


def _dial(u: Use) -> tuple[bool, str]:
    return u.nw in u.lex["dial_objects"], "verb"


def _buzz(u: Use) -> tuple[bool, str]:
    if u.doc[u.sp.end - 1].lower_ == "shout":
        return False, "noun"
    return u.given(3), "noun"


def _teams(u: Use) -> tuple[bool, str]:
    return u.pw in u.lex["teams_before"] or u.nw in u.lex["teams_after"], "noun"


def _meal(u: Use) -> tuple[bool, str]:
    if u.w == "drink":
        return u.pw in u.lex["drink_before"], "noun"
    if u.pw in u.lex["meal_not_after"] or (u.pw == "to" and u.before(2) == "out"):
        return False, "noun"  # "after lunch", "out to dinner"
    return True, "noun"


def _visit(u: Use) -> tuple[bool, str]:
    if u.role == "verb" and u.w != "visited":
        return u.object_ok() or u.nw in ("your", "our"), u.role
    if u.w == "visited":
        return u.object_ok(), "verb"
    return True, "noun"


def _dropby(u: Use) -> tuple[bool, str]:
    if u.w in u.lex["come_forms"] and u.doc[u.sp.end - 1].lower_ == "in":
        return False, "verb"
    if u.pw in u.lex["dropby_not_after"]:
        return False, "noun"
    return True, "verb"


def _hello(u: Use) -> tuple[bool, str]:
    return u.nw != "to", "verb"


def _event(u: Use) -> tuple[bool, str]:
    return any(w in u.lex["event_addressee"] for w in u.clause_words()), "noun"


def _speak(u: Use) -> tuple[bool, str]:
    """speak, chat (and talk): a verb with an object must take one a conversation takes ("speak to you")."""
    if u.role == "verb" and u.nw not in u.lex["talk_topic_after"]:
        return u.object_ok(), u.role
    return True, u.role


def _talk(u: Use) -> tuple[bool, str]:
    if u.w == "talks":
        return False, "noun"
    if u.role == "noun" and u.pw not in u.lex["talk_noun_after"]:
        return False, "noun"  # "a good talk", not "the keynote talk"
    return _speak(u)


def _discuss(u: Use) -> tuple[bool, str]:
    if u.w.startswith("discussion") and u.role == "noun":
        return (u.pw in u.lex["determiners"] or u.pw in ("'s", "’s") or u.pw.endswith("'s")), "noun"
    return True, u.role


def _sync(u: Use) -> tuple[bool, str]:
    if u.role == "noun" and u.pw not in u.lex["determiners"] and u.nw != "up":
        return False, "noun"
    return True, u.role


def _connect(u: Use) -> tuple[bool, str]:
    """connect, interview: a verb needs an object a conversation takes."""
    if u.role == "verb":
        return u.object_ok(), u.role
    return True, u.role


def _meet(u: Use) -> tuple[bool, str]:
    if u.w == "meets":
        return False, "verb"
    if u.w == "meetings":
        return u.plural_ok, "noun"
    if u.w == "meeting" and u.pw not in u.lex["meeting_verb_after"]:
        return True, "noun"
    if u.w == "meeting" and u.pw in ("after", "before"):
        return u.nw in u.lex["meeting_verb_objects"], "verb"  # "before meeting you"
    return u.object_ok(), "verb"


def _session(u: Use) -> tuple[bool, str]:
    if u.w.endswith("sessions"):
        return u.plural_ok, "noun"
    return (u.pw in u.lex["determiners"] or u.pw in u.lex["session_after"] or u.role == "verb"
            or u.nw == "with" or is_imperative(u.doc, u.sp, u.clause_of)), "noun"


def _followup(u: Use) -> tuple[bool, str]:
    return u.pw in u.lex["determiners"] and u.nw not in u.lex["followup_written"], "noun"


def _walk(u: Use) -> tuple[bool, str]:
    return any(w in u.lex["walk_spoken"] for w in u.clause_words()), "verb"  # "walk you through it live"


def _as_verb(u: Use) -> tuple[bool, str]:
    return True, "verb"


def _as_noun(u: Use) -> tuple[bool, str]:
    return True, "noun"


# The check of each trigger family; a family not named here is always in its conversation sense, with the
# role its position gives it.
CHECKS = {
    "call": _call, "ring": _ring, "phone": _phone, "dial": _dial, "buzz": _buzz, "teams": _teams,
    "meal": _meal, "visit": _visit, "dropby": _dropby, "hello": _hello, "event": _event,
    "talk": _talk, "speak": _speak, "chat": _speak, "discuss": _discuss, "sync": _sync,
    "connect": _connect, "interview": _connect, "meet": _meet, "session": _session, "followup": _followup,
    "walk": _walk, "see": _as_verb, "zoom": _as_noun,
}


def valid_trigger(doc, sp, lex, clause_of) -> tuple[bool, str]:
    """Whether the trigger ``sp`` is used in its conversation sense, and its role ("verb" or "noun")."""
    prev = token_before(doc, sp.start)
    pw = prev.lower_ if prev is not None else ""
    nxt = next_word(doc, sp.end)
    role = _role(doc, sp, clause_of, lex)
    plural_ok = pw in lex["plural_generic_ok"]
    if doc[sp.end - 1].lower_ in lex["plural_triggers"] and not plural_ok and role != "verb":
        return False, "noun"  # "calls", "meetings" in general
    check = CHECKS.get(sp.id_)
    if check is None:
        return True, role
    return check(Use(doc, sp, lex, clause_of, doc[sp.start].lower_, pw, nxt, nxt.lower_ if nxt is not None else "",
                     role, plural_ok))
