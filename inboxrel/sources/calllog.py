"""Phone call logs: Android backups (SMS Backup & Restore ``calls-*.xml``), iPhone/macOS call history and
call-log CSV files, detected from the file itself.

``read_call_log`` is pure (a file in, :class:`CallLog` out): it finds the encoding (a BOM, NUL bytes that
give UTF-16 away, the XML declaration; else UTF-8, else Windows-1252), the format (XML ``<calls>``, a
CSV whose header names ``ZADDRESS``/``ZDATE`` as in the macOS ``CallHistory.storedata`` table, or any CSV
whose columns the aliases in ``calllog_formats.json`` recognise), and every call. A row it cannot read is
kept as a problem with its line number and skipped; the rest of the file still counts.

``import_calls`` matches the calls to people (numbers from contacts first, then numbers seen in
signatures, all in E.164 read with the configured default region; an address for FaceTime/Teams logs)
and saves them through :func:`inboxrel.signals.save.save_interactions`. Missed, rejected and voicemail
calls, and answered calls shorter than ``min_seconds`` (default 60), are *attempts*, not conversations.
Each call is keyed by its start time and number, so importing the same file again adds nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from inboxrel.errors import SourceError, UsageError

DEFAULT_MIN_SECONDS = 60
MISSED = {"missed", "voicemail", "rejected", "blocked"}
_CORE_DATA_EPOCH = datetime(2001, 1, 1, tzinfo=timezone.utc)  # macOS/iOS timestamps count from here


@lru_cache(maxsize=1)
def formats() -> dict:
    """The column aliases and direction words (``calllog_formats.json``)."""
    return json.loads((Path(__file__).with_name("calllog_formats.json")).read_text(encoding="utf-8"))


@dataclass
class Call:
    """One call as the log gives it."""

    line: int  # where it is in the file (1-based), for messages
    at: datetime  # aware UTC
    number: str = ""
    address: str = ""  # an email address (FaceTime, Teams) when there is no number
    direction: str = ""  # incoming | outgoing | missed | voicemail | rejected | blocked | ""
    seconds: int | None = None
    name: str = ""
    video: bool = False


@dataclass
class CallLog:
    """What one file held: its format and encoding, the calls read, and the rows skipped with why."""

    path: str
    format: str  # android-xml | iphone-callhistory-csv | csv
    encoding: str
    calls: list[Call] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


# -- reading --------------------------------------------------------------------------------------------

def decode(raw: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was read with: a BOM, then UTF-16 by its NUL bytes, then
    UTF-8, then Windows-1252 (which reads any byte)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace"), "utf-16"
    head = raw[:400]
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
        return raw.decode("utf-16-le", errors="replace"), "utf-16-le"
    if len(head) >= 4 and head[0::2].count(0) > len(head) // 4 and head[1::2].count(0) == 0:
        return raw.decode("utf-16-be", errors="replace"), "utf-16-be"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "cp1252"


def read_call_log(path: str | Path) -> CallLog:
    """Read a call-log file of any supported format (see the module docstring)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read call log {path}: {exc.strerror}") from None
    text, encoding = decode(raw)
    if not text.strip():
        raise UsageError(f"call log {path} is empty: export the call history again")
    if text.lstrip("\ufeff \t\r\n").startswith("<"):
        return _read_android_xml(str(path), raw, text, encoding)
    return _read_csv(str(path), text, encoding)


def _read_android_xml(path: str, raw: bytes, text: str, encoding: str) -> CallLog:
    import xml.parsers.expat

    log = CallLog(path=path, format="android-xml", encoding=encoding)
    types = formats()["android_types"]
    parser = xml.parsers.expat.ParserCreate()
    seen_root = []

    def start(tag, attrs):
        line = parser.CurrentLineNumber
        if not seen_root:
            seen_root.append(tag)
            if tag != "calls":
                raise UsageError(f"{path} is XML but not a call log (root <{tag}>, expected <calls>): export "
                                 "calls with SMS Backup & Restore, or use a CSV")
            return
        if tag != "call":
            return
        try:
            ms = int(str(attrs.get("date", "")).strip())
            at = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
        except (ValueError, OverflowError, OSError):
            log.problems.append((line, f"date {attrs.get('date')!r} is not a time in milliseconds"))
            return
        kind = str(attrs.get("type", "")).strip()
        direction = types.get(kind)
        if direction is None:
            log.problems.append((line, f"call type {kind!r} is unknown (1-7 expected)"))
            return
        number = str(attrs.get("number", "")).strip()
        if not number:
            log.problems.append((line, "no number (a withheld caller)"))
            return
        seconds = _duration(str(attrs.get("duration", "")))
        name = str(attrs.get("contact_name") or "")
        log.calls.append(Call(line=line, at=at, number=number, direction=direction, seconds=seconds,
                              name="" if name == "(Unknown)" else name))

    def doctype(*_args):
        # a call backup has no DTD; refusing one keeps entity expansion (billion laughs) out
        raise UsageError(f"{path} declares a DOCTYPE, which no call backup has: refusing to read it")

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(raw, True)
    except xml.parsers.expat.ExpatError as exc:
        if not log.calls and not seen_root:
            raise UsageError(f"{path} is not readable XML ({exc}): export the calls again") from None
        # a backup cut short (copied while being written): keep every call before the break
        log.problems.append((exc.lineno, f"the XML breaks off here ({xml.parsers.expat.ErrorString(exc.code)}); "
                                         "calls after it were not read"))
    return log


def _columns(header: list[str]) -> dict[str, int | None]:
    lower = [h.strip().strip("\ufeff").lower() for h in header]
    out: dict[str, int | None] = {}
    for key, names in formats()["columns"].items():
        out[key] = next((lower.index(n) for n in names if n in lower), None)
    return out


def _read_csv(path: str, text: str, encoding: str) -> CallLog:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise UsageError(f"{path} has no header row: the first line must name the columns (date,number,...)") from None
    cols = _columns(header)
    iphone = all(h in [c.strip().lower() for c in header] for h in formats()["iphone_columns"])
    log = CallLog(path=path, format="iphone-callhistory-csv" if iphone else "csv", encoding=encoding)
    if cols["date"] is None or (cols["number"] is None and cols["address"] is None):
        raise UsageError(f"{path} needs a date column and a number or address column; its header has "
                         f"{', '.join(h.strip() for h in header)} (see `inboxrel import-calls --help`)")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            log.problems.append((reader.line_num, f"unreadable row ({exc})"))
            continue
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        try:
            log.calls.append(_csv_call(row, cols, line, iphone))
        except ValueError as exc:
            log.problems.append((line, str(exc)))
    return log


def _cell(row: list[str], idx: int | None) -> str:
    return row[idx].strip() if idx is not None and idx < len(row) else ""


def _csv_call(row: list[str], cols: dict, line: int, iphone: bool) -> Call:
    raw_date = _cell(row, cols["date"])
    at = parse_call_time(raw_date, core_data=iphone)
    value = _cell(row, cols["number"])
    address = _cell(row, cols["address"]).lower()
    if "@" in value and not address:
        value, address = "", value.lower()
    if not value and not address:
        raise ValueError("no number or address")
    seconds = None
    if cols["duration"] is not None and _cell(row, cols["duration"]):
        seconds = _duration(_cell(row, cols["duration"]))
        if seconds is None:
            raise ValueError(f"duration {_cell(row, cols['duration'])!r} is not seconds, MM:SS or H:MM:SS")
    direction = _direction(_cell(row, cols["direction"]))
    if iphone or cols["originated"] is not None:
        originated = _cell(row, cols["originated"]) in ("1", "true", "yes")
        answered = _cell(row, cols["answered"])
        if not direction:
            direction = "outgoing" if originated else "incoming"
        if answered in ("0", "false", "no") and not originated:
            direction = "missed"
    service = _cell(row, cols["service"]).lower()
    video = service in formats()["video_services"] or "video" in service
    return Call(line=line, at=at, number=value, address=address, direction=direction, seconds=seconds,
                name=_cell(row, cols["name"]), video=video)


def _direction(value: str) -> str:
    v = value.strip().lower()
    if not v:
        return ""
    for key, words in formats()["directions"].items():
        if v in words:
            return key
    for key, words in formats()["directions"].items():  # "Missed FaceTime Audio", "Outgoing (Wi-Fi)"
        if any(re.search(rf"\b{re.escape(w)}\b", v) for w in words):
            return key
    return ""


def _duration(value: str) -> int | None:
    """Seconds from ``125``, ``125.4``, ``2:05``, ``0:02:05``, ``2m 5s`` or ``1h 2m``; None if not one."""
    value = (value or "").strip().lower()
    if not value:
        return None
    if re.fullmatch(r"\d+(?:[.,]\d+)?", value):
        return int(float(value.replace(",", ".")))
    parts = value.split(":")
    if 2 <= len(parts) <= 3 and all(p.isdigit() for p in parts):
        total = 0
        for p in parts:
            total = total * 60 + int(p)
        return total
    m = re.fullmatch(r"(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?|ins)?)?\s*(?:(\d+)\s*s(?:ec(?:onds?)?|ecs)?)?",
                     value)
    if m and any(m.groups()):
        h, mi, s = (int(g or 0) for g in m.groups())
        return h * 3600 + mi * 60 + s
    return None


def parse_call_time(value: str, *, core_data: bool = False) -> datetime:
    """A call's start, aware UTC: ISO 8601 (no offset = UTC), epoch seconds or milliseconds, a macOS
    Core Data timestamp (``core_data``), or a written date such as ``May 21, 2024 at 2:30 PM``."""
    v = value.strip()
    if not v:
        raise ValueError("no date")
    if re.fullmatch(r"\d+(?:\.\d+)?", v):
        n = float(v)
        if core_data:
            return _CORE_DATA_EPOCH + timedelta(seconds=n)
        if n > 1e11:  # milliseconds since 1970 (Android)
            n /= 1000
        if n < 1e8:
            raise ValueError(f"date {value!r} is a number but not a time")
        return datetime.fromtimestamp(n, tz=timezone.utc)
    iso_like = v.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", v) else v
    try:
        dt = datetime.fromisoformat(iso_like.replace("Z", "+00:00"))
    except ValueError:
        from dateutil import parser as dateparser

        try:
            dt = dateparser.parse(re.sub(r"\bat\b", " ", v))
        except (ValueError, OverflowError):
            raise ValueError(f"date {value!r} is not a date (ISO 8601 such as 2024-05-02 14:30 works)") from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


# -- matching and saving ----------------------------------------------------------------------------------

def call_kind(call: Call, min_seconds: int, now: datetime) -> str:
    """past for a conversation, attempt for a missed, rejected, voicemail or too-short call."""
    if call.direction in MISSED or call.seconds == 0:
        return "attempt"
    if call.seconds is not None and call.seconds < min_seconds:
        return "attempt"
    return "past" if call.at <= now else "planned"


def _numbers(conn) -> tuple[dict[str, set[int]], dict[str, set[int]]]:
    """(numbers from contacts, numbers from signatures) -> people. Contact numbers have no message."""
    from sqlalchemy import select

    from inboxrel.models import phone_numbers

    contacts: dict[str, set[int]] = {}
    signatures: dict[str, set[int]] = {}
    for r in conn.execute(select(phone_numbers.c.e164, phone_numbers.c.person_id, phone_numbers.c.message_id)):
        (contacts if r.message_id is None else signatures).setdefault(r.e164, set()).add(r.person_id)
    return contacts, signatures


def import_calls(engine, path: str | Path, *, now: datetime, region: str = "US",
                 min_seconds: int = DEFAULT_MIN_SECONDS) -> dict:
    """Read a call log and save the calls that match people; return counts, problems and examples."""
    from sqlalchemy import delete, select

    from inboxrel.clock import as_utc, iso, to_db
    from inboxrel.models import addresses, interactions
    from inboxrel.signals.phones import normalize_number
    from inboxrel.signals.review import drop_rejected
    from inboxrel.signals.save import save_interactions

    log = read_call_log(path)
    now = as_utc(now)
    out = {"path": str(path), "format": log.format, "encoding": log.encoding,
           "rows": len(log.calls) + len(log.problems), "calls": len(log.calls), "matched": 0, "unmatched": 0,
           "conversations": 0, "attempts": 0, "skipped": len(log.problems),
           "problems": [{"line": ln, "reason": why} for ln, why in log.problems[:50]], "unmatched_examples": []}
    with engine.begin() as conn:
        contacts, signatures = _numbers(conn)
        rows = []
        for call in log.calls:
            # whole seconds: the same call in two phones' exports (ms, fractions of a second) is one call
            call.at = call.at.replace(microsecond=0)
            pid = None
            key = None
            if call.number:
                e164 = normalize_number(call.number, region)
                key = e164 or call.number
                for table in (contacts, signatures):
                    found = table.get(e164 or "", set())
                    if len(found) == 1:
                        pid = next(iter(found))
                        break
            if pid is None and call.address:
                key = key or call.address
                r = conn.execute(select(addresses.c.person_id).where(addresses.c.email == call.address)).first()
                pid = r.person_id if r else None
            if pid is None:
                out["unmatched"] += 1
                if len(out["unmatched_examples"]) < 10:
                    out["unmatched_examples"].append(f"line {call.line}: {iso(call.at)} {call.number or call.address}")
                continue
            kind = call_kind(call, min_seconds, now)
            out["matched"] += 1
            out["attempts" if kind == "attempt" else "conversations"] += 1
            note = call.direction or "call"
            if call.seconds:
                note += f", {call.seconds} s"
            if kind == "attempt" and call.direction not in MISSED and call.seconds:
                note += f" (shorter than {min_seconds} s)"
            rows.append({"person_id": pid, "kind": kind, "medium": "video" if call.video else "phone",
                         "at": to_db(call.at), "source": "calllog", "source_ref": f"{iso(call.at)}|{key}",
                         "message_id": None, "confidence": 1.0,
                         "direction": {"outgoing": "from_me", "": None}.get(call.direction, "to_me"),
                         "sentence": None, "note": note, "created_at": to_db(now)})
        # a call read again with another minimum may change kind: its old row goes, whatever its kind
        refs = sorted({r["source_ref"] for r in rows})
        for i in range(0, len(refs), 500):
            conn.execute(delete(interactions).where(interactions.c.source == "calllog",
                                                    interactions.c.source_ref.in_(refs[i:i + 500])))
        save_interactions(conn, drop_rejected(conn, rows))
    return out
