"""Everything the rules may look at for one person, as plain data (loaded by ``inboxrel.report.facts``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from inboxrel.rules.cadence import Cadence


@dataclass
class Evidence:
    """One interaction row: a conversation that happened, is planned, was asked for, tried or cancelled."""

    id: int
    kind: str  # past | planned | request | attempt | cancelled
    medium: str
    at: datetime | None  # when it happened or is planned; None when the evidence gave no date
    seen_at: datetime | None  # when we learned of it: the message's date, else when the row was written
    source: str
    source_ref: str | None = None
    direction: str | None = None
    sentence: str | None = None
    confidence: float = 1.0
    note: str | None = None
    subject: str | None = None  # of the message it came from
    probable: bool = False  # inferred (a plan whose day passed, not cancelled), not stated

    @property
    def when(self) -> datetime | None:
        """The best date we have: the stated one, else the date of the message that mentioned it."""
        return self.at or self.seen_at

    def as_dict(self) -> dict:
        from inboxrel.clock import iso

        return {"id": self.id, "kind": self.kind, "medium": self.medium, "at": iso(self.at),
                "seen_at": iso(self.seen_at), "source": self.source, "source_ref": self.source_ref,
                "direction": self.direction, "confidence": self.confidence, "sentence": self.sentence,
                "note": self.note, "subject": self.subject, "probable": self.probable}


@dataclass
class AwaitingThread:
    thread_id: int
    subject: str | None
    last_at: datetime
    messages: int


@dataclass(slots=True, kw_only=True)
class MailVolume:
    """Mail between me and one person in distinct messages: all time and in the windows counted back from
    now, with its first and last dates (aware UTC). The rules' facts and the metrics both start from it.

    ``personal_*`` weigh each message by its shape (one-to-one 1, small group a part, broadcast and
    automated mail 0: ``inboxrel.report.personal``); ``bulk_90d`` is how many of the last 90 days'
    messages weighed nothing."""

    sent: int = 0
    received: int = 0
    sent_30d: int = 0
    received_30d: int = 0
    sent_90d: int = 0
    received_90d: int = 0
    sent_365d: int = 0
    received_365d: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    last_sent_at: datetime | None = None
    last_received_at: datetime | None = None
    personal_sent: float = 0.0
    personal_received: float = 0.0
    personal_sent_30d: float = 0.0
    personal_received_30d: float = 0.0
    personal_sent_90d: float = 0.0
    personal_received_90d: float = 0.0
    personal_sent_365d: float = 0.0
    personal_received_365d: float = 0.0
    bulk_90d: int = 0

    @property
    def personal_90d(self) -> float:
        return self.personal_sent_90d + self.personal_received_90d

    @property
    def personal_365d(self) -> float:
        return self.personal_sent_365d + self.personal_received_365d

    @property
    def total(self) -> int:
        return self.sent + self.received

    @property
    def total_30d(self) -> int:
        return self.sent_30d + self.received_30d

    @property
    def total_90d(self) -> int:
        return self.sent_90d + self.received_90d

    @property
    def total_365d(self) -> int:
        return self.sent_365d + self.received_365d


@dataclass(slots=True)
class PersonFacts(MailVolume):
    """One person as the rules see them. Counts are over distinct messages; times are aware UTC."""

    now: datetime
    person_id: int
    name: str | None
    email: str | None
    automated: str | None = None
    emails: list[str] = field(default_factory=list)
    # evidence of conversations (only rows dated up to now count as past)
    last_conversation: Evidence | None = None
    conversations: int = 0
    conversation_days: list[date] = field(default_factory=list)
    planned: Evidence | None = None  # the next planned conversation that has not happened yet
    planned_until: datetime | None = None  # it suppresses suggestions until then
    requests: list[Evidence] = field(default_factory=list)  # their recent requests to talk, newest first
    awaiting: list[AwaitingThread] = field(default_factory=list)  # their two-way threads waiting for me
    awaiting_days: int = -1  # how long the oldest of them has waited (-1: none)
    awaiting_closed: int = 0  # their threads left out because the last message only acknowledged
    # the user's feedback
    circles: list[str] = field(default_factory=list)
    ignored: str | None = None  # the reason given
    ignored_at: datetime | None = None
    ignored_domain: str | None = None
    snoozed_until: datetime | None = None
    dismissed_at: datetime | None = None  # the last `inboxrel dismiss`: the cadence counts from then
    dismissed_reason: str | None = None
    # birthdays and anniversaries from contact cards: (birthday|anniversary, YYYY-MM-DD or --MM-DD)
    occasions: list[tuple[str, str]] = field(default_factory=list)
    _cadence: Cadence | None = None
    _cadence_loader: Callable[[PersonFacts], Cadence] | None = None

    # -- derived ------------------------------------------------------------------------------------
    @property
    def cadence(self) -> Cadence:
        if self._cadence is None:
            self._cadence = self._cadence_loader(self)
        return self._cadence

    @property
    def display(self) -> str:
        return self.name or self.email or f"person #{self.person_id}"

    @property
    def domain(self) -> str:
        return (self.email or "").rsplit("@", 1)[-1]

    @property
    def last_conversation_at(self) -> datetime | None:
        return self.last_conversation.when if self.last_conversation else None

    @property
    def days_since_conversation(self) -> int | None:
        at = self.last_conversation_at
        return None if at is None else max(0, (self.now - at).days)

    @property
    def awaiting_wait(self) -> int:
        """Days the oldest waiting thread has waited (-1: none), from the threads when they are loaded."""
        days = self.awaiting_days
        if self.awaiting:  # facts built by hand may not have the summary
            days = max(days, max((self.now - t.last_at).days for t in self.awaiting))
        return days

    @property
    def days_since_email(self) -> int | None:
        return None if self.last_at is None else max(0, (self.now - self.last_at).days)

    @property
    def relationship_days(self) -> int:
        return 0 if self.first_at is None else max(0, (self.now - self.first_at).days)

    @property
    def clock_start(self) -> datetime | None:
        """Where the cadence counts from: the last conversation (the first email when we never talked),
        or a later dismissal."""
        start = self.last_conversation_at or self.first_at
        if self.dismissed_at is not None and (start is None or self.dismissed_at > start):
            return self.dismissed_at
        return start

    @property
    def days_without_conversation(self) -> int:
        """Days the cadence has run: see :attr:`clock_start`."""
        start = self.clock_start
        return 0 if start is None else max(0, (self.now - start).days)

    @property
    def days_overdue(self) -> int:
        return max(0, self.days_without_conversation - self.cadence.ideal)

    @property
    def status(self) -> str:
        """overdue (past the cadence's maximum), due (past its ideal) or ok."""
        d = self.days_without_conversation
        if d > self.cadence.max:
            return "overdue"
        if d > self.cadence.ideal:
            return "due"
        return "ok"

    def conversation_since(self, when: datetime) -> Evidence | None:
        """The last conversation, if it happened on or after ``when`` (it answers anything before)."""
        last = self.last_conversation
        if last and last.when and last.when.date() >= when.date():
            return last
        return None

    # -- for user rules and reason templates --------------------------------------------------------
    FIELDS = {
        "sent": "int", "received": "int", "sent_30d": "int", "received_30d": "int", "sent_90d": "int",
        "received_90d": "int", "sent_365d": "int", "received_365d": "int", "total_30d": "int",
        "total_90d": "int", "total_365d": "int", "personal_sent_90d": "float", "personal_received_90d": "float",
        "personal_sent_365d": "float", "personal_received_365d": "float", "personal_90d": "float",
        "personal_365d": "float", "bulk_90d": "int", "days_since_conversation": "days", "days_since_email": "days",
        "relationship_days": "int", "days_without_conversation": "int", "days_overdue": "int",
        "cadence_days": "int", "cadence_max_days": "int", "conversations": "int", "awaiting_me": "int",
        "requests": "int", "name": "str", "email": "str", "domain": "str", "circle": "list", "status": "str",
        "automated": "str", "last_conversation_medium": "str", "last_conversation_date": "str",
        "last_email_date": "str",
    }

    def value(self, name: str):
        """The value of a field in :attr:`FIELDS` (what ``[[rules]]`` conditions and reasons refer to)."""
        if name == "cadence_days":
            return self.cadence.ideal
        if name == "cadence_max_days":
            return self.cadence.max
        if name == "awaiting_me":
            return len(self.awaiting)
        if name == "requests":
            return len(self.requests)
        if name == "circle":
            return list(self.circles)
        if name == "last_conversation_medium":
            return self.last_conversation.medium if self.last_conversation else None
        if name == "last_conversation_date":
            at = self.last_conversation_at
            return at.date().isoformat() if at else None
        if name == "last_email_date":
            return self.last_at.date().isoformat() if self.last_at else None
        return getattr(self, name)
