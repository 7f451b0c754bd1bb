"""awaiting-reply: their last message in a two-way thread has waited for my reply for more than K days.

Threads older than awaiting_reply_max_days are history, and a conversation after their message counts
as the answer. A last message to many people (more than awaiting_reply_max_recipients), automated mail
and a last message that is only an acknowledgement or closer ("ok", "thanks", "sounds good": see
``acknowledgement.py``) wait for no one. Which threads wait is written once, in :func:`waiting_threads`:
the facts loader and the rule's SQL form both read it.
"""

from __future__ import annotations

from datetime import timedelta

from inboxrel.rules.base import Rule, plural
from inboxrel.rules.conditions import Clause, custom


def waiting_threads(now, th, *, old_enough: bool = True):
    """SQL conditions over ``threads``: their message is the last of a two-way thread, within the window,
    and waits for my reply. ``old_enough``: it has waited more than awaiting_reply_days (else any age in
    the window). What the last message itself says is :func:`last_message_waits`."""
    from inboxrel.clock import to_db
    from inboxrel.models import threads

    start = to_db(now - timedelta(days=th.awaiting_reply_max_days))
    end = to_db(now - timedelta(days=th.awaiting_reply_days + 1)) if old_enough else to_db(now)
    return (threads.c.awaiting == "me", threads.c.sent_count > 0, threads.c.received_count > 0,
            threads.c.last_at >= start, threads.c.last_at <= end)


def last_message_waits(th, recipient_count: int, automated: str | None, body: str | None) -> str | None:
    """None when the thread's last message waits for a reply, else why not: it went to many people, a
    machine sent it, or it only acknowledges ("thanks", "ok").

    Read only for the threads of the people on their way to the call list (a few hundred bodies), so the
    pre-check over everyone needs no message at all."""
    from inboxrel.rules.acknowledgement import is_acknowledgement

    if recipient_count > th.awaiting_reply_max_recipients:
        return "many"
    if automated is not None and automated != "list":
        return "automated"
    if is_acknowledgement(body):
        return "acknowledgement"
    return None


def waiting_people(now, th):
    """Person ids with a thread in :func:`waiting_threads` (old enough), as a subquery."""
    from sqlalchemy import select

    from inboxrel.models import addresses, threads

    return (select(addresses.c.person_id).join(threads, threads.c.last_from_address_id == addresses.c.id)
            .where(*waiting_threads(now, th)))


class AwaitingReply(Rule):
    name = "awaiting-reply"
    description = ("Their last message in a two-way thread has waited more than awaiting_reply_days for "
                   "your reply (and we have not talked since); acknowledgements and mail to many do not wait.")
    action = "suggest"
    priority = 6

    def gate(self, th):
        days = int(th.awaiting_reply_days)
        return [Clause("waiting", custom(f"p.awaiting_wait > {days}",
                                         lambda t, now: t["person_id"].in_(waiting_people(now, th))),
                       lambda p: self._not_waiting(p, th))]

    def _not_waiting(self, p, th) -> str:
        closed = (f" ({plural(p.awaiting_closed, 'thread')} ending in an acknowledgement or a message to many "
                  f"not counted)" if p.awaiting_closed else "")
        if p.awaiting:
            days = max((p.now - t.last_at).days for t in p.awaiting)
            return (f"{plural(len(p.awaiting), 'thread')} waiting for your reply, the oldest for "
                    f"{plural(days, 'day')} (fires after {th.awaiting_reply_days}){closed}")
        return f"no two-way thread waiting for your reply{closed}"

    def check(self, p, th):
        waiting = []
        for t in p.awaiting:
            days = (p.now - t.last_at).days
            if days > th.awaiting_reply_days and p.conversation_since(t.last_at) is None:
                waiting.append((days, t))
        numbers = {"threads_waiting": len(waiting), "threads_open": len(p.awaiting),
                   "threads_closed": p.awaiting_closed, "min_days": th.awaiting_reply_days}
        unmet = self.unmet(p, th)
        if unmet is not None or not waiting:
            return self.verdict(False, unmet or self._not_waiting(p, th), **numbers)
        waiting.sort(key=lambda x: -x[0])
        days, oldest = waiting[0]
        numbers["oldest_days"] = days
        subject = oldest.subject or "(no subject)"
        more = f" and {plural(len(waiting) - 1, 'more thread')}" if len(waiting) > 1 else ""
        return self.verdict(True, f"their message in \u201c{subject}\u201d has waited {plural(days, 'day')} "
                                  f"for your reply{more}", **numbers)


RULE = AwaitingReply()
