"""Conversation cues: the dev-set thresholds, the extra labelled set, hard negatives and day resolution."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from inboxrel.signals import when
from inboxrel.signals.cues import analyze_texts, build_nlp, load_patterns, local_datetime, prefilter
from inboxrel.signals.evaluate import evaluate_file
from tests.conftest import FIXTURES


def cues_of(text: str, sent: str = "2001-05-14T09:30:00-05:00") -> list[dict]:
    """The cues of a conversation with the recipient (a cue naming another party is for attribution to place)."""
    return [c.as_dict() for c in analyze_texts([(text, local_datetime(sent))])[0]
            if c.kind != "attempt" and not c.party]


def test_a_named_party_travels_with_the_cue():
    """'I spoke with John': a conversation with John, who may or may not be in the message's headers."""
    (cue,) = analyze_texts([("I spoke with John Smith about the invoice on Monday.",
                             local_datetime("2001-05-14T09:30:00-05:00"))])[0]
    assert (cue.kind, cue.party) == ("past", "John Smith")


@pytest.mark.corpus
def test_dev_set_reaches_the_thresholds(shared_data):
    scores = evaluate_file(str(shared_data / "cues-dev" / "cues-dev.jsonl"))
    assert scores["items"] == 80
    assert scores["kind"]["f1"] >= 0.9
    assert scores["kind+medium"]["f1"] >= 0.8
    assert scores["when"]["f1"] >= 0.8


def test_extra_labelled_set():
    """Texts written for this project under the same rules (not from the dev set)."""
    scores = evaluate_file(str(FIXTURES / "signals" / "cues-extra.jsonl"))
    assert scores["items"] == 60
    assert scores["kind"]["f1"] >= 0.9
    assert scores["when"]["f1"] >= 0.8


def test_holdout_labelled_set():
    """167 texts written after the rules (trading desk, tech, family, sales, recruiting, academic; 68 negatives).

    Labelled under the cues-dev README before the detector ever ran on them; rules were then generalised
    against them, so tests/fixtures/signals/cues-final.jsonl is the untouched estimate.
    """
    scores = evaluate_file(str(FIXTURES / "signals" / "cues-holdout.jsonl"))
    assert scores["items"] == 167
    assert scores["kind"]["f1"] >= 0.9
    assert scores["kind+medium"]["f1"] >= 0.85
    assert scores["when"]["f1"] >= 0.8


@pytest.mark.parametrize("name, items", [("cues-final.jsonl", 46), ("cues-final2.jsonl", 42)])
def test_blind_labelled_sets(name, items):
    """Two sets written last and scored once before any rule saw them (final: kind F1 0.893, when 0.850;
    final2, after the next round of general fixes: kind 0.947, when 0.919); now kept as regression sets."""
    scores = evaluate_file(str(FIXTURES / "signals" / name))
    assert scores["items"] == items
    assert scores["kind"]["f1"] >= 0.9
    assert scores["when"]["f1"] >= 0.8


@pytest.mark.parametrize("text", [
    "Dial-in: 0800 555 0199, participant PIN 2290. The call starts at 10.",
    "Call for papers: submissions close on 1 March.",
    "If the basis widens we could face a margin call on Friday.",
    "Sorry I missed your call this morning.",
    "The board met yesterday and approved the budget.",
    "I spoke with John about the invoice on Monday.",
    "Your call with the auditors went well, I hear.",
    "Mike says you two should meet for coffee.",
    "There's no need to call, the form is self-explanatory.",
    "Had we spoken sooner, we could have saved the deal.",
    "Good call on the hedge.",
    "Talk soon.",
    "The function calls the API twice.",
    "Join the all-company town hall on Friday via the Teams link.",
    "-----Original Message-----\nFrom: Dorie\nSent: Monday, March 10, 2003 2:11 PM\nTo: Events\nSubject: party\n\n"
    "Let's meet at the entrance at 6.",
    "We met every target this quarter.",
    "Meeting the thesis deadline is going to be tight.",
    "Sorry, I was in a meeting when you called.",
    "I'll have Sarah call you tomorrow.",
    "Good luck with your interview tomorrow!",
    "Let me know how the interview at Stripe goes!",
    "Heard from Jess that you two finally met up in Lisbon.",
    "I rang your mobile twice this afternoon but it went straight to voicemail.",
    "Your order has shipped. Questions? Call us at 1-800-555-0199, Mon-Fri 8am-6pm CT.",
    "Happy to chat on Slack about this.",
    "A meeting would be overkill here.",
    "Speak soon, and thanks again for the referral.",
    "I have a meeting tomorrow morning with the PUC staff to discuss pricing.",
    'Tom wrote: "let\'s grab coffee Thursday" - can you cover for me?',
])
def test_hard_negatives_stay_negative(text):
    from inboxrel.signals.strip import split_body

    assert cues_of(split_body(text).own) == []


@pytest.mark.parametrize("text, sent, expected", [
    ("Great talking yesterday!", "2001-05-14T09:30:00-05:00", [("past", "unspecified", "2001-05-13")]),
    ("Lunch on Friday?", "2001-05-14T09:30:00-05:00", [("planned", "in_person", "2001-05-18")]),
    ("Thanks for the call on Friday.", "2001-05-14T09:30:00-05:00", [("past", "phone", "2001-05-11")]),
    ("Let's talk tomorrow at 3.", "2001-05-14T23:30:00+09:00", [("planned", "unspecified", "2001-05-15")]),
    ("Can we do a Zoom next Tuesday?", "2001-05-14T09:30:00-05:00", [("planned", "video", None)]),
    ("Dinner Monday or Tuesday?", "2001-05-14T09:30:00-05:00", [("planned", "in_person", None)]),
    ("See you on the 18th!", "2001-05-14T09:30:00-05:00", [("planned", "in_person", "2001-05-18")]),
    ("Call me whenever.", "2001-05-14T09:30:00-05:00", [("request", "phone", None)]),
    ("Our call on 6/2 was useful.", "2001-06-14T09:30:00-05:00", [("past", "phone", "2001-06-02")]),
    # a weekday written with its date is that date; "from Wednesday to Thursday" after a move is Thursday
    ("Teams call on Monday 5 September at 10:00?", "2022-09-01T17:20:00+02:00", [("planned", "video", "2022-09-05")]),
    ("Can we move our 1:1 from Wednesday to Thursday?", "2019-09-16T13:15:00+02:00",
     [("planned", "unspecified", "2019-09-19")]),
    ("Would Tuesday 19th or Wednesday 20th suit for a visit?", "2017-09-12T16:45:00+01:00", [("planned", "in_person", None)]),
    ("Does the week of the 18th work for the planning meeting?", "2027-01-05T09:00:00-06:00",
     [("planned", "unspecified", None)]),
    ("Can I give you a call in an hour?", "2018-08-27T10:40:00-04:00", [("planned", "phone", "2018-08-27")]),
    ("Thanks for your time on the phone earlier.", "2020-10-21T12:00:00+00:00", [("past", "phone", "2020-10-21")]),
    ("Can you come by my office hours on Thurs at 2?", "2014-05-06T15:30:00+01:00", [("planned", "in_person", "2014-05-08")]),
    ("Zoom tomorrow morning works.", "2002-03-14T00:30:00+09:00", [("planned", "video", "2002-03-15")]),
    # a called-off conversation moved to a new time, and a repeat
    ("I can't do lunch Thursday after all - how about Tuesday the 7th?", "2004-09-01T13:00:00-05:00",
     [("planned", "in_person", "2004-09-07")]),
    ("Cheers for the pint last night, mate. Same again next Friday?", "2010-06-15T09:15:00+01:00",
     [("past", "in_person", "2010-06-14"), ("planned", "in_person", None)]),
    ("Bob's leaving drinks are Friday at the Porch from 5 - hope to see you there!", "2005-05-05T11:00:00-05:00",
     [("planned", "in_person", "2005-05-06")]),
    ("Thanks for the chat on the train yesterday.", "2015-05-26T08:20:00+01:00", [("past", "in_person", "2015-05-25")]),
])
def test_when_is_resolved_against_the_local_date(text, sent, expected):
    got = [(c["kind"], c["medium"], c["when"]) for c in cues_of(text, sent)]
    assert got == expected


def test_weekday_rules():
    monday = datetime(2001, 5, 14, 9, 30)
    fri = next(t for t in when.find_times("on Friday") if t.kind == "day")
    assert when.resolve_day(fri, "past", monday) == date(2001, 5, 11)
    assert when.resolve_day(fri, "planned", monday) == date(2001, 5, 18)
    mon = next(t for t in when.find_times("Monday") if t.kind == "day")
    assert when.resolve_day(mon, "past", monday) == date(2001, 5, 7)  # strictly before
    assert when.resolve_day(mon, "planned", monday) == date(2001, 5, 21)  # strictly after
    nxt = next(t for t in when.find_times("next Thursday") if t.kind == "day")
    assert when.resolve_day(nxt, "planned", monday) is None
    assert [t.kind for t in when.find_times("on the 5th floor")] == []


def test_attempts_are_found_but_not_cues():
    out = analyze_texts([("I left you a voicemail this morning.", local_datetime("2001-05-14T09:30:00-05:00"))])[0]
    assert [(c.kind, c.medium) for c in out] == [("attempt", "phone")]


def test_indexed_ruler_finds_what_span_ruler_finds(shared_data):
    """The fast pattern matcher gives the same longest spans as spaCy's SpanRuler on the dev texts."""
    fast = build_nlp()
    slow = build_nlp(ruler="span_ruler")
    lines = (shared_data / "cues-dev" / "cues-dev.jsonl").read_text().splitlines()
    for line in lines:
        text = json.loads(line)["text"]
        fdoc = fast.get_pipe("signal_patterns")(fast.make_doc(text))
        a = {(s.start, s.label_, s.id_) for s in fdoc.spans["signals"]}
        doc = slow.make_doc(text)
        slow.get_pipe("span_ruler")(doc)
        b = {(s.start, s.label_, s.id_) for s in doc.spans["signals"]}
        assert a == b, text


def test_prefilter_covers_every_trigger_pattern():
    """Texts without a prefilter stem skip spaCy, so each trigger pattern must need one of the stems."""
    rx = prefilter()
    for pat in load_patterns(expand=True):
        if pat["label"] not in ("phone", "video", "in_person", "unspecified"):
            continue
        words = []
        for spec in pat["pattern"]:
            v = spec.get("LOWER", spec.get("ORTH"))
            if "OP" in spec or v is None:
                words.append("")
                continue
            words.append(v if isinstance(v, str) else v["IN"][0])
        phrase = " ".join(w for w in words if w)
        assert rx.search(phrase), pat


def test_cues_command_reads_and_writes_json_lines(tmp_path):
    from click.testing import CliRunner

    from inboxrel.cli import cli

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "date": "2001-05-14T09:30:00-05:00", "text": "Great talking yesterday!"})
                   + "\n" + json.dumps({"id": "b", "date": "2001-05-14T09:30:00-05:00", "text": "Margin call."}) + "\n")
    res = CliRunner().invoke(cli, ["cues", str(src)])
    assert res.exit_code == 0, res.output
    assert [json.loads(x) for x in res.output.splitlines()] == [
        {"id": "a", "cues": [{"kind": "past", "medium": "unspecified", "when": "2001-05-13"}]},
        {"id": "b", "cues": []}]
    res = CliRunner().invoke(cli, ["cues"], input="not json\n")
    assert res.exit_code == 2 and "line 1 is not JSON" in res.output
    res = CliRunner().invoke(cli, ["cues", "--eval", str(FIXTURES / "signals" / "cues-extra.jsonl"), "--format", "json"])
    assert res.exit_code == 0
    assert json.loads(res.output)["kind"]["f1"] >= 0.9
