"""Evidence of real conversations (interactions) and the phone numbers people sign with."""

from sqlalchemy import Column, DateTime, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from inboxrel.models.base import metadata

interactions = Table(
    "interactions", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("people.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # past | planned | request | attempt | cancelled
    Column("medium", String(12), nullable=False),  # phone | video | in_person | unspecified
    Column("at", DateTime),  # when it happened / is planned (UTC); NULL when unknown
    Column("source", String(12), nullable=False),  # message | calendar | manual | calllog
    Column("source_ref", String(500), nullable=False),  # message row id, UID of the event, ...
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), index=True),
    Column("confidence", Float, nullable=False, default=1.0),
    Column("direction", String(10)),  # from_me | to_me (who wrote the evidence), for requests
    Column("sentence", Text),
    Column("note", Text),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("source", "source_ref", "person_id", "kind", "medium", name="uq_interactions_source"),
)

phone_numbers = Table(
    "phone_numbers", metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("people.id"), nullable=False, index=True),
    Column("e164", String(32), nullable=False),
    Column("raw", Text),
    Column("label", String(20)),  # mobile | office | fax | NULL
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
    Column("message_id", Integer),
    UniqueConstraint("person_id", "e164", name="uq_phone_numbers_person"),
)

# What the user said was wrong (`inboxrel evidence reject`). Keyed on what survives re-analysis and
# re-imports (the source, the message's Message-ID or the source's own reference, the person's address and
# the kind), not on the interaction's row id; the rest is kept as data for improving the rules.
evidence_rejections = Table(
    "evidence_rejections", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(12), nullable=False),
    Column("ref", String(1000), nullable=False),  # Message-ID header (or "row:<messages.id>"), else source_ref
    Column("email", String(320), nullable=False),  # the person's primary address when it was rejected
    Column("kind", String(10), nullable=False),
    Column("medium", String(12)),
    Column("at", DateTime),
    Column("sentence", Text),
    Column("reason", Text),
    Column("interaction_id", Integer),  # the row that was rejected (gone after re-analysis)
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("source", "ref", "email", "kind", name="uq_evidence_rejections_key"),
)
