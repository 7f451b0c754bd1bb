"""Addresses, the people they belong to, my own addresses, and the history of merges and splits."""

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text

from inboxrel.models.base import metadata

people = Table(
    "people", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("primary_address_id", Integer),
    Column("automated", String(20)),  # set when every address of the person is automated
    Column("is_me", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
)

addresses = Table(
    "addresses", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised: lower-case, trimmed
    Column("name", Text),  # the display name used most
    Column("person_id", ForeignKey("people.id"), index=True),
    Column("automated", String(20)),  # role | newsletter | notification: a machine, never a candidate
)

account_addresses = Table(
    "account_addresses", metadata,
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("address_id", ForeignKey("addresses.id"), primary_key=True),
    Column("source", String(20), nullable=False),  # given (--me / config) | discovered
    Column("evidence", Text),
)

# Every merge or split, automatic or by the user, with its evidence; undo replays it backwards.
identity_events = Table(
    "identity_events", metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(10), nullable=False),  # merge | split
    Column("by_user", Boolean, nullable=False, default=False),
    Column("person_id", Integer, nullable=False),  # the person kept (merge) or split from
    Column("other_person_id", Integer),  # the person absorbed (merge) or created (split)
    Column("address_ids", Text, nullable=False),  # JSON list of the addresses that moved
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("undone_at", DateTime),
)
