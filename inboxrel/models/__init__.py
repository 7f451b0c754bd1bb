"""The store's tables, one module per aggregate, all on one ``MetaData``.

Tables are SQLAlchemy Core ``Table`` objects: the import path writes thousands of rows a second with
``executemany``, and read paths return plain rows, so no ORM identity map is needed.
"""

from inboxrel.models.base import metadata
from inboxrel.models.evidence import evidence_rejections, interactions, phone_numbers
from inboxrel.models.feedback import circle_members, circles, feedback, ignores
from inboxrel.models.mail import (
    accounts,
    folders,
    locations,
    messages,
    participants,
    quarantine,
    thread_keys,
    threads,
)
from inboxrel.models.people import account_addresses, addresses, identity_events, people
from inboxrel.models.sources import calendar_items, calendar_sources, contacts
from inboxrel.models.summary import person_days, person_totals, summary_state

__all__ = [
    "metadata", "accounts", "folders", "messages", "locations", "participants", "threads", "thread_keys",
    "quarantine", "addresses", "people", "account_addresses", "identity_events", "interactions",
    "phone_numbers", "evidence_rejections", "circles", "circle_members", "feedback", "ignores", "person_days", "person_totals",
    "summary_state", "calendar_sources", "calendar_items", "contacts",
]
