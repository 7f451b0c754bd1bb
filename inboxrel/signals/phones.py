"""Phone numbers from signature blocks (and labelled contact lines), parsed with ``phonenumbers``.

Only the signature and lines that label a number ("Cell: ...", "my new mobile number is ...") are read:
a number in running text may be anyone's ("call Sara at ..."). Fax numbers are skipped: they are not a
number to call. The default region (``settings.default_region``, per account ``default_region``) decides
how a number without a country code is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_DIGITS = re.compile(r"\d")
_LABEL_LINE = re.compile(
    r"^\s*(?:(?:tel|telephone|phone|ph|cell|cellular|mobile|mob|direct|dir|office|work|home|main|m|t|p|c|o|d|h|w)"
    r"(?:\s*(?:number|no\.?|#))?\s*[.:)]|.*\b(?:cell|mobile|phone|direct|office|home)\s+(?:number|no\.?|line|#))"
    r".*\d", re.I)
_FAX = re.compile(r"\bfax\b|\bf\s*[.:]|\bfacsimile\b", re.I)
_LABELS = re.compile(r"\b(?P<m>cell|cellular|mobile|mob|m)\b|\b(?P<o>office|work|direct|dir|desk|tel|telephone|phone|ph|t|p|o|d|w|main)\b",
                     re.I)


@dataclass(frozen=True)
class PhoneNumber:
    """One number: E.164 form, the text it was read from, and mobile|office|None."""

    e164: str
    raw: str
    label: str | None


def extract_numbers(signature: str, own_text: str = "", region: str = "US") -> list[PhoneNumber]:
    """Numbers in ``signature`` and in the labelled lines of ``own_text``; faxes left out."""
    lines = [ln for ln in signature.splitlines() if ln.strip() and _has_seven_digits(ln)]
    if own_text and _SEVEN_DIGITS.search(own_text):
        # the digit test first: it is cheaper than the label regex and rejects almost every line
        lines += [ln for ln in own_text.splitlines() if _has_seven_digits(ln) and _LABEL_LINE.match(ln)]
    if not lines:
        return []
    out: list[PhoneNumber] = []
    seen = set()
    for ln in lines:
        for num in _line_numbers(ln, region or "US"):
            if num.e164 not in seen:
                seen.add(num.e164)
                out.append(num)
    return out


_SEVEN_DIGITS = re.compile(r"\d(?:\D*\d){6}")


def _has_seven_digits(line: str) -> bool:
    return len(_DIGITS.findall(line)) >= 7


@lru_cache(maxsize=8192)
def _line_numbers(ln: str, region: str) -> tuple[PhoneNumber, ...]:
    """The numbers on one line, faxes left out (cached: people sign every message with the same lines)."""
    import phonenumbers

    try:
        matches = list(phonenumbers.PhoneNumberMatcher(ln, region))
    except Exception:  # a malformed region or line must never stop the analysis
        return ()
    out = []
    for m in matches:
        before = ln[:m.start]
        # the label that applies is the last one before the number on its line
        tail = before[-25:]
        if _FAX.search(tail) or (not before.strip() and _FAX.search(ln[m.end:m.end + 8] or "")):
            continue
        e164 = phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164)
        found = list(_LABELS.finditer(tail))
        label = None
        if found:
            label = "mobile" if found[-1].group("m") else "office"
        if label is None:
            kind = phonenumbers.number_type(m.number)
            if kind == phonenumbers.PhoneNumberType.MOBILE:
                label = "mobile"
        out.append(PhoneNumber(e164, m.raw_string, label))
    return tuple(out)


def normalize_number(raw: str, region: str = "US") -> str | None:
    """E.164 form of one number as typed (a call log's column), or None when it is not a number."""
    import phonenumbers

    try:
        num = phonenumbers.parse(raw, region or "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
