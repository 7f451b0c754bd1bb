"""Time expressions in a sentence, and the calendar day they name, resolved against the message's local date.

Pure functions over text: ``find_times(text)`` returns the expressions with character offsets;
``resolve_day(times, kind, local)`` turns the ones that pin a single day into a ``date``. The rules follow
the labelling rules of the cue set: today/tonight -> that date, yesterday -> -1, tomorrow -> +1, a weekday
in a past cue -> the most recent such day strictly before, in a planned cue -> the first strictly after,
explicit dates -> that date ("Wednesday November 14th": the year whose 14 November is a Wednesday);
"next Tuesday" -> the coming Tuesday when this week's has passed (written on a Friday), else no day (written
on a Monday it may mean either); ranges and alternatives give no day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WD_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5, "sun": 6}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
_MON_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}
_NUMWORDS = {w: i + 1 for i, w in enumerate(
    "one two three four five six seven eight nine ten eleven twelve".split())}

_WD = r"(?:mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|thurs|thur|thu|tues|tue|weds|fri)"
_WD_SHORT = r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)\.?"
_MON_FULL = r"(?:january|february|march|april|may|june|july|august|september|october|november|december)"
_MON_ABBR_RE = r"(?:jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.?"
_MON = rf"(?:{_MON_FULL}|{_MON_ABBR_RE})"
_ORD = r"(?:st|nd|rd|th)?"
_PART = r"(?:\s+(?:morning|afternoon|evening|night|lunch(?:time)?|arvo|am|pm)(?P<plural>s)?)?"

_PATTERNS: list[tuple[str, str]] = [
    # explicit dates ("Monday 5 September", "Tuesday the 7th": the weekday is part of the date)
    ("wd_date", rf"\b(?:{_WD}|{_WD_SHORT})\.?,?\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?:of\s+)?(?P<mon>{_MON}))?(?:,?\s+(?P<y>(?:19|20)\d\d))?\b(?!:|\s*(?:am|pm|a\.m|p\.m|o'?clock)\b)"),
    ("wd_date", rf"\b(?:{_WD}|{_WD_SHORT})\.?,?\s+(?P<mon>{_MON})\s+(?P<d>\d{{1,2}}){_ORD}(?:,?\s+(?P<y>(?:19|20)\d\d))?\b"),
    ("date_iso", r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)\b"),
    ("date_md", rf"\b(?P<mon>{_MON})\s+(?P<d>\d{{1,2}}){_ORD}(?:,?\s+(?P<y>(?:19|20)\d\d))?\b"),
    ("date_dm", rf"\b(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?(?P<mon>{_MON})(?:,?\s+(?P<y>(?:19|20)\d\d))?\b"),
    ("date_slash", r"(?<![\d/$.])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{2}|\d{4}))?(?![\d/%])"),
    # "the 9th" but not "the 5th floor": a word other than a preposition after it makes it an ordinal
    ("dom", r"\b(?:on\s+)?the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?!at\b|or\b|and\b|to\b|in\b|for\b|of\b|if\b|is\b|was\b|were\b|are\b|went\b|works?\b|worked\b|suits?\b|suited\b|sounds?\b|looks?\b|then\b|would\b|will\b|could\b|should\b|can\b|might\b|may\b|we\b|i\b|you\b|before\b|after\b|until\b|so\b|but\b|with\b|when\b|from\b|around\b|between\b|please\b|as\b|by\b|that\b|which\b|instead\b|still\b|okay\b|ok\b)[a-z])"),
    # days relative to the message
    ("rel", r"\b(?P<w>day\s+after\s+tomorrow|day\s+before\s+yesterday)\b"),
    ("rel", r"\b(?P<w>earlier\s+today|later\s+today|today|tonight|this\s+(?:morning|afternoon|evening|arvo))(?P<pos>'s|’s)?"),
    # "in an hour", "in 20 minutes": later the same day; "just now", a bare "earlier": earlier the same day
    ("rel", r"\b(?P<w>in\s+(?:an|one|two|a\s+couple\s+of|a\s+few|half\s+an|\d+|\d+\s*-\s*\d+|ten|twenty|thirty|fifteen|forty-five)\s+(?:hours?|hrs?|minutes|mins?))\b"),
    ("rel", r"\b(?P<w>just\s+now)\b"),
    ("rel", r"(?<!\bdays\s)(?<!\bweeks\s)(?<!\byears\s)(?<!\bhours\s)\b(?P<w>earlier)\b(?!\s+(?:this|that|in|than|on|today|tonight|last|today|version|draft|drafts|email|emails|e-mail|message|messages|mail|note|notes|point|one|ones|question|questions|thread|reply|comment|comments|request|proposal|offer|quote|estimate|plan|plans|date|dates|call|meeting|discussion|conversation|chat|note|years|days|weeks|months|stage|stages|rounds?|period|part|post|draft|response)\b)(?!-)"),
    ("rel", rf"\b(?P<w>yesterday|yday|y'day|yest|last\s+night|tomorrow|tmrw|tmw|tmrow|tomorow|tommorow|tommorrow|tomoz|2moro|2morrow)(?P<pos>'s|’s)?{_PART}\b"),
    # "that evening", "the same day": the day named just before
    ("anaphor", r"\b(?:that|the\s+same)\s+(?:evening|night|day|morning|afternoon|lunchtime|arvo)\b"),
    # weekdays
    ("wd", rf"\b(?:(?P<mod>last|next|this\s+coming|this|coming|on|past)\s+)?(?P<wd>{_WD})(?P<pos>'s|’s)?{_PART}\b"),
    ("wd_short", rf"(?<![\w-])(?P<wd>{_WD_SHORT})(?=[\s,]+\d)"),
    # ranges: a time is attached, but no single day
    ("range", rf"\b(?:the\s+)?week\s+(?:of|beginning|starting|commencing)\s+(?:the\s+)?(?:(?:{_MON})\s+\d{{1,2}}{_ORD}|\d{{1,2}}{_ORD}(?:\s+(?:of\s+)?(?:{_MON}))?|\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?)\b"),
    ("range", r"\b(?:(?:last|next|this|coming|the\s+following|following|later\s+this|earlier\s+this|end\s+of\s+(?:the|this|next)?)\s*)"
              r"(?:week|weekend|month|year|quarter|spring|summer|fall|autumn|winter|semester|term)(?:'s)?\b"),
    ("range", r"\b(?:in|over|during|at)\s+the\s+(?:spring|summer|fall|autumn|winter|new\s+year|holidays|break|weekend|week|month)\b"),
    ("range", r"\b(?:later|earlier)\s+in\s+the\s+(?:week|month|year|day)\b"),
    ("range", r"\b(?:in|within)\s+(?:a|one|two|three|four|a\s+few|a\s+couple(?:\s+of)?|the\s+next|\d+)\s+(?:days|weeks|months|day|week|month)\b"),
    ("range", r"\b(?:a|one|two|three|four|a\s+few|a\s+couple(?:\s+of)?|several|\d+)\s+(?:days|weeks|months|day|week|month|years|year)\s+ago\b"),
    ("range", r"\b(?:next|coming)\s+(?:few|couple(?:\s+of)?)\s+(?:days|weeks)\b"),
    ("range", r"\b(?:this|over\s+the|during\s+the|last|next)\s+(?:holidays?|break|vacation)\b"),
    ("range", rf"\b(?:in|during|by|early|mid|late|end\s+of|beginning\s+of|start\s+of|this|next|last)\s*-?\s*(?P<mon>{_MON_FULL})\b"),
    ("range", r"\b(?:Christmas|Xmas|Thanksgiving|Easter|New\s+Year'?s?)\b"),
    # clock times
    ("clock", r"\b(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?![a-z])"),
    ("clock", r"\b(?:(?:at\s+(?:about|around|approximately|roughly)|at|@|around|from)\s+)(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?(?![\d/:%.,]\d|\s*(?:%|percent|pm|am|bps|mm|million|k\b))"),
    ("clock", r"\b(?P<h>\d{1,2}):(?P<mi>\d{2})\b"),
    ("clock", r"\b(?P<word>one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})\s+o'?\s?clock\b"),
    ("clock", r"\b(?P<noon>noon|midday|lunchtime|after\s+work|(?:after|before)\s+lunch|first\s+thing|end\s+of\s+(?:the\s+)?day|close\s+of\s+business|cob|eod)\b"),
]
_COMPILED = [(name, re.compile(rx, re.I if name != "wd_short" else 0)) for name, rx in _PATTERNS]
_DEADLINE = re.compile(r"(?:\bby|\buntil|\btill|\btil|\bbefore|\bdue|\bthrough|\bno\s+later\s+than|\bas\s+of|\beffective|\bstarting)\s*(?:the\s+)?$", re.I)
_FROM = re.compile(r"\bfrom\s*(?:the\s+|on\s+)?$", re.I)
_FROM_TO = re.compile(r"^\s*(?:to|until|till|through|thru|-|–)\s*(?:the\s+|on\s+)?$", re.I)
_MOVE = re.compile(r"\b(?:move|moved|moving|push|pushed|pushing|shift|shifted|shifting|switch|switching|switched|"
                   r"reschedule|rescheduled|rescheduling|change|changed|changing|bump|bumped|swap|swapped|bring|brought|"
                   r"postpone|postponed|slide|slip|slipped)\b", re.I)
_VISIT_BY = re.compile(r"\b(?:come|comes|came|coming|stop|stops|stopped|stopping|drop|drops|dropped|dropping|swing|swung|"
                       r"swinging|pop|popped|popping|pass|passing|nip|run|walk|go|stick)\s+by\s*$", re.I)
_ALT = re.compile(r"^\s*(?:,|or|/|and/or|either)\s*(?:or\s+)?(?:on\s+)?$", re.I)


@dataclass
class TimeExpr:
    """One time expression: ``kind`` is day (a single day), range, or clock; ``start``/``end`` are offsets."""

    start: int
    end: int
    text: str
    kind: str  # day | range | clock
    form: str  # rel | wd | date | dom | range | clock
    offset: int | None = None  # rel: days from the message date
    weekday: int | None = None
    modifier: str | None = None  # last | next | this | coming | on | past
    possessive: bool = False
    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    deadline: bool = False  # "by Friday", "until 5": a deadline, not when a conversation happens
    alternative: bool = False  # "Monday or Tuesday"

    @property
    def direction(self) -> str | None:
        """'past' or 'future' when the expression itself says which way it points."""
        t = self.text.lower()
        if self.form == "rel":
            if self.modifier == "earlier":
                return "past"
            if self.modifier == "later":
                return "future"
            if self.offset:
                return "past" if self.offset < 0 else "future"
            if "earlier" in t or "morning" in t:
                return "past"
            if self.offset is not None and self.offset > 0 or any(w in t for w in ("later", "tonight", "afternoon", "evening", "arvo")):
                return "future"
            return None
        if self.form == "wd":
            if self.modifier in ("last", "past") or self.possessive:
                return "past"
            if self.modifier in ("next", "coming", "this coming"):
                return "future"
            return None
        if self.form == "range":
            if re.search(r"\b(last|ago|earlier|past)\b", t):
                return "past"
            if re.search(r"\b(next|coming|following|later|in\s+(a|one|two|three|four|the\s+next|\d)|within)\b", t):
                return "future"
        return None


def _weekday_index(word: str) -> int:
    w = word.lower().rstrip(".")
    if w.endswith("s") and w[:-1] in WEEKDAYS:
        w = w[:-1]
    if w in WEEKDAYS:
        return WEEKDAYS.index(w)
    return _WD_ABBR[w]


def _month_index(word: str) -> int:
    w = word.lower().rstrip(".")
    if w in MONTHS:
        return MONTHS.index(w) + 1
    return _MON_ABBR[w[:4] if w.startswith("sept") else w[:3]]


def find_times(text: str) -> list[TimeExpr]:
    """Every time expression in ``text``, longest first where they overlap, in text order."""
    found: list[TimeExpr] = []
    for name, rx in _COMPILED:
        for m in rx.finditer(text):
            expr = _build(name, m, text)
            if expr is not None:
                found.append(expr)
    found.sort(key=lambda e: (e.start, -(e.end - e.start)))
    kept: list[TimeExpr] = []
    for e in found:
        if kept and e.start < kept[-1].end:
            prev = kept[-1]
            # a weekday right before an explicit date ("Wed 10 Aug") is the same day: keep the date
            if prev.form == "wd" and e.form in ("date", "dom") or (e.end - e.start) > (prev.end - prev.start) and e.kind == "day" and prev.kind != "day":
                if prev.form == "wd" and e.form in ("date", "dom") and e.weekday is None:
                    e.weekday = prev.weekday  # "Wednesday November 14th": the weekday tells the year
                kept[-1] = e
            continue
        kept.append(e)
    _mark_pairs(kept, text)
    last = None
    for e in kept:
        if e.form == "anaphor":
            if last is not None:
                link_anaphor(e, last)
        elif e.kind == "day":
            last = e
    return kept


def link_anaphor(expr: TimeExpr, antecedent: TimeExpr) -> None:
    """Give "that evening" the day of the expression it points back to."""
    for name in ("form", "offset", "weekday", "modifier", "possessive", "year", "month", "day", "alternative"):
        setattr(expr, name, getattr(antecedent, name))


def _build(name: str, m: re.Match, text: str) -> TimeExpr | None:
    g = m.groupdict()
    s, e = m.start(), m.end()
    raw = m.group(0)
    if name.startswith("date") or name == "wd_date":
        if name == "wd_date" and not g.get("mon"):
            # "Tuesday the 7th", "Tuesday 19th": a day of the month named with its weekday
            if not re.search(r"(?:st|nd|rd|th)$", raw, re.I) and "the" not in raw.lower().split():
                return None
            day = int(g["d"])
            if not 1 <= day <= 31:
                return None
            return TimeExpr(s, e, raw, "day", "dom", day=day)
        try:
            month = int(g["m"]) if g.get("m") else _month_index(g["mon"])
        except (KeyError, ValueError):
            return None
        day = int(g["d"])
        year = g.get("y")
        if name == "date_slash" and month > 12 and day <= 12:  # 14/6: day first
            month, day = day, month
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None
        if name in ("date_md", "date_dm") and g.get("mon", "").lower().rstrip(".") in ("may", "march", "mar") \
                and not g["mon"][0].isupper():
            return None  # "we may 3..." / "march 3 miles" are not dates
        y = None
        if year:
            y = int(year)
            if y < 100:
                y += 2000 if y < 50 else 1900
        return TimeExpr(s, e, raw, "day", "date", year=y, month=month, day=day)
    if name == "anaphor":
        return TimeExpr(s, e, raw, "day", "anaphor")
    if name == "dom":
        day = int(g["d"])
        if not 1 <= day <= 31:
            return None
        return TimeExpr(s, e, raw, "day", "dom", day=day)
    if name == "rel":
        w = re.sub(r"\s+", " ", g["w"].lower())
        if w.startswith("in "):
            return TimeExpr(s, e, raw, "day", "rel", offset=0, modifier="later")
        if w in ("just now", "earlier"):
            return TimeExpr(s, e, raw, "day", "rel", offset=0, modifier="earlier")
        offset = {"yesterday": -1, "yday": -1, "y'day": -1, "yest": -1, "last night": -1, "tomorrow": 1, "tmrw": 1,
                  "tmw": 1, "tmrow": 1, "tomorow": 1, "tommorow": 1, "tommorrow": 1, "tomoz": 1, "2moro": 1, "2morrow": 1,
                  "day after tomorrow": 2, "day before yesterday": -2}.get(w, 0)
        return TimeExpr(s, e, raw, "day", "rel", offset=offset, possessive=bool(g.get("pos")))
    if name == "wd":
        mod = (g.get("mod") or "").lower() or None
        if mod:
            mod = re.sub(r"\s+", " ", mod)
        if (g["wd"].lower().endswith("s") and not g.get("pos") and g["wd"].lower()[:-1] in WEEKDAYS) or g.get("plural"):
            return TimeExpr(s, e, raw, "range", "range")  # "on Mondays", "Friday afternoons": a habit, not a day
        return TimeExpr(s, e, raw, "day", "wd", weekday=_weekday_index(g["wd"]), modifier=mod,
                        possessive=bool(g.get("pos")))
    if name == "wd_short":
        return TimeExpr(s, e, raw, "day", "wd", weekday=_weekday_index(g["wd"]))
    if name == "range":
        if g.get("mon") and g["mon"].lower() in ("may", "march") and not g["mon"][0].isupper():
            return None
        return TimeExpr(s, e, raw, "range", "range")
    if name == "clock":
        hour = None
        if g.get("h"):
            hour = int(g["h"])
            if hour > 24:
                return None
            ap = (g.get("ap") or "").lower().replace(".", "")
            if ap == "pm" and hour < 12:
                hour += 12
            elif not ap and 1 <= hour <= 7:
                hour += 12  # "at 3" in business mail is the afternoon
        elif g.get("word"):
            w = g["word"].lower()
            hour = int(w) if w.isdigit() else _NUMWORDS[w]
            if 1 <= hour <= 7:
                hour += 12
        elif g.get("noon"):
            hour = {"noon": 12, "midday": 12, "lunchtime": 12}.get(g["noon"].lower(), 17)
            if "first" in g["noon"].lower():
                hour = 8
            elif g["noon"].lower().endswith(" lunch"):
                hour = 13 if g["noon"].lower().startswith("after") else 11
        return TimeExpr(s, e, raw, "clock", "clock", hour=hour)
    return None


def _mark_pairs(exprs: list[TimeExpr], text: str) -> None:
    for i, e in enumerate(exprs):
        before = text[max(0, e.start - 30):e.start]
        if _DEADLINE.search(before) and not _VISIT_BY.search(before):
            e.deadline = True
        if i + 1 < len(exprs):
            nxt = exprs[i + 1]
            between = text[e.end:nxt.start]
            if e.kind == "day" and nxt.kind == "day" and _ALT.match(between) and "or" in between.lower():
                e.alternative = nxt.alternative = True
            if e.kind == "day" and nxt.kind == "day" and _FROM_TO.match(between) and _FROM.search(before):
                if _MOVE.search(text[max(0, e.start - 60):e.start]):
                    e.deadline = True  # "move it from Wednesday to Thursday": only the new day counts
                else:
                    e.alternative = nxt.alternative = True  # "from Monday to Wednesday": a span, no one day


def resolve_day(expr: TimeExpr, kind: str, local: datetime) -> date | None:
    """The calendar day ``expr`` names for a cue of ``kind`` in a message written at ``local`` time."""
    d0 = local.date()
    if expr.alternative or expr.kind != "day":
        return None
    if expr.form == "rel":
        return d0 + timedelta(days=expr.offset or 0)
    if expr.form == "wd":
        if expr.modifier in ("next",):
            # "next Tuesday" written on a Friday can only be in four days; written on a Monday it may be
            # tomorrow's or the week after's: ambiguous, no day
            if expr.weekday > d0.weekday():
                return None
            return d0 + timedelta(days=(expr.weekday - d0.weekday()) % 7 or 7)
        past = kind == "past" or expr.modifier in ("last", "past")
        if past:
            delta = (d0.weekday() - expr.weekday) % 7 or 7
            return d0 - timedelta(days=delta)
        delta = (expr.weekday - d0.weekday()) % 7 or 7
        return d0 + timedelta(days=delta)
    if expr.form == "date":
        if expr.year:
            try:
                return date(expr.year, expr.month, expr.day)
            except ValueError:
                return None
        if expr.weekday is not None:
            fits = _weekday_year(expr.month, expr.day, expr.weekday, d0)
            if fits is not None:
                return fits
        return _nearest_year(expr.month, expr.day, d0, kind)
    if expr.form == "dom":
        return _nearest_month(expr.day, d0, kind)
    return None


def _weekday_year(month: int, day: int, weekday: int, d0: date) -> date | None:
    """The date nearest ``d0`` whose weekday is the one written beside it ("Wednesday November 14th")."""
    options = []
    for y in (d0.year - 1, d0.year, d0.year + 1):
        try:
            d = date(y, month, day)
        except ValueError:
            continue
        if d.weekday() == weekday:
            options.append(d)
    return min(options, key=lambda o: abs((o - d0).days)) if options else None


def _nearest_year(month: int, day: int, d0: date, kind: str) -> date | None:
    options = []
    for y in (d0.year - 1, d0.year, d0.year + 1):
        try:
            options.append(date(y, month, day))
        except ValueError:
            continue
    if not options:
        return None
    if kind == "past":
        cands = [o for o in options if o <= d0]
        return max(cands) if cands else None
    if kind in ("planned", "request"):
        cands = [o for o in options if o >= d0]
        return min(cands) if cands else None
    return min(options, key=lambda o: abs((o - d0).days))


def _nearest_month(day: int, d0: date, kind: str) -> date | None:
    def make(y: int, m: int) -> date | None:
        while m < 1:
            y, m = y - 1, m + 12
        while m > 12:
            y, m = y + 1, m - 12
        try:
            return date(y, m, day)
        except ValueError:
            return None

    this = make(d0.year, d0.month)
    if kind == "past":
        return this if this and this <= d0 else make(d0.year, d0.month - 1)
    return this if this and this >= d0 else make(d0.year, d0.month + 1)


def clock_day(expr: TimeExpr, kind: str, local: datetime) -> date | None:
    """A bare clock time ("at 11") in a planned cue means later the same day, when that is still ahead."""
    if kind == "planned" and expr.hour is not None and expr.hour > local.hour:
        return local.date()
    return None
