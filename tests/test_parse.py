"""The parse and classify stages alone, on fixture bytes: no database."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from inboxrel.pipelines.classify import classify_headers, classify_message, classify_sender
from inboxrel.pipelines.parse import ParseError, normalize_subject, parse_date, parse_message
from tests.conftest import FIXTURES

SMALL = FIXTURES / "mail" / "small"


def test_headers_addresses_and_dates():
    p = parse_message((SMALL / "INBOX/cur/2001.host:2,S").read_bytes())
    assert p.message_id == "b2@work.example"
    assert p.from_ == ("Bob Stone", "bob@work.example")
    assert p.to == [("Alice Doe", "alice@example.org")]
    assert p.date == datetime(2001, 12, 2, 13, 30, tzinfo=timezone.utc)
    assert p.tz_offset == -300
    assert (p.in_reply_to, p.references) == ("a1@example.org", ["a1@example.org"])
    assert p.subject_norm == "budget" and p.is_reply
    assert p.body.startswith("Here it is.")


def test_encoded_subject_and_html_only_body():
    p = parse_message((SMALL / "INBOX/cur/2003.host:2,S").read_bytes())
    assert p.subject == "Winter sale — 50% off"
    assert p.body == "Big sale & more"
    assert classify_message(p.headers, p.from_[1]) == "newsletter"


def test_double_dot_addresses_survive_and_x_from_names_are_used():
    raw = (b"Message-ID: <1@x>\nDate: Mon, 14 May 2001 09:00:00 -0700 (PDT)\nFrom: k..allen@enron.com\n"
           b"To: a@enron.com,  b@enron.com\nX-From: Allen, Phillip K.\nSubject: x\n\nbody\n")
    p = parse_message(raw)
    assert p.from_ == ("Allen, Phillip K.", "k..allen@enron.com")
    assert [a for _, a in p.to] == ["a@enron.com", "b@enron.com"]


def test_quoted_and_grouped_addresses_take_the_full_parser():
    raw = (b'From: "Smith, John (Sales)" <JOHN@Example.COM>\nTo: undisclosed-recipients:;\n'
           b'Cc: =?utf-8?q?J=C3=B6rg?= <jorg@example.de>\nDate: Tue, 1 Jan 2002 00:00:00 +0100\n\nhi\n')
    p = parse_message(raw)
    assert p.from_ == ("Smith, John (Sales)", "john@example.com")
    assert p.to == [] and p.cc == [("Jörg", "jorg@example.de")]


def test_raw_8bit_headers_are_decoded_not_left_as_surrogates():
    raw = b"From: x@y.com\nTo: z@y.com\nSubject: Gambler wins \xa37,000\nDate: Fri, 27 Sep 2002 08:01:03 +0000\n\nb\n"
    assert parse_message(raw).subject == "Gambler wins £7,000"


@pytest.mark.parametrize("value,expected", [
    ("Mon, 31 Dec 1979 16:00:00 -0800 (PST)", (None, None)),  # Enron's placeholder
    ("Fri, 27 Sep 0102 08:01:03 +0000", (None, None)),  # two-digit year + 1900 bug
    ("2002/09/14 Sat 02:29:32 CDT", (None, None)),
    ("Sat, 01 Dec 2001 09:00:00 +0530", (datetime(2001, 12, 1, 3, 30, tzinfo=timezone.utc), 330)),
    ("1 Dec 01 09:00 GMT", (datetime(2001, 12, 1, 9, 0, tzinfo=timezone.utc), 0)),
])
def test_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("raw,reason", [
    (b"", "empty message"),
    (b"just text\nno headers\n", "no RFC 822 header lines at the start of the message"),
    (b"Content-Type: text/plain\n\nfragment\n", "no From, To, Date, Subject or Message-ID header: not an email message"),
    (b"Subject: hello\n\nbody\n", "no usable From, To, Cc or Date: nothing to attribute this message to"),
])
def test_bad_messages_give_a_reason(raw, reason):
    with pytest.raises(ParseError) as exc:
        parse_message(raw)
    assert str(exc.value) == reason


def test_copies_share_a_fingerprint_despite_whitespace_and_message_id():
    a = parse_message((SMALL / "Sent/cur/1001.host:2,S").read_bytes())
    b = parse_message((SMALL / "Archive/cur/3002.host:2,S").read_bytes())
    assert a.message_id != b.message_id and a.fingerprint == b.fingerprint


def test_calendar_parts_are_kept():
    raw = (b"From: a@x.com\nTo: b@y.com\nDate: Mon, 1 Jan 2001 10:00:00 +0000\nMIME-Version: 1.0\n"
           b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nSee invite\n'
           b"--B\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n--B--\n")
    p = parse_message(raw)
    assert p.body.strip() == "See invite"
    assert p.calendars == [b"BEGIN:VCALENDAR\nEND:VCALENDAR"]


@pytest.mark.parametrize("subject,norm", [("Re: RE: Fwd: Budget", "budget"), ("AW: [fedora] Re:  Come  back", "come back"),
                                          ("[TRK-1] Ticket updated", "ticket updated")])
def test_subject_normalisation(subject, norm):
    assert normalize_subject(subject) == norm


@pytest.mark.parametrize("headers,kind", [
    ({"list-id": "<x>", "list-post": "<mailto:x@l>"}, "list"),
    ({"precedence": "list"}, "list"),
    ({"list-unsubscribe": "<mailto:u@x>"}, "newsletter"),
    ({"auto-submitted": "auto-replied"}, "notification"),
    ({"auto-submitted": "no"}, None),
    ({"precedence": "bulk"}, "notification"),
    ({"feedback-id": "1:2:3"}, "notification"),
    ({"x-ses-outgoing": "2020"}, "notification"),
    ({}, None),
])
def test_classify_headers(headers, kind):
    assert classify_headers(headers) == kind


@pytest.mark.parametrize("address,kind", [
    ("noreply@github.com", "role"), ("no-reply@accounts.google.com", "role"), ("notifications@x.io", "role"),
    ("fedora-devel-list-owner@redhat.com", "role"), ("mailer-daemon@x.com", "role"), ("jane.doe@x.com", None),
    ("information.desk.person@x.com", None),
])
def test_classify_sender(address, kind):
    assert classify_sender(address) == kind
