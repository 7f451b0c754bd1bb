"""Matching: the pattern files run over a Doc like spaCy's SpanRuler, indexed by each pattern's first word."""

from __future__ import annotations

import re

from inboxrel.signals.cues.cue import SPANS_KEY


class IndexedRuler:
    """The pattern files matched like spaCy's SpanRuler, but indexed by each pattern's first word.

    spaCy's Matcher starts every pattern at every token, so its cost grows with the number of patterns
    (about 1,000 here) times the tokens; indexing by the first word tests only the patterns that can start
    at a token. Supports the token attributes the pattern files use (LOWER, ORTH as a word or IN/NOT_IN list,
    IS_ALPHA, IS_PUNCT, LIKE_URL, LIKE_NUM) and the OP quantifiers ?, *, + and {m,n}; each pattern reports its
    longest match at each start. tests/test_signals_cues.py and test_signals_speed.py check
    it finds what span_ruler finds.

    As in SpanRuler, :meth:`match` finds the spans and :meth:`set_annotations` writes them on the Doc;
    calling the ruler (as the pipeline does) is both.

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
        """Match ``doc`` and write the spans on it, as a pipeline component."""
        return self.set_annotations(doc, self.match(doc))

    def match(self, doc) -> list:
        """Every pattern's longest match at each start, as Spans (label = the pattern's label, id = its id).

        The spans come in token order and, at one token, in the order of the pattern files, as span_ruler
        reports them. Nothing is written on ``doc``.
        """
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
        return found

    @staticmethod
    def set_annotations(doc, spans: list):
        """Store ``spans`` in ``doc.spans[SPANS_KEY]``, replacing what was there (span_ruler's ``overwrite``)."""
        doc.spans[SPANS_KEY] = spans
        return doc


def _first(entry):
    return entry[0]
