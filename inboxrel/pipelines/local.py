"""Fetch stage for local mail: find the folders under a path and yield each message's raw bytes.

Formats: a Maildir (``cur``/``new``), a tree of Maildirs, mbox files, a folder of ``.eml`` files and the
Enron layout (folders of numbered files). Each folder reports a cheap ``state`` (mtimes and sizes) so an
unchanged folder is skipped without listing it, and each message has a stable ``key`` so a known file is
skipped without reading it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from inboxrel.errors import SourceError

SENT_NAMES = {
    "sent", "sent items", "sent_items", "sent mail", "sent_mail", "_sent_mail", "_sent", "sent messages",
    "[gmail]/sent mail", "[google mail]/sent mail", "sentmail", "outbox", "gesendet", "gesendete objekte",
    "envoyés", "elementos enviados", "inviata", "posta inviata", ".sent",
}
_MBOX_FROM = re.compile(rb"^From \S*.*\d\d:\d\d(:\d\d)?.*\d{4}\s*$")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?")
SKIP_DIRS = {"tmp", ".notmuch", ".git", "__pycache__"}
SKIP_FILES = {"MANIFEST.tsv", ".DS_Store", "dovecot.index", "dovecot.index.log", "dovecot.index.cache",
              "dovecot-uidlist", "dovecot-keywords", "dovecot.list.index", "dovecot.list.index.log",
              "subscriptions", "maildirfolder", "README.md", "README", "folders.tsv", "users.tsv"}


def is_sent_name(name: str) -> bool:
    """True when a folder name is one of the usual names of a sent folder."""
    low = name.strip().lower().replace("\\", "/")
    last = low.rsplit("/", 1)[-1].lstrip(".")
    return low in SENT_NAMES or last in SENT_NAMES or low.lstrip(".") in SENT_NAMES


@dataclass
class LocalFolder:
    name: str  # folder name inside the account, '/'-separated
    path: Path
    fmt: str  # maildir | mbox | files

    def state(self) -> str:
        """A cheap signature of the folder's content: equal signatures mean nothing changed."""
        if self.fmt == "mbox":
            st = self.path.stat()
            return json.dumps([st.st_size, st.st_mtime_ns])
        if self.fmt == "maildir":
            parts = []
            for sub in ("cur", "new"):
                try:
                    parts.append((self.path / sub).stat().st_mtime_ns)
                except FileNotFoundError:
                    parts.append(0)
            return json.dumps(parts)
        return json.dumps([self.path.stat().st_mtime_ns])


@dataclass
class RawItem:
    key: str  # stable id of this copy inside the folder
    path: str | None
    raw: bytes | None  # None when the file could not be read; error says why
    error: str | None = None


# Header fields nearly every stored message has; a file whose header block names none of them is not mail
# (/etc/passwd starts with "root:x:0:0:", which is a header line by syntax alone).
_MAIL_FIELDS = re.compile(
    rb"(?im)^(from|to|cc|date|subject|message-id|received|return-path|mime-version|delivered-to|reply-to|"
    rb"sender|in-reply-to|references|x-mailer|content-type|list-id|x-from|x-to):")


def read_regular(path: str | Path, limit: int = -1) -> bytes | None:
    """The first ``limit`` bytes (all with -1) of a regular file, or None for anything else.

    A FIFO, socket or device file in a mail folder would block a plain ``open`` forever (a FIFO waits for
    a writer) or never end (/dev/zero): it is opened non-blocking and skipped unless it is a regular file.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit)
    finally:
        os.close(fd)


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False  # a dangling symlink
    except OSError:
        return True  # unreadable: let the reader report it as a quarantined item


def _looks_like_message(path: Path) -> bool:
    try:
        head = read_regular(path, 2048)
    except OSError:
        return True  # unreadable: let the reader report it as a quarantined item
    if head is None:
        return False
    if head.startswith(b"From "):
        return True
    first = head.split(b"\n", 1)[0]
    if not _HEADER_LINE.match(first):
        return False
    block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    return bool(_MAIL_FIELDS.search(block))


MBOX_SUFFIXES = (".mbox", ".mbx")


def _is_multi_mbox(path: Path) -> bool:
    """An mbox holding more than one message (a single message with an envelope line is a message file)."""
    if not _is_mbox(path):
        return False
    try:
        data = read_regular(path, 64 * 1024 * 1024)
    except OSError:
        return False
    if data is None:
        return False
    return any(_MBOX_FROM.match(m.group(1)) for m in re.finditer(rb"\n\r?\n(From [^\r\n]*)", data))


def _is_mbox(path: Path) -> bool:
    if path.suffix.lower() in MBOX_SUFFIXES:
        return True
    try:
        first = (read_regular(path, 1000) or b"").split(b"\n", 1)[0]
    except OSError:
        return False
    return first.startswith(b"From ") and bool(_MBOX_FROM.match(first.rstrip(b"\r\n")))


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() or (path / "new").is_dir()


def discover_folders(root: str | Path) -> list[LocalFolder]:
    """Find every mail folder under ``root``; raise :class:`SourceError` when there is none."""
    root = Path(root).expanduser()
    if not root.exists():
        raise SourceError(f"{root} does not exist: give the path of a Maildir, an mbox file or a folder of .eml files")
    if not os.access(root, os.R_OK):
        raise SourceError(f"{root} is not readable: check its permissions")
    if not root.is_dir() and not root.is_file():
        raise SourceError(f"{root} is neither a folder nor a regular file (a pipe or a device?): give a Maildir, "
                          f"an mbox file or a folder of .eml files")
    if root.is_file():
        if _is_mbox(root):
            return [LocalFolder(root.stem, root, "mbox")]
        if _looks_like_message(root):
            return [LocalFolder(root.parent.name or "INBOX", root, "file")]
        raise SourceError(f"{root} is neither an mbox file nor an email message: give a Maildir, mbox or .eml path")
    found: list[LocalFolder] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        rel = here.relative_to(root).as_posix()
        dirnames.sort()
        if _is_maildir(here):
            name = "INBOX" if rel == "." else rel
            # Maildir++ subfolders live beside cur/new as .Name directories
            found.append(LocalFolder(_maildirpp_name(name), here, "maildir"))
            dirnames[:] = [d for d in dirnames if d not in ("cur", "new", "tmp")]
            continue
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".git")]
        candidates = [f for f in sorted(filenames) if f not in SKIP_FILES and not f.startswith(".")
                      and _is_regular(here / f)]
        prefix = "" if rel == "." else rel + "/"
        message_files = []
        for fname in candidates:
            fpath = here / fname
            # A few files in a folder may be mbox archives; in a big folder every file is one message,
            # so it is not opened here (an unchanged tree must be scanned without reading its files).
            if fpath.suffix.lower() in MBOX_SUFFIXES or (len(candidates) <= 5 and _is_multi_mbox(fpath)):
                if fpath.suffix.lower() in MBOX_SUFFIXES:
                    # Enron keeps sub-folders joined with '.' in mbox names (inbox.master_netting)
                    name = fpath.stem.replace(".", "/")
                else:
                    name = fpath.name
                found.append(LocalFolder(prefix + name, fpath, "mbox"))
            else:
                message_files.append(fname)
        if message_files and any(_looks_like_message(here / f) for f in message_files[:5]):
            found.append(LocalFolder("INBOX" if rel == "." else rel, here, "files"))
    if not found:
        raise SourceError(f"no mail found under {root}: expected a Maildir (cur/new), mbox files or message files")
    return found


def _maildirpp_name(name: str) -> str:
    parts = [p for p in name.split("/") if p]
    if parts and parts[-1].startswith(".") and len(parts[-1]) > 1:
        parts[-1] = parts[-1][1:].replace(".", "/")
    return "/".join(parts) or "INBOX"


def iter_items(folder: LocalFolder, known_keys: set[str] | frozenset[str] = frozenset()) -> Iterator[RawItem]:
    """Yield each message not already known; known files are skipped without being read."""
    if folder.fmt == "mbox":
        yield from _iter_mbox(folder.path, known_keys)
        return
    if folder.fmt == "file":
        yield from _read_files([(folder.path.name, folder.path)], known_keys)
        return
    if folder.fmt == "maildir":
        entries = []
        for sub in ("new", "cur"):
            d = folder.path / sub
            try:
                names = sorted(os.listdir(d))
            except FileNotFoundError:
                continue
            for fname in names:
                if fname.startswith("."):
                    continue
                entries.append((fname.split(":2,", 1)[0], d / fname))
        yield from _read_files(entries, known_keys)
        return
    names = sorted((n for n in os.listdir(folder.path)
                    if n not in SKIP_FILES and not n.startswith(".") and (folder.path / n).is_file()),
                   key=_natural_key)
    yield from _read_files([(n, folder.path / n) for n in names], known_keys)


def count_items(folder: LocalFolder) -> int | None:
    """How many messages the folder holds, cheaply (None for mbox, which needs reading)."""
    if folder.fmt == "maildir":
        return sum(len(os.listdir(folder.path / s)) for s in ("cur", "new") if (folder.path / s).is_dir())
    if folder.fmt == "files":
        return sum(1 for n in os.listdir(folder.path) if n not in SKIP_FILES and not n.startswith("."))
    if folder.fmt == "file":
        return 1
    return None


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _read_files(entries, known_keys) -> Iterator[RawItem]:
    for key, path in entries:
        if key in known_keys:
            continue
        try:
            raw = read_regular(path)
        except OSError as exc:
            yield RawItem(key, str(path), None, f"unreadable file: {exc.strerror or exc}")
            continue
        if raw is None:
            continue  # a FIFO, socket or device file: not a message, and reading it would hang
        if raw.startswith(b"From ") and b"\n" in raw[:1000]:
            # a single message saved with its mbox envelope line
            raw = raw.split(b"\n", 1)[1]
        yield RawItem(key, str(path), raw)


def _iter_mbox(path: Path, known_keys) -> Iterator[RawItem]:
    """Split an mbox on envelope lines (``From addr date``) after a blank line; un-escape ``>From``."""
    try:
        data = read_regular(path)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None
    if data is None:
        return
    starts = []
    pos = 0
    prev_blank = True
    for line in data.splitlines(keepends=True):
        if line.startswith(b"From ") and prev_blank and _MBOX_FROM.match(line.rstrip(b"\r\n")):
            starts.append(pos)
        prev_blank = line.strip() == b""
        pos += len(line)
    if not starts:
        # a single message saved with an .mbox name but no envelope line
        if "0" not in known_keys:
            yield RawItem("0", str(path), data)
        return
    starts.append(len(data))
    seen: dict[str, int] = {}
    for begin, end in zip(starts, starts[1:]):
        chunk = data[begin:end]
        body = chunk.split(b"\n", 1)[1] if b"\n" in chunk else b""
        body = re.sub(rb"(?m)^>(>*From )", rb"\1", body)
        digest = hashlib.sha1(body).hexdigest()
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        key = digest if n == 0 else f"{digest}.{n}"
        if key in known_keys:
            continue
        yield RawItem(key, f"{path}#{begin}", body)
