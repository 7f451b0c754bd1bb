"""Who is who: one service for my own addresses, my delegates, people and their names.

The pipelines, the evidence code, feedback and the reports call this package; nothing in it imports them
back at module level. One module per concern:

- :mod:`inboxrel.identity.names`: reading and matching names (pure; the parser uses it);
- :mod:`inboxrel.identity.owner`: my addresses, delegates and proposed addresses, with their evidence;
  :func:`my_person_ids` and :func:`delegate_person_ids` are what other layers ask;
- :mod:`inboxrel.identity.people`: merging, splitting and undoing, resolving a person, names and primary
  addresses;
- :mod:`inboxrel.identity.settle`: the step that runs after new mail.

Names are imported lazily, so ``from inboxrel.identity import normalize_name`` costs no database library.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "names": ("normalize_name", "split_name", "address_fits", "name_fits", "PersonName"),
    "owner": ("MINE", "DELEGATE", "PROPOSED", "REMOVED", "DISCOVER_MIN", "DISCOVER_SHARE", "my_person_ids",
              "delegate_person_ids", "candidate_clause", "mine_clause", "add_my_addresses", "remove_my_address",
              "discover_identity", "owner_name", "identity_rows", "account_identity", "apply_delegates", "settle_me"),
    "people": ("merge_people_automatically", "refresh_people", "refresh_names", "resolve_person", "merge_people",
               "split_address", "undo_event", "history"),
    "settle": ("settle_identities", "directions_stale", "after_user_change"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'inboxrel.identity' has no attribute {name!r}")
    return getattr(importlib.import_module(f"inboxrel.identity.{module}"), name)
