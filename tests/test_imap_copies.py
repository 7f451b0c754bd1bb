"""Copies of one message with different Message-IDs merge over IMAP as they do in a local import.

Enron's folders hold the same message several times (Lotus Notes and Outlook views: all_documents,
discussion_threads, sent, _sent_mail, ...), each copy with its own Message-ID and its own headers, so its
own size. A local import recognises them by the fingerprint over the decoded body; over IMAP only the
header and the start of the body text (``BODY.PEEK[TEXT]<0.2048>``) are fetched, and the fingerprint must
come out the same way.
"""

from __future__ import annotations

import shutil

import pytest

from inboxrel.db import open_store
from inboxrel.models import messages
from inboxrel.pipelines.imap import FetchedMessage, parse_fetched
from inboxrel.pipelines.importer import import_path
from inboxrel.pipelines.parse import parse_message
from tests.imap_support import NOW, count, sync
from tests.servers_imap import seed_enron

SKIPPED = {"deleted_items"}  # seeded as Trash, which an ingest never reads: left out of both sides


def _local_copy(shared, user, tmp_path):
    """The practice user's maildir without the folders an ingest does not read."""
    dest = tmp_path / user
    root = shared / "enron" / user / "maildir"
    shutil.copytree(root, dest, ignore=lambda d, names: [n for n in names if d == str(root) and n in SKIPPED])
    return dest


@pytest.mark.imap
@pytest.mark.parametrize("user", ["allen-p", "heard-m"])
def test_imap_and_files_give_the_same_distinct_count(dovecot, imap_user, shared_data, tmp_path, user):
    root = shared_data / "enron" / user / "maildir"
    wanted = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()
              and p.relative_to(root).parts[0] not in SKIPPED]
    seeded = seed_enron(dovecot, imap_user, shared_data, user, folders=wanted)
    over_imap = open_store(f"sqlite:///{tmp_path / 'imap.db'}")
    summary = sync(over_imap, dovecot, imap_user, signals=False)
    assert summary.error() is None
    assert summary.total("new") + summary.total("duplicates") == sum(seeded.values())

    from_files = open_store(f"sqlite:///{tmp_path / 'files.db'}")
    local = import_path(from_files, _local_copy(shared_data, user, tmp_path), now=NOW, account=user)
    assert local.quarantined == summary.total("quarantined") == 0
    assert local.new + local.duplicates == sum(seeded.values())

    n_imap, n_files = count(over_imap, messages), count(from_files, messages)
    assert n_imap == summary.total("new") and n_files == local.new
    assert abs(n_imap - n_files) <= 0.01 * n_files, (n_imap, n_files)
    if user == "allen-p":  # its folders are full of copies: the check must have had something to merge
        assert local.duplicates > 0.4 * (local.new + local.duplicates)


def _fetched(raw: bytes, uid: int) -> FetchedMessage:
    """What a header fetch returns for a file: the header, and the start of the text with CRLF line ends."""
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    cut = crlf.index(b"\r\n\r\n") + 4
    return FetchedMessage(uid, "", None, len(crlf), crlf[:cut], prefix=crlf[cut:cut + 2048])


def test_copies_with_other_ids_and_sizes_share_a_fingerprint_and_other_texts_do_not(shared_data):
    sent = shared_data / "enron" / "allen-p" / "maildir" / "_sent_mail"
    # two different forwards, same sender, second, subject and recipients: only the text tells them apart
    a, b = (sent / "572.").read_bytes(), (sent / "522.").read_bytes()
    pa, pb = (parse_fetched([_fetched(r, i)])[0][1] for i, r in enumerate((a, b)))
    assert (pa.from_, pa.date, pa.subject, pa.to) == (pb.from_, pb.date, pb.subject, pb.to)
    assert pa.fingerprint != pb.fingerprint
    assert parse_message(a).fingerprint != parse_message(b).fingerprint  # as the local import sees them

    # one message with another Message-ID and extra headers (another size): the same fingerprint
    head, _, body = a.partition(b"\n\n")
    copy = head.replace(b"Message-ID: <", b"Message-ID: <copy.") + b"\nX-Folder: \\Notes Folders\\Copies" \
        + b"\n\n" + body
    pc = parse_fetched([_fetched(copy, 3)])[0][1]
    assert pc.message_id != pa.message_id and pc.size != pa.size
    assert pc.fingerprint == pa.fingerprint
    # fetched with its body text (inside the body window), the fingerprint stays the header-and-prefix one
    with_text = _fetched(copy, 4)
    with_text.text = with_text.prefix + b"more text the window fetch brings"
    pt = parse_fetched([with_text])[0][1]
    assert pt.body is not None and pt.fingerprint == pa.fingerprint
