"""Evidence sources outside the mailbox: CalDAV calendars (their sync state and items) and address books."""

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint

from inboxrel.models.base import metadata

# One row per configured calendar (`[[calendars]]` in the config): where its last sync got to. The URL and
# the credentials stay in the config; the sync token is the server's opaque bookmark (RFC 6578).
calendar_sources = Table(
    "calendar_sources", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),  # caldav
    Column("sync_token", Text),
    Column("items", Integer, nullable=False, default=0),
    Column("last_sync_at", DateTime),  # the last attempt
    Column("last_ok_at", DateTime),  # the last success
    Column("last_error", Text),
    Column("last_error_at", DateTime),
)

# Each calendar object the server holds, with its ETag: a sync fetches only the objects whose ETag changed
# and removes the evidence of the ones that are gone. The evidence rows of an item have
# source = "calendar" and source_ref = "cal:<item id>|<occurrence start>".
calendar_items = Table(
    "calendar_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", ForeignKey("calendar_sources.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("href", String(1000), nullable=False),
    Column("etag", String(300)),
    Column("uid", String(500)),
    Column("events", Integer, nullable=False, default=0),  # occurrences that became evidence
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("source_id", "href", name="uq_calendar_items_href"),
)

# One row per contact card (a vCard file's card, a CardDAV item), keyed by the card's UID in its source.
# Dates are ISO text: "1980-03-14", or "--03-14" when the card gives no year.
contacts = Table(
    "contacts", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(100), nullable=False),
    Column("uid", String(500), nullable=False),
    Column("person_id", ForeignKey("people.id"), index=True),
    Column("name", Text),
    Column("birthday", String(10)),
    Column("anniversary", String(10)),
    Column("href", String(1000)),
    Column("etag", String(300)),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("source", "uid", name="uq_contacts_source_uid"),
)
