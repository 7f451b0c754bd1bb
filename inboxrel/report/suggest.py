"""The call list (``suggest``) and one person's full reasoning (``explain``), as plain rows.

Both read the store only: metrics from the derived per-day tables, evidence from ``interactions``,
the user's feedback, and the policy in force. Nothing is re-read from mail. Call
:func:`inboxrel.report.volume.refresh_summary` first (the commands do) so the per-day tables include the
latest mail.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, and_, select, type_coerce, union_all

from inboxrel.clock import as_utc, iso, to_db
from inboxrel.models import addresses, messages, participants, people, phone_numbers, threads
from inboxrel.report.facts import FactsMap, enrich_facts, load_facts
from inboxrel.rules.scoring import score, score_bound, score_ceiling

SUGGEST_FIELDS = ["rank", "name", "email", "phone", "score", "status", "reasons", "rules", "sent_90d",
                  "received_90d", "last_email_at", "last_conversation_at", "last_conversation_medium",
                  "planned_at", "days_since_conversation", "cadence_days", "cadence_max_days", "cadence_source",
                  "starters", "good_time", "tz_offset", "person_id"]


@dataclass
class Evaluation:
    """The policy run over the store: facts and decision per person, and the call list ranked."""

    facts: dict
    decisions: dict  # person id -> Decision (people no suggest rule could pick have none)
    ranked: list  # [(facts, decision, Score)], best first, the top ``limit`` (all when limit is None)

    def rows(self):
        """(facts, decision or an empty one) for every person loaded."""
        from inboxrel.rules.policy import Decision

        empty = Decision(False, [])
        return [(p, self.decisions.get(pid, empty)) for pid, p in self.facts.items()]


def evaluate(conn, now: datetime, policy, *, limit: int | None = None, everyone: bool = False,
             person_ids=None) -> Evaluation:
    """Run the policy. Without ``everyone`` only people some suggest rule may pick are loaded
    (:meth:`Policy.may_suggest`), and with a ``limit`` only as many of them in full as it takes to be
    sure of the top ``limit``: what keeps ``suggest`` fast on thousands of correspondents."""
    th = policy.th
    if limit is not None and not everyone and person_ids is None:
        return _evaluate_top(conn, now, policy, limit)
    facts = load_facts(conn, now, th, person_ids, pick=None if everyone else policy.may_suggest,
                       pick_sql=None if everyone else policy.candidates_sql(now))
    candidates = list(facts.values()) if not everyone else [p for p in facts.values() if policy.may_suggest(p)]
    # the histories the cadence rules are about to ask for, in a few queries rather than one per person
    wanting = [r for r in policy.rules if getattr(r, "needs_cadence", True)]
    facts.book.prefetch([p for p in candidates if not p.automated and any(r.may_fire(p, th) for r in wanting)])
    decisions = {p.person_id: policy.evaluate(p, picked=True) for p in candidates}
    chosen = [(p, decisions[p.person_id]) for p in candidates if decisions[p.person_id].suggested]
    return Evaluation(facts, decisions, rank(chosen, th, facts.book, limit))


CHUNK = 64


def _evaluate_top(conn, now: datetime, policy, limit: int) -> Evaluation:
    """The top ``limit`` exactly, checking candidates best ceiling first (:func:`score_ceiling`).

    A person's score can never pass their ceiling (mail volume alone, every rule that may fire taken as
    fired, the overdue part at its maximum), so once ``limit`` people score above the next ceiling the
    rest cannot get in, and their evidence and history are never loaded.
    """
    th = policy.th
    facts = load_facts(conn, now, th, pick=policy.may_suggest, pick_sql=policy.candidates_sql(now), enrich=False)
    boosts = [r.priority for r in policy.rules if r.action == "boost"]
    pickers = [r for r in policy.rules if r.action == "suggest"]
    wanting = [r for r in policy.rules if getattr(r, "needs_cadence", True)]
    order = sorted(((score_ceiling(p, [r.priority for r in pickers if r.may_fire(p, th)] + boosts, th), p)
                    for p in facts.values()), key=lambda x: (-x[0], x[1].person_id))
    decisions, chosen, seen = {}, [], FactsMap()
    i = 0
    while i < len(order):
        if len(chosen) >= limit:
            chosen.sort(key=lambda x: -x[2].value)
            if chosen[limit - 1][2].value > order[i][0]:
                break
        chunk = [p for _, p in order[i:i + CHUNK]]
        i += CHUNK
        enrich_facts(conn, now, th, facts, chunk)
        chunk = [p for p in chunk if p.person_id in facts]
        facts.book.prefetch([p for p in chunk if not p.automated and any(r.may_fire(p, th) for r in wanting)])
        for p in chunk:
            seen[p.person_id] = p
            d = decisions[p.person_id] = policy.evaluate(p, picked=True)
            if d.suggested:
                chosen.append((p, d, score(p, d.fired, th)))
    chosen.sort(key=lambda x: (-x[2].value, x[0].display.lower(), x[0].person_id))
    seen.book, seen.feedback = facts.book, facts.feedback
    return Evaluation(seen, decisions, chosen[:limit])


def rank(chosen, th, book, limit: int | None):
    """Suggested people by score, best first (ties by name).

    With a ``limit``, people whose cadence is not loaded yet enter with an upper bound (the overdue part
    at its maximum) and are scored exactly only if the bound could reach the top, so a store where
    hundreds of people are suggested scores a few dozen.
    """
    if limit is None:
        book.prefetch([p for p, _ in chosen])
        out = [(p, d, score(p, d.fired, th)) for p, d in chosen]
        out.sort(key=lambda x: (-x[2].value, x[0].display.lower(), x[0].person_id))
        return out
    heap = []
    for p, d in chosen:
        if p._cadence is None:  # 0 before 1: at equal values a bound is refined before an exact score is taken
            heap.append((-score_bound(p, d.fired, th), 0, p.display.lower(), p.person_id, p, d, None))
        else:
            s = score(p, d.fired, th)
            heap.append((-s.value, 1, p.display.lower(), p.person_id, p, d, s))
    heapq.heapify(heap)
    out = []
    while heap and len(out) < limit:
        _, exact, name, pid, p, d, s = heapq.heappop(heap)
        if not exact:
            s = score(p, d.fired, th)
            heapq.heappush(heap, (-s.value, 1, name, pid, p, d, s))
            continue
        out.append((p, d, s))
    return out


def build_suggestions(conn, now: datetime, policy, *, limit: int | None = None,
                      evaluation: Evaluation | None = None) -> list[dict]:
    """The call list: people the policy suggests, best score first, at most ``limit`` (default from config)."""
    now = as_utc(now)
    limit = policy.th.suggest_limit if limit is None else limit
    if evaluation is None:
        evaluation = evaluate(conn, now, policy, limit=limit)
    chosen = evaluation.ranked[:limit]
    ids = [p.person_id for p, _, _ in chosen]
    phones = load_phones(conn, ids)
    starters = load_starters(conn, ids, now)
    hours = load_hours(conn, ids, now)
    rows = []
    for n, (p, d, s) in enumerate(chosen, start=1):
        rows.append(suggestion_row(p, d, s, rank=n, phone=phones.get(p.person_id),
                                   starters=starters.get(p.person_id, []), hours=hours.get(p.person_id, [])))
    return rows


def suggestion_row(p, d, s, *, rank=None, phone=None, starters=(), hours=()) -> dict:
    """One entry of the call list (also the summary line of ``explain``)."""
    fired = [v for v in d.verdicts if v.fired and v.action in ("suggest", "boost")]
    last = p.last_conversation
    when, tz = good_time(list(hours))
    return {
        "rank": rank, "person_id": p.person_id, "name": p.name, "email": p.email, "phone": phone,
        "score": s.value if s else None, "status": p.status, "reasons": [v.reason for v in fired],
        "rules": [v.rule for v in fired], "sent_90d": p.sent_90d, "received_90d": p.received_90d,
        "last_email_at": iso(p.last_at), "last_conversation_at": iso(p.last_conversation_at),
        "last_conversation_medium": last.medium if last else None,
        "last_conversation_id": last.id if last else None,
        "last_conversation_probable": last.note if last and last.probable else None,
        "planned_at": iso(p.planned.at or p.planned_until) if p.planned else None,
        "days_since_conversation": p.days_since_conversation, "cadence_days": p.cadence.ideal,
        "cadence_max_days": p.cadence.max, "cadence_source": p.cadence.source, "starters": list(starters),
        "good_time": when, "tz_offset": tz,
    }


# -- details for the few people shown ---------------------------------------------------------------------

def load_phones(conn, ids) -> dict[int, str]:
    """The most recently seen phone number of each person."""
    out: dict[int, str] = {}
    if not ids:
        return out
    q = (select(phone_numbers.c.person_id, phone_numbers.c.e164, phone_numbers.c.label)
         .where(phone_numbers.c.person_id.in_(list(ids)))
         .order_by(phone_numbers.c.person_id, phone_numbers.c.last_seen.desc().nulls_last(), phone_numbers.c.id))
    for pid, e164, label in conn.execute(q):
        if pid not in out and label != "fax":
            out[pid] = e164
    return out


def _person_messages(ids, since: datetime):
    """(pid, message id, thread, date, tz) of mail between us and each person since ``since``."""
    recv = (select(addresses.c.person_id.label("pid"), messages.c.id.label("mid"),
                   messages.c.thread_id.label("tid"), messages.c.date.label("date"), messages.c.tz_offset.label("tz"),
                   messages.c.direction.label("dir"))
            .join(addresses, addresses.c.id == messages.c.from_address_id)
            .where(addresses.c.person_id.in_(ids), messages.c.direction == "received",
                   messages.c.automated.is_(None), messages.c.date >= to_db(since)))
    sent = (select(addresses.c.person_id, messages.c.id, messages.c.thread_id, messages.c.date, messages.c.tz_offset,
                   messages.c.direction)
            .select_from(messages.join(participants, and_(participants.c.message_id == messages.c.id,
                                                          participants.c.role.in_(("to", "cc"))))
                         .join(addresses, addresses.c.id == participants.c.address_id))
            .where(addresses.c.person_id.in_(ids), messages.c.direction == "sent", messages.c.date >= to_db(since)))
    return union_all(recv, sent).subquery("pm")


def load_starters(conn, ids, now: datetime, n: int = 3) -> dict[int, list[str]]:
    """Subjects of the last few threads with each person: conversation starters."""
    out: dict[int, list[str]] = defaultdict(list)
    todo = list(ids)
    # Recent threads they wrote in make the best openers and are cheap to find (one index); people with
    # fewer than n of those get a longer look that includes the threads only I wrote in.
    for days, theirs_only in ((30, True), (365, False)):
        if not todo:
            break
        since, until = to_db(now - timedelta(days=days)), to_db(now)
        if theirs_only:
            q = (select(addresses.c.person_id, threads.c.subject, type_coerce(threads.c.last_at, String))
                 .select_from(messages.join(addresses, addresses.c.id == messages.c.from_address_id)
                              .join(threads, threads.c.id == messages.c.thread_id))
                 .where(addresses.c.person_id.in_(todo), messages.c.direction == "received",
                        messages.c.automated.is_(None), messages.c.date >= since, messages.c.date <= until)
                 .distinct())
        else:
            pm = _person_messages(todo, now - timedelta(days=days))
            q = (select(pm.c.pid, threads.c.subject, type_coerce(threads.c.last_at, String))
                 .join(threads, threads.c.id == pm.c.tid).where(pm.c.date <= until).distinct())
        found: dict[int, list[str]] = defaultdict(list)
        for pid, subject, _ in sorted(conn.execute(q), key=lambda r: (r[0], r[2] or ""), reverse=True):
            subject = (subject or "").strip()
            if subject and len(found[pid]) < n and subject not in found[pid]:
                found[pid].append(subject)
        for pid in list(todo):
            if len(found[pid]) >= n or not theirs_only:
                out[pid] = found[pid]
        todo = [pid for pid in todo if pid not in out]
    return out


def load_hours(conn, ids, now: datetime) -> dict[int, list[tuple[int, int, int]]]:
    """(local hour, UTC offset, messages) of each person's own mail over the last year, counted in SQL."""
    from sqlalchemy import Integer, cast, extract, func

    out: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    if not ids:
        return out
    if conn.dialect.name == "sqlite":
        hour = cast(func.strftime("%H", messages.c.date), Integer)
    else:
        hour = cast(extract("hour", messages.c.date), Integer)
    q = (select(addresses.c.person_id, hour, messages.c.tz_offset, func.count())
         .join(addresses, addresses.c.id == messages.c.from_address_id)
         .where(addresses.c.person_id.in_(list(ids)), messages.c.direction == "received",
                messages.c.date >= to_db(now - timedelta(days=365)), messages.c.date <= to_db(now),
                messages.c.tz_offset.is_not(None))
         .group_by(addresses.c.person_id, hour, messages.c.tz_offset))
    for pid, utc_hour, tz, n in conn.execute(q):
        # the local hour the middle of that UTC hour falls in (zones such as +05:30 land on the nearer one)
        out[pid].append((math.floor(utc_hour + 0.5 + tz / 60) % 24, tz, n))
    return out


def good_time(hours: list[tuple[int, int, int]]) -> tuple[str, int | None]:
    """A two-hour window in their working day when they usually write, in their own time zone (and the zone).

    ``hours`` is (local hour, UTC offset, messages) as :func:`load_hours` gives it.
    """
    zones: Counter = Counter()
    counts: Counter = Counter()
    for hour, tz, n in hours:
        zones[tz] += n
        counts[hour] += n
    tz = zones.most_common(1)[0][0] if zones else None
    start = 10
    if sum(counts.values()) >= 5:
        start = max(range(9, 17), key=lambda s: (counts[s] + counts[s + 1], -abs(s - 10)))
    zone = _zone(tz) if tz is not None else "time zone unknown"
    return f"{start:02d}:00\u2013{start + 2:02d}:00 their time ({zone})", tz


def _zone(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


# -- explain ------------------------------------------------------------------------------------------------

def explain_person(conn, ref: str, now: datetime, policy) -> dict:
    """Every metric, every piece of evidence with its source, and each rule's verdict for one person."""
    from inboxrel.errors import UsageError
    from inboxrel.identity import resolve_person
    from inboxrel.models import interactions
    from inboxrel.report.metrics import compute_metrics

    now = as_utc(now)
    pid = resolve_person(conn, ref)
    if conn.execute(select(people.c.is_me).where(people.c.id == pid)).scalar():
        raise UsageError(f"{ref} is one of your own addresses; `inboxrel account show` lists them")
    facts = load_facts(conn, now, policy.th, [pid], with_emails=True)
    p = facts[pid]
    decision = policy.evaluate(p, every=True)
    s = score(p, decision.fired, policy.th)
    metrics = compute_metrics(conn, now, [pid], detail=True).get(pid)
    evidence = []
    i = interactions.c
    for r in conn.execute(select(i.id, i.kind, i.medium, i.at, i.source, i.source_ref, i.direction, i.confidence,
                                 i.sentence, i.note, i.created_at, messages.c.date.label("mdate"),
                                 messages.c.subject)
                          .select_from(interactions.outerjoin(messages, messages.c.id == i.message_id))
                          .where(i.person_id == pid).order_by(i.at.desc().nulls_last(), i.id.desc())):
        seen = as_utc(r.mdate) or as_utc(r.created_at)
        evidence.append({"id": r.id, "kind": r.kind, "medium": r.medium, "at": iso(r.at), "seen_at": iso(seen),
                         "source": r.source, "source_ref": r.source_ref, "direction": r.direction,
                         "confidence": r.confidence, "sentence": r.sentence, "note": r.note, "subject": r.subject,
                         "counted": seen is None or seen <= now,
                         "weak": r.kind == "past" and (r.confidence or 0) < policy.th.min_confidence})
    phones = [{"e164": r.e164, "label": r.label, "last_seen": iso(r.last_seen)} for r in conn.execute(
        select(phone_numbers).where(phone_numbers.c.person_id == pid)
        .order_by(phone_numbers.c.last_seen.desc().nulls_last()))]
    row = suggestion_row(p, decision, s if decision.suggested else None,
                         phone=phones[0]["e164"] if phones else None,
                         starters=load_starters(conn, [pid], now).get(pid, []),
                         hours=load_hours(conn, [pid], now).get(pid, []))
    return {
        "person_id": pid, "name": p.name, "email": p.email, "emails": p.emails, "now": iso(now),
        "suggested": decision.suggested, "status": p.status, "score": s.value, "score_explained": s.explain(),
        "score_parts": s.as_dict(), "suppressed_by": decision.suppressed_by.rule if decision.suppressed_by else None,
        "cadence": p.cadence.as_dict(), "circles": p.circles,
        "volume": {"sent": p.sent, "received": p.received, "sent_30d": p.sent_30d, "received_30d": p.received_30d,
                   "sent_90d": p.sent_90d, "received_90d": p.received_90d, "sent_365d": p.sent_365d,
                   "received_365d": p.received_365d, "first_at": iso(p.first_at), "last_at": iso(p.last_at),
                   "relationship_days": p.relationship_days},
        "conversation": {"last_at": iso(p.last_conversation_at), "days_since": p.days_since_conversation,
                         "medium": p.last_conversation.medium if p.last_conversation else None,
                         "count": p.conversations, "planned_at": row["planned_at"],
                         "open_requests": len(p.requests)},
        "feedback": {"snoozed_until": iso(p.snoozed_until), "ignored": p.ignored is not None,
                     "ignored_reason": p.ignored, "ignored_domain": p.ignored_domain},
        "metrics": metrics.as_dict() if metrics else None,
        "evidence": evidence,
        "phones": phones,
        "verdicts": [v.as_dict() for v in decision.verdicts],
        "entry": row,
    }
