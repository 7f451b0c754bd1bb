"""What the cue stages hand on: the cue of one conversation, and the candidates merged into cues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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


@dataclass
class Candidate:
    """A cue before merging: one trigger's reading, with its sentence number and whether a time is attached."""

    kind: str
    medium: str
    when: date | None
    sent_index: int
    start: int
    confidence: float
    sentence: str
    time_attached: bool
    party: str | None = None
