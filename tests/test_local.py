"""Finding folders and messages in local mail: Maildir trees, mbox files, .eml folders, the Enron layout."""

from __future__ import annotations

import shutil

import pytest

from inboxrel.db import open_store
from inboxrel.errors import SourceError
from inboxrel.pipelines.importer import folder_kind, import_path
from inboxrel.pipelines.local import discover_folders, is_sent_name, iter_items
from tests.conftest import FIXTURES

SMALL = FIXTURES / "mail" / "small"


def _mbox_from(paths) -> bytes:
    out = b""
    for p in paths:
        body = p.read_bytes().replace(b"\nFrom ", b"\n>From ")
        out += b"From sender@example.com Sat Dec  1 09:00:00 2001\n" + body + b"\n"
    return out


def test_maildir_tree(tmp_path):
    found = {(f.name, f.fmt) for f in discover_folders(SMALL)}
    assert found == {("Archive", "maildir"), ("INBOX", "maildir"), ("Sent", "maildir")}
    inbox = next(f for f in discover_folders(SMALL) if f.name == "INBOX")
    keys = [i.key for i in iter_items(inbox)]
    assert "2007.host" in keys and "2001.host" in keys  # flags after ':2,' are not part of the key
    assert [i.key for i in iter_items(inbox, known_keys=set(keys[:-1]))] == keys[-1:]


def test_mbox_file_with_escaped_from_lines(tmp_path):
    mbox = tmp_path / "archive.mbox"
    files = sorted((SMALL / "INBOX" / "cur").iterdir())[:3]
    body_with_from = b"Message-ID: <f@x>\nFrom: a@x.com\nTo: b@y.com\nDate: Mon, 1 Jan 2001 10:00:00 +0000\n\n" \
                     b"hello\nFrom here on it is tricky\n"
    (tmp_path / "m.eml").write_bytes(body_with_from)
    mbox.write_bytes(_mbox_from(files + [tmp_path / "m.eml"]))
    (tmp_path / "m.eml").unlink()
    [folder] = discover_folders(mbox)
    assert (folder.name, folder.fmt) == ("archive", "mbox")
    items = list(iter_items(folder))
    assert len(items) == 4
    assert items[3].raw.endswith(b"hello\nFrom here on it is tricky\n\n")


def test_eml_folder_and_single_file(tmp_path):
    d = tmp_path / "exported"
    d.mkdir()
    for i, p in enumerate(sorted((SMALL / "INBOX" / "cur").iterdir())):
        shutil.copy(p, d / f"{i}.eml")
    [folder] = discover_folders(d)
    assert (folder.name, folder.fmt) == ("INBOX", "files")
    assert len(list(iter_items(folder))) == 6
    [single] = discover_folders(d / "0.eml")
    assert single.fmt == "file" and len(list(iter_items(single))) == 1


def test_enron_layout(shared_data):
    folders = {f.name: f.fmt for f in discover_folders(shared_data / "enron" / "heard-m" / "maildir")}
    assert folders == {"all_documents": "files", "brokerage_agreements": "files", "deleted_items": "files",
                       "inbox": "files", "inbox/master_netting": "files", "sent": "files", "sent_items": "files"}
    mboxes = {f.name for f in discover_folders(shared_data / "enron" / "heard-m" / "mbox")}
    assert "inbox/master_netting" in mboxes


@pytest.mark.parametrize("name,sent", [("Sent", True), ("Sent Items", True), ("sent_items", True),
                                       ("_sent_mail", True), ("[Gmail]/Sent Mail", True), (".Sent", True),
                                       ("INBOX", False), ("sentiment", False), ("all_documents", False)])
def test_sent_folder_names(name, sent):
    assert is_sent_name(name) is sent
    assert folder_kind(name, []) == ("sent" if sent else "received")


def test_missing_and_unknown_paths(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        discover_folders(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no mail found"):
        discover_folders(tmp_path / "empty")


def test_new_file_in_a_folder_is_picked_up(tmp_path, now):
    mail = tmp_path / "mail"
    shutil.copytree(SMALL, mail)
    engine = open_store(f"sqlite:///{tmp_path / 's.db'}")
    import_path(engine, mail, now=now, me=["alice@example.org"])
    shutil.copy(SMALL / "Sent" / "cur" / "1001.host:2,S", mail / "INBOX" / "new" / "9999.host")
    (mail / "INBOX" / "new" / "9999.host").write_bytes(
        (SMALL / "Sent" / "cur" / "1001.host:2,S").read_bytes().replace(b"<a1@example.org>", b"<a9@example.org>")
        .replace(b"Subject: Budget", b"Subject: Budget again"))
    again = import_path(engine, mail, now=now)
    assert (again.new, again.skipped) == (1, 2)
