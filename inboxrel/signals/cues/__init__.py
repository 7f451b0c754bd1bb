"""Conversation cues: did the author and the recipient talk (phone, video, face to face), or plan or ask to?

A blank English spaCy pipeline (``spacy.blank("en")``) with a ruler loaded from the pattern files in
``signals/patterns/`` marks trigger words (label = medium) and context phrases (other senses, boilerplate,
attempts, negation, tense and mood markers, third parties). The ``conversation_cues`` component then decides,
trigger by trigger and clause by clause, whether the conversation is between the author and the recipient,
whether it happened (past), is fixed with a time (planned) or only asked for (request), and which day it
names. Cues about the same conversation are merged, so a text gives one cue per conversation.

One module per stage, in the order a text goes through them:

* ``patterns``: the pattern files and the word lists (``patterns/lexicon.json``), and the family table;
* ``prefilter``: the regex a text must pass before spaCy sees it;
* ``prepare``: hard-wrapped lines joined, and only the sentences near a trigger word kept;
* ``matcher``: the patterns matched (``IndexedRuler.match``) and written on the Doc (``set_annotations``);
* ``segment``: sentence and clause numbers per token;
* ``triggers``: whether a trigger word is used in its conversation sense (a table by trigger family);
* ``parties``: whose conversation it is; ``medium``: in person, or written after all;
* ``tense``: past or ahead, negations, sign-offs; ``dates``: the time expressions and the day;
* ``merge``: one cue per conversation; ``resolve``: the resolver that calls the stages;
* ``pipeline``: the spaCy pipeline and :func:`analyze_texts`, the entry point.

The rules are general English; spaCy is imported lazily.
"""

from inboxrel.signals.cues.cue import MEDIA, SPANS_KEY, SPECIFICITY, Cue
from inboxrel.signals.cues.dates import local_datetime, local_from_utc
from inboxrel.signals.cues.matcher import IndexedRuler
from inboxrel.signals.cues.patterns import _read, lexicon, load_patterns
from inboxrel.signals.cues.pipeline import analyze_texts, build_nlp
from inboxrel.signals.cues.prefilter import Prefilter, prefilter
from inboxrel.signals.cues.prepare import candidate_text, prepare_text
from inboxrel.signals.cues.resolve import resolve_cues

__all__ = [
    "MEDIA", "SPANS_KEY", "SPECIFICITY", "Cue", "IndexedRuler", "Prefilter", "_read", "analyze_texts", "build_nlp",
    "candidate_text", "lexicon", "load_patterns", "local_datetime", "local_from_utc", "prefilter", "prepare_text",
    "resolve_cues",
]
