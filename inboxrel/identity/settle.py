"""After new mail: names, my addresses and delegates, directions, automatic merges, people (in that order)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from inboxrel.identity import owner
from inboxrel.identity.people import merge_people_automatically, refresh_names, refresh_people
from inboxrel.models import account_addresses, messages


def directions_stale(engine) -> bool:
    """True when mail from one of my addresses is still marked received (an address became mine)."""
    with engine.connect() as conn:
        mine = select(account_addresses.c.address_id).where(owner.mine_clause())
        return conn.execute(select(messages.c.id).where(messages.c.from_address_id.in_(mine),
                                                        messages.c.direction == "received").limit(1)).first() is not None


def _direction_wrong_for_non_mine(engine) -> bool:
    """True when mail from an address that is no longer mine (removed, a delegate) is still marked sent or self
    outside what :func:`owner.apply_delegates` makes sent."""
    with engine.connect() as conn:
        mine = select(account_addresses.c.address_id).where(owner.mine_clause())
        delegates = select(account_addresses.c.address_id).where(account_addresses.c.source == owner.DELEGATE)
        q = select(messages.c.id).where(messages.c.from_address_id.not_in(mine),
                                        messages.c.from_address_id.not_in(delegates),
                                        messages.c.direction != "received").limit(1)
        return conn.execute(q).first() is not None


def settle_identities(engine, account_ids, now: datetime, *, me_changed: bool = False,
                      full: bool = False) -> tuple[dict[int, list[str]], int]:
    """After new mail: names, my addresses (and delegates), directions when they may be wrong, merges.

    Returns the addresses newly discovered as mine per account and the number of automatic merges.
    Directions are recomputed over the whole store only when my addresses changed (or ``full``): that pass
    reads every message, and people are shared by accounts, so it runs once for all of them.
    Names are refreshed over all the mail (one aggregate): a run killed before this step leaves mail whose
    names only the next run's refresh takes in, so it cannot look at that run's new mail alone.
    """
    from inboxrel.pipelines.save import refresh_directions

    with engine.begin() as conn:
        refresh_names(conn)
    discovered = {aid: [e for e, _ in owner.discover_identity(engine, aid, now)] for aid in account_ids}
    redo = me_changed or full or any(discovered.values()) or directions_stale(engine) \
        or _direction_wrong_for_non_mine(engine)
    with engine.begin() as conn:
        if redo:
            refresh_directions(conn)
        owner.apply_delegates(conn)
    merges = merge_people_automatically(engine, now)
    refresh_people(engine)
    return discovered, merges


def after_user_change(engine) -> None:
    """After ``account add-me`` / ``remove-me``: directions, delegates' mail and people follow at once."""
    from inboxrel.pipelines.save import refresh_directions

    with engine.begin() as conn:
        refresh_directions(conn)
        owner.apply_delegates(conn)
    refresh_people(engine)
