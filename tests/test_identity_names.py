"""Reading names and matching them to addresses (pure functions), with the header forms Enron's files use."""

from __future__ import annotations

import pytest

from inboxrel.identity.names import (
    address_fits,
    clean_display,
    fill_names,
    name_fits,
    service_name,
    split_name,
    x_header_names,
)
from inboxrel.pipelines.parse import parse_message

ALLEN = split_name("Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>")
HEARD = split_name("Marie Heard")


def test_split_name_reads_both_orders_and_refuses_groups():
    assert (ALLEN.first, ALLEN.middles, ALLEN.last, ALLEN.text) == ("phillip", ("k",), "allen", "Allen, Phillip K.")
    assert split_name("Celedon-Renovato, Esther").last == "celedonrenovato"
    assert split_name("Williams III, Bill").last == "williams"
    for not_a_person in ("FoRK List", "Exmh Users Mailing List", "West Desk", "marie", "pallen@enron.com", ""):
        assert split_name(not_a_person) is None, not_a_person


@pytest.mark.parametrize("email,fit", [
    ("phillip.allen@enron.com", "full"), ("k..allen@enron.com", "full"), ("pallen@enron.com", "full"),
    ("pallen70@hotmail.com", "full"), ("phillip.k.allen@enron.com", "full"), ("pkallen@x.example", "full"),
    ("gallen@thermon.com", "surname"), ("randall.allen@x.example", "surname"), ("allen@x.example", "surname"),
    (".phillip@enron.com", "first"), ("phillip@x.example", "first"), ("ina.rangel@enron.com", None),
])
def test_address_fits_allen(email, fit):
    assert address_fits(email, ALLEN) == fit


@pytest.mark.parametrize("email,fit", [
    ("marie.heard@enron.com", "full"), ("mheard@ect.enron.com", "full"), ("a-mheard@houston.rr.com", "full"),
    ("anne_heard@ryderscott.com", "surname"), ("jheard@kcom.edu", "surname"), ("reheard_2000@yahoo.com", "surname"),
    ("marie_korkmas@enron.com", None),
])
def test_address_fits_heard(email, fit):
    assert address_fits(email, HEARD) == fit


def test_name_fits():
    assert name_fits("phillip allen", ALLEN) == "full"
    assert name_fits("P. Allen", ALLEN) == "full"
    assert name_fits("Allen, Thresa A.", ALLEN) == "surname"
    assert name_fits("Ina Rangel", ALLEN) is None


def test_x_header_entries_and_names_for_the_to_addresses():
    x_to = ("Cash, Michelle </O=ENRON/OU=NA/CN=RECIPIENTS/CN=MCASH>, sheri.a.righi@accenture.com, "
            "Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>")
    assert x_header_names(x_to) == [("Cash, Michelle", None), ("Allen, Phillip K.", None)]
    assert x_header_names('"mary richards" <maryrichards7@hotmail.com> @ ENRON') == \
        [("mary richards", "maryrichards7@hotmail.com")]
    assert x_header_names("Mike Grigsby, Keith Holst") == [("Mike Grigsby", None), ("Keith Holst", None)]
    pairs = [("", "michelle.cash@enron.com"), ("", "sheri.a.righi@accenture.com"), ("", "k..allen@enron.com")]
    assert fill_names(pairs, x_to) == [("Cash, Michelle", "michelle.cash@enron.com"),
                                       ("", "sheri.a.righi@accenture.com"),
                                       ("Allen, Phillip K.", "k..allen@enron.com")]
    # two entries fit bill.williams@: the one with exactly his words wins
    both = "Williams III, Bill </O=ENRON/CN=Bwillia5>, Williams, Bill </O=ENRON/CN=Bwillia>"
    assert fill_names([("", "bill.williams@enron.com")], both) == [("Williams, Bill", "bill.williams@enron.com")]
    # a name already in the To line is kept
    assert fill_names([("Mike", "mike.grigsby@enron.com")], "Grigsby, Mike </O=ENRON/CN=M>") == \
        [("Mike", "mike.grigsby@enron.com")]


def test_clean_display_and_service_names():
    assert clean_display('"Jeff Smith" <jsmith@austintx.com>@ENRON') == "Jeff Smith"
    assert clean_display("Phillip Allen - Home (email) <pallen70@hotmail.com>") == "Phillip Allen"
    assert service_name("jira@corp.example", {"Ana Lopez (Jira)": 3, "Bo Chen (Jira)": 2}) == "Jira"
    assert service_name("notifications@codehub.example", {"Ravi Shah": 2, "Ana Lopez": 1}) == "codehub.example"


def test_the_parser_takes_names_from_x_headers_when_the_standard_ones_have_none():
    raw = (b"Message-ID: <1@x>\nDate: Thu, 1 Nov 2001 06:25:34 -0800 (PST)\nFrom: k..allen@enron.com\n"
           b"To: renee.ratcliff@enron.com, jsmith@austintx.com\nCc: mike.grigsby@enron.com\nSubject: x\n"
           b"X-From: Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>\n"
           b"X-To: Ratcliff, Renee </O=ENRON/OU=NA/CN=RECIPIENTS/CN=Rratcli>, jsmith@austintx.com\n"
           b"X-cc: Mike Grigsby\n\nbody\n")
    p = parse_message(raw)
    assert p.from_ == ("Allen, Phillip K.", "k..allen@enron.com")
    assert p.to == [("Ratcliff, Renee", "renee.ratcliff@enron.com"), ("", "jsmith@austintx.com")]
    assert p.cc == [("Mike Grigsby", "mike.grigsby@enron.com")]
