"""awaiting-reply: their last message in a two-way thread has waited for my reply for more than K days.

Threads older than awaiting_reply_max_days are history, and a conversation after their message counts
as the answer.
"""

from __future__ import annotations

from inboxrel.rules.base import Rule, plural


class AwaitingReply(Rule):
    name = "awaiting-reply"
    description = ("Their last message in a two-way thread has waited more than awaiting_reply_days for "
                   "your reply (and we have not talked since).")
    action = "suggest"
    priority = 6

    def may_fire_sql(self, t, th, now):
        from datetime import timedelta

        from sqlalchemy import select

        from inboxrel.clock import to_db
        from inboxrel.models import addresses, threads

        waiting = (select(addresses.c.person_id).join(threads, threads.c.last_from_address_id == addresses.c.id)
                   .where(threads.c.awaiting == "me", threads.c.sent_count > 0, threads.c.received_count > 0,
                          threads.c.last_at >= to_db(now - timedelta(days=th.awaiting_reply_max_days)),
                          threads.c.last_at <= to_db(now - timedelta(days=th.awaiting_reply_days + 1))))
        return t.person_id.in_(waiting)

    def may_fire(self, p, th):
        days = p.awaiting_days
        if p.awaiting:  # the threads themselves (facts built by hand may not have the summary)
            days = max(days, max((p.now - t.last_at).days for t in p.awaiting))
        return days > th.awaiting_reply_days

    def check(self, p, th):
        waiting = []
        for t in p.awaiting:
            days = (p.now - t.last_at).days
            if days > th.awaiting_reply_days and p.conversation_since(t.last_at) is None:
                waiting.append((days, t))
        numbers = {"threads_waiting": len(waiting), "threads_open": len(p.awaiting),
                   "min_days": th.awaiting_reply_days}
        if not waiting:
            if p.awaiting:
                days = max((p.now - t.last_at).days for t in p.awaiting)
                return self.verdict(False, f"{plural(len(p.awaiting), 'thread')} waiting for your reply, the "
                                           f"oldest for {plural(days, 'day')} (fires after "
                                           f"{th.awaiting_reply_days})", **numbers)
            return self.verdict(False, "no two-way thread waiting for your reply", **numbers)
        waiting.sort(key=lambda x: -x[0])
        days, oldest = waiting[0]
        numbers["oldest_days"] = days
        subject = oldest.subject or "(no subject)"
        more = f" and {plural(len(waiting) - 1, 'more thread')}" if len(waiting) > 1 else ""
        return self.verdict(True, f"their message in \u201c{subject}\u201d has waited {plural(days, 'day')} "
                                  f"for your reply{more}", **numbers)


RULE = AwaitingReply()
