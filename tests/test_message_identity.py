"""A Message-ID match is a copy only when the content agrees: a reused or forged Message-ID is another message."""

from __future__ import annotations

from sqlalchemy import func, select

from inboxrel.db import open_store
from inboxrel.models import locations, messages
from inboxrel.pipelines.imap import FetchedMessage, parse_fetched
from inboxrel.pipelines.importer import import_path
from inboxrel.pipelines.parse import parse_message
from inboxrel.pipelines.save import Identity, same_message

MID = "<shared.1@example.org>"


def _mail(sender="bob@work.example", subject="Budget", body="The numbers are in.", mid=MID,
          date="Mon, 03 Dec 2001 10:00:00 +0000", to="alice@example.org") -> bytes:
    return (f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {date}\nMessage-ID: {mid}\n\n{body}\n").encode()


def _maildir(root, folders: dict[str, list[bytes]]):
    for folder, mails in folders.items():
        for sub in ("cur", "new", "tmp"):
            (root / folder / sub).mkdir(parents=True, exist_ok=True)
        for i, raw in enumerate(mails):
            (root / folder / "cur" / f"{i}.mail:2,S").write_bytes(raw)
    return root


def _counts(engine):
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(messages)).scalar(),
                conn.execute(select(func.count()).select_from(locations)).scalar())


def _run(sqlite_url, now, root):
    engine = open_store(sqlite_url)
    summary = import_path(engine, root, now=now, account="alice", me=["alice@example.org"])
    return engine, summary


def test_a_reused_message_id_on_another_message_is_two_messages(sqlite_url, now, tmp_path):
    forged = _mail(sender="mallory@evil.example", subject="Wire the money", body="Urgent: pay this invoice.")
    # in one batch (one folder) and across batches (another folder, imported after)
    root = _maildir(tmp_path / "mail", {"INBOX": [_mail(), forged], "Archive": [forged]})
    engine, summary = _run(sqlite_url, now, root)
    assert (summary.new, summary.duplicates) == (2, 1)
    assert _counts(engine) == (2, 3)
    with engine.connect() as conn:
        rows = conn.execute(select(messages.c.message_id, messages.c.subject)).all()
    assert sorted(tuple(r) for r in rows) == [("shared.1@example.org", "Budget"),
                                              ("shared.1@example.org", "Wire the money")]
    import_path(engine, root, now=now, account="alice", me=["alice@example.org"])  # a re-run adds nothing
    assert _counts(engine) == (2, 3)


def test_same_headers_but_another_body_is_another_message(sqlite_url, now, tmp_path):
    root = _maildir(tmp_path / "mail", {"INBOX": [_mail()], "Sent": [_mail(body="Something else entirely.")]})
    engine, summary = _run(sqlite_url, now, root)
    assert (summary.new, summary.duplicates) == (2, 0)


def test_true_copies_in_other_folders_are_one_message(sqlite_url, now, tmp_path):
    copy = _mail().replace(b"\n\n", b"\nX-Folder: Archive\nX-Copy: yes\n\n", 1)  # other headers, same content
    root = _maildir(tmp_path / "mail", {"INBOX": [_mail()], "Archive": [copy], "Old": [_mail()]})
    engine, summary = _run(sqlite_url, now, root)
    assert (summary.new, summary.duplicates) == (1, 2)
    assert _counts(engine) == (1, 3)


def _fetched(raw: bytes, uid: int = 1, prefix: bool = True) -> FetchedMessage:
    crlf = raw.replace(b"\n", b"\r\n")
    cut = crlf.index(b"\r\n\r\n") + 4
    return FetchedMessage(uid, "", None, len(crlf), crlf[:cut], prefix=crlf[cut:cut + 2048] if prefix else None)


def test_an_imap_header_fetch_and_a_file_of_one_message_are_copies_and_a_forgery_is_not():
    local = Identity.of(parse_message(_mail()))
    for prefix in (True, False):  # with the start of the text, or the headers alone
        remote = Identity.of(parse_fetched([_fetched(_mail(), prefix=prefix)])[0][1])
        assert remote.fingerprint != local.fingerprint  # each side fingerprints what it has
        assert same_message(remote, local) and same_message(local, remote)
        forged = Identity.of(parse_fetched([_fetched(_mail(sender="mallory@evil.example"), prefix=prefix)])[0][1])
        assert not same_message(forged, local)
    # two header fetches whose text starts differently are two messages; without the text they cannot tell
    a = Identity.of(parse_fetched([_fetched(_mail())])[0][1])
    b = Identity.of(parse_fetched([_fetched(_mail(body="Another text."))])[0][1])
    bare = Identity.of(parse_fetched([_fetched(_mail(body="Another text."), prefix=False)])[0][1])
    assert not same_message(a, b) and same_message(a, bare)
