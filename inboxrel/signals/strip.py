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
_SIGNOFF_WORDS = (
    r"thanks", r"thank\s+you", r"thx", r"many\s+thanks", r"regards", r"best\s+regards", r"kind\s+regards",
    r"warm\s+regards", r"best\s+wishes", r"best", r"cheers", r"sincerely", r"yours(?:\s+truly|\s+sincerely)?",
    r"all\s+the\s+best", r"take\s+care", r"talk\s+soon", r"speak\s+soon", r"respectfully", r"rgds", r"br", r"love",
    r"xo+", r"ciao", r"hugs")
_SIGNOFF = re.compile(r"^\s*(?:" + "|".join(_SIGNOFF_WORDS) + r")\s*[,.!-]*\s*$", re.I)
_CONTACT = re.compile(r"(?:\+?\d[\d\s().-]{6,}\d)|@|https?://|www\.|\b(?:tel|phone|cell|mobile|fax|direct|office)\b", re.I)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_MAILTO = re.compile(r"mailto:([^\]\s>]+)", re.I)
_DEQUOTE = re.compile(r"^\s?>\s?")
_FORWARD = re.compile(r"forward", re.I)
_TO_LINE = re.compile(r"^\s*to\s*:", re.I)
# Lotus Notes replies lay the quoted header out in columns: "Phillip.K.Allen@enron.com    To: Monica Brown",
# then "cc:" and "Subject:" further down the same column
_LOTUS_COLUMNS = re.compile(r"^\s*\S.{0,80}?\s{3,}To:\s+\S", re.I)
_NOTES_HEAD = re.compile(r"^[\w.'-]+(?:@[\w.-]*)?$")  # a name or a cut address alone on its line
_LOTUS_COLUMN_FIELD = re.compile(r"\s(?:subject|cc):(?:\s|$)", re.I)
_WROTE_NEXT = re.compile(r"^\s*\S.{0,100}(?:wrote|writes)\s*:\s*$", re.I)
_ON_DATE_PREFIX = re.compile(r"^\s*on\b.*(?:\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?|\b\d{4}\b)\s*,?\s*", re.I)
_WROTE_SUFFIX = re.compile(r"\s*(?:wrote|writes)\s*:?\s*$", re.I)
_LOTUS_PATH_EMAIL = re.compile(r"/[^\s@/]+(?:/[^\s@/]+)*@\S+")
_NAME_NOISE = re.compile(r"\[mailto:[^\]]*\]|<[^>]*>|\S*@\S+|\bon\s+\d.*$", re.I)
_LOTUS_PATH = re.compile(r"/[A-Za-z]+(?:/[A-Za-z]+)*$")
_NAME_TAIL = re.compile(r"@\S*$|/\S*$")
_SENTENCE_END = re.compile(r"[.!?]\s*$")


def _first_chars(chars: str) -> frozenset[str]:
    """Every character a case-insensitive regex starting with one of ``chars`` can start a match with.

    Python's case-insensitive matching also folds the Kelvin sign onto k, the long s onto s, and the
    dotted and dotless i onto i; the pre-tests below use these sets, so they never reject a line the
    regex would accept.
    """
    folds = {"k": "\u212a", "s": "\u017f", "i": "\u0130\u0131"}
    return frozenset("".join(c + c.upper() + folds.get(c, "") for c in chars.lower()))


# Cheap exact pre-tests (a character test before a regex): a line of a body is almost never a boundary.
# Without a colon on the line or the next one, a boundary starts with "--", "On", "Begin" or "Forwarded".
_BARE_START = _first_chars("-obf")
_SEP_START = _first_chars("-bf")  # _SEPARATOR, _BEGIN_FWD
_HDR_START = _first_chars("*fvd")  # _HDR_FROM
_SENT_FROM_START = _first_chars("sg")
_SIGNOFF_START = _first_chars("".join(w[0] for w in _SIGNOFF_WORDS))


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
            value = _ON_DATE_PREFIX.sub("", ln.strip())
            value = _WROTE_SUFFIX.sub("", value)
        if value is None:
            continue
        mt = _MAILTO.search(value)
        em = mt.group(1) if mt else None
        if em is None:
            found = _EMAIL.search(value)
            em = found.group(0) if found else None
        value = _LOTUS_PATH_EMAIL.sub("", value)  # Lotus "Name/HOU/ECT@ECT"
        name = _NAME_NOISE.sub("", value).replace('"', "").strip(" \t'<>,;")
        name = _LOTUS_PATH.sub("", name).strip()  # Lotus "Name/HOU/ECT"
        return (name or None), (em.strip(".").lower() if em else None)
    if header_lines and _LOTUS_COLUMNS.match(header_lines[0]):
        # "Jane Doe/HOU/ECT   To: ..." names the author before the gap; a cut address ("Phillip.K.Allen@enron.c")
        # names nobody for sure
        before = re.split(r"\s{3,}To:", header_lines[0].strip(), maxsplit=1)[0].strip()
        before = _LOTUS_PATH.sub("", _LOTUS_PATH_EMAIL.sub("", before)).strip()
        found = _EMAIL.fullmatch(before)
        if found:
            return None, before.lower()
        return (before if before and "@" not in before and len(before.split()) >= 2 else None), None
    if header_lines and len(header_lines[0]) < 80 and not _SEPARATOR.match(header_lines[0]):
        name = header_lines[0].strip()
        name = _NAME_TAIL.sub("", name).strip()
        return (name or None), None
    return None, None


def _boundary(lines: list[str], i: int) -> int:
    """Number of header lines when a quoted or forwarded block starts at line ``i``, else 0."""
    ln = lines[i]
    s = ln.strip()
    if not s:
        return 0
    # Cheap exact pre-test: every rule below needs a colon on this line or the next, or one of a few
    # first characters; most lines of a body have neither, and each rule is a regex.
    if ":" not in s and s[0] not in _BARE_START and not (i + 1 < len(lines) and ":" in lines[i + 1]):
        return 0
    c0 = s[0]
    on = c0 in "oO"
    if c0 in _SEP_START and (_SEPARATOR.match(s) or _BEGIN_FWD.match(s)):
        return 1
    # (s is stripped and has no line break: a line _WROTE matches ends with the colon)
    if on and _ON_WROTE.match(s) or (s[-1] == ":" and len(s) < 160 and _WROTE.match(s)):
        return 1
    if on and s.lower().startswith("on ") and i + 1 < len(lines) and _WROTE_NEXT.match(lines[i + 1]):
        return 2
    if c0 in _HDR_START and _HDR_FROM.match(s):
        n = 0
        for j in range(i + 1, min(len(lines), i + 7)):
            if _HDR_OTHER.match(lines[j]):
                n = j - i + 1
        if n:
            return n
    if "/" in s and ":" in s and _LOTUS_ON.match(s) and \
            any(_TO_LINE.match(lines[j]) for j in range(i + 1, min(len(lines), i + 4))):
        return 1
    if len(s) < 80 and i + 2 < len(lines) and "/" in lines[i + 1] and ":" in lines[i + 1] and \
            _LOTUS_DATE.match(lines[i + 1]) and any(_TO_LINE.match(lines[j]) for j in range(i + 2, min(len(lines), i + 5))):
        j = i + 2
        while j < len(lines) and j < i + 12 and (_HDR_OTHER.match(lines[j]) or not lines[j].strip()
                                                 or lines[j].startswith((" ", "\t"))):
            j += 1
        return j - i
    if "To:" in s and _LOTUS_COLUMNS.match(ln) and \
            any(_LOTUS_COLUMN_FIELD.search(lines[j]) for j in range(i + 1, min(len(lines), i + 5))):
        return 1
    return 0


def _dequote(line: str) -> str:
    return _DEQUOTE.sub("", line)


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
            if _LOTUS_COLUMNS.match(lines[i]):
                # the Notes form's first line ("Leslie.Hansen", "Phillip.K.Allen@enron.c") sits above its To: line
                while own and not own[-1].strip():
                    own.pop()
                if own and len(own[-1].split()) == 1 and _NOTES_HEAD.match(own[-1].strip()):
                    rest = [own.pop()] + rest
            quoted.extend(_blocks(rest, "forward" if _FORWARD.search(s) else "reply", None, None))
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
            kind = "forward" if _FORWARD.search(header[0]) else kind
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
    end = len(lines)
    while end and (not lines[end - 1].strip() or _UNDERSCORES.match(lines[end - 1])):
        end -= 1
    lines = lines[:end]
    for i, ln in enumerate(lines):
        # "--" or "__" alone, or a "Sent from my ..." line (the regexes only for lines that can be one)
        bare = ln.strip()
        if not bare:
            continue
        if bare in ("--", "__") and _SIG_DASH.match(ln.rstrip()) or \
                bare[0] in _SENT_FROM_START and _SENT_FROM.match(ln):
            return "\n".join(lines[:i]).strip(), "\n".join(lines[i + 1:]).strip()
    # a sign-off line followed by a short block: the block is the signature
    start = max(0, len(lines) - 14)
    for i in range(len(lines) - 1, start - 1, -1):
        if lines[i].lstrip()[:1] in _SIGNOFF_START and _SIGNOFF.match(lines[i]):
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
            any(_CONTACT.search(x) for x in block) and not _SENTENCE_END.search(block[0].strip()):
        return "\n".join(lines[:j]).strip(), "\n".join(block).strip()
    return "\n".join(lines).strip(), ""
