"""The cue package's stages on their own: the family table against the pattern files, the trigger checks,
the word data, and the matcher's match() kept apart from set_annotations()."""

from __future__ import annotations

import json
import re

from inboxrel.signals.cues import IndexedRuler, build_nlp, lexicon, load_patterns
from inboxrel.signals.cues.cue import SPANS_KEY
from inboxrel.signals.cues.patterns import _read, families
from inboxrel.signals.cues.triggers import CHECKS

SOURCES = ("cue", "dates", "matcher", "medium", "merge", "parties", "patterns", "pipeline", "prefilter", "prepare",
           "resolve", "segment", "tense", "triggers")


def _trigger_families() -> set[str]:
    return {json.loads(line)["id"] for line in _read("triggers.jsonl").splitlines() if line.strip()}


def test_family_table_names_every_trigger_family_and_only_those():
    table = lexicon()["families"]
    assert set(table) == _trigger_families()
    assert set(CHECKS) <= _trigger_families()


def test_every_trait_is_described_and_used():
    described = json.loads(_read("lexicon.json"))["_families"]
    from importlib import resources

    code = "".join(resources.files("inboxrel.signals.cues").joinpath(f"{m}.py").read_text() for m in SOURCES)
    for trait in families():
        assert trait in described, trait
        assert f'"{trait}"' in code, f"trait {trait} is in the table but no stage reads it"


def test_every_lexicon_key_the_code_reads_exists():
    from importlib import resources

    lex = lexicon()
    for m in SOURCES:
        text = resources.files("inboxrel.signals.cues").joinpath(f"{m}.py").read_text()
        for key in re.findall(r'lex(?:icon\(\))?\["([a-z_]+)"\]', text):
            assert key in lex, (m, key)
        for trait in re.findall(r'(?:families\(\)|traits)\["([a-z_]+)"\]', text):
            assert trait in families(), (m, trait)


def test_match_finds_spans_without_writing_them():
    nlp = build_nlp()
    ruler = nlp.get_pipe("signal_patterns")
    assert isinstance(ruler, IndexedRuler)
    doc = nlp.make_doc("Great talking yesterday, let's grab lunch Friday.")
    spans = ruler.match(doc)
    assert SPANS_KEY not in doc.spans
    assert {(s.text.lower(), s.label_) for s in spans} >= {("talking", "unspecified"), ("lunch", "in_person")}
    ruler.set_annotations(doc, spans)
    assert list(doc.spans[SPANS_KEY]) == spans


def test_indexed_ruler_is_the_span_ruler_on_a_blank_doc():
    ruler = IndexedRuler(load_patterns(expand=False))
    nlp = build_nlp()
    doc = ruler(nlp.make_doc("Can we hop on a quick call tomorrow at 3?"))
    assert [(s.text, s.label_, s.id_) for s in doc.spans[SPANS_KEY] if s.label_ == "phone"] == [("call", "phone", "call")]


def test_the_trigger_checks_decide_the_sense():
    """One sentence for each family check, the conversation sense and the other one."""
    from inboxrel.signals.cues import analyze_texts, local_datetime

    def kinds(text):
        return [c.kind for c in analyze_texts([(text, local_datetime("2001-05-14T09:30:00-05:00"))])[0]]

    assert kinds("Give me a ring tomorrow at 10.") == ["planned"]
    assert kinds("She wore a ring.") == []
    assert kinds("Walk me through it live on Friday?") == ["planned"]
    assert kinds("Thanks for the follow-up email.") == []
