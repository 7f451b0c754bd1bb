"""The author's own words on real Enron replies and forwards, and phone numbers from signatures."""

from __future__ import annotations

import pytest

from inboxrel.pipelines.parse import parse_message
from inboxrel.signals.phones import extract_numbers, normalize_number
from inboxrel.signals.strip import split_body


def body_of(shared_data, rel: str) -> str:
    return parse_message((shared_data / "enron" / rel).read_bytes()).body


@pytest.mark.corpus
def test_outlook_and_lotus_reply_chain(shared_data):
    body = split_body(body_of(shared_data, "allen-p/maildir/sent_items/86."))
    assert body.own == ("Ina,\n\nCan you get a conference room on 32 for this meeting on Wednesday and let Becky "
                        "Cantrell know.\n\nthank you")
    authors = [(q.kind, q.author_name, q.author_email) for q in body.quoted]
    assert authors[:5] == [("reply", "Cantrell, Rebecca", None), ("reply", "Phillip K Allen", None),
                           ("reply", "Cantrell, Rebecca", None), ("forward", "James D Steffes", None),
                           ("forward", "Alan Comnes", None)]
    assert body.quoted[1].text.startswith("Becky,\n\nHow about Wednesday morning at 10:30 am?")


@pytest.mark.corpus
def test_original_message_blocks_keep_their_authors_and_signatures(shared_data):
    body = split_body(body_of(shared_data, "heard-m/maildir/sent_items/372."))
    assert body.own == ""
    assert [(q.author_email, q.signature) for q in body.quoted[:2]] == [
        ("billy.dixon@bp.com", "Billy Dixon"), ("marie.heard@enron.com", "Marie")]


@pytest.mark.corpus
def test_signature_block_with_numbers(shared_data):
    import os

    folder = shared_data / "enron" / "heard-m" / "maildir" / sorted(os.listdir(shared_data / "enron" / "heard-m" / "maildir"))[0]
    body = split_body(parse_message((folder / "1.").read_bytes()).body)
    assert body.signature.startswith("Marie Heard\nSenior Legal Specialist")
    assert [(n.e164, n.label) for n in extract_numbers(body.signature, body.own)] == [("+17138533907", "office")]


def test_quoted_greater_than_lines_and_wrote_header():
    text = ("Yes, Thursday works.\n\nOn Mon, May 13, 2024 at 4:00 PM Bob Jones <bob@beta.example> wrote:\n"
            "> Can we talk Thursday?\n>\n> Bob\n> Cell: (212) 504-6918\n")
    body = split_body(text)
    assert body.own == "Yes, Thursday works."
    assert [(q.author_name, q.author_email) for q in body.quoted] == [("Bob Jones", "bob@beta.example")]
    assert [n.e164 for n in extract_numbers(body.quoted[0].signature)] == ["+12125046918"]


def test_signoff_and_fax_and_regions():
    body = split_body("See you then.\n\nBest regards,\nAnna Schmidt\nTel +49 30 901820\nFax +49 30 901821\n")
    assert body.own == "See you then.\n\nBest regards,"
    assert [n.e164 for n in extract_numbers(body.signature, region="DE")] == ["+4930901820"]
    assert normalize_number("020 7946 0018", "GB") == "+442079460018"
    assert normalize_number("not a number") is None
    assert extract_numbers("", "call Sara at (713) 853-5620 about it") == []  # running text is not a signature
