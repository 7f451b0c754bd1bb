"""Kept for callers of the old path: identity is one service now, :mod:`inboxrel.identity`."""

from inboxrel.identity.names import normalize_name  # noqa: F401
from inboxrel.identity.owner import (  # noqa: F401
    DISCOVER_MIN,
    DISCOVER_SHARE,
    add_my_addresses,
    delegate_person_ids,
    discover_identity,
    my_person_ids,
    remove_my_address,
)
from inboxrel.identity.people import (  # noqa: F401
    history,
    merge_people,
    merge_people_automatically,
    refresh_people,
    resolve_person,
    split_address,
    undo_event,
)
from inboxrel.identity.settle import directions_stale, settle_identities  # noqa: F401
