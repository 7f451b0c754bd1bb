"""Accounts, folders, messages, where each copy lives, who took part, threads, and the quarantine."""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from inboxrel.models.base import metadata

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False, default="local"),  # local | imap
    Column("created_at", DateTime, nullable=False),
    # outcome of the last IMAP sync as a whole (login, connection), so a failing cron job shows in `status`
    Column("last_sync_at", DateTime),
    Column("last_success_at", DateTime),
    Column("last_error", Text),
    Column("last_error_at", DateTime),
)

folders = Table(
    "folders", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False),
    Column("kind", String(20), nullable=False, default="received"),  # sent | received
    Column("special_use", String(40)),
    Column("source", Text),  # local path of the folder, for local imports
    Column("source_state", Text),  # JSON of mtimes/sizes: an unchanged folder is skipped without reading
    # IMAP sync state, committed together with each batch of messages
    Column("uidvalidity", Integer),
    Column("uidnext", Integer),
    Column("highest_uid", Integer),
    Column("highestmodseq", Integer),
    Column("message_count", Integer),
    Column("last_sync_at", DateTime),
    Column("last_success_at", DateTime),
    Column("last_error", Text),
    Column("last_error_at", DateTime),
    UniqueConstraint("account_id", "name", name="uq_folders_account_name"),
)

messages = Table(
    "messages", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", String(998), index=True),  # the Message-ID header, without <>
    Column("fingerprint", String(40), nullable=False, unique=True),  # sender, date, subject, recipients, body
    Column("date", DateTime, index=True),  # UTC; NULL when missing or a placeholder
    Column("tz_offset", Integer),  # the sender's UTC offset in minutes, from the Date header
    Column("subject", Text),
    Column("subject_norm", Text),
    Column("from_address_id", ForeignKey("addresses.id"), index=True),
    Column("direction", String(10), nullable=False, default="received", index=True),  # sent|received|self
    Column("automated", String(20)),  # newsletter | list | notification | role | NULL for a person's mail
    Column("recipient_count", Integer, nullable=False, default=0),
    Column("thread_id", ForeignKey("threads.id"), index=True),
    Column("in_reply_to", String(998)),
    Column("references", Text),
    Column("size", Integer),
    Column("body_text", Text),  # NULL when not fetched or store_bodies = false
    Column("body_hash", String(40)),
    Column("has_body", Boolean, nullable=False, default=False),
    Column("has_calendar", Boolean, nullable=False, default=False),
    Column("analyzed_version", Integer),  # signals version that last ran over this message
    Column("created_at", DateTime, nullable=False),
)

# Every copy of a message: a file, an mbox offset or an IMAP UID. Copies are never counted twice.
locations = Table(
    "locations", metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("folder_id", ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(500), nullable=False),  # file name, mbox content hash or str(uid)
    Column("uid", Integer),
    Column("flags", Text),
    Column("gone", Boolean, nullable=False, default=False),  # deleted on the server; history is kept
    Column("gone_at", DateTime),
    UniqueConstraint("folder_id", "key", name="uq_locations_folder_key"),
)

participants = Table(
    "participants", metadata,
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("address_id", ForeignKey("addresses.id"), primary_key=True, index=True),
    Column("role", String(10), primary_key=True),  # from | to | cc | bcc | reply-to
    Column("name", Text),  # display name as written in this message
)

threads = Table(
    "threads", metadata,
    Column("id", Integer, primary_key=True),
    Column("subject", Text),
    Column("first_at", DateTime),
    Column("last_at", DateTime, index=True),
    Column("message_count", Integer, nullable=False, default=0),
    Column("sent_count", Integer, nullable=False, default=0),
    Column("received_count", Integer, nullable=False, default=0),
    Column("last_message_id", Integer),
    Column("last_from_address_id", Integer),
    Column("awaiting", String(10)),  # me | them | NULL
)

# JWZ id table: Message-IDs (seen or only referenced) and normalised subjects pointing at their thread.
thread_keys = Table(
    "thread_keys", metadata,
    Column("key", String(1000), primary_key=True),
    Column("thread_id", ForeignKey("threads.id", ondelete="CASCADE"), nullable=False, index=True),
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE")),
    Column("folder_id", ForeignKey("folders.id", ondelete="CASCADE")),
    Column("key", String(500)),
    Column("path", Text),
    Column("raw", LargeBinary),  # kept when the message came from the network and has no path
    Column("sha1", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("sha1", name="uq_quarantine_sha1"),
)

Index("ix_messages_account_date", messages.c.account_id, messages.c.date)
Index("ix_locations_folder_uid", locations.c.folder_id, locations.c.uid)
