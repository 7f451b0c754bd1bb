"""Derived tables: per-person mail counts by day, rebuilt from the messages whenever they change.

They exist for speed only (``suggest`` answers in well under a second on 100,000 messages): every row can
be recomputed from ``messages``/``participants``/``addresses`` by ``inboxrel.report.volume.refresh_summary``,
which runs when ``summary_state`` shows the store changed since the last build.
"""

from sqlalchemy import Boolean, Column, Date, DateTime, Float, Index, Integer, String, Table, Text

from inboxrel.models.base import metadata

# One row per person and UTC day with mail between us, over distinct messages (same pairs as metrics.py).
person_days = Table(
    "person_days", metadata,
    Column("person_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("sent", Integer, nullable=False, default=0),
    Column("received", Integer, nullable=False, default=0),
    Column("gap", Integer),  # days since the person's previous day with mail; NULL on the first: bursts
    # the same mail weighed by its shape (inboxrel.report.personal): one-to-one 1, small group a part,
    # broadcast and automated 0; and how many of the day's messages weighed 0
    Column("personal_sent", Float, nullable=False, default=0),
    Column("personal_received", Float, nullable=False, default=0),
    Column("bulk", Integer, nullable=False, default=0),
)

# All-time figures per person, with exact times (the days table only knows dates), and the windowed
# counts as of the day in summary_state "asof" (the call list of that day reads them without summing).
person_totals = Table(
    "person_totals", metadata,
    Column("person_id", Integer, primary_key=True),
    Column("sent", Integer, nullable=False, default=0),
    Column("received", Integer, nullable=False, default=0),
    Column("first_at", DateTime),
    Column("last_at", DateTime),
    Column("last_sent_at", DateTime),
    Column("last_received_at", DateTime),
    Column("sent_30d", Integer, nullable=False, default=0),
    Column("received_30d", Integer, nullable=False, default=0),
    Column("sent_90d", Integer, nullable=False, default=0),
    Column("received_90d", Integer, nullable=False, default=0),
    Column("sent_365d", Integer, nullable=False, default=0),
    Column("received_365d", Integer, nullable=False, default=0),
    Column("personal_sent", Float, nullable=False, default=0),
    Column("personal_received", Float, nullable=False, default=0),
    Column("personal_sent_30d", Float, nullable=False, default=0),
    Column("personal_received_30d", Float, nullable=False, default=0),
    Column("personal_sent_90d", Float, nullable=False, default=0),
    Column("personal_received_90d", Float, nullable=False, default=0),
    Column("personal_sent_365d", Float, nullable=False, default=0),
    Column("personal_received_365d", Float, nullable=False, default=0),
    Column("bulk_90d", Integer, nullable=False, default=0),
    # a sender the mailbox's own statistics show to be a broadcast (inboxrel.report.personal)
    Column("broadcast", Boolean, nullable=False, default=False),
)

# What the derived tables were built from: a fingerprint of the store (key "fingerprint"), compared on
# every read, and the day the windowed counts are for (key "asof").
summary_state = Table(
    "summary_state", metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text),
    Column("built_at", DateTime),
)

Index("ix_person_days_day", person_days.c.day, person_days.c.person_id, person_days.c.sent, person_days.c.received)
