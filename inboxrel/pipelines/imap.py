"""Fetch stage for IMAP: connect, log in, list folders, and fetch UIDs, flags, headers and bodies, read-only.

Everything here leaves the user's mailbox exactly as it was: folders are opened with EXAMINE (read-only
select) and message data is fetched with ``BODY.PEEK``, which never sets ``\\Seen``. No command that changes
a flag, a message or a folder is ever sent.

imapclient does the connection, TLS, login, LIST, STATUS and EXAMINE. The bulk commands (``UID SEARCH``,
``UID FETCH`` of flags, headers and body text) go through the imaplib connection inside it and are parsed
here, because imapclient's general response parser is about 85% of a header fetch's time (15k msg/s against
80k msg/s for imaplib over loopback) and imapclient 4.1 refuses UID ranges such as ``1:*``. Responses that
do not have the usual shape fall back to imapclient's parser.

Low-level failures are re-raised as the named errors of :mod:`inboxrel.errors`: a dropped connection or a
timeout as :class:`ConnectionLost` (the caller reconnects and resumes), a refused login as ``AuthError``,
an unreachable server or an untrusted certificate as ``UnreachableError``, a command the server refuses
for one folder as :class:`FolderError`.
"""

from __future__ import annotations

import imaplib
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import wraps

from inboxrel.errors import AuthError, InboxrelError, UnreachableError
from inboxrel.pipelines.parse import (
    HEADER_FIELDS,
    TEXT_PREFIX_BYTES,
    ParsedMessage,
    ParseError,
    build_fingerprint,
    parse_message,
)

# What a header fetch asks for (account setting ``header_fetch``). "whole": the whole header, which a server
# such as Dovecot sends straight from the file (asked for 25 named fields, it parses each message and
# writes every field to its cache: 1.5-2x the server CPU on a first sync). "fields": what the parser needs,
# plus the MIME fields that let a later body-text fetch be decoded: about a quarter of the bytes.
FETCH_HEADER_FIELDS = (*HEADER_FIELDS, "mime-version", "content-transfer-encoding")
HEADER_ITEMS = {
    "whole": "BODY.PEEK[HEADER]",
    "fields": "BODY.PEEK[HEADER.FIELDS ({})]".format(" ".join(f.upper() for f in FETCH_HEADER_FIELDS)),
}

SPECIAL_USES = ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash", "\\Important")
SKIPPED_USES = {"\\Junk": "junk", "\\Trash": "trash", "\\Drafts": "drafts", "\\Flagged": "virtual (flagged)",
                "\\Important": "virtual (important)"}
SESSION_FLAGS = {"\\Recent"}  # per-session state, not part of the mailbox

_UID = re.compile(rb"\bUID (\d+)")
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_INTERNALDATE = re.compile(rb'\bINTERNALDATE "([^"]*)"')
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_MESSAGE_ID = re.compile(rb"(?im)^message-id:\s*<([^<>\s]+)>")
_LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
_FETCH_LINE = re.compile(rb"^\* \d+ FETCH ", re.I)
_MAX_LINE = 10_000_000
_TEXT_ITEM = re.compile(rb"BODY\[TEXT\]", re.I)
_KEY_FIELD = re.compile(rb"(?im)^(from|sender|to|cc|date|message-id|subject):")


class ConnectionLost(UnreachableError):
    """Raised when an established connection drops or times out; the sync reconnects and resumes."""


class FolderError(InboxrelError):
    """Raised when the server refuses a command for one folder (it vanished, or cannot be selected)."""


@dataclass
class RemoteFolder:
    """A folder as LISTed by the server."""

    name: str
    flags: tuple[str, ...]
    delimiter: str | None = None

    @property
    def special_use(self) -> str | None:
        return next((f for f in self.flags if f in SPECIAL_USES), None)

    @property
    def selectable(self) -> bool:
        low = {f.lower() for f in self.flags}
        return "\\noselect" not in low and "\\nonexistent" not in low


@dataclass
class FolderStatus:
    """The numbers that say whether a folder changed: STATUS or EXAMINE answers."""

    uidvalidity: int
    uidnext: int | None
    messages: int
    highestmodseq: int | None = None


@dataclass(slots=True)
class FetchedMessage:
    """One message's UID, flags, INTERNALDATE, size and the header fields (and body text when asked)."""

    uid: int
    flags: str
    internaldate: str | None
    size: int
    header: bytes
    text: bytes | None = None  # the start of the body text, when fetched (body window)
    raw: bytes | None = None  # the start of the whole message, fetched when the header fields look unusable
    prefix: bytes | None = None  # the first TEXT_PREFIX_BYTES of the body text, for the fingerprint

    @property
    def looks_unusable(self) -> bool:
        """True when none of the fields the parser needs came back (the message will be quarantined)."""
        return _KEY_FIELD.search(self.header) is None

    @property
    def received_at(self) -> datetime | None:
        """INTERNALDATE as an aware UTC datetime (parsed only when needed: most messages never ask)."""
        if not self.internaldate:
            return None
        try:
            return datetime.strptime(self.internaldate.strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(timezone.utc)
        except ValueError:
            return None

    def received_since(self, start: datetime) -> bool:
        """True when INTERNALDATE is at or after ``start`` (a cheap year check first: most mail is older)."""
        date = (self.internaldate or "").strip()
        year = date[7:11] if len(date) > 11 and date[6] == "-" else date[6:10]
        if year.isdigit() and int(year) < start.year - 1:
            return False
        when = self.received_at
        return when is not None and when >= start

    @property
    def message_id(self) -> str | None:
        """The Message-ID in the fetched header (as the parser reads it in the usual ``<id>`` form)."""
        m = _MESSAGE_ID.search(self.header)
        return m.group(1).decode("ascii", "replace") if m else None


@dataclass
class Credential:
    """A username and the secret to log in with; the secret never appears in ``repr``."""

    username: str
    secret: str = field(repr=False)
    mechanism: str = "password"  # password | xoauth2
    source: str = ""  # where the secret came from, for messages ("password command `pass`")


def _network_errors(method):
    """Turn socket and protocol failures of an open session into ConnectionLost / FolderError."""

    @wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except InboxrelError:
            raise
        except imaplib.IMAP4.abort as exc:  # imapclient's abort errors subclass this too
            self.broken = True
            raise ConnectionLost(f"connection to {self.where} lost: {_clean(exc, self.credential.secret)}") from None
        except (OSError, EOFError) as exc:  # socket errors, timeouts, TLS errors after the handshake
            self.broken = True
            what = "timed out" if isinstance(exc, TimeoutError) else f"lost ({_clean(exc, self.credential.secret)})"
            raise ConnectionLost(f"connection to {self.where} {what}") from None
        except imaplib.IMAP4.error as exc:  # NO/BAD for a command: the folder, not the connection
            raise FolderError(f"{self.where}: the server refused {method.__name__.replace('_', ' ')}: "
                              f"{_clean(exc, self.credential.secret)}") from None

    return wrapper


def _clean(exc: BaseException, secret: str | None = None) -> str:
    """An exception as one short line, with the secret masked should a server ever echo it."""
    text = str(exc) or type(exc).__name__
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    # imaplib appends the raw protocol line it choked on ("unterminated line: b'* 13 FETCH ...'"): noise
    text = re.sub(r"^command: \w+ => ", "", text)
    text = re.sub(r":? *(unterminated line:)? *b['\"].*$", "", text, flags=re.S)
    if secret and secret in text:
        text = text.replace(secret, "***")
    return text[:300]


def build_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying TLS context: the system CAs, or only ``ca_file`` for a self-signed server."""
    try:
        return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    except (OSError, ssl.SSLError) as exc:
        raise UnreachableError(f"cannot read the CA file {ca_file}: {getattr(exc, 'strerror', None) or exc}; "
                               f"fix ca_file in the account's config") from None


class ImapSession:
    """A logged-in connection; methods map one-to-one on the IMAP commands the sync needs."""

    def __init__(self, client, where: str, credential: Credential, header_fetch: str = "whole"):
        self.client = client
        self.header_item = HEADER_ITEMS[header_fetch]
        self.imap = client._imap  # the imaplib connection inside imapclient, for the bulk commands
        self.where = where
        self.credential = credential
        self.broken = False
        caps = {c.decode().upper() for c in client.capabilities()}
        self.capabilities = caps
        self.condstore = "CONDSTORE" in caps or "QRESYNC" in caps
        self.qresync = False
        if "ENABLE" in caps and self.condstore:
            # ENABLE must come before the first SELECT, or SELECT answers without HIGHESTMODSEQ
            wanted = ["CONDSTORE", "QRESYNC"] if "QRESYNC" in caps else ["CONDSTORE"]
            enabled = {e.decode().upper() for e in client.enable(*wanted)}
            self.qresync = "QRESYNC" in enabled
        self.selected: str | None = None

    # -- folders -----------------------------------------------------------------------------------------
    @_network_errors
    def list_folders(self) -> list[RemoteFolder]:
        """Every folder with its flags (SPECIAL-USE flags included when the server has them)."""
        out = []
        for flags, delim, name in self.client.list_folders():
            out.append(RemoteFolder(str(name), tuple(_text(f) for f in flags),
                                    _text(delim) if delim else None))
        if "SPECIAL-USE" in self.capabilities and not any(f.special_use for f in out):
            # some servers name the special folders only when asked (RFC 6154 "RETURN (SPECIAL-USE)")
            extra = self._special_use_flags()
            for f in out:
                f.flags = tuple(dict.fromkeys(f.flags + extra.get(f.name, ())))
        return out

    def _special_use_flags(self) -> dict[str, tuple[str, ...]]:
        typ, data = self.imap._simple_command("LIST", '""', '"*"', "RETURN (SPECIAL-USE)")
        typ, data = self.imap._untagged_response(typ, data, "LIST")
        if typ != "OK":
            return {}
        return {str(name): tuple(_text(f) for f in flags)
                for flags, _delim, name in self.client._proc_folder_list(data)}

    @_network_errors
    def folder_status(self, name: str) -> FolderStatus:
        """STATUS: cheap, no SELECT; enough to see that nothing changed."""
        items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY"] + (["HIGHESTMODSEQ"] if self.condstore else [])
        st = self.client.folder_status(name, items)
        return FolderStatus(uidvalidity=int(st[b"UIDVALIDITY"]), uidnext=_int(st.get(b"UIDNEXT")),
                            messages=int(st.get(b"MESSAGES", 0)), highestmodseq=_int(st.get(b"HIGHESTMODSEQ")))

    @_network_errors
    def examine(self, name: str) -> FolderStatus:
        """Open a folder read-only (EXAMINE): nothing in it can change through this session."""
        resp = self.client.select_folder(name, readonly=True)
        self.selected = name
        return FolderStatus(uidvalidity=int(resp[b"UIDVALIDITY"]), uidnext=_int(resp.get(b"UIDNEXT")),
                            messages=int(resp.get(b"EXISTS", 0)), highestmodseq=_int(resp.get(b"HIGHESTMODSEQ")))

    # -- bulk commands over imaplib ----------------------------------------------------------------------
    def _uid(self, command: str, *args: str) -> list:  # SEARCH through imaplib
        typ, data = self.imap.uid(command, *args)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"UID {command} answered {typ}: {_text(data[0]) if data else ''}")
        return [d for d in data if d is not None]

    @_network_errors
    def fetch_uids(self, first: int = 1, last: int | None = None) -> list[int]:
        """UIDs in ``first:last`` (``last`` None = to the end) that exist now, ascending."""
        data = self._uid("SEARCH", f"UID {first}:{last if last else '*'}")
        self.imap.untagged_responses.pop("FETCH", None)
        uids = sorted({int(x) for chunk in data for x in chunk.split()})
        # "UID n:*" always matches the last message, even when its UID is below n
        return [u for u in uids if u >= first and (last is None or u <= last)]

    def _fetch(self, uid_set: str, items: str, modifiers: str | None = None) -> tuple[list, list[bytes]]:
        """Run ``UID FETCH`` and read its responses straight off the connection.

        Returns ([(response text, [(text before the literal, literal)])] of the FETCH responses, [other
        untagged lines]); the response text has the literals cut out.
        imaplib's own reader spends ~45 µs a message (it formats every line for a debug log, and
        rescans its state for each); reading lines and literals here is several times cheaper, and a
        header fetch is tens of thousands of messages.
        """
        imap = self.imap
        tag = imap._command("UID", "FETCH", uid_set, items, modifiers)
        readline, read = imap.file.readline, imap.file.read
        fetches: list[tuple[bytes, list[tuple[bytes, bytes]]]] = []
        others: list[bytes] = []
        while True:
            line = readline(_MAX_LINE)
            if not line.endswith(b"\r\n"):  # the connection ended, maybe half-way through a line
                raise imaplib.IMAP4.abort("socket error: line too long" if len(line) >= _MAX_LINE
                                          else "socket error: EOF")
            literals: list[tuple[bytes, bytes]] = []
            m = _LITERAL.search(line)
            if m:  # a literal: its bytes, then the rest of the response (one literal per item we ask for)
                parts = [line[:m.start()]]
                while m:
                    n = int(m.group(1))
                    data = read(n)
                    if len(data) < n:
                        raise imaplib.IMAP4.abort("socket error: EOF")
                    literals.append((parts[-1], data))
                    line = readline(_MAX_LINE)
                    if not line.endswith(b"\r\n"):
                        raise imaplib.IMAP4.abort("socket error: EOF")
                    m = _LITERAL.search(line)
                    parts.append(line[:m.start()] if m else line)
                line = b"".join(parts)
            text = line[:-2] if line.endswith(b"\r\n") else line
            if text.startswith(tag + b" "):
                imap.tagged_commands.pop(tag, None)
                status, _, rest = text[len(tag) + 1:].partition(b" ")
                if status != b"OK":
                    raise imaplib.IMAP4.error(f"UID FETCH answered {status.decode()}: {_text(rest)}")
                return fetches, others
            if text.startswith(b"* BYE"):
                raise imaplib.IMAP4.abort(f"the server closed the connection: {_text(text[5:]).strip()}")
            if _FETCH_LINE.match(text):
                fetches.append((text, literals))
            else:
                others.append(text)

    @_network_errors
    def fetch_flags(self, last_uid: int, changedsince: int | None = None) -> tuple[dict[int, str], set[int] | None]:
        """Flags of UIDs ``1:last_uid`` (only those changed since a MODSEQ when given).

        Returns ({uid: flags}, vanished): ``vanished`` is the set of UIDs expunged since ``changedsince``
        when QRESYNC is on, else None (unknown).
        """
        modifiers = None
        if changedsince is not None:
            modifiers = f"(CHANGEDSINCE {changedsince}{' VANISHED' if self.qresync else ''})"
        fetches, others = self._fetch("1:%d" % last_uid, "(UID FLAGS)", modifiers)
        out = _flags_of(fetches)
        vanished = None
        if changedsince is not None and self.qresync:
            vanished = set()
            for line in others:
                if line.upper().startswith(b"* VANISHED"):
                    text = _text(line[10:]).replace("(EARLIER)", "").strip()
                    vanished |= {u for u in parse_uid_set(text) if u <= last_uid}
        return out, vanished

    @_network_errors
    def fetch_flags_of(self, uids: list[int]) -> dict[int, str]:
        """Flags of the given UIDs (those that still exist)."""
        if not uids:
            return {}
        wanted = set(uids)
        return {u: f for u, f in _flags_of(self._fetch(build_uid_set(uids), "(UID FLAGS)")[0]).items()
                if u in wanted}

    @_network_errors
    def fetch_headers(self, uids: list[int]) -> list[FetchedMessage]:
        """UID, FLAGS, INTERNALDATE, RFC822.SIZE and the header fields of ``uids`` (BODY.PEEK: no \\Seen)."""
        if not uids:
            return []
        fetches, _ = self._fetch(build_uid_set(uids), f"(UID FLAGS INTERNALDATE RFC822.SIZE {self.header_item} "
                                                      f"BODY.PEEK[TEXT]<0.{TEXT_PREFIX_BYTES}>)")
        wanted = set(uids)
        out = []
        for meta, literals in fetches:
            m_uid = _UID.search(meta)
            if not m_uid or int(m_uid.group(1)) not in wanted:
                continue  # an unsolicited FETCH (another client changed flags)
            literal = prefix = None
            for before, data in literals:
                if _TEXT_ITEM.search(before):
                    prefix = data
                elif literal is None:
                    literal = data
            if prefix is None and _TEXT_ITEM.search(meta):
                prefix = b""  # an empty text comes as "" or NIL, not as a literal
            m_flags, m_size, m_date = _FLAGS.search(meta), _SIZE.search(meta), _INTERNALDATE.search(meta)
            if not (m_flags and m_size) or literal is None:
                fm = _fetch_fallback(meta, literal)
                if fm is not None:
                    out.append(fm)
                continue
            out.append(FetchedMessage(
                uid=int(m_uid.group(1)), flags=_flag_text(m_flags.group(1)),
                internaldate=m_date.group(1).decode("ascii", "replace") if m_date else None,
                size=int(m_size.group(1)), header=literal, prefix=prefix))
        out.sort(key=lambda m: m.uid)
        return out

    @_network_errors
    def fetch_texts(self, uids: list[int], max_bytes: int) -> dict[int, bytes]:
        """The first ``max_bytes`` of each message's body text (``BODY.PEEK[TEXT]<0.max>``: no \\Seen)."""
        return self._literals(uids, f"(UID BODY.PEEK[TEXT]<0.{int(max_bytes)}>)")

    @_network_errors
    def fetch_prefixes(self, uids: list[int], max_bytes: int) -> dict[int, bytes]:
        """The first ``max_bytes`` of each whole message (``BODY.PEEK[]<0.max>``), for the quarantine."""
        return self._literals(uids, f"(UID BODY.PEEK[]<0.{int(max_bytes)}>)")

    @_network_errors
    def fetch_field(self, uids: list[int], field: str) -> dict[int, bytes]:
        """One header field of each message (``BODY.PEEK[HEADER.FIELDS (FIELD)]``)."""
        return self._literals(uids, f"(UID BODY.PEEK[HEADER.FIELDS ({field.upper()})])")

    def _literals(self, uids: list[int], items: str) -> dict[int, bytes]:
        if not uids:
            return {}
        wanted = set(uids)
        out = {}
        for meta, literals in self._fetch(build_uid_set(uids), items)[0]:
            m_uid = _UID.search(meta)
            if m_uid and int(m_uid.group(1)) in wanted and literals:
                out[int(m_uid.group(1))] = literals[0][1]
        return out

    def logout(self) -> None:
        """Log out politely; a connection that is already broken is just closed."""
        try:
            if not self.broken:
                self.client.logout()
            else:
                self.client.shutdown()
        except Exception:  # closing a dead connection: nothing left to do
            try:
                self.client.shutdown()
            except Exception:
                pass


# What a pathological message (deep MIME nesting, a broken charset) raises from the email package: it must
# cost that message, not the run.
_BROKEN = (ParseError, RecursionError, MemoryError, LookupError, ValueError, TypeError, AttributeError)


def parse_fetched(fetched: list[FetchedMessage], signals: bool = False, region: str = "US"
                  ) -> list[tuple[int, ParsedMessage | None, str | None]]:
    """(uid, parsed, None) or (uid, None, quarantine reason) for each fetched message (pure; runs in a worker).

    The header fields and the start of the body text (``FetchedMessage.prefix``) give the message and its
    fingerprint; when body text was fetched too, the message is parsed again with it for the body, keeping
    that fingerprint so that copies fetched with and without body text are still recognised as the same
    message. With ``signals``, the text signals of the bodies are computed
    here too (``ParsedMessage.signals``), in the worker rather than in the process that writes the store.
    """
    out: list[tuple[int, ParsedMessage | None, str | None]] = []
    for m in fetched:
        header = m.header if m.header.endswith((b"\r\n\r\n", b"\n\n")) else m.header + b"\r\n"
        try:
            p = parse_message(header, headers_only=True, size=m.size)
        except _BROKEN as exc:
            reason = str(exc) if isinstance(exc, ParseError) else f"unparseable header: {type(exc).__name__}"
            if m.raw is not None:  # the whole header says more than the fields we asked for
                try:
                    parse_message(m.raw, headers_only=True, size=m.size)
                except ParseError as whole:
                    reason = str(whole)
                except _BROKEN:
                    pass
            out.append((m.uid, None, reason))
            continue
        prefix = m.prefix if m.prefix is not None else m.text
        if prefix is not None:
            p.fingerprint = build_fingerprint(p, prefix[:TEXT_PREFIX_BYTES])
        if m.text is not None:
            try:
                full = parse_message(header + m.text, size=m.size)
                full.fingerprint = p.fingerprint
                p = full
            except _BROKEN:
                pass  # the headers are good; the body stays unknown
        out.append((m.uid, p, None))
    if signals and any(p is not None and p.body is not None for _, p, _ in out):
        from inboxrel.signals.text import attach_text_signals

        try:
            attach_text_signals([p for _, p, _ in out], region)
        except Exception:  # the store side runs the signals again and reports what fails there
            pass
    return out


def _flags_of(fetches: list[tuple[bytes, list]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for meta, _literals in fetches:
        m_uid, m_flags = _UID.search(meta), _FLAGS.search(meta)
        if m_uid and m_flags:
            out[int(m_uid.group(1))] = _flag_text(m_flags.group(1))
    return out


def _fetch_fallback(meta: bytes, literal: bytes | None) -> FetchedMessage | None:
    """Parse an unusually shaped FETCH response with imapclient's general parser."""
    from imapclient.response_parser import parse_fetch_response

    raw = [(meta, literal)] if literal is not None else [meta]
    try:
        parsed = parse_fetch_response(raw, normalise_times=False, uid_is_key=True)
    except Exception:
        return None
    for uid, d in parsed.items():
        header = next((v for k, v in d.items() if k.startswith(b"BODY[HEADER")), None)
        if header is None or b"RFC822.SIZE" not in d:
            return None
        date = d.get(b"INTERNALDATE")
        return FetchedMessage(uid=int(uid), flags=" ".join(sorted(_text(f) for f in d.get(b"FLAGS", ())
                                                                   if _text(f) not in SESSION_FLAGS)),
                              internaldate=date.strftime("%d-%b-%Y %H:%M:%S %z") if date else None,
                              size=int(d[b"RFC822.SIZE"]), header=header or b"")
    return None


def _flag_text(raw: bytes) -> str:
    return " ".join(sorted(f for f in raw.decode("utf-8", "replace").split() if f not in SESSION_FLAGS))


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _int(value) -> int | None:
    return int(value) if value is not None else None


def build_uid_set(uids: Iterable[int]) -> str:
    """'1:3,7,9:10' from UIDs: a compact sequence set keeps commands far below servers' line limits."""
    parts = []
    start = prev = None
    for u in sorted(set(uids)):
        if start is None:
            start = prev = u
        elif u == prev + 1:
            prev = u
        else:
            parts.append(f"{start}:{prev}" if prev != start else str(start))
            start = prev = u
    if start is not None:
        parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def parse_uid_set(text: str) -> set[int]:
    """The UIDs of a sequence set such as '1:3,7' ('*' is not expected here)."""
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if ":" in part:
            a, b = part.split(":", 1)
            lo, hi = sorted((int(a), int(b)))
            out.update(range(lo, hi + 1))
        else:
            out.add(int(part))
    return out


_STEP = threading.local()  # the connecting thread's StepDeadline, which the sockets imapclient opens join


class _SocketModule:
    """``socket`` as imapclient's modules see it: the connections they open join the thread's StepDeadline."""

    def __getattr__(self, name):
        return getattr(socket, name)

    @staticmethod
    def create_connection(address, *args, **kwargs):
        sock = socket.create_connection(address, *args, **kwargs)
        step = getattr(_STEP, "deadline", None)
        if step is not None:
            step.watch(sock)
        return sock


def _watch_imapclient_sockets() -> None:
    from imapclient import imap4, tls

    imap4.socket = tls.socket = _SocketModule()


class StepDeadline:
    """An overall deadline for one step of a connection (connect and greeting, login): a socket timeout
    bounds each wait for a byte, but a server that trickles its greeting a byte at a time never trips it.
    When ``seconds`` pass, the step's socket is shut down, so whatever reads from it fails at once."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> StepDeadline:
        _STEP.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        _STEP.deadline = None


def fetch_session(account, credential: Credential, *, timeout: float = 60.0,
                  waiting: Callable[[str], None] | None = None) -> ImapSession:
    """Connect (TLS as configured, certificate verified), log in, ENABLE CONDSTORE/QRESYNC; return a session.

    Raises ``AuthError`` when the login is refused, ``UnreachableError`` when the server cannot be reached or
    its certificate is not trusted, :class:`ConnectionLost` for a failure worth retrying. Connecting (with
    the greeting and STARTTLS) and logging in each have ``timeout`` seconds in all (:class:`StepDeadline`),
    and ``waiting`` is told what the session waits for at each step.
    """
    from imapclient import IMAPClient

    tls = account.tls or "ssl"
    port = account.port or (993 if tls == "ssl" else 143)
    where = f"{account.host}:{port}"
    if not account.host:
        raise UnreachableError(f"account {account.name!r} has no host: set it with `inboxrel account add`")
    if tls == "none" and account.host not in ("127.0.0.1", "localhost", "::1"):
        raise UnreachableError(f"account {account.name!r}: tls = \"none\" would send the password in clear to "
                               f"{account.host}; use tls = \"ssl\" or \"starttls\"")
    ctx = build_ssl_context(account.ca_file) if tls != "none" else None
    _watch_imapclient_sockets()
    if waiting:
        waiting(f"connecting to {where}")
    step = StepDeadline(timeout)
    try:
        with step:
            client = IMAPClient(account.host, port=port, ssl=tls == "ssl", ssl_context=ctx, timeout=timeout)
            client._imap.debug = 0  # imapclient turns on imaplib's per-line debug formatting: slow, not needed
            if tls == "starttls":
                if not client.has_capability("STARTTLS"):
                    client.shutdown()
                    raise UnreachableError(f"{where} does not offer STARTTLS: use tls = \"ssl\" (usually port 993)")
                client.starttls(ctx)
    except InboxrelError:
        raise
    except Exception as exc:
        if step.fired:
            raise ConnectionLost(f"cannot connect to {where}: no greeting within {round(timeout, 1):g} s") from None
        _connect_error(exc, account, where)
    return _login(client, account, credential, where, timeout, waiting)


def _connect_error(exc: Exception, account, where: str):
    """Raise the error for a connection that failed before the login."""
    try:
        raise exc
    except ssl.SSLCertVerificationError as exc:
        hint = (f"is {account.ca_file} the CA that signed it?" if account.ca_file
                else "for a self-signed server pass --ca-file with its certificate")
        raise UnreachableError(f"TLS certificate of {where} is not trusted ({exc.verify_message}): {hint}") from None
    except ssl.SSLError as exc:
        raise UnreachableError(f"TLS with {where} failed ({exc.reason or exc}): check the port and the tls "
                               f"setting (\"ssl\" for 993, \"starttls\" for 143)") from None
    except socket.gaierror as exc:
        raise ConnectionLost(f"cannot resolve {account.host} ({exc.strerror}): check the host name") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        what = "timed out" if isinstance(exc, TimeoutError) else (getattr(exc, "strerror", None) or _clean(exc))
        raise ConnectionLost(f"cannot connect to {where}: {what}") from None


def _login(client, account, credential: Credential, where: str, timeout: float,
           waiting: Callable[[str], None] | None) -> ImapSession:
    from imapclient.exceptions import LoginError

    session_where = f"{account.host} ({account.name})"
    if waiting:
        waiting(f"logging in to {where}")
    step = StepDeadline(timeout)
    step.watch(client.socket())
    try:
        with step:
            if credential.mechanism == "xoauth2":
                client.oauth2_login(credential.username, credential.secret)
            else:
                client.login(credential.username, credential.secret)
    except LoginError as exc:
        if step.fired:
            raise ConnectionLost(f"{where} did not answer the login within {round(timeout, 1):g} s") from None
        client.shutdown()
        msg = _clean(exc, credential.secret)
        raise AuthError(f"{account.host} refused the login of {credential.username!r} ({msg}): check the "
                        f"{credential.source or 'password'} and the username") from None
    except (OSError, EOFError, imaplib.IMAP4.abort) as exc:
        if step.fired:
            raise ConnectionLost(f"{where} did not answer the login within {round(timeout, 1):g} s") from None
        raise ConnectionLost(f"connection to {where} lost during login: {_clean(exc)}") from None
    try:
        return ImapSession(client, session_where, credential, getattr(account, "header_fetch", "whole"))
    except (OSError, EOFError, imaplib.IMAP4.abort) as exc:
        raise ConnectionLost(f"connection to {where} lost after login: {_clean(exc)}") from None


def choose_folders(remote: list[RemoteFolder], include: Iterable[str] = (), exclude: Iterable[str] = ()
                   ) -> list[tuple[RemoteFolder, str | None]]:
    """Decide for every folder whether it is read: (folder, None) when read, (folder, reason) when skipped.

    By default INBOX, the ``\\Sent`` folders and every other folder are read; ``\\Junk``, ``\\Trash``,
    ``\\Drafts`` and virtual folders are skipped. When an ``\\All`` folder exists (Gmail), it is read with
    INBOX and ``\\Sent``, and label folders are skipped: their messages are copies of those in ``\\All``.
    ``include`` patterns (shell-style, e.g. ``Projects/*``) replace the default choice; ``exclude``
    patterns then remove folders.
    """
    from fnmatch import fnmatchcase

    include, exclude = list(include), list(exclude)
    has_all = any(f.special_use == "\\All" for f in remote)
    out = []
    for f in remote:
        use = f.special_use
        if not f.selectable:
            reason = "not selectable"
        elif include:
            reason = None if any(fnmatchcase(f.name, p) for p in include) else "not included"
        elif use in SKIPPED_USES:
            reason = SKIPPED_USES[use]
        elif has_all and use not in ("\\All", "\\Sent") and f.name.upper() != "INBOX":
            reason = "copy of \\All"
        else:
            reason = None
        if reason is None and any(fnmatchcase(f.name, p) for p in exclude):
            reason = "excluded"
        out.append((f, reason))
    return out


def refetch_bodies(engine, settings, account_name: str, message_ids: list[int], *, environ=None, batch: int = 500):
    """Fetch again, read-only, the messages whose text was not kept; yield ``(messages.id, ParsedMessage)``.

    For ``inboxrel reanalyze`` with ``store_bodies = false``: each message is read from one live copy on the
    server (EXAMINE, ``BODY.PEEK[]`` capped at the account's ``body_max_bytes``), parsed, analysed by the
    caller and dropped; nothing is written to the mailbox or kept beyond the evidence.
    """
    from sqlalchemy import select

    from inboxrel.errors import ConfigError
    from inboxrel.models import folders, locations
    from inboxrel.pipelines.parse import ParseError, parse_message
    from inboxrel.secrets import fetch_credential

    account = settings.accounts.get(account_name)
    if account is None:
        raise ConfigError(f"account {account_name!r} is not in the config {settings.config_path}: "
                          f"`inboxrel account add {account_name} ...` first")
    wanted = set(message_ids)
    by_folder: dict[str, dict[int, int]] = {}
    seen: set[int] = set()
    with engine.connect() as conn:
        rows = conn.execute(
            select(locations.c.message_id, locations.c.uid, folders.c.name)
            .join(folders, folders.c.id == locations.c.folder_id)
            .where(locations.c.uid.is_not(None), locations.c.gone.is_(False))
            .order_by(folders.c.name, locations.c.uid)).all()
    for r in rows:
        if r.message_id in wanted and r.message_id not in seen:
            seen.add(r.message_id)
            by_folder.setdefault(r.name, {})[r.uid] = r.message_id
    if not by_folder:
        return
    credential = fetch_credential(account, environ if environ is not None else {})
    session = fetch_session(account, credential, timeout=getattr(account, "timeout", None) or 60.0)
    try:
        for folder, uid_map in by_folder.items():
            session.examine(folder)
            uids = sorted(uid_map)
            for i in range(0, len(uids), batch):
                for uid, raw in session.fetch_prefixes(uids[i:i + batch], account.body_max_bytes).items():
                    try:
                        yield uid_map[uid], parse_message(raw)
                    except ParseError:
                        continue
    finally:
        session.logout()
