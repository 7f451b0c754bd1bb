"""What the user tells us: circles with cadences, snoozes, dismissals and ignores."""

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text

from inboxrel.models.base import metadata

circles = Table(
    "circles", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("cadence_days", Integer, nullable=False),  # ideal gap between conversations: due after it
    Column("max_days", Integer, nullable=False),  # overdue after it
)

circle_members = Table(
    "circle_members", metadata,
    Column("circle_id", ForeignKey("circles.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("people.id"), primary_key=True),
)

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("people.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),  # snooze | dismiss
    Column("reason", String(40)),
    Column("until", DateTime),
    Column("cadence_days", Integer),
    Column("created_at", DateTime, nullable=False),
)

ignores = Table(
    "ignores", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("people.id")),
    Column("domain", String(255)),
    Column("reason", Text),
    Column("created_at", DateTime, nullable=False),
)
