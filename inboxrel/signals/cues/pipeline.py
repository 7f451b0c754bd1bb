"""The pipeline: the blank English spaCy pipeline with the matcher and the resolver, and the batch entry point."""

from __future__ import annotations

from datetime import datetime

from inboxrel.signals.courtesy import drop_courtesy
from inboxrel.signals.cues.cue import SPANS_KEY, Cue
from inboxrel.signals.cues.matcher import IndexedRuler
from inboxrel.signals.cues.patterns import load_patterns
from inboxrel.signals.cues.prefilter import prefilter
from inboxrel.signals.cues.prepare import candidate_text, prepare_text
from inboxrel.signals.cues.resolve import resolve_cues

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
