"""The text signals of message bodies, without the database: reply split, cues, phone numbers, call notices.

Everything here is pure and its result small and picklable, so the import's worker processes compute it for
each saved batch (``ParsedMessage.signals``, see ``ParserPool.text_signals``) and the main process only
attributes and stores the evidence (:func:`inboxrel.signals.save.analyze_messages`). Messages that arrive
without it (small imports parsed in-process, re-analysis) get the same computation there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inboxrel.signals.cues import Cue, analyze_texts, local_from_utc
from inboxrel.signals.notices import CallNotice, parse_call_notice
from inboxrel.signals.phones import PhoneNumber, extract_numbers
from inboxrel.signals.strip import split_body


@dataclass(slots=True)
class QuotedNumbers:
    """The phone numbers in a quoted block's signature, and the block's author as its header names them."""

    author_name: str | None
    author_email: str | None
    numbers: list[PhoneNumber]


@dataclass(slots=True)
class TextSignals:
    """What one body says before attribution: cues of the author's own words, numbers, a call notice.

    ``numbers`` are the author's (signature and labelled lines of their own words); ``quoted`` keeps only
    the quoted blocks with numbers. ``region`` is the default region the numbers were read with: a result
    read with another region than the message's account wants is computed again.
    """

    region: str
    cues: list[Cue]
    numbers: list[PhoneNumber]
    quoted: list[QuotedNumbers]
    notice: CallNotice | None
    error: str | None = None  # why the analysis of this body failed (it then has no signals)


MAX_TEXT_BYTES = 100_000  # default of the config key max_text_bytes: how much of a body the text stages read
_max_text = MAX_TEXT_BYTES


def set_max_text_bytes(limit: int | None) -> None:
    """Set how much of each body (in characters, about bytes of text) the text stages read; None: the default.

    Called once per run from the settings, before any worker is forked (workers inherit it).
    """
    global _max_text
    _max_text = MAX_TEXT_BYTES if limit is None else max(int(limit), 0)


def text_prefix(text: str | None, limit: int | None = None) -> str | None:
    """The part of a body the text stages read: at most ``limit`` (default: ``max_text_bytes``) characters."""
    limit = _max_text if limit is None else limit
    if text is None or len(text) <= limit:
        return text
    return text[:limit]


def empty_signals(region: str, error: str | None = None) -> TextSignals:
    """The signals of a body that gives none (or whose analysis failed: ``error`` says why)."""
    return TextSignals(region=region, cues=[], numbers=[], quoted=[], notice=None, error=error)


def text_signals(items: list[tuple[str, datetime | None, int | None, str | None]], region: str = "US") -> list[TextSignals]:
    """A :class:`TextSignals` for each (body, date as UTC, the Date header's offset in minutes, subject).

    Analyse many bodies per call: the cue pipeline tokenises them in batches. Each body is read up to
    ``max_text_bytes`` only. When the batch fails, each message is analysed alone, so one bad body costs
    only its own signals: it gets :func:`empty_signals` with ``error`` set to the reason.
    """
    items = [(text_prefix(text), dt, offset, subject) for text, dt, offset, subject in items]
    try:
        return _text_signals(items, region)
    except Exception:  # noqa: BLE001 - find the message at fault; the others keep their signals
        return [_one(item, region) for item in items]


def _one(item, region: str) -> TextSignals:
    try:
        return _text_signals([item], region)[0]
    except Exception as exc:  # noqa: BLE001 - one message's failure is reported, never raised
        return empty_signals(region, f"text signals failed: {type(exc).__name__}: {str(exc)[:200]}")


def _text_signals(items, region: str) -> list[TextSignals]:
    bodies = [split_body(text) for text, _, _, _ in items]
    cue_lists = analyze_texts([(b.own, local_from_utc(dt, offset)) for b, (_, dt, offset, _) in zip(bodies, items)])
    out = []
    for body, cues, (text, _, _, subject) in zip(bodies, cue_lists, items):
        quoted = []
        for q in body.quoted:
            found = extract_numbers(q.signature, "", region) if q.signature else []
            if found:
                quoted.append(QuotedNumbers(q.author_name, q.author_email, found))
        out.append(TextSignals(region=region, cues=cues, numbers=extract_numbers(body.signature, body.own, region),
                               quoted=quoted, notice=parse_call_notice(subject, body.own or text)))
    return out


def attach_text_signals(parsed_messages: list, region: str = "US") -> None:
    """Set ``.signals`` on every ParsedMessage that has a body."""
    todo = [p for p in parsed_messages if p is not None and p.body is not None]
    for p, ts in zip(todo, text_signals([(p.body, p.date, p.tz_offset, p.subject) for p in todo], region)):
        p.signals = ts
