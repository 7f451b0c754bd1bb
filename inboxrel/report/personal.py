"""How personal each message is, from its shape: the weight it carries toward a person's email load.

One-to-one mail counts fully, small-group mail (up to ``GROUP_MAX`` recipients) counts ``GROUP_WEIGHT``,
and these count nothing: broadcasts (more recipients, no recipient named at all, or the same text sent in
several messages to more than ``GROUP_MAX`` people), automated mail and auto-replies (``messages.automated``)
and the mail of broadcast senders. A broadcast sender is found from the mailbox's own statistics
(:func:`broadcast_senders`): someone whose mail I never answered and who writes to very many people at
once, to undisclosed recipients, or under an announcement name or subject (words in
``inboxrel/pipelines/automated_senders.json``).

The weight is one SQL expression (:func:`weight_sql`), so the derived per-day tables (``report/volume.py``)
and the metrics of ``people``/``person`` (``report/metrics.py``) count the very same thing.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from sqlalchemy import and_, case, func, literal, or_, select

from inboxrel.models import addresses, messages, participants

GROUP_MAX = 5  # up to this many recipients is a small group; more is a broadcast
GROUP_WEIGHT = 0.5  # what one small-group message counts, against 1 for a one-to-one message
BROADCAST_MIN_MESSAGES = 3  # a sender is judged on at least this many messages to me
BROADCAST_MIN_RECIPIENTS = 10  # ... who writes on average to at least this many people at once
SAME_TEXT_MIN_MESSAGES = 2  # the same text in this many of my messages, to more than GROUP_MAX people in all
SAME_TEXT_MIN_CHARS = 200  # ... and long enough not to be a stock "Thanks!" (when the text is stored)
EMPTY_BODY = hashlib.sha1(b"").hexdigest()


@lru_cache(maxsize=1)
def _words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = json.loads(Path(__file__).parent.parent.joinpath("pipelines", "automated_senders.json")
                      .read_text(encoding="utf-8"))
    return tuple(data["announcement_senders"]), tuple(data["announcement_subjects"])


def _like_any(column, words):
    col = func.lower(func.coalesce(column, ""))
    return or_(*(col.like(f"%{w.lower()}%") for w in words))


def broadcast_senders(conn) -> dict[int, str]:
    """Person id -> why, for the people the mailbox itself shows to be broadcast senders.

    Someone I have never written to, with at least ``BROADCAST_MIN_MESSAGES`` messages to me, who writes
    to ``BROADCAST_MIN_RECIPIENTS`` or more people on average, mostly to undisclosed recipients, under an
    announcement name or address ("Enron Announcements", ``announce.``), or mostly under announcement
    subjects. One grouped query over received mail.
    """
    sender_words, subject_words = _words()
    m = messages.c
    written_to = (select(addresses.c.person_id)
                  .select_from(messages.join(participants, and_(participants.c.message_id == m.id,
                                                                participants.c.role.in_(("to", "cc", "bcc"))))
                               .join(addresses, addresses.c.id == participants.c.address_id))
                  .where(m.direction == "sent").distinct())
    named = _like_any(addresses.c.email, sender_words) | _like_any(addresses.c.name, sender_words)
    q = (select(addresses.c.person_id, func.count(), func.avg(m.recipient_count),
                func.sum(case((m.recipient_count == 0, 1), else_=0)),
                func.sum(case((named, 1), else_=0)),
                func.sum(case((_like_any(m.subject, subject_words), 1), else_=0)))
         .join(addresses, addresses.c.id == m.from_address_id)
         .where(m.direction == "received", or_(m.automated.is_(None), m.automated != "list"),
                addresses.c.person_id.is_not(None), addresses.c.person_id.not_in(written_to))
         .group_by(addresses.c.person_id)
         .having(func.count() >= BROADCAST_MIN_MESSAGES))
    out = {}
    for pid, n, avg_rc, undisclosed, by_name, by_subject in conn.execute(q):
        if avg_rc is not None and float(avg_rc) >= BROADCAST_MIN_RECIPIENTS:
            out[pid] = f"{n} messages to {float(avg_rc):.0f} people on average, never answered"
        elif undisclosed * 2 >= n:
            out[pid] = f"{n} messages to undisclosed recipients, never answered"
        elif by_name * 2 >= n:
            out[pid] = f"{n} messages under an announcement name, never answered"
        elif by_subject * 2 >= n:
            out[pid] = f"{n} messages with announcement subjects, never answered"
    return out


def same_text_bodies():
    """Body hashes of the texts I sent in several messages to more than ``GROUP_MAX`` people in all."""
    m = messages.c
    return (select(m.body_hash)
            .where(m.direction == "sent", m.body_hash.is_not(None), m.body_hash != EMPTY_BODY,
                   or_(m.body_text.is_(None), func.length(m.body_text) >= SAME_TEXT_MIN_CHARS))
            .group_by(m.body_hash)
            .having(and_(func.count() >= SAME_TEXT_MIN_MESSAGES, func.sum(m.recipient_count) > GROUP_MAX)))


def weight_sql(person_id, broadcast: dict[int, str] | set[int] | frozenset[int] = frozenset()):
    """The personal weight of the message in ``messages`` as a SQL expression (1, ``GROUP_WEIGHT`` or 0).

    ``person_id`` is the column of the other person (the sender of received mail, a recipient of mine);
    ``broadcast`` the people :func:`broadcast_senders` found.
    """
    m = messages.c
    zero = [(m.automated.is_not(None), 0.0),
            (m.recipient_count > GROUP_MAX, 0.0),
            (m.recipient_count < 1, 0.0),
            (and_(m.direction == "sent", m.body_hash.in_(same_text_bodies())), 0.0)]
    if broadcast:
        zero.append((person_id.in_(sorted(broadcast)), 0.0))
    return case(*zero, (m.recipient_count == 1, 1.0), else_=literal(GROUP_WEIGHT))


def personal_weight(recipient_count: int, automated: str | None = None, *, broadcast: bool = False) -> float:
    """:func:`weight_sql` for one message in Python (for tests and for reading a single message)."""
    if automated is not None or broadcast or recipient_count < 1 or recipient_count > GROUP_MAX:
        return 0.0
    return 1.0 if recipient_count == 1 else GROUP_WEIGHT
