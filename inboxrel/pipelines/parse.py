"""Parse raw RFC 822 bytes into a plain :class:`ParsedMessage` (pure; no database, no I/O).

Headers and addresses are read with the standard library's compat32 parser, which is several times faster
than a full MIME parse and keeps addresses that mail-parser drops (such as ``k..allen@enron.com``). Bodies
are decoded from the MIME tree; when the standard library cannot walk a broken tree, mail-parser takes over.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_tz

from inboxrel.identity.names import clean_display, fill_names
from inboxrel.pipelines.classify import classify_message

UTC = timezone.utc

# Dates before this are placeholders (Enron's 1979-12-31 Notes default) or broken two-digit years.
MIN_DATE = datetime(1985, 1, 1, tzinfo=UTC)
MAX_DATE = datetime(2100, 1, 1, tzinfo=UTC)

CLASSIFY_HEADERS = (
    "list-id", "list-unsubscribe", "list-post", "precedence", "auto-submitted", "feedback-id",
    "x-mailgun-sid", "x-mailgun-tag", "x-ses-outgoing", "x-ses-message-id", "x-sg-eid", "x-mailchimp-campaign",
    "x-campaign", "x-mc-user", "x-autoreply", "x-autorespond", "x-auto-response-suppress", "x-facebook-notify",
    "x-linkedin-class", "x-github-reason", "x-mailer", "x-ms-exchange-generated-message-source",
)

# Header fields an IMAP header-only fetch must ask for.
HEADER_FIELDS = (
    "message-id", "date", "from", "sender", "to", "cc", "bcc", "reply-to", "subject", "in-reply-to",
    "references", "content-type", "x-from", "x-to", "x-cc", *CLASSIFY_HEADERS,
)

_SUBJECT_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|tr|rif|r)\s*(\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)+", re.I)
_MSGID = re.compile(r"<([^<>\s]+)>")
_WS = re.compile(r"\s+")
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.S | re.I)
_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h\d|p|div|tr|li)\b[^>]*>", re.I)


class ParseError(ValueError):
    """The bytes are not an email message inboxrel can use; ``str(exc)`` is the quarantine reason."""


@dataclass(slots=True)
class ParsedMessage:
    message_id: str | None
    date: datetime | None  # aware UTC
    tz_offset: int | None  # minutes east of UTC as written in the Date header
    subject: str
    subject_norm: str
    is_reply: bool
    from_: tuple[str, str] | None  # (display name, address)
    to: list[tuple[str, str]] = field(default_factory=list)
    cc: list[tuple[str, str]] = field(default_factory=list)
    bcc: list[tuple[str, str]] = field(default_factory=list)
    reply_to: list[tuple[str, str]] = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # the CLASSIFY_HEADERS present, lower-case keys
    body: str | None = None  # text/plain, or text from HTML; None when only headers were given
    calendars: list[bytes] = field(default_factory=list)  # text/calendar parts and .ics attachments
    size: int = 0
    body_hash: str | None = None
    fingerprint: str = ""
    automated: str | None = None  # classify.classify_message of the headers and sender
    signals: object | None = None  # inboxrel.signals.text.TextSignals when an import worker ran the text signals


_SURROGATE = re.compile("[\udc80-\udcff]")


def clean_text(value: str) -> str:
    """Undo the parser's surrogate escapes of raw 8-bit header bytes: UTF-8 if it is, else Latin-1."""
    if not _SURROGATE.search(value):  # a regex scan: this runs for every header value of every message
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def normalize_address(addr: str) -> str | None:
    """Lower-case, trimmed address, or None when it is not an address at all."""
    addr = clean_text(addr).strip().strip("<>'\"").strip().lower()
    if addr.startswith("mailto:"):
        addr = addr[7:]
    if "@" not in addr or " " in addr or len(addr) > 320:
        return None
    local, _, domain = addr.rpartition("@")
    if not local or not domain or "." not in domain and domain != "localhost":
        return None
    return addr


def normalize_subject(subject: str) -> str:
    return _WS.sub(" ", _SUBJECT_PREFIX.sub("", subject or "")).strip().lower()


def decode_text(value: str | None) -> str:
    """Decode RFC 2047 words in a header value; never raises."""
    if not value:
        return ""
    value = clean_text(str(value))
    if "=?" not in value:
        return " ".join(value.split())
    try:
        return _WS.sub(" ", str(make_header(decode_header(value)))).strip()
    except Exception:
        return _WS.sub(" ", value).strip()


_SIMPLE_ADDR = re.compile(r"^\s*(?:([^<>,]*?)\s*<([^<>\s,]+)>|([^<>\s,]+))\s*$")
_QUOTED_NAME = re.compile(r'\s*"([^"\\]*)"\s*<([^<>\s,"]+)>\s*(?:,|$)')


def _split_simple(value: str) -> list[tuple[str, str]] | None:
    """Fast path for plain lists like 'a@x.com, Bob <b@y.com>, "Smith, Al" <c@z.com>'.

    None when comments, groups, escapes or encoded words need the full parser.
    """
    if "=?" in value or "\\" in value:
        return None
    if '"' in value:
        return _split_quoted(value)
    if any(c in value for c in "():;["):
        return None
    out = []
    for chunk in value.split(","):
        if not chunk.strip():
            continue
        m = _SIMPLE_ADDR.match(chunk)
        if not m:
            return None
        out.append(((m.group(1) or "").strip(), m.group(2) or m.group(3)))
    return out


def _split_quoted(value: str) -> list[tuple[str, str]] | None:
    """Lists whose quoted display names hold no quote or backslash; what getaddresses gives, faster."""
    out, pos, end = [], 0, len(value)
    while pos < end:
        if value[pos] in " \t\r\n,":
            pos += 1
            continue
        m = _QUOTED_NAME.match(value, pos)
        if m:
            out.append((m.group(1), m.group(2)))
            pos = m.end()
            continue
        comma = value.find(",", pos)
        chunk = value[pos:] if comma < 0 else value[pos:comma]
        if '"' in chunk or any(c in chunk for c in "():;["):
            return None
        m = _SIMPLE_ADDR.match(chunk)
        if not m:
            return None
        out.append(((m.group(1) or "").strip(), m.group(2) or m.group(3)))
        pos = end if comma < 0 else comma + 1
    return out


def _addresses(values: list[str] | None) -> list[tuple[str, str]]:
    if not values:
        return []
    pairs: list[tuple[str, str]] = []
    for v in values:
        v = str(v)
        simple = _split_simple(v)
        pairs.extend(simple if simple is not None else getaddresses([v]))
    out, seen = [], set()
    for display, addr in pairs:
        email = normalize_address(addr)
        if email and email not in seen:
            seen.add(email)
            out.append((decode_text(display).strip("'\" "), email))
    return out


def parse_date(value: str | None) -> tuple[datetime | None, int | None]:
    """(aware UTC datetime, offset minutes) from a Date header; (None, None) when unusable."""
    if not value:
        return None, None
    try:
        parts = parsedate_tz(str(value))
    except Exception:
        parts = None
    if not parts:
        return None, None
    offset = parts[9]
    try:
        if parts[0] < 100:  # two-digit years, as RFC 2822 says
            parts = (parts[0] + (2000 if parts[0] < 50 else 1900),) + tuple(parts[1:])
        naive = datetime(*parts[:6])
    except (ValueError, OverflowError):
        return None, None
    if offset is None or abs(offset) > 14 * 3600:
        offset = 0
    dt = (naive - timedelta(seconds=offset)).replace(tzinfo=UTC)
    if not (MIN_DATE <= dt < MAX_DATE):
        return None, None
    return dt, offset // 60


def html_to_text(markup: str) -> str:
    text = _BLOCK_TAGS.sub("\n", markup)
    text = _TAGS.sub(" ", text)
    text = html.unescape(text)
    return "\n".join(_WS.sub(" ", line).strip() for line in text.splitlines() if line.strip())


def _decode_payload(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        return payload.decode("latin-1", errors="replace")


def _body_and_calendars(msg: Message) -> tuple[str, list[bytes]]:
    plain: str | None = None
    markup: str | None = None
    calendars: list[bytes] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        filename = (part.get_filename() or "").lower()
        if ctype == "text/calendar" or filename.endswith(".ics"):
            data = part.get_payload(decode=True)
            if data:
                calendars.append(data)
            continue
        disposition = (part.get("content-disposition") or "").lower()
        if disposition.startswith("attachment"):
            continue
        if ctype == "text/plain" and plain is None:
            plain = _decode_payload(part)
        elif ctype == "text/html" and markup is None:
            markup = _decode_payload(part)
    if plain is not None and plain.strip():
        return plain, calendars
    if markup is not None:
        return html_to_text(markup), calendars
    return plain or "", calendars


def _body_with_mailparser(raw: bytes) -> tuple[str, list[bytes]]:
    import mailparser

    mail = mailparser.parse_from_bytes(raw)
    text = "\n".join(mail.text_plain) if mail.text_plain else html_to_text("\n".join(mail.text_html))
    return text, []


def _msgids(value: str | None) -> list[str]:
    if not value:
        return []
    value = clean_text(str(value))
    found = _MSGID.findall(value)
    if not found:
        found = [tok for tok in value.split() if "@" in tok]
    return [f.strip("<>")[:900] for f in found]


TEXT_PREFIX_BYTES = 2048  # how much of the raw body text an IMAP fetch asks for (BODY.PEEK[TEXT]<0.2048>)
_PREFIX_KEPT = 1024  # of which this much (in LF line endings) goes into the fingerprint: see text_prefix_key


def text_prefix_key(text: bytes) -> str:
    """A key for the start of a message's raw body text, the same whatever the line endings.

    An IMAP server sends the text with CRLF; ``TEXT_PREFIX_BYTES`` of CRLF text always hold at least
    ``_PREFIX_KEPT`` bytes once the line endings are LF (or the whole text, when it is shorter), so the key
    is taken over exactly that much, with whitespace runs collapsed.
    """
    lf = text.replace(b"\r\n", b"\n")[:_PREFIX_KEPT]
    return "t:" + hashlib.sha1(b" ".join(lf.split())).hexdigest()


def build_fingerprint(p: ParsedMessage, text_prefix: bytes | None = None) -> str:
    """A content fingerprint that finds copies of one message saved under different Message-IDs.

    Sender, date, subject and recipients, then what is known of the body: the hash of the decoded body,
    else a key of the start of the raw body text (``text_prefix``, an IMAP partial fetch), else nothing.
    Never the size: copies of one message differ in their headers (Outlook and Lotus Notes copies,
    every Enron folder), so their sizes differ too.
    """
    return fingerprint_of(p.from_[1] if p.from_ else None, p.date, p.subject_norm, {a for _, a in p.to + p.cc},
                          p.body_hash or (text_prefix_key(text_prefix) if text_prefix is not None else ""))


def fingerprint_of(sender: str | None, date: datetime | None, subject_norm: str, recipients: Iterable[str],
                   body_key: str = "") -> str:
    """:func:`build_fingerprint` from its parts (``date`` aware UTC); ``body_key`` "" gives the fingerprint
    of the headers alone, which a message fetched without any of its text has."""
    parts = [sender or "", date.isoformat() if date else "", subject_norm or "", ",".join(sorted(set(recipients))),
             body_key]
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def body_hash(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()


_FIELD_NAME = re.compile(r"[\041-\071\073-\176]+:")
_ODD_BREAKS = re.compile(r"[\x0b\x0c\x1c\x1d\x1e]")  # str.splitlines breaks on these, the email package does not


def _header_fields(raw: bytes) -> dict[str, list[str]] | None:
    """The header fields exactly as compat32 parsing stores them (``msg._headers``), several times faster.

    Handles only plain headers ("Name: value" lines and continuation lines up to the first empty line);
    returns None for anything else (an mbox "From " line, a line that is neither), which the email package
    then parses. Used for header-only parsing (IMAP header fetches), where it is most of the cost.
    """
    cut = len(raw)
    for sep in (b"\n\n", b"\r\n\r\n"):  # never before the first empty line; the loop stops at that line
        i = raw.find(sep)
        if 0 <= i < cut:
            cut = i + len(sep)
    text = raw[:cut].decode("ascii", "surrogateescape")
    if text.startswith("From ") or _ODD_BREAKS.search(text):
        return None
    fields: dict[str, list[str]] = {}
    name: str | None = None
    parts: list[str] = []
    for line in text.splitlines(keepends=True):
        if line[0] in " \t":
            if name is None:
                return None
            parts.append(line)
            continue
        if line in ("\r\n", "\n", "\r"):
            break
        m = _FIELD_NAME.match(line)
        if not m:
            return None
        if name is not None:
            fields.setdefault(name.lower(), []).append("".join(parts).rstrip("\r\n"))
        name = line[:m.end() - 1]
        parts = [line[m.end():].lstrip(" \t")]
    if name is not None:
        fields.setdefault(name.lower(), []).append("".join(parts).rstrip("\r\n"))
    return fields


def parse_message(raw: bytes, *, headers_only: bool = False, size: int | None = None) -> ParsedMessage:
    """Parse one message; raise :class:`ParseError` with a reason when it cannot be used."""
    if not raw or not raw.strip():
        raise ParseError("empty message")
    fields: dict[str, list[str]] | None = _header_fields(raw) if headers_only else None
    if fields is None:
        try:
            msg = message_from_bytes(raw, policy=compat32)
        except Exception as exc:  # the stdlib parser is lenient; this is rare
            raise ParseError(f"unparseable message: {type(exc).__name__}: {exc}") from None
        fields = {}
        for name, value in msg._headers:  # one pass; Message.get() rescans every header on each call
            fields.setdefault(name.lower(), []).append(value)
    if not fields:
        raise ParseError("no RFC 822 header lines at the start of the message")
    # Garbage or a body without headers parses as a message whose only "header" lines are defects.
    if not fields.keys() & {"from", "to", "date", "message-id", "subject", "sender", "received"}:
        raise ParseError("no From, To, Date, Subject or Message-ID header: not an email message")

    def first(name: str) -> str | None:
        values = fields.get(name)
        return str(values[0]) if values else None

    from_list = _addresses(fields.get("from")) or _addresses(fields.get("sender"))
    if from_list and not from_list[0][0]:
        # Exchange/Notes exports (Enron) keep the display name in X-From when From has none, as
        # 'Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>' or '"Jeff Smith" <jsmith@x.com>@ENRON'
        x_from = clean_display(decode_text(first("x-from")))
        if x_from and "@" not in x_from and len(x_from) < 100:
            from_list[0] = (x_from, from_list[0][1])
    to, cc, bcc = _addresses(fields.get("to")), _addresses(fields.get("cc")), _addresses(fields.get("bcc"))
    # ... and the recipients' names in X-To / X-cc
    if "x-to" in fields:
        to = fill_names(to, decode_text(first("x-to")))
    if "x-cc" in fields:
        cc = fill_names(cc, decode_text(first("x-cc")))
    date, offset = parse_date(first("date"))
    if from_list == [] and not to and not cc and date is None:
        raise ParseError("no usable From, To, Cc or Date: nothing to attribute this message to")
    subject_raw = decode_text(first("subject"))
    mids = _msgids(first("message-id"))
    refs = _msgids(" ".join(str(v) for v in fields.get("references", [])))
    irt = _msgids(first("in-reply-to"))
    headers = {}
    for name in CLASSIFY_HEADERS:
        value = first(name)
        if value is not None:
            headers[name] = decode_text(value)[:500]
    parsed = ParsedMessage(
        message_id=mids[0] if mids else None,
        date=date,
        tz_offset=offset,
        subject=subject_raw,
        subject_norm=normalize_subject(subject_raw),
        is_reply=bool(_SUBJECT_PREFIX.match(subject_raw or "")) and subject_raw.strip()[:1] != "[",
        from_=from_list[0] if from_list else None,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=_addresses(fields.get("reply-to")),
        in_reply_to=irt[0] if irt else None,
        references=refs,
        headers=headers,
        size=size if size is not None else len(raw),
    )
    if not headers_only:
        try:
            parsed.body, parsed.calendars = _body_and_calendars(msg)
        except Exception:
            try:
                parsed.body, parsed.calendars = _body_with_mailparser(raw)
            except Exception as exc:
                raise ParseError(f"body cannot be decoded: {type(exc).__name__}: {exc}") from None
        parsed.body = parsed.body.replace("\x00", "")
        parsed.body_hash = body_hash(parsed.body)
    parsed.fingerprint = build_fingerprint(parsed)
    parsed.automated = classify_message(headers, parsed.from_[1] if parsed.from_ else None, subject_raw)
    return parsed


def parse_raw_items(raws: list[tuple[str, str | None, bytes | None, str | None]]) -> list:
    """Parse a chunk of (key, path, raw, read_error) in a worker process: (key, path, parsed, error, raw)."""
    out = []
    for key, path, raw, error in raws:
        if raw is None:
            out.append((key, path, None, error, None))
            continue
        try:
            out.append((key, path, parse_message(raw), None, None))
        except ParseError as exc:
            out.append((key, path, None, str(exc), raw))
        except (RecursionError, MemoryError, LookupError, ValueError, TypeError, AttributeError) as exc:
            # a pathological MIME tree (nesting, a broken charset) must cost one message, not the run
            out.append((key, path, None, f"unparseable message: {type(exc).__name__}: {str(exc)[:200]}", raw))
    return out
