"""Medium: a conversation at a place is in person; one by email or text is not a conversation."""

from __future__ import annotations

from inboxrel.signals.cues.patterns import lexicon, time_words
from inboxrel.signals.cues.segment import clause_end

_PLACE_PREP = {"at", "in"}


def place_after(doc, sp, clause_of, lex) -> bool:
    """An unspecified conversation at a place ('at your office', 'at KubeCon', 'in the car') is in person."""
    c = clause_of[sp.start]
    end = clause_end(doc, sp.start, clause_of)
    times, not_names = time_words(), lex["not_names"]
    for j in range(sp.end, min(end, sp.end + 6)):
        if doc[j].lower_ in lex["topic_prepositions"]:
            break  # "a chat about a role at Acme": the place belongs to the topic, not to the chat
        if doc[j].lower_ not in _PLACE_PREP and doc[j].lower_ != "on":
            continue
        k = j + 1
        while k < end and doc[k].lower_ in lex["place_determiners"]:
            k += 1
        if k >= end or clause_of[k] != c:
            continue
        tok = doc[k]
        if doc[j].lower_ == "on":
            if tok.lower_ in lex["vehicle_nouns"]:
                return True  # "the chat on the train"
            continue
        if tok.lower_ in lex["possessive_places"]:
            return True
        if tok.lower_ in lex["place_nouns"]:
            return True
        nxt = doc[k + 1] if k + 1 < end else None
        if doc[j].lower_ == "at" and nxt is not None and tok.is_alpha and tok.is_lower \
                and (nxt.lower_ in lex["place_nouns"] or nxt.lower_ in lex["event_nouns"]):
            return True  # "at the poster session", "at the trade show"
        if doc[j].lower_ == "at" and tok.lower_ in lex["event_nouns"]:
            return True
        if doc[j].lower_ == "at" and tok.like_num and nxt is not None and nxt.is_alpha and nxt.text[:1].isupper() \
                and not nxt.text.isupper() and nxt.lower_ not in times and nxt.lower_ not in not_names:
            return True  # a street address: "at 500 Boylston St"
        # "client's site", "Carrabba's"
        if k + 2 < end and doc[k + 1].lower_ in ("'s", "’s") and doc[k + 2].lower_ in lex["place_nouns"]:
            return True
        if doc[j].lower_ == "at" and tok.is_alpha and tok.text[:1].isupper() and tok.lower_ not in times \
                and tok.lower_ not in not_names:
            return True
    return False


def onsite_before(doc, sp) -> bool:
    """'an onsite interview', 'an on-site meeting': face to face."""
    i = sp.start
    if i >= 1 and doc[i - 1].lower_ in lexicon()["onsite_words"]:
        return True
    return i >= 3 and doc[i - 3].lower_ == "on" and doc[i - 2].text in ("-", "–") and doc[i - 1].lower_ == "site"


def written_channel(doc, sp, clause_of) -> bool:
    """'talk by email', 'a chat over Slack': a written channel, not a conversation."""
    lex = lexicon()
    c = clause_of[sp.start]
    end = clause_end(doc, sp.start, clause_of)
    for j in range(sp.end, min(end, sp.end + 5)):
        if doc[j].lower_ in lex["channel_prepositions"] and j + 1 < end:
            k = j + 1
            while k < end and doc[k].lower_ in lex["channel_determiners"]:
                k += 1
            if k < end and doc[k].lower_ in lex["written_channels"] and clause_of[k] == c:
                return True
    return False
