"""Parties: whose conversation a trigger names (the author and the recipient, or someone else).

Subjects and objects, possessives, causatives ("ask Tom to call you"), imperatives addressed to the
recipient, names, reported speech, and greetings to a crowd.
"""

from __future__ import annotations

import re

from inboxrel.signals.cues.dates import TIME_WORDS
from inboxrel.signals.cues.segment import clause_end, clause_start, next_word, token_before

PAST_FORMS = {"called", "talked", "spoke", "spoken", "met", "chatted", "phoned", "rang", "rung", "visited",
               "discussed", "caught", "touched", "connected", "interviewed", "hosted", "shook", "bumped", "ran",
               "said", "sat", "stopped", "dropped", "came", "popped", "swung", "saw", "seen", "skyped", "zoomed",
               "dialed", "dialled", "heard", "telephoned", "got", "had", "synced", "debriefed", "walked"}


BRANDS = {"zoom", "teams", "webex", "skype", "google", "meet", "facetime", "hangout", "hangouts", "i", "re", "fw",
           "fwd", "ps", "p.s.", "ok", "okay", "pfa", "fyi", "thanks", "thank", "hi", "hello", "dear", "hey",
           "mr", "mrs", "ms", "dr", "q1", "q2", "q3", "q4", "eta", "asap", "pst", "est", "cst", "gmt", "utc"}


_ADVERBS_AFTER = {"directly", "briefly", "again", "up", "down", "together", "privately", "properly", "quickly", "in", "out",
                  "live", "soon", "sometime", "later", "too", "also", "first", "tomorrow", "today"}


_WITH_TO_FAMILIES = {"talk", "speak", "chat", "hello", "connect", "introduce", "sync", "catchup"}


_CAUSATIVE = {"ask", "asked", "asking", "have", "had", "having", "get", "got", "getting", "tell", "told", "telling", "let",
              "make", "made", "want", "wants", "wanted", "need", "needs", "arrange", "arranged", "for"}


_COLLECTIVE = {"team", "teams", "group", "delegation", "family", "folks", "company", "firm", "guys", "people", "office",
               "department", "desk", "staff", "side", "all", "both", "two"}


_SUBJECT_PRONOUNS = {"i", "we", "you", "u", "ya", "me", "us", "let", "let's", "y'all"}


_LEAD_WORDS = {"please", "so", "and", "just", "then", "pls", "plz", "maybe", "perhaps", "also", "or", "but", "now",
               "do", "oh", "ok", "okay", "yes", "sure", "great", "cool", "hi", "hey"}


def is_imperative(doc, sp, clause_of) -> bool:
    j = clause_start(doc, sp.start, clause_of)
    while j < sp.start and doc[j].lower_ in _LEAD_WORDS:
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
    tok = doc[i]
    if not tok.is_alpha or not tok.text[:1].isupper() or tok.lower_ in TIME_WORDS or tok.lower_ in BRANDS \
            or tok.is_stop:
        return False
    if tok.lower_ in lex["first_person"] | lex["second_person"] | lex["expletive"] | lex["third_pronouns"]:
        return False
    if tok.text.isupper() and len(tok.text) > 1 and tok.lower_ in ("hr", "ceo", "cfo"):
        return True
    if i == sent_start or (i > 0 and doc[i - 1].is_punct) or (i > 0 and doc[i - 1].is_space):
        # a capitalised first word is a name only when a verb, a possessive or "and" follows it
        nxt = next_word(doc, i + 1)
        if nxt is None:
            return False
        return nxt.lower_ in lex["verb_like"] or nxt.lower_ in ("'s", "’s", "and") or nxt.lower_ in PAST_FORMS \
            or (nxt.lower_.endswith("ed") and nxt.lower_ not in lex["future_adjectives"])
    return True


def first_person_subject(doc, sp, clause_of, lex) -> bool:
    """True when the trigger's clause has I or we before it ("I just spoke with Anne")."""
    a = clause_start(doc, sp.start, clause_of)
    return any(doc[j].lower_ in ("i", "we", "let's") for j in range(a, sp.start))


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
    # possessive of someone else: "his call", "Bob's lunch"
    prev = token_before(doc, sp.start)
    if prev is not None and prev.lower_ in ("his", "her", "their"):
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
        if agent.lower_ in ("him", "her", "them") or (agent.lower_ in lex["person_nouns"] and agent.lower_ not in _COLLECTIVE) \
                or (agent.is_alpha and agent.text[:1].isupper() and is_name(doc, k, sent_start, lex)):
            if doc[k - 1].lower_ in _CAUSATIVE or (k - 2 >= a and doc[k - 2].lower_ in _CAUSATIVE):
                return True
    # "with Tom", "to the auditors" straight after the trigger
    j = sp.end
    while j < len(doc) and (doc[j].lower_ in _ADVERBS_AFTER or doc[j].lower_ in TIME_WORDS or doc[j].is_space) \
            and j - sp.end < 4:
        j += 1
    to_person = doc[j].lower_ == "to" and sp.id_ in ("call", "phone", "ring") and j + 1 < len(doc) and (
        doc[j + 1].lower_ in ("the", "a", "an", "his", "her", "their", "my", "our") or is_name(doc, j + 1, sent_start, lex)) \
        if j < len(doc) else False  # "put a call in to the broker", not "call to confirm"
    if j < len(doc) and (doc[j].lower_ == "with" or (doc[j].lower_ == "to" and sp.id_ in _WITH_TO_FAMILIES) or to_person):
        np = []
        k = j + 1
        while k < len(doc) and len(np) < 6 and not doc[k].is_punct and doc[k].lower_ not in ("about", "on", "re", "regarding", "to", "at", "in", "for", "tomorrow", "today", "when", "if"):
            np.append(doc[k])
            k += 1
        words = {t.lower_ for t in np}
        if np and not words & {"you", "u", "ya", "us", "me", "y'all", "yourself", "yourselves"}:
            if is_name(doc, np[0].i, sent_start, lex):
                # "with Tom Smith": a named party, for attribution to match against the headers
                two = len(np) > 1 and np[1].is_alpha and np[1].text[:1].isupper()
                return np[0].text + (" " + np[1].text if two else "")
            return True
    # the object of a verb trigger: "call the bank", "meet Tom"
    if role == "verb" and sp.id_ in ("call", "meet", "visit", "phone", "ring", "host", "connect", "see"):
        nxt = next_word(doc, sp.end)
        if nxt is not None and nxt.lower_ in ("him", "her", "them"):
            return True
        if nxt is not None and nxt.lower_ in ("my", "your", "our") and _possessed_person(list(doc[nxt.i:nxt.i + 3]), lex):
            return True
    # a later first-person subject takes over: "my wife says hi and we'd love to have you over"
    for t in reversed(before):
        if t.lower_ in ("i", "we", "let", "let's") and t.i > a and doc[t.i - 1].lower_ in (
                "and", "so", "but", "then", "that", "because", "if", "when", "as", "since"):
            return False
    # the clause's subject, up to its first verb
    subject = []
    for t in before:
        lw = t.lower_
        if lw in lex["verb_like"] or lw in PAST_FORMS or (lw.endswith("ed") and lw not in lex["future_adjectives"]):
            break
        subject.append(t)
    if any(t.lower_ in _SUBJECT_PRONOUNS for t in subject):
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
        if words and words[0].lower_ in ("the", "a", "an", "this", "that", "these", "those", "my", "our", "your", "its") \
                and len(words) >= 2 and words[0].lower_ not in lex["expletive"] - {"this", "that"}:
            return True
        if words and words[-1].lower_ in lex["person_nouns"]:
            return True
    return False


def _possessed_person(tokens, lex) -> bool:
    for i, t in enumerate(tokens):
        if t.lower_ in ("my", "your", "our"):
            nouns = [x.lower_ for x in tokens[i + 1:i + 3] if x.lower_ in lex["person_nouns"]]
            # "our team", "our delegation" include the author; "our manager", "your assistant" do not
            if nouns and not (t.lower_ == "our" and nouns[0] in _COLLECTIVE):
                return True
    return False


def _asked_about(doc, sp, clause_start, clause_of) -> bool:
    """'let me know how the interview goes', 'hope your meeting went well': an event the author was not at."""
    fam = sp.id_
    if fam in ("see", "over", "host", "dropby", "bump", "hello", "voice"):
        return False
    j = sp.start - 1
    det = None
    while j >= clause_start and sp.start - j <= 4:
        w = doc[j].lower_
        if w in ("the", "your", "his", "her", "their", "that"):
            det = w
        elif w in ("how", "hope", "hoping", "hopefully", "trust", "luck") and det is not None:
            break
        elif not doc[j].is_alpha and w not in ("-",):
            return False
        j -= 1
    else:
        return False
    if j < clause_start or doc[j].lower_ not in ("how", "hope", "hoping", "hopefully", "trust", "luck"):
        return False
    if doc[j].lower_ == "luck":
        return True  # "good luck with your interview"
    end = clause_end(doc, sp.start, clause_of)
    return any(doc[k].lower_ in ("goes", "went", "going", "go", "gone", "turns", "turned", "pans", "panned")
               for k in range(sp.end, min(end, sp.end + 8)))


_BROADCAST = re.compile(r"^\W*(?:dear|to)\s+(?:all|team|teams|colleagues|everyone|everybody|customers?|members|"
                        r"subscribers|valued|employees|staff|friends\s+and|shareholders|partners|participants|"
                        r"attendees|parents|residents|students)\b", re.I)


def is_broadcast(text: str) -> bool:
    return bool(_BROADCAST.match(text))


_REPORTING = {"wrote", "writes", "said", "says", "sent", "asked", "asks", "emailed", "e-mailed", "texted", "replied",
              "replies", "messaged", "posted", "added", "mentioned", "told", "tells", "forwarded", "put", "note", "message",
              "email", "reply", "text"}


def reported_quotes(doc, marks: list[int], lex) -> set[int]:
    """Token indexes inside quotation marks that report someone else's words ('Tom wrote: "..."')."""
    out: set[int] = set()
    for open_i, close_i in zip(marks[0::2], marks[1::2]):
        before = [doc[j] for j in range(max(0, open_i - 8), open_i)]
        words = [t.lower_ for t in before]
        if not any(w in _REPORTING for w in words):
            continue
        if any(w in ("i", "you", "u", "we") for w in words):
            continue  # "you said 'lunch Friday'": the recipient's own words to the author
        others = any(t.lower_ in lex["third_pronouns"] or is_name(doc, t.i, -1, lex) for t in before)
        if others:
            out.update(range(open_i + 1, close_i))
    return out
