"""Each built-in rule on hand-made facts: when it fires, when it does not, the numbers and the reason."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from inboxrel.rules import (
    automated,
    awaiting_reply,
    cooling,
    heavy_email_overdue_call,
    ignored,
    ignored_domain,
    planned,
    snoozed,
    unanswered_request,
)
from inboxrel.rules.cadence import Cadence, resolve_cadence, usual_gap
from inboxrel.rules.facts import AwaitingThread, Evidence, PersonFacts
from inboxrel.rules.policy import build_policy
from inboxrel.rules.scoring import score, score_ceiling
from inboxrel.rules.thresholds import build_thresholds

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
TH = build_thresholds()


def facts(**kw) -> PersonFacts:
    """Hand-made facts; the mail in them is one-to-one unless ``personal_*`` say otherwise."""
    cadence = kw.pop("cadence", Cadence(60, 90, "default"))
    for key in [k for k in kw if k.startswith(("sent_", "received_"))]:
        kw.setdefault(f"personal_{key}", kw[key])
    p = PersonFacts(now=NOW, person_id=7, name="Carol Colleague", email="carol@work.example", **kw)
    p._cadence = cadence
    return p


def ev(kind: str, days_ago: float | None, *, medium="phone", sentence=None, direction=None, seen_days_ago=None,
       eid=1) -> Evidence:
    at = NOW - timedelta(days=days_ago) if days_ago is not None else None
    seen = NOW - timedelta(days=seen_days_ago) if seen_days_ago is not None else at
    return Evidence(id=eid, kind=kind, medium=medium, at=at, seen_at=seen, source="message", sentence=sentence,
                    direction=direction)


def talked(days_ago: int, medium="phone") -> dict:
    e = ev("past", days_ago, medium=medium)
    return {"last_conversation": e, "conversations": 1, "conversation_days": [e.at.date()]}


HEAVY = {"sent_90d": 20, "received_90d": 21, "first_at": NOW - timedelta(days=400)}


# -- heavy-email-overdue-call ------------------------------------------------------------------------------

def test_heavy_fires_when_never_talked():
    v = heavy_email_overdue_call.RULE.check(facts(**HEAVY), TH)
    assert v.fired and v.action == "suggest" and v.priority == 10
    assert v.reason == ("41 personal emails both ways in 90 days (20 sent, 21 received); no call or meeting on "
                        "record; first email 400 days ago; cadence 60 days (default)")
    assert v.numbers == {"personal_90d": 41, "personal_sent_90d": 20, "personal_received_90d": 21,
                         "not_counted_90d": 0, "emails_90d": 41, "min_messages": 8, "min_each_way": 2,
                         "cadence_days": 60, "cadence_max_days": 90, "cadence_source": "default",
                         "days_since_conversation": None, "days_counted": 400}


def test_heavy_fires_past_cadence_with_date_and_days():
    p = facts(**HEAVY, **talked(258))
    v = heavy_email_overdue_call.RULE.check(p, TH)
    assert v.fired
    assert v.reason == ("41 personal emails both ways in 90 days (20 sent, 21 received); no call or meeting since "
                        "17 September 2023 (258 days); cadence 60 days (default)")
    assert v.numbers["days_since_conversation"] == 258


def test_heavy_quiet_within_cadence():
    v = heavy_email_overdue_call.RULE.check(facts(**HEAVY, **talked(1)), TH)
    assert not v.fired
    assert v.reason.endswith("; last call 31 May (1 day ago); cadence 60 days (default): not due yet")


def test_heavy_boundary_is_the_cadence_itself():
    assert not heavy_email_overdue_call.RULE.check(facts(**HEAVY, **talked(60)), TH).fired
    assert heavy_email_overdue_call.RULE.check(facts(**HEAVY, **talked(61)), TH).fired


@pytest.mark.parametrize("sent,received,why", [(3, 4, "fewer than 8"), (10, 1, "one-way, fewer than 2")])
def test_heavy_needs_volume_both_ways(sent, received, why):
    p = facts(sent_90d=sent, received_90d=received)
    v = heavy_email_overdue_call.RULE.check(p, TH)
    assert not v.fired and why in v.reason
    assert not heavy_email_overdue_call.RULE.may_fire(p, TH)


def test_heavy_new_correspondent_and_dismissal_start_the_clock():
    new = facts(sent_90d=20, received_90d=21, first_at=NOW - timedelta(days=30))
    v = heavy_email_overdue_call.RULE.check(new, TH)
    assert not v.fired and "no call or meeting on record; first email 30 days ago" in v.reason
    dismissed = facts(**HEAVY, dismissed_at=NOW - timedelta(days=20), dismissed_reason="seasonal",
                      cadence=Cadence(365, 548, "set by you: seasonal on 2024-05-12"))
    v = heavy_email_overdue_call.RULE.check(dismissed, TH)
    assert not v.fired
    assert "dismissed (seasonal) on 12 May, 20 days ago; cadence 365 days (set by you" in v.reason


def test_heavy_thresholds_come_from_config():
    th = build_thresholds({"heavy_min_messages": 50, "heavy_min_each_way": 1})
    v = heavy_email_overdue_call.RULE.check(facts(**HEAVY), th)
    assert not v.fired and v.numbers["min_messages"] == 50


# -- awaiting-reply ---------------------------------------------------------------------------------------

def waiting(days_ago: int, subject="Contract question", tid=1) -> AwaitingThread:
    return AwaitingThread(tid, subject, NOW - timedelta(days=days_ago), 3)


def test_awaiting_fires_after_k_days():
    p = facts(awaiting=[waiting(12), waiting(9, "Second", 2), waiting(2, "Fresh", 3)])
    v = awaiting_reply.RULE.check(p, TH)
    assert v.fired
    assert v.reason == "their message in \u201cContract question\u201d has waited 12 days for your reply and 1 more thread"
    assert v.numbers == {"threads_waiting": 2, "threads_open": 3, "threads_closed": 0, "min_days": 7,
                         "oldest_days": 12}


def test_awaiting_not_yet_and_not_after_a_conversation():
    v = awaiting_reply.RULE.check(facts(awaiting=[waiting(5)]), TH)
    assert not v.fired and "oldest for 5 days (fires after 7)" in v.reason
    # we talked after their message: the call answered it
    v = awaiting_reply.RULE.check(facts(awaiting=[waiting(12)], **talked(3)), TH)
    assert not v.fired
    assert not awaiting_reply.RULE.check(facts(), TH).fired
    assert not awaiting_reply.RULE.may_fire(facts(), TH)


# -- cooling ----------------------------------------------------------------------------------------------

def test_cooling_fires_against_own_baseline():
    # 40 emails in the 275 days before the last 90, 2 in the last 90: usual 40 * 90 / 275 = 13.1
    p = facts(sent_365d=21, received_365d=21, sent_90d=1, received_90d=1, first_at=NOW - timedelta(days=500))
    v = cooling.RULE.check(p, TH)
    assert v.fired
    assert v.reason == ("personal email fell to 2 in the last 90 days from a usual 13 (down 85%; 20 sent and 20 "
                        "received before)")
    assert v.numbers["baseline_90d"] == 13.1


def test_cooling_not_for_new_light_steady_or_recently_talked():
    new = facts(sent_365d=30, received_365d=30, first_at=NOW - timedelta(days=120))
    assert not cooling.RULE.check(new, TH).fired and not cooling.RULE.may_fire(new, TH)
    light = facts(sent_365d=3, received_365d=3, first_at=NOW - timedelta(days=500))
    assert "not a heavy correspondent" in cooling.RULE.check(light, TH).reason
    steady = facts(sent_365d=40, received_365d=40, sent_90d=10, received_90d=10, first_at=NOW - timedelta(days=500))
    assert "not cooling" in cooling.RULE.check(steady, TH).reason
    talked_recently = facts(sent_365d=21, received_365d=21, sent_90d=1, received_90d=1,
                            first_at=NOW - timedelta(days=500), **talked(10))
    v = cooling.RULE.check(talked_recently, TH)
    assert not v.fired and "we talked 10 days ago (cadence 60 days)" in v.reason


def test_cooling_baseline_uses_only_the_history_there_is():
    # 200 days of history: the 110 days before the last 90 are the baseline period
    p = facts(sent_365d=11, received_365d=11, first_at=NOW - timedelta(days=200))
    v = cooling.RULE.check(p, TH)
    assert v.numbers["baseline_90d"] == 18.0 and v.fired


# -- filters ----------------------------------------------------------------------------------------------

def test_automated_ignored_domain_snoozed():
    assert automated.RULE.check(facts(automated="newsletter"), TH).reason == "automated sender (newsletter)"
    assert not automated.RULE.check(facts(), TH).fired
    v = ignored.RULE.check(facts(ignored="not a relationship", ignored_at=NOW - timedelta(days=3)), TH)
    assert v.fired and v.reason == "ignored by you on 29 May: not a relationship"
    assert not ignored.RULE.check(facts(), TH).fired
    v = ignored_domain.RULE.check(facts(ignored_domain="work.example"), TH)
    assert v.fired and v.reason == "every address is in ignored domain work.example"
    v = snoozed.RULE.check(facts(snoozed_until=NOW + timedelta(days=10)), TH)
    assert v.fired and v.reason == "snoozed until 11 June (10 days left)"
    assert not snoozed.RULE.check(facts(snoozed_until=NOW - timedelta(seconds=1)), TH).fired
    for rule in (automated, ignored, ignored_domain, snoozed, planned):
        assert rule.RULE.action == "suppress"


def test_planned_suppresses_until_its_date():
    lunch = ev("planned", -7, medium="in_person", seen_days_ago=2)
    v = planned.RULE.check(facts(planned=lunch, planned_until=lunch.at), TH)
    assert v.fired and v.reason == "meeting in person planned for 8 June (in 7 days)"
    p = facts(planned=lunch, planned_until=lunch.at)
    p.now = NOW + timedelta(days=8)
    assert not planned.RULE.check(p, TH).fired
    undated = ev("planned", None, medium="phone", seen_days_ago=3)
    until = undated.seen_at + timedelta(days=14)
    v = planned.RULE.check(facts(planned=undated, planned_until=until), TH)
    assert v.fired and v.reason == "call planned on 29 May without a date; waiting until 12 June"


# -- unanswered-request (boost) -----------------------------------------------------------------------------

def test_request_boost_until_we_talk():
    ask = ev("request", 5, sentence="Give me a ring when you get a chance.", direction="to_me")
    v = unanswered_request.RULE.check(facts(requests=[ask]), TH)
    assert v.fired and v.action == "boost"
    assert v.reason == ("they asked to talk on 27 May (5 days ago) and you have not talked since: "
                        "\u201cGive me a ring when you get a chance.\u201d")
    assert not unanswered_request.RULE.check(facts(requests=[ask], **talked(2)), TH).fired
    stale = ev("request", 120, direction="to_me")
    assert not unanswered_request.RULE.check(facts(requests=[stale]), TH).fired
    tried = ev("attempt", 1, direction="to_me")
    assert "they tried to call you on 31 May" in unanswered_request.RULE.check(facts(requests=[tried]), TH).reason


# -- cadence --------------------------------------------------------------------------------------------

def test_usual_gap():
    days = [date(2024, 1, 1), date(2024, 1, 31), date(2024, 3, 1), date(2024, 3, 2)]
    assert usual_gap(days) == (30.0, 3)
    assert usual_gap(days + [date(2024, 3, 1)]) == (30.0, 3)  # one conversation a day counts once
    assert usual_gap([date(2024, 1, 1)]) == (None, 0)


def test_cadence_order_own_circle_learned_default():
    th = TH
    conv = [date(2024, 1, 1), date(2024, 2, 15), date(2024, 4, 1)]
    assert resolve_cadence(th, own_days=365, own_source="seasonal") == Cadence(365, 548, "seasonal")
    assert resolve_cadence(th, circles=[("inner", 30, 45), ("team", 14, 30)],
                           conversation_days=conv) == Cadence(14, 30, "circle team")
    c = resolve_cadence(th, conversation_days=conv)
    assert c == Cadence(46, 69, "learned from 3 conversations (usual gap 45.5 days)")
    bursts = (4, date(2023, 1, 1), date(2023, 10, 28))  # 300 days: one burst every 100 days
    assert resolve_cadence(th, bursts=bursts) == Cadence(100, 150, "learned from 4 email bursts (one every 100 days)")
    assert resolve_cadence(th, bursts=(2, date(2023, 1, 1), date(2023, 2, 1))).source == "default"
    # conversations, when there are enough, win over email bursts
    assert resolve_cadence(th, conversation_days=conv, bursts=bursts).ideal == 46
    # learned values are clamped; too little history falls back to the default
    assert resolve_cadence(th, conversation_days=[date(2024, 1, d) for d in (1, 3, 5)]).ideal == 30
    assert resolve_cadence(th, conversation_days=conv[:2]) == Cadence(60, 90, "default")


def test_status_due_overdue():
    assert facts(first_at=NOW - timedelta(days=400)).status == "overdue"
    assert facts(first_at=NOW - timedelta(days=20)).status == "ok"
    assert facts(**talked(30)).status == "ok"
    assert facts(**talked(61)).status == "due"
    assert facts(**talked(91)).status == "overdue"


def test_may_fire_is_a_necessary_condition():
    """The call list skips a rule when may_fire() is False: that must never hide a verdict that fires."""
    import random

    from inboxrel.rules.policy import BUILTIN

    rng = random.Random(5)
    for _ in range(3000):
        kw = dict(sent_90d=rng.randint(0, 15), received_90d=rng.randint(0, 15),
                  first_at=NOW - timedelta(days=rng.randint(0, 900)),
                  automated=rng.choice([None, None, "newsletter"]),
                  ignored=rng.choice([None, None, "not a relationship"]),
                  ignored_domain=rng.choice([None, None, "x.example"]),
                  snoozed_until=rng.choice([None, NOW + timedelta(days=rng.randint(-5, 5))]),
                  awaiting=[waiting(rng.randint(0, 30), tid=k) for k in range(rng.randint(0, 2))],
                  requests=[ev("request", rng.randint(0, 200), direction="to_me")] if rng.random() < 0.3 else [])
        kw["sent_365d"] = kw["sent_90d"] + rng.randint(0, 30)
        kw["received_365d"] = kw["received_90d"] + rng.randint(0, 30)
        if rng.random() < 0.5:
            kw.update(talked(rng.randint(0, 400)))
        if rng.random() < 0.2:
            plan = ev("planned", -rng.randint(-10, 10), medium="video", seen_days_ago=1)
            kw.update(planned=plan, planned_until=plan.at)
        p = facts(**kw)
        for rule in BUILTIN.values():
            if rule.check(p, TH).fired:
                assert rule.may_fire(p, TH), (rule.name, kw)
        # the ceiling the call list ranks by is never below the score
        policy = build_policy()
        d = policy.evaluate(p)
        if d.suggested:
            may = [r.priority for r in BUILTIN.values() if r.action == "suggest" and r.may_fire(p, TH)]
            ceiling = score_ceiling(p, may + [r.priority for r in BUILTIN.values() if r.action == "boost"], TH)
            assert score(p, d.fired, TH).value <= ceiling
