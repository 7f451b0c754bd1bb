"""The author's own words: split a body into own text, signature, and quoted or forwarded blocks.

Line-based and fast (no backtracking regexes over the whole body). Recognises ``>`` quoting, "On ... wrote:",
Outlook/Exchange header blocks (From:/Sent:/To:/Subject:), "-----Original Message-----", Lotus Notes
"---- Forwarded by ... ----" and "Name@ORG / 06/24/2001 09:56 AM / To:" headers, "Begin forwarded message:",
and signatures ("-- ", sign-off lines followed by a short block, a trailing block with a phone number or
address). Each quoted block keeps the author named in its header, so numbers in quoted signatures belong to
the quoted author, never to the sender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:original\s+message|forwarded\s+message|forwarded\s+by\b.*|message\s+d'origine|"
    r"urspr(?:ü|ue)ngliche\s+nachricht|mensaje\s+original|reply\s+message)\s*-*\s*$", re.I)
_BEGIN_FWD = re.compile(r"^\s*(?:begin\s+forwarded\s+message|forwarded\s+message)\s*:?\s*$", re.I)
_ON_WROTE = re.compile(r"^\s*on\b.{0,200}\b(?:wrote|writes)\s*:?\s*$", re.I)
_WROTE = re.compile(r"^.{0,160}\b(?:wrote|writes|schrieb|a\s+écrit|escribió)\s*:\s*$", re.I)
_HDR_FROM = re.compile(r"^\s*\*?(?:from|von|de|van)\s*:\*?\s*(?P<v>\S.*)$", re.I)
_HDR_OTHER = re.compile(r"^\s*\*?(?:sent|date|to|subject|cc|gesendet|an|betreff|envoyé|objet|enviado|asunto)\s*:", re.I)
_LOTUS_DATE = re.compile(r"^\s*\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:AM|PM)?\s*$", re.I)
_LOTUS_ON = re.compile(r"^\s*(?P<v>.{2,120}?)\s+on\s+\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}", re.I)
_UNDERSCORES = re.compile(r"^\s*[_=-]{10,}\s*$")
_SIG_DASH = re.compile(r"^(?:--|__)\s*$")
_SENT_FROM = re.compile(r"^\s*(?:sent\s+from\s+my\b|get\s+outlook\s+for\b|sent\s+(?:via|with)\s+\w+)", re.I)
_SIGNOFF = re.compile(
    r"^\s*(?:thanks|thank\s+you|thx|many\s+thanks|regards|best\s+regards|kind\s+regards|warm\s+regards|"
    r"best\s+wishes|best|cheers|sincerely|yours(?:\s+truly|\s+sincerely)?|all\s+the\s+best|take\s+care|"
    r"talk\s+soon|speak\s+soon|respectfully|rgds|br|love|xo+|ciao|hugs)\s*[,.!-]*\s*$", re.I)
_CONTACT = re.compile(r"(?:\+?\d[\d\s().-]{6,}\d)|@|https?://|www\.|\b(?:tel|phone|cell|mobile|fax|direct|office)\b", re.I)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_MAILTO = re.compile(r"mailto:([^\]\s>]+)", re.I)


@dataclass
class Quoted:
    """A quoted reply or forwarded block and who wrote it (as its header says)."""

    kind: str  # reply | forward
    author_name: str | None
    author_email: str | None
    text: str
    signature: str = ""


@dataclass
class Body:
    """A message body split into the author's own text, their signature and the quoted blocks."""

    own: str
    signature: str = ""
    quoted: list[Quoted] = field(default_factory=list)


def _author(header_lines: list[str]) -> tuple[str | None, str | None]:
    """(name, email) of the author named in a quote header."""
    for ln in header_lines:
        m = _HDR_FROM.match(ln)
        value = m.group("v") if m else None
        if value is None:
            lm = _LOTUS_ON.match(ln)
            if lm:
                value = lm.group("v")
        if value is None and (_ON_WROTE.match(ln) or _WROTE.match(ln)):
            value = re.sub(r"^\s*on\b.*(?:\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?|\b\d{4}\b)\s*,?\s*", "", ln.strip(), flags=re.I)
            value = re.sub(r"\s*(?:wrote|writes)\s*:?\s*$", "", value, flags=re.I)
        if value is None:
            continue
        mt = _MAILTO.search(value)
        em = mt.group(1) if mt else None
        if em is None:
            found = _EMAIL.search(value)
            em = found.group(0) if found else None
        value = re.sub(r"/[^\s@/]+(?:/[^\s@/]+)*@\S+", "", value)  # Lotus "Name/HOU/ECT@ECT"
        name = re.sub(r"\[mailto:[^\]]*\]|<[^>]*>|\S*@\S+|\bon\s+\d.*$", "", value).replace('"', "").strip(" \t'<>,;")
        name = re.sub(r"/[A-Za-z]+(?:/[A-Za-z]+)*$", "", name).strip()  # Lotus "Name/HOU/ECT"
        return (name or None), (em.strip(".").lower() if em else None)
    if header_lines and len(header_lines[0]) < 80 and not _SEPARATOR.match(header_lines[0]):
        name = header_lines[0].strip()
        name = re.sub(r"@\S*$|/\S*$", "", name).strip()
        return (name or None), None
    return None, None


def _boundary(lines: list[str], i: int) -> int:
    """Number of header lines when a quoted or forwarded block starts at line ``i``, else 0."""
    ln = lines[i]
    s = ln.strip()
    if not s:
        return 0
    if _SEPARATOR.match(s) or _BEGIN_FWD.match(s):
        return 1
    if _ON_WROTE.match(s) or (_WROTE.match(s) and len(s) < 160):
        return 1
    if s.lower().startswith("on ") and i + 1 < len(lines) and re.match(r"^\s*\S.{0,100}(?:wrote|writes)\s*:\s*$", lines[i + 1], re.I):
        return 2
    if _HDR_FROM.match(s):
        n = 0
        for j in range(i + 1, min(len(lines), i + 7)):
            if _HDR_OTHER.match(lines[j]):
                n = j - i + 1
        if n:
            return n
    if _LOTUS_ON.match(s) and any(re.match(r"^\s*to\s*:", lines[j], re.I) for j in range(i + 1, min(len(lines), i + 4))):
        return 1
    if i + 2 < len(lines) and _LOTUS_DATE.match(lines[i + 1]) and len(s) < 80 and \
            any(re.match(r"^\s*to\s*:", lines[j], re.I) for j in range(i + 2, min(len(lines), i + 5))):
        j = i + 2
        while j < len(lines) and j < i + 12 and (_HDR_OTHER.match(lines[j]) or not lines[j].strip()
                                                 or lines[j].startswith((" ", "\t"))):
            j += 1
        return j - i
    return 0


def _dequote(line: str) -> str:
    return re.sub(r"^\s?>\s?", "", line)


def split_body(text: str | None) -> Body:
    """Split ``text`` into own words, signature and quoted blocks (see the module docstring)."""
    if not text:
        return Body(own="")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    own: list[str] = []
    quoted: list[Quoted] = []
    i = 0
    n = len(lines)
    pending_quote: list[str] = []
    quote_header: list[str] = []
    while i < n:
        ln = lines[i]
        if ln.lstrip().startswith(">"):
            pending_quote.append(_dequote(ln.lstrip()))
            i += 1
            continue
        if pending_quote:
            name, email = _author(quote_header)
            quoted.extend(_blocks(pending_quote, "reply", name, email))
            pending_quote, quote_header = [], []
        h = _boundary(lines, i)
        if h:
            s = lines[i].strip()
            if (_ON_WROTE.match(s) or _WROTE.match(s) or h == 2 and s.lower().startswith("on ")) and \
                    i + h < n and lines[i + h].lstrip().startswith(">"):
                quote_header = lines[i:i + h]
                i += h
                continue
            rest = lines[i:]
            quoted.extend(_blocks(rest, "forward" if re.search(r"forward", s, re.I) else "reply", None, None))
            break
        own.append(ln)
        i += 1
    if pending_quote:
        name, email = _author(quote_header)
        quoted.extend(_blocks(pending_quote, "reply", name, email))
    own_text, signature = split_signature(own)
    return Body(own=own_text, signature=signature, quoted=quoted)


def _blocks(lines: list[str], kind: str, name: str | None, email: str | None) -> list[Quoted]:
    """Split the quoted area at each header; every block gets the author its own header names."""
    out: list[Quoted] = []
    cur: list[str] = []
    header: list[str] = []
    cur_name, cur_email = name, email
    i = 0
    plain = [_dequote(x.lstrip()) if x.lstrip().startswith(">") else x for x in lines]
    while i < len(lines):
        ln = lines[i].lstrip()
        if ln.startswith(">"):
            ln = _dequote(ln)
        h = _boundary(plain, i)
        if h:
            if any(x.strip() for x in cur):
                text, sig = split_signature(cur)
                out.append(Quoted(kind, cur_name, cur_email, text, sig))
            header = [_dequote(x.lstrip()) if x.lstrip().startswith(">") else x for x in lines[i:i + h]]
            if _SEPARATOR.match(header[0].strip()) or _BEGIN_FWD.match(header[0].strip()):
                # the real header lines (From:, Sent:) follow the separator line
                j = i + 1
                extra = []
                while j < len(lines) and j < i + 8 and lines[j].strip() and (
                        _HDR_FROM.match(_dequote(lines[j].lstrip())) or _HDR_OTHER.match(_dequote(lines[j].lstrip()))
                        or _LOTUS_DATE.match(lines[j]) or not extra):
                    extra.append(_dequote(lines[j].lstrip()))
                    j += 1
                    if len(extra) == 1 and not (_HDR_FROM.match(extra[0]) or _LOTUS_ON.match(extra[0])) \
                            and not (j < len(lines) and (_LOTUS_DATE.match(lines[j]) or _HDR_OTHER.match(lines[j]))):
                        extra = []
                        j -= 1
                        break
                header += extra
                h = j - i
            kind = "forward" if re.search(r"forward", header[0], re.I) else kind
            cur_name, cur_email = _author(header[1:] if len(header) > 1 and (
                _SEPARATOR.match(header[0].strip()) or _BEGIN_FWD.match(header[0].strip())) else header)
            cur = []
            i += h
            continue
        cur.append(ln)
        i += 1
    if any(x.strip() for x in cur):
        text, sig = split_signature(cur)
        out.append(Quoted(kind, cur_name, cur_email, text, sig))
    return out


def split_signature(lines: list[str]) -> tuple[str, str]:
    """(text, signature) from the lines of one author's words."""
    while lines and (not lines[-1].strip() or _UNDERSCORES.match(lines[-1])):
        lines = lines[:-1]
    for i, ln in enumerate(lines):
        if _SIG_DASH.match(ln.rstrip()) or _SENT_FROM.match(ln):
            return "\n".join(lines[:i]).strip(), "\n".join(lines[i + 1:]).strip()
    # a sign-off line followed by a short block: the block is the signature
    start = max(0, len(lines) - 14)
    for i in range(len(lines) - 1, start - 1, -1):
        if _SIGNOFF.match(lines[i]):
            tail = [x for x in lines[i + 1:] if x.strip()]
            if len(tail) <= 10 and all(len(x.strip()) <= 80 for x in tail):
                return "\n".join(lines[:i + 1]).strip(), "\n".join(lines[i + 1:]).strip()
            break
    # a trailing block of short lines with a phone number, address or link
    j = len(lines)
    while j > 0 and lines[j - 1].strip():
        j -= 1
    block = lines[j:]
    if 2 <= len(block) <= 10 and all(len(x.strip()) <= 70 for x in block) and \
            any(_CONTACT.search(x) for x in block) and not re.search(r"[.!?]\s*$", block[0].strip()):
        return "\n".join(lines[:j]).strip(), "\n".join(block).strip()
    return "\n".join(lines).strip(), ""
