"""The period report: mail in and out, most-written and new people, cooling relationships, the call list,
threads awaiting a reply, conversation evidence found, sync health, and the data behind the charts.

``build_report`` returns one plain dict; ``render_report`` turns it into table text, markdown or JSON, and
``inboxrel.report.html`` into one self-contained HTML file.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, func, or_, select, type_coerce

from inboxrel.clock import as_utc, iso, to_db
from inboxrel.models import accounts, addresses, folders, interactions, messages, people, threads
from inboxrel.report.suggest import build_suggestions, evaluate
from inboxrel.report.volume import _dt, month_range, monthly_series, period_people

STALE_AFTER = timedelta(hours=48)  # a nightly sync older than this has missed a night
CHART_MONTHS = 18
SCATTER_MAX = 400


def build_report(conn, now: datetime, policy, *, since: datetime, limit: int | None = None,
                 charts: bool = True) -> dict:
    """Everything the period report shows, as plain data (JSON-ready)."""
    now, since = as_utc(now), as_utc(since)
    if since >= now:
        from inboxrel.errors import UsageError

        raise UsageError(f"--since {iso(since)} is not before now ({iso(now)})")
    limit = policy.th.suggest_limit if limit is None else limit
    evaluation = evaluate(conn, now, policy, limit=limit, everyone=True)
    facts = evaluation.facts
    evaluated = evaluation.rows()
    call_list = build_suggestions(conn, now, policy, limit=limit, evaluation=evaluation)
    report = {
        "period": {"since": iso(since), "until": iso(now), "days": (now - since).days},
        "mail": _mail_counts(conn, since, now),
        "most_written": [],
        "new_people": [],
        "cooling": [],
        "call_list": call_list,
        "awaiting": awaiting_rows(conn, now, max_days=policy.th.awaiting_reply_max_days),
        "evidence": evidence_rows(conn, since, now),
        "sync": sync_rows(conn, now),
    }
    period = period_people(conn, since, now)
    people_rows = []
    for pid, (s, r) in period.items():
        p = facts.get(pid)
        if p is None or p.automated or p.ignored is not None:
            continue
        people_rows.append({"person_id": pid, "name": p.name, "email": p.email, "sent": s, "received": r,
                            "total": s + r, "first_at": iso(p.first_at)})
    people_rows.sort(key=lambda x: (-x["total"], (x["name"] or x["email"] or "").lower()))
    report["most_written"] = people_rows[:10]
    report["new_people"] = [x for x in people_rows if x["first_at"] and x["first_at"] >= iso(since)][:10]
    report["mail"]["people"] = len(people_rows)
    report["mail"]["new_people"] = sum(1 for x in people_rows if x["first_at"] and x["first_at"] >= iso(since))
    for p, d in evaluated:
        v = next((v for v in d.verdicts if v.rule == "cooling" and v.fired), None)
        if v is not None and d.suppressed_by is None:
            report["cooling"].append({"person_id": p.person_id, "name": p.name, "email": p.email,
                                      "emails_90d": p.total_90d, "personal_90d": round(p.personal_90d, 1),
                                      "baseline_90d": v.numbers.get("baseline_90d"),
                                      "last_email_at": iso(p.last_at), "reason": v.reason})
    report["cooling"].sort(key=lambda x: -(x["baseline_90d"] or 0))
    report["cooling"] = report["cooling"][:15]
    if charts:
        report["charts"] = _charts(conn, now, evaluated, call_list)
    return report


def _mail_counts(conn, since: datetime, now: datetime) -> dict:
    q = (select(messages.c.direction, messages.c.automated.is_not(None).label("auto"), func.count())
         .where(messages.c.date >= to_db(since), messages.c.date <= to_db(now))
         .group_by(messages.c.direction, messages.c.automated.is_not(None)))
    out = {"received": 0, "sent": 0, "received_personal": 0, "automated": 0}
    for direction, auto, n in conn.execute(q):
        if direction == "sent":
            out["sent"] += n
        elif direction == "received":
            out["received"] += n
            if auto:
                out["automated"] += n
            else:
                out["received_personal"] += n
    return out


def awaiting_rows(conn, now: datetime, *, max_days: int = 90, limit: int = 20) -> list[dict]:
    """Threads whose last message (from a person, not a machine) waits for my reply, newest first."""
    q = (select(threads.c.id, threads.c.subject, threads.c.message_count, threads.c.sent_count,
                threads.c.received_count, type_coerce(threads.c.last_at, String), addresses.c.email, people.c.name)
         .select_from(threads.join(addresses, addresses.c.id == threads.c.last_from_address_id)
                      .join(people, people.c.id == addresses.c.person_id))
         .where(threads.c.awaiting == "me", people.c.automated.is_(None),
                threads.c.last_at >= to_db(now - timedelta(days=max_days)), threads.c.last_at <= to_db(now))
         .order_by(threads.c.last_at.desc()).limit(limit))
    out = []
    for tid, subject, n, s, r, last, email, name in conn.execute(q):
        last = _dt(last)
        out.append({"thread": tid, "subject": subject, "messages": n, "two_way": bool(s and r),
                    "last_from": email, "last_from_name": name, "last_at": iso(last),
                    "days_waiting": (now - last).days})
    return out


def evidence_rows(conn, since: datetime, now: datetime, limit: int = 50) -> dict:
    """Conversation evidence learned during the period (by the date of the message that showed it)."""
    seen = func.coalesce(messages.c.date, interactions.c.created_at)
    i = interactions.c
    q = (select(i.kind, i.medium, type_coerce(i.at, String), i.source, i.sentence,
                type_coerce(seen, String).label("seen"), people.c.name, addresses.c.email)
         .select_from(interactions.outerjoin(messages, messages.c.id == i.message_id)
                      .join(people, people.c.id == i.person_id)
                      .outerjoin(addresses, addresses.c.id == people.c.primary_address_id))
         .where(seen >= to_db(since), seen <= to_db(now))
         .order_by(seen.desc(), i.id.desc()))
    counts: dict[str, int] = {}
    rows = []
    for kind, medium, at, source, sentence, seen_at, name, email in conn.execute(q):
        counts[kind] = counts.get(kind, 0) + 1
        if len(rows) < limit:
            rows.append({"kind": kind, "medium": medium, "at": iso(_dt(at)), "seen_at": iso(_dt(seen_at)),
                         "source": source, "sentence": sentence, "name": name, "email": email})
    return {"counts": counts, "total": sum(counts.values()), "rows": rows}


def sync_rows(conn, now: datetime) -> list[dict]:
    """Per folder: the last successful ingest, the last error, and whether it looks stale or failing."""
    q = (select(accounts.c.name.label("account"), folders.c.name, folders.c.kind, folders.c.last_success_at,
                folders.c.last_error, folders.c.last_error_at, folders.c.message_count)
         .join(accounts, accounts.c.id == folders.c.account_id).order_by(accounts.c.name, folders.c.name))
    out = []
    for r in conn.execute(q):
        ok_at, err_at = as_utc(r.last_success_at), as_utc(r.last_error_at)
        failing = bool(r.last_error) and (ok_at is None or (err_at is not None and err_at >= ok_at))
        stale = ok_at is None or now - ok_at > STALE_AFTER
        out.append({"account": r.account, "folder": r.name, "kind": r.kind, "last_success_at": iso(ok_at),
                    "last_error": r.last_error, "last_error_at": iso(err_at), "failing": failing,
                    "stale": stale, "state": "failing" if failing else "stale" if stale else "ok"})
    return out


def _charts(conn, now: datetime, evaluated, call_list) -> dict:
    """Per person in the call list: monthly volume with conversation markers. Whole circle: load against
    days since the last conversation."""
    ids = [r["person_id"] for r in call_list]
    series = monthly_series(conn, ids, now, CHART_MONTHS)
    months = month_range(now, CHART_MONTHS)
    start = datetime.fromisoformat(months[0] + "-01").replace(tzinfo=now.tzinfo)
    marks: dict[int, list[dict]] = {pid: [] for pid in ids}
    if ids:
        seen = func.coalesce(interactions.c.at, messages.c.date, interactions.c.created_at)
        q = (select(interactions.c.person_id, interactions.c.kind, interactions.c.medium,
                    type_coerce(seen, String))
             .select_from(interactions.outerjoin(messages, messages.c.id == interactions.c.message_id))
             .where(interactions.c.person_id.in_(ids), interactions.c.kind.in_(("past", "planned")),
                    or_(seen >= to_db(start))))
        for pid, kind, medium, at in conn.execute(q):
            at = _dt(at)
            if at is not None and (kind == "planned" or at <= now):
                marks[pid].append({"kind": kind, "medium": medium, "at": iso(at)})
    people_charts = []
    for r in call_list:
        pid = r["person_id"]
        people_charts.append({"person_id": pid, "name": r["name"], "email": r["email"], "months": months,
                              "sent": series[pid]["sent"], "received": series[pid]["received"],
                              "conversations": sorted(marks[pid], key=lambda m: m["at"])})
    points = []
    for p, d in evaluated:
        if p.automated or p.ignored is not None or p.total_90d == 0:
            continue
        points.append({"person_id": p.person_id, "name": p.name, "email": p.email, "emails_90d": p.total_90d,
                       "personal_90d": round(p.personal_90d, 1),
                       "days": p.days_without_conversation, "never": p.last_conversation is None,
                       "suggested": d.suggested})
    points.sort(key=lambda x: -x["emails_90d"])
    return {"months": months, "people": people_charts, "circle": points[:SCATTER_MAX],
            "circle_total": len(points)}
