"""Conversation evidence from mail text: the author's own words, cues, calendars, call attempts, phone numbers.

Nothing here imports spaCy at module load; :func:`inboxrel.signals.cues.build_nlp` does, on first use.
"""

# Bump when the rules change, so `inboxrel reanalyze` knows which messages ran an older version.
VERSION = 1
