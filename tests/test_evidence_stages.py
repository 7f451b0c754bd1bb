"""The message-level evidence stages alone, on plain data: context, attribution, courtesy, quoted Notes forms.

Every case here is a kind of error read in real Enron mail (evidence-dev), written as a small example.
"""

from __future__ import annotations

import pytest

from inboxrel.signals.attribution import attribute, partners
from inboxrel.signals.context import no_evidence_reason
from inboxrel.signals.courtesy import is_courtesy
from inboxrel.signals.shape import MessageShape, Party, name_tokens
from inboxrel.signals.strip import split_body

ME = Party(1, "phillip.allen@enron.com", "Allen, Phillip K.", me=True)
MY_OTHER = Party(1, "pallen@enron.com", None, me=True)
MERY = Party(2, "mery.l.brown@accenture.com", "Mery Brown")
DON = Party(3, "donald.l.barnhart@accenture.com", None)
JOHN = Party(4, "john.lavorato@enron.com", "John Lavorato")
INA = Party(5, "ina.rangel@enron.com", "Ina Rangel", delegate=True)
HARLAN = Party(6, "harlan.murphy@enron.com", "Harlan Murphy")
NEWS = Party(7, "no.address@enron.com", "Enron Announcements", auto=True)
OWNER = frozenset(name_tokens(ME.name, ME.email))


def shape(author, to=(), cc=(), **kw) -> MessageShape:
    return MessageShape(author=author, to=list(to), cc=list(cc), owner_names=OWNER, **kw)


# -- context -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("msg, body, reason", [
    (shape(MERY, [MY_OTHER], automated="newsletter"), "", "automated mail (newsletter)"),
    (shape(NEWS, [ME]), "", "sent by an automated address"),
    (shape(MERY, [ME], subject="Out of Office AutoReply: contracts"), "", "an auto-reply"),
    (shape(ME, [Party(10 + i, f"p{i}@x.example") for i in range(5)]), "", "sent to 5 people: not a personal conversation"),
    (shape(MERY, [ME], [Party(10 + i, f"p{i}@x.example") for i in range(4)]), "",
     "sent to 5 people: not a personal conversation"),
    (shape(MERY, [ME]), "Great offers.\nTo unsubscribe, click here.", "bulk mail (newsletter or notice footer)"),
    (shape(MERY, [HARLAN], [ME]), "", "the owner is only copied"),
    (shape(INA, [JOHN]), "", "written by a delegate, not the owner"),
])
def test_messages_that_cannot_hold_a_personal_conversation(msg, body, reason):
    assert no_evidence_reason(msg, body) == reason


def test_small_personal_messages_pass():
    assert no_evidence_reason(shape(MERY, [MY_OTHER], [DON]), "Thank you for meeting with us today.") is None
    assert no_evidence_reason(shape(ME, [MERY, DON, JOHN, HARLAN]), "") is None  # four others: still personal
    assert no_evidence_reason(shape(MERY, cc=[ME]), "") is None  # no To at all (Bcc-like): I am addressed


# -- attribution -------------------------------------------------------------------------------------------

def test_partners_are_to_for_my_mail_and_the_author_for_mail_to_me():
    assert [p.pid for p in partners(shape(ME, [MERY], [DON]))] == [2]
    assert [p.pid for p in partners(shape(ME, [], [DON]))] == [3]  # Cc when To is empty
    assert [p.pid for p in partners(shape(MERY, [ME, DON]))] == [2]
    assert partners(shape(ME, [INA])) == []  # my assistant is never a relationship candidate


@pytest.mark.parametrize("sentence, pids", [
    ("Thank you for meeting with us today.", [2]),
    ("Are we scheduled to meet tomorrow at 10 AM?", [2]),
    ("Lunch Friday?", [2]),  # a few words: no pronoun needed
    ("A conference call was held today with FERC staffers to discuss items of interest.", []),
    ("How did the school board meeting go last night?", []),
    ("I talked with Ina and scheduled a meeting for Wednesday at 10 am.", []),  # Ina is not in the headers
    ("I left a message for Ed and asked him to focus on one or two problems.", []),
    ("Just received a call from Adam at XTO Energy and he is sending comments.", []),
    ("He left me a voice mail this morning about the agreement.", []),
    ("Will you call him to discuss?", []),
    ("The weekly staff meeting moves to room 32C2, see you there.", []),
])
def test_whose_conversation_mail_to_me_shows(sentence, pids):
    assert attribute(shape(MERY, [MY_OTHER], [DON]), sentence) == pids


def test_a_vocative_names_whom_the_sentence_addresses():
    to_me_and_harlan = shape(MERY, [ME, HARLAN])
    assert attribute(to_me_and_harlan, "Harlan, please stop by.") == []
    assert attribute(to_me_and_harlan, "Phillip, please stop by tomorrow.") == [2]
    assert attribute(to_me_and_harlan, "Phil, can we meet on Monday?") == [2]  # a short form of my name
    mine_to_two = shape(ME, [MERY, JOHN])
    assert attribute(mine_to_two, "John, let's meet on Monday to go over the numbers.") == [4]


def test_named_parties_match_whole_names_among_the_headers():
    mine = shape(ME, [JOHN], [MERY])
    assert attribute(mine, "I spoke to John McKay about Sumas.") == []  # not John Lavorato
    assert attribute(mine, "I just spoke with Mery Brown about the simulation.") == [2]  # in Cc: hers
    assert attribute(mine, "I spoke with someone", party="Mery") == [2]
    assert attribute(mine, "We can talk tomorrow", party="Cary Kipp") == []
    # mail to me: a named party is the author's conversation, unless it names me
    to_me = shape(MERY, [ME])
    assert attribute(to_me, "I met with Tom yesterday.", party="Tom") == []
    assert attribute(to_me, "Sheri and I met with Phillip yesterday.", party="Phillip") == [2]


# -- courtesy ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence", [
    "Call me if you have any questions.",
    "Please call me at X31715 if you have any questions.",
    "Feel free to call.",
    "Please contact me at x3-1234 with questions.",
    "Happy to hop on a call if that's easier.",
    "If you have any questions, please stop by.",
    "Please do not hesitate to call if you have any questions.",
    "You should not notice any changes, but if you do experience any problems please call me.",
    "If you would like, we can set up a conference call with you, myself, and Larry.",
    "Call or email with additional data requests.",
    "For assistance, please call 1-800-934-4448.",
    "To reach Steve Everly, call (816) 234-4455.",
    "I will call you when I am comfortable consenting to the limited partnership.",
])
def test_courtesy_offers_are_not_requests(sentence):
    assert is_courtesy(sentence, "request")


@pytest.mark.parametrize("sentence", [
    "Can we get together to discuss this?",
    "I'd like to talk to you before I do this.",
    "Give me a call when you get a chance, I want to talk about the budget.",
    "Questions on the Q3 accrual - easier by phone, so ring me whenever suits.",
    "Let me know if you're ever in Philly, drinks are on me.",
])
def test_explicit_asks_are_requests(sentence):
    assert not is_courtesy(sentence, "request")


def test_a_plan_with_a_courtesy_condition_is_no_plan_but_a_plain_if_is():
    assert is_courtesy("Please give me a call at 3 if you have questions.", "planned")
    assert not is_courtesy("Mind if I call you Wednesday with a couple more questions?", "planned")


def test_instructions_are_not_call_attempts():
    assert is_courtesy("Please leave Leslie a voice mail if you sent the agreement.", "attempt")
    assert is_courtesy("I will also be checking voicemail during this time.", "attempt")
    assert not is_courtesy("I left you a voice mail this morning.", "attempt")


# -- quoted blocks ------------------------------------------------------------------------------------------

@pytest.mark.corpus
def test_lotus_notes_column_headers_start_a_quoted_block(shared_data):
    """A real reply whose own text is 'That is fine!' above a Notes-form quote that asks to meet."""
    raw = (shared_data / "enron" / "allen-p" / "maildir" / "deleted_items" / "145.").read_text()
    body = split_body(raw.split("\n\n", 1)[1])
    assert body.own.split()[:3] == ["That", "is", "fine!"]
    assert "meet" not in body.own


@pytest.mark.parametrize("sentence", [
    "In Houston, we have been receiving the report via email before the fundamentals meeting in Portland.",
    "Can you guys coordinate to make sure someone listens to this conference call each week.",
    "I hope your party was a success.",
])
def test_group_meetings_and_the_recipients_own_events_are_not_mine(sentence):
    assert attribute(shape(ME, [MERY]), sentence) == []


def test_our_own_meetings_still_count():
    assert attribute(shape(ME, [MERY]), "Thanks for the lunch meeting yesterday, I enjoyed your presentation.") == [2]
    assert attribute(shape(ME, [MERY]), "I will see you at the next meeting on Monday.") == [2]


# -- the cue stage on the same errors ----------------------------------------------------------------------

@pytest.mark.parametrize("text, sent, expected", [
    # the weekday names the year: written in November 2001, not 2000-11-14
    ("Thanks again for our meeting on Wednesday November 14th.", "2001-11-20T10:00:00-06:00", ("past", "2001-11-14")),
    ("We will meet with you next Tuesday at 10:00 to review the problems.", "2001-11-16T12:22:00-08:00",
     ("planned", "2001-11-20")),
    ("I left you a voice mail on Friday.", "2001-08-06T06:40:00-07:00", ("attempt", "2001-08-03")),
    # a plan stated with a vague time is a plan with no day, not a request
    ("I will stay after the meeting to talk about Mike's issues.", "2001-06-20T10:00:00-05:00", ("planned", None)),
    ("We can talk about a unit for Wade then.", "2000-05-26T10:00:00-05:00", ("planned", None)),
])
def test_days_and_kinds_read_in_real_mail(text, sent, expected):
    from inboxrel.signals.cues import analyze_texts, local_datetime

    (cue,) = analyze_texts([(text, local_datetime(sent))])[0]
    assert (cue.kind, cue.when.isoformat() if cue.when else None) == expected


@pytest.mark.parametrize("text", [
    "I sent a copy of an article discussing oil and gas stocks.",
    "I will swing by your office to pick up the documents.",
    "Stay in touch and we can discuss alternatives if that becomes necessary.",
    "I will call you when I am comfortable consenting to the limited partnership.",
])
def test_no_cue_in_logistics_articles_and_conditions(text):
    from inboxrel.signals.cues import analyze_texts, local_datetime

    assert analyze_texts([(text, local_datetime("2001-06-13T10:00:00-05:00"))])[0] == []


def test_a_decision_for_tomorrow_is_a_plan_and_about_seven_is_a_time():
    from inboxrel.signals.cues import analyze_texts, local_datetime

    text = "I just spoke to Anne and we decided that we would go eat supper with you and Mama tomorrow night."
    cues = analyze_texts([(text, local_datetime("2001-07-13T09:08:00-07:00"))])[0]
    assert ("planned", "in_person", "2001-07-14") in [(c.kind, c.medium, c.when.isoformat()) for c in cues if c.when]
    (cue,) = analyze_texts([("Why don't we just meet at the Wortham at about 7?",
                             local_datetime("2001-09-21T10:00:00-05:00"))])[0]
    assert cue.kind == "planned"


def test_time_spent_with_us_is_a_meeting_and_later_is_no_time():
    from inboxrel.signals.cues import analyze_texts, local_datetime

    sent = local_datetime("2001-10-19T12:12:02-07:00")
    (cue,) = analyze_texts([("I want to thank you for spending so much time with us today.", sent)])[0]
    assert (cue.kind, cue.medium, cue.when.isoformat()) == ("past", "in_person", "2001-10-19")
    (cue,) = analyze_texts([("We can discuss your email later.", sent)])[0]
    assert cue.kind == "request"  # "later" is no time: an ask, not a plan
    assert analyze_texts([("I spent the weekend with my family.", sent)])[0] == []


def test_who_an_ask_or_attempt_comes_from():
    from inboxrel.signals.attribution import initiator

    to_me = shape(MERY, [ME])
    assert initiator(to_me, "attempt", "I left you a voice mail this morning.") == "to_me"
    assert initiator(to_me, "attempt", "I received your phone message.") == "from_me"  # I had tried to call
    assert initiator(shape(ME, [MERY]), "attempt", "Got your voicemail, thanks.") == "to_me"
    assert initiator(to_me, "request", "Give me a call when you get a chance.") == "to_me"
