"""Load :class:`~inboxrel.rules.facts.PersonFacts` for everyone (or a few people) in a handful of queries.

Mail volume comes from the derived per-day tables (``report/volume.py``); evidence from ``interactions``
(written by the signals, calendar and log commands); feedback from circles, feedback and ignores.
Evidence dated after ``now`` is not known yet at ``now`` and is left out, so reports on a past date
are reproducible.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import String, func, select, type_coerce

from inboxrel.clock import as_utc, to_db
from inboxrel.models import (
    addresses,
    circle_members,
    circles,
    feedback,
    ignores,
    interactions,
    messages,
    people,
    threads,
)
from inboxrel.report.volume import _dt, broadcast_people, burst_summary, volume_rows
from inboxrel.rules.awaiting_reply import last_message_waits, waiting_threads
from inboxrel.rules.base import medium_word
from inboxrel.rules.cadence import Cadence, resolve_cadence
from inboxrel.rules.facts import AwaitingThread, Evidence, PersonFacts

FROM_THEM = (None, "to_me")
ACK_CHARS = 1500  # an acknowledgement is a few words at the top: the rest of a waiting message is not read


class CadenceBook:
    """Cadences resolved on first use; ``prefetch`` loads the email history of many people in one query."""

    def __init__(self, conn, now: datetime, th, circles_of: dict, own: dict):
        self.conn, self.now, self.th = conn, now, th
        self.circles_of = circles_of  # pid -> [(name, ideal, max)]
        self.own = own  # pid -> (days, source)
        self.bursts: dict[int, tuple | None] = {}

    def _needs_history(self, p: PersonFacts) -> bool:
        return (p.person_id not in self.own and p.person_id not in self.circles_of
                and len(set(p.conversation_days)) <= self.th.learn_min_gaps)

    def prefetch(self, facts: list[PersonFacts]) -> None:
        """Load the email-burst history of everyone here who will need it, a few queries in all."""
        need = [p.person_id for p in facts if p.person_id not in self.bursts and self._needs_history(p)]
        for i in range(0, len(need), 500):
            chunk = need[i:i + 500]
            found = burst_summary(self.conn, chunk, self.now, self.th.burst_gap_days)
            self.bursts.update((pid, found.get(pid)) for pid in chunk)

    def __call__(self, p: PersonFacts) -> Cadence:
        own = self.own.get(p.person_id)
        history = None
        if self._needs_history(p):
            if p.person_id not in self.bursts:
                self.prefetch([p])
            history = self.bursts[p.person_id]
        return resolve_cadence(self.th, own_days=own[0] if own else None, own_source=own[1] if own else None,
                               circles=self.circles_of.get(p.person_id, []), conversation_days=p.conversation_days,
                               bursts=history)


class FactsMap(dict):
    """Person id -> :class:`PersonFacts`, with the :class:`CadenceBook` they share as ``book``."""

    book: CadenceBook
    feedback: Feedback
    threads_loaded: bool = True  # False: the waiting threads are loaded per person by enrich_facts


def load_facts(conn, now: datetime, th, person_ids=None, *, with_emails: bool = False, pick=None,
               pick_sql=None, enrich: bool = True) -> FactsMap:
    """Facts for every person with mail or evidence (or exactly ``person_ids``), keyed by person id.

    ``pick(facts) -> bool`` (e.g. :meth:`Policy.may_suggest`) sees each person once their mail volume and
    waiting threads are known, and only the people it keeps stay. ``pick_sql``
    (:meth:`Policy.candidates_sql`) lets the database drop most of the others first. Without ``enrich``
    only volume and waiting threads are loaded: call :func:`enrich_facts` for the people you then need
    (names, evidence, feedback), so a call list of ten does not load everything about thousands.
    """
    now = as_utc(now)
    ids = set(person_ids) if person_ids is not None else None
    out = FactsMap()
    for pid, values in volume_rows(conn, now, ids, where=pick_sql).items():
        (s, r, first, last, last_s, last_r, ps, pr, s30, r30, s90, r90, s365, r365, ps30, pr30, ps90, pr90, ps365,
         pr365, bulk) = values
        out[pid] = PersonFacts(now, pid, None, None, sent=s, received=r, sent_30d=s30, received_30d=r30,
                               sent_90d=s90, received_90d=r90, sent_365d=s365, received_365d=r365, first_at=first,
                               last_at=last, last_sent_at=last_s, last_received_at=last_r, personal_sent=ps,
                               personal_received=pr, personal_sent_30d=ps30, personal_received_30d=pr30,
                               personal_sent_90d=ps90, personal_received_90d=pr90, personal_sent_365d=ps365,
                               personal_received_365d=pr365, bulk_90d=bulk)
    if pick is None:  # people with evidence but no mail count too
        q = select(interactions.c.person_id).distinct()
        if ids is not None:
            q = q.where(interactions.c.person_id.in_(ids))
        for (pid,) in conn.execute(q):
            if pid not in out:
                out[pid] = PersonFacts(now=now, person_id=pid, name=None, email=None)
        for pid in ids or ():
            if pid not in out:
                out[pid] = PersonFacts(now=now, person_id=pid, name=None, email=None)
    if enrich:
        _apply_awaiting(conn, now, out, th, ids)
    else:  # how long each person's oldest waiting thread has waited; the threads come with enrich_facts
        _awaiting_summary(conn, now, out, th)
    if pick is not None:
        kept = FactsMap()
        kept.update((pid, p) for pid, p in out.items() if pick(p))
        out = kept
    out.threads_loaded = enrich
    out.feedback = Feedback(conn, now)
    out.book = CadenceBook(conn, now, th, out.feedback.circles_of, out.feedback.own)
    if enrich:
        enrich_facts(conn, now, th, out, list(out.values()), with_emails=with_emails or ids is not None)
    return out


def enrich_facts(conn, now: datetime, th, out: FactsMap, facts: list[PersonFacts], *,
                 with_emails: bool = False) -> None:
    """Names, evidence and feedback for ``facts`` (members of ``out``); people who turn out to be me, or
    merged away meanwhile, leave ``out``."""
    wanted = {p.person_id for p in facts}
    if not wanted:
        return
    few = len(wanted) <= 2000
    q = (select(people.c.id, people.c.name, people.c.automated, addresses.c.email)
         .select_from(people.outerjoin(addresses, addresses.c.id == people.c.primary_address_id))
         .where(people.c.is_me.is_(False)))
    if few:
        q = q.where(people.c.id.in_(wanted))
    named = set()
    broadcast = broadcast_people(conn, wanted if few else None)
    for pid, name, automated, email in conn.execute(q):
        if pid in wanted:
            p = out[pid]
            p.name, p.automated, p.email = name, automated or ("broadcast" if pid in broadcast else None), email
            named.add(pid)
    for pid in wanted - named:
        del out[pid]
    for pid, rows in _load_evidence(conn, now, named if few else None, named).items():
        _apply_evidence(out[pid], rows, th)
    if not out.threads_loaded:
        _apply_awaiting(conn, now, {pid: out[pid] for pid in named}, th, named if few else None, bulk=True)
    out.feedback.apply(conn, {pid: out[pid] for pid in named}, with_emails)
    from inboxrel.sources.contacts import occasions_of

    for pid, occasions in occasions_of(conn, named).items():
        out[pid].occasions = occasions
    for pid in named:
        out[pid]._cadence_loader = out.book


def _load_evidence(conn, now: datetime, ids, only: set | None = None) -> dict[int, list[Evidence]]:
    """Interaction rows per person (known by ``now``); with ``only``, rows of other people are skipped."""
    i = interactions.c
    q = (select(i.id, i.person_id, i.kind, i.medium, type_coerce(i.at, String), i.source, i.source_ref,
                i.direction, i.sentence, i.confidence, i.note, type_coerce(i.created_at, String),
                type_coerce(messages.c.date, String), messages.c.subject)
         .select_from(interactions.outerjoin(messages, messages.c.id == i.message_id)))
    if ids is not None:
        q = q.where(i.person_id.in_(ids))
    out: dict[int, list[Evidence]] = defaultdict(list)
    for (eid, pid, kind, medium, at, source, ref, direction, sentence, conf, note, created, mdate,
         subject) in conn.execute(q):
        if only is not None and pid not in only:
            continue
        seen = _dt(mdate) or _dt(created)
        if seen is not None and seen > now:
            continue  # not known yet at `now`
        out[pid].append(Evidence(id=eid, kind=kind, medium=medium, at=_dt(at), seen_at=seen, source=source,
                                 source_ref=ref, direction=direction, sentence=sentence,
                                 confidence=conf if conf is not None else 1.0, note=note, subject=subject))
    return out


def passed_plans(rows: list[Evidence], now: datetime, th, cancelled_at: set, cancelled_refs: set) -> list[Evidence]:
    """Plans whose day has passed and that nothing cancelled: probable conversations, at a lower confidence.

    Only plans with a stated day count ("lunch on 11 January"), and only when their lowered confidence still
    reaches ``min_confidence``; a later message or event that cancelled them (``cancelled`` rows at the same
    time or reference) takes them out.
    """
    out = []
    for e in rows:
        if e.kind != "planned" or e.at is None or e.at > now or e.at in cancelled_at or e.source_ref in cancelled_refs:
            continue
        conf = round(e.confidence * th.passed_plan_confidence, 2)
        if conf < th.min_confidence:
            continue
        day = e.at.strftime("%-d %B %Y")
        out.append(replace(e, kind="past", confidence=conf, probable=True,
                           note=f"{medium_word(e.medium)} planned for {day}; not cancelled"))
    return out


def _apply_evidence(p: PersonFacts, rows: list[Evidence], th) -> None:
    now = p.now
    cancelled_at = {e.at for e in rows if e.kind == "cancelled" and e.at}
    cancelled_refs = {e.source_ref for e in rows if e.kind == "cancelled" and e.source_ref}
    past = [e for e in rows if e.kind == "past" and e.when and e.when <= now and e.confidence >= th.min_confidence]
    past += passed_plans(rows, now, th, cancelled_at, cancelled_refs)
    if past:
        past.sort(key=lambda e: (e.when, e.id))
        p.last_conversation = past[-1]
        p.conversations = len(past)
        p.conversation_days = [e.when.date() for e in past]
    upcoming = []
    for e in rows:
        if e.kind != "planned" or (e.at is not None and e.at in cancelled_at) or e.source_ref in cancelled_refs:
            continue
        until = e.at or (e.seen_at + timedelta(days=th.planned_default_days) if e.seen_at else None)
        if until is not None and until > now:
            upcoming.append((until, e))
    if upcoming:
        upcoming.sort(key=lambda x: (x[0], x[1].id))
        p.planned_until, p.planned = upcoming[0]
    asks = [e for e in rows if e.kind in ("request", "attempt") and e.direction in FROM_THEM and e.when
            and e.when <= now]
    asks.sort(key=lambda e: (e.when, e.id), reverse=True)
    p.requests = asks


class Feedback:
    """The user's feedback, read once: snoozes, dismissals and the cadences they set, ignores, circles."""

    def __init__(self, conn, now: datetime):
        self.snoozed: dict[int, datetime] = {}
        # a snooze lasts until its end; ignores and a cadence the user set are standing preferences
        for pid, until in conn.execute(select(feedback.c.person_id, type_coerce(feedback.c.until, String))
                                       .where(feedback.c.action == "snooze", feedback.c.until > to_db(now))):
            until = _dt(until)
            if pid not in self.snoozed or until > self.snoozed[pid]:
                self.snoozed[pid] = until
        self.own: dict[int, tuple[int, str]] = {}
        self.dismissed: dict[int, tuple[datetime, str]] = {}
        for pid, days, reason, created in conn.execute(
                select(feedback.c.person_id, feedback.c.cadence_days, feedback.c.reason, feedback.c.created_at)
                .where(feedback.c.action == "dismiss").order_by(feedback.c.created_at, feedback.c.id)):
            created = as_utc(created)
            if days:
                self.own[pid] = (days, f"set by you: {reason or 'cadence'} on {created.date().isoformat()}")
            if reason != "not-a-relationship":  # that one is an ignore, undone with the ignore
                self.dismissed[pid] = (created, reason)
        self.domains: set[str] = set()
        self.ignored: dict[int, tuple[str, datetime]] = {}
        for pid, domain, reason, created in conn.execute(
                select(ignores.c.person_id, ignores.c.domain, ignores.c.reason, ignores.c.created_at)):
            if domain:
                self.domains.add(domain.lower().lstrip("@"))
            elif pid not in self.ignored:
                self.ignored[pid] = (reason or "", as_utc(created))
        self.circles_of: dict[int, list] = defaultdict(list)
        for pid, name, ideal, most in conn.execute(
                select(circle_members.c.person_id, circles.c.name, circles.c.cadence_days, circles.c.max_days)
                .join(circles, circles.c.id == circle_members.c.circle_id)):
            self.circles_of[pid].append((name, ideal, most))

    def apply(self, conn, facts: dict[int, PersonFacts], with_emails: bool) -> None:
        """Set the feedback fields of ``facts`` (person id -> facts)."""
        for pid, p in facts.items():
            if pid in self.snoozed:
                p.snoozed_until = self.snoozed[pid]
            if pid in self.dismissed:
                p.dismissed_at, p.dismissed_reason = self.dismissed[pid]
            if pid in self.ignored:
                p.ignored, p.ignored_at = self.ignored[pid]
            p.circles = [c[0] for c in self.circles_of.get(pid, ())]
        if facts and (self.domains or with_emails):
            q = select(addresses.c.person_id, addresses.c.email).order_by(addresses.c.email)
            if len(facts) <= 2000:
                q = q.where(addresses.c.person_id.in_(list(facts)))
            emails: dict[int, list[str]] = defaultdict(list)
            for pid, email in conn.execute(q):
                if pid in facts:
                    emails[pid].append(email)
            for pid, lst in emails.items():
                facts[pid].emails = lst
                if self.domains:
                    matched = [_domain_match(e, self.domains) for e in lst]
                    if matched and all(matched):
                        facts[pid].ignored_domain = matched[0]


def _domain_match(email: str, domains: set[str]) -> str | None:
    host = email.rsplit("@", 1)[-1].lower()
    for d in domains:
        if host == d or host.endswith("." + d):
            return d
    return None


def _awaiting_summary(conn, now: datetime, out: dict[int, PersonFacts], th) -> None:
    q = (select(addresses.c.person_id, type_coerce(func.min(threads.c.last_at), String))
         .join(addresses, addresses.c.id == threads.c.last_from_address_id)
         .where(*waiting_threads(now, th, old_enough=True)).group_by(addresses.c.person_id))
    for pid, oldest in conn.execute(q):
        p = out.get(pid)
        if p is not None:
            p.awaiting_days = (now - _dt(oldest)).days


def _apply_awaiting(conn, now: datetime, out: dict[int, PersonFacts], th, ids, *, bulk: bool = False) -> None:
    # for the call list, only the threads old enough for awaiting-reply; for a few people (explain) all
    q = (select(addresses.c.person_id, threads.c.id, threads.c.subject, type_coerce(threads.c.last_at, String),
                threads.c.message_count, messages.c.recipient_count, messages.c.automated,
                func.substr(messages.c.body_text, 1, ACK_CHARS))
         .select_from(threads.join(addresses, addresses.c.id == threads.c.last_from_address_id)
                      .join(messages, messages.c.id == threads.c.last_message_id))
         .where(*waiting_threads(now, th, old_enough=ids is None or bulk)))
    if ids is not None:
        q = q.where(addresses.c.person_id.in_(ids))
    for p in out.values():
        p.awaiting, p.awaiting_days, p.awaiting_closed = [], -1, 0
    for pid, tid, subject, last, n, rc, automated, body in conn.execute(q):
        p = out.get(pid)
        if p is None:
            continue
        if last_message_waits(th, rc, automated, body) is not None:  # "thanks", to everyone: waits for no one
            p.awaiting_closed += 1
            continue
        last = _dt(last)
        p.awaiting.append(AwaitingThread(tid, subject, last, n))
        p.awaiting_days = max(p.awaiting_days, (now - last).days)
    for p in out.values():
        if len(p.awaiting) > 1:
            p.awaiting.sort(key=lambda t: t.last_at)
