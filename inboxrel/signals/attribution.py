"""Attribution: whose conversation does a cue show? Only the owner's with a person in the headers.

For mail the owner wrote, the partners are the people in To (Cc when To is empty); for mail to the owner,
the author. Then the sentence decides:

- it must speak in the first or second person ("we spoke", "our call", "I'll call you"), unless it is a
  few words only ("Lunch Friday?"): "a conference call was held with FERC staffers" is someone else's;
- a vocative names whom it addresses ("Harlan, please stop by"): another participant than the owner means
  the cue is not the owner's; one of the partners narrows the cue to them;
- a named party ("I talked with Ina", "a call from Adam at XTO", "I left a message for Ed") narrows the cue
  to the participants of that name, and when no participant has it, the cue is nobody's here: the other
  party is named only in the body and is never guessed;
- a pronoun party ("call him", "met with them"), a group meeting ("the budget meeting", a call held every
  week) and the recipient's own event with no first person ("hope your party was a success") are someone
  else's conversations.

Pure: a :class:`~inboxrel.signals.shape.MessageShape` and a cue in, the person ids out.
"""

from __future__ import annotations

from inboxrel.signals import when as when_mod
from inboxrel.signals.shape import MessageShape, Party, message_patterns, name_tokens

_CALENDAR_WORDS = frozenset(w.capitalize() for w in (*when_mod.WEEKDAYS, *when_mod.MONTHS))


def partners(shape: MessageShape) -> list[Party]:
    """The people a conversation in this message can be with, before reading the sentence."""
    if shape.by_owner:
        ppl = [p for p in shape.to if not p.me and not p.auto and not p.delegate]
        if not ppl:
            ppl = [p for p in shape.cc if not p.me and not p.auto and not p.delegate]
        return list({p.pid: p for p in ppl}.values())
    a = shape.author
    if a is None or a.me or a.auto or a.delegate:
        return []
    return [a]


def _matching(name: str, parties: list[Party]) -> list[Party]:
    """The parties whose names hold every word of ``name`` ("John McKay" is not John Lavorato)."""
    words = name_tokens(name)
    return [p for p in parties if words and words <= name_tokens(p.name, p.email)]


def _owner(name: str, shape: MessageShape) -> bool:
    """True when ``name`` is the owner's ("Marie", "Phillip Allen") or a short form ("Phil" for Phillip)."""
    words = name_tokens(name)
    return bool(words) and all(any(w == n or (len(w) >= 3 and n.startswith(w)) for n in shape.owner_names)
                               for w in words)


def attribute(shape: MessageShape, sentence: str, party: str | None = None) -> list[int]:
    """The ids of the people the cue in ``sentence`` is a conversation with (see the module docstring).

    ``party`` is the other party the cue stage found named in the sentence ("I spoke with Anne").
    """
    cands = partners(shape)
    if not cands:
        return []
    pats = message_patterns()
    text = sentence or ""
    if len(text.split()) > pats["short_sentence_words"] and not pats["first_or_second_person"].search(text):
        return []
    if pats["pronoun_party"].search(text) or pats["group_conversation"].search(text):
        return []
    if pats["your_event"].search(text) and not pats["shared_presence"].search(text):
        return []  # "I hope your party was a success": the recipient's event
    everyone = [p for p in ([shape.author] if shape.author else []) + shape.to + shape.cc if not p.me]
    # for mail the owner wrote, a named participant anywhere in the headers is a partner
    reachable = everyone if shape.by_owner else cands
    m = pats["vocative"].match(text)
    if m and m.group(1) not in pats["not_names"] and m.group(1) not in _CALENDAR_WORDS and not _owner(m.group(1), shape):
        mine = _matching(m.group(1), reachable)
        if mine:
            cands = mine
        elif not shape.by_owner:
            return []  # mail to me whose sentence addresses someone else
    names = [m.group(1) for m in pats["named_party"].finditer(text)] + ([party] if party else [])
    for raw in names:
        name = " ".join(w for w in raw.split() if w not in pats["not_names"] and w not in _CALENDAR_WORDS)
        if not name or (name.isupper() and len(name) <= 2):
            continue
        if _owner(name, shape):
            continue
        mine = _matching(name, reachable)
        if not mine:
            return []  # the conversation is with someone this message does not address
        cands = mine
    if party and not shape.by_owner and not _owner(party, shape):
        return []  # "I met with Tom" written to me: Tom's conversation with the author, not mine
    return [p.pid for p in cands]


def initiator(shape: MessageShape, kind: str, sentence: str) -> str:
    """Who the evidence comes from: ``from_me`` or ``to_me`` (an ask or a call attempt is someone's).

    The author's, except for a call attempt the sentence gives to the reader ("I received your phone
    message": the reader tried to call).
    """
    mine = shape.by_owner
    if kind == "attempt" and message_patterns()["addressee_attempt"].search(sentence or ""):
        mine = not mine
    return "from_me" if mine else "to_me"

