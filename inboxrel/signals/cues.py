"""Conversation cues: did the author and the recipient talk (phone, video, face to face), or plan or ask to?

A blank English spaCy pipeline (``spacy.blank("en")``) with a ``span_ruler`` loaded from the pattern files in
``signals/patterns/`` marks trigger words (label = medium) and context phrases (other senses, boilerplate,
attempts, negation, tense and mood markers, third parties). The ``conversation_cues`` component then decides,
trigger by trigger and clause by clause, whether the conversation is between the author and the recipient,
whether it happened (past), is fixed with a time (planned) or only asked for (request), and which day it
names. Cues about the same conversation are merged, so a text gives one cue per conversation.

The rules are general English (the word lists are in ``patterns/lexicon.json``); spaCy is imported lazily.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources

from inboxrel.signals import when as when_mod
from inboxrel.signals.courtesy import drop_courtesy

MEDIA = ("video", "phone", "in_person", "unspecified")
SPECIFICITY = {"video": 4, "phone": 3, "in_person": 2, "unspecified": 1}
SPANS_KEY = "signals"


@dataclass
class Cue:
    """One conversation: kind past|planned|request|attempt, medium, the day (or None) and the sentence."""

    kind: str
    medium: str
    when: date | None
    sentence: str
    confidence: float
    start: int = 0  # character offset of the evidence in the analysed text
    party: str | None = None  # the other party when the text names them ("I spoke with Anne"): attribution decides

    def as_dict(self) -> dict:
        return {"kind": self.kind, "medium": self.medium, "when": self.when.isoformat() if self.when else None}


# -- pattern data ---------------------------------------------------------------------------------------

def _read(name: str) -> str:
    return resources.files("inboxrel.signals").joinpath("patterns").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def lexicon() -> dict:
    """The word lists of ``patterns/lexicon.json``, lists turned into sets."""
    raw = json.loads(_read("lexicon.json"))
    return {k: (set(v) if isinstance(v, list) else v) for k, v in raw.items() if not k.startswith("_")}


def load_patterns(expand: bool = True) -> list[dict]:
    """Every span_ruler pattern: the triggers, then the context phrases.

    With ``expand``, a first token given as a word list becomes one pattern per word: spaCy's matcher tests
    a plain word with a hash lookup but a word list with a predicate call on every token, which made the
    first-token test the whole cost of matching.
    """
    out = []
    for name in ("triggers.jsonl", "context.jsonl"):
        for line in _read(name).splitlines():
            if not line.strip():
                continue
            pat = json.loads(line)
            first = pat["pattern"][0]
            if expand and set(first) == {"LOWER"} and isinstance(first["LOWER"], dict) and set(first["LOWER"]) == {"IN"}:
                for word in first["LOWER"]["IN"]:
                    out.append({**pat, "pattern": [{"LOWER": word}] + pat["pattern"][1:]})
            else:
                out.append(pat)
    return out


class Prefilter:
    """The prefilter words as one regex, searched like ``re.compile(r"\\b(?:w1|w2|...)", re.I)``, only faster.

    A case-insensitive search tries both cases at every position and costs about five times a plain search of
    the lower-cased text, so ASCII text is lower-cased first (same length, same word boundaries). Non-ASCII
    text keeps the case-insensitive regex: it also folds a few other letters onto ASCII ones (the Kelvin
    sign onto k, the long s onto s, dotted and dotless i onto i), which lower-casing does not.
    """

    def __init__(self, words: list[str]):
        source = r"\b(?:" + "|".join(words) + r")"
        self.folded = re.compile(source, re.I)
        # a word with an upper-case letter would never match lower-cased text: then always fold
        self.lower = None if re.search(r"(?<!\\)[A-Z]", "".join(words)) else re.compile(self._by_first_letter(words))
        # sentence hits from one pass over the whole text equal per-sentence searches when the only context
        # the words look at is a word boundary (no anchors, no lookarounds)
        self.context_free = not re.search(r"\^|\$|\(\?<?[=!]|\\[AZ]", source)

    @staticmethod
    def _by_first_letter(words: list[str]) -> str:
        """The same alternation with the words grouped by their first letter: ``c(?:all|offee)|d(?:ial)``.

        The regex engine tries the alternatives one after another at every word start; grouped, it tests
        one letter per group instead of every word. A position matches when any alternative does, so the
        order of the alternatives changes which match is reported, never whether there is one. Words that
        do not start with a plain letter or digit (a group, an escape, a quantified first letter, a
        top-level ``|``) stay as they are.
        """
        groups: dict[str, list[str]] = {}
        rest = []
        for w in words:
            if w[:1].isascii() and w[:1].isalnum() and w[1:2] not in ("*", "+", "?", "{") and not _top_level_bar(w):
                groups.setdefault(w[0], []).append(w[1:])
            else:
                rest.append(w)
        alternatives = [c + "(?:" + "|".join(tails) + ")" for c, tails in groups.items()] + rest
        return r"\b(?:" + "|".join(alternatives) + r")"

    def search(self, text: str):
        """The first match in ``text`` (a match object, or None)."""
        if self.lower is not None and text.isascii():
            return self.lower.search(text.lower())
        return self.folded.search(text)

    def finditer(self, text: str):
        """Every non-overlapping match in ``text``, as ``re.finditer`` gives them."""
        if self.lower is not None and text.isascii():
            return self.lower.finditer(text.lower())
        return self.folded.finditer(text)


def _top_level_bar(regex: str) -> bool:
    """True when ``regex`` has a ``|`` outside any group or character class."""
    depth = 0
    in_class = False
    i = 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return True
        i += 1
    return False


@lru_cache(maxsize=1)
def prefilter() -> Prefilter:
    """The test every text with a possible cue or call attempt passes (texts that fail it skip spaCy)."""
    return Prefilter(json.loads(_read("prefilter.json"))["words"])


class IndexedRuler:
    """The pattern files matched like spaCy's SpanRuler, but indexed by each pattern's first word.

    spaCy's Matcher starts every pattern at every token, so its cost grows with the number of patterns
    (about 1,000 here) times the tokens; indexing by the first word tests only the patterns that can start
    at a token. Supports the token attributes the pattern files use (LOWER, ORTH as a word or IN/NOT_IN list,
    IS_ALPHA, IS_PUNCT, LIKE_URL, LIKE_NUM) and the OP quantifiers ?, *, + and {m,n}; each pattern reports its
    longest match at each start. tests/test_signals_cues.py checks it finds what span_ruler finds.

    Token attributes are read per doc with ``Doc.to_array`` as string ids and flags (one column per
    attribute, and only the columns a candidate pattern tests), and the patterns are compiled to the same
    ids: building a ``Token`` object for every test was most of the matching time.
    """

    _ATTRS = ("LOWER", "ORTH", "IS_ALPHA", "IS_PUNCT", "LIKE_URL", "LIKE_NUM")  # column numbers
    _EQ, _IN, _NOT_IN = 0, 1, 2

    def __init__(self, patterns: list[dict]):
        # the id spaCy stores for a string: its hash, or a small symbol id for words such as "number"
        from spacy.attrs import IDS
        from spacy.strings import get_string_id

        self._hash = get_string_id
        self._attr_ids = [IDS[a] for a in self._ATTRS]
        self.by_first: dict[int, list] = {}
        for order, p in enumerate(patterns):
            specs = [self._compile(t) for t in p["pattern"]]
            first = p["pattern"][0]
            key_attr = "LOWER" if "LOWER" in first else "ORTH"
            value = first.get(key_attr)
            words = [value] if isinstance(value, str) else list(value.get("IN", [])) if isinstance(value, dict) else []
            if not words or "OP" in first:
                raise ValueError(f"pattern {p} must start with a literal word")
            columns = tuple(sorted({col for _, _, tests in specs for col, _, _ in tests} - {0}))
            fixed = all(lo == hi == 1 for lo, hi, _ in specs)
            # a first token tested only on LOWER with lower-case words is already checked by the index
            skip = 1 if set(first) == {"LOWER"} and all(w == w.lower() for w in words) else 0
            for w in words:
                self.by_first.setdefault(get_string_id(w.lower()), []).append(
                    (order, p["label"], p.get("id", ""), specs, columns, len(specs) if fixed else 0, skip))
        # Per first word: the patterns to try at every occurrence, and those whose fixed second token is a
        # plain LOWER word (or list), tried only when the next token is one of them.
        self.index: dict[int, tuple] = {}
        for key, entries in self.by_first.items():
            every, by_second = [], {}
            for e in entries:
                specs, fixed, skip = e[3], e[5], e[6]
                second = specs[1][2] if fixed >= 2 and skip == 1 else ()
                if len(second) == 1 and second[0][0] == 0 and second[0][1] in (self._EQ, self._IN):
                    words2 = [second[0][2]] if second[0][1] == self._EQ else second[0][2]
                    for w2 in words2:
                        by_second.setdefault(w2, []).append(e[:6] + (2,))  # tokens 0 and 1 checked by the index
                else:
                    every.append(e)
            columns = tuple(sorted({c for e in entries for c in e[4]}))
            self.index[key] = (every, by_second, columns)

    def _compile(self, spec: dict):
        op = spec.get("OP", "1")
        lo, hi = {"1": (1, 1), "?": (0, 1), "*": (0, 99), "+": (1, 99)}.get(op, (None, None))
        if lo is None:
            m = re.fullmatch(r"\{(\d*),?(\d*)\}", op)
            lo, hi = int(m.group(1) or 0), int(m.group(2) or m.group(1) or 99)
        tests = []
        for attr, value in spec.items():
            if attr == "OP":
                continue
            col = self._ATTRS.index(attr)  # an attribute outside _ATTRS is an error in the pattern file
            if attr in ("LOWER", "ORTH"):
                if isinstance(value, str):
                    tests.append((col, self._EQ, self._hash(value)))
                elif "IN" in value:
                    tests.append((col, self._IN, frozenset(self._hash(v) for v in value["IN"])))
                else:
                    tests.append((col, self._NOT_IN, frozenset(self._hash(v) for v in value["NOT_IN"])))
            else:
                tests.append((col, self._EQ, value))
        return lo, hi, tuple(tests)

    @staticmethod
    def _fits(cols, j: int, tests) -> bool:
        for col, how, value in tests:
            x = cols[col][j]
            if how == 0:
                if x != value:
                    return False
            elif how == 1:
                if x not in value:
                    return False
            elif x in value:
                return False
        return True

    @staticmethod
    def _longest(cols, n_tokens: int, specs, k: int, i: int) -> int | None:
        if k == len(specs):
            return i
        lo, hi, tests = specs[k]
        best = None
        j = i
        n = 0
        while True:
            if n >= lo:
                end = IndexedRuler._longest(cols, n_tokens, specs, k + 1, j)
                if end is not None and (best is None or end > best):
                    best = end
            if n >= hi or j >= n_tokens or not IndexedRuler._fits(cols, j, tests):
                break
            j += 1
            n += 1
        return best

    def __call__(self, doc):
        from spacy.tokens import Span

        found = []
        n_tokens = len(doc)
        if n_tokens:
            index = self.index
            lower = doc.to_array(self._attr_ids[0]).tolist()
            cols: list = [lower] + [None] * (len(self._ATTRS) - 1)
            fits = self._fits
            for i in [i for i, h in enumerate(lower) if h in index]:
                every, by_second, columns = index[lower[i]]
                for c in columns:
                    if cols[c] is None:
                        cols[c] = doc.to_array(self._attr_ids[c]).tolist()
                cands = every
                if by_second and i + 1 < n_tokens:
                    more = by_second.get(lower[i + 1])
                    if more:
                        # the patterns in their file order, as the spans are reported
                        cands = sorted(every + more, key=_first) if every else more
                for _, label, pid, specs, _, fixed, skip in cands:
                    if fixed:
                        # every token once: no quantifier, so the only match is the whole pattern
                        end = i + fixed
                        if end > n_tokens or not all(fits(cols, i + k, specs[k][2]) for k in range(skip, fixed)):
                            continue
                    else:
                        end = self._longest(cols, n_tokens, specs, 0, i)
                    if end is not None and end > i:
                        found.append(Span(doc, i, end, label=label, span_id=pid))
        doc.spans[SPANS_KEY] = found
        return doc


def _first(entry):
    return entry[0]


_NLP = None


def build_nlp(ruler: str = "indexed"):
    """The spaCy pipeline: blank English, the pattern files (``ruler`` indexed or span_ruler), the resolver."""
    global _NLP
    if _NLP is not None and ruler == "indexed":
        return _NLP
    import spacy
    from spacy.language import Language
    from spacy.tokens import Doc

    if not Doc.has_extension("cues"):
        Doc.set_extension("cues", default=None)
    if "conversation_cues" not in Language.factories:
        @Language.component("conversation_cues")
        def _component(doc):
            local = doc.user_data.get("local_dt") or datetime(2000, 1, 1, 12)
            doc._.cues = resolve_cues(doc, local)
            return doc

    if "signal_patterns" not in Language.factories:
        @Language.factory("signal_patterns")
        def _make_ruler(nlp, name):
            return IndexedRuler(load_patterns(expand=False))

    nlp = spacy.blank("en")
    if ruler == "indexed":
        nlp.add_pipe("signal_patterns")
    else:
        sr = nlp.add_pipe("span_ruler", config={"spans_key": SPANS_KEY, "phrase_matcher_attr": "LOWER",
                                                "validate": False, "overwrite": True})
        sr.add_patterns(load_patterns())
    nlp.add_pipe("conversation_cues")
    if ruler == "indexed":
        _NLP = nlp
    return nlp


# -- text preparation --------------------------------------------------------------------------------------

_LINE_END = re.compile(r"[.!?:;]\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•>]|\d+[.)])\s+")


def prepare_text(text: str) -> str:
    """Join hard-wrapped lines into paragraphs; keep paragraph and list breaks as newlines."""
    out_lines: list[str] = []
    for para in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        buf = ""
        for ln in lines:
            if not buf:
                buf = ln
            elif _LINE_END.search(buf) or _BULLET.match(ln) or len(buf) < 25:
                out_lines.append(buf)
                buf = ln
            else:
                buf += " " + ln
        if buf:
            out_lines.append(buf)
        out_lines.append("")
    return "\n".join(out_lines).strip()


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+")


def candidate_text(text: str, rx) -> str:
    """Only the sentences that hold a trigger word, with their neighbours (a time may sit next door).

    Long bodies cost spaCy time in proportion to their length; the sentences far from any trigger word
    cannot change a cue, so they are dropped before tokenising. Sentences are kept whole and in order.
    ``rx`` is :func:`prefilter` (or any compiled regex); a sentence is a hit when ``rx.search(sentence)``
    finds something.
    """
    if len(text) < 200:
        return text
    sents = []  # (start, end) of the pieces _SENT_SPLIT.split gives, without the blank ones
    pos = 0
    for m in _SENT_SPLIT.finditer(text):
        if pos < m.start() and not text[pos:m.start()].isspace():
            sents.append((pos, m.start()))
        pos = m.end()
    if pos < len(text) and not text[pos:].isspace():
        sents.append((pos, len(text)))
    hits = _sentence_hits(text, sents, rx)
    keep = sorted({j for i in hits for j in (i - 1, i, i + 1) if 0 <= j < len(sents)})
    out = []
    prev = None
    for j in keep:
        if prev is not None and j != prev + 1:
            out.append("\n")
        a, b = sents[j]
        out.append(text[a:b] + "\n")
        prev = j
    return "".join(out)


def _sentence_hits(text: str, sents: list[tuple[int, int]], rx) -> set[int]:
    """Indexes of the sentences ``rx`` finds something in, from one pass over the whole text.

    A match inside one sentence makes it a hit. A match that runs across a sentence break ("give me a\nbuzz")
    is not a match of either sentence and may hide one that starts under it, so each sentence it touches is
    searched on its own, exactly as a per-sentence search would.
    """
    if not getattr(rx, "context_free", False):
        return {i for i, (a, b) in enumerate(sents) if rx.search(text[a:b])}
    starts = [a for a, _ in sents]
    hits: set[int] = set()
    recheck: set[int] = set()
    for m in rx.finditer(text):
        s, e = m.start(), max(m.end(), m.start() + 1)
        i = bisect_right(starts, s) - 1
        if i >= 0 and e <= sents[i][1]:
            hits.add(i)
            continue
        j = max(i, 0)
        while j < len(sents) and sents[j][0] < e:
            if sents[j][1] > s:
                recheck.add(j)
            j += 1
    for j in recheck - hits:
        a, b = sents[j]
        if rx.search(text[a:b]):
            hits.add(j)
    return hits


def analyze_texts(items: list[tuple[str, datetime]], batch_size: int = 64) -> list[list[Cue]]:
    """Cues for each (author's own text, local send time); texts without any trigger word skip spaCy."""
    results: list[list[Cue]] = [[] for _ in items]
    todo = []
    rx = prefilter()
    for i, (text, _local) in enumerate(items):
        if text and rx.search(text):
            todo.append(i)
    if not todo:
        return results
    nlp = build_nlp()
    docs = []
    for i in todo:
        doc = nlp.make_doc(candidate_text(prepare_text(items[i][0]), rx))
        doc.user_data["local_dt"] = items[i][1]
        docs.append(doc)
    for i, doc in zip(todo, nlp.pipe(docs, batch_size=batch_size)):
        results[i] = drop_courtesy(doc._.cues or [])
    return results


def local_datetime(value: str | datetime) -> datetime:
    """The send time as written (local wall clock) from an ISO string or an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.replace(tzinfo=None) if value.tzinfo is None else value.replace(tzinfo=None)


def local_from_utc(dt: datetime | None, offset_minutes: int | None) -> datetime:
    """The sender's local wall-clock time from a UTC datetime and the Date header's offset."""
    if dt is None:
        return datetime(2000, 1, 1, 12)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return (dt + timedelta(minutes=offset_minutes or 0)).replace(tzinfo=None)


# -- the resolver ------------------------------------------------------------------------------------------

_SENT_END = {".", "!", "?", "!!", "?!", "!?", "...", "…", "!!!", "??"}
_CLAUSE_BREAK = {",", ";", ":", "—", "–", "(", ")", "[", "]", "--"}
_CONJ_AFTER_COMMA = {"so", "but", "and", "because", "since", "as", "although", "though", "while", "then", "or"}
_CLAUSE_WORDS = {"but", "because", "although", "though", "whereas", "while"}
_VERB_CONTEXT = {"i", "we", "you", "they", "he", "she", "'ll", "will", "to", "please", "pls", "plz", "can", "could",
                 "would", "should", "'d", "must", "might", "may", "shall", "just", "also", "then", "and", "or",
                 "n't", "not", "never", "ever", "did", "do", "does", "gonna", "wanna", "'m", "am", "are", "'re",
                 "was", "were", "is", "have", "'ve", "had", "has", "finally", "already", "quickly", "briefly",
                 "really", "definitely", "probably", "happily", "gladly", "u", "ya", "actually", "still",
                 "only", "both", "all", "y'all", "so", "we've", "i've", "ll", "again", "rather", "better"}
_PAST_FORMS = {"called", "talked", "spoke", "spoken", "met", "chatted", "phoned", "rang", "rung", "visited",
               "discussed", "caught", "touched", "connected", "interviewed", "hosted", "shook", "bumped", "ran",
               "said", "sat", "stopped", "dropped", "came", "popped", "swung", "saw", "seen", "skyped", "zoomed",
               "dialed", "dialled", "heard", "telephoned", "got", "had", "synced", "debriefed", "walked"}
_PRESENT_PERFECT_AUX = {"have", "'ve", "has", "had", "'d"}
_TIME_WORDS = set(when_mod.WEEKDAYS) | set(when_mod.MONTHS) | {"today", "tomorrow", "yesterday", "tonight",
                                                                "morning", "afternoon", "evening", "night"}
_BRANDS = {"zoom", "teams", "webex", "skype", "google", "meet", "facetime", "hangout", "hangouts", "i", "re", "fw",
           "fwd", "ps", "p.s.", "ok", "okay", "pfa", "fyi", "thanks", "thank", "hi", "hello", "dear", "hey",
           "mr", "mrs", "ms", "dr", "q1", "q2", "q3", "q4", "eta", "asap", "pst", "est", "cst", "gmt", "utc"}
_ADVERBS_AFTER = {"directly", "briefly", "again", "up", "down", "together", "privately", "properly", "quickly", "in", "out",
                  "live", "soon", "sometime", "later", "too", "also", "first", "tomorrow", "today"}
_WITH_TO_FAMILIES = {"talk", "speak", "chat", "hello", "connect", "introduce", "sync", "catchup"}
_ENGAGED_FAMILIES = {"meal", "event", "session", "visit", "conversation", "discuss", "meet", "followup",
                     "catchup", "sync", "talk", "chat", "speak", "interview"}
_PLACE_PREP = {"at", "in"}
_TALK_FAMILIES = {"talk", "speak", "chat", "catchup", "sync", "meet", "discuss"}
_PLURALS = {"calls", "meetings", "lunches", "dinners", "breakfasts", "sessions", "conversations", "chats", "visits",
            "interviews", "discussions", "conferences", "coffees", "beers", "talks"}


_WEEKDAY_WORDS = set(when_mod.WEEKDAYS) | {"mon", "tue", "tues", "wed", "weds", "thu", "thur", "thurs", "fri", "sat", "sun"}
_MONTH_WORDS = set(when_mod.MONTHS) | {m[:3] for m in when_mod.MONTHS} | {"sept"}


@dataclass
class _Candidate:
    kind: str
    medium: str
    when: date | None
    sent_index: int
    start: int
    confidence: float
    sentence: str
    time_attached: bool
    party: str | None = None


def _segment(doc, quotes: list[int] | None = None) -> tuple[list[int], list[int]]:
    """Sentence and clause number for every token (and, into ``quotes``, the indexes of quotation marks)."""
    n = len(doc)
    sent = [0] * n
    clause = [0] * n
    s = c = 0
    prev_break = True
    # the previous two tokens' text, lower form and trailing whitespace (indexing the Doc builds Token objects)
    p1 = p1_low = p2_low = ""
    p1_ws = p2_ws = ""
    for i, tok in enumerate(doc):
        t = tok.text
        low = tok.lower_
        if i > 0:
            if p1 in _SENT_END or "\n" in p1:
                if not prev_break:
                    s += 1
                    c += 1
                    prev_break = True
            elif p1 == "," and i >= 2 and p2_low.rstrip(".") in _WEEKDAY_WORDS and \
                    (tok.like_num or low.rstrip(".") in _MONTH_WORDS):
                pass  # "Wednesday, October 10" is one date
            elif p1 in _CLAUSE_BREAK or (p1 in ("-", "–") and i >= 2 and p2_ws and p1_ws):
                c += 1
            elif low in _CLAUSE_WORDS:
                c += 1
        if t in _QUOTES and quotes is not None:
            quotes.append(i)
        if tok.is_space:
            if "\n" in t and not prev_break:
                s += 1
                c += 1
                prev_break = True
        else:
            prev_break = False
        sent[i], clause[i] = s, c
        p2_low, p2_ws = p1_low, p1_ws
        p1, p1_low, p1_ws = t, low, tok.whitespace_
    return sent, clause


def resolve_cues(doc, local: datetime) -> list[Cue]:
    """Turn the span_ruler's marks on ``doc`` into cues (see the module docstring)."""
    lex = lexicon()
    if not len(doc):
        return []
    quote_marks: list[int] = []
    sent_of, clause_of = _segment(doc, quote_marks)
    spans = list(doc.spans.get(SPANS_KEY, []))
    triggers = [sp for sp in spans if sp.label_ in MEDIA]
    ctx: dict[str, list] = {}
    for sp in spans:
        if sp.label_ not in MEDIA:
            ctx.setdefault(sp.label_, []).append(sp)
    if _is_broadcast(doc[:12].text):  # Doc.text joins every token: the opening words are enough here
        return []
    busy = ctx.get("busy", [])  # "I was in a meeting when you called": the author's own calls with others
    other = ctx.get("other", []) + busy
    busy_clauses = {clause_of[j] for sp in busy for j in range(sp.start, sp.end)}
    notneg = ctx.get("notneg", [])
    negation = [sp for sp in ctx.get("negation", [])
                if not any(x.start <= sp.start < x.end for x in notneg)]
    boiler_sents = {sent_of[sp.start] for sp in ctx.get("boilerplate", [])}
    third_sents = {sent_of[sp.start] for sp in ctx.get("third", [])}
    attempt_spans = ctx.get("attempt", [])
    markers = [(sp, "past") for sp in ctx.get("past", [])] + [(sp, "future") for sp in ctx.get("future", [])]
    markers = _longest(markers)
    sent_text: dict[int, str] = {}
    sent_bounds: dict[int, tuple[int, int]] = {}
    for i, s in enumerate(sent_of):
        a, b = sent_bounds.get(s, (i, i))
        sent_bounds[s] = (min(a, i), max(b, i + 1))
    for s, (a, b) in sent_bounds.items():
        sent_text[s] = doc[a:b].text.strip()
    times_by_sent = _LazyTimes(doc, sent_bounds)

    cands: list[_Candidate] = []
    attempt_sents = set()
    attempt_clauses = set()
    for sp in attempt_spans:
        s = sent_of[sp.start]
        if s in attempt_sents or s in boiler_sents:
            continue
        if _negated_before(sp, negation, clause_of, doc) and sp.label_ == "attempt" and doc[sp.start].lower_ not in ("n't", "not", "never", "nobody"):
            continue
        attempt_sents.add(s)
        attempt_clauses.update(clause_of[j] for j in range(sp.start, sp.end))
        cands.append(_Candidate("attempt", "phone", None, s, doc[sp.start].idx, 0.8, sent_text[s], False))

    quoted = _reported_quotes(doc, quote_marks, lex) if quote_marks else None
    valid: list[tuple] = []
    for sp in sorted(triggers, key=lambda x: x.start):
        s = sent_of[sp.start]
        if quoted and sp.start in quoted:
            continue  # 'Tom wrote: "lunch Friday?"': someone else's words
        if s in boiler_sents or s in third_sents or clause_of[sp.start] in attempt_clauses:
            continue
        if any(o.start < sp.end and sp.start < o.end for o in other):
            continue
        ok, role = _valid_trigger(doc, sp, lex, clause_of)
        if not ok:
            continue
        valid.append((sp, role))
    clauses_with_trigger = {clause_of[sp.start] for sp, _ in valid}
    sents_with_trigger = {sent_of[sp.start] for sp, _ in valid}
    negated: list[tuple] = []
    third_clauses: set[int] = set()

    for sp, role in valid:
        s = sent_of[sp.start]
        c = clause_of[sp.start]
        family = sp.id_
        medium = sp.label_
        third = _third_party(doc, sp, role, lex, clause_of, sent_of)
        party = None
        if isinstance(third, str) and _first_person_subject(doc, sp, clause_of, lex):
            party = third  # "I just spoke with Elizabeth": whether she is a correspondent is for attribution
        elif third or (c in third_clauses and sp.start > 0 and doc[sp.start - 1].lower_ == "to"):
            third_clauses.add(c)  # "a meeting with the PUC staff to discuss ...": the purpose shares the party
            continue
        if _negated_before(sp, negation, clause_of, doc) or _negated_after(doc, sp, clause_of):
            negated.append((sp, medium if not _place_after(doc, sp, clause_of, lex) else "in_person"))
            continue
        if family in _ENGAGED_FAMILIES and not _engaged(doc, sent_bounds[s], markers, sent_of, lex) \
                and not (role == "verb" and family in _TALK_FAMILIES and _is_imperative(doc, sp, clause_of)):
            continue  # an imperative ("Talk tomorrow.") addresses the recipient
        if medium == "unspecified" and (_place_after(doc, sp, clause_of, lex) or _onsite_before(doc, sp)):
            medium = "in_person"
        if medium in ("unspecified", "video") and family != "teams" and _written_channel(doc, sp, clause_of):
            continue
        # the time expressions that belong to this trigger
        times = [t for t in times_by_sent[s] if not t.deadline]
        in_clause = [t for t in times if clause_of[t.tok_start] == c]
        scope = in_clause or [t for t in times if clause_of[t.tok_start] not in clauses_with_trigger]
        back = _refers_back(doc, sp)
        if back and not scope:
            scope = times
        kind, strength = _kind(doc, sp, role, family, markers, clause_of, sent_of, scope, local, lex)
        if kind is None:
            continue
        if kind == "past" and (s in attempt_sents or c in busy_clauses):
            continue  # "I rang twice but it went to voicemail": the attempt, not a conversation
        if kind == "future" and not scope:
            scope = _borrow_time(doc, s, sents_with_trigger, times_by_sent, sent_text, local, back)
        time_attached = bool(scope)
        if kind == "future":
            kind = "planned" if time_attached else "request"
        day = _pick_day(scope, sp, kind, local)
        if kind == "request":
            day = None
            if _is_signoff(sent_text[s], lex) or _signoff_clause(doc, sp, clause_of, lex):
                continue
            if family == "see" and not any(m for m, _ in markers if sent_of[m.start] == s):
                continue  # "see you" with neither a time nor an invitation is a sign-off
        elif kind == "planned" and _is_signoff(sent_text[s], lex) and not _DAY_WORD.search(sent_text[s]):
            continue  # "Talk to you later.": a sign-off whose time names no day
        conf = (0.9 if medium != "unspecified" else 0.75) * strength
        cands.append(_Candidate(kind, medium, day, s, sp.start_char, round(conf, 2), sent_text[s], time_attached,
                                party))
    cands += _moved(doc, ctx.get("moved", []), negated, cands, clauses_with_trigger, sent_of, clause_of, times_by_sent,
                    sent_text, local, lex)
    return _merge(cands)


class _LazyTimes(dict):
    """Time expressions per sentence, found only for the sentences a trigger asks about."""

    def __init__(self, doc, bounds):
        super().__init__()
        self.doc, self.bounds = doc, bounds

    def __contains__(self, s):
        return s in self.bounds

    def __missing__(self, s):
        a, b = self.bounds[s]
        self[s] = value = _times_in(self.doc, a, b)
        if any(t.form == "anaphor" for t in value) and s - 1 in self.bounds:
            # "I'm in SF on the 15th. Dinner that evening?": the day of the sentence before
            days = [t for t in self[s - 1] if t.kind == "day" and t.form != "anaphor"]
            for t in value:
                if t.form == "anaphor" and days:
                    when_mod.link_anaphor(t, days[-1])
        return value


def _longest(markers):
    """Overlapping markers: the longest wins ("would be great to" over "great to")."""
    markers = sorted(markers, key=lambda m: (m[0].start, -(m[0].end - m[0].start)))
    kept = []
    for m in markers:
        if kept and m[0].start < kept[-1][0].end:
            if (m[0].end - m[0].start) > (kept[-1][0].end - kept[-1][0].start):
                kept[-1] = m
            continue
        kept.append(m)
    return kept


def _times_in(doc, a: int, b: int) -> list:
    span = doc[a:b]
    base = span.start_char
    out = []
    for t in when_mod.find_times(span.text):
        tok = doc.char_span(base + t.start, base + t.end, alignment_mode="expand")
        t.tok_start = tok.start if tok is not None else a
        t.tok_end = tok.end if tok is not None else a
        out.append(t)
    return out


def _prev(doc, i: int, n: int = 1):
    j = i - n
    return doc[j] if j >= 0 else None


def _next_word(doc, i: int):
    j = i
    while j < len(doc) and doc[j].is_space:
        j += 1
    return doc[j] if j < len(doc) else None


def _clause_start(doc, i: int, clause_of) -> int:
    j = i
    while j > 0 and clause_of[j - 1] == clause_of[i]:
        j -= 1
    while j < i and (doc[j].is_space or doc[j].is_punct):
        j += 1
    return j


def _clause_end(doc, i: int, clause_of) -> int:
    j = i
    while j < len(doc) and clause_of[j] == clause_of[i]:
        j += 1
    return j


_LEAD_WORDS = {"please", "so", "and", "just", "then", "pls", "plz", "maybe", "perhaps", "also", "or", "but", "now",
               "do", "oh", "ok", "okay", "yes", "sure", "great", "cool", "hi", "hey"}


def _is_imperative(doc, sp, clause_of) -> bool:
    j = _clause_start(doc, sp.start, clause_of)
    while j < sp.start and doc[j].lower_ in _LEAD_WORDS:
        j += 1
    return j == sp.start


def _role(doc, sp, clause_of) -> str:
    """'verb' or 'noun' for the trigger's head word, from the word before it."""
    head = doc[sp.start]
    prev = _prev(doc, sp.start)
    if prev is not None and prev.lower_ in ("'s", "’s") and (_prev(doc, sp.start, 2) is None or _prev(doc, sp.start, 2).lower_ != "let"):
        return "noun"
    if prev is not None and prev.lower_ in _VERB_CONTEXT and clause_of[prev.i] == clause_of[sp.start]:
        return "verb"
    if prev is not None and prev.lower_ == "'s" and _prev(doc, sp.start, 2).lower_ == "let":
        return "verb"
    if _is_imperative(doc, sp, clause_of) and head.lower_ in ("call", "ring", "phone", "dial", "meet", "talk", "speak",
                                                               "chat", "discuss", "visit", "connect", "sync", "see",
                                                               "touch", "catch", "stop", "come", "drop", "swing",
                                                               "pop", "get", "skype", "zoom", "facetime", "have"):
        return "verb"
    if head.lower_.endswith("ed") or head.lower_ in _PAST_FORMS:
        return "verb"
    if head.lower_.endswith("ing") and prev is not None and prev.lower_ in ("for", "about", "after", "before", "by", "from"):
        return "verb"  # "thanks for calling Acme support": a gerund with its own object
    return "noun"


def _object_ok(doc, sp, lex) -> bool:
    nxt = _next_word(doc, sp.end)
    if nxt is None or nxt.is_punct or nxt.lower_ in lex["ok_object"] or nxt.like_num:
        return True
    if nxt.lower_ in ("'s",):
        return True
    if nxt.lower_ == "the":  # "met the day before yesterday", "spoke the other day", "call the 4th"
        after = _next_word(doc, nxt.i + 1)
        return after is not None and (after.lower_ in ("day", "other", "week", "morning", "evening", "night", "afternoon",
                                                         "weekend", "following", "next")
                                      or re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", after.lower_) is not None)
    return False


def _valid_trigger(doc, sp, lex, clause_of) -> tuple[bool, str]:
    fam = sp.id_
    head = doc[sp.start]
    w = head.lower_
    prev = _prev(doc, sp.start)
    pw = prev.lower_ if prev is not None else ""
    nxt = _next_word(doc, sp.end)
    nw = nxt.lower_ if nxt is not None else ""
    role = _role(doc, sp, clause_of)
    plural_ok = pw in lex["plural_generic_ok"]
    last = doc[sp.end - 1].lower_
    if last in _PLURALS and not plural_ok and role != "verb":
        return False, "noun"
    if fam == "call":
        if w == "calls" and role != "verb":
            return plural_ok, "noun"
        if role == "verb":
            return _object_ok(doc, sp, lex), role
        return True, role
    if fam == "ring":
        if w in ("ring", "rings") and pw == "a":
            return any(doc[j].lower_ in ("give", "gimme", "giving", "gave") for j in range(max(0, sp.start - 4), sp.start)), "noun"
        return nw in ("me", "you", "us", "my", "your", "back", "round", "around", "ya", "u", "him", "her", "them") \
            or (w == "rang" and (nxt is None or nxt.is_punct)), "verb"
    if fam == "phone":
        if w in ("phoned", "phoning", "telephoned", "telephoning"):
            return _object_ok(doc, sp, lex), "verb"
        if w == "phones":
            return False, "noun"
        if pw in ("by", "via", "over") or (pw == "the" and _prev(doc, sp.start, 2) is not None
                                             and _prev(doc, sp.start, 2).lower_ in ("on", "over", "via", "by")):
            return True, "noun"
        if w.endswith("ally"):
            return True, "verb"  # "discuss telephonically"
        return nw in ("call", "calls", "conversation", "chat", "meeting", "interview", "me", "you", "us", "back",
                      "him", "her", "them", "conference", "discussion", "discussions", "round", "screen",
                      "catch-up", "catchup", "conversations"), "verb"
    if fam == "dial":
        return nw in ("me", "you", "us", "your", "my", "our"), "verb"
    if fam == "buzz":
        if doc[sp.end - 1].lower_ == "shout":
            return False, "noun"
        return any(doc[j].lower_ in ("give", "gimme", "giving", "gave") for j in range(max(0, sp.start - 3), sp.start)), "noun"
    if fam == "teams":
        return pw in ("on", "via", "over", "through", "ms", "microsoft", "in") or nw in (
            "call", "calls", "meeting", "meetings", "link", "invite", "session", "video"), "noun"
    if fam == "meal":
        if w == "drink":
            return pw in ("a", "that", "the", "our", "this", "quick", "for", "another", "one", "celebratory"), "noun"
        if pw in ("after", "before", "during", "from", "since", "until", "till", "at") or \
                (pw == "to" and _prev(doc, sp.start, 2) is not None and _prev(doc, sp.start, 2).lower_ == "out"):
            return False, "noun"
        return True, "noun"
    if fam == "visit":
        if role == "verb" and w != "visited":
            return _object_ok(doc, sp, lex) or nw in ("your", "our"), role
        if w == "visited":
            return _object_ok(doc, sp, lex), "verb"
        return True, "noun"
    if fam == "dropby":
        if w in ("come", "came", "coming", "comes") and doc[sp.end - 1].lower_ == "in":
            return False, "verb"
        if pw in ("a", "the", "big", "sharp"):
            return False, "noun"
        return True, "verb"
    if fam == "hello":
        return nw != "to", "verb"
    if fam == "event":
        a, b = _clause_start(doc, sp.start, clause_of), _clause_end(doc, sp.start, clause_of)
        return any(doc[j].lower_ in ("you", "your", "ya", "u") for j in range(a, b)), "noun"
    if fam in ("talk", "speak", "chat", "discuss", "connect", "interview", "sync"):
        if fam == "talk" and w == "talks":
            return False, "noun"
        if fam == "talk" and role == "noun" and pw not in ("a", "our", "good", "great", "nice", "long", "quick", "little",
                                                            "short", "proper", "real", "brief", "frank", "lovely", "the"):
            return False, "noun"
        if fam == "discuss" and w.startswith("discussion") and role == "noun":
            return (pw in lex["determiners"] or pw in ("'s", "’s") or pw.endswith("'s")), "noun"
        if fam == "sync" and role == "noun" and pw not in lex["determiners"] and nw != "up":
            return False, "noun"
        if fam in ("connect", "interview") and role == "verb":
            return _object_ok(doc, sp, lex), role
        if role == "verb" and fam in ("talk", "speak", "chat") and nw not in ("about", "through", "over", "shop", "it", "things", "business"):
            return _object_ok(doc, sp, lex) or nw in ("about",), role
        return True, role
    if fam == "meet":
        if w == "meets":
            return False, "verb"
        if w == "meetings":
            return plural_ok, "noun"
        if w == "meeting" and pw not in ("'m", "am", "are", "'re", "is", "be", "was", "were", "been", "to", "for", "of", "after", "before"):
            return True, "noun"
        if w == "meeting" and pw in ("after", "before"):
            return nw in ("you", "ya", "u", "with", "up"), "verb"
        return _object_ok(doc, sp, lex), "verb"
    if fam == "session":
        if w.endswith("s") and w not in ("debrief",) and w.endswith("sessions"):
            return plural_ok, "noun"
        return (pw in lex["determiners"] or pw in ("'s", "’s", "fun", "great", "good", "productive") or role == "verb"
                or nw == "with" or _is_imperative(doc, sp, clause_of)), "noun"
    if fam == "followup":
        return pw in lex["determiners"] and nw not in ("email", "e-mail", "note", "message", "letter", "question",
                                                       "questions", "item", "items", "mail", "memo", "on", "to", "regarding",
                                                       "re", "about"), "noun"
    if fam == "walk":
        a, b = _clause_start(doc, sp.start, clause_of), _clause_end(doc, sp.start, clause_of)
        words = {doc[j].lower_ for j in range(a, b)}
        return bool(words & {"live", "person", "phone", "call", "zoom", "video"}), "verb"
    if fam == "see":
        return True, "verb"
    if fam == "zoom":
        return True, "noun"
    return True, role


def _engaged(doc, bounds, markers, sent_of, lex) -> bool:
    """The sentence involves the author or the recipient (a pronoun, an invitation or a thank-you)."""
    a, b = bounds
    people = lex["first_person"] | lex["second_person"]
    if any(doc[j].lower_ in people for j in range(a, b)):
        return True
    s = sent_of[a]
    return any(sent_of[m.start] == s for m, _ in markers) or doc[b - 1].text == "?"


def _is_name(doc, i: int, sent_start: int, lex) -> bool:
    tok = doc[i]
    if not tok.is_alpha or not tok.text[:1].isupper() or tok.lower_ in _TIME_WORDS or tok.lower_ in _BRANDS \
            or tok.is_stop:
        return False
    if tok.lower_ in lex["first_person"] | lex["second_person"] | lex["expletive"] | lex["third_pronouns"]:
        return False
    if tok.text.isupper() and len(tok.text) > 1 and tok.lower_ in ("hr", "ceo", "cfo"):
        return True
    if i == sent_start or (i > 0 and doc[i - 1].is_punct) or (i > 0 and doc[i - 1].is_space):
        # a capitalised first word is a name only when a verb, a possessive or "and" follows it
        nxt = _next_word(doc, i + 1)
        if nxt is None:
            return False
        return nxt.lower_ in lex["verb_like"] or nxt.lower_ in ("'s", "’s", "and") or nxt.lower_ in _PAST_FORMS \
            or (nxt.lower_.endswith("ed") and nxt.lower_ not in lex["future_adjectives"])
    return True


def _first_person_subject(doc, sp, clause_of, lex) -> bool:
    """True when the trigger's clause has I or we before it ("I just spoke with Anne")."""
    a = _clause_start(doc, sp.start, clause_of)
    return any(doc[j].lower_ in ("i", "we", "let's") for j in range(a, sp.start))


def _third_party(doc, sp, role, lex, clause_of, sent_of) -> bool | str:
    """True when the conversation is someone else's: another subject, another object, 'with' someone else.

    A proper name straight after the trigger ("with Tom") is returned instead of True: the conversation is
    with Tom, who may or may not be a correspondent of this message.
    """
    a = _clause_start(doc, sp.start, clause_of)
    sent_start = a
    while sent_start > 0 and sent_of[sent_start - 1] == sent_of[sp.start]:
        sent_start -= 1
    before = [doc[j] for j in range(a, sp.start)]
    people = lex["first_person"] | lex["second_person"]
    # possessive of someone else: "his call", "Bob's lunch"
    prev = _prev(doc, sp.start)
    if prev is not None and prev.lower_ in ("his", "her", "their"):
        return True
    if prev is not None and prev.lower_ in ("'s", "’s") and sp.start >= 2 and _is_name(doc, sp.start - 2, sent_start, lex) \
            and doc[sp.start - 2].lower_ != "let":
        return True
    if _asked_about(doc, sp, a, clause_of):
        return True
    # "ask Tom to call you", "I'll have Sarah ring you": someone else does the talking
    if sp.start - 1 > a:
        k = sp.start - 1
        if doc[k].lower_ == "to" and k - 1 > a:
            k -= 1
        agent = doc[k]
        if agent.lower_ in ("him", "her", "them") or (agent.lower_ in lex["person_nouns"] and agent.lower_ not in _COLLECTIVE) \
                or (agent.is_alpha and agent.text[:1].isupper() and _is_name(doc, k, sent_start, lex)):
            if doc[k - 1].lower_ in _CAUSATIVE or (k - 2 >= a and doc[k - 2].lower_ in _CAUSATIVE):
                return True
    # "with Tom", "to the auditors" straight after the trigger
    j = sp.end
    while j < len(doc) and (doc[j].lower_ in _ADVERBS_AFTER or doc[j].lower_ in _TIME_WORDS or doc[j].is_space) \
            and j - sp.end < 4:
        j += 1
    to_person = doc[j].lower_ == "to" and sp.id_ in ("call", "phone", "ring") and j + 1 < len(doc) and (
        doc[j + 1].lower_ in ("the", "a", "an", "his", "her", "their", "my", "our") or _is_name(doc, j + 1, sent_start, lex)) \
        if j < len(doc) else False  # "put a call in to the broker", not "call to confirm"
    if j < len(doc) and (doc[j].lower_ == "with" or (doc[j].lower_ == "to" and sp.id_ in _WITH_TO_FAMILIES) or to_person):
        np = []
        k = j + 1
        while k < len(doc) and len(np) < 6 and not doc[k].is_punct and doc[k].lower_ not in ("about", "on", "re", "regarding", "to", "at", "in", "for", "tomorrow", "today", "when", "if"):
            np.append(doc[k])
            k += 1
        words = {t.lower_ for t in np}
        if np and not words & {"you", "u", "ya", "us", "me", "y'all", "yourself", "yourselves"}:
            if _is_name(doc, np[0].i, sent_start, lex):
                # "with Tom Smith": a named party, for attribution to match against the headers
                two = len(np) > 1 and np[1].is_alpha and np[1].text[:1].isupper()
                return np[0].text + (" " + np[1].text if two else "")
            return True
    # the object of a verb trigger: "call the bank", "meet Tom"
    if role == "verb" and sp.id_ in ("call", "meet", "visit", "phone", "ring", "host", "connect", "see"):
        nxt = _next_word(doc, sp.end)
        if nxt is not None and nxt.lower_ in ("him", "her", "them"):
            return True
        if nxt is not None and nxt.lower_ in ("my", "your", "our") and _possessed_person(list(doc[nxt.i:nxt.i + 3]), lex):
            return True
    # a later first-person subject takes over: "my wife says hi and we'd love to have you over"
    for t in reversed(before):
        if t.lower_ in ("i", "we", "let", "let's") and t.i > a and doc[t.i - 1].lower_ in (
                "and", "so", "but", "then", "that", "because", "if", "when", "as", "since"):
            return False
    # the clause's subject, up to its first verb
    subject = []
    for t in before:
        lw = t.lower_
        if lw in lex["verb_like"] or lw in _PAST_FORMS or (lw.endswith("ed") and lw not in lex["future_adjectives"]):
            break
        subject.append(t)
    if any(t.lower_ in _SUBJECT_PRONOUNS for t in subject):
        return False
    if any(t.lower_ in lex["third_pronouns"] or _is_name(doc, t.i, sent_start, lex) for t in subject):
        return True
    if _possessed_person(subject, lex):
        return True  # "your assistant called", "our HR manager will call you"
    if any(t.lower_ in people for t in before):
        return False
    for t in subject:
        if t.lower_ in lex["third_pronouns"]:
            return True
        if _is_name(doc, t.i, sent_start, lex):
            return True
    if role == "verb" and subject:
        words = [t for t in subject if t.is_alpha]
        if words and words[0].lower_ in ("the", "a", "an", "this", "that", "these", "those", "my", "our", "your", "its") \
                and len(words) >= 2 and words[0].lower_ not in lex["expletive"] - {"this", "that"}:
            return True
        if words and words[-1].lower_ in lex["person_nouns"]:
            return True
    return False


_CAUSATIVE = {"ask", "asked", "asking", "have", "had", "having", "get", "got", "getting", "tell", "told", "telling", "let",
              "make", "made", "want", "wants", "wanted", "need", "needs", "arrange", "arranged", "for"}
_COLLECTIVE = {"team", "teams", "group", "delegation", "family", "folks", "company", "firm", "guys", "people", "office",
               "department", "desk", "staff", "side", "all", "both", "two"}
_SUBJECT_PRONOUNS = {"i", "we", "you", "u", "ya", "me", "us", "let", "let's", "y'all"}


def _possessed_person(tokens, lex) -> bool:
    for i, t in enumerate(tokens):
        if t.lower_ in ("my", "your", "our"):
            nouns = [x.lower_ for x in tokens[i + 1:i + 3] if x.lower_ in lex["person_nouns"]]
            # "our team", "our delegation" include the author; "our manager", "your assistant" do not
            if nouns and not (t.lower_ == "our" and nouns[0] in _COLLECTIVE):
                return True
    return False


def _negated_before(sp, negation, clause_of, doc) -> bool:
    c = clause_of[sp.start]
    for n in negation:
        if n.start < sp.start and clause_of[n.start] == c:
            return True
    return False


_AUX = {"is", "was", "are", "were", "will", "would", "'s", "does", "do", "did", "has", "had", "'ll", "can", "could",
        "should", "'d", "wo", "ca", "got", "been", "be"}


def _negated_after(doc, sp, clause_of) -> bool:
    """'a meeting isn't necessary', 'lunch was cancelled': a negation right after the trigger."""
    c = clause_of[sp.start]
    seen_aux = False
    for j in range(sp.end, min(len(doc), sp.end + 4)):
        if clause_of[j] != c:
            break
        w = doc[j].lower_
        if w in _AUX:
            seen_aux = True
            continue
        if seen_aux and w in ("not", "n't", "never", "cancelled", "canceled", "off", "postponed", "unnecessary", "scrapped",
                              "overkill", "pointless", "redundant", "superfluous", "excessive", "needless"):
            return True
        if not seen_aux:
            break
    return False


def _place_after(doc, sp, clause_of, lex) -> bool:
    """An unspecified conversation at a place ('at your office', 'at KubeCon', 'in the car') is in person."""
    c = clause_of[sp.start]
    end = _clause_end(doc, sp.start, clause_of)
    for j in range(sp.end, min(end, sp.end + 6)):
        if doc[j].lower_ in _TOPIC_PREP:
            break  # "a chat about a role at Acme": the place belongs to the topic, not to the chat
        if doc[j].lower_ not in _PLACE_PREP and doc[j].lower_ != "on":
            continue
        k = j + 1
        while k < end and doc[k].lower_ in ("the", "your", "my", "our", "a", "his", "her", "their"):
            k += 1
        if k >= end or clause_of[k] != c:
            continue
        tok = doc[k]
        if doc[j].lower_ == "on":
            if tok.lower_ in lex["vehicle_nouns"]:
                return True  # "the chat on the train"
            continue
        if tok.lower_ in ("yours", "mine", "ours"):
            return True
        if tok.lower_ in lex["place_nouns"]:
            return True
        nxt = doc[k + 1] if k + 1 < end else None
        if doc[j].lower_ == "at" and nxt is not None and tok.is_alpha and tok.is_lower \
                and (nxt.lower_ in lex["place_nouns"] or nxt.lower_ in lex["event_nouns"]):
            return True  # "at the poster session", "at the trade show"
        if doc[j].lower_ == "at" and tok.lower_ in lex["event_nouns"]:
            return True
        if doc[j].lower_ == "at" and tok.like_num and nxt is not None and nxt.is_alpha and nxt.text[:1].isupper() \
                and not nxt.text.isupper() and nxt.lower_ not in _TIME_WORDS and nxt.lower_ not in _BRANDS:
            return True  # a street address: "at 500 Boylston St"
        # "client's site", "Carrabba's"
        if k + 2 < end and doc[k + 1].lower_ in ("'s", "’s") and doc[k + 2].lower_ in lex["place_nouns"]:
            return True
        if doc[j].lower_ == "at" and tok.is_alpha and tok.text[:1].isupper() and tok.lower_ not in _TIME_WORDS \
                and tok.lower_ not in _BRANDS:
            return True
    return False


_WRITTEN = {"email", "e-mail", "emails", "mail", "text", "texts", "sms", "whatsapp", "slack", "message", "messages",
            "letter", "memo", "linkedin", "fax", "writing", "im", "dm", "chat", "note", "imessage", "telegram"}


def _written_channel(doc, sp, clause_of) -> bool:
    c = clause_of[sp.start]
    end = _clause_end(doc, sp.start, clause_of)
    for j in range(sp.end, min(end, sp.end + 5)):
        if doc[j].lower_ in ("by", "via", "over", "through", "per", "in", "on") and j + 1 < end:
            k = j + 1
            while k < end and doc[k].lower_ in ("the", "an", "a", "my", "your", "our"):
                k += 1
            if k < end and doc[k].lower_ in _WRITTEN and clause_of[k] == c:
                return True
    return False


def _kind(doc, sp, role, family, markers, clause_of, sent_of, scope, local, lex) -> tuple[str | None, float]:
    """'past' or 'future' (planned or request is decided by the time) and how sure we are."""
    head = doc[sp.start].lower_
    prev = _prev(doc, sp.start)
    pw = prev.lower_ if prev is not None else ""
    c = clause_of[sp.start]
    s = sent_of[sp.start]
    # the trigger's own tense
    if role == "verb" and (head in _PAST_FORMS or (head.endswith("ed") and head not in lex["future_adjectives"])):
        if pw not in ("to", "will", "'ll", "would", "can", "could", "should", "must", "shall", "might", "may"):
            return "past", 1.0
    if role == "verb" and pw in ("will", "'ll", "shall", "let", "gonna", "wanna") or (pw in ("'s",) and _prev(doc, sp.start, 2) is not None and _prev(doc, sp.start, 2).lower_ == "let"):
        return "future", 1.0
    if role == "verb" and _is_imperative(doc, sp, clause_of) and head in (
            "call", "ring", "phone", "dial", "meet", "talk", "speak", "chat", "discuss", "visit", "connect", "sync",
            "touch", "catch", "stop", "come", "drop", "swing", "pop", "get", "skype", "facetime", "have"):
        return "future", 1.0
    if family == "see" and head in ("see", "c", "catch") and pw not in ("to", "did", "'d", "could", "would", "might"):
        return "future", 0.9  # "see you there", "catch you Friday": never a report of the past
    # the nearest tense or mood marker, in the clause, then in the sentence
    for scope_level, weight in (("clause", 1.0), ("sentence", 0.85)):
        best = None
        for m, label in markers:
            if scope_level == "clause" and clause_of[m.start] != c:
                continue
            if scope_level == "sentence" and sent_of[m.start] != s:
                continue
            dist = sp.start - m.end if m.end <= sp.start else m.start - sp.end
            dist = max(dist, 0) + (0 if m.end <= sp.start else 1)
            if best is None or dist < best[0]:
                best = (dist, label)
        tok_best = _past_token(doc, sp, clause_of, sent_of, scope_level, lex)
        if tok_best is not None and (best is None or tok_best < best[0]):
            best = (tok_best, "past")
        if best is not None:
            return best[1], weight
        if scope_level == "clause" and _question(doc, sp, sent_of):
            return "future", 0.9
    # the time says which way it points
    for t in sorted(scope, key=lambda t: abs(t.tok_start - sp.start)):
        d = t.direction
        if t.form == "rel" and not t.offset and t.modifier is None:
            low = t.text.lower()  # "this afternoon" written at 5 pm is behind us; "this morning" at 7 am is ahead
            if "afternoon" in low and local.hour >= 17 or "evening" in low and local.hour >= 21:
                d = "past"
            elif "morning" in low and local.hour < 8:
                d = "future"
        if d is None and t.kind == "day" and t.form in ("date", "dom"):
            day = when_mod.resolve_day(t, "any", local)
            if day is not None and day != local.date():
                d = "past" if day < local.date() else "future"
        if d is None and t.form == "wd" and not t.possessive:
            d = "future"
        if d:
            return d, 0.8
    if family == "host" or family == "bump":
        return "past", 0.8
    if family == "over":
        return "future", 0.8
    return None, 0.0


def _question(doc, sp, sent_of) -> bool:
    s = sent_of[sp.start]
    j = sp.end
    while j < len(doc) and sent_of[j] == s:
        j += 1
    last = doc[j - 1] if j - 1 < len(doc) else None
    while last is not None and last.is_space and last.i > sp.start:
        last = doc[last.i - 1]
    return last is not None and "?" in last.text


def _past_token(doc, sp, clause_of, sent_of, level, lex) -> int | None:
    """Distance to the nearest past-tense word (other than the trigger) in the clause or sentence."""
    best = None
    c, s = clause_of[sp.start], sent_of[sp.start]
    a, b = sp.start, sp.end
    while a > 0 and sent_of[a - 1] == s:
        a -= 1
    while b < len(sent_of) and sent_of[b] == s:
        b += 1
    for tok in doc[a:b]:
        if level == "clause" and clause_of[tok.i] != c:
            continue
        if sp.start <= tok.i < sp.end:
            continue
        w = tok.lower_
        if w in lex["irregular_past"] or (w.endswith("ed") and len(w) > 4 and w not in lex["future_adjectives"]
                                          and tok.is_alpha):
            if w == "had" and _next_word(doc, tok.i + 1) is not None and _next_word(doc, tok.i + 1).lower_ in ("better", "to"):
                continue
            prev = _prev(doc, tok.i)
            if prev is not None and prev.lower_ in ("to", "will", "'ll", "be", "being", "get", "been", "is", "are", "am", "'m", "'re"):
                continue  # "to be attached", "will be scheduled"
            if prev is not None and w not in lex["irregular_past"] and _attributive(doc, tok, prev, lex):
                continue  # "mince pies and mulled wine", "the revised draft": an adjective, not a tense
            dist = sp.start - tok.i if tok.i < sp.start else tok.i - sp.end + 1
            if best is None or dist < best:
                best = dist
    return best


def _borrow_time(doc, s, sents_with_trigger, times_by_sent, sent_text, local, back=False):
    """A planned cue may take its time from the sentence before or after: 'Five o'clock today work for you?'

    With ``back`` ("see you there", "speak then") the cue points at the sentence before, whatever it says.
    """
    for other in (s - 1, s + 1):
        if other not in times_by_sent or other in sents_with_trigger and not (back and other == s - 1):
            continue
        text = sent_text[other].lower()
        if not (back and other == s - 1) and not (text.rstrip().endswith("?") or re.search(r"\b(works?|suits?|free|available|good for you|ok for you)\b", text)):
            continue
        ts = [t for t in times_by_sent[other] if not t.deadline and t.direction != "past"]
        if ts:
            return ts
    return []


def _pick_day(scope, sp, kind, local) -> date | None:
    if kind not in ("past", "planned"):
        return None
    days = [t for t in scope if t.kind == "day"]
    if any(t.alternative for t in days):
        return None
    if days:
        nearest = min(days, key=lambda t: abs(t.tok_start - sp.start))
        return when_mod.resolve_day(nearest, kind, local)
    clocks = [t for t in scope if t.kind == "clock"]
    if clocks and not any(t.kind == "range" for t in scope):
        return when_mod.clock_day(clocks[0], kind, local)
    return None


_DAY_WORD = re.compile(r"\b(?:mon|tue|wed|thu|fri|sat|sun)\w*|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|"
                       r"\d|\b(?:tomorrow|tonight|today|morning|afternoon|evening|noon|week|weekend)\b", re.I)


def _is_signoff(sentence: str, lex) -> bool:
    s = sentence.strip().lower()
    if re.match(lex["signoff"], s):
        return True
    return bool(re.match(r"^\W*(?:i\s+|i'm\s+|we\s+|we're\s+)?(?:look|looking|looks)\s+forward\s+to\s+(?:talking|speaking|chatting|"
                         r"seeing|catching|meeting|hearing)\b[^.!?]{0,40}[.!?]*$", s))


_BROADCAST = re.compile(r"^\W*(?:dear|to)\s+(?:all|team|teams|colleagues|everyone|everybody|customers?|members|"
                        r"subscribers|valued|employees|staff|friends\s+and|shareholders|partners|participants|"
                        r"attendees|parents|residents|students)\b", re.I)


def _is_broadcast(text: str) -> bool:
    return bool(_BROADCAST.match(text))


def _merge(cands: list[_Candidate]) -> list[Cue]:
    """One cue per conversation: same kind in one sentence, or compatible medium and day across sentences."""
    merged: list[_Candidate] = []
    for c in sorted(cands, key=lambda c: c.start):
        target = None
        for m in merged:
            if m.kind != c.kind:
                continue
            same_sentence = m.sent_index == c.sent_index
            medium_ok = same_sentence or m.medium == c.medium or "unspecified" in (m.medium, c.medium)
            when_ok = m.when is None or c.when is None or m.when == c.when
            if medium_ok and when_ok:
                target = m
                break
        if target is None:
            merged.append(c)
            continue
        if SPECIFICITY[c.medium] > SPECIFICITY[target.medium]:
            target.medium = c.medium
            target.sentence = c.sentence
        target.when = target.when or c.when
        target.confidence = max(target.confidence, c.confidence)
        target.party = target.party or c.party
    return [Cue(m.kind, m.medium, m.when, m.sentence, m.confidence, m.start, m.party) for m in merged]


_ATTRIBUTIVE = {"for", "of", "with", "in", "on", "at", "from", "into", "about", "some", "any", "freshly", "newly",
                "recently", "well", "poorly", "badly", "highly", "much", "very", "so"}
_FUNCTION_NEXT = {"the", "a", "an", "it", "them", "him", "her", "us", "me", "you", "that", "this", "to", "with", "on",
                  "at", "in", "for", "up", "out", "about", "over", "by", "from", "and", "our", "your", "my", "their",
                  "his", "its", "back", "together", "briefly", "again", "there", "here", "yesterday", "today", "last",
                  "earlier", "before", "after", "all", "both", "through", "off", "down", "into", "some"}


def _attributive(doc, tok, prev, lex) -> bool:
    """An -ed word used as an adjective ('the revised draft', 'pies and mulled wine'), not a past tense."""
    p = prev.lower_
    if p in _ATTRIBUTIVE or p in lex["determiners"]:
        return True
    if p == "and":
        nxt = _next_word(doc, tok.i + 1)
        return nxt is not None and nxt.is_alpha and nxt.lower_ not in _FUNCTION_NEXT \
            and nxt.lower_ not in lex["first_person"] | lex["second_person"] | lex["third_pronouns"] \
            and nxt.lower_ not in _TIME_WORDS
    return False


_TOPIC_PREP = {"about", "regarding", "re", "concerning", "re:"}


def _onsite_before(doc, sp) -> bool:
    """'an onsite interview', 'an on-site meeting': face to face."""
    i = sp.start
    if i >= 1 and doc[i - 1].lower_ in ("onsite", "on-site", "in-office"):
        return True
    return i >= 3 and doc[i - 3].lower_ == "on" and doc[i - 2].text in ("-", "–") and doc[i - 1].lower_ == "site"


def _asked_about(doc, sp, clause_start, clause_of) -> bool:
    """'let me know how the interview goes', 'hope your meeting went well': an event the author was not at."""
    fam = sp.id_
    if fam in ("see", "over", "host", "dropby", "bump", "hello", "voice"):
        return False
    j = sp.start - 1
    det = None
    while j >= clause_start and sp.start - j <= 4:
        w = doc[j].lower_
        if w in ("the", "your", "his", "her", "their", "that"):
            det = w
        elif w in ("how", "hope", "hoping", "hopefully", "trust", "luck") and det is not None:
            break
        elif not doc[j].is_alpha and w not in ("-",):
            return False
        j -= 1
    else:
        return False
    if j < clause_start or doc[j].lower_ not in ("how", "hope", "hoping", "hopefully", "trust", "luck"):
        return False
    if doc[j].lower_ == "luck":
        return True  # "good luck with your interview"
    end = _clause_end(doc, sp.start, clause_of)
    return any(doc[k].lower_ in ("goes", "went", "going", "go", "gone", "turns", "turned", "pans", "panned")
               for k in range(sp.end, min(end, sp.end + 8)))


def _refers_back(doc, sp) -> bool:
    """'see you there', 'speak then': the cue takes the time of what came before."""
    nxt = _next_word(doc, sp.end)
    return nxt is not None and nxt.lower_ in ("there", "then")


_SIGNOFF_EXTRA = {"to", "with", "you", "ya", "u", "again", "more", "all", "and", "y'all", "shortly", "very", "real"}


def _signoff_clause(doc, sp, clause_of, lex) -> bool:
    """'Speak soon, and thanks again for the referral': a sign-off clause inside a longer sentence."""
    if sp.id_ not in ("talk", "speak", "chat", "catchup", "see", "connect"):
        return False
    a = _clause_start(doc, sp.start, clause_of)
    if a != sp.start:
        return False
    end = _clause_end(doc, sp.start, clause_of)
    words = [doc[k].lower_ for k in range(sp.end, end) if doc[k].is_alpha]
    return bool(words) and all(w in lex["signoff_words"] or w in _SIGNOFF_EXTRA for w in words)


def _moved(doc, moved_spans, negated, cands, clauses_with_trigger, sent_of, clause_of, times_by_sent, sent_text,
           local, lex) -> list:
    """'I can't make lunch Thursday - how about Tuesday the 7th?': a called-off conversation moved to a new time.

    Also 'Thanks for the pint last night. Same again Friday?': a conversation repeated at a new time. The
    new time must sit in the clause of the moving phrase, and that clause must not name a conversation itself.
    """
    out = []
    people = lex["first_person"] | lex["second_person"]
    for r in moved_spans:
        s, c = sent_of[r.start], clause_of[r.start]
        if c in clauses_with_trigger or r.start > 0 and doc[r.start - 1].lower_ in ("the", "a"):
            continue  # "at the same time" is not "same time, next week?"
        again = r.id_ == "again"
        antecedent = None
        for sp, medium in negated:
            if sent_of[sp.start] in (s, s - 1) and sp.start < r.start:
                antecedent = medium
        moving = None
        if antecedent is None and r.id_ == "push":
            prior = [m for m in cands if m.kind == "planned" and m.sent_index in (s, s - 1) and m.start < doc[r.start].idx]
            if prior:
                moving = prior[-1]
                antecedent = moving.medium
        if antecedent is None and again:
            prior = [m for m in cands if m.kind in ("past", "planned") and m.sent_index in (s, s - 1)
                     and m.start < doc[r.start].idx]
            if prior:
                antecedent = prior[-1].medium
        if antecedent is None:
            continue
        a, b = _clause_start(doc, r.start, clause_of), _clause_end(doc, r.start, clause_of)
        if r.id_ == "instead" and not any(doc[k].lower_ in people for k in range(a, b)):
            continue
        times = [t for t in times_by_sent[s] if not t.deadline and clause_of[t.tok_start] == c and t.direction != "past"]
        if not times:
            continue
        day = _pick_day(times, r, "planned", local)
        if moving is not None:
            if any(t.kind != "clock" for t in times):
                moving.when = day  # the same conversation at its new time ("can we change to 2 PM?" keeps the day)
            continue
        out.append(_Candidate("planned", antecedent, day, s, doc[r.start].idx, 0.7, sent_text[s], True))
    return out


_REPORTING = {"wrote", "writes", "said", "says", "sent", "asked", "asks", "emailed", "e-mailed", "texted", "replied",
              "replies", "messaged", "posted", "added", "mentioned", "told", "tells", "forwarded", "put", "note", "message",
              "email", "reply", "text"}
_QUOTES = {'"', "“", "”"}


def _reported_quotes(doc, marks: list[int], lex) -> set[int]:
    """Token indexes inside quotation marks that report someone else's words ('Tom wrote: "..."')."""
    out: set[int] = set()
    for open_i, close_i in zip(marks[0::2], marks[1::2]):
        before = [doc[j] for j in range(max(0, open_i - 8), open_i)]
        words = [t.lower_ for t in before]
        if not any(w in _REPORTING for w in words):
            continue
        if any(w in ("i", "you", "u", "we") for w in words):
            continue  # "you said 'lunch Friday'": the recipient's own words to the author
        others = any(t.lower_ in lex["third_pronouns"] or _is_name(doc, t.i, -1, lex) for t in before)
        if others:
            out.update(range(open_i + 1, close_i))
    return out
