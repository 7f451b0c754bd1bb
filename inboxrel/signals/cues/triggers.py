"""Triggers: whether a trigger word is used in its conversation sense, and whether it is a verb or a noun."""

from __future__ import annotations

import re

from inboxrel.signals.cues.parties import PAST_FORMS, is_imperative
from inboxrel.signals.cues.segment import clause_end, clause_start, next_word, token_before

_VERB_CONTEXT = {"i", "we", "you", "they", "he", "she", "'ll", "will", "to", "please", "pls", "plz", "can", "could",
                 "would", "should", "'d", "must", "might", "may", "shall", "just", "also", "then", "and", "or",
                 "n't", "not", "never", "ever", "did", "do", "does", "gonna", "wanna", "'m", "am", "are", "'re",
                 "was", "were", "is", "have", "'ve", "had", "has", "finally", "already", "quickly", "briefly",
                 "really", "definitely", "probably", "happily", "gladly", "u", "ya", "actually", "still",
                 "only", "both", "all", "y'all", "so", "we've", "i've", "ll", "again", "rather", "better"}


_PLURALS = {"calls", "meetings", "lunches", "dinners", "breakfasts", "sessions", "conversations", "chats", "visits",
            "interviews", "discussions", "conferences", "coffees", "beers", "talks"}


def _role(doc, sp, clause_of) -> str:
    """'verb' or 'noun' for the trigger's head word, from the word before it."""
    head = doc[sp.start]
    prev = token_before(doc, sp.start)
    if prev is not None and prev.lower_ in ("'s", "’s") and (token_before(doc, sp.start, 2) is None or token_before(doc, sp.start, 2).lower_ != "let"):
        return "noun"
    if prev is not None and prev.lower_ in _VERB_CONTEXT and clause_of[prev.i] == clause_of[sp.start]:
        return "verb"
    if prev is not None and prev.lower_ == "'s" and token_before(doc, sp.start, 2).lower_ == "let":
        return "verb"
    if is_imperative(doc, sp, clause_of) and head.lower_ in ("call", "ring", "phone", "dial", "meet", "talk", "speak",
                                                               "chat", "discuss", "visit", "connect", "sync", "see",
                                                               "touch", "catch", "stop", "come", "drop", "swing",
                                                               "pop", "get", "skype", "zoom", "facetime", "have"):
        return "verb"
    if head.lower_.endswith("ed") or head.lower_ in PAST_FORMS:
        return "verb"
    if head.lower_.endswith("ing") and prev is not None and prev.lower_ in ("for", "about", "after", "before", "by", "from"):
        return "verb"  # "thanks for calling Acme support": a gerund with its own object
    return "noun"


def _object_ok(doc, sp, lex) -> bool:
    nxt = next_word(doc, sp.end)
    if nxt is None or nxt.is_punct or nxt.lower_ in lex["ok_object"] or nxt.like_num:
        return True
    if nxt.lower_ in ("'s",):
        return True
    if nxt.lower_ == "the":  # "met the day before yesterday", "spoke the other day", "call the 4th"
        after = next_word(doc, nxt.i + 1)
        return after is not None and (after.lower_ in ("day", "other", "week", "morning", "evening", "night", "afternoon",
                                                         "weekend", "following", "next")
                                      or re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", after.lower_) is not None)
    return False


def valid_trigger(doc, sp, lex, clause_of) -> tuple[bool, str]:
    fam = sp.id_
    head = doc[sp.start]
    w = head.lower_
    prev = token_before(doc, sp.start)
    pw = prev.lower_ if prev is not None else ""
    nxt = next_word(doc, sp.end)
    nw = nxt.lower_ if nxt is not None else ""
    role = _role(doc, sp, clause_of)
    plural_ok = pw in lex["plural_generic_ok"]
    last = doc[sp.end - 1].lower_
    if last in _PLURALS and not plural_ok and role != "verb":
        return False, "noun"
    if fam == "call":
        if w == "calls" and role != "verb":
            return plural_ok, "noun"
        if role == "verb":
            return _object_ok(doc, sp, lex), role
        return True, role
    if fam == "ring":
        if w in ("ring", "rings") and pw == "a":
            return any(doc[j].lower_ in ("give", "gimme", "giving", "gave") for j in range(max(0, sp.start - 4), sp.start)), "noun"
        return nw in ("me", "you", "us", "my", "your", "back", "round", "around", "ya", "u", "him", "her", "them") \
            or (w == "rang" and (nxt is None or nxt.is_punct)), "verb"
    if fam == "phone":
        if w in ("phoned", "phoning", "telephoned", "telephoning"):
            return _object_ok(doc, sp, lex), "verb"
        if w == "phones":
            return False, "noun"
        if pw in ("by", "via", "over") or (pw == "the" and token_before(doc, sp.start, 2) is not None
                                             and token_before(doc, sp.start, 2).lower_ in ("on", "over", "via", "by")):
            return True, "noun"
        if w.endswith("ally"):
            return True, "verb"  # "discuss telephonically"
        return nw in ("call", "calls", "conversation", "chat", "meeting", "interview", "me", "you", "us", "back",
                      "him", "her", "them", "conference", "discussion", "discussions", "round", "screen",
                      "catch-up", "catchup", "conversations"), "verb"
    if fam == "dial":
        return nw in ("me", "you", "us", "your", "my", "our"), "verb"
    if fam == "buzz":
        if doc[sp.end - 1].lower_ == "shout":
            return False, "noun"
        return any(doc[j].lower_ in ("give", "gimme", "giving", "gave") for j in range(max(0, sp.start - 3), sp.start)), "noun"
    if fam == "teams":
        return pw in ("on", "via", "over", "through", "ms", "microsoft", "in") or nw in (
            "call", "calls", "meeting", "meetings", "link", "invite", "session", "video"), "noun"
    if fam == "meal":
        if w == "drink":
            return pw in ("a", "that", "the", "our", "this", "quick", "for", "another", "one", "celebratory"), "noun"
        if pw in ("after", "before", "during", "from", "since", "until", "till", "at") or \
                (pw == "to" and token_before(doc, sp.start, 2) is not None and token_before(doc, sp.start, 2).lower_ == "out"):
            return False, "noun"
        return True, "noun"
    if fam == "visit":
        if role == "verb" and w != "visited":
            return _object_ok(doc, sp, lex) or nw in ("your", "our"), role
        if w == "visited":
            return _object_ok(doc, sp, lex), "verb"
        return True, "noun"
    if fam == "dropby":
        if w in ("come", "came", "coming", "comes") and doc[sp.end - 1].lower_ == "in":
            return False, "verb"
        if pw in ("a", "the", "big", "sharp"):
            return False, "noun"
        return True, "verb"
    if fam == "hello":
        return nw != "to", "verb"
    if fam == "event":
        a, b = clause_start(doc, sp.start, clause_of), clause_end(doc, sp.start, clause_of)
        return any(doc[j].lower_ in ("you", "your", "ya", "u") for j in range(a, b)), "noun"
    if fam in ("talk", "speak", "chat", "discuss", "connect", "interview", "sync"):
        if fam == "talk" and w == "talks":
            return False, "noun"
        if fam == "talk" and role == "noun" and pw not in ("a", "our", "good", "great", "nice", "long", "quick", "little",
                                                            "short", "proper", "real", "brief", "frank", "lovely", "the"):
            return False, "noun"
        if fam == "discuss" and w.startswith("discussion") and role == "noun":
            return (pw in lex["determiners"] or pw in ("'s", "’s") or pw.endswith("'s")), "noun"
        if fam == "sync" and role == "noun" and pw not in lex["determiners"] and nw != "up":
            return False, "noun"
        if fam in ("connect", "interview") and role == "verb":
            return _object_ok(doc, sp, lex), role
        if role == "verb" and fam in ("talk", "speak", "chat") and nw not in ("about", "through", "over", "shop", "it", "things", "business"):
            return _object_ok(doc, sp, lex) or nw in ("about",), role
        return True, role
    if fam == "meet":
        if w == "meets":
            return False, "verb"
        if w == "meetings":
            return plural_ok, "noun"
        if w == "meeting" and pw not in ("'m", "am", "are", "'re", "is", "be", "was", "were", "been", "to", "for", "of", "after", "before"):
            return True, "noun"
        if w == "meeting" and pw in ("after", "before"):
            return nw in ("you", "ya", "u", "with", "up"), "verb"
        return _object_ok(doc, sp, lex), "verb"
    if fam == "session":
        if w.endswith("s") and w not in ("debrief",) and w.endswith("sessions"):
            return plural_ok, "noun"
        return (pw in lex["determiners"] or pw in ("'s", "’s", "fun", "great", "good", "productive") or role == "verb"
                or nw == "with" or is_imperative(doc, sp, clause_of)), "noun"
    if fam == "followup":
        return pw in lex["determiners"] and nw not in ("email", "e-mail", "note", "message", "letter", "question",
                                                       "questions", "item", "items", "mail", "memo", "on", "to", "regarding",
                                                       "re", "about"), "noun"
    if fam == "walk":
        a, b = clause_start(doc, sp.start, clause_of), clause_end(doc, sp.start, clause_of)
        words = {doc[j].lower_ for j in range(a, b)}
        return bool(words & {"live", "person", "phone", "call", "zoom", "video"}), "verb"
    if fam == "see":
        return True, "verb"
    if fam == "zoom":
        return True, "noun"
    return True, role
