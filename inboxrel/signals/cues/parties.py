"""Parties: whose conversation a trigger names (the author and the recipient, or someone else).

Subjects and objects, possessives, causatives ("ask Tom to call you"), imperatives addressed to the
recipient, names, reported speech, and greetings to a crowd.
"""

from __future__ import annotations

import re
from functools import lru_cache

from inboxrel.signals.cues.patterns import families, lexicon, time_words
from inboxrel.signals.cues.segment import clause_end, clause_start, next_word, token_before


def is_imperative(doc, sp, clause_of) -> bool:
    """True when the trigger opens its clause, after lead words only ("please", "so", "ok"): "Call me"."""
    lead = lexicon()["lead_words"]
    j = clause_start(doc, sp.start, clause_of)
    while j < sp.start and doc[j].lower_ in lead:
        j += 1
    return j == sp.start


def engaged(doc, bounds, markers, sent_of, lex) -> bool:
    """The sentence involves the author or the recipient (a pronoun, an invitation or a thank-you)."""
    a, b = bounds
    people = lex["first_person"] | lex["second_person"]
    if any(doc[j].lower_ in people for j in range(a, b)):
        return True
    s = sent_of[a]
    return any(sent_of[m.start] == s for m, _ in markers) or doc[b - 1].text == "?"


def is_name(doc, i: int, sent_start: int, lex) -> bool:
    """True when token ``i`` reads as a person's name (capitalised, not a time, brand, title or pronoun)."""
    tok = doc[i]
    if not tok.is_alpha or not tok.text[:1].isupper() or tok.lower_ in time_words() or tok.lower_ in lex["not_names"] \
            or tok.is_stop:
        return False
    if tok.lower_ in lex["first_person"] | lex["second_person"] | lex["expletive"] | lex["third_pronouns"]:
        return False
    if tok.text.isupper() and len(tok.text) > 1 and tok.lower_ in lex["acronym_names"]:
        return True
    if i == sent_start or (i > 0 and doc[i - 1].is_punct) or (i > 0 and doc[i - 1].is_space):
        # a capitalised first word is a name only when a verb, a possessive or "and" follows it
        nxt = next_word(doc, i + 1)
        if nxt is None:
            return False
        return nxt.lower_ in lex["verb_like"] or nxt.lower_ in lex["name_followers"] or nxt.lower_ in lex["past_forms"] \
            or (nxt.lower_.endswith("ed") and nxt.lower_ not in lex["future_adjectives"])
    return True


def first_person_subject(doc, sp, clause_of, lex) -> bool:
    """True when the trigger's clause has I or we before it ("I just spoke with Anne")."""
    a = clause_start(doc, sp.start, clause_of)
    return any(doc[j].lower_ in lex["first_person_subjects"] for j in range(a, sp.start))


def third_party(doc, sp, role, lex, clause_of, sent_of) -> bool | str:
    """True when the conversation is someone else's: another subject, another object, 'with' someone else.

    A proper name straight after the trigger ("with Tom") is returned instead of True: the conversation is
    with Tom, who may or may not be a correspondent of this message.
    """
    a = clause_start(doc, sp.start, clause_of)
    sent_start = a
    while sent_start > 0 and sent_of[sent_start - 1] == sent_of[sp.start]:
        sent_start -= 1
    before = [doc[j] for j in range(a, sp.start)]
    people = lex["first_person"] | lex["second_person"]
    traits = families()
    # possessive of someone else: "his call", "Bob's lunch"
    prev = token_before(doc, sp.start)
    if prev is not None and prev.lower_ in lex["third_possessives"]:
        return True
    if prev is not None and prev.lower_ in ("'s", "’s") and sp.start >= 2 and is_name(doc, sp.start - 2, sent_start, lex) \
            and doc[sp.start - 2].lower_ != "let":
        return True
    if _asked_about(doc, sp, a, clause_of):
        return True
    # "ask Tom to call you", "I'll have Sarah ring you": someone else does the talking
    if sp.start - 1 > a:
        k = sp.start - 1
        if doc[k].lower_ == "to" and k - 1 > a:
            k -= 1
        agent = doc[k]
        if agent.lower_ in lex["third_objects"] or (agent.lower_ in lex["person_nouns"] and agent.lower_ not in lex["collective"]) \
                or (agent.is_alpha and agent.text[:1].isupper() and is_name(doc, k, sent_start, lex)):
            if doc[k - 1].lower_ in lex["causative"] or (k - 2 >= a and doc[k - 2].lower_ in lex["causative"]):
                return True
    # "with Tom", "to the auditors" straight after the trigger
    j = sp.end
    adverbs, times = lex["adverbs_after"], time_words()
    while j < len(doc) and (doc[j].lower_ in adverbs or doc[j].lower_ in times or doc[j].is_space) \
            and j - sp.end < 4:
        j += 1
    to_person = doc[j].lower_ == "to" and sp.id_ in traits["to_names_party"] and j + 1 < len(doc) and (
        doc[j + 1].lower_ in lex["to_party_determiners"] or is_name(doc, j + 1, sent_start, lex)) \
        if j < len(doc) else False  # "put a call in to the broker", not "call to confirm"
    if j < len(doc) and (doc[j].lower_ == "with" or (doc[j].lower_ == "to" and sp.id_ in traits["with_or_to"]) or to_person):
        np = []
        k = j + 1
        while k < len(doc) and len(np) < 6 and not doc[k].is_punct and doc[k].lower_ not in lex["party_ends"]:
            np.append(doc[k])
            k += 1
        words = {t.lower_ for t in np}
        if np and not words & lex["addressee_words"]:
            if is_name(doc, np[0].i, sent_start, lex):
                # "with Tom Smith": a named party, for attribution to match against the headers
                two = len(np) > 1 and np[1].is_alpha and np[1].text[:1].isupper()
                return np[0].text + (" " + np[1].text if two else "")
            return True
    # the object of a verb trigger: "call the bank", "meet Tom"
    if role == "verb" and sp.id_ in traits["object_is_party"]:
        nxt = next_word(doc, sp.end)
        if nxt is not None and nxt.lower_ in lex["third_objects"]:
            return True
        if nxt is not None and nxt.lower_ in lex["own_possessives"] and _possessed_person(list(doc[nxt.i:nxt.i + 3]), lex):
            return True
    # a later first-person subject takes over: "my wife says hi and we'd love to have you over"
    for t in reversed(before):
        if t.lower_ in lex["first_person_takeover"] and t.i > a and doc[t.i - 1].lower_ in lex["clause_joiners"]:
            return False
    # the clause's subject, up to its first verb
    subject = []
    for t in before:
        lw = t.lower_
        if lw in lex["verb_like"] or lw in lex["past_forms"] or (lw.endswith("ed") and lw not in lex["future_adjectives"]):
            break
        subject.append(t)
    if any(t.lower_ in lex["subject_pronouns"] for t in subject):
        return False
    if any(t.lower_ in lex["third_pronouns"] or is_name(doc, t.i, sent_start, lex) for t in subject):
        return True
    if _possessed_person(subject, lex):
        return True  # "your assistant called", "our HR manager will call you"
    if any(t.lower_ in people for t in before):
        return False
    for t in subject:
        if t.lower_ in lex["third_pronouns"]:
            return True
        if is_name(doc, t.i, sent_start, lex):
            return True
    if role == "verb" and subject:
        words = [t for t in subject if t.is_alpha]
        if words and words[0].lower_ in lex["subject_determiners"] \
                and len(words) >= 2 and words[0].lower_ not in lex["expletive"] - {"this", "that"}:
            return True
        if words and words[-1].lower_ in lex["person_nouns"]:
            return True
    return False


def _possessed_person(tokens, lex) -> bool:
    for i, t in enumerate(tokens):
        if t.lower_ in lex["own_possessives"]:
            nouns = [x.lower_ for x in tokens[i + 1:i + 3] if x.lower_ in lex["person_nouns"]]
            # "our team", "our delegation" include the author; "our manager", "your assistant" do not
            if nouns and not (t.lower_ == "our" and nouns[0] in lex["collective"]):
                return True
    return False


def _asked_about(doc, sp, start, clause_of) -> bool:
    """'let me know how the interview goes', 'hope your meeting went well': an event the author was not at."""
    if sp.id_ in families()["never_asked_about"]:
        return False
    lex = lexicon()
    openers = lex["outcome_openers"]
    j = sp.start - 1
    det = None
    while j >= start and sp.start - j <= 4:
        w = doc[j].lower_
        if w in lex["event_determiners"]:
            det = w
        elif w in openers and det is not None:
            break
        elif not doc[j].is_alpha and w not in ("-",):
            return False
        j -= 1
    else:
        return False
    if j < start or doc[j].lower_ not in openers:
        return False
    if doc[j].lower_ == "luck":
        return True  # "good luck with your interview"
    end = clause_end(doc, sp.start, clause_of)
    return any(doc[k].lower_ in lex["outcome_verbs"] for k in range(sp.end, min(end, sp.end + 8)))


@lru_cache(maxsize=1)
def _broadcast_greeting():
    return re.compile(lexicon()["broadcast_greeting"], re.I)


def is_broadcast(text: str) -> bool:
    """True when ``text`` opens with a greeting to a crowd ("Dear all", "To our valued customers")."""
    return bool(_broadcast_greeting().match(text))


def reported_quotes(doc, marks: list[int], lex) -> set[int]:
    """Token indexes inside quotation marks that report someone else's words ('Tom wrote: "..."')."""
    out: set[int] = set()
    for open_i, close_i in zip(marks[0::2], marks[1::2]):
        before = [doc[j] for j in range(max(0, open_i - 8), open_i)]
        words = [t.lower_ for t in before]
        if not any(w in lex["reporting_words"] for w in words):
            continue
        if any(w in lex["own_voices"] for w in words):
            continue  # "you said 'lunch Friday'": the recipient's own words to the author
        others = any(t.lower_ in lex["third_pronouns"] or is_name(doc, t.i, -1, lex) for t in before)
        if others:
            out.update(range(open_i + 1, close_i))
    return out
