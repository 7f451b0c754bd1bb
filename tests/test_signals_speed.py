"""The fast paths of the text signals give exactly what the plain code gave, on real Enron bodies.

``fixtures/signals/enron-signals.json`` holds the reply split and the phone numbers of 240 Enron bodies as
the straightforward (slower) code computed them before the speed work (texts as digests); regenerate it only when the
splitting or number rules change on purpose: ``python tests/test_signals_speed.py --write``.
The cue shortcuts (prefilter, cutting long texts to the sentences around trigger words) are compared with
plain reference versions here, so the test holds whatever the cue rules say.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

from inboxrel.pipelines.parse import parse_message
from inboxrel.signals.cues import Prefilter, _read, build_nlp, candidate_text, prefilter, prepare_text
from inboxrel.signals.phones import extract_numbers
from inboxrel.signals.strip import split_body

FIXTURE = Path(__file__).parent / "fixtures" / "signals" / "enron-signals.json"
EVERY = 20  # every 20th Enron body (by path) makes the fixed sample


def sample_paths(shared_data: Path) -> list[str]:
    enron = shared_data / "enron"
    paths = sorted(str(p.relative_to(enron)) for user in ("allen-p", "heard-m")
                   for p in (enron / user / "maildir").rglob("*") if p.is_file())
    return paths[::EVERY]


def _numbers(sig: str, own: str) -> list[list]:
    return [[n.e164, n.raw, n.label] for n in extract_numbers(sig, own, "US")]


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def signals_of(body: str) -> dict:
    """What the fixture keeps of one body: the split (texts as digests: no corpus text in the repo) and numbers."""
    b = split_body(body)
    return {
        "own": _digest(b.own), "signature": _digest(b.signature), "numbers": _numbers(b.signature, b.own),
        "quoted": [[q.kind, q.author_name, q.author_email, _digest(q.text), _digest(q.signature),
                    _numbers(q.signature, "") if q.signature else []] for q in b.quoted],
    }


def _bodies(shared_data: Path) -> dict[str, str]:
    out = {}
    for rel in sample_paths(shared_data):
        try:
            body = parse_message((shared_data / "enron" / rel).read_bytes()).body
        except Exception:
            continue
        if body is not None:
            out[rel] = body
    return out


@pytest.fixture(scope="module")
def enron_bodies(shared_data) -> dict[str, str]:
    return _bodies(shared_data)


@pytest.mark.corpus
def test_split_and_numbers_unchanged_on_enron(enron_bodies):
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert sorted(expected) == sorted(enron_bodies)
    assert len(expected) == 233
    for rel, body in enron_bodies.items():
        assert signals_of(body) == expected[rel], rel


# -- the cue shortcuts against plain references -------------------------------------------------------------

def _plain_prefilter():
    """The prefilter as one case-insensitive regex, searched on the text as it is."""
    words = json.loads(_read("prefilter.json"))["words"]
    return re.compile(r"\b(?:" + "|".join(words) + r")", re.I)


def _plain_candidate_text(text: str, rx) -> str:
    """candidate_text as first written: split into sentences, then search each one."""
    if len(text) < 200:
        return text
    sents = [s for s in re.split(r"(?<=[.!?])\s+(?=\S)|\n+", text) if s and s.strip()]
    hits = {i for i, s in enumerate(sents) if rx.search(s)}
    keep = sorted({j for i in hits for j in (i - 1, i, i + 1) if 0 <= j < len(sents)})
    out, prev = [], None
    for j in keep:
        if prev is not None and j != prev + 1:
            out.append("\n")
        out.append(sents[j] + "\n")
        prev = j
    return "".join(out)


# Non-ASCII letters that case-insensitive matching folds onto ASCII ones (Kelvin sign, long s, dotted and
# dotless i), matches that run across a sentence break, and a text of nothing but breaks.
TRICKY = [
    "We should ta\u212Ale this offline. " * 8 + "Nothing else here.",
    "Let me \u212Anow. Vi\u017Fit us any time. " * 6,
    "D\u0130NNER on Friday? " * 15,
    "Meet\u0131ng notes follow. " * 12 + "Thanks.",
    ("Long paragraph without any trigger word in it at all, just words and more words. " * 3 + "\n"
     "a\nbuzz was heard. Then a\n\nbell. happy\nhour. " + "Filler sentence here. " * 6),
    "x" * 150 + ". Give me a\nbuzz tomorrow. " + "y" * 80,
    "\n\n\n" * 80,
    ("Happy   hour? " + "Plain text. " * 20),
    "rang\nrung\nring\n" + "Other words in a long line of text. " * 8,
]


@pytest.mark.corpus
def test_prefilter_and_candidate_text_match_the_plain_versions(enron_bodies):
    fast, plain = prefilter(), _plain_prefilter()
    texts = [split_body(b).own for b in enron_bodies.values()] + list(enron_bodies.values()) + TRICKY
    passed = 0
    for text in texts:
        assert bool(fast.search(text)) == bool(plain.search(text)), text[:200]
        if not plain.search(text):
            continue
        passed += 1
        prepared = prepare_text(text)
        assert candidate_text(prepared, fast) == _plain_candidate_text(prepared, plain), text[:200]
    assert passed > 150


def _longest(spans) -> dict:
    """The longest span at each (start, label, id): span_ruler also reports the shorter matches of an optional token."""
    out: dict = {}
    for s in spans:
        key = (s.start, s.label_, s.id_)
        out[key] = max(out.get(key, 0), s.end)
    return out


def test_prefilter_regrouping_keeps_every_word():
    """Words the first-letter grouping must leave alone or split carefully, on texts that tell them apart."""
    words = ["call", "ca\\w+ed", "a|b", "x*yz", "(?:foo|bar)baz", "q{2}", "[kc]at\\b", "1:1", "c\\s+me", "tea\\b"]
    fast = Prefilter(words)
    plain = re.compile(r"\b(?:" + "|".join(words) + r")", re.I)
    texts = ["", "Recall it", "CALL me", "cabled", "b", "a", "yz", "xxyz", "barbaz", "qq", "KAT", "cat", "1:1 chat",
             "c   me", "team", "TEA time", "\u212Aat", "\u017Fee", "nothing here", "x yz", "cow"]
    for t in texts:
        for i in range(len(t) + 1):  # every suffix: a match found or not at each position
            assert bool(fast.search(t[i:])) == bool(plain.search(t[i:])), (t, i)


@pytest.mark.corpus
def test_indexed_ruler_finds_what_span_ruler_finds_on_enron(enron_bodies):
    """The same check as on the dev texts, with span ends, over the texts real Enron mail hands to spaCy."""
    fast = build_nlp()
    slow = build_nlp(ruler="span_ruler")
    rx = prefilter()
    n = 0
    for body in enron_bodies.values():
        own = split_body(body).own
        if not rx.search(own):
            continue
        text = candidate_text(prepare_text(own), rx)
        fdoc = fast.get_pipe("signal_patterns")(fast.make_doc(text))
        doc = slow.make_doc(text)
        slow.get_pipe("span_ruler")(doc)
        assert _longest(fdoc.spans["signals"]) == _longest(doc.spans["signals"]), text[:200]
        n += 1
    assert n > 50


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_signals_speed.py --write   (regenerates the fixture)")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.conftest import SHARED

    data = {rel: signals_of(body) for rel, body in _bodies(SHARED).items()}
    FIXTURE.write_text(json.dumps(data, indent=0, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(data)} bodies to {FIXTURE}")
